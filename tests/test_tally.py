"""Tests for app.rules.tally: the shared rule vectors, properties of the rule, and count_round."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from app.rules.tally import (
    Category,
    Counts,
    Mark,
    Outcome,
    ProposalResult,
    ProposalSpec,
    Reason,
    RoundResult,
    Rule,
    VoterBallot,
    classify,
    count_round,
    objects,
    protects,
    rank,
    result_to_json,
)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "rule.json").read_text("utf-8"))


def _counts(d: dict[str, int]) -> Counts:
    return Counts(V=d["V"], W=d["W"], D=d["D"])


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["id"] for c in VECTORS["cases"]])
def test_rule_vector(case: dict[str, Any]) -> None:
    """Every shared test vector classifies to its expected category, reason and groups."""
    rule = Rule(ratio=VECTORS["params"]["ratio"], group_min=VECTORS["params"]["group_min"])
    groups = {name: _counts(g) for name, g in case["groups"].items()}
    outcome = classify(_counts(case), groups, rule)
    expect = case["expect"]
    assert outcome == Outcome(
        Category(expect["category"]), Reason(expect["reason"]), tuple(expect["groups"])
    )


# --- helpers -----------------------------------------------------------------------------


def ballot(voter: str, segments: str = "", **marks: str) -> VoterBallot:
    """A ballot; `segments` is space-separated, marks are keyword proposal=mark."""
    return VoterBallot(voter, frozenset(segments.split()), {p: Mark(m) for p, m in marks.items()})


def many(prefix: str, n: int, segments: str = "", **marks: str) -> list[VoterBallot]:
    return [ballot(f"{prefix}{i}", segments, **marks) for i in range(n)]


def result(pid: str, category: Category, W: int, D: int, V: int = 100) -> ProposalResult:
    outcome = Outcome(category, Reason.MORE_WANT, ())
    return ProposalResult(pid, Counts(V=V, W=W, D=D), outcome, ())


# --- rule primitives ---------------------------------------------------------------------


def test_category_rank_orders_supported_protected_contested_rejected() -> None:
    """Category.rank is highest for SUPPORTED and lowest for REJECTED."""
    ranks = [c.rank for c in (Category.SUPPORTED, Category.PROTECTED, Category.CONTESTED)]
    assert ranks == sorted(ranks, reverse=True)
    assert Category.CONTESTED.rank > Category.REJECTED.rank


def test_protects_and_objects_need_group_min_majority_and_ratio() -> None:
    """A group protects/objects only with >= m marks, a majority of the group and R to 1."""
    rule = Rule()
    assert protects(Counts(V=9, W=5, D=2), rule)
    assert not protects(Counts(V=9, W=5, D=3), rule)  # 5 < 2 * 3
    assert not protects(Counts(V=10, W=5, D=0), rule)  # not more than half
    assert not protects(Counts(V=4, W=4, D=0), rule)  # fewer than m
    assert objects(Counts(V=9, W=2, D=5), rule)
    assert not objects(Counts(V=9, W=5, D=2), rule)


def test_rule_rejects_parameters_below_one() -> None:
    """Rule refuses a ratio or group_min below 1."""
    with pytest.raises(ValueError, match="ratio"):
        Rule(ratio=0)
    with pytest.raises(ValueError, match="group_min"):
        Rule(group_min=0)


@pytest.mark.parametrize(("V", "W", "D"), [(-1, 0, 0), (5, -1, 0), (5, 0, -1), (5, 3, 3)])
def test_counts_reject_negative_or_overfull(V: int, W: int, D: int) -> None:
    """Counts refuse negative numbers and W + D above V."""
    with pytest.raises(ValueError):
        Counts(V=V, W=W, D=D)


def test_counts_neutral_is_the_rest() -> None:
    """N is the active voters who marked neither WANT nor DON'T WANT."""
    assert Counts(V=10, W=3, D=4).N == 3


# --- count_round -------------------------------------------------------------------------


