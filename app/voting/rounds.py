"""Rounds: open, close, reveal; the live state of a meeting; results from stored ballots.

Contract: functions take the caller's session and never commit. Results are always computed by
`tally.count_round` from the ballots as stored, the same function the offline recount uses on
the exported CSV, so the projector and `covote recount` cannot disagree. A budget meeting's
funding and a savings target's cuts come from `results.money_record`, which the recount calls
too.
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any, cast

from sqlmodel import Session, col, select

from app.core.errors import BadInput, Conflict, NotFound
from app.core.shapes import MoneyKeys, ProposalItem, ResultsView, RoomState, RoundRecord, RoundView
from app.core.vocab import RoundStatus
from app.record import anonymity
from app.record.csvfiles import BallotRow, GroupRow, ballot_cells, group_cells
from app.record.results import money_record
from app.rules import budget as mes
from app.rules import tally
from app.voting import audit, turnout
from app.voting.meetings import budget_of, get_meeting, proposals_of, savings_target_of, segments_of
from app.voting.models import AuditEvent, Ballot, Meeting, Proposal, Round, Voter, utcnow
from app.voting.voters import voted_count


def rounds_of(session: Session, meeting_id: int) -> list[Round]:
    q = select(Round).where(Round.meeting_id == meeting_id).order_by(col(Round.number))
    return list(session.exec(q))


def get_round(session: Session, meeting: Meeting, number: int) -> Round:
    rnd = session.exec(
        select(Round).where(Round.meeting_id == meeting.id, Round.number == number)
    ).first()
    if rnd is None:
        raise NotFound(f"There is no round {number} in this meeting.")
    return rnd


def current_round(session: Session, meeting: Meeting) -> Round | None:
    """The round the room sees: the open round whenever one is open (phones vote in it), else
    the one last opened or revealed. `meeting.current_round_id` alone is not trusted while a
    round is open, so nothing done to another round can take the open one off the room."""
    q = select(Round).where(Round.meeting_id == meeting.id, Round.status == RoundStatus.OPEN)
    if (open_now := session.exec(q).first()) is not None:
        return open_now
    return session.get(Round, meeting.current_round_id) if meeting.current_round_id else None


def open_round(
    session: Session, meeting: Meeting, keys: list[str], *, keypads: bool = False
) -> Round:
    assert meeting.id is not None
    if not keys:
        raise BadInput("Choose at least one proposal for the round.")
    known = [p.key for p in proposals_of(session, meeting.id)]
    unknown = sorted(set(keys) - set(known))
    if unknown:
        raise BadInput(f"Unknown proposal(s): {', '.join(unknown)}.")
    if any(r.status == RoundStatus.OPEN for r in rounds_of(session, meeting.id)):
        raise Conflict("A round is already open. Close it before opening another.")
    number = 1 + max((r.number for r in rounds_of(session, meeting.id)), default=0)
    chosen = set(keys)
    rnd = Round(
        meeting_id=meeting.id,
        number=number,
        proposal_keys=[k for k in known if k in chosen],
        keypad_step=0 if keypads else None,
    )
    session.add(rnd)
    session.flush()
    meeting.current_round_id = rnd.id
    session.add(meeting)
    data = {"round": number, "proposals": rnd.proposal_keys, "keypads": keypads}
    audit.record(session, meeting.id, "round.opened", data)
    return rnd


def close_round(session: Session, meeting: Meeting, number: int) -> Round:
    rnd = get_round(session, meeting, number)
    if rnd.status != RoundStatus.OPEN:
        raise Conflict(f"Round {number} is already closed.")
    rnd.status = RoundStatus.CLOSED
    rnd.closed_at = utcnow()
    session.add(rnd)
    session.flush()
    # The turnout snapshot is taken under the same write lock as the close: no ballot can
    # slip in between (ballots.py reads the round's status under that lock).
    rnd.turnout = turnout.counts(session, meeting, rnd)
    assert meeting.id is not None
    # The seal of the round's public rows, under the same lock (README, Anonymity).
    data = {"round": number, "turnout": rnd.turnout, **round_seal(session, meeting, rnd)}
    audit.record(session, meeting.id, "round.closed", data)
    return rnd


def round_seal(session: Session, meeting: Meeting, rnd: Round) -> dict[str, Any]:
    """What the `round.closed` link seals: the number of ballots and the SHA-256 of the round's
    public ballot and group rows (`anonymity.seal`), which `covote audit verify` recomputes."""
    ballots = ballot_rows(session, meeting, rnd)
    return {
        "ballots": len({r.voter for r in ballots}),
        "ballots_sha256": anonymity.seal(ballot_cells(ballots)),
        "groups_sha256": anonymity.seal(group_cells(group_rows(session, meeting, rnd))),
    }


def seal_earlier_rounds(session: Session) -> int:
    """Seal every closed round whose `round.closed` link predates seals (a database upgraded
    from before issue 11): append a `round.sealed` link with the seal of the rows the round
    publishes now (per-round pseudonyms, no segments), so `covote audit verify` checks today's
    exports of it; its original exports still verify by replay. Returns how many were sealed;
    run at start-up, after the schema upgrade (a no-op once every round is sealed)."""
    kinds = ("round.closed", "round.sealed")
    found = session.exec(
        select(AuditEvent.meeting_id, AuditEvent.kind, AuditEvent.data).where(
            col(AuditEvent.kind).in_(kinds)
        )
    ).all()
    sealed: set[tuple[int, int]] = set()
    unsealed: set[tuple[int, int]] = set()
    for meeting_id, kind, text in found:
        data = json.loads(text)
        key = (meeting_id, int(data["round"]))
        (sealed if kind == "round.sealed" or "ballots_sha256" in data else unsealed).add(key)
    for meeting_id, number in sorted(unsealed - sealed):
        meeting = get_meeting(session, meeting_id)
        rnd = get_round(session, meeting, number)
        data = {"round": number, **round_seal(session, meeting, rnd)}
        audit.record(session, meeting_id, "round.sealed", data)
    return len(unsealed - sealed)


def step_keypads(session: Session, meeting: Meeting, number: int, index: int) -> Round:
    """Put proposal `index` (0-based) of a keypad round on the projector for keypads."""
    rnd = get_round(session, meeting, number)
    if rnd.status != RoundStatus.OPEN or rnd.keypad_step is None:
        raise Conflict(f"Round {number} is not an open keypad round.")
    if not 0 <= index < len(rnd.proposal_keys):
        raise BadInput(f"Round {number} has proposals 1 to {len(rnd.proposal_keys)}.")
    rnd.keypad_step = index
    session.add(rnd)
    assert meeting.id is not None
    audit.record(session, meeting.id, "round.keypad_step", {"round": number, "proposal": index + 1})
    return rnd


def set_revealed(session: Session, meeting: Meeting, number: int, revealed: bool) -> Round:
    rnd = get_round(session, meeting, number)
    if revealed and rnd.status != RoundStatus.CLOSED:
        raise Conflict("Close the round before revealing its results.")
    rnd.revealed = revealed
    # Revealing an earlier round puts it back on the projector, unless a round is open: the
    # room stays on that one (`current_round`) and the projector shows this round once no
    # round is open, if it is the last one revealed.
    if (live := current_round(session, meeting)) is None or live.status != RoundStatus.OPEN:
        meeting.current_round_id = rnd.id
    session.add_all([rnd, meeting])
    assert meeting.id is not None
    kind = "round.revealed" if revealed else "round.hidden"
    audit.record(session, meeting.id, kind, {"round": number})
    return rnd


def _round_ballots(session: Session, rnd: Round) -> list[tuple[Ballot, Voter]]:
    q = (
        select(Ballot, Voter)
        .join(Voter, col(Voter.id) == col(Ballot.voter_id))
        .where(Ballot.round_id == rnd.id)
        .order_by(col(Voter.id))
    )
    return [(b, v) for b, v in session.exec(q)]


def _public_ballots(session: Session, meeting: Meeting, rnd: Round) -> list[tuple[str, Ballot]]:
    """The round's ballots with their voters' public pseudonyms for this round, sorted by them
    (the order of the public files: nothing about when or where a ballot was cast)."""
    secret = anonymity.secret_or_fail(meeting.record_secret)
    return sorted(
        (
            (anonymity.public_pseudonym(secret, rnd.number, v.id or 0), b)
            for b, v in _round_ballots(session, rnd)
        ),
        key=lambda pair: pair[0],
    )


def _counted(
    session: Session, meeting: Meeting, rnd: Round
) -> tuple[tally.RoundResult, list[tally.VoterBallot], dict[str, Proposal]]:
    """The round's result, the final ballots it counted and the meeting's proposals by id."""
    assert meeting.id is not None
    by_key = {p.key: p for p in proposals_of(session, meeting.id)}
    specs = [
        tally.ProposalSpec(id=k, affected_groups=tuple(by_key[k].affected_groups))
        for k in rnd.proposal_keys
    ]
    ballots = [
        tally.VoterBallot(
            voter=str(v.id),
            segments=frozenset(v.segments),
            marks={k: tally.Mark(m) for k, m in b.marks.items()},
        )
        for b, v in _round_ballots(session, rnd)
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


def round_result(session: Session, meeting: Meeting, rnd: Round) -> tally.RoundResult:
    return _counted(session, meeting, rnd)[0]


def _money(
    meeting: Meeting,
    result: tally.RoundResult,
    ballots: list[tally.VoterBallot],
    by_key: dict[str, Proposal],
) -> MoneyKeys:
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


def round_record(session: Session, meeting: Meeting, rnd: Round) -> RoundRecord:
    """The round's results in the public recount format (`proposals`, `ranking`, and for a
    budget meeting or a savings target `results.money_record`'s keys)."""
    result, ballots, by_key = _counted(session, meeting, rnd)
    return {**tally.result_to_json(result), **_money(meeting, result, ballots, by_key)}


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
    result, ballots, by_key = _counted(session, meeting, rnd)
    kinds = {k: p.kind for k, p in by_key.items()}
    costs = {k: p.cost for k, p in by_key.items()}
    approvals, chosen = mes.approval_profile(result, ballots, costs, kinds)
    secret = anonymity.secret_or_fail(meeting.record_secret)
    active = [
        anonymity.public_pseudonym(secret, rnd.number, int(b.voter)) for b in ballots if b.marks
    ]
    drawn = [k for k in meeting.tie_break if k in chosen]
    drawn += sorted(k for k in chosen if k not in drawn)
    money = _money(meeting, result, ballots, by_key)
    voters = list(zip(active, approvals, strict=True))
    return voters, {k: chosen[k] for k in drawn}, list(money.get("funded", []))


