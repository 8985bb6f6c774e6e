"""Tests for app.rules.budget: the shared MES vectors, a literal reference, the pabutools oracle,
the rule pipeline, savings targets and exactness.

pabutools (GPL-3.0) is a test-only oracle: install `pabutools==1.2.2` into the venv (1.2.3 needs a
proprietary solver). Its tests are skipped when it is missing; nothing under app/ may import it.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import fields, is_dataclass
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import demo
from app.rules import budget, mes, mes_floats
from app.rules.budget import (
    BudgetOutcome,
    Completion,
    amount_to_json,
    approval_profile,
    budget_round,
    budget_to_json,
    eligible,
    equal_shares,
    greedy,
    savings_cuts,
    savings_to_json,
)
from app.rules.mes import amount
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
)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "budget.json").read_text("utf-8"))
CASES = VECTORS["cases"]
MODES: dict[str, Completion] = {"mes": "none", "mes_add1": "add1"}


def case_voters(case: dict[str, Any]) -> list[frozenset[str]]:
    if "ballots" in case:
        return [frozenset(b) for b in case["ballots"]]
    return [frozenset(g["want"]) for g in case["ballots_grouped"] for _ in range(g["count"])]


# --- the shared vectors ------------------------------------------------------------------


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_vector_mes(case: dict[str, Any], mode: str) -> None:
    """Plain MES and MES with Add1 fund each vector's expected proposals in selection order."""
    o = equal_shares(case_voters(case), case["costs"], case["budget"], completion=MODES[mode])
    assert list(o.funded) == case["expect"][mode]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_vector_greedy(case: dict[str, Any]) -> None:
    """The "most WANTs first" count funds each vector's expected proposals in order."""
    assert (
        list(greedy(case_voters(case), case["costs"], case["budget"])) == case["expect"]["greedy"]
    )


def test_vector_m8_shows_who_paid() -> None:
    """M8 with Add1: share 4, and each funded proposal's supporters split its cost as shown."""
    case = next(c for c in CASES if c["id"] == "M8")
    o = equal_shares(case_voters(case), case["costs"], case["budget"])
    assert o.share == 4 and o.spent == 295 and o.left == 5 and o.voters == 100
    assert [d.paid for d in o.details] == [
        ((Fraction(20, 17), 85),),
        ((Fraction(18, 11), 55),),
        ((Fraction(2), 30),),
        ((Fraction(3), 15),),
    ]


def test_add1_stops_before_overspending() -> None:
    """M5: the run at s + 1 would cost more than B, so Add1 keeps the outcome at s = B/n."""
    case = next(c for c in CASES if c["id"] == "M5")
    voters, costs, pot = case_voters(case), case["costs"], case["budget"]
    assert equal_shares(voters, costs, pot).share == Fraction(pot, len(voters))
    bigger = equal_shares(voters, costs, pot + len(voters), completion="none")  # s + 1
    assert bigger.spent > pot


def blocs(carers: int) -> list[VoterBallot]:
    """The rule_pipeline vector's ballots: blocs A (55), B (30) and C (`carers` of 15)."""
    w, d = Mark.WANT, Mark.DONT_WANT
    a = {"X": w, "R": w, "Y": w, "Q": d, "Z": d}
    return (
        [VoterBallot(f"a{i}", frozenset({"resident"}), a) for i in range(55)]
        + [VoterBallot(f"b{i}", frozenset({"resident"}), {"Y": w, "Q": w}) for i in range(30)]
        + [VoterBallot(f"c{i}", frozenset({"carer"}), {"Z": w, "X": d}) for i in range(carers)]
    )


PIPE_COSTS = {"X": 110, "R": 90, "Y": 100, "Q": 60, "Z": 45}
PIPE_KINDS = dict.fromkeys(PIPE_COSTS, "fund")
PIPE_SPECS = [ProposalSpec(p, ("carer",) if p == "Z" else ()) for p in PIPE_COSTS]


def test_vector_rule_pipeline() -> None:
    """Rule gate then MES+Add1: Z is protected by carers, and Y,R,Q,Z (295) are funded."""
    ballots = blocs(15)
    result = count_round(PIPE_SPECS, ballots, Rule())
    outcomes = {
        p.id: (p.outcome.category, p.outcome.reason, p.outcome.groups) for p in result.proposals
    }
    assert outcomes == {
        "X": (Category.SUPPORTED, Reason.MORE_WANT, ()),
        "R": (Category.SUPPORTED, Reason.MORE_WANT, ()),
        "Y": (Category.SUPPORTED, Reason.MORE_WANT, ()),
        "Q": (Category.PROTECTED, Reason.STRONG_MINORITY, ()),
        "Z": (Category.PROTECTED, Reason.AFFECTED_GROUP, ("carer",)),
    }
    o = budget_round(result, ballots, PIPE_COSTS, PIPE_KINDS, 300)
    assert o.funded == ("Y", "R", "Q", "Z") and o.spent == 295
    voters, chosen = approval_profile(result, ballots, PIPE_COSTS, PIPE_KINDS)
    assert greedy(voters, chosen, 300) == ("Y", "R", "X")