def test_unmarked_proposal_counts_neutral_for_an_active_voter() -> None:
    """An active voter's unmarked proposal adds to V and N, not W or D."""
    specs = [ProposalSpec("p1", ()), ProposalSpec("p2", ())]
    r = count_round(specs, [ballot("a", p1="want"), ballot("b", p2="dont_want")], Rule())
    assert [p.counts for p in r.proposals] == [Counts(V=2, W=1, D=0), Counts(V=2, W=0, D=1)]
    assert r.proposals[0].counts.N == 1


def test_ballot_without_marks_is_not_active() -> None:
    """A ballot with no marks in the round does not count in V."""
    r = count_round([ProposalSpec("p1", ())], [ballot("a", p1="neutral"), ballot("b")], Rule())
    assert r.proposals[0].counts == Counts(V=1, W=0, D=0)


def test_explicit_neutral_makes_a_voter_active() -> None:
    """A NEUTRAL mark is a mark: that voter counts in V."""
    r = count_round([ProposalSpec("p1", ())], many("n", 3, p1="neutral"), Rule())
    assert r.proposals[0].counts == Counts(V=3, W=0, D=0)


def test_member_of_two_groups_counts_in_both_and_once_in_the_room() -> None:
    """A voter in two affected groups counts in each group and once in the room totals."""
    spec = ProposalSpec("p1", ("carer", "north"))
    r = count_round(
        [spec], [ballot("a", "carer north", p1="want"), ballot("b", p1="dont_want")], Rule()
    )
    p = r.proposals[0]
    assert p.counts == Counts(V=2, W=1, D=1)
    assert [(g.group, g.counts) for g in p.group_lines] == [
        ("carer", Counts(V=1, W=1, D=0)),
        ("north", Counts(V=1, W=1, D=0)),
    ]


def test_group_lines_are_sorted_and_small_groups_suppressed() -> None:
    """Group lines come sorted by id; a group with fewer than m active members is suppressed."""
    spec = ProposalSpec("p1", ("zeta", "alpha"))
    ballots = many("z", 5, "zeta", p1="want") + many("a", 4, "alpha", p1="want")
    lines = count_round([spec], ballots, Rule()).proposals[0].group_lines
    assert [(g.group, g.suppressed, g.protects) for g in lines] == [
        ("alpha", True, False),
        ("zeta", False, True),
    ]


def test_group_without_present_members_gets_an_empty_line() -> None:
    """An affected group nobody present belongs to still gets a (suppressed) zero line."""
    r = count_round([ProposalSpec("p1", ("carer",))], [ballot("a", p1="want")], Rule())
    assert r.proposals[0].group_lines[0].counts == Counts(V=0, W=0, D=0)
    assert r.proposals[0].group_lines[0].suppressed


def test_never_protects_segment_is_ignored_by_the_rule() -> None:
    """A segment outside `protecting` neither protects nor gets a group line."""
    spec = ProposalSpec("p1", ("staff", "carer"))
    ballots = many("s", 5, "staff", p1="want") + many("x", 15, p1="dont_want")
    ignored = count_round([spec], ballots, Rule(), protecting=frozenset({"carer"}))
    assert ignored.proposals[0].outcome == Outcome(
        Category.REJECTED, Reason.QUALIFIED_OPPOSITION, ()
    )
    assert [g.group for g in ignored.proposals[0].group_lines] == ["carer"]
    counted = count_round([spec], ballots, Rule())  # protecting=None: every segment may protect
    assert counted.proposals[0].outcome == Outcome(
        Category.PROTECTED, Reason.AFFECTED_GROUP, ("staff",)
    )


def test_results_keep_the_given_proposal_order() -> None:
    """RoundResult.proposals follow the order of the proposals argument, not the ranking."""
    specs = [ProposalSpec("b", ()), ProposalSpec("a", ())]
    r = count_round(specs, many("v", 3, a="want", b="dont_want"), Rule())
    assert [p.id for p in r.proposals] == ["b", "a"]
    assert r.ranking == ("a", "b")


