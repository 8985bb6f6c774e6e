"""The Co-Production Lab's statistics (app/rules/lab.py): support, suppression, rejection by
affected segments, opinion groups found on planted structure, bridging, the rating order and
likely duplicates (issue 16)."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.rules import lab, lab_duplicates, lab_json, lab_order, lab_tally
from app.rules.lab import LabIdea, LabVoter, Rating
from app.rules.tally import Counts, Rule

A, D, P = Rating.AGREE, Rating.DISAGREE, Rating.PASS
RULE = Rule(ratio=2, group_min=5)


def voter(name: str, ratings: Mapping[str, Rating], *segments: str) -> LabVoter:
    return LabVoter(name, tuple(segments), dict(ratings))


def idea_of(result: lab.LabResult, key: str) -> lab.IdeaResult:
    return next(i for i in result.ideas if i.key == key)


def camps(
    sizes: Sequence[int], *, seed: int = 1, noise: float = 0.1, extra: Sequence[str] = ()
) -> tuple[list[LabIdea], list[LabVoter], dict[str, int]]:
    """Planted structure: camp c agrees with its own six ideas `c{c}-{j}` and disagrees with
    the other camps' (each answer flipped with probability `noise`); everyone agrees with
    `common`, camp 0 alone with `divisive`. Returns ideas, voters and each voter's camp."""
    rng = random.Random(seed)
    own = {c: [f"c{c}-{j}" for j in range(6)] for c in range(len(sizes))}
    keys = [k for ks in own.values() for k in ks] + ["common", "divisive", *extra]
    ideas = [LabIdea(k, "library") for k in keys]
    voters, camp_of = [], {}
    for c, n in enumerate(sizes):
        for i in range(n):
            name = f"v-{c}-{i:03d}"
            ratings = {}
            for other, ks in own.items():
                for k in ks:
                    agree = (other == c) != (rng.random() < noise)
                    ratings[k] = A if agree else D
            ratings["common"] = A
            ratings["divisive"] = A if c == 0 else D
            voters.append(voter(name, ratings))
            camp_of[name] = c
    return ideas, voters, camp_of


# --- hand vectors ---------------------------------------------------------------------------


def test_support_is_agree_over_agree_and_disagree_exactly() -> None:
    ideas = [LabIdea("a", "c"), LabIdea("b", "c"), LabIdea("quiet", "c")]
    voters = [
        voter("v1", {"a": A, "b": P}),
        voter("v2", {"a": A, "b": D}),
        voter("v3", {"a": D, "b": P}),
        voter("v4", {"a": P}),
        voter("v5", {}),
    ]
    r = lab_tally.tabulate(ideas, voters, RULE)
    a, b, quiet = idea_of(r, "a"), idea_of(r, "b"), idea_of(r, "quiet")
    assert (a.agree, a.disagree, a.passes, a.support) == (2, 1, 1, Fraction(2, 3))
    assert (b.agree, b.disagree, b.passes, b.support) == (0, 1, 2, Fraction(0))
    assert (quiet.raters, quiet.support) == (0, None)
    assert r.voters_rated == 4  # v5 rated nothing
    assert [i.key for i in r.ideas] == ["a", "b", "quiet"]  # support desc, none last
    # Nobody rated MIN_RATINGS ideas: no groups, so nothing is "bridging".
    assert (r.groups, r.clustered) == ((), 0) and not a.is_bridging
    few = lab_tally.tabulate(
        ideas, [voter(f"v{n}", {"a": A, "b": A, "quiet": P}) for n in range(6)], RULE
    )
    assert few.groups == (lab.OpinionGroup(1, 6),)  # fewer than 2m voters: one group
    assert not idea_of(few, "a").is_bridging  # one group alone bridges nothing


