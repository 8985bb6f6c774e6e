"""Tests for app.rules.charter: the Community Charter's adoption rule, amendments and counting."""

from __future__ import annotations

from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.rules import charter_words
from app.rules.charter import (
    CONSENT_SCALE,
    Category,
    CharterRule,
    Consent,
    ConsentCounts,
    GroupCounts,
    Reason,
    assess,
    group_blocks,
)
from app.rules.charter_count import ClauseVote, ConsentBallot, count_charter, with_group_totals
from app.rules.explain import english
from app.rules.tally import Rule

RULE = CharterRule(block_percent=10, rule=Rule(ratio=2, group_min=5))


def cc(
    full: int = 0, res: int = 0, live: int = 0, change: int = 0, block: int = 0
) -> ConsentCounts:
    return ConsentCounts((full, res, live, change, block))


# --- vectors: (room, groups, expected category, expected reasons, expected groups) -----------

VECTORS = [
    ("adopted, most fully support", cc(full=12, res=4, live=3), {}, "ADOPTED", ["full-support"]),
    (
        "adopted with reservations",
        cc(full=5, res=8, live=6, change=1),
        {},
        "ADOPTED_WITH_RESERVATIONS",
        ["reservations"],
    ),
    ("nobody answered", cc(), {}, "SENT_BACK", ["no-answers"]),
    # 100*B > P*V: 2 blocks of 19 is 10.5 % > 10 %
    ("blocked by share", cc(full=15, res=2, block=2), {}, "SENT_BACK", ["block-share"]),
    # the edge: 2 blocks of 20 is exactly 10 %: not more than the share, adopted
    ("block share at the edge", cc(full=16, res=2, block=2), {}, "ADOPTED", ["full-support"]),
    ("need a change wins", cc(full=5, change=5), {}, "SENT_BACK", ["needs-change"]),
    # S = 6 > C + B = 5: adopted even with many asking for a change
    ("support just ahead", cc(res=6, change=5), {}, "ADOPTED_WITH_RESERVATIONS", ["reservations"]),
    # 2*F > V is strict: 5 of 10 fully support is not more than half
    ("half fully support", cc(full=5, res=5), {}, "ADOPTED_WITH_RESERVATIONS", ["reservations"]),
    (
        "every reason at once",
        cc(full=2, change=1, block=3),
        {"tenants": cc(block=3)},
        "SENT_BACK",
        ["block-share", "needs-change"],  # the group has 3 < m blocks: it does not block
    ),
]


@pytest.mark.parametrize(
    ("room", "groups", "category", "reasons"),
    [v[1:] for v in VECTORS],
    ids=[v[0] for v in VECTORS],
)
def test_vectors(
    room: ConsentCounts, groups: dict[str, ConsentCounts], category: str, reasons: list[str]
) -> None:
    """Each vector gets the category and every reason the README's rule gives it."""
    out = assess(room, groups, RULE)
    assert out.category == category
    assert [r.value for r in out.reasons] == reasons


def test_a_clause_the_room_adopts_is_sent_back_when_an_affected_group_blocks() -> None:
    """Blocked by an affected group: the room is for, the 6 disabled voters block 6 to 2."""
    room = cc(full=40, res=8, block=6)  # 6 of 54 block: 11 %, under this meeting's 20 %
    groups = {"disabled": cc(full=1, live=1, block=6), "tenants": cc(full=20)}
    out = assess(room, groups, CharterRule(block_percent=20, rule=Rule(ratio=2, group_min=5)))
    assert out.category is Category.SENT_BACK
    assert out.reasons == (Reason.GROUP_BLOCKS,)
    assert out.groups == ("disabled",)