def test_mark_for_a_proposal_outside_the_round_is_refused() -> None:
    """count_round raises ValueError for a mark on a proposal that is not in the round."""
    with pytest.raises(ValueError, match="not in the round"):
        count_round([ProposalSpec("p1", ())], [ballot("a", p2="want")], Rule())


def test_second_ballot_of_a_voter_is_refused() -> None:
    """count_round raises ValueError when one voter has two ballots."""
    with pytest.raises(ValueError, match="more than one ballot"):
        count_round([ProposalSpec("p1", ())], [ballot("a", p1="want")] * 2, Rule())


def test_duplicate_proposal_in_round_is_refused() -> None:
    """count_round raises ValueError when the round lists a proposal twice."""
    with pytest.raises(ValueError, match="duplicate proposal"):
        count_round([ProposalSpec("p1", ())] * 2, [], Rule())


def test_invalid_mark_value_is_refused() -> None:
    """A mark that is not want/dont_want/neutral raises ValueError."""
    bad = VoterBallot("a", frozenset(), {"p1": "maybe"})  # type: ignore[dict-item]
    with pytest.raises(ValueError):
        count_round([ProposalSpec("p1", ())], [bad], Rule())


def test_empty_round_is_contested() -> None:
    """With no active voters every proposal is CONTESTED (no-clear-majority), like vector B12."""
    r = count_round([ProposalSpec("p1", ())], [], Rule())
    assert r.proposals[0].outcome.category is Category.CONTESTED


# --- ranking -----------------------------------------------------------------------------


def test_ranking_orders_by_category_first() -> None:
    """A better category ranks first whatever the counts."""
    results = [
        result("rej", Category.REJECTED, W=0, D=0),
        result("con", Category.CONTESTED, W=1, D=0),
        result("sup", Category.SUPPORTED, W=1, D=90),
        result("pro", Category.PROTECTED, W=50, D=0),
    ]
    assert rank(results, ()) == ("sup", "pro", "con", "rej")


def test_ranking_breaks_ties_by_margin_then_want_then_dont_want() -> None:
    """Within a category: W - D descending, then W descending (D then follows from both)."""
    results = [
        result("small-margin", Category.SUPPORTED, W=30, D=20),
        result("big-margin", Category.SUPPORTED, W=30, D=5),
        result("more-want", Category.SUPPORTED, W=35, D=25),
    ]
    assert rank(results, ()) == ("big-margin", "more-want", "small-margin")


def test_ranking_uses_the_drawn_order_for_exact_ties() -> None:
    """Exact ties follow tie_break; ids it does not name come last in the given order."""
    results = [result(pid, Category.CONTESTED, W=3, D=3) for pid in ("a", "b", "c", "d")]
    assert rank(results, ("c", "a")) == ("c", "a", "b", "d")
    assert rank(results, ("d", "zzz", "b", "d")) == ("d", "b", "a", "c")


def test_count_round_ranking_applies_tie_break() -> None:
    """count_round's ranking honours the tie_break argument."""
    specs = [ProposalSpec("a", ()), ProposalSpec("b", ())]
    r = count_round(specs, many("v", 2, a="want", b="want"), Rule(), tie_break=("b", "a"))
    assert r.ranking == ("b", "a")


# --- result_to_json ----------------------------------------------------------------------


def test_result_to_json_has_the_public_record_shape() -> None:
    """result_to_json emits the documented keys, in order, with plain JSON values."""
    spec = ProposalSpec("p1", ("carer",))
    ballots = many("c", 5, "carer", p1="want") + many("x", 15, p1="dont_want")
    record = result_to_json(count_round([spec], ballots, Rule()))
    assert record == {
        "proposals": [
            {
                "id": "p1",
                "V": 20,
                "W": 5,
                "D": 15,
                "N": 0,
                "category": "PROTECTED",
                "reason": "affected-group",
                "groups": ["carer"],
                "affected": [
                    {
                        "group": "carer",
                        "V": 5,
                        "W": 5,
                        "D": 0,
                        "protects": True,
                        "objects": False,
                        "suppressed": False,
                    }
                ],
            }
        ],
        "ranking": ["p1"],
    }
    assert list(record["proposals"][0]) == [
        *("id", "V", "W", "D", "N", "category", "reason", "groups", "affected")
    ]
    assert type(record["proposals"][0]["category"]) is str