def test_segments_and_groups_under_m_raters_are_omitted() -> None:
    ideas = [LabIdea("x", "c")]
    voters = [voter(f"v{i}", {"x": A if i % 2 else D}, "tenants") for i in range(5)]
    voters += [voter(f"w{i}", {"x": A}, "young") for i in range(4)]
    r = lab_tally.tabulate(ideas, voters, RULE)
    x = idea_of(r, "x")
    assert x.by_segment == {"tenants": (2, 3, 0)}  # 4 young raters: never published
    r4 = lab_tally.tabulate(ideas, voters, Rule(ratio=2, group_min=4))
    assert idea_of(r4, "x").by_segment == {"tenants": (2, 3, 0), "young": (4, 0, 0)}


def test_ratings_of_ideas_not_tabulated_are_ignored() -> None:
    voters = [voter("v1", {"shown": A, "hidden": D}), voter("v2", {"hidden": D})]
    r = lab_tally.tabulate([LabIdea("shown", "c")], voters, RULE)
    assert [(i.key, i.raters) for i in r.ideas] == [("shown", 1)] and r.voters_rated == 1


def _segment(agree: int, disagree: int, passes: int) -> list[LabVoter]:
    marks = [A] * agree + [D] * disagree + [P] * passes
    return [voter(f"s{i:02d}", {"x": m}, "tenants") for i, m in enumerate(marks)]


@pytest.mark.parametrize(
    ("agree", "disagree", "passes", "objects"),
    [
        (2, 5, 2, True),  # D = m, D > V/2 (5 > 4.5), D >= 2W
        (0, 4, 0, False),  # D < m: too few to object, however unanimous
        (3, 5, 0, False),  # D < R x W (5 < 6)
        (2, 5, 3, False),  # D = V/2 exactly is not a majority (passes count in V)
        (0, 5, 0, True),
    ],
)
def test_rejected_by_follows_the_meetings_rule(
    agree: int, disagree: int, passes: int, objects: bool
) -> None:
    ideas = [LabIdea("x", "c", affected=("tenants",))]
    r = lab_tally.tabulate(ideas, _segment(agree, disagree, passes), RULE)
    assert idea_of(r, "x").rejected_by == (("tenants",) if objects else ())


def test_only_affected_segments_that_may_object_reject() -> None:
    voters = _segment(0, 6, 0)
    not_affected = lab_tally.tabulate([LabIdea("x", "c", affected=("owners",))], voters, RULE)
    assert idea_of(not_affected, "x").rejected_by == ()
    never_protects = lab_tally.tabulate(
        [LabIdea("x", "c", affected=("tenants",))], voters, RULE, protecting=frozenset({"owners"})
    )
    assert idea_of(never_protects, "x").rejected_by == ()


def test_rejection_and_its_totals_come_from_the_group_totals_when_given() -> None:
    """Given group totals (the groups file), `rejected_by` is decided on them, whatever the
    voters' rows show (the vote file withholds the segment); without, on the voters' segments."""
    ideas = [LabIdea("x", "c", affected=("tenants",))]
    rows = _segment(2, 5, 2)
    counted = idea_of(lab_tally.tabulate(ideas, rows, RULE), "x")
    assert counted.rejected_by == ("tenants",)
    assert counted.affected_totals == {"tenants": Counts(V=9, W=2, D=5)}
    assert lab_tally.group_totals(ideas, rows, RULE) == {"x": {"tenants": Counts(V=9, W=2, D=5)}}
    anonymous = [LabVoter(v.pseudonym, (), v.ratings) for v in rows]
    assert idea_of(lab_tally.tabulate(ideas, anonymous, RULE), "x").rejected_by == ()
    totals = {"x": {"tenants": Counts(V=9, W=2, D=5)}}
    recounted = idea_of(lab_tally.tabulate(ideas, anonymous, RULE, group_totals=totals), "x")
    assert recounted == counted  # by_segment too: the withheld segment's figures are the totals
    assert recounted.by_segment == {"tenants": (2, 5, 2)}
    none_given = lab_tally.tabulate(ideas, anonymous, RULE, group_totals={})
    assert idea_of(none_given, "x").rejected_by == () and not idea_of(none_given, "x").by_segment