def test_vector_rule_pipeline_four_carers() -> None:
    """With only 4 carers present Z is REJECTED, so not eligible, and Y,R,Q are funded."""
    ballots = blocs(4)
    result = count_round(PIPE_SPECS, ballots, Rule())
    assert {p.id: p.outcome.category for p in result.proposals}["Z"] is Category.REJECTED
    assert "Z" not in eligible(result, PIPE_COSTS, PIPE_KINDS)
    o = budget_round(result, ballots, PIPE_COSTS, PIPE_KINDS, 300)
    assert o.funded == ("Y", "R", "Q") and o.voters == 89


# --- a literal reference implementation of section 3 --------------------------------------


def reference(
    voters: Sequence[frozenset[str]],
    costs: dict[str, Fraction],
    budget: Fraction,
    completion: str,
    tie_break: Sequence[str],
) -> tuple[list[str], Fraction, list[dict[Fraction, int]]]:
    """Section 3 steps 3-5 word for word, one Fraction per voter: (funded, share, payments)."""
    wants = {p: sum(p in v for v in voters) for p in costs}
    drawn = {p: i for i, p in reversed(list(enumerate(tie_break)))}

    def tie(p: str) -> tuple[Fraction, int, tuple[int, int, str]]:
        return costs[p], -wants[p], (0, drawn[p], "") if p in drawn else (1, 0, p)

    def run(s: Fraction) -> tuple[list[str], list[dict[Fraction, int]]]:
        b = [s] * len(voters)
        funded: list[str] = []
        paid: list[dict[Fraction, int]] = []
        while True:
            best = None
            for p, c in costs.items():
                sup = [i for i, v in enumerate(voters) if p in v]
                if p in funded or not sup or sum(b[i] for i in sup) < c:
                    continue
                # the smallest x with sum(min(b_i, x)) == c lies at a budget or between two
                options = [Fraction(0)] if c == 0 else []
                for k in range(len(sup)):
                    poor = sorted(b[i] for i in sup)[:k]
                    x = (c - sum(poor)) / (len(sup) - k)
                    if sum(min(b[i], x) for i in sup) == c:
                        options.append(x)
                rho = min(options) / c if c else Fraction(0)
                if best is None or (rho, tie(p)) < (best[0], tie(best[1])):
                    best = (rho, p, sup)
            if best is None:
                return funded, paid
            rho, p, sup = best
            pay: dict[Fraction, int] = {}
            for i in sup:
                a = min(b[i], rho * costs[p])
                b[i] -= a
                pay[a] = pay.get(a, 0) + 1
            funded.append(p)
            paid.append(pay)

    if not voters:
        return [], Fraction(0), []
    s = budget / len(voters)
    funded, paid = run(s)
    while completion == "add1":
        left = budget - sum(costs[p] for p in funded)
        if all(p in funded or costs[p] > left for p in costs if wants[p]):
            break
        more, more_paid = run(s + 1)
        if sum(costs[p] for p in more) > budget:
            break
        s, funded, paid = s + 1, more, more_paid
    return funded, s, paid


@st.composite
def elections(draw: st.DrawFn, fractional: bool = True) -> SimpleNamespace:
    """A small random election: costs (some zero), approval sets, a pot and a drawn order."""
    ids = [f"p{i}" for i in range(draw(st.integers(1, 6)))]
    value: st.SearchStrategy[Fraction | int] = (
        st.fractions(min_value=0, max_value=30, max_denominator=3)
        if fractional
        else st.integers(0, 30)
    )
    costs = {p: Fraction(draw(value)) for p in ids}
    voters = draw(st.lists(st.frozensets(st.sampled_from(ids)), max_size=12))
    pot = Fraction(draw(st.integers(0, 90))) / (
        draw(st.sampled_from([1, 1, 2, 7])) if fractional else 1
    )
    return SimpleNamespace(
        ids=ids, costs=costs, voters=voters, pot=pot, tie_break=draw(st.permutations(ids))
    )


@settings(max_examples=300, deadline=None)
@given(elections(), st.sampled_from(["none", "add1"]))
def test_matches_literal_reference(e: SimpleNamespace, completion: Completion) -> None:
    """The fast implementation equals section 3 done literally: order, share and who paid."""
    o = equal_shares(e.voters, e.costs, e.pot, completion=completion, tie_break=e.tie_break)
    funded, share, paid = reference(e.voters, e.costs, e.pot, completion, e.tie_break)
    assert list(o.funded) == funded
    assert o.share == share
    assert [dict(d.paid) for d in o.details] == paid


# --- Add1 one unit at a time: what the quick walk must equal ---------------------------------


def by_units(
    voters: Sequence[frozenset[str]],
    costs: Mapping[str, Fraction | int],
    pot: Fraction | int,
    completion: Completion = "add1",
    tie_break: Sequence[str] = (),
) -> BudgetOutcome:
    """Section 3 step 4 as the rule words it, on the module's own MES run: rerun from scratch
    with s raised by one unit until the outcome is exhaustive or the next costs more than B."""
    problem = budget.prepare(voters, costs, tie_break)
    n, pot = len(voters), Fraction(pot)
    run = mes.exact_run(problem, pot / n if n else Fraction(0))
    assert run is not None
    while completion != "none" and not mes.exhaustive(problem, run, pot):
        more = mes.exact_run(problem, run.share + 1)
        assert more is not None
        if more.spent > pot:
            break
        run = more
    return budget._outcome(problem, run, pot, n, completion)