# --- properties --------------------------------------------------------------------------

SEGMENTS = ("carer", "north", "staff", "user")
IDS = ("p1", "p2", "p3")
UP = {Mark.DONT_WANT: Mark.NEUTRAL, Mark.NEUTRAL: Mark.WANT}
DOWN = {Mark.WANT: Mark.NEUTRAL, Mark.NEUTRAL: Mark.DONT_WANT}

Round = tuple[list[ProposalSpec], list[VoterBallot], Rule, frozenset[str] | None]


@st.composite
def rounds(draw: st.DrawFn) -> Round:
    """A random round: 1-3 proposals with affected groups, up to 48 ballots, a small rule."""
    ids = IDS[: draw(st.integers(1, len(IDS)))]
    segment_lists = st.lists(st.sampled_from(SEGMENTS), unique=True, max_size=3)
    specs = [ProposalSpec(pid, tuple(draw(segment_lists))) for pid in ids]
    # Mostly WANT / DON'T WANT, sometimes NEUTRAL or unmarked (None drops the proposal).
    mark = st.sampled_from([Mark.WANT, Mark.DONT_WANT, Mark.NEUTRAL, None]) | st.sampled_from(
        [Mark.WANT, Mark.DONT_WANT]
    )
    marks = st.tuples(*[mark] * len(ids)).map(
        lambda ms: {pid: m for pid, m in zip(ids, ms, strict=True) if m is not None}
    )
    segments = st.frozensets(st.sampled_from(SEGMENTS), min_size=1, max_size=2)
    # Voters come in blocs that vote alike, so groups protect and object often enough to test.
    blocs = draw(
        st.lists(st.tuples(st.integers(1, 10), segments | st.just(frozenset()), marks), max_size=6)
    )
    ballots = [
        VoterBallot(f"v{b}-{i}", seg, mark)
        for b, (size, seg, mark) in enumerate(blocs)
        for i in range(size)
    ]
    rule = Rule(ratio=draw(st.integers(1, 3)), group_min=draw(st.integers(1, 4)))
    protecting = draw(st.none() | st.frozensets(st.sampled_from(SEGMENTS), min_size=2))
    return specs, ballots, rule, protecting


def _count(r: Round, ballots: list[VoterBallot] | None = None) -> RoundResult:
    specs, original, rule, protecting = r
    return count_round(specs, original if ballots is None else ballots, rule, protecting=protecting)


@pytest.mark.parametrize(("step", "sign"), [(UP, 1), (DOWN, -1)], ids=["want", "dont_want"])
@given(r=rounds(), data=st.data())
def test_moving_one_mark_is_monotone(
    step: dict[Mark, Mark], sign: int, r: Round, data: st.DataObject
) -> None:
    """Moving one mark towards WANT never lowers the category; towards DON'T WANT never raises."""
    specs, ballots, _, _ = r
    active = [i for i, b in enumerate(ballots) if b.marks]
    assume(active)
    i = data.draw(st.sampled_from(active))
    position = data.draw(st.integers(0, len(specs) - 1))
    pid = specs[position].id
    old = ballots[i].marks.get(pid, Mark.NEUTRAL)
    assume(old in step)
    moved = list(ballots)
    moved[i] = replace(ballots[i], marks={**ballots[i].marks, pid: step[old]})
    before = _count(r).proposals[position].outcome.category
    after = _count(r, moved).proposals[position].outcome.category
    assert sign * (after.rank - before.rank) >= 0