def test_an_unaffected_segment_with_totals_is_shown_but_never_rejects() -> None:
    """Totals cover every idea's segments that may object to SOME idea (so none of them is ever
    on a vote row), but only the idea's own affected segments can reject it."""
    ideas = [LabIdea("x", "c", affected=("tenants",)), LabIdea("y", "c")]
    rows = [voter(f"s{i:02d}", {"x": D, "y": D}, "tenants") for i in range(6)]
    totals = lab_tally.group_totals(ideas, rows, RULE)
    assert totals == {"x": {"tenants": Counts(6, 0, 6)}, "y": {"tenants": Counts(6, 0, 6)}}
    r = lab_tally.tabulate(ideas, rows, RULE)
    assert idea_of(r, "x").rejected_by == ("tenants",) and idea_of(r, "y").rejected_by == ()
    assert idea_of(r, "y").affected_totals == {} and idea_of(r, "y").by_segment
    anonymous = [LabVoter(v.pseudonym, (), v.ratings) for v in rows]
    again = lab_tally.tabulate(ideas, anonymous, RULE, group_totals=totals)
    assert lab_json.dumps_lab_results(again) == lab_json.dumps_lab_results(r)


@pytest.mark.parametrize(
    ("totals", "word"),
    [
        ({"zz": {}}, "not an idea counted"),
        ({"x": {"owners": Counts(5, 0, 5)}}, "which no idea's objection counts"),
        ({"x": {"tenants": Counts(4, 0, 4)}}, "fewer than m"),
        ({"x": {"tenants": Counts(10, 0, 10)}}, "more ratings than the room"),
        ({"x": {"tenants": Counts(6, 2, 0)}}, "more ratings than the room"),
    ],
)
def test_group_totals_that_cannot_be_are_refused(
    totals: dict[str, dict[str, Counts]], word: str
) -> None:
    ideas = [LabIdea("x", "c", affected=("tenants",))]
    anonymous = [voter(f"s{i}", {"x": D}) for i in range(6)]  # the room: 6 disagree
    with pytest.raises(ValueError, match=word):
        lab_tally.tabulate(ideas, anonymous, RULE, group_totals=totals)


def test_voters_that_show_a_withheld_segment_beside_totals_are_refused() -> None:
    ideas = [LabIdea("x", "c", affected=("tenants",))]
    with pytest.raises(ValueError, match="which group totals give"):
        lab_tally.tabulate(ideas, _segment(0, 6, 0), RULE, group_totals={"x": {}})


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="duplicate idea"):
        lab_tally.tabulate([LabIdea("x", "c"), LabIdea("x", "d")], [], RULE)
    with pytest.raises(ValueError, match="duplicate voter"):
        lab_tally.tabulate([LabIdea("x", "c")], [voter("v", {}), voter("v", {})], RULE)
    with pytest.raises(ValueError, match="seed"):
        lab_tally.tabulate([], [], RULE, seed=-1)


# --- planted structure ----------------------------------------------------------------------


@pytest.mark.parametrize("sizes", [(30, 20), (25, 20, 15)])
def test_planted_camps_are_found_as_opinion_groups(sizes: tuple[int, ...]) -> None:
    ideas, voters, camp_of = camps(sizes)
    r = lab_tally.tabulate(ideas, voters, RULE, seed=7)
    assert [g.size for g in r.groups] == sorted(sizes, reverse=True)
    for g in r.groups:
        members = {camp_of[v] for v, gid in r.membership.items() if gid == g.id}
        assert len(members) == 1  # every group is one camp, whole
    common, divisive = idea_of(r, "common"), idea_of(r, "divisive")
    assert common.is_bridging and common.bridging == 1
    assert r.ideas[0].key == "common"  # bridging ideas come first
    assert not divisive.is_bridging and divisive.bridging == 0
    assert not any(i.is_bridging for i in r.ideas if i.key != "common")
    assert all(len(i.by_group) == len(sizes) for i in r.ideas)


