"""The budget variant of the rule: Method of Equal Shares, greedy, and savings targets.

Contract (../shared/voting-rule.md section 3 and the savings target of section 2, copied into
tests/vectors/budget.json):

* Pure: no I/O, no clock. Every amount is an exact `Fraction`; inputs may be `int`, `Fraction`
  or `float`, and a float is read through its shortest repr (`Fraction(str(x))`, so 0.1 is
  1/10). Negative or non-finite amounts, bools and unknown proposal ids raise `ValueError` (bad
  types `TypeError`); nothing is guessed. No float ever decides a result: Add1's walk runs MES
  in floats (`mes_floats.float_run`) only as a filter whose decisions carry proven error
  bounds, hands every decision closer than its bound to the exact run, and the outcome
  returned, payments and all, is an exact run's (see "Cost"). The exact engine is
  `app/rules/mes.py`, the float filter `app/rules/mes_floats.py`.
* `equal_shares` is MES with cost utilities (section 3 steps 3-5): `n` voters each start with
  `s = B/n`; the affordable proposal with the smallest `rho` is funded, each supporter paying
  `min(b_i, rho * cost)`. Completion `add1` reruns from scratch with `s + 1`, `s + 2`, ... and
  stops at the first exhaustive outcome, or keeps the previous one when an outcome costs more
  than B. The result is exactly that loop's, found without one run per unit (`mes.add1`): the
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
  `mes.add1`). Those runs are float runs (`mes_floats.float_run`): numpy over the voter
  classes (voters with the same WANTs) supporting each proposal whose lazily kept rho is
  recomputed, about 2 ms at 10,000 voters x 100 proposals against 30 ms for an exact run
  (`mes.exact_run`: integers, in Python).
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

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import Literal

from app.core.shapes import BudgetRecord, FundingKeys, SavingsRecord
from app.rules import mes, mes_floats, tally
from app.rules.mes import Number, Problem, Run, amount
from app.rules.mes_floats import arrays

Completion = Literal["add1", "add1+greedy", "none"]
COMPLETIONS: tuple[Completion, ...] = ("add1", "add1+greedy", "none")


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


def prepare(
    voters: Sequence[frozenset[str]], costs: Mapping[str, Number], tie_break: Sequence[str]
) -> Problem:
    """`mes.prepare` with the float arrays the fast walk runs on."""
    problem = mes.prepare(voters, costs, tie_break)
    problem.floats.update(arrays(problem))
    return problem


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
    problem = prepare(voters, costs, tie_break)
    n = len(voters)
    share = pot / n if n else Fraction(0)
    if completion == "none":
        run = mes.exact_run(problem, share)
    else:
        first = mes_floats.fast(problem, share)
        assert first is not None
        walked = mes.add1(problem, pot, first, mes_floats.fast)
        run = mes_floats.exactly(problem, pot, share, walked)
    assert run is not None
    return _outcome(problem, run, pot, n, completion)


def _outcome(
    problem: Problem, run: Run, pot: Fraction, n: int, completion: Completion
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
    problem = prepare(voters, costs, tie_break)
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
    drawn = mes.tie_order(tie_break)
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