@given(r=rounds(), data=st.data())
def test_result_depends_only_on_marks_on_that_proposal(r: Round, data: st.DataObject) -> None:
    """Changing marks on other proposals (same active voters) leaves a proposal's result as is."""
    specs, ballots, _, _ = r
    position = data.draw(st.integers(0, len(specs) - 1))
    pid = specs[position].id
    others = [s.id for s in specs if s.id != pid]
    assume(others)
    changed = []
    for b in ballots:
        marks = data.draw(st.dictionaries(st.sampled_from(others), st.sampled_from(Mark)))
        if pid in b.marks:
            marks[pid] = b.marks[pid]
        if not b.marks or not marks:
            marks = dict(b.marks)  # keep who is active: activity is not a mark on `pid`
        changed.append(replace(b, marks=marks))
    assert _count(r, changed).proposals[position] == _count(r).proposals[position]


@given(r=rounds(), data=st.data())
def test_result_does_not_depend_on_ballot_order(r: Round, data: st.DataObject) -> None:
    """Any permutation of the ballots gives the identical RoundResult."""
    shuffled = data.draw(st.permutations(r[1]))
    assert _count(r, list(shuffled)) == _count(r)


@given(
    counts=st.tuples(st.integers(0, 60), st.integers(0, 60), st.integers(0, 60)),
    group=st.tuples(st.integers(0, 20), st.integers(0, 20), st.integers(0, 20)),
)
def test_classify_names_groups_only_for_group_reasons(
    counts: tuple[int, int, int], group: tuple[int, int, int]
) -> None:
    """Outcomes name groups exactly when the reason is affected-group or affected-group-objects."""
    W, D, N = counts
    gW, gD, gN = group
    outcome = classify(
        Counts(V=W + D + N, W=W, D=D), {"g": Counts(V=gW + gD + gN, W=gW, D=gD)}, Rule()
    )
    group_reasons = {Reason.AFFECTED_GROUP, Reason.AFFECTED_GROUP_OBJECTS}
    assert bool(outcome.groups) == (outcome.reason in group_reasons)


def _move(c: tuple[int, int, int], old: Mark, new: Mark) -> tuple[int, int, int] | None:
    """(W, D, N) after one voter changes `old` to `new`; None if nobody has `old`."""
    index = {Mark.WANT: 0, Mark.DONT_WANT: 1, Mark.NEUTRAL: 2}
    moved = list(c)
    moved[index[old]] -= 1
    moved[index[new]] += 1
    return None if moved[index[old]] < 0 else (moved[0], moved[1], moved[2])


def _classify(room: tuple[int, int, int], groups: dict[str, tuple[int, int, int]]) -> Category:
    def counts(c: tuple[int, int, int]) -> Counts:
        return Counts(V=sum(c), W=c[0], D=c[1])

    rule = Rule()
    return classify(counts(room), {g: counts(c) for g, c in groups.items()}, rule).category


@pytest.mark.parametrize(("step", "sign"), [(UP, 1), (DOWN, -1)], ids=["want", "dont_want"])
@given(
    room=st.tuples(*[st.integers(0, 40)] * 3),
    groups=st.dictionaries(st.sampled_from(SEGMENTS), st.tuples(*[st.integers(0, 12)] * 3)),
    old=st.sampled_from(Mark),
    member_of=st.frozensets(st.sampled_from(SEGMENTS)),
)
def test_classify_is_monotone_in_one_voter(
    step: dict[Mark, Mark],
    sign: int,
    room: tuple[int, int, int],
    groups: dict[str, tuple[int, int, int]],
    old: Mark,
    member_of: frozenset[str],
) -> None:
    """classify: one voter (and their groups) moving towards WANT never lowers the category."""
    assume(old in step)
    moved_room = _move(room, old, step[old])
    moved_groups = {g: _move(c, old, step[old]) if g in member_of else c for g, c in groups.items()}
    assume(moved_room is not None and None not in moved_groups.values())
    assert moved_room is not None
    after = _classify(moved_room, {g: c for g, c in moved_groups.items() if c is not None})
    assert sign * (after.rank - _classify(room, groups).rank) >= 0