def test_planted_camps_give_the_same_groups_in_any_order_under_a_seed() -> None:
    ideas, voters, _ = camps((25, 20, 15), seed=4)
    first = lab_tally.tabulate(ideas, voters, RULE, seed=9)
    rng = random.Random(0)
    for _ in range(3):
        shuffled_voters, shuffled_ideas = voters[:], ideas[:]
        rng.shuffle(shuffled_voters)
        rng.shuffle(shuffled_ideas)
        again = lab_tally.tabulate(shuffled_ideas, shuffled_voters, RULE, seed=9)
        assert again.membership == first.membership
        assert lab_json.dumps_lab_results(again) == lab_json.dumps_lab_results(first)


def test_an_idea_one_group_mostly_passes_on_is_not_bridging() -> None:
    ideas, voters, _ = camps((20, 20), extra=("lukewarm",))
    voters = [
        voter(v.pseudonym, {**v.ratings, "lukewarm": A if v.pseudonym.startswith("v-0") else P})
        for v in voters
    ]
    voters[-1] = voter(voters[-1].pseudonym, {**voters[-1].ratings, "lukewarm": A})
    r = lab_tally.tabulate(ideas, voters, RULE)
    lukewarm = idea_of(r, "lukewarm")
    # Support among those who took a side is 1, but one camp did not back it: 1 in 20.
    assert lukewarm.support == 1 and not lukewarm.is_bridging


def test_voters_with_too_few_ratings_are_counted_but_not_grouped() -> None:
    ideas, voters, _ = camps((20, 20))
    voters.append(voter("v-late", {"common": A, "divisive": D}))  # 2 < MIN_RATINGS
    r = lab_tally.tabulate(ideas, voters, RULE)
    assert "v-late" not in r.membership and r.clustered == 40 and r.voters_rated == 41
    assert idea_of(r, "common").agree == 41
    assert sum(f[0] for f in idea_of(r, "common").by_group.values()) == 40


def test_no_group_smaller_than_m() -> None:
    ideas, voters, _ = camps((30, 3))  # the 3 are a camp, but too few to show as one
    r = lab_tally.tabulate(ideas, voters, RULE)
    assert all(g.size >= RULE.group_min for g in r.groups)


def test_the_results_json_is_canonical_and_keeps_who_is_where_out() -> None:
    ideas, voters, _ = camps((20, 20))
    r = lab_tally.tabulate(ideas, voters, RULE, seed=3)
    text = lab_json.dumps_lab_results(r)
    record = json.loads(text)
    assert text == json.dumps(record, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert (record["format"], record["m"], record["ratio"], record["seed"]) == (
        lab_json.RESULTS_FORMAT,
        5,
        2,
        3,
    )
    assert [g["size"] for g in record["groups"]] == [20, 20]
    assert record["ideas"][0]["key"] == "common" and record["ideas"][0]["support"] == 1.0
    assert "v-0-000" not in text  # group membership is not published


def test_five_hundred_voters_are_tabulated_quickly() -> None:
    """The projector recomputes as votes arrive: 500 voters x 300 ideas x 30,000 votes must take
    well under a second (scripts/bench lab reports the figure). CPU time, not wall time: on a
    shared machine the wall clock counts the others' work too."""
    import time

    rng = random.Random(5)
    ideas = [LabIdea(f"i{j:03d}", "c") for j in range(300)]
    voters = [
        voter(f"v{n:03d}", {f"i{k:03d}": rng.choice([A, D, P]) for k in rng.sample(range(300), 60)})
        for n in range(500)
    ]
    start = time.process_time()
    lab_tally.tabulate(ideas, voters, RULE)
    assert time.process_time() - start < 1.0  # about 0.15 s on the 2-core development machine


# --- properties -----------------------------------------------------------------------------

KEYS = ["i1", "i2", "i3", "i4", "i5"]
ratings_st = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(list(Rating)), max_size=5)
voters_st = st.lists(
    st.tuples(ratings_st, st.sets(st.sampled_from(["s1", "s2"]))), min_size=0, max_size=30
).map(
    lambda rows: [
        LabVoter(f"v{n:02d}", tuple(sorted(segs)), marks) for n, (marks, segs) in enumerate(rows)
    ]
)
IDEAS = [LabIdea(k, "c", affected=("s1",)) for k in KEYS]
SMALL = Rule(ratio=2, group_min=3)


