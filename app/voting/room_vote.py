"""The room vote: the first kind of activity, and until issue 12 the only one.

The meeting's proposals, each marked WANT / DON'T WANT / NEUTRAL (`scales.WANT_SCALE`: keypad
1 / 2 / 3), counted by the minority-protection rule (`tally.count_round`, the same function
`covote recount` runs on the exported files); a budget meeting's funding and a savings
target's cuts come from `results.money_record`, which the recount calls too. Its public
formats (results.json, ballots.csv, groups.csv) are those of every release before kinds.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import ClassVar, cast

from sqlmodel import Session

from app.core.errors import BadInput
from app.core.messages import N_
from app.core.shapes import MoneyKeys, ProposalItem, ResultsView, RoundRecord
from app.core.vocab import ROOM_VOTE
from app.record import anonymity
from app.record.csvfiles import GroupRow
from app.record.results import money_record
from app.rules import budget as rule
from app.rules import tally
from app.rules.mes import amount
from app.rules.scales import WANT_SCALE, AnswerScale
from app.voting.activity import ActivityKind, Item, Views, responses
from app.voting.meetings import budget_of, proposals_of, savings_target_of, segments_of
from app.voting.models import Meeting, Proposal, Round

Counted = tuple[tally.RoundResult, list[tally.VoterBallot], dict[str, Proposal]]


class RoomVote(ActivityKind):
    """Proposals marked WANT / DON'T WANT / NEUTRAL, counted with minority protection."""

    key: ClassVar[str] = ROOM_VOTE
    label: ClassVar[str] = N_("Room vote")
    noun: ClassVar[str] = "proposal"
    views: ClassVar[Views] = Views(
        phone_intro=N_(
            "For each proposal choose WANT, DON'T WANT or NEUTRAL. "
            "You can change your mind until voting closes."
        ),
        # The rule counts an active voter's unmarked proposal as neutral (`unanswered`).
        phone_partly_answered=N_("%(answered)s of %(total)s answered; the others count as neutral"),
        phone_item="phone/item_room_vote.html",
        paper_items="print/items_room_vote.html",
        key_item="console/key_item_room_vote.html",
        console_results="console/results_room_vote.html",
        projector="room_vote",
    )
    unanswered: ClassVar[str | None] = tally.Mark.NEUTRAL.value
    unknown_items: ClassVar[str] = N_("Proposal(s) not in round %(n)s: %(keys)s.")

    def available(self, session: Session, meeting_id: int) -> list[Item]:
        return [_item(p) for p in proposals_of(session, meeting_id)]

    def scales(
        self, session: Session, meeting_id: int, keys: Sequence[str]
    ) -> Mapping[str, AnswerScale]:
        # Every proposal takes the one scale: the ballot path asks without a query.
        return dict.fromkeys(keys, WANT_SCALE)

    def result(self, session: Session, meeting: Meeting, rnd: Round) -> tally.RoundResult:
        return counted(session, meeting, rnd)[0]

    def record(self, session: Session, meeting: Meeting, rnd: Round) -> RoundRecord:
        """The public recount format: `proposals`, `ranking`, and for a budget meeting or a
        savings target `results.money_record`'s keys."""
        result, ballots, by_key = counted(session, meeting, rnd)
        return {**tally.result_to_json(result), **_money(meeting, result, ballots, by_key, rnd.id)}

    def results_view(self, session: Session, meeting: Meeting, rnd: Round) -> ResultsView:
        """The recount record plus titles and labels, as the projector shows it.

        With budget or savings keys it also has `currency` and `amounts` ({id: {"cost",
        "saving"}} for the round's proposals), for display only."""
        assert meeting.id is not None
        # The record becomes the view in place: the loop below gives every proposal and line its
        # display keys (the keys the record has keep their order, byte for byte on the projector).
        record = cast(ResultsView, self.record(session, meeting, rnd))
        titles = {p.key: p for p in proposals_of(session, meeting.id)}
        labels = {s.key: s.label for s in segments_of(session, meeting.id)}
        if "funded" in record or "cuts" in record:
            budget = budget_of(meeting)
            record["currency"] = budget.currency if budget is not None else "GBP"
            record["amounts"] = {
                k: {"cost": _display(titles[k].cost), "saving": _display(titles[k].saving)}
                for k in rnd.proposal_keys
            }
        for item in record["proposals"]:
            p = titles[item["id"]]
            item.update({"title": p.title, "kind": p.kind, "description": p.description})
            item["group_labels"] = [labels.get(g, g) for g in item["groups"]]
            for line in item["affected"]:
                line["label"] = labels.get(line["group"], line["group"])
                if line["suppressed"]:
                    line["V"] = line["W"] = line["D"] = None
        return record

    def group_rows(self, session: Session, meeting: Meeting, rnd: Round) -> list[GroupRow]:
        """Every affected group that may protect, on each proposal it is affected by, when it
        has at least m active voters (the rule's input, without any voter)."""
        result = self.result(session, meeting, rnd)
        return [
            GroupRow(str(rnd.number), line.group, p.id, line.counts.V, line.counts.W, line.counts.D)
            for p in result.proposals
            for line in p.group_lines
            if not line.suppressed
        ]

    def item_view(self, item: Item) -> ProposalItem:
        # The snapshot's proposal as it always was: the screens know the room vote's scale.
        return {
            "id": item.key,
            "title": item.title,
            "description": item.description,
            "kind": item.extra["kind"],
            "cost": item.extra["cost"],
            "saving": item.extra["saving"],
            "translations": {lang: dict(texts) for lang, texts in item.translations.items()},
        }