@pytest.mark.parametrize(
    ("group", "blocks"),
    [
        (cc(full=2, block=5), True),  # every inequality holds: B=5 >= m, 10 > 7, 5 >= 2*2
        (cc(full=2, block=4), False),  # B = 4 < m = 5
        (cc(full=2, change=3, block=5), False),  # 2*B = 10 is not > V = 10
        (cc(full=2, change=2, block=5), True),  # 2*B = 10 > V = 9
        (cc(full=3, block=6), True),  # B = 6 >= R*S = 6 exactly
        (cc(full=3, res=1, block=7), False),  # B = 7 < R*S = 8
        (cc(change=6, block=5), False),  # need-a-change never counts as a block
    ],
)
def test_group_blocks_at_each_inequalitys_edge(group: ConsentCounts, blocks: bool) -> None:
    """A group blocks exactly when B >= m, 2B > V and B >= R*S (each edge on both sides)."""
    assert group_blocks(group, RULE.rule) is blocks


def test_block_share_zero_means_one_block_sends_back() -> None:
    """With P = 0 any block at all sends the clause back (a unanimity rule)."""
    rule = CharterRule(block_percent=0)
    assert assess(cc(full=99, block=1), {}, rule).reasons == (Reason.BLOCK_SHARE,)
    assert assess(cc(full=99), {}, rule).category is Category.ADOPTED


def test_rule_parameters_are_bounded() -> None:
    """A block share outside 0-100 % is refused, not used."""
    with pytest.raises(ValueError, match="block_percent"):
        CharterRule(block_percent=101)


def test_consent_scale_takes_keys_one_to_five() -> None:
    """Keypads answer 1-5, stored as the same digit; anything else is refused."""
    assert CONSENT_SCALE.keypad_choices == 5
    assert [CONSENT_SCALE.answer_for_key(k) for k in range(1, 6)] == ["1", "2", "3", "4", "5"]
    assert CONSENT_SCALE.parse("5") == "5"
    assert not isinstance(CONSENT_SCALE.parse("6"), str)
    assert CONSENT_SCALE.label("5") == "Block"


# --- counting a round, with amendments -----------------------------------------------------


def ballots(*rows: tuple[str, str, dict[str, str]]) -> list[ConsentBallot]:
    return [
        ConsentBallot(
            v, frozenset(s.split(";")) - {""}, {k: Consent(a) for k, a in answers.items()}
        )
        for v, s, answers in rows
    ]


def _room(
    n: int, answers: dict[str, str], segments: str = "", start: int = 0
) -> list[ConsentBallot]:
    return ballots(*[(f"v{start + i}", segments, answers) for i in range(n)])


def test_an_amendment_that_wins_replaces_the_original() -> None:
    """Both adopted, the amendment has more net support (S - C - B): the amendment is adopted."""
    clause = ClauseVote("c1", amendments=("c1-a1",))
    votes = _room(10, {"c1": "3", "c1-a1": "1"}) + _room(2, {"c1": "4", "c1-a1": "2"}, start=10)
    (decision,) = count_charter([clause], votes, RULE)
    assert decision.adopted == "c1-a1"
    assert decision.category is Category.ADOPTED
    original, amendment = decision.wordings
    assert original.outcome.category is Category.ADOPTED_WITH_RESERVATIONS  # adopted, but beaten
    assert (original.counts.V, amendment.counts.F) == (12, 10)


def test_an_amendment_that_loses_leaves_the_original() -> None:
    """An amendment the room blocks loses, and one tied on net support loses to the original."""
    blocked = ClauseVote("c1", amendments=("c1-a1",))
    votes = _room(10, {"c1": "1", "c1-a1": "5"})
    (decision,) = count_charter([blocked], votes, RULE)
    assert decision.adopted == "c1"
    assert decision.wordings[1].outcome.reasons == (Reason.BLOCK_SHARE, Reason.NEEDS_CHANGE)
    tied = ClauseVote("c2", amendments=("c2-a1",))
    (decision,) = count_charter([tied], _room(6, {"c2": "2", "c2-a1": "1"}), RULE)
    assert decision.adopted == "c2"  # same S - C - B (6): the original stays