@settings(max_examples=30, deadline=None)
@given(voters=voters_st, data=st.data())
def test_the_order_of_voters_and_ideas_does_not_matter(
    voters: list[LabVoter], data: st.DataObject
) -> None:
    shuffled_voters = data.draw(st.permutations(voters))
    shuffled_ideas = data.draw(st.permutations(IDEAS))
    assert lab_json.dumps_lab_results(
        lab_tally.tabulate(IDEAS, voters, SMALL)
    ) == lab_json.dumps_lab_results(lab_tally.tabulate(shuffled_ideas, shuffled_voters, SMALL))


@settings(max_examples=30, deadline=None)
@given(voters=voters_st, seed=st.integers(0, 1000))
def test_the_same_seed_gives_the_same_groups(voters: list[LabVoter], seed: int) -> None:
    first = lab_tally.tabulate(IDEAS, voters, SMALL, seed=seed)
    again = lab_tally.tabulate(IDEAS, voters, SMALL, seed=seed)
    assert (first.groups, first.membership) == (again.groups, again.membership)
    assert sum(g.size for g in first.groups) == first.clustered


@settings(max_examples=30, deadline=None)
@given(voters=voters_st, key=st.sampled_from(KEYS))
def test_one_more_agree_never_lowers_support(voters: list[LabVoter], key: str) -> None:
    before = idea_of(lab_tally.tabulate(IDEAS, voters, SMALL), key)
    after = idea_of(lab_tally.tabulate(IDEAS, [*voters, voter("z-new", {key: A})], SMALL), key)
    assert after.agree == before.agree + 1
    assert before.support is None or (after.support is not None and after.support >= before.support)


@settings(max_examples=30, deadline=None)
@given(voters=voters_st)
def test_the_group_totals_recount_every_rejection_exactly(voters: list[LabVoter]) -> None:
    """For any voters: the voters without segments plus the group totals (segments with at
    least m raters only) give exactly the results counted on every voter's segments."""
    totals = lab_tally.group_totals(IDEAS, voters, SMALL)
    assert all(SMALL.group_min <= c.V for by in totals.values() for c in by.values())
    withheld = lab_tally.withheld_segments(IDEAS, None)
    public = [LabVoter(v.pseudonym, tuple(set(v.segments) - withheld), v.ratings) for v in voters]
    expected = lab_tally.tabulate(IDEAS, voters, SMALL)
    again = lab_tally.tabulate(IDEAS, public, SMALL, group_totals=totals)
    assert lab_json.dumps_lab_results(again) == lab_json.dumps_lab_results(expected)
    assert [i.rejected_by for i in again.ideas] == [i.rejected_by for i in expected.ideas]


@settings(max_examples=30, deadline=None)
@given(voters=voters_st)
def test_no_published_figure_is_about_fewer_than_m_raters(voters: list[LabVoter]) -> None:
    r = lab_tally.tabulate(IDEAS, voters, SMALL)
    for i in r.ideas:
        for a, d, p in [*i.by_group.values(), *i.by_segment.values()]:
            assert a + d + p >= SMALL.group_min
        assert all(SMALL.group_min <= c.V for c in i.affected_totals.values())


# --- rating order ---------------------------------------------------------------------------


