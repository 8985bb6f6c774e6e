"""The budget variant of the rule: Method of Equal Shares, greedy, and savings targets.

Contract (../shared/voting-rule.md section 3 and the savings target of section 2, copied into
tests/vectors/budget.json):

* Pure: no I/O, no clock. Every amount is an exact `Fraction`; inputs may be `int`, `Fraction`
  or `float`, and a float is read through its shortest repr (`Fraction(str(x))`, so 0.1 is
  1/10). Negative or non-finite amounts, bools and unknown proposal ids raise `ValueError` (bad
  types `TypeError`); nothing is guessed. No float ever decides a result: Add1's walk runs MES
  in floats (`_frun`) only as a filter whose decisions carry proven error bounds, hands every
  decision closer than its bound to the exact run, and the outcome returned, payments and
  all, is an exact run's (see "Cost").
* `equal_shares` is MES with cost utilities (section 3 steps 3-5): `n` voters each start with
  `s = B/n`; the affordable proposal with the smallest `rho` is funded, each supporter paying
  `min(b_i, rho * cost)`. Completion `add1` reruns from scratch with `s + 1`, `s + 2`, ... and
  stops at the first exhaustive outcome, or keeps the previous one when an outcome costs more
  than B. The result is exactly that loop's, found without one run per unit (`_add1`): the
  work follows how often the outcome changes as s rises, not the pot or its unit, so a share
  that must climb a long way (one voter who WANTs only the dearest proposal, a pot in pence)
  costs dozens of runs, not one per pound or penny. Only proposals with at least one WANT
  take part: MES can never fund the others, so they do not count against "exhaustive" either
  (as pabutools). A zero-cost proposal with a WANT has `rho = 0` and is funded first
  (pabutools' Cost_Sat never funds one). `add1+greedy` then funds what still fits, most WANTs
  first. Ties between equal `rho`: lower cost, more WANTs, then the drawn `tie_break` order;
  ids absent from it come after, by id. No voters (`n = 0`): nothing is funded and `share`
  is 0.
* Cost, none of it growing with the pot or its unit: Add1 makes one run per stretch of shares
  its certificate covers, so its runs grow with the number of times the funded order changes
  as s rises and with how close together those changes lie (where they come every few units
  the certificate covers about two, and Add1 makes about as many runs as the loop would; see
  `_add1`). Those runs are float runs (`_frun`): numpy over the voter classes (voters with the
  same WANTs) supporting each proposal whose lazily kept rho is recomputed, about 2 ms at
  10,000 voters x 100 proposals against 30 ms for an exact run (`_mes`: integers, in Python).
  Exact runs are made only where a float run meets a close call (an exact tie between rhos,
  or a margin within the error bound), and once for the share Add1 keeps, for the payments.
* `greedy` is "most WANTs first, skipping what no longer fits" (ties: lower cost, then drawn
  order); a proposal nobody WANTs is never funded.
* `budget_round` runs the section 3 pipeline on a counted round (`ValueError` when the ballots
  do not match the result); `savings_cuts` picks the cuts of a savings target (section 2).
* `budget_to_json` / `savings_to_json` are public record formats (`funding_keys`: the budget's
  as a round record and `covote recount --pb` carry it). Amounts are written exactly: an `int`
  when whole, else a string, a decimal ("12.5") when the value has one, or "p/q".
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import accumulate, compress
from operator import itemgetter, mul, not_, sub
from types import MappingProxyType
from typing import Literal

import numpy as np
import numpy.typing as npt

from app.core.shapes import BudgetRecord, FundingKeys, SavingsRecord
from app.rules import tally

Number = int | float | Fraction
Completion = Literal["add1", "add1+greedy", "none"]
COMPLETIONS: tuple[Completion, ...] = ("add1", "add1+greedy", "none")

# Add1's walk (`_add1`) runs shares two units apart until CALM such pairs in a row kept the
# outcome, and only then looks further ahead. Where the outcome changes every few units (10,000
# voters x 100 proposals: every 3.5 on average), a look-ahead fails three times in four, and a
# failed one is most of a run wasted; a failed pair wastes nothing (see `_add1`).
CALM = 2


def amount(x: Number) -> Fraction:
    """An exact, non-negative amount (floats through their shortest repr)."""
    if isinstance(x, bool) or not isinstance(x, int | float | Fraction):
        raise TypeError(f"amount must be an int, float or Fraction, not {x!r}")
    if isinstance(x, float) and not math.isfinite(x):
        raise ValueError(f"amount must be finite, not {x!r}")
    value = Fraction(str(x)) if isinstance(x, float) else Fraction(x)
    if value < 0:
        raise ValueError(f"amount must not be negative, not {x!r}")
    return value


def _drawn(tie_break: Sequence[str]) -> Callable[[str], tuple[int, int, str]]:
    """Sort key for the drawn order; ids it does not name come after it, by id."""
    drawn: dict[str, int] = {}
    for position, pid in enumerate(tie_break):
        drawn.setdefault(pid, position)
    return lambda pid: (0, drawn[pid], "") if pid in drawn else (1, 0, pid)


@dataclass(frozen=True, slots=True)
class Funded:
    """A funded proposal and who paid: `paid` groups all its supporters by the amount each paid,
    largest first (0 for those who had nothing left), `((amount, voters), ...)`, adding up to
    `cost`. Funded by the greedy completion (`by == "greedy"`): paid from the pot, `paid == ()`.
    """

    id: str
    cost: Fraction
    supporters: int
    paid: tuple[tuple[Fraction, int], ...]
    by: Literal["mes", "greedy"]


@dataclass(frozen=True, slots=True)
class BudgetOutcome:
    """MES's outcome: `funded` ids in selection order, and what the projector shows."""

    funded: tuple[str, ...]
    details: tuple[Funded, ...]  # one per funded id, same order
    payments: Mapping[str, Fraction]  # funded id -> total paid (== its cost)
    supporters: Mapping[str, int]  # every proposal with a cost -> its WANT count
    share: Fraction  # the per-voter start share s of the final MES run
    budget: Fraction
    spent: Fraction
    left: Fraction
    voters: int  # n
    completion: Completion