@st.composite
def pence_elections(draw: st.DrawFn) -> SimpleNamespace:
    """A small election priced in pence (costs up to 3,000) with a pot between half and twice
    the total cost: Add1 then often climbs hundreds or thousands of units (four times in ten
    over a hundred), the outcome changing on the way."""
    ids = [f"p{i}" for i in range(draw(st.integers(1, 6)))]
    costs = {p: Fraction(draw(st.integers(0, 3000))) for p in ids}
    voters = draw(
        st.lists(st.frozensets(st.sampled_from(ids), max_size=3), min_size=1, max_size=12)
    )
    total = int(sum(costs.values()))
    pot = Fraction(draw(st.integers(total // 2, 2 * total)))
    return SimpleNamespace(
        ids=ids, costs=costs, voters=voters, pot=pot, tie_break=draw(st.permutations(ids))
    )


@st.composite
def brief_outcomes(draw: st.DrawFn) -> SimpleNamespace:
    """Elections shaped like `BRIEF` (below) with drawn costs and pot: 5 voters, a (3 alpha)
    wanted by 3, c (2 gamma) and d (2 delta) by 2 each, b out of reach. From share alpha funds a,
    then c; from delta d becomes affordable at rho 1/2 first and a, d is funded (exhaustive
    with this pot); from alpha + gamma c reaches rho 1/2 too and wins the tie on cost, leaving
    d unaffordable: a, c again. `e.calm` are two shares on either side of the brief outcome."""
    alpha = draw(st.integers(300, 1500))
    gamma = draw(st.integers(200, alpha))
    delta = draw(st.integers(alpha + 2 * gamma // 3 + 1, alpha + gamma - 1))
    a, c, d = 3 * alpha, 2 * gamma, 2 * delta
    b = draw(st.integers(max(c + 1, 2 * delta - alpha - gamma + 1), d - 1))
    costs = {"a": Fraction(a), "b": Fraction(b), "c": Fraction(c), "d": Fraction(d)}
    return SimpleNamespace(
        ids=list(costs),
        costs=costs,
        voters=[frozenset(v) for v in ("a", "a", "abc", "bcd", "d")],
        pot=Fraction(draw(st.integers(a + b + c, a + c + d - 1))),
        tie_break=list(costs),
        calm=(Fraction(delta - 1), Fraction(alpha + gamma)),
    )


@settings(max_examples=400, deadline=None)
@given(elections(), st.sampled_from(["add1", "add1+greedy"]))
def test_add1_walk_equals_one_unit_at_a_time(e: SimpleNamespace, completion: Completion) -> None:
    """The walk stops at the same share as the rule's loop, with the same outcome and payments."""
    got = equal_shares(e.voters, e.costs, e.pot, completion=completion, tie_break=e.tie_break)
    assert got == by_units(e.voters, e.costs, e.pot, completion, e.tie_break)


@settings(max_examples=300, deadline=None)
@given(pence_elections() | brief_outcomes())
def test_add1_walk_equals_one_unit_at_a_time_in_pence(e: SimpleNamespace) -> None:
    """In pence, where the loop may take thousands of units, the walk still lands on its share."""
    got = equal_shares(e.voters, e.costs, e.pot, tie_break=e.tie_break)
    assert got == by_units(e.voters, e.costs, e.pot, "add1", e.tie_break)


def funded_in_order(problem: Any, share: Fraction) -> list[str]:
    """The proposals MES funds at `share`, in order."""
    run = mes.exact_run(problem, share)
    assert run is not None
    return list(run.order)


@settings(max_examples=300, deadline=None)
@given(pence_elections() | brief_outcomes(), st.integers(1, 600), st.integers(0, 1000))
def test_a_certified_stretch_has_one_outcome(e: SimpleNamespace, length: int, at: int) -> None:
    """When the run at b passes the certificate against the run at a, every whole share in
    between funds the same proposals in the same order (equal ends alone would not do)."""
    problem = budget.prepare(e.voters, e.costs, e.tie_break)
    a = e.pot / len(e.voters) + at
    start = mes.exact_run(problem, a)
    end = mes.exact_run(problem, a + length, start)
    assert start is not None and end is not None
    if end.certified:
        outcome = funded_in_order(problem, a)
        assert all(funded_in_order(problem, a + k) == outcome for k in range(length + 1))


@settings(max_examples=100, deadline=None)
@given(brief_outcomes())
def test_a_brief_outcome_breaks_the_certificate(e: SimpleNamespace) -> None:
    """Around a brief outcome the ends fund the same, yet the certificate refuses the stretch."""
    problem = budget.prepare(e.voters, e.costs, e.tie_break)
    u, v = e.calm
    start = mes.exact_run(problem, u)
    end = mes.exact_run(problem, v, start)
    assert start is not None and end is not None
    assert funded_in_order(problem, u) == funded_in_order(problem, v) == ["a", "c"]
    assert funded_in_order(problem, u + 1) == ["a", "d"]
    assert not end.certified


@pytest.mark.parametrize(("unit", "times"), [(1, 1), (100, 1), (1, 10), (100, 10)])
def test_add1_work_does_not_grow_with_the_pot_or_its_unit(
    monkeypatch: pytest.MonkeyPatch, unit: int, times: int
) -> None:
    """One voter who WANTs only the dearest proposal makes the loop climb to its cost (20,000
    runs in pence, 14 million with a £3,000,000 pot in pence); Add1 makes under a hundred,
    float and exact runs together."""
    m = demo.riverside_budget()
    assert m.budget is not None
    costs = {p.id: p.cost * unit for p in m.proposals if p.cost is not None}
    voters = (
        [frozenset({"town-square", "cycle-path", "play-park"})] * 55
        + [frozenset({"play-park", "youth-hub"})] * 30
        + [frozenset({"respite-breaks"})] * 15
        + [frozenset({"bus-shelters"})]  # the dearest, £170,000
    )
    runs: list[Fraction] = []
    exact, frun = mes.exact_run, mes_floats.float_run

    def counted(problem: Any, share: Fraction, *args: Any, **kwargs: Any) -> Any:
        runs.append(share)
        return exact(problem, share, *args, **kwargs)

    def counted_float(problem: Any, share: Fraction, *args: Any, **kwargs: Any) -> Any:
        runs.append(share)
        return frun(problem, share, *args, **kwargs)

    monkeypatch.setattr(mes, "exact_run", counted)
    monkeypatch.setattr(mes_floats, "float_run", counted_float)
    o = equal_shares(voters, costs, m.budget.pot * unit * times, tie_break=list(costs))
    climbed = o.share - o.budget / o.voters
    assert len(runs) < 100 and climbed > 200 * unit
    dearest = "bus-shelters" in o.funded
    assert dearest == (times == 10)  # a £300,000 pot runs out first; £3,000,000 does not


# Shares 1,520 to 2,009 fund a then c; 2,010 to 2,019 fund a then d (d becomes affordable, at
# rho 1/2, before c's second supporter can pay half of c), which is exhaustive; from 2,020, c
# also reaches rho 1/2 and wins the tie on cost, which leaves d unaffordable: a then c again,
# until 2,520 funds all three. Equal outcomes at both ends of a stretch prove nothing.
BRIEF = SimpleNamespace(
    costs={"a": 3000, "b": 2100, "c": 2040, "d": 4020},
    voters=[frozenset(v) for v in ("a", "a", "abc", "bcd", "d")],
)


@pytest.mark.parametrize("pot", [7600, 8000, 9000])
def test_add1_stops_at_a_brief_exhaustive_outcome(pot: int) -> None:
    """Add1 stops at the ten shares funding a and d, though the shares on both sides of them
    fund a and c: a walk that took equal ends for a calm stretch would stop at 2,519."""
    o = equal_shares(BRIEF.voters, BRIEF.costs, pot)
    assert o.funded == ("a", "d") and o.share == 2010 and o.spent == 7020
    assert o == by_units(BRIEF.voters, BRIEF.costs, pot)


def test_equal_ends_are_not_certified() -> None:
    """The runs at 1,600 and 2,100 fund a then c, but the certificate refuses the stretch: at
    step 2, d's rho at 2,100 (1/2) is below c's at 1,600."""
    problem = budget.prepare(BRIEF.voters, BRIEF.costs, ())
    start = mes.exact_run(problem, Fraction(1600))
    end = mes.exact_run(problem, Fraction(2100), start)
    assert start is not None and end is not None
    assert funded_in_order(problem, Fraction(1600)) == funded_in_order(problem, Fraction(2100))
    assert not end.certified
    assert mes.exact_run(problem, Fraction(2100), start, probe=True) is None
    # It is cautious: 1,600 to 2,000 fund a then c throughout, but c's rho falls on the way
    # (at 1,600 it is 12/17) below what b's is at 2,000, so that takes the walk several hops.
    assert mes.exact_run(problem, Fraction(1610), start).certified  # type: ignore[union-attr]
    assert not mes.exact_run(problem, Fraction(2000), start).certified  # type: ignore[union-attr]


@pytest.mark.parametrize("unit", [1, 100])
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_vectors_walk_equals_one_unit_at_a_time(case: dict[str, Any], unit: int) -> None:
    """The shared vectors, in pounds and in pence (costs and pot x 100), give the loop's outcome."""
    voters = case_voters(case)
    costs = {p: c * unit for p, c in case["costs"].items()}
    o = equal_shares(voters, costs, case["budget"] * unit)
    assert o == by_units(voters, costs, case["budget"] * unit)
    if unit == 1:
        assert list(o.funded) == case["expect"]["mes_add1"]


# --- the pabutools oracle (GPL, test-only) --------------------------------------------------


@pytest.fixture(scope="module")
def pabutools() -> SimpleNamespace:
    pytest.importorskip(
        "pabutools",
        reason="oracle tests need pabutools==1.2.2 (GPL, test-only): "
        ".venv/bin/pip install pabutools==1.2.2",
    )
    from pabutools.election import (
        ApprovalBallot,
        ApprovalProfile,
        Cost_Sat,
        Instance,
        Project,
    )
    from pabutools.rules import method_of_equal_shares
    from pabutools.tiebreaking import TieBreakingRule

    return SimpleNamespace(
        ApprovalBallot=ApprovalBallot,
        ApprovalProfile=ApprovalProfile,
        Cost_Sat=Cost_Sat,
        Instance=Instance,
        Project=Project,
        mes=method_of_equal_shares,
        TieBreakingRule=TieBreakingRule,
    )


def paid_for(funded: list[str], e: SimpleNamespace) -> list[str]:
    """Our funded proposals less the free ones: pabutools' Cost_Sat gives a free proposal zero
    utility, so it never funds one, while section 3 funds a wanted one at rho = 0 (see the
    reference test). A free proposal costs nobody anything, so nothing else changes."""
    return [p for p in funded if e.costs[p]]


def oracle(pb: SimpleNamespace, e: SimpleNamespace, increment: int | None) -> list[str]:
    """pabutools' MES (Cost_Sat; with `voter_budget_increment=1` it is Add1), ties as ours."""
    projects = {p: pb.Project(p, int(c)) for p, c in e.costs.items()}
    instance = pb.Instance(projects.values(), budget_limit=int(e.pot))
    ballots = [pb.ApprovalBallot([projects[p] for p in v]) for v in e.voters]
    profile = pb.ApprovalProfile(ballots, instance=instance)
    wants = {p: sum(p in v for v in e.voters) for p in e.costs}
    position = {p: i for i, p in enumerate(e.tie_break)}
    rule = pb.TieBreakingRule(lambda _i, _p, x: (x.cost, -wants[x.name], position[x.name]))
    out = pb.mes(
        instance,
        profile.as_multiprofile(),
        sat_class=pb.Cost_Sat,
        voter_budget_increment=increment,
        tie_breaking=rule,
    )
    return [p.name for p in out]


@settings(max_examples=300, deadline=None)
@given(elections(fractional=False))
def test_pabutools_add1(pabutools: SimpleNamespace, e: SimpleNamespace) -> None:
    """MES with Add1 funds the same proposals as pabutools 1.2.2 (voter_budget_increment=1)."""
    ours = list(equal_shares(e.voters, e.costs, e.pot, tie_break=e.tie_break).funded)
    assert paid_for(ours, e) == oracle(pabutools, e, 1)  # same set, even in the same order


@settings(max_examples=300, deadline=None)
@given(elections(fractional=False))
def test_pabutools_plain(pabutools: SimpleNamespace, e: SimpleNamespace) -> None:
    """Plain MES (no completion) funds the same proposals as pabutools 1.2.2."""
    ours = equal_shares(e.voters, e.costs, e.pot, completion="none", tie_break=e.tie_break)
    assert paid_for(list(ours.funded), e) == oracle(pabutools, e, None)


@settings(max_examples=100, deadline=None)
@given(pence_elections() | brief_outcomes())
def test_pabutools_add1_in_pence(pabutools: SimpleNamespace, e: SimpleNamespace) -> None:
    """Priced in pence, where pabutools' Add1 climbs one penny at a time, it funds the same."""
    ours = list(equal_shares(e.voters, e.costs, e.pot, tie_break=e.tie_break).funded)
    assert paid_for(ours, e) == oracle(pabutools, e, 1)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_pabutools_add1_vectors_in_pence(pabutools: SimpleNamespace, case: dict[str, Any]) -> None:
    """The shared vectors with costs and pot x 100 (pence) fund what pabutools funds."""
    costs = {p: Fraction(c * 100) for p, c in case["costs"].items()}
    pot = Fraction(case["budget"] * 100)
    e = SimpleNamespace(costs=costs, voters=case_voters(case), pot=pot, tie_break=sorted(costs))
    ours = list(equal_shares(e.voters, e.costs, e.pot, tie_break=e.tie_break).funded)
    assert paid_for(ours, e) == oracle(pabutools, e, 1)


@pytest.mark.parametrize("unit", [1, 100])
def test_pabutools_add1_budget_demo(pabutools: SimpleNamespace, unit: int) -> None:
    """The budget demo voted as its docstring says, in pounds and in pence (pot and costs
    x 100: pabutools climbs 17,648 pennies), funds what pabutools funds."""
    m = demo.riverside_budget()
    assert m.budget is not None
    costs = {p.id: Fraction(p.cost * unit) for p in m.proposals if p.cost is not None}
    voters = (
        [frozenset({"town-square", "cycle-path", "play-park"})] * 55
        + [frozenset({"play-park", "youth-hub"})] * 30
        + [frozenset({"respite-breaks"})] * 15
    )
    pot = Fraction(m.budget.pot * unit)
    e = SimpleNamespace(costs=costs, voters=voters, pot=pot, tie_break=list(costs))
    ours = equal_shares(e.voters, e.costs, e.pot, tie_break=e.tie_break)
    assert list(ours.funded) == oracle(pabutools, e, 1)
    assert ours.funded == ("play-park", "cycle-path", "youth-hub", "respite-breaks")


def test_gpl_oracle_stays_out_of_the_product() -> None:
    """No module of the product imports pabutools (GPL): it is a test-only oracle."""
    app = Path(__file__).parent.parent / "app"
    imports = re.compile(r"^\s*(import|from)\s+pabutools", re.MULTILINE)
    assert not [p.name for p in app.rglob("*.py") if imports.search(p.read_text("utf-8"))]


# --- properties and details of equal_shares ------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(elections(), st.sampled_from(["none", "add1", "add1+greedy"]), st.randoms())
def test_outcome_invariants(e: SimpleNamespace, completion: Any, rnd: random.Random) -> None:
    """Payments add up to each cost, spending stays within the pot, and voter order is moot."""
    o = equal_shares(e.voters, e.costs, e.pot, completion=completion, tie_break=e.tie_break)
    assert len(set(o.funded)) == len(o.funded)
    assert o.spent == sum(e.costs[p] for p in o.funded) <= o.budget == e.pot
    assert o.left == e.pot - o.spent
    for d in o.details:
        assert o.payments[d.id] == d.cost == e.costs[d.id]
        assert d.supporters == o.supporters[d.id] == sum(d.id in v for v in e.voters)
        if d.by == "mes":
            assert sum(a * k for a, k in d.paid) == d.cost
            assert sum(k for _, k in d.paid) == d.supporters
            assert all(a <= o.share for a, _ in d.paid)
    shuffled = list(e.voters)
    rnd.shuffle(shuffled)
    again = equal_shares(shuffled, e.costs, e.pot, completion=completion, tie_break=e.tie_break)
    assert again == o


@settings(max_examples=200, deadline=None)
@given(elections())
def test_add1_greedy_extends_add1_until_nothing_fits(e: SimpleNamespace) -> None:
    """add1+greedy keeps the Add1 outcome, then adds by WANTs until no wanted proposal fits."""
    base = equal_shares(e.voters, e.costs, e.pot, tie_break=e.tie_break)
    full = equal_shares(e.voters, e.costs, e.pot, completion="add1+greedy", tie_break=e.tie_break)
    assert full.funded[: len(base.funded)] == base.funded and full.share == base.share
    assert all(d.by == "greedy" and d.paid == () for d in full.details[len(base.funded) :])
    wanted = {p for v in e.voters for p in v}
    assert all(p in full.funded or e.costs[p] > full.left for p in wanted)


def test_ties_lower_cost_then_more_wants_then_drawn_order() -> None:
    """Equal rho: the cheaper proposal first, then the more wanted, then the drawn order."""
    # a and b: same rho (1/2 each, both fully supported), a is cheaper.
    voters = [frozenset({"a", "b"})] * 2
    assert equal_shares(voters, {"a": 2, "b": 4}, 6, completion="none").funded == ("a", "b")
    # c, d: equal cost and rho; only the drawn order separates them.
    voters = [frozenset({"c"}), frozenset({"d"})]
    costs = {"c": 1, "d": 1}
    assert equal_shares(voters, costs, 2, tie_break=["d", "c"]).funded == ("d", "c")
    assert equal_shares(voters, costs, 2, tie_break=["c", "d"]).funded == ("c", "d")
    assert equal_shares(voters, costs, 2).funded == ("c", "d")  # undrawn: by id
    # greedy: equal WANTs, the cheaper first; then the drawn order.
    assert greedy(voters, {"c": 1, "d": 1}, 1, tie_break=["d", "c"]) == ("d",)


def test_unwanted_and_zero_cost_proposals() -> None:
    """Nobody WANTs z, so nothing funds it; a wanted zero-cost proposal is funded first, free."""
    voters = [frozenset({"a", "free"}), frozenset({"a"})]
    o = equal_shares(voters, {"a": 2, "free": 0, "z": 1}, 10)
    assert o.funded == ("free", "a") and o.details[0].paid == ((Fraction(0), 1),)
    assert o.supporters["z"] == 0 and "z" not in greedy(voters, {"a": 2, "free": 0, "z": 1}, 10)


def test_no_voters_and_empty_approvals() -> None:
    """No voters fund nothing; voters approving nothing still count in n (smaller shares)."""
    assert equal_shares([], {"a": 1}, 10).funded == ()
    alone = equal_shares([frozenset({"a"})], {"a": 6}, 10, completion="none")
    crowd = equal_shares([frozenset({"a"})] + [frozenset()] * 4, {"a": 6}, 10, completion="none")
    assert alone.funded == ("a",) and crowd.funded == () and crowd.share == 2


def test_bad_input_is_rejected() -> None:
    """Unknown approved ids, negative or non-finite amounts and bad completions raise."""
    with pytest.raises(ValueError, match="without a cost"):
        equal_shares([frozenset({"x"})], {"a": 1}, 1)
    for bad in (-1, float("nan"), float("inf"), Fraction(-1, 2)):
        with pytest.raises(ValueError):
            amount(bad)
    for wrong in (True, "5", None):
        with pytest.raises(TypeError):
            amount(wrong)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="completion"):
        equal_shares([], {}, 1, completion="add2")  # type: ignore[arg-type]


# --- exactness -----------------------------------------------------------------------------


def walk(value: object) -> Iterator[object]:
    """Every value inside dataclasses, mappings and sequences."""
    yield value
    if is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            yield from walk(getattr(value, f.name))
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from walk(k)
            yield from walk(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from walk(v)


def test_floats_are_read_exactly_and_never_kept() -> None:
    """0.1 + 0.2 fits a pot of 0.3 exactly, and no float appears in the outcome or its JSON."""
    voters = [frozenset({"a", "b"})] * 3
    o = equal_shares(voters, {"a": 0.1, "b": 0.2}, 0.3)
    assert o.funded == ("a", "b") and o.left == 0 and o.share == Fraction(1, 10)
    assert not [v for v in walk(o) if isinstance(v, float)]
    record = json.dumps(budget_to_json(o, greedy(voters, {"a": 0.1, "b": 0.2}, 0.3)))
    json.loads(record, parse_float=lambda s: pytest.fail(f"float {s} in the record"))
    assert json.loads(record)["share"] == "0.1"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (Fraction(300), 300),
        (Fraction(25, 2), "12.5"),
        (Fraction(1, 80), "0.0125"),
        (Fraction(100, 3), "100/3"),
        (Fraction(0), 0),
    ],
)
def test_amount_to_json(value: Fraction, written: int | str) -> None:
    """Whole amounts are ints, finite decimals decimal strings, others "p/q"; all read back."""
    assert amount_to_json(value) == written
    assert Fraction(str(written)) == value


def test_budget_json_record() -> None:
    """The budget record lists funded ids in order, greedy, the share and who paid."""
    case = next(c for c in CASES if c["id"] == "M2")
    voters = case_voters(case)
    o = equal_shares(voters, case["costs"], case["budget"], completion="add1+greedy")
    record = budget_to_json(o, greedy(voters, case["costs"], case["budget"]))
    assert record["funded"] == ["gym", "park", "playground", "library"]
    assert record["greedy"] == ["gym", "bike"]
    assert record["share"] == 117 and record["spent"] == 950 and record["left"] == 150
    assert record["proposals"][0] == {
        "id": "gym",
        "cost": 400,
        "supporters": 7,
        "by": "mes",
        "paid": [{"amount": "400/7", "voters": 7}],
    }


# --- the pipeline ----------------------------------------------------------------------------


def outcome(pid: str, category: Category, reason: Reason) -> ProposalResult:
    """A proposal result with a given outcome (the counts do not matter to the gate)."""
    return ProposalResult(pid, Counts(10, 5, 2), Outcome(category, reason, ()), ())


def test_eligibility_gate() -> None:
    """Only `fund` proposals with a cost, not REJECTED and not objected to by a group, enter."""
    result = RoundResult(
        (
            outcome("ok", Category.SUPPORTED, Reason.MORE_WANT),
            outcome("minority", Category.PROTECTED, Reason.STRONG_MINORITY),
            outcome("unclear", Category.CONTESTED, Reason.NO_CLEAR_MAJORITY),
            outcome("objected", Category.CONTESTED, Reason.AFFECTED_GROUP_OBJECTS),
            outcome("rejected", Category.REJECTED, Reason.QUALIFIED_OPPOSITION),
            outcome("nocost", Category.SUPPORTED, Reason.MORE_WANT),
            outcome("keep", Category.SUPPORTED, Reason.MORE_WANT),
        ),
        (),
    )
    costs = dict.fromkeys(["ok", "minority", "unclear", "objected", "rejected", "keep"], 5)
    kinds = {p.id: "fund" for p in result.proposals} | {"keep": "keep"}
    assert list(eligible(result, costs | {"nocost": None}, kinds)) == ["ok", "minority", "unclear"]


def test_objecting_group_blocks_funding_even_with_more_wants() -> None:
    """A proposal most of the room WANTs but its affected group objects to is not funded."""
    w, d = Mark.WANT, Mark.DONT_WANT
    ballots = [VoterBallot(f"r{i}", frozenset(), {"road": w, "park": w}) for i in range(20)]
    ballots += [VoterBallot(f"g{i}", frozenset({"near"}), {"road": d}) for i in range(6)]
    specs = [ProposalSpec("road", ("near",)), ProposalSpec("park", ())]
    result = count_round(specs, ballots, Rule())
    assert result.proposals[0].outcome.reason is Reason.AFFECTED_GROUP_OBJECTS
    o = budget_round(
        result, ballots, {"road": 10, "park": 10}, dict.fromkeys(["road", "park"], "fund"), 100
    )
    assert o.funded == ("park",) and o.voters == 26


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.dictionaries(st.sampled_from(["a", "b", "c"]), st.sampled_from(list(Mark)), min_size=1),
        max_size=15,
    ),
    st.integers(0, 40),
)
def test_dont_want_never_enters_mes(marks: list[dict[str, Mark]], pot: int) -> None:
    """For a given gate, turning every DON'T WANT into NEUTRAL leaves the MES outcome unchanged."""
    specs = [ProposalSpec(p, ()) for p in "abc"]
    ballots = [VoterBallot(f"v{i}", frozenset(), m) for i, m in enumerate(marks)]
    result = count_round(specs, ballots, Rule())
    neutral = [
        VoterBallot(
            b.voter,
            b.segments,
            {p: Mark.NEUTRAL if m is Mark.DONT_WANT else m for p, m in b.marks.items()},
        )
        for b in ballots
    ]
    costs, kinds = {"a": 5, "b": 8, "c": 3}, dict.fromkeys("abc", "fund")
    assert budget_round(result, ballots, costs, kinds, pot) == budget_round(
        result, neutral, costs, kinds, pot
    )


def test_ballots_must_match_the_result() -> None:
    """Ballots that do not give the result's V (or mark unknown proposals) are refused."""
    ballots = blocs(15)
    result = count_round(PIPE_SPECS, ballots, Rule())
    with pytest.raises(ValueError, match="V"):
        budget_round(result, ballots[:-1], PIPE_COSTS, PIPE_KINDS, 300)
    stray = [*ballots[:-1], VoterBallot("x", frozenset(), {"W": Mark.WANT})]
    with pytest.raises(ValueError, match="not in the result"):
        budget_round(result, stray, PIPE_COSTS, PIPE_KINDS, 300)


# --- savings target ------------------------------------------------------------------------


def counted(pid: str, V: int, W: int, D: int, **groups: Counts) -> ProposalResult:
    """A proposal with these room (and affected group) counts, classified by the rule."""
    counts = Counts(V, W, D)
    return ProposalResult(pid, counts, classify(counts, groups, Rule()), ())


def test_savings_reach_the_target_in_order() -> None:
    """Cuts come from REJECTED keeps by (D-W)/V, then larger saving, and stop once T is reached."""
    result = RoundResult(
        (
            counted("libraries", 100, 10, 80),  # (D-W)/V = 0.7
            counted("parks", 100, 5, 90),  # 0.85
            counted("buses", 100, 20, 75),  # 0.55
            counted("lights", 100, 10, 80),  # 0.7, larger saving than libraries
        ),
        (),
    )
    savings = {"libraries": 50, "parks": 30, "buses": 100, "lights": 60}
    o = savings_cuts(result, savings, dict.fromkeys(savings, "keep"), 120)
    assert o.accepted == ("parks", "lights", "libraries", "buses")
    assert o.cuts == ("parks", "lights", "libraries") and o.total == 140 and o.shortfall == 0
    assert savings_to_json(o) == {
        "target": 120,
        "cuts": ["parks", "lights", "libraries"],
        "accepted": ["parks", "lights", "libraries", "buses"],
        "savings": {"parks": 30, "lights": 60, "libraries": 50, "buses": 100},
        "total": 140,
        "shortfall": 0,
    }


def test_savings_shortfall_and_protected_never_cut() -> None:
    """PROTECTED, CONTESTED and SUPPORTED keeps are never cut; what is missing is the shortfall."""
    result = RoundResult(
        (
            counted("care", 100, 35, 60),  # PROTECTED (strong minority)
            counted("daycare", 100, 10, 80, parents=Counts(10, 10, 0)),  # PROTECTED by parents
            counted("museum", 100, 10, 60),  # REJECTED
            counted("pool", 100, 20, 40),  # CONTESTED (no clear majority)
            counted("parking", 100, 60, 30),  # SUPPORTED
            counted("fund", 100, 0, 90),  # REJECTED but a `fund` proposal
        ),
        (),
    )
    assert [p.outcome.category for p in result.proposals[:2]] == [Category.PROTECTED] * 2
    savings = {"care": 500, "daycare": 500, "museum": 40.5, "pool": 500, "parking": 500}
    savings["fund"] = 500
    kinds = dict.fromkeys(savings, "keep") | {"fund": "fund"}
    o = savings_cuts(result, savings, kinds, 100)
    assert o.cuts == ("museum",) and o.total == Fraction(81, 2) and o.shortfall == Fraction(119, 2)
    assert savings_to_json(o)["shortfall"] == "59.5"


def test_savings_ties_use_the_drawn_order() -> None:
    """Equal (D-W)/V and equal savings fall back on the drawn order, then on id."""
    result = RoundResult(tuple(counted(p, 10, 1, 8) for p in ("a", "b", "c")), ())
    savings = dict.fromkeys("abc", 10)
    kinds = dict.fromkeys("abc", "keep")
    assert savings_cuts(result, savings, kinds, 30, tie_break=["c", "a"]).cuts == ("c", "a", "b")
    assert savings_cuts(result, savings, kinds, 0).cuts == ()
    with pytest.raises(ValueError):
        savings_cuts(result, {"a": -1}, kinds, 10)


def test_budget_outcome_is_a_frozen_dataclass() -> None:
    """The outcome cannot be changed after the count (the projector and recount share it)."""
    o: BudgetOutcome = equal_shares([frozenset({"a"})], {"a": 1}, 1)
    with pytest.raises(AttributeError):
        o.share = Fraction(2)  # type: ignore[misc]
    with pytest.raises(TypeError):
        o.payments["a"] = Fraction(0)  # type: ignore[index]
