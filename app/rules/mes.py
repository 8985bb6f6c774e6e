"""Method of Equal Shares, run exactly: the engine under `app/rules/budget.py`.

Contract: pure (no I/O, no clock), every amount an exact `Fraction` (`amount` reads inputs).
`prepare` merges voters with the same WANTs into classes (`Problem`); `exact_run` is one MES run
(section 3 step 3 of ../shared/voting-rule.md) at one start share, on integers, with who paid
what, and optionally the certificate that a stretch of shares gives its outcome; `add1` is the
Add1 completion's walk over the shares, with work that grows with how often the outcome changes,
not with the pot or its unit. `app/rules/mes_floats.py` gives `add1` float runs that decide
exactly as these do; `app/rules/budget.py` puts the two together behind `equal_shares`.
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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.rules.mes_floats import Floats

# The unit roundoff of IEEE double precision: every float operation below is exact times
# (1 + d) with |d| <= U (round to nearest), and a sum or dot product of m terms >= 0 is off by
# at most m U / (1 - m U) of the exact sum (Higham, Accuracy and Stability, 3.1).
U = 2.0**-53

Number = int | float | Fraction

# Add1's walk (`add1`) runs shares two units apart until CALM such pairs in a row kept the
# outcome, and only then looks further ahead. Where the outcome changes every few units (10,000
# voters x 100 proposals: every 3.5 on average), a look-ahead fails three times in four, and a
# failed one is most of a run wasted; a failed pair wastes nothing (see `add1`).
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


def tie_order(tie_break: Sequence[str]) -> Callable[[str], tuple[int, int, str]]:
    """Sort key for the drawn order; ids it does not name come after it, by id."""
    order: dict[str, int] = {}
    for position, pid in enumerate(tie_break):
        order.setdefault(pid, position)
    return lambda pid: (0, order[pid], "") if pid in order else (1, 0, pid)


@dataclass(frozen=True, slots=True)
class Problem:
    """An election prepared for MES: voters merged into classes with identical approvals."""

    costs: dict[str, Fraction]
    wants: dict[str, int]
    weights: list[int]  # voters per class
    supporters: dict[str, tuple[list[int], list[int]]]  # supported id -> (classes, weights)
    rank: dict[str, int]  # MES tie order: lower cost, more WANTs, drawn order
    greedy_order: list[str]  # supported ids: more WANTs, lower cost, drawn order
    gather: dict[str, Callable[[list[int]], tuple[int, ...]]]  # supported id -> its classes' items
    floats: dict[str, Floats]  # supported id -> its classes as arrays, for `float_run`


def prepare(
    voters: Sequence[frozenset[str]], costs: Mapping[str, Number], tie_break: Sequence[str]
) -> Problem:
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
    drawn = tie_order(tie_break)
    by_cost = sorted(members, key=lambda p: (exact[p], -wants[p], drawn(p)))
    by_wants = sorted(members, key=lambda p: (-wants[p], exact[p], drawn(p)))
    rank = {pid: r for r, pid in enumerate(by_cost)}
    gather = {pid: _gatherer(ks) for pid, (ks, _) in members.items()}
    problem = Problem(exact, wants, weights, members, rank, by_wants, gather, {})
    return problem


def _gatherer(ks: list[int]) -> Callable[[list[int]], tuple[int, ...]]:
    """A function picking items `ks` of a list, as a tuple (`itemgetter` loops in C, but gives
    a bare item, not a tuple, for a single index)."""
    if len(ks) == 1:
        k = ks[0]
        return lambda xs: (xs[k],)
    return itemgetter(*ks)


Step = tuple[str, int, int, int, dict[int, int]]
"""A funded id, its cap, the scale, the voters who paid the cap and the others ({budget: voters});
the cap and budgets are integers in units of 1/scale, made Fractions only for the outcome."""


@dataclass(frozen=True, slots=True)
class Run:
    """One MES run (step 3 of section 3) at one start share.

    `order` lists the funded ids; `steps` says who paid what, for an exact run (`exact_run`), and is
    None for a float run (`float_run`), which knows the outcome but not the payments. `highs[j]` is
    an upper bound (a float) of the rho at which `order[j]` was funded, `exacts[j]` that rho
    exactly where known (always, in an exact run): cap / cost, a pure number, the same in any
    unit. `certified`: the run passed the certificate against a run at a smaller share, so
    every share between the two gives this outcome (see `add1`).
    """

    share: Fraction
    steps: list[Step] | None
    order: tuple[str, ...]
    highs: list[float]
    exacts: list[Fraction | None]
    spent: Fraction
    certified: bool


def least_cap(
    bs: list[int], ws: list[int], c: int, weight: int, lower: Fraction
) -> Fraction | None:
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


def exact_run(
    problem: Problem, share: Fraction, against: Run | None = None, *, probe: bool = False
) -> Run | None:
    """Step 3 of section 3 at share s, exactly, on integers; with `against` (a run at a smaller
    share a), also the certificate that every share in [a, s] gives this run's outcome.

    The affordable proposal with the smallest `rho` is found lazily: `rho` only grows as budgets
    shrink, so a heap keyed by (last known rho, tie rank) pops a proposal whose recomputed key is
    unchanged only when it is the true minimum. Budgets are integers in units of 1/scale; a cap
    that is not a whole number of units starts a new epoch with a finer scale, and a budget
    written in epoch e is multiplied by `factor[e]` when read, instead of rescaling them all.
    A proposal whose supporters hold less than its cost at the start never enters the heap.

    The certificate (why it suffices: `add1`) holds when the run funds the same proposals in
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
    steps: list[Step] = []
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
            least_cap(bs, problem.supporters[p][1], c, problem.wants[p], key * c)
            if c
            else Fraction(0)
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
    return Run(share, steps, tuple(p for p, *_ in steps), highs, exacts, spent, certified)


def exhaustive(problem: Problem, run: Run, pot: Fraction) -> bool:
    """Add1's "exhaustive": every proposal with a WANT is funded or costs more than is left."""
    funded = set(run.order)
    left = pot - run.spent
    return all(p in funded or problem.costs[p] > left for p in problem.supporters)


At = Callable[..., "Run | None"]
"""How `add1` runs MES at a share: `exact_run` (exact) or `mes_floats.fast` (float, exact where
close)."""


def add1(problem: Problem, pot: Fraction, first: Run, at: At | None = None) -> Run:
    """The Add1 completion (section 3 step 4) from the run at s = B/n: the run at the share at
    which the rule's loop stops, found with work that grows with how often the outcome changes
    on the way (and the log of the stretches between), not with the pot or its unit.

    The loop tries s, s + 1, s + 2, ... and stops at the first s + k whose outcome is exhaustive
    (keeping it) or whose successor's costs more than B (keeping s + k). That test is not
    monotone in k (MES is not budget monotone: a larger share can fund less, and an outcome
    can hold for a few units between two equal ones), so it cannot be bisected. Instead the
    walk passes over stretches [a, b] of shares that `exact_run`'s certificate proves all give the
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

    `at` makes the runs: `exact_run` (the default: exact runs) or `fast` (float runs, exact where
    they meet a close call). The walk only reads outcomes (funded ids in order, spent) and
    certificates, which a float run gives exactly as the exact run would (`float_run`), so both
    walks stop at the same share; `exactly` then makes the exact run there.
    """
    at = at or exact_run
    run, calm, h, wins = first, 0, 4, 0
    while not exhaustive(problem, run, pot):
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
        if two.spent > pot or exhaustive(problem, one, pot):
            run = one
            break
        run = two
    return run