@dataclass(frozen=True, slots=True)
class _Problem:
    """An election prepared for MES: voters merged into classes with identical approvals."""

    costs: dict[str, Fraction]
    wants: dict[str, int]
    weights: list[int]  # voters per class
    supporters: dict[str, tuple[list[int], list[int]]]  # supported id -> (classes, weights)
    rank: dict[str, int]  # MES tie order: lower cost, more WANTs, drawn order
    greedy_order: list[str]  # supported ids: more WANTs, lower cost, drawn order
    gather: dict[str, Callable[[list[int]], tuple[int, ...]]]  # supported id -> its classes' items
    floats: dict[str, _Floats]  # supported id -> its classes as arrays, for `_frun`


def _prepare(
    voters: Sequence[frozenset[str]], costs: Mapping[str, Number], tie_break: Sequence[str]
) -> _Problem:
    exact = {pid: amount(c) for pid, c in costs.items()}
    classes = Counter(frozenset(v) for v in voters)
    unknown = sorted(set().union(*classes) - exact.keys())
    if unknown:
        raise ValueError(f"voters approve proposals without a cost: {unknown}")
    weights = list(classes.values())
    members: dict[str, tuple[list[int], list[int]]] = {}
    for k, (approved, w) in enumerate(classes.items()):
        for pid in approved:
            ks, ws = members.setdefault(pid, ([], []))
            ks.append(k)
            ws.append(w)
    wants = {pid: sum(members[pid][1]) if pid in members else 0 for pid in exact}
    drawn = _drawn(tie_break)
    by_cost = sorted(members, key=lambda p: (exact[p], -wants[p], drawn(p)))
    by_wants = sorted(members, key=lambda p: (-wants[p], exact[p], drawn(p)))
    rank = {pid: r for r, pid in enumerate(by_cost)}
    gather = {pid: _gatherer(ks) for pid, (ks, _) in members.items()}
    problem = _Problem(exact, wants, weights, members, rank, by_wants, gather, {})
    problem.floats.update(_floats(problem))
    return problem


def _gatherer(ks: list[int]) -> Callable[[list[int]], tuple[int, ...]]:
    """A function picking items `ks` of a list, as a tuple (`itemgetter` loops in C, but gives
    a bare item, not a tuple, for a single index)."""
    if len(ks) == 1:
        k = ks[0]
        return lambda xs: (xs[k],)
    return itemgetter(*ks)


_Step = tuple[str, int, int, int, dict[int, int]]
"""A funded id, its cap, the scale, the voters who paid the cap and the others ({budget: voters});
the cap and budgets are integers in units of 1/scale, made Fractions only for the outcome."""


@dataclass(frozen=True, slots=True)
class _Run:
    """One MES run (step 3 of section 3) at one start share.

    `order` lists the funded ids; `steps` says who paid what, for an exact run (`_mes`), and is
    None for a float run (`_frun`), which knows the outcome but not the payments. `highs[j]` is
    an upper bound (a float) of the rho at which `order[j]` was funded, `exacts[j]` that rho
    exactly where known (always, in an exact run): cap / cost, a pure number, the same in any
    unit. `certified`: the run passed the certificate against a run at a smaller share, so
    every share between the two gives this outcome (see `_add1`).
    """

    share: Fraction
    steps: list[_Step] | None
    order: tuple[str, ...]
    highs: list[float]
    exacts: list[Fraction | None]
    spent: Fraction
    certified: bool


