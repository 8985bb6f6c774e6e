"""The faster MES runs of issue 14 against a frozen copy of the implementation before them
(tests/oracles/mes_reference.py): random elections, many small and a few city-shaped, must give
the very same outcome: funded order, final share, who paid what, spent and left.

The shapes the randomness is steered towards are those where a fast path could go wrong: pots in
pence (Add1 climbing hundreds or thousands of units), exact ties between proposals, proposals
that cost nothing, voters who WANT nothing, budgets just enough or one penny short, and voters
grouped into few or many classes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.rules import budget, mes, mes_floats
from app.rules.budget import Completion, equal_shares
from tests.oracles import mes_reference as reference


def comparable(o: Any) -> tuple[Any, ...]:
    """Everything an outcome says, in plain values (the two modules' classes differ)."""
    return (
        o.funded,
        tuple((d.id, d.cost, d.supporters, d.paid, d.by) for d in o.details),
        dict(o.payments),
        dict(o.supporters),
        o.share,
        o.budget,
        o.spent,
        o.left,
        o.voters,
        o.completion,
    )


def same_as_reference(e: SimpleNamespace, completion: Completion) -> None:
    got = equal_shares(e.voters, e.costs, e.pot, completion=completion, tie_break=e.tie_break)
    want = reference.equal_shares(
        e.voters, e.costs, e.pot, completion=completion, tie_break=e.tie_break
    )
    assert comparable(got) == comparable(want)


@st.composite
def small_elections(draw: st.DrawFn) -> SimpleNamespace:
    """Up to 7 proposals and 14 voters; costs in pounds or pence, some equal (ties), some
    zero; some voters WANT nothing; the pot anywhere from nothing to twice the total cost."""
    ids = [f"p{i}" for i in range(draw(st.integers(1, 7)))]
    unit = draw(st.sampled_from([1, 1, 100]))
    palette = draw(st.lists(st.integers(0, 40), min_size=1, max_size=4))  # few values: ties
    costs = {p: Fraction(draw(st.sampled_from(palette)) * unit) for p in ids}
    if draw(st.booleans()):
        costs[draw(st.sampled_from(ids))] = Fraction(0)
    voters = draw(st.lists(st.frozensets(st.sampled_from(ids), max_size=4), max_size=14))
    total = int(sum(costs.values()))
    pot = Fraction(draw(st.integers(0, 2 * total + unit))) / draw(st.sampled_from([1, 1, 3]))
    return SimpleNamespace(
        voters=voters, costs=costs, pot=pot, tie_break=draw(st.permutations(ids))
    )


@settings(max_examples=400, deadline=None)
@given(small_elections(), st.sampled_from(["add1", "none", "add1+greedy"]))
def test_small_elections_equal_the_reference(e: SimpleNamespace, completion: Completion) -> None:
    """Hundreds of small elections (pounds, pence, ties, free proposals, empty ballots)."""
    same_as_reference(e, completion)


def city(seed: int, voters: int, proposals: int, unit: int) -> SimpleNamespace:
    """A seeded election shaped like the bench's (a few favourites, a long tail), smaller."""
    rng = random.Random(seed)
    ids = [f"p{i:02}" for i in range(proposals)]
    costs = {p: Fraction(rng.randrange(20, 401, 5) * unit) for p in ids}
    weights = [1 / (rank + 1) ** 0.8 for rank in range(proposals)]
    rng.shuffle(weights)
    ballots: list[frozenset[str]] = []
    for _ in range(voters):
        k = rng.randint(0, min(6, proposals))  # 0: an active voter who WANTs nothing
        ballots.append(frozenset(rng.choices(ids, weights, k=k)))
    pot = Fraction(int(sum(costs.values())) // rng.choice([2, 3, 4]))
    return SimpleNamespace(voters=ballots, costs=costs, pot=pot, tie_break=sorted(ids))


@pytest.mark.parametrize("unit", [1, 100])
@pytest.mark.parametrize("seed", range(6))
def test_city_shaped_elections_equal_the_reference(seed: int, unit: int) -> None:
    """Elections with hundreds of voter classes, where budgets part ways after a few steps
    (poor voters, finer scales, proposals out of reach from the start), in pounds and pence."""
    same_as_reference(city(seed, 400, 14, unit), "add1")


def sorted_cap(
    bs: Sequence[int | Fraction], ws: Sequence[int], c: int | Fraction
) -> Fraction | None:
    """The cap as the rule defines it, found by trying every number of poor voters."""
    pairs = sorted(zip(bs, ws, strict=True))
    if sum(b * w for b, w in pairs) < c:
        return None
    paid: int | Fraction = 0
    rest = sum(ws)
    for b, w in pairs:
        if b * rest >= c - paid:
            break
        paid, rest = paid + b * w, rest - w
    return Fraction(c - paid, rest) if rest else Fraction(pairs[-1][0])


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 60), st.integers(1, 4)), min_size=1, max_size=12),
    st.integers(1, 400),
    st.data(),
)
def test_cap_equals_its_definition(
    supporters: list[tuple[int, int]], c: int, data: st.DataObject
) -> None:
    """`_cap` with any valid lower bound gives the smallest x with sum(w min(b, x)) == c."""
    bs, ws = [b for b, _ in supporters], [w for _, w in supporters]
    want = sorted_cap(bs, ws, c)
    lower = Fraction(c, sum(ws))  # everyone pays at most x: always a lower bound
    if want is not None:
        lower = data.draw(st.sampled_from([lower, want, (lower + want) / 2]))
    assert mes.least_cap(bs, ws, c, sum(ws), lower) == want


