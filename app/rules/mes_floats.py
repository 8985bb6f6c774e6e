"""Method of Equal Shares in floats, with proven error bounds: the filter that makes Add1 fast.

Contract: pure. `float_run` is `mes.exact_run` on numpy floats: it funds the same proposals in
the same order with the same certificate, or raises `CloseCall` where a decision's margin is
not beyond its error bound; it knows the outcome, not the payments. `fast` is the run `mes.add1`
walks with (a float run, the exact one at a close call); `exactly` makes the exact run at the
share the walk stopped at. No float ever decides a result.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from app.rules import mes
from app.rules.mes import Problem, Run, U


class CloseCall(Exception):
    """A float run met a decision whose margin is not beyond its error bound."""


# Why a float run funds what the exact run funds (`float_run`, `frho`, `_FloatRun`): every
# budget b~ is kept with a bound e >= |b~ - b| on its distance from the exact budget b (U times
# the share at the start: float(share) is correctly rounded). Each decision the exact run makes
# is a comparison (can p's supporters pay c? do they all hold c / W? is p's rho below q's?),
# and the float run takes it only when the float values differ by more than the errors and
# the rounding of the comparison (a relative 3 (m + 2) U for a dot product of m terms >= 0,
# about 3e-13 at m = 1,000: `Floats.slack`; factors of 4 to 8 U on single operations). So
# every decision it takes is the exact one; each step then funds the same proposal, and the
# new errors are bounded from the cap's bounds: the supporters who certainly held less than
# the cap have 0 in both runs; the others' errors grow by the cap's error and one rounding.
# On random 10,000-voter elections the bounds stay near 1e-11 of a share, and only exact ties
# (two rhos exactly equal, one not 1 / W) and margins closer than that go to the exact run.


@dataclass(frozen=True, slots=True)
class Floats:
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


def arrays(problem: Problem) -> dict[str, Floats]:
    """Each supported proposal's classes as arrays; none (so only exact runs) when a cost is
    out of FLOAT_RANGE."""
    if not all(_in_range(problem.costs[p]) for p in problem.supporters):
        return {}
    return {
        p: Floats(
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


def frho(
    f: Floats, bs: npt.NDArray[np.float64], errors: npt.NDArray[np.float64], emax: float
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
        CloseCall: affordability, or the cap's bounds, cannot be decided within the margin.
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
        raise CloseCall
    x, xf, poor = c / w, c / w, -1.0
    bws = bs * ws
    for _ in range(len(bs) + 1):  # P only grows: at most one round per class
        low = bs < x
        pw = float(np.dot(low, ws))
        if pw == poor:
            break
        poor = pw
        if pw >= w:
            raise CloseCall
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
    raise CloseCall


def _widen(x: float, step: float) -> tuple[float, float]:
    """[x - step, x + step] widened by the rounding of x itself (a few U)."""
    return max(x - step - 8 * U * x, 0.0), x + step + 8 * U * x


def float_run(
    problem: Problem, share: Fraction, against: Run | None = None, *, probe: bool = False
) -> Run | None:
    """`exact_run` in floats with rigorous error bounds: the same outcome (funded ids in order,
    spent) and certificate, never the payments (`steps` is None).

    Every budget is a float within a known error of its exact value (`_FloatRun.errors`), so
    every rho is known as an interval (`frho`). A proposal is funded only when its interval
    lies below every other candidate's lower bound (or both rhos are exact and equal, and its
    tie rank is lower): then the exact run funds the same at that step, and by induction the
    exact run funds the same proposals in the same order. Anything closer raises `CloseCall`
    (the caller reruns exactly). The certificate against a run at a smaller share is `exact_run`'s,
    with "above" meaning above that run's upper bound for the step's rho (or exactly equal with
    a higher tie rank), so a float certificate proves what an exact one would.

    Raises:
        CloseCall: a decision too close for the floats.
    """
    assert against is not None or not probe, "a probe is a run checked against another"
    if len(problem.floats) != len(problem.supporters) or not _in_range(share):
        raise CloseCall  # amounts out of FLOAT_RANGE: only exact runs
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
    return Run(share, None, tuple(run.order), run.highs, run.exacts, spent, certified)


class _FloatRun:
    """The state of one float run: budgets and their error bounds by voter class, the lazy
    heap of (lower bound of rho, tie rank, id), and what is funded so far."""

    def __init__(self, problem: Problem, share: Fraction) -> None:
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
            if affordable:  # W * share < cost: never affordable in this run, as in `exact_run`
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
        rho = frho(f, bs, self.errors, self.emax)
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
                raise CloseCall
            break  # equal exact rhos: p's tie rank is lower
        return p

    def certify(self, against: Run, p: str) -> bool:
        """`exact_run`'s certificate at this step (p just led): `against` funded p here too, and
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


def fast(
    problem: Problem, share: Fraction, against: Run | None = None, *, probe: bool = False
) -> Run | None:
    """`float_run`, or where a float run meets a close call the exact run (uncertified: a probe
    then returns None, a walk then takes the loop's own steps)."""
    try:
        return float_run(problem, share, against, probe=probe)
    except CloseCall:
        if probe:
            return None
        exact = against if against is not None and against.steps is not None else None
        return mes.exact_run(problem, share, exact)


def exactly(problem: Problem, pot: Fraction, share: Fraction, run: Run) -> Run:
    """The exact run at the share the float walk stopped at, with who paid what.

    Its outcome is the float run's (the bounds in `float_run` guarantee it). Should they ever
    disagree, the float walk is not trusted at all: the exact walk decides instead.
    """
    if run.steps is not None:
        return run
    exact = mes.exact_run(problem, run.share)
    assert exact is not None
    if exact.order == run.order:
        return exact
    first = mes.exact_run(problem, share)
    assert first is not None
    return mes.add1(problem, pot, first)