def _item(p: Proposal) -> Item:
    return Item(
        key=p.key,
        title=p.title,
        scale=WANT_SCALE,
        description=p.description,
        translations=p.translations or {},
        extra={"kind": p.kind, "cost": p.cost, "saving": p.saving},
    )


def counted(session: Session, meeting: Meeting, rnd: Round) -> Counted:
    """The round's result, the final ballots it counted and the meeting's proposals by id."""
    assert meeting.id is not None
    by_key = {p.key: p for p in proposals_of(session, meeting.id)}
    specs = [
        tally.ProposalSpec(id=k, affected_groups=tuple(by_key[k].affected_groups))
        for k in rnd.proposal_keys
    ]
    ballots = [
        tally.VoterBallot(
            voter=str(r.voter_id),
            segments=r.segments,
            marks={k: tally.Mark(m) for k, m in r.marks.items()},
        )
        for r in responses(session, rnd)
    ]
    protecting = frozenset(s.key for s in segments_of(session, meeting.id) if s.protects)
    result = tally.count_round(
        specs,
        ballots,
        tally.Rule(ratio=meeting.ratio, group_min=meeting.group_min),
        protecting=protecting,
        tie_break=meeting.tie_break,
    )
    return result, ballots, by_key


# One lock per round for its money keys: reads of a round that arrive together (the projector's
# snapshot, the console's round page, an export, at the reveal) wait for the first to compute
# MES, then all take `results._funding`'s cached copy, instead of each running MES at once.
_money_locks: dict[int, threading.Lock] = {}
_money_locks_guard = threading.Lock()


def _money(
    meeting: Meeting,
    result: tally.RoundResult,
    ballots: list[tally.VoterBallot],
    by_key: dict[str, Proposal],
    round_id: int | None,
) -> MoneyKeys:
    """`results.money_record` for a round, computed once when several threads ask together
    (blocking: callers are worker threads, never the event loop)."""
    with _money_locks_guard:
        lock = _money_locks.setdefault(round_id or 0, threading.Lock())
    with lock:
        return money_record(
            result,
            ballots,
            kinds={k: p.kind for k, p in by_key.items()},
            costs={k: p.cost for k, p in by_key.items()},
            savings={k: p.saving for k, p in by_key.items()},
            budget=budget_of(meeting),
            savings_target=savings_target_of(meeting),
            tie_break=meeting.tie_break,
        )


def pabulib_election(
    session: Session, meeting: Meeting, rnd: Round
) -> tuple[list[tuple[str, frozenset[str]]], dict[str, Fraction], list[str]]:
    """What MES ran on in this round (section 3 steps 1-2), for a Pabulib export.

    Returns `(voters, costs, funded)`: every active voter's pseudonym and WANTs on eligible
    proposals (possibly none), the eligible proposals' costs in the drawn order, and the ids
    the meeting's budget funded (selection order).

    Raises:
        BadInput: the meeting has no budget.
    """
    budget = budget_of(meeting)
    if budget is None:
        raise BadInput("This meeting has no budget. Set the pot in Set-up to export a .pb file.")
    result, ballots, by_key = counted(session, meeting, rnd)
    kinds = {k: p.kind for k, p in by_key.items()}
    costs = {k: p.cost for k, p in by_key.items()}
    approvals, chosen = rule.approval_profile(result, ballots, costs, kinds)
    secret = anonymity.secret_or_fail(meeting.record_secret)
    active = [
        anonymity.public_pseudonym(secret, rnd.number, int(b.voter)) for b in ballots if b.marks
    ]
    drawn = [k for k in meeting.tie_break if k in chosen]
    drawn += sorted(k for k in chosen if k not in drawn)
    money = _money(meeting, result, ballots, by_key, rnd.id)
    voters = list(zip(active, approvals, strict=True))
    return voters, {k: chosen[k] for k in drawn}, list(money.get("funded", []))


def _display(x: float | None) -> int | str | None:
    """An amount as the records write it (`budget.amount_to_json`), or None."""
    return None if x is None else rule.amount_to_json(amount(x))