def test_a_clause_with_no_adopted_wording_is_sent_back_with_every_reason() -> None:
    """Neither the original nor its amendment is adopted: nothing adopted, each one's reasons."""
    clause = ClauseVote("c1", amendments=("c1-a1",), affected_groups=("disabled",))
    votes = _room(5, {"c1": "5", "c1-a1": "4"}, "disabled")
    votes += _room(15, {"c1": "1", "c1-a1": "4"}, start=5)
    (decision,) = count_charter([clause], votes, CharterRule(block_percent=50))
    assert decision.adopted is None and decision.category is Category.SENT_BACK
    original, amendment = decision.wordings
    assert original.outcome.reasons == (Reason.GROUP_BLOCKS,)  # 5 of 20 block: under 50 %
    assert original.outcome.groups == ("disabled",)
    assert original.group_lines[0].blocks and not original.group_lines[0].suppressed
    assert amendment.outcome.reasons == (Reason.NEEDS_CHANGE,)


def test_unanswered_clauses_are_not_counted_and_never_protecting_groups_are_ignored() -> None:
    """A voter who skips a clause is not in its V; a "never protects" segment cannot block."""
    clause = ClauseVote("c1", affected_groups=("staff",))
    votes = (
        _room(6, {"c1": "5"}, "staff") + _room(30, {"c1": "1"}, start=6) + _room(3, {}, start=36)
    )
    (decision,) = count_charter(
        [clause], votes, CharterRule(block_percent=20), protecting=frozenset()
    )
    assert decision.wordings[0].counts.V == 36
    assert decision.wordings[0].group_lines == ()
    assert decision.adopted == "c1"


def test_count_refuses_inconsistent_input() -> None:
    """A repeated voter or an answer to an item not in the round raises, never guesses."""
    with pytest.raises(ValueError, match="more than one ballot"):
        count_charter([ClauseVote("c1")], _room(1, {"c1": "1"}) * 2, RULE)
    with pytest.raises(ValueError, match="not in the round"):
        count_charter([ClauseVote("c1")], _room(1, {"c9": "1"}), RULE)


# --- properties ------------------------------------------------------------------------------

answer = st.sampled_from(list(Consent))
segment_sets = st.sets(st.sampled_from(["a", "b"]), max_size=2)
voter_rows = st.lists(st.tuples(answer, segment_sets), max_size=40)
rules = st.builds(
    CharterRule,
    block_percent=st.integers(0, 100),
    rule=st.builds(Rule, ratio=st.integers(1, 3), group_min=st.integers(1, 6)),
)


def _decide(rows: list[tuple[Consent, set[str]]], rule: CharterRule) -> Category:
    votes = [ConsentBallot(f"v{i}", frozenset(s), {"c": a}) for i, (a, s) in enumerate(rows)]
    (d,) = count_charter([ClauseVote("c", affected_groups=("a", "b"))], votes, rule)
    return d.category


@given(voter_rows, rules, st.randoms(use_true_random=False))
def test_order_of_ballots_never_matters(
    rows: list[tuple[Consent, set[str]]], rule: CharterRule, rnd: Random
) -> None:
    """Shuffling the ballots gives the same decision."""
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert _decide(rows, rule) == _decide(shuffled, rule)


@given(voter_rows, segment_sets, rules)
def test_one_more_block_never_helps(
    rows: list[tuple[Consent, set[str]]], segs: set[str], rule: CharterRule
) -> None:
    """One more voter who blocks never turns a sent-back clause adopted, nor raises it."""
    before = _decide(rows, rule)
    after = _decide([*rows, (Consent.BLOCK, segs)], rule)
    assert after.rank <= before.rank


@given(voter_rows, st.integers(0, 39), rules)
def test_moving_an_answer_towards_block_never_helps(
    rows: list[tuple[Consent, set[str]]], i: int, rule: CharterRule
) -> None:
    """Monotonicity: an answer moved one step towards "block" never improves the outcome."""
    if i >= len(rows) or rows[i][0] is Consent.BLOCK:
        return
    a, s = rows[i]
    worse = [*rows[:i], (Consent(str(int(a.value) + 1)), s), *rows[i + 1 :]]
    assert _decide(worse, rule).rank <= _decide(rows, rule).rank


