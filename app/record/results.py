"""Results as a public record: the independent recount of a ballot file, the budget and
savings keys of a round, and the one canonical JSON encoding.

`recount` reproduces a meeting's results from its ballot CSV with the same `app.rules.tally` code
the
projector runs, and `dumps_result` is the one JSON encoding for results, so the console's
results.json, `covote recount` and the projector agree byte for byte. `money_record` adds a
budget round's funding (`app.rules.budget`, section 3) and a savings target's cuts (section 2); the
projector and `recount` both call it.
"""

from __future__ import annotations

import copy
import functools
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any, cast

from app.core.shapes import (
    AnswersRound,
    CharterRecord,
    CharterRound,
    FundingKeys,
    KindsRecountRecord,
    MoneyKeys,
    RecountRecord,
    RecountRound,
    ReviewRecord,
    ReviewRound,
)
from app.record.chain import RoundMark
from app.record.csvfiles import BallotRow, GroupRow
from app.record.records import BudgetFile, MeetingFile
from app.rules import budget as rule
from app.rules.mes import amount

if TYPE_CHECKING:  # kind_rounds reads charter_files, which reads this module
    from app.record.kind_rounds import OfflineRound
from app.rules.tally import (
    Counts,
    Mark,
    ProposalSpec,
    RoundResult,
    VoterBallot,
    count_round,
    result_to_json,
    with_group_counts,
)


def _round_ballots(rows: Sequence[BallotRow]) -> list[VoterBallot]:
    segments: dict[str, frozenset[str]] = {}
    marks: dict[str, dict[str, Mark]] = {}
    for row in rows:
        declared = segments.setdefault(row.voter, frozenset(row.segments))
        if declared != frozenset(row.segments):
            raise ValueError(f"voter {row.voter!r} declares different segments in one round")
        voter_marks = marks.setdefault(row.voter, {})
        if row.proposal in voter_marks:
            raise ValueError(f"voter {row.voter!r} marked {row.proposal!r} twice in one round")
        voter_marks[row.proposal] = Mark(row.mark)
    return [VoterBallot(v, segments[v], marks[v]) for v in marks]


def recount(
    meeting: MeetingFile, rows: Sequence[BallotRow], groups: Sequence[GroupRow] | None = None
) -> RecountRecord:
    """Recount every round of a ballot export with the meeting's rule.

    With `groups` (the export's groups.csv), the affected groups' counts come from those totals
    and the ballots carry no segments (README, Anonymity); without, from the ballots' segments
    (ballot files written before groups.csv existed).

    Rounds come in order of their first row; a round's proposals are those its rows name, in
    the meeting's order. A proposal of a round that no voter marked at all has no row, so the
    exporter should write NEUTRAL rows for an active voter's unmarked proposals (the counts do
    not change) to keep such a proposal in the recount.

    Returns:
        `{"rounds": [{"round": name, "proposals": [...], "ranking": [...], ...}]}`, each round
        being `app.rules.tally.result_to_json` of `count_round` on that round's ballots, plus
        `money_record`'s keys when the meeting has a budget or a savings target.

    Raises:
        ValueError: a row names an unknown proposal, or repeats a voter's mark or changes their
            segments within a round (`read_ballot_csv` reports these per line); with `groups`,
            a ballot row with segments, group totals for a round without ballots, or totals
            the ballots contradict (`tally.with_group_counts`).
    """
    room = _room_vote(meeting, rows, groups)
    return {"rounds": [room(name, round_rows) for name, round_rows in _by_round(rows).items()]}


def recount_kinds(
    meeting: MeetingFile,
    rows: Sequence[BallotRow],
    groups: Sequence[GroupRow] | None,
    offline: Mapping[str, OfflineRound],
) -> KindsRecountRecord:
    """`recount` of a ballot export whose rounds may be of other activity kinds: the rounds in
    `offline` (by round) are counted as their kind counts them (`OfflineRound.record`: each
    answer's count per item), every other round as a room vote (`recount`). Rounds in order of
    their first row, as results.json lists them.

    Raises:
        ValueError: as `recount`; group totals for a round of another kind; in another kind's
            round, a voter answering an item twice or an answer its items do not take.
    """
    if stray := sorted({g.round for g in groups or () if g.round in offline}):
        raise ValueError(f"group totals for round(s) {stray}, which are not room votes")
    room = _room_vote(meeting, [r for r in rows if r.round not in offline], groups)
    rounds: list[RecountRound | AnswersRound | CharterRound | ReviewRound] = []
    for name, round_rows in _by_round(rows).items():
        if name in offline:
            counted = offline[name].record(round_rows)
            if "charter" in counted:  # a charter round: its decisions after the counts
                decided = cast(CharterRecord, counted)["charter"]
                rounds.append({"round": name, "answers": counted["answers"], "charter": decided})
            elif "review" in counted:  # a charter review: its scorecard after the counts
                card = cast(ReviewRecord, counted)["review"]
                rounds.append({"round": name, "answers": counted["answers"], "review": card})
            else:
                rounds.append({"round": name, "answers": counted["answers"]})
        else:
            rounds.append(room(name, round_rows))
    return {"rounds": rounds}


def _by_round(rows: Sequence[BallotRow]) -> dict[str, list[BallotRow]]:
    by_round: dict[str, list[BallotRow]] = {}
    for row in rows:
        by_round.setdefault(row.round, []).append(row)
    return by_round


