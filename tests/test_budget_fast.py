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
from fractions import Fraction
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.rules import budget
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


def sorted_cap(bs: Sequence[int], ws: Sequence[int], c: int) -> Fraction | None:
    """The cap as the rule defines it, found by trying every number of poor voters."""
    pairs = sorted(zip(bs, ws, strict=True))
    if sum(b * w for b, w in pairs) < c:
        return None
    paid, rest = 0, sum(ws)
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
    assert budget._cap(bs, ws, c, sum(ws), lower) == want