def test_every_reason_is_explained_with_the_meetings_numbers() -> None:
    """Each reason has its own sentence, with the counts and the meeting's P, R and m in it."""
    counts = cc(full=2, res=1, change=1, block=6)
    texts = {
        r: charter_words.reason_text(r, counts, ["disabled", "tenants"], 10, 2, 5, english)
        for r in Reason
    }
    assert len(set(texts.values())) == len(Reason)
    assert texts[Reason.BLOCK_SHARE] == "6 of the 10 who answered block it: more than 10%."
    assert "disabled, tenants" in texts[Reason.GROUP_BLOCKS]
    assert "At least 5 of them" in texts[Reason.GROUP_BLOCKS]
    assert texts[Reason.NEEDS_CHANGE].startswith("3 support it, against 1 who need a change")
    rule = " ".join(charter_words.rule_text(20, 3, 4, english))
    assert "more than 20% of those who answered block it" in rule
    assert "at least 4 of its members" in rule and "3 times as many" in rule
    assert charter_words.category_name("SENT_BACK", english) == "SENT BACK"


def test_every_category_and_reason_has_its_words() -> None:
    """The screens find a name for every category and a short line for every reason."""
    assert set(charter_words.CATEGORY_NAMES) == set(Category)
    assert set(charter_words.ICONS) == set(Category)
    assert set(charter_words.SHORT_REASONS) == set(Reason)


def test_group_totals_give_the_decision_the_true_segments_give() -> None:
    """Ballots without segments plus the totals of groups of m or more decide as the segments
    did; a group left out (under m) is suppressed and cannot block."""
    clause = ClauseVote("c1", amendments=("c1-a1",), affected_groups=("disabled", "young"))
    votes = _room(5, {"c1": "5", "c1-a1": "1"}, "disabled") + _room(
        2, {"c1": "5"}, "young", start=5
    )
    votes += _room(15, {"c1": "1", "c1-a1": "2"}, start=7)
    rule = CharterRule(block_percent=50)
    truth = count_charter([clause], votes, rule)
    bare = [ConsentBallot(b.voter, frozenset(), b.answers) for b in votes]
    totals = {
        "c1": {"disabled": GroupCounts(5, 0, 0, 5)},
        "c1-a1": {"disabled": GroupCounts(5, 5, 0, 0)},
    }
    without = count_charter([clause], bare, rule)[0].wordings[0]
    assert without.outcome.category.adopted  # without the totals nobody's group blocks
    assert with_group_totals(count_charter([clause], bare, rule), totals, rule) == truth
    original = truth[0].wordings[0]
    assert original.outcome.groups == ("disabled",) and original.group_lines[1].suppressed


@pytest.mark.parametrize(
    ("totals", "problem"),
    [
        ({"c9": {"disabled": GroupCounts(5, 0, 0, 5)}}, "not answered"),
        ({"c1": {"staff": GroupCounts(5, 0, 0, 5)}}, "no affected group"),
        ({"c1": {"disabled": GroupCounts(4, 0, 0, 4)}}, "fewer than m"),
        ({"c1": {"disabled": GroupCounts(6, 0, 0, 6)}}, "more answers than the room"),
    ],
)
def test_group_totals_the_ballots_contradict_are_refused(
    totals: dict[str, dict[str, GroupCounts]], problem: str
) -> None:
    """Totals for an unknown wording or group, under m, or beyond the room are not counted."""
    clause = ClauseVote("c1", affected_groups=("disabled",))
    bare = _room(5, {"c1": "5"}) + _room(15, {"c1": "1"}, start=5)
    with pytest.raises(ValueError, match=problem):
        with_group_totals(count_charter([clause], bare, RULE), totals, RULE)


def test_group_totals_must_add_up() -> None:
    """S + C + B is V: a group's totals that do not add up are refused."""
    with pytest.raises(ValueError, match="add up"):
        GroupCounts(5, 1, 1, 1)
    with pytest.raises(ValueError, match="add up"):
        GroupCounts(-1, 0, 0, -1)