def _room_vote(
    meeting: MeetingFile, rows: Sequence[BallotRow], groups: Sequence[GroupRow] | None
) -> Callable[[str, Sequence[BallotRow]], RecountRound]:
    """What counts one room vote's round (its name and rows), once the room votes' `rows` and
    the `groups` are checked (see `recount`)."""
    by_round = _by_round(rows)
    totals: dict[str, dict[str, dict[str, Counts]]] = {}
    if groups is not None:
        if any(row.segments for row in rows):
            raise ValueError("the ballot file lists segments: recount it without group totals")
        for g in groups:
            if g.round not in by_round:
                raise ValueError(f"group totals for round {g.round!r}, which has no ballots")
            counts = Counts(V=g.voters, W=g.want, D=g.dont_want)
            totals.setdefault(g.round, {}).setdefault(g.proposal, {})[g.group] = counts
    specs = {pr.id: ProposalSpec(pr.id, tuple(pr.affected_groups)) for pr in meeting.proposals}
    protecting = frozenset(s.id for s in meeting.segments if s.protects)
    tie_break = meeting.tie_break or list(specs)  # empty = proposal order
    kinds = {pr.id: pr.kind for pr in meeting.proposals}
    costs = {pr.id: pr.cost for pr in meeting.proposals}
    savings = {pr.id: pr.saving for pr in meeting.proposals}

    def count(name: str, round_rows: Sequence[BallotRow]) -> RecountRound:
        named = {row.proposal for row in round_rows}
        unknown = sorted(named - specs.keys())
        if unknown:
            raise ValueError(f"round {name!r} names proposals not in the meeting: {unknown}")
        proposals = [spec for pid, spec in specs.items() if pid in named]
        ballots = _round_ballots(round_rows)
        result = count_round(
            proposals,
            ballots,
            meeting.rule.to_rule(),
            protecting=protecting,
            tie_break=tie_break,
        )
        if groups is not None:
            result = with_group_counts(
                result, totals.get(name, {}), meeting.rule.to_rule(), tie_break=tie_break
            )
        money = money_record(
            result,
            ballots,
            kinds=kinds,
            costs=costs,
            savings=savings,
            budget=meeting.budget,
            savings_target=meeting.savings_target,
            tie_break=tie_break,
        )
        return {"round": name, **result_to_json(result), **money}

    return count


# --- budget and savings --------------------------------------------------------------------


def money_record(
    result: RoundResult,
    ballots: Sequence[VoterBallot],
    *,
    kinds: Mapping[str, str],
    costs: Mapping[str, int | float | None],
    savings: Mapping[str, int | float | None],
    budget: BudgetFile | None,
    savings_target: int | float | None,
    tie_break: Sequence[str],
) -> MoneyKeys:
    """A round's budget and savings keys, to add to `result_to_json(result)`.

    With a budget, when the round has a `fund` proposal with a cost:
    `app.rules.budget.budget_to_json`
    of MES on the eligible proposals (section 3; `greedy` is "most WANTs first" over the same
    approvals), its per-proposal list under `funding` (`proposals` is the round's). With a
    savings target, when the round has a `keep` proposal with a saving:
    `app.rules.budget.savings_to_json`. Otherwise nothing: `{}`.
    """
    ids = [r.id for r in result.proposals]
    record: MoneyKeys = {}
    if budget is not None and any(kinds.get(p) == "fund" and costs.get(p) is not None for p in ids):
        voters, chosen = rule.approval_profile(result, ballots, costs, kinds)
        classes = sorted(Counter(voters).items(), key=lambda kv: sorted(kv[0]))
        funding = _funding(
            tuple(classes),
            tuple(chosen.items()),
            amount(budget.pot),
            budget.completion,
            tuple(tie_break),
        )
        record = {**record, **copy.deepcopy(funding)}
    if savings_target is not None and any(
        kinds.get(p) == "keep" and savings.get(p) is not None for p in ids
    ):
        cuts = rule.savings_cuts(result, savings, kinds, savings_target, tie_break=tie_break)
        record = {**record, **rule.savings_to_json(cuts)}
    return record


@functools.lru_cache(maxsize=32)
def _funding(
    classes: tuple[tuple[frozenset[str], int], ...],
    costs: tuple[tuple[str, Fraction], ...],
    pot: Fraction,
    completion: rule.Completion,
    tie_break: tuple[str, ...],
) -> FundingKeys:
    """MES and greedy on voters grouped by approval set (cached: the projector asks for the same
    closed round on every change in the room; callers copy the result before changing it)."""
    voters = [approved for approved, count in classes for _ in range(count)]
    outcome = rule.equal_shares(
        voters, dict(costs), pot, completion=completion, tie_break=tie_break
    )
    most_wanted = rule.greedy(voters, dict(costs), pot, tie_break=tie_break)
    return rule.funding_keys(rule.budget_to_json(outcome, most_wanted))


def with_marks(record: Mapping[str, Any], marks: Mapping[str, RoundMark]) -> dict[str, Any]:
    """A results record (`recount`'s, or results.json's rounds of any kind) with each round's
    decision marks added after its counts, only where they apply (`MarkedRound`): `final`,
    `voided`, `void_reason`. `marks` by round number (the console's rounds, or
    `chain.round_marks` of the audit log for `covote recount --audit`)."""
    rounds = []
    for rnd in record["rounds"]:
        out = dict(rnd)
        mark = marks.get(str(rnd["round"]))
        if mark is not None and mark.final:
            out["final"] = True
        if mark is not None and mark.voided:
            out["voided"] = True
            if mark.reason:
                out["void_reason"] = mark.reason
        rounds.append(out)
    return {**record, "rounds": rounds}


def dumps_result(obj: object) -> str:
    """The canonical JSON text of a result: indent 2, keys in given order, UTF-8, final newline."""
    return json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