def _cap(bs: list[int], ws: list[int], c: int, weight: int, lower: Fraction) -> Fraction | None:
    """The smallest x with `sum(w * min(b, x)) == c` over the supporters, None if unaffordable.

    Budgets `bs` (with voters `ws`, `weight` in all) and cost `c` are integers; `lower <= x`.
    Sorted by budget, with the poorest k paying all they have, x is `(c - paid_k) / rest_k`
    for the first k where `b_k * rest_k >= c - paid_k` (this grows with k, so bisect). Only
    budgets under a threshold t are sorted: if x <= t, everyone above t pays x; if not, they
    were all poor and `(c - paid) / rest` is a better lower bound for the next round.
    """
    if min(bs) * weight >= c:  # nobody runs out: each pays c / |S_p|
        return Fraction(c, weight)
    if sum(map(mul, bs, ws)) < c:
        return None  # all they have is not enough (found before any sorting)
    paid, rest = 0, weight  # voters known to be poor: what they pay; the others' weight
    while True:
        t = -((-3 * lower.numerator) // (2 * lower.denominator))  # ceil(1.5 * lower)
        low = list(map(t.__gt__, bs))
        lb, lw = list(compress(bs, low)), list(compress(ws, low))
        order = sorted(range(len(lb)), key=lb.__getitem__)
        sb, sw = list(map(lb.__getitem__, order)), list(map(lw.__getitem__, order))
        ps = list(accumulate(map(mul, sb, sw), initial=paid))
        rs = list(accumulate(sw, sub, initial=rest))
        k = bisect_left(range(len(sb)), True, key=lambda k: sb[k] * rs[k] >= c - ps[k])
        paid, rest = ps[k], rs[k]
        if not rest:
            return None  # everyone gives all they have and it is not enough
        if k < len(sb) or c - paid <= t * rest:
            return Fraction(c - paid, rest)
        high = list(map(not_, low))
        bs, ws = list(compress(bs, high)), list(compress(ws, high))
        lower = Fraction(c - paid, rest)


def _mes(
    problem: _Problem, share: Fraction, against: _Run | None = None, *, probe: bool = False
) -> _Run | None:
    """Step 3 of section 3 at share s, exactly, on integers; with `against` (a run at a smaller
    share a), also the certificate that every share in [a, s] gives this run's outcome.

    The affordable proposal with the smallest `rho` is found lazily: `rho` only grows as budgets
    shrink, so a heap keyed by (last known rho, tie rank) pops a proposal whose recomputed key is
    unchanged only when it is the true minimum. Budgets are integers in units of 1/scale; a cap
    that is not a whole number of units starts a new epoch with a finer scale, and a budget
    written in epoch e is multiplied by `factor[e]` when read, instead of rescaling them all.
    A proposal whose supporters hold less than its cost at the start never enters the heap.

    The certificate (why it suffices: `_add1`) holds when the run funds the same proposals in
    the same order as `against`, and at each step j every proposal still in the running other
    than the funded one has here a (rho, tie rank) above (rho of step j at a, the funded one's
    tie rank). Checking it recomputes only the proposals whose heap key, a lower bound of
    their rho, is below that bar. With `probe`, a run whose certificate fails stops there and
    returns None (nobody needs its outcome); otherwise the result is never None.
    """
    assert against is not None or not probe, "a probe is a run checked against another"
    assert against is None or against.steps is not None, "an exact certificate needs exact rhos"
    scale = math.lcm(share.denominator, *(c.denominator for c in problem.costs.values()))
    budgets = [share.numerator * (scale // share.denominator)] * len(problem.weights)
    epoch = [0] * len(problem.weights)
    factor = [1]  # factor[e]: current scale / scale of epoch e
    cost = {p: int(problem.costs[p] * scale) for p in problem.supporters}  # in epoch 0 units
    # Money only falls during a run: a proposal whose supporters hold less than its cost at the
    # start never becomes affordable, so it stays out (unaffordable: rho infinite).
    start = share.numerator * (scale // share.denominator)
    heap = [
        (Fraction(1, problem.wants[p]) if cost[p] else Fraction(0), problem.rank[p], p)
        for p in problem.supporters
        if problem.wants[p] * start >= cost[p]
    ]
    heapq.heapify(heap)
    steps: list[_Step] = []
    rhos: list[Fraction] = []
    certified = against is not None

    def cap_now(p: str, key: Fraction) -> tuple[Fraction | None, list[int]]:
        """p's cap now in current units (None: unaffordable), and its supporters' budgets."""
        get = problem.gather[p]
        c = cost[p] * factor[0]
        if len(factor) == 1:
            bs = list(get(budgets))
        else:
            bs = list(map(mul, get(budgets), map(factor.__getitem__, get(epoch))))
        return (
            _cap(bs, problem.supporters[p][1], c, problem.wants[p], key * c) if c else Fraction(0)
        ), bs

    while heap:
        key, r, p = heapq.heappop(heap)
        cap, bs = cap_now(p, key)
        if cap is None:
            continue  # unaffordable now, so for the rest of the run
        rho = cap / (cost[p] * factor[0]) if cost[p] else Fraction(0)
        if rho != key:
            heapq.heappush(heap, (rho, r, p))
            continue
        if certified:
            assert against is not None
            j = len(steps)
            certified = j < len(against.order) and against.order[j] == p
            bar = (against.exacts[j], r) if certified else None
            while bar is not None and heap and heap[0][:2] < bar:
                low, r2, q = heapq.heappop(heap)
                cq = cap_now(q, low)[0]
                if cq is None:
                    continue  # unaffordable: out of the running, as in the loop above
                rq = cq / (cost[q] * factor[0]) if cost[q] else Fraction(0)
                heapq.heappush(heap, (rq, r2, q))  # its true rho: a lower bound from now on
                if (rq, r2) < bar:
                    certified, bar = False, None
            if probe and not certified:
                return None
        ks, ws = problem.supporters[p]
        f = cap.denominator
        if f != 1:
            scale *= f
            factor = [v * f for v in factor] + [1]
            bs = list(map(f.__mul__, bs))
        x, now = cap.numerator, len(factor) - 1
        rich = 0
        poor: dict[int, int] = {}
        for k, w, b in zip(ks, ws, bs, strict=True):
            epoch[k] = now
            if b >= x:
                budgets[k] = b - x
                rich += w
            else:
                budgets[k] = 0
                poor[b] = poor.get(b, 0) + w
        steps.append((p, x, scale, rich, poor))
        rhos.append(rho)
    certified = certified and against is not None and len(steps) == len(against.order)
    if probe and not certified:
        return None
    spent = sum((problem.costs[p] for p, *_ in steps), Fraction(0))
    highs = [float(rho) * (1 + 8 * U) for rho in rhos]
    exacts: list[Fraction | None] = list(rhos)
    return _Run(share, steps, tuple(p for p, *_ in steps), highs, exacts, spent, certified)


def _exhaustive(problem: _Problem, run: _Run, pot: Fraction) -> bool:
    """Add1's "exhaustive": every proposal with a WANT is funded or costs more than is left."""
    funded = set(run.order)
    left = pot - run.spent
    return all(p in funded or problem.costs[p] > left for p in problem.supporters)


def _add1(problem: _Problem, pot: Fraction, first: _Run, at: _At | None = None) -> _Run:
    """The Add1 completion (section 3 step 4) from the run at s = B/n: the run at the share at
    which the rule's loop stops, found with work that grows with how often the outcome changes
    on the way (and the log of the stretches between), not with the pot or its unit.

    The loop tries s, s + 1, s + 2, ... and stops at the first s + k whose outcome is exhaustive
    (keeping it) or whose successor's costs more than B (keeping s + k). That test is not
    monotone in k (MES is not budget monotone: a larger share can fund less, and an outcome
    can hold for a few units between two equal ones), so it cannot be bisected. Instead the
    walk passes over stretches [a, b] of shares that `_mes`'s certificate proves all give the
    outcome at a: the loop would pass each of their shares exactly as it passed a (not
    exhaustive; the next one, the same outcome, not overspending).

    Why the certificate proves it, when the runs at a < b fund p_1, ..., p_m in that order:
    by induction on step j, suppose every t in [a, b] funds p_1, ..., p_(j-1) first. Then each
    voter's money before step j does not fall as t rises: it starts at t, and each earlier step
    takes min(money, x_i(t)), where the cap x_i(t) (the least x with sum(min(money, x)) = cost
    over p_i's supporters) can only fall when their money rises, and money - min(money, x) =
    max(money - x, 0) does not fall. So at step j every rho is non-increasing in t, and a
    proposal affordable at some t stays affordable at every larger t. For every t in [a, b]:
    p_j is affordable (it is at a), rho_(p_j)(t) <= rho_(p_j)(a), and every other proposal q
    still in the running has (rho_q(t), rank_q) >= (rho_q(b), rank_q) > (rho_(p_j)(a),
    rank_(p_j)) (the certificate; an unaffordable q counts as rho infinite), so p_j is funded
    at step j. After step m nothing is affordable at b, so nothing is at any t <= b either.

    The walk from a (its outcome not exhaustive): run a + 2 with the certificate against a.
    Certified: move to a + 2. Not: run a + 1, the loop's next step, and stop there if the loop
    would (a + 1 overspends: keep a; a + 1 exhaustive or a + 2 overspends: keep a + 1), else
    move to a + 2, whose run is the loop's next-but-one step: pairs cost at most the runs the
    loop makes (one more where it stops). After CALM certified pairs in a row, look ahead by
    h (4 at first), abandoning a run as soon as its certificate fails: certified, move on (h
    doubles after two in a row); not, halve h, and below 4 go back to pairs. A calm stretch of
    L units costs about 2 log2(L) runs. The certificate compares rhos, pure numbers, so it
    holds or fails alike in pounds and in pence; what grows in pence is the log of a calm
    stretch's length in units (by log2(100), about 7), and the number of runs spent closing
    in on each change of outcome, where the certificate reaches less far the closer it gets.

    `at` makes the runs: `_mes` (the default: exact runs) or `_fast` (float runs, exact where
    they meet a close call). The walk only reads outcomes (funded ids in order, spent) and
    certificates, which a float run gives exactly as the exact run would (`_frun`), so both
    walks stop at the same share; `_exactly` then makes the exact run there.
    """
    at = at or _mes
    run, calm, h, wins = first, 0, 4, 0
    while not _exhaustive(problem, run, pot):
        if calm >= CALM:
            ahead = at(problem, run.share + h, run, probe=True)
            if ahead is not None:
                run, wins = ahead, wins + 1
                if wins >= 2:
                    h, wins = 2 * h, 0
            elif h > 4:
                h, wins = h // 2, 0
            else:
                calm = 0
            continue
        two = at(problem, run.share + 2, run)
        assert two is not None
        if two.certified:
            run, calm = two, calm + 1
            continue
        calm = 0
        one = at(problem, run.share + 1)  # the loop's next run: nothing to certify
        assert one is not None
        if one.spent > pot:
            break
        if two.spent > pot or _exhaustive(problem, one, pot):
            run = one
            break
        run = two
    return run


# --- the float filter (issue 14) ---------------------------------------------------------

# The unit roundoff of IEEE double precision: every float operation below is exact times
# (1 + d) with |d| <= U (round to nearest), and a sum or dot product of m terms >= 0 is off by
# at most m U / (1 - m U) of the exact sum (Higham, Accuracy and Stability, 3.1).
U = 2.0**-53


class _CloseCall(Exception):
    """A float run met a decision whose margin is not beyond its error bound."""


# Why a float run funds what the exact run funds (`_frun`, `_frho`, `_FloatRun`): every
# budget b~ is kept with a bound e >= |b~ - b| on its distance from the exact budget b (U times
# the share at the start: float(share) is correctly rounded). Each decision the exact run makes
# is a comparison (can p's supporters pay c? do they all hold c / W? is p's rho below q's?),
# and the float run takes it only when the float values differ by more than the errors and
# the rounding of the comparison (a relative 3 (m + 2) U for a dot product of m terms >= 0,
# about 3e-13 at m = 1,000: `_Floats.slack`; factors of 4 to 8 U on single operations). So
# every decision it takes is the exact one; each step then funds the same proposal, and the
# new errors are bounded from the cap's bounds: the supporters who certainly held less than
# the cap have 0 in both runs; the others' errors grow by the cap's error and one rounding.
# On random 10,000-voter elections the bounds stay near 1e-11 of a share, and only exact ties
# (two rhos exactly equal, one not 1 / W) and margins closer than that go to the exact run.


@dataclass(frozen=True, slots=True)
class _Floats:
    """A proposal's supporter classes as arrays, for the float runs."""

    classes: npt.NDArray[np.intp]
    weights: npt.NDArray[np.float64]
    weight: int  # its WANTs, W
    cost: float  # within U * cost of the exact cost
    slack: float  # a relative bound on a dot product over its classes: 3 (m + 2) U


# Amounts a float run takes on: far from overflow and from underflow, so that no product or
# sum below leaves the range where rounding is relative (normal doubles reach 2e-308 to 1e308;
# a sum of 10,000 budgets times a weight stays well inside). Anything else runs exactly.
FLOAT_RANGE = (1e-100, 1e100)


def _in_range(x: Fraction) -> bool:
    """x is 0 or within FLOAT_RANGE (compared exactly)."""
    low, high = FLOAT_RANGE
    return not x or Fraction(low) <= x <= Fraction(high)


def _floats(problem: _Problem) -> dict[str, _Floats]:
    """Each supported proposal's classes as arrays; none (so only exact runs) when a cost is
    out of FLOAT_RANGE."""
    if not all(_in_range(problem.costs[p]) for p in problem.supporters):
        return {}
    return {
        p: _Floats(
            np.asarray(ks, dtype=np.intp),
            np.asarray(ws, dtype=np.float64),
            problem.wants[p],
            float(problem.costs[p]),
            3 * (len(ks) + 2) * U,
        )
        for p, (ks, ws) in problem.supporters.items()
    }


@dataclass(frozen=True, slots=True)
class _Rho:
    """What a float run knows of a rho at one moment: the true rho lies in [low, high]; `exact`
    is its exact value when known (everyone can pay cost / W: 1 / W; cost 0: 0). The true cap
    lies in [cap_low, cap_high], and `cap` is the float one the payments use."""

    low: float
    high: float
    exact: Fraction | None
    cap: float
    cap_low: float
    cap_high: float


def _frho(
    f: _Floats, bs: npt.NDArray[np.float64], errors: npt.NDArray[np.float64], emax: float
) -> _Rho | None:
    """The rho of a proposal whose supporter classes hold `bs`, floats within `errors` (by
    class, all of them at most `emax`) of the exact budgets, bounded rigorously; None if it is
    certainly unaffordable.

    The cap is found on the floats by growing the set P of the poor (who pay all they have):
    x = (c - sum(w b over P)) / R, R the weight of the rest. When no supporter's budget lies
    within its error plus d of x, the exact budgets have the same P, so the exact cap is within
    d of x, d being the weighted errors over P divided by R plus the rounding: P's errors pass
    to the rest, they do not multiply. Otherwise the bounds come from f(y) = sum(w min(b, y)),
    exact budgets: cap <= y once f(y) >= c is certain, cap > y once f(y) < c is; the float F(y)
    is within `slack` F(y) and the errors of the classes not certainly above y of f(y).

    Raises:
        _CloseCall: affordability, or the cap's bounds, cannot be decided within the margin.
    """
    c, w = f.cost, f.weight
    if not c:
        return _Rho(0.0, 0.0, Fraction(0), 0.0, 0.0, 0.0)
    if (float(bs.min()) - emax) * w >= c * (1 + 8 * U):  # everyone pays c / W: rho is 1 / W
        r, x = 1.0 / w, c / w
        return _Rho(r * (1 - 4 * U), r * (1 + 4 * U), Fraction(1, w), x, *_widen(x, 0.0))
    ws, slack, blur = f.weights, f.slack, w * emax  # blur: how far errors move any such sum
    total = float(np.dot(bs, ws))
    if total * (1 + slack) + blur < c * (1 - 4 * U):
        return None
    if total * (1 - slack) - blur < c * (1 + 4 * U):
        raise _CloseCall
    x, xf, poor = c / w, c / w, -1.0
    bws = bs * ws
    for _ in range(len(bs) + 1):  # P only grows: at most one round per class
        low = bs < x
        pw = float(np.dot(low, ws))
        if pw == poor:
            break
        poor = pw
        if pw >= w:
            raise _CloseCall
        xf = (c - float(np.dot(bws, low))) / (w - pw)
        x = max(x, xf)  # only rounding makes xf < x
    es = errors[f.classes]
    wes = ws * es
    rest = w - poor
    step = (float(np.dot(wes, low)) * (1 + slack) + 4 * slack * c) / rest + 8 * U * xf
    if float(np.abs(bs - xf).min()) * (1 - 4 * U) > emax + step:
        lo, hi = _widen(xf, step)
        return _Rho(lo / c * (1 - 8 * U), hi / c * (1 + 8 * U), None, xf, lo, hi)
    floor = bs - es  # certainly at most each exact budget
    for _ in range(4):
        hi, lo = x + step, x - step
        f_hi = float(np.dot(np.minimum(bs, hi), ws)) * (1 - slack)
        if f_hi - float(np.dot(wes, floor < hi)) >= c * (1 + 4 * U) and (
            lo <= 0
            or float(np.dot(np.minimum(bs, lo), ws)) * (1 + slack) + float(np.dot(wes, bs < lo))
            < c * (1 - 4 * U)
        ):
            lo = max(lo, 0.0)
            return _Rho(lo / c * (1 - 8 * U), hi / c * (1 + 8 * U), None, x, lo, hi)
        step *= 4
    raise _CloseCall


def _widen(x: float, step: float) -> tuple[float, float]:
    """[x - step, x + step] widened by the rounding of x itself (a few U)."""
    return max(x - step - 8 * U * x, 0.0), x + step + 8 * U * x


def _frun(
    problem: _Problem, share: Fraction, against: _Run | None = None, *, probe: bool = False
) -> _Run | None:
    """`_mes` in floats with rigorous error bounds: the same outcome (funded ids in order,
    spent) and certificate, never the payments (`steps` is None).

    Every budget is a float within a known error of its exact value (`_FloatRun.errors`), so
    every rho is known as an interval (`_frho`). A proposal is funded only when its interval
    lies below every other candidate's lower bound (or both rhos are exact and equal, and its
    tie rank is lower): then the exact run funds the same at that step, and by induction the
    exact run funds the same proposals in the same order. Anything closer raises `_CloseCall`
    (the caller reruns exactly). The certificate against a run at a smaller share is `_mes`'s,
    with "above" meaning above that run's upper bound for the step's rho (or exactly equal with
    a higher tie rank), so a float certificate proves what an exact one would.

    Raises:
        _CloseCall: a decision too close for the floats.
    """
    assert against is not None or not probe, "a probe is a run checked against another"
    if len(problem.floats) != len(problem.supporters) or not _in_range(share):
        raise _CloseCall  # amounts out of FLOAT_RANGE: only exact runs
    run = _FloatRun(problem, share)
    certified = against is not None
    while (p := run.lead()) is not None:
        rho = run.fresh(p)
        assert rho is not None
        if certified:
            assert against is not None
            certified = run.certify(against, p)
            if probe and not certified:
                return None
        run.fund(p, rho)
    certified = certified and against is not None and len(run.order) == len(against.order)
    if probe and not certified:
        return None
    spent = sum((problem.costs[p] for p in run.order), Fraction(0))
    return _Run(share, None, tuple(run.order), run.highs, run.exacts, spent, certified)


class _FloatRun:
    """The state of one float run: budgets and their error bounds by voter class, the lazy
    heap of (lower bound of rho, tie rank, id), and what is funded so far."""

    def __init__(self, problem: _Problem, share: Fraction) -> None:
        self.problem, self.arrays, self.t = problem, problem.floats, float(share)
        self.budgets = np.full(len(problem.weights), self.t)
        self.emax = U * self.t  # float(share) is correctly rounded; emax bounds every error
        self.errors = np.full(len(problem.weights), self.emax)
        self.heap: list[tuple[float, int, str]] = []
        for p, f in self.arrays.items():
            money = f.weight * self.t  # within 3 U of W * share: exactly compared if that close
            if abs(money - f.cost) <= 8 * U * max(money, f.cost):
                affordable = f.weight * share >= problem.costs[p]
            else:
                affordable = money >= f.cost
            if affordable:  # W * share < cost: never affordable in this run, as in `_mes`
                key = (1.0 / f.weight) * (1 - 4 * U) if f.cost else 0.0
                self.heap.append((key, problem.rank[p], p))
        heapq.heapify(self.heap)
        self.known: dict[str, tuple[int, _Rho]] = {}  # p -> (step computed at, its rho)
        self.held: dict[str, npt.NDArray[np.float64]] = {}  # p -> its classes' budgets then
        self.order: list[str] = []
        self.highs: list[float] = []
        self.exacts: list[Fraction | None] = []

    def fresh(self, p: str) -> _Rho | None:
        """p's rho if computed since the last funding."""
        got = self.known.get(p)
        return got[1] if got is not None and got[0] == len(self.order) else None

    def refresh(self) -> bool:
        """Recompute the top of the heap; False if it is unaffordable now (dropped: money
        only falls during a run)."""
        key, r, p = heapq.heappop(self.heap)
        f = self.arrays[p]
        bs = self.budgets[f.classes]
        rho = _frho(f, bs, self.errors, self.emax)
        if rho is None:
            return False
        self.known[p] = (len(self.order), rho)
        self.held[p] = bs  # what its supporters hold until the next funding
        # An exact rho gets the same key as every equal one, so the heap orders them by rank.
        heapq.heappush(self.heap, (rho.low if rho.exact is not None else max(key, rho.low), r, p))
        return True

    def lead(self) -> str | None:
        """The proposal the exact run funds next, popped from the heap; None when nothing is
        affordable. Its rho is fresh and certainly below every other candidate's."""
        heap = self.heap
        while heap and self.fresh(heap[0][2]) is None:
            self.refresh()
        if not heap:
            return None
        _, r, p = heapq.heappop(heap)
        rho = self.fresh(p)
        assert rho is not None
        while heap:
            key2, r2, q = heap[0]
            if rho.high < key2:
                break
            other = self.fresh(q)
            if other is None:
                self.refresh()
                continue
            if rho.exact is None or other.exact is None or (rho.exact, r) > (other.exact, r2):
                raise _CloseCall
            break  # equal exact rhos: p's tie rank is lower
        return p

    def certify(self, against: _Run, p: str) -> bool:
        """`_mes`'s certificate at this step (p just led): `against` funded p here too, and
        every other candidate's (rho, tie rank) is above (against's rho here, p's rank)."""
        j, r = len(self.order), self.problem.rank[p]
        if j >= len(against.order) or against.order[j] != p:
            return False
        bar, bar_exact = against.highs[j], against.exacts[j]
        heap, checked, certified = self.heap, [], True
        while heap and heap[0][0] <= bar:
            q = heap[0][2]
            other = self.fresh(q)
            if other is None:
                self.refresh()
                continue  # recomputed or dropped: look at the top again
            entry = heapq.heappop(heap)
            checked.append(entry)
            exact_above = (
                other.exact is not None
                and bar_exact is not None
                and (other.exact, entry[1]) > (bar_exact, r)
            )
            if not (other.low > bar or exact_above):
                certified = False
                break
        for entry in checked:
            heapq.heappush(heap, entry)
        return certified

    def fund(self, p: str, rho: _Rho) -> None:
        """Fund p: who certainly had less than the cap pays all and is left with 0, exactly,
        in both runs; the others' errors grow by the cap's and by the subtraction's rounding."""
        f = self.arrays[p]
        if rho.cap:
            bs = self.held[p]  # rho is fresh: computed on the budgets as they are
            slip = max(rho.cap_high - rho.cap, rho.cap - rho.cap_low) + U * self.t
            if rho.exact is not None:  # everyone certainly holds more than the cap
                self.budgets[f.classes] = bs - rho.cap
                self.errors[f.classes] += slip
            else:
                es = self.errors[f.classes]
                self.budgets[f.classes] = np.maximum(bs - rho.cap, 0.0)
                poor = bs + es <= rho.cap_low * (1 - 4 * U)  # the margin: the sum rounds
                self.errors[f.classes] = np.where(poor, 0.0, es + slip)
            self.emax += slip
        self.order.append(p)
        self.highs.append(rho.high)
        self.exacts.append(rho.exact)


_At = Callable[..., "_Run | None"]
"""How `_add1` runs MES at a share: `_mes` (exact) or `_fast` (float, exact where close)."""


def _fast(
    problem: _Problem, share: Fraction, against: _Run | None = None, *, probe: bool = False
) -> _Run | None:
    """`_frun`, or where a float run meets a close call the exact run (uncertified: a probe
    then returns None, a walk then takes the loop's own steps)."""
    try:
        return _frun(problem, share, against, probe=probe)
    except _CloseCall:
        if probe:
            return None
        exact = against if against is not None and against.steps is not None else None
        return _mes(problem, share, exact)


def _exactly(problem: _Problem, pot: Fraction, share: Fraction, run: _Run) -> _Run:
    """The exact run at the share the float walk stopped at, with who paid what.

    Its outcome is the float run's (the bounds in `_frun` guarantee it). Should they ever
    disagree, the float walk is not trusted at all: the exact walk decides instead.
    """
    if run.steps is not None:
        return run
    exact = _mes(problem, run.share)
    assert exact is not None
    if exact.order == run.order:
        return exact
    first = _mes(problem, share)
    assert first is not None
    return _add1(problem, pot, first)


def equal_shares(
    voters: Sequence[frozenset[str]],
    costs: Mapping[str, Number],
    budget: Number,
    *,
    completion: Completion = "add1",
    tie_break: Sequence[str] = (),
) -> BudgetOutcome:
    """MES with cost utilities and a completion (see the module docstring) on `voters`' approval
    sets (voters approving nothing count in n); every approved id must have a cost."""
    if completion not in COMPLETIONS:
        raise ValueError(f"completion must be one of {COMPLETIONS}, not {completion!r}")
    pot = amount(budget)
    problem = _prepare(voters, costs, tie_break)
    n = len(voters)
    share = pot / n if n else Fraction(0)
    if completion == "none":
        run = _mes(problem, share)
    else:
        first = _fast(problem, share)
        assert first is not None
        run = _exactly(problem, pot, share, _add1(problem, pot, first, _fast))
    assert run is not None
    return _outcome(problem, run, pot, n, completion)


def _outcome(
    problem: _Problem, run: _Run, pot: Fraction, n: int, completion: Completion
) -> BudgetOutcome:
    """The outcome of `run`, the MES run kept (with `add1+greedy`, then the greedy part)."""
    spent = run.spent
    details = []
    assert run.steps is not None, "an outcome is read from an exact run"
    for p, x, scale, rich, poor in run.steps:
        groups = Counter({Fraction(x, scale): rich} if rich else {})
        for b, w in poor.items():
            groups[Fraction(b, scale)] += w
        paid = tuple(sorted(groups.items(), reverse=True))
        details.append(Funded(p, problem.costs[p], problem.wants[p], paid, "mes"))
    if completion == "add1+greedy":
        for p in problem.greedy_order:
            if p not in {d.id for d in details} and problem.costs[p] <= pot - spent:
                details.append(Funded(p, problem.costs[p], problem.wants[p], (), "greedy"))
                spent += problem.costs[p]
    return BudgetOutcome(
        funded=tuple(d.id for d in details),
        details=tuple(details),
        payments=MappingProxyType({d.id: d.cost for d in details}),
        supporters=MappingProxyType(dict(problem.wants)),
        share=run.share,
        budget=pot,
        spent=spent,
        left=pot - spent,
        voters=n,
        completion=completion,
    )


def greedy(
    voters: Sequence[frozenset[str]],
    costs: Mapping[str, Number],
    budget: Number,
    *,
    tie_break: Sequence[str] = (),
) -> tuple[str, ...]:
    """The "most WANTs first" comparison: fund by WANT count, skipping what no longer fits
    (ties: lower cost, then the drawn order). Proposals nobody WANTs are never funded."""
    pot = amount(budget)
    problem = _prepare(voters, costs, tie_break)
    funded: list[str] = []
    for p in problem.greedy_order:
        if problem.costs[p] <= pot:
            funded.append(p)
            pot -= problem.costs[p]
    return tuple(funded)


# --- the section 3 pipeline on a counted round --------------------------------------------


def eligible(
    result: tally.RoundResult, costs: Mapping[str, Number | None], kinds: Mapping[str, str]
) -> dict[str, Fraction]:
    """Section 3 step 1: the `fund` proposals with a cost that are neither REJECTED nor
    CONTESTED because an affected group objects, with their costs."""
    return {
        r.id: amount(cost)
        for r in result.proposals
        if kinds.get(r.id) == "fund"
        and (cost := costs.get(r.id)) is not None
        and r.outcome.category is not tally.Category.REJECTED
        and r.outcome.reason is not tally.Reason.AFFECTED_GROUP_OBJECTS
    }


def approval_profile(
    result: tally.RoundResult,
    ballots: Sequence[tally.VoterBallot],
    costs: Mapping[str, Number | None],
    kinds: Mapping[str, str],
) -> tuple[tuple[frozenset[str], ...], dict[str, Fraction]]:
    """Section 3 steps 1-2: every active voter's WANTs on eligible proposals, and their costs.

    DON'T WANT and NEUTRAL marks never enter; an active voter who WANTs nothing eligible still
    counts (an empty set).
    """
    chosen = eligible(result, costs, kinds)
    active = [b.marks for b in ballots if b.marks]
    if any(len(active) != r.counts.V for r in result.proposals):
        raise ValueError(f"the result's V does not match the {len(active)} active ballots")
    ids = {r.id for r in result.proposals}
    if any(not marks.keys() <= ids for marks in active):
        raise ValueError("a ballot marks a proposal that is not in the result")
    voters = tuple(
        frozenset(p for p, m in marks.items() if tally.Mark(m) is tally.Mark.WANT and p in chosen)
        for marks in active
    )
    return voters, chosen


def budget_round(
    result: tally.RoundResult,
    ballots: Sequence[tally.VoterBallot],
    costs: Mapping[str, Number | None],
    kinds: Mapping[str, str],
    budget: Number,
    *,
    completion: Completion = "add1",
    tie_break: Sequence[str] = (),
) -> BudgetOutcome:
    """Section 3 on a counted round: the rule's gate, then `equal_shares` over the active voters.

    The comparison column is `greedy(*approval_profile(...), budget, tie_break=...)`.
    """
    voters, chosen = approval_profile(result, ballots, costs, kinds)
    return equal_shares(voters, chosen, budget, completion=completion, tie_break=tie_break)


# --- savings target ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SavingsOutcome:
    """The cuts taken towards a savings target, in order, and how far they got.

    `accepted` lists every saving the room accepted (REJECTED `keep` with a saving) in cut
    order; `cuts` is the part of it taken, up to and including the one that reaches `target`.
    """

    target: Fraction
    accepted: tuple[str, ...]
    cuts: tuple[str, ...]
    savings: Mapping[str, Fraction]  # accepted id -> its saving
    total: Fraction  # of the cuts
    shortfall: Fraction  # 0 when the target is reached


def savings_cuts(
    result: tally.RoundResult,
    savings: Mapping[str, Number | None],
    kinds: Mapping[str, str],
    target: Number,
    *,
    tie_break: Sequence[str] = (),
) -> SavingsOutcome:
    """Section 2 "Savings target T": cuts only from REJECTED `keep` proposals with a saving,
    by (D - W)/V descending, then larger saving, then the drawn order, until the total reaches
    T. PROTECTED (indeed any proposal not REJECTED) is never cut."""
    goal = amount(target)
    exact = {pid: amount(x) for pid, x in savings.items() if x is not None}
    accepted = [
        r
        for r in result.proposals
        if kinds.get(r.id) == "keep" and r.id in exact
        if r.outcome.category is tally.Category.REJECTED
    ]
    drawn = _drawn(tie_break)
    accepted.sort(
        key=lambda r: (-Fraction(r.counts.D - r.counts.W, r.counts.V), -exact[r.id], drawn(r.id))
    )
    cuts: list[str] = []
    total = Fraction(0)
    for r in accepted:
        if total >= goal:
            break
        cuts.append(r.id)
        total += exact[r.id]
    return SavingsOutcome(
        target=goal,
        accepted=tuple(r.id for r in accepted),
        cuts=tuple(cuts),
        savings=MappingProxyType({r.id: exact[r.id] for r in accepted}),
        total=total,
        shortfall=max(goal - total, Fraction(0)),
    )


# --- public records ----------------------------------------------------------------------


def amount_to_json(x: Fraction) -> int | str:
    """An exact amount for JSON: an int when whole, else a string: the decimal ("12.5") when it
    has one, else "p/q" ("100/3"). `Fraction(str(v))` reads any of them back."""
    d = x.denominator
    if d == 1:
        return x.numerator
    k = next((k for k in range(1, d.bit_length() + 1) if 10**k % d == 0), 0)
    if not k:
        return str(x)
    digits = str(abs(x.numerator) * 10**k // d).rjust(k + 1, "0")
    return f"{'-' if x < 0 else ''}{digits[:-k]}.{digits[-k:]}"


def budget_to_json(o: BudgetOutcome, greedy_ids: Sequence[str]) -> BudgetRecord:
    """The public record of a budget round.

    Shape: `{"budget", "completion", "voters", "share", "funded": [id, ...] (selection order),
    "greedy": [id, ...], "spent", "left", "proposals": [{"id", "cost", "supporters", "by",
    "paid": [{"amount", "voters"}]}]}`, amounts as `amount_to_json`.
    """
    return {
        "budget": amount_to_json(o.budget),
        "completion": o.completion,
        "voters": o.voters,
        "share": amount_to_json(o.share),
        "funded": list(o.funded),
        "greedy": list(greedy_ids),
        "spent": amount_to_json(o.spent),
        "left": amount_to_json(o.left),
        "proposals": [
            {
                "id": d.id,
                "cost": amount_to_json(d.cost),
                "supporters": d.supporters,
                "by": d.by,
                "paid": [{"amount": amount_to_json(a), "voters": v} for a, v in d.paid],
            }
            for d in o.details
        ],
    }


def funding_keys(record: BudgetRecord) -> FundingKeys:
    """`budget_to_json`'s record as a budget round's results and `covote recount --pb` publish
    it: the same keys in the same order, the per-proposal list under `funding` (last)."""
    return {
        "budget": record["budget"],
        "completion": record["completion"],
        "voters": record["voters"],
        "share": record["share"],
        "funded": record["funded"],
        "greedy": record["greedy"],
        "spent": record["spent"],
        "left": record["left"],
        "funding": record["proposals"],
    }


def savings_to_json(o: SavingsOutcome) -> SavingsRecord:
    """The public record of a savings target: `{"target", "cuts": [id, ...] (in order),
    "accepted": [id, ...], "savings": {id: amount}, "total", "shortfall"}`, amounts as
    `amount_to_json`."""
    return {
        "target": amount_to_json(o.target),
        "cuts": list(o.cuts),
        "accepted": list(o.accepted),
        "savings": {pid: amount_to_json(s) for pid, s in o.savings.items()},
        "total": amount_to_json(o.total),
        "shortfall": amount_to_json(o.shortfall),
    }