def test_next_ideas_puts_the_fewest_answered_first() -> None:
    counts = {"a": 9, "b": 0, "c": 3, "d": 3}
    order = lab_order.next_ideas(["a", "b", "c", "d", "e"], {"e"}, counts, "me-1")
    assert order[0] == "b" and set(order[1:3]) == {"c", "d"} and order[3] == "a"
    assert "e" not in order  # already answered


def test_next_ideas_is_stable_per_voter_and_differs_between_voters() -> None:
    keys = [f"i{n:02d}" for n in range(20)]
    first = lab_order.next_ideas(keys, set(), {}, "me-1")
    assert lab_order.next_ideas(list(reversed(keys)), set(), {}, "me-1") == first
    others = {tuple(lab_order.next_ideas(keys, set(), {}, f"me-{n}")) for n in range(2, 12)}
    assert len(others | {tuple(first)}) > 5  # everyone does not see the same idea first
    assert sorted(first) == keys


# --- likely duplicates ----------------------------------------------------------------------

TEXTS = {
    "lib-1": "Open the library on Sundays",
    "lib-2": "Open the library on Sunday afternoons too",
    "road": "Fix the potholes on the High Street",
    "bins-1": "More bins in the park",
    "bins-2": "Put more bins in the park please",
    "llyf-1": "Agor y llyfrgell ar ddydd Sul",
    "llyf-2": "Agor y llyfrgell ar y Sul hefyd",
    "ffordd": "Trwsio'r tyllau yn y ffordd fawr",
    "coed-1": "Plannu coed yn y parc",
    "coed-2": "Plannu rhagor o goed yn y parc",
}


def test_near_duplicates_are_found_in_english_and_welsh_and_unrelated_are_not() -> None:
    pairs = lab_duplicates.likely_duplicates(TEXTS)
    assert {(a, b) for a, b, _ in pairs} == {
        ("lib-1", "lib-2"),
        ("bins-1", "bins-2"),
        ("llyf-1", "llyf-2"),
        ("coed-1", "coed-2"),
    }
    scores = [s for _, _, s in pairs]
    assert scores == sorted(scores, reverse=True) and all(0.6 <= s <= 1 for s in scores)
    assert lab_duplicates.likely_duplicates(dict(reversed(TEXTS.items()))) == pairs  # deterministic


def test_duplicates_fold_welsh_accents_and_skip_empty_texts() -> None:
    pairs = lab_duplicates.likely_duplicates(
        {"a": "Dŵr glân i'r ysgol", "b": "Dwr glan i'r ysgol", "c": "!!!", "d": ""}
    )
    assert pairs == [("a", "b", 1.0)]
    assert lab_duplicates.likely_duplicates({"only": "one idea"}) == []


# --- the timing script ----------------------------------------------------------------------


def test_bench_lab_script_reports_json(capsys: pytest.CaptureFixture[str]) -> None:
    """scripts/bench_lab.py runs end to end on a small Lab and finds its three planted camps and
    the ideas they all back (no timing assertion: figures on a shared machine mean nothing)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "bench_lab.py"
    spec = importlib.util.spec_from_file_location("bench_lab", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--voters", "60", "--ideas", "30", "--per-voter", "20", "--runs", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["voters"], report["ideas"], report["votes"]) == (60, 30, 1200)
    assert report["groups"] == [20, 20, 20] and report["bridging"] == bench.BACKED_BY_ALL
    assert report["lab_tabulate_s"] >= 0


# --- the start-up path ----------------------------------------------------------------------


def test_the_server_starts_without_importing_scikit_learn() -> None:
    """The `covote` command, the app and every Lab rules module import without scikit-learn
    (most of a second to import): the server pays for it at the first Lab count, not at every
    start."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import app.cli, app.main\n"
        "from app.rules import lab, lab_duplicates, lab_groups, lab_json, lab_order, lab_tally\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]", out.stderr
