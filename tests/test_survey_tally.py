"""The survey's tabulation (app/rules/survey_tally.py, survey_weights.py): hand-computed
vectors (tests/vectors/survey_*.json, the arithmetic in each file's comment) and properties:
order independence, no group under m shown or derivable, weighting that changes nothing when
the sample already matches the population, and every figure within its scale."""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.vocab import Quadrant
from app.record.survey_file import parse_survey
from app.rules import survey as sv
from app.rules.scales import Choice
from app.rules.survey_tally import (
    HIGH_NEED_LOW_SATISFACTION,
    LOW_VALUE,
    SurveyResponse,
    focus_list,
    tabulate,
)
from app.rules.survey_weights import Cell, Population, kish, rake

VECTORS = sorted((Path(__file__).parent / "vectors").glob("survey_*.json"))


def _at(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    return obj


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_hand_computed_vectors(path: Path) -> None:
    """Each vector's figures are the ones worked out by hand in its comment."""
    case = json.loads(path.read_text())
    survey = parse_survey(json.dumps(case["survey"]))
    responses = [SurveyResponse(frozenset(r["segments"]), r["marks"]) for r in case["responses"]]
    pop = case["population"]
    population = None if pop is None else Population(pop["areas"], pop["segments"])
    results = tabulate(survey, responses, case["m"], population)
    assert results["format"] == "covote-survey-results/1"
    assert results["m"] == case["m"]
    for key, expected in case["expect"].items():
        assert _at(results, key) == expected, key


def test_t_quantiles_match_the_published_table() -> None:
    """The intervals use Student's t: 3.182 for 4 answers, 2.262 for 10, 1.984 for 101."""
    for n, t in ((4, 3.182), (10, 2.262), (101, 1.984)):
        values = ["1", "3"] * (n // 2) + ["2"] * (n % 2)
        survey = sv.Survey("T", (sv.Service("s", "S", (sv.Standard.VALUE,)),))
        fig = tabulate(survey, [SurveyResponse(frozenset(), {"s.value": v}) for v in values], 1)
        value = fig["overall"]["services"][0]["value"]
        assert value is not None and value["ci"] is not None and value["mean"] is not None
        xs = [int(v) for v in values]
        se = math.sqrt(sum((x - value["mean"]) ** 2 for x in xs) / (n - 1) / n)
        assert value["ci"][1] == pytest.approx(min(value["mean"] + t * se, 5), abs=1.5e-3)


def test_an_answer_off_its_scale_is_refused() -> None:
    """A mark its item's scale does not take is an error, not a figure."""
    survey = sv.Survey("T", (sv.Service("s", "S"),))
    with pytest.raises(ValueError, match=r"s\.value"):
        tabulate(survey, [SurveyResponse(frozenset(), {"s.value": "7"})], 1)
    with pytest.raises(ValueError, match="m must be"):
        tabulate(survey, [], 0)


def test_quadrants_are_named_for_the_council() -> None:
    """The four quadrants' stored words (the charts and the report read them)."""
    assert [q.value for q in Quadrant] == [
        "fix_first",
        "keep_up",
        "savings_may_be_accepted",
        "low_priority",
    ]


def test_raking_meets_every_margin_and_kish_measures_the_cost() -> None:
    """Raking over an area and an overlapping segment meets both margins; equal weights have
    an effective size of n."""
    sizes: dict[Cell, int] = {
        ("n", frozenset({"y"})): 10,
        ("n", frozenset()): 30,
        ("s", frozenset()): 60,
    }
    w = rake(sizes, Population({"n": 0.5, "s": 0.5}, {"y": 0.2}))
    assert w.converged and w.margins == ["area", "segment:y"]
    total = sum(w.weights[c] * k for c, k in sizes.items())
    north = sum(w.weights[c] * k for c, k in sizes.items() if c[0] == "n")
    young = w.weights[("n", frozenset({"y"}))] * 10
    assert north / total == pytest.approx(0.5) and young / total == pytest.approx(0.2)
    assert total == pytest.approx(100)
    assert kish([(1.0, 7)]) == 7.0
    unmet = rake(sizes, Population({}, {"z": 0.3}))
    assert unmet.skipped == ["segment:z"] and unmet.margins == []


# --- properties ---------------------------------------------------------------------------------

SURVEY = sv.Survey(
    "Props",
    (sv.Service("lib", "Library"), sv.Service("parks", "Parks", (sv.Standard.VALUE,))),
    (
        sv.CustomQuestion(
            "bus",
            sv.CustomType.SINGLE,
            "Bus?",
            (Choice("y", None, "Y"), Choice("n", None, "N")),
        ),
        sv.CustomQuestion("rate", sv.CustomType.SCALE, "Rate"),
    ),
    (sv.Area("a", "A"), sv.Area("b", "B"), sv.Area("c", "C")),
)
ANSWERS: dict[str, list[str]] = {
    "lib.value": ["1", "2", "3", "4", "5"],
    "lib.need": ["never", "sometimes", "often"],
    "lib.satisfaction": ["1", "2", "3", "4", "5", "dont_use"],
    "lib.contributes": ["none", "volunteer", "neighbour;group", "volunteer;neighbour;group"],
    "lib.more": ["none", "group"],
    "lib.hours": ["0", "1", "5", "40"],
    "parks.value": ["1", "3", "5"],
    "q.bus": ["y", "n"],
    "q.rate": ["1", "2", "5"],
    "area": ["a", "b", "c"],
}


@st.composite
def responses(draw: st.DrawFn, most: int = 25) -> list[SurveyResponse]:
    out = []
    for _ in range(draw(st.integers(0, most))):
        keys = draw(st.sets(st.sampled_from(sorted(ANSWERS))))
        marks = {k: draw(st.sampled_from(ANSWERS[k])) for k in sorted(keys)}
        segments = draw(st.frozensets(st.sampled_from(["x", "y"])))
        out.append(SurveyResponse(segments, marks))
    return out


@settings(max_examples=60, deadline=None)
@given(responses(), st.integers(1, 4), st.randoms(use_true_random=False))
def test_order_of_responses_changes_nothing(rs: list[SurveyResponse], m: int, rnd: Any) -> None:
    """Shuffled responses give the same results, to the last digit, weighted too."""
    pop = Population({"a": 0.2, "b": 0.3, "c": 0.5}, {"x": 0.4})
    shuffled = list(rs)
    rnd.shuffle(shuffled)
    assert tabulate(SURVEY, shuffled, m, pop) == tabulate(SURVEY, rs, m, pop)


def _rank(rows: list[list[Fraction]]) -> int:
    """Rank by exact Gaussian elimination."""
    matrix = [list(r) for r in rows]
    rank = 0
    for col in range(len(matrix[0]) if matrix else 0):
        pivot = next((i for i in range(rank, len(matrix)) if matrix[i][col] != 0), None)
        if pivot is None:
            continue
        matrix[rank], matrix[pivot] = matrix[pivot], matrix[rank]
        for i in range(len(matrix)):
            if i != rank and matrix[i][col] != 0:
                f = matrix[i][col] / matrix[rank][col]
                matrix[i] = [a - f * b for a, b in zip(matrix[i], matrix[rank], strict=True)]
        rank += 1
    return rank


def _families(rs: list[SurveyResponse]) -> dict[str, list[SurveyResponse]]:
    """Each figure's respondents: those who answered its question (satisfaction's users)."""
    fams = {"": rs}
    for key in ANSWERS:
        if key != "area":
            fams[key] = [r for r in rs if key in r.marks]
    fams["lib.satisfaction:users"] = [
        r for r in rs if r.marks.get("lib.satisfaction", sv.DONT_USE) != sv.DONT_USE
    ]
    return fams


def _shown(group: Any, family: str) -> bool:
    """Whether a group's figure of `family` is shown in the results."""
    if family == "":
        return group["respondents"] is not None
    if family.startswith("q."):
        return next(c for c in group["custom"] if c["question"] == family[2:])["figure"] is not None
    service, question = family.split(".")
    fig = next(s for s in group["services"] if s["service"] == service)
    if question == "satisfaction:users":
        return fig["satisfaction"] is not None and fig["satisfaction"]["users"] is not None
    return fig.get(question) is not None


def _n(group: Any, family: str) -> int:
    if family == "":
        return int(group["respondents"])
    if family.startswith("q."):
        return int(next(c for c in group["custom"] if c["question"] == family[2:])["figure"]["n"])
    service, question = family.split(".")
    fig = next(s for s in group["services"] if s["service"] == service)
    if question == "satisfaction:users":
        return int(fig["satisfaction"]["users"]["n"])
    return int(fig[question]["n"])


@settings(max_examples=80, deadline=None)
@given(responses(18), st.integers(2, 4), st.booleans())
def test_no_group_under_m_is_shown_or_can_be_worked_out(
    rs: list[SurveyResponse], m: int, weighted: bool
) -> None:
    """For every figure: each group shown has at least m respondents, and no set of fewer
    than m respondents (any union of the cells respondents fall in by area and segments) is
    a sum and difference of the groups shown: its indicator is not in their span. Weighted
    figures add sums with each respondent's weight (and its square, for the intervals)."""
    pop = Population({"a": 0.3, "b": 0.3, "c": 0.4}, {"x": 0.5}) if weighted else None
    results = tabulate(SURVEY, rs, m, pop)
    everyone = Counter((r.marks.get("area"), r.segments) for r in rs)
    weights = rake(everyone, pop).weights if pop is not None and rs else {}
    for family, members in _families(rs).items():
        groups: list[tuple[Any, Any]] = [(results["overall"], lambda r: True)]
        groups += [(g, lambda r, a=g["area"]: r.marks.get("area") == a) for g in results["areas"]]
        groups += [(g, lambda r, s=g["segment"]: s in r.segments) for g in results["segments"]]
        shown = [(g, member) for g, member in groups if _shown(g, family)]
        for g, _ in shown:
            assert (family == "" and g is results["overall"]) or _n(g, family) >= m
        cells = Counter((r.marks.get("area"), r.segments) for r in members)
        atoms = sorted(cells, key=lambda c: (c[0] or "", sorted(c[1])))
        if not atoms:
            continue
        probe = [SurveyResponse(c[1], {"area": c[0]} if c[0] else {}) for c in atoms]
        rows = [
            [Fraction(int(member(p))) for p in probe]
            for g, member in shown
            if not (family == "" and g is results["overall"] and len(members) < m)
        ]
        w_overall = results["weighted"]["overall"] if results["weighted"] else None
        if family and w_overall is not None and _shown(w_overall, family):
            rows.append([Fraction(weights[c]) for c in atoms])
            rows.append([Fraction(weights[c]) ** 2 for c in atoms])
        base = _rank(rows) if rows else 0
        small = [i for i, c in enumerate(atoms) if cells[c] < m]
        for k in range(1, m):
            for subset in itertools.combinations(small, k):
                if 0 < sum(cells[atoms[i]] for i in subset) < m:
                    target = [Fraction(int(i in subset)) for i in range(len(atoms))]
                    assert _rank([*rows, target]) > base, (family, subset)


@settings(max_examples=60, deadline=None)
@given(responses(30), st.integers(1, 3))
def test_weights_from_the_samples_own_shares_change_nothing(
    rs: list[SurveyResponse], m: int
) -> None:
    """Population shares equal to the sample's give weights of 1: the weighted figures are
    the unweighted ones (hours, never weighted, aside)."""
    n = len(rs)
    areas = Counter(r.marks["area"] for r in rs if "area" in r.marks)
    stated = sum(areas.values())
    segs = Counter(s for r in rs for s in r.segments)
    pop = Population(
        {a: k / stated for a, k in areas.items()},
        {s: k / n for s, k in segs.items() if k < n},
    )
    results = tabulate(SURVEY, rs, m, pop)
    weighted = results["weighted"]
    if not pop.areas and not pop.segments:
        assert weighted is None
        return
    assert weighted is not None and weighted["converged"]
    assert weighted["effective_n"] == float(n)
    for plain, w in zip(
        results["overall"]["services"], weighted["overall"]["services"], strict=True
    ):
        assert {k: v for k, v in plain.items() if k != "hours"} == w
    assert results["overall"]["custom"] == weighted["overall"]["custom"]
    assert results["axes"] == weighted["axes"]
    assert results["need_ranking"] == weighted["need_ranking"]


def _within(obj: Any) -> None:
    """Every mean and interval within 1-5, every share within 0-1, every score 0-100."""
    if isinstance(obj, dict):
        if "mean" in obj and obj["mean"] is not None:
            assert 1 <= obj["mean"] <= 5
            if obj["ci"] is not None:
                assert 1 <= obj["ci"][0] <= obj["mean"] <= obj["ci"][1] <= 5
        for share in obj.get("shares", {}).values():
            assert 0 <= share <= 1
        for key in ("dont_use_share", "any_share"):
            if key in obj:
                assert 0 <= obj[key] <= 1
        if "score" in obj:
            assert 0 <= obj["score"] <= 100
        for v in obj.values():
            _within(v)
    elif isinstance(obj, list):
        for v in obj:
            _within(v)


@settings(max_examples=60, deadline=None)
@given(
    responses(),
    st.integers(1, 3),
    st.lists(st.floats(0.05, 1), min_size=3, max_size=3),
    st.floats(0.05, 0.95),
)
def test_every_figure_stays_within_its_scale(
    rs: list[SurveyResponse], m: int, area_weights: list[float], x_share: float
) -> None:
    """Means, intervals, shares and scores stay within their bounds, weighted or not."""
    pop = Population(dict(zip("abc", area_weights, strict=True)), {"x": x_share})
    results = tabulate(SURVEY, rs, m, pop)
    _within(results)
    assert results["overall"]["respondents"] == len(rs)


def test_the_focus_list_takes_high_need_with_low_satisfaction_and_low_value() -> None:
    """Focus list: a service people need (need score at or above the median) whose users are
    not satisfied (below the matrix's split), and a service valued below the split; a valued,
    well-liked service is not on it."""
    survey = sv.Survey(
        "Focus",
        (
            sv.Service(
                "bus", "Bus", (sv.Standard.VALUE, sv.Standard.NEED, sv.Standard.SATISFACTION)
            ),
            sv.Service(
                "park", "Park", (sv.Standard.VALUE, sv.Standard.NEED, sv.Standard.SATISFACTION)
            ),
            sv.Service(
                "pool", "Pool", (sv.Standard.VALUE, sv.Standard.NEED, sv.Standard.SATISFACTION)
            ),
        ),
    )
    answers = {
        "bus": ("5", "often", "1"),  # needed, valued, not satisfying
        "park": ("2", "sometimes", "4"),  # little valued
        "pool": ("5", "never", "5"),  # valued, satisfying (and rarely needed)
    }
    people = [
        SurveyResponse(
            frozenset(),
            {
                f"{k}.{q}": v
                for k, (value, need, sat) in answers.items()
                for q, v in (("value", value), ("need", need), ("satisfaction", sat))
                if not (q == "satisfaction" and need == "never")
            },
        )
        for _ in range(6)
    ]
    focus = focus_list(tabulate(survey, people, 5))
    assert [(f.service, f.reasons) for f in focus] == [
        ("bus", (HIGH_NEED_LOW_SATISFACTION,)),
        ("park", (LOW_VALUE,)),
    ]