# --- the float filter: a float run decides as the exact run, or says it cannot -------------


def exact(problem: Any, share: Fraction) -> mes.Run:
    """The exact run at `share`."""
    run = mes.exact_run(problem, share)
    assert run is not None
    return run


def walk(problem: Any, pot: Fraction, share: Fraction) -> mes.Run:
    """Add1's walk on float runs from `share`, without the final exact check."""
    first = mes_floats.fast(problem, share)
    assert first is not None
    return mes.add1(problem, pot, first, mes_floats.fast)


def plain_loop(problem: Any, pot: Fraction, share: Fraction) -> mes.Run:
    """Section 3 step 4 as the rule words it, on exact runs: one per unit of share."""
    run = exact(problem, share)
    while not mes.exhaustive(problem, run, pot):
        more = exact(problem, run.share + 1)
        if more.spent > pot:
            break
        run = more
    return run


@st.composite
def crowds(draw: st.DrawFn) -> SimpleNamespace:
    """Up to 8 proposals and 60 voters in many classes, costs in pounds or pence drawn freely
    or from a few values (exact ties), the pot a quarter to twice the total: elections where
    float runs mostly decide, with now and then a tie or a near-tie they must hand over."""
    ids = [f"p{i}" for i in range(draw(st.integers(2, 8)))]
    unit = draw(st.sampled_from([1, 100]))
    if draw(st.booleans()):
        costs = {p: Fraction(draw(st.integers(1, 400)) * unit) for p in ids}
    else:
        palette = draw(st.lists(st.integers(1, 60), min_size=1, max_size=3))
        costs = {p: Fraction(draw(st.sampled_from(palette)) * unit) for p in ids}
    voters = draw(
        st.lists(st.frozensets(st.sampled_from(ids), max_size=4), min_size=1, max_size=60)
    )
    total = int(sum(costs.values()))
    pot = Fraction(draw(st.integers(total // 4, 2 * total)))
    return SimpleNamespace(
        voters=voters, costs=costs, pot=pot, tie_break=draw(st.permutations(ids))
    )


def floated(problem: Any, share: Fraction, against: Any = None) -> Any:
    """The float run at `share`, or None where it hands the decision to the exact run."""
    try:
        return mes_floats.float_run(problem, share, against)
    except mes_floats.CloseCall:
        return None


@settings(max_examples=400, deadline=None)
@given(crowds(), st.integers(0, 3000))
def test_a_float_run_funds_what_the_exact_run_funds(e: SimpleNamespace, climb: int) -> None:
    """At any share, a float run that decides funds the exact run's proposals in its order."""
    problem = budget.prepare(e.voters, e.costs, e.tie_break)
    share = e.pot / len(e.voters) + climb
    run = floated(problem, share)
    if run is not None:
        want = exact(problem, share)
        assert (run.order, run.spent) == (want.order, want.spent)
        assert run.steps is None


@settings(max_examples=300, deadline=None)
@given(crowds(), st.integers(0, 2000), st.integers(1, 300))
def test_a_float_certificate_covers_its_stretch(e: SimpleNamespace, at: int, length: int) -> None:
    """When a float run at b passes the certificate against the float run at a, every whole
    share in between funds the same proposals in the same order (exact runs)."""
    problem = budget.prepare(e.voters, e.costs, e.tie_break)
    a = e.pot / len(e.voters) + at
    start = floated(problem, a)
    end = floated(problem, a + length, start) if start is not None else None
    if end is not None and end.certified:
        assert all(exact(problem, a + k).order == start.order for k in range(length + 1))


@settings(max_examples=300, deadline=None)
@given(crowds() | small_elections())
def test_the_float_walk_stops_where_the_plain_loop_stops(e: SimpleNamespace) -> None:
    """Add1's walk on float runs (exact only where they hand over), without the final exact
    check, keeps the share and outcome of the loop that runs exactly once per unit."""
    problem = budget.prepare(e.voters, e.costs, e.tie_break)
    n = len(e.voters)
    share = e.pot / n if n else Fraction(0)
    walked = walk(problem, e.pot, share)
    looped = plain_loop(problem, e.pot, share)
    assert (walked.share, walked.order) == (looped.share, looped.order)


@pytest.mark.parametrize("unit", [1, 100])
@pytest.mark.parametrize("seed", range(3))
def test_the_float_walk_on_city_shaped_elections(seed: int, unit: int) -> None:
    """Hundreds of voter classes, pounds and pence: the float walk alone (no final exact check)
    lands on the share and outcome of the implementation before it, and most runs decide."""
    e = city(seed, 400, 14, unit)
    problem = budget.prepare(e.voters, e.costs, e.tie_break)
    share = e.pot / len(e.voters)
    runs: list[bool] = []
    frun = mes_floats.float_run

    def counted(*args: Any, **kwargs: Any) -> Any:
        try:
            got = frun(*args, **kwargs)
        except mes_floats.CloseCall:
            runs.append(False)
            raise
        runs.append(True)
        return got

    mes_floats.float_run = counted
    try:
        walked = walk(problem, e.pot, share)
    finally:
        mes_floats.float_run = frun
    want = reference.equal_shares(e.voters, e.costs, e.pot, tie_break=e.tie_break)
    assert (walked.share, walked.order) == (want.share, want.funded)
    assert runs.count(True) > 0.9 * len(runs)


# BRIEF of tests/test_budget.py: from share 2,020, c's rho (one supporter paying all she has)
# reaches 1/2, d's (everyone paying half) exactly; c wins the tie on cost.
BRIEF = SimpleNamespace(
    costs={"a": 3000, "b": 2100, "c": 2040, "d": 4020},
    voters=[frozenset(v) for v in ("a", "a", "abc", "bcd", "d")],
)


def test_an_exact_tie_is_handed_to_the_exact_run() -> None:
    """Floats cannot see that two rhos are exactly equal: the float run says so, and the run
    Add1 uses is the exact one, with the tie broken as the rule says."""
    problem = budget.prepare(BRIEF.voters, BRIEF.costs, ())
    with pytest.raises(mes_floats.CloseCall):
        mes_floats.float_run(problem, Fraction(2020))
    run = mes_floats.fast(problem, Fraction(2020))
    assert run is not None and run.steps is not None and run.order == ("a", "c")
    assert (
        mes_floats.fast(problem, Fraction(2020), mes.exact_run(problem, Fraction(2019)), probe=True)
        is None
    )


def test_a_float_walk_that_disagrees_with_the_exact_run_is_not_trusted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Should a float run ever fund other than the exact run at the share the walk keeps,
    the exact walk decides: the outcome is still the loop's."""
    frun = mes_floats.float_run

    def wrong(*args: Any, **kwargs: Any) -> Any:
        got = frun(*args, **kwargs)
        return got if got is None else replace(got, order=got.order[:-1])

    monkeypatch.setattr(mes_floats, "float_run", wrong)
    e = city(0, 400, 14, 1)
    got = equal_shares(e.voters, e.costs, e.pot, tie_break=e.tie_break)
    want = reference.equal_shares(e.voters, e.costs, e.pot, tie_break=e.tie_break)
    assert comparable(got) == comparable(want)


@pytest.mark.parametrize(
    ("scale", "completion"), [(Fraction(10**120), "none"), (Fraction(1, 10**120), "add1")]
)
def test_amounts_beyond_the_float_range_run_exactly(
    scale: Fraction, completion: Completion
) -> None:
    """Costs and pots too large or too small for doubles' relative rounding are never given
    to a float run (one would overflow, or round a cost to nothing): the outcome is the
    exact one. (Add1 on a pot of 10^120 pounds climbs as far as the loop would need 10^120
    runs for: exact runs only, it takes minutes, so that one is plain MES.)"""
    e = city(1, 60, 6, 1)
    e.costs = {p: c * scale for p, c in e.costs.items()}
    e.pot *= scale
    problem = budget.prepare(e.voters, e.costs, e.tie_break)
    with pytest.raises(mes_floats.CloseCall):
        mes_floats.float_run(problem, e.pot / len(e.voters))
    same_as_reference(e, completion)


@settings(max_examples=600, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5000), st.integers(1, 4), st.sampled_from([0, 1, 1000])),
        min_size=1,
        max_size=14,
    ),
    st.integers(1, 60_000),
    st.data(),
)
def test_float_rho_bounds_hold_the_exact_cap(
    supporters: list[tuple[int, int, int]], cost: int, data: st.DataObject
) -> None:
    """Float budgets within their error bounds of any exact budgets, the cap anywhere or
    exactly at a budget: `_frho`'s bounds hold the exact cap and rho (its exact rho when it
    claims one), it says the proposal is unaffordable only when it is, or it hands over."""
    floats = [float(Fraction(k, 7)) for k, _, _ in supporters]  # most not exact in binary
    errors = [j * 1e-12 * max(b, 1.0) for b, (_, _, j) in zip(floats, supporters, strict=True)]
    exact = [
        max(Fraction(b) + Fraction(e) * data.draw(st.sampled_from([-1, 0, 1])), Fraction(0))
        for b, e in zip(floats, errors, strict=True)
    ]
    ws = [w for _, w, _ in supporters]
    c = Fraction(cost, 3)
    if data.draw(st.booleans()):  # the cap exactly at a budget: the closest call there is
        pivot = data.draw(st.sampled_from(exact))
        c = sum((w * min(b, pivot) for b, w in zip(exact, ws, strict=True)), Fraction(0))
        if not c:
            return
    f = mes_floats.Floats(
        np.arange(len(ws)),
        np.asarray(ws, dtype=np.float64),
        sum(ws),
        float(c),
        3 * (len(ws) + 2) * mes.U,
    )
    try:
        rho = mes_floats.frho(f, np.asarray(floats), np.asarray(errors), max(errors))
    except mes_floats.CloseCall:
        return
    cap = sorted_cap(exact, ws, c)
    if rho is None:
        assert cap is None
        return
    assert cap is not None
    assert Fraction(rho.cap_low) <= cap <= Fraction(rho.cap_high)
    assert Fraction(rho.low) <= cap / c <= Fraction(rho.high)
    assert rho.exact is None or rho.exact == cap / c
