"""A frozen copy of `app.rules.budget`'s Method of Equal Shares as it was before issue 14's
faster runs (main at b685357): a test-only oracle for the randomised differential test in
tests/test_budget_fast.py. Do not change it to follow the product: it is what the product
must keep equalling, outcome for outcome, payment for payment.

Its own contract, as it stood:
The budget variant of the rule: Method of Equal Shares, greedy, and savings targets.

Contract (../shared/voting-rule.md section 3 and the savings target of section 2, copied into
tests/vectors/budget.json):

* Pure: no I/O, no clock, no floats. Every amount is an exact `Fraction`; inputs may be `int`,
  `Fraction` or `float`, and a float is read through its shortest repr (`Fraction(str(x))`, so
  0.1 is 1/10). Negative or non-finite amounts, bools and unknown proposal ids raise `ValueError`
  (bad types `TypeError`); nothing is guessed.
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
    return _Problem(exact, wants, weights, members, rank, by_wants, gather)


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

    `rhos[j]` is the rho at which `steps[j]` was funded: cap / cost, a pure number, the same in
    any unit. `certified`: the run passed `_mes`'s certificate against a run at a smaller share,
    so every share between the two gives this outcome (see `_add1`).
    """

    share: Fraction
    steps: list[_Step]
    rhos: list[Fraction]
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

    The certificate (why it suffices: `_add1`) holds when the run funds the same proposals in
    the same order as `against`, and at each step j every proposal still in the running other
    than the funded one has here a (rho, tie rank) above (rho of step j at a, the funded one's
    tie rank). Checking it recomputes only the proposals whose heap key, a lower bound of
    their rho, is below that bar. With `probe`, a run whose certificate fails stops there and
    returns None (nobody needs its outcome); otherwise the result is never None.
    """
    assert against is not None or not probe, "a probe is a run checked against another"
    scale = math.lcm(share.denominator, *(c.denominator for c in problem.costs.values()))
    budgets = [share.numerator * (scale // share.denominator)] * len(problem.weights)
    epoch = [0] * len(problem.weights)
    factor = [1]  # factor[e]: current scale / scale of epoch e
    cost = {p: int(problem.costs[p] * scale) for p in problem.supporters}  # in epoch 0 units
    heap = [
        (Fraction(1, problem.wants[p]) if cost[p] else Fraction(0), problem.rank[p], p)
        for p in problem.supporters
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
            certified = j < len(against.steps) and against.steps[j][0] == p
            bar = (against.rhos[j], r) if certified else None
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
    certified = certified and against is not None and len(steps) == len(against.steps)
    if probe and not certified:
        return None
    spent = sum((problem.costs[p] for p, *_ in steps), Fraction(0))
    return _Run(share, steps, rhos, spent, certified)


def _exhaustive(problem: _Problem, run: _Run, pot: Fraction) -> bool:
    """Add1's "exhaustive": every proposal with a WANT is funded or costs more than is left."""
    funded = {p for p, *_ in run.steps}
    left = pot - run.spent
    return all(p in funded or problem.costs[p] > left for p in problem.supporters)


def _add1(problem: _Problem, pot: Fraction, first: _Run) -> _Run:
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
    """
    run, calm, h, wins = first, 0, 4, 0
    while not _exhaustive(problem, run, pot):
        if calm >= CALM:
            ahead = _mes(problem, run.share + h, run, probe=True)
            if ahead is not None:
                run, wins = ahead, wins + 1
                if wins >= 2:
                    h, wins = 2 * h, 0
            elif h > 4:
                h, wins = h // 2, 0
            else:
                calm = 0
            continue
        two = _mes(problem, run.share + 2, run)
        assert two is not None
        if two.certified:
            run, calm = two, calm + 1
            continue
        calm = 0
        one = _mes(problem, run.share + 1, run)
        assert one is not None
        if one.spent > pot:
            break
        if two.spent > pot or _exhaustive(problem, one, pot):
            run = one
            break
        run = two
    return run


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
    first = _mes(problem, pot / n if n else Fraction(0))
    assert first is not None
    run = first if completion == "none" else _add1(problem, pot, first)
    return _outcome(problem, run, pot, n, completion)


def _outcome(
    problem: _Problem, run: _Run, pot: Fraction, n: int, completion: Completion
) -> BudgetOutcome:
    """The outcome of `run`, the MES run kept (with `add1+greedy`, then the greedy part)."""
    spent = run.spent
    details = []
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