def ballot_rows(session: Session, meeting: Meeting, rnd: Round) -> list[BallotRow]:
    """The round's public ballot file: one row per proposal of the round for every voter who
    voted, by this round's pseudonym, sorted by it; no segments (their totals are in
    `group_rows`) and channels used by fewer than m voters merged (README, Anonymity)."""
    ballots = _public_ballots(session, meeting, rnd)
    labels = anonymity.channel_labels(
        anonymity.count_channels(b.channel for _, b in ballots), meeting.group_min
    )
    rows = []
    for pseudonym, b in ballots:
        for key in rnd.proposal_keys:
            rows.append(
                BallotRow(
                    round=str(rnd.number),
                    voter=pseudonym,
                    channel=labels[b.channel],
                    segments=(),
                    proposal=key,
                    mark=tally.Mark(b.marks.get(key, tally.Mark.NEUTRAL)),
                )
            )
    return rows


def group_rows(session: Session, meeting: Meeting, rnd: Round) -> list[GroupRow]:
    """The round's group totals: every affected group that may protect, on each proposal it is
    affected by, when it has at least m active voters (the rule's input, without any voter)."""
    result = round_result(session, meeting, rnd)
    return [
        GroupRow(str(rnd.number), line.group, p.id, line.counts.V, line.counts.W, line.counts.D)
        for p in result.proposals
        for line in p.group_lines
        if not line.suppressed
    ]


def results_visible(meeting: Meeting, rnd: Round) -> bool:
    """Hidden until revealed by default; a meeting may opt into results as soon as it closes."""
    return rnd.revealed or (not meeting.results_hidden and rnd.status == RoundStatus.CLOSED)


def results_view(session: Session, meeting: Meeting, rnd: Round) -> ResultsView:
    """Results as the projector shows them: the recount record plus titles and labels.

    With budget or savings keys it also has `currency` and `amounts` ({id: {"cost", "saving"}}
    for the round's proposals), for display only.
    """
    assert meeting.id is not None
    # The record becomes the view in place: the loop below gives every proposal and line its
    # display keys (the keys the record has keep their order, byte for byte on the projector).
    record = cast(ResultsView, round_record(session, meeting, rnd))
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


def _display(x: float | None) -> int | str | None:
    """An amount as the records write it (`budget.amount_to_json`), or None."""
    return None if x is None else mes.amount_to_json(mes.amount(x))


def _proposal_view(p: Proposal) -> ProposalItem:
    return {
        "id": p.key,
        "title": p.title,
        "description": p.description,
        "kind": p.kind,
        "cost": p.cost,
        "saving": p.saving,
        "translations": p.translations or {},
    }


def room_state(session: Session, meeting_id: int, join_url: str) -> RoomState:
    """Everything the projector, phones and console show live (no personal data), as the
    database has it: `Services.room_state` adds the console's alert and the keypad prompt."""
    meeting = get_meeting(session, meeting_id)
    assert meeting.id is not None
    rnd = current_round(session, meeting)
    by_key = {p.key: p for p in proposals_of(session, meeting_id)}
    round_view: RoundView | None = None
    results = None
    if rnd is not None:
        assert rnd.id is not None
        round_view = {
            "id": rnd.id,
            "number": rnd.number,
            "status": rnd.status,
            "revealed": results_visible(meeting, rnd),
            # In a keypad round, the proposal keypads vote on now (0-based), else None.
            "keypad_step": rnd.keypad_step if rnd.status == RoundStatus.OPEN else None,
            "proposals": [_proposal_view(by_key[k]) for k in rnd.proposal_keys],
        }
        if results_visible(meeting, rnd):
            results = results_view(session, meeting, rnd)
    return {
        "type": "snapshot",
        "meeting": {
            "id": meeting.id,
            "title": meeting.title,
            "code": meeting.code,
            "join_url": join_url,
            "rule": {"ratio": meeting.ratio, "group_min": meeting.group_min},
            "segments": [
                {"id": s.key, "label": s.label, "translations": s.translations or {}}
                for s in segments_of(session, meeting_id)
            ],
            "translations": meeting.translations or {},
        },
        "round": round_view,
        # Live while the round is open; the stored snapshot once it has closed.
        "turnout": rnd.turnout.copy()
        if rnd is not None and rnd.turnout
        else turnout.counts(session, meeting, rnd),
        "show_channels": bool(meeting.show_channels),
        "results": results,
    }


def has_ballots(session: Session, rnd: Round) -> bool:
    assert rnd.id is not None
    return voted_count(session, rnd.id) > 0
