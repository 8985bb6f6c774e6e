"""An activity's rounds: open, close, reveal; the live state of a meeting; results from stored
ballots. Written once for every kind of activity (app/voting/activity.py): where kinds differ
(their items, results and group totals) a function asks the round's kind (`kinds.kind_of`).

Contract: functions take the caller's session and never commit. Results are always computed
by the kind's pure function from the ballots as stored (the room vote's: `tally.count_round`,
the same function the offline recount runs on the exported CSV), so the projector and
`covote recount` cannot disagree.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from sqlmodel import Session, col, select

from app.core.bounds import VOID_REASON_MAX
from app.core.errors import BadInput, Conflict, NotFound
from app.core.inputs import clean_text
from app.core.localtime import DEFAULT_ZONE
from app.core.shapes import KindRecord, KindResults, OnlineView, RoomState, RoundView
from app.core.vocab import ROOM_VOTE, RoundStatus
from app.record import anonymity, chain
from app.record.csvfiles import BallotRow, GroupRow, ballot_cells, group_cells
from app.voting import audit, room_vote, turnout
from app.voting.activity import ActivityKind, public_responses
from app.voting.kinds import kind_named, kind_of, kinds
from app.voting.meetings import get_meeting, require_active, segments_of
from app.voting.models import AuditEvent, Meeting, Round, utcnow
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
    session: Session,
    meeting: Meeting,
    keys: list[str],
    *,
    keypads: bool = False,
    kind: str = ROOM_VOTE,
) -> Round:
    """Open a round of an activity of `kind` on the chosen items (`keys`, kept in the kind's
    order). With `keypads`, keypads answer one item at a time (`step_keypads`).

    Raises:
        BadInput: no items, an item the kind does not offer, keypads for an item they cannot
            answer, or a kind that is not registered.
        Conflict: a round is already open, or the meeting is archived.
    """
    assert meeting.id is not None
    require_active(meeting)
    if kind not in kinds():
        raise BadInput(f"Unknown activity kind {kind[:40]!r}.")
    activity = kind_named(kind)
    offered = activity.available(session, meeting.id)
    if activity.asks_all:
        keys = [i.key for i in offered]
    if not keys:
        raise BadInput(f"Choose at least one {activity.noun} for the round.")
    if unknown := sorted(set(keys) - {i.key for i in offered}):
        raise BadInput(f"Unknown {activity.noun}(s): {', '.join(unknown)}.")
    if any(r.status == RoundStatus.OPEN for r in rounds_of(session, meeting.id)):
        raise Conflict("A round is already open. Close it before opening another.")
    chosen = [i for i in offered if i.key in set(keys)]
    keyed = [n for n, i in enumerate(chosen) if i.scale.keypad_choices]
    if activity.keypads_some and keypads and not keyed:
        raise BadInput("Keypads cannot answer any of these: open the round without them.")
    silent = [i.key for i in chosen if not i.scale.keypad_choices]
    if keypads and silent and not activity.keypads_some:
        raise BadInput(f"Keypads cannot answer {', '.join(silent)}: open the round without them.")
    number = 1 + max((r.number for r in rounds_of(session, meeting.id)), default=0)
    rnd = Round(
        meeting_id=meeting.id,
        number=number,
        proposal_keys=[i.key for i in chosen],
        keypad_step=keyed[0] if keypads else None,
        kind=activity.key,
    )
    session.add(rnd)
    session.flush()
    meeting.current_round_id = rnd.id
    session.add(meeting)
    data: dict[str, Any] = {"round": number, "proposals": rnd.proposal_keys, "keypads": keypads}
    if activity.key != ROOM_VOTE:  # a room vote's link is as it was before kinds existed
        data["kind"] = activity.key
    audit.record(session, meeting.id, "round.opened", data)
    return rnd


def close_round(
    session: Session,
    meeting: Meeting,
    number: int,
    *,
    receiver_open: bool = False,
    by_countdown: bool = False,
) -> Round:
    """Close round `number` and store its turnout snapshot (`receiver_open`: whether a keypad
    receiver serves the meeting now, for who is present; app/voting/turnout.py). A countdown
    that runs ends with it; `by_countdown`: the server closes it because its countdown ended
    (the `round.closed` link then says when: `countdown_ended`)."""
    rnd = get_round(session, meeting, number)
    if rnd.status != RoundStatus.OPEN:
        raise Conflict(f"Round {number} is already closed.")
    ended = rnd.closes_at if by_countdown else None
    rnd.status = RoundStatus.CLOSED
    rnd.closed_at = utcnow()
    rnd.closes_at = None
    rnd.opens_at = None  # an online opening still to come (online.py) never comes now
    session.add(rnd)
    session.flush()
    # The turnout snapshot is taken under the same write lock as the close: no ballot can
    # slip in between (ballots.py reads the round's status under that lock).
    rnd.turnout = turnout.counts(session, meeting, rnd, receiver_open=receiver_open)
    assert meeting.id is not None
    # The seal of the round's public rows, under the same lock (README, Anonymity).
    data = {"round": number, "turnout": rnd.turnout, **round_seal(session, meeting, rnd)}
    if ended is not None:
        data["countdown_ended"] = chain.time_text(aware(ended))
    audit.record(session, meeting.id, "round.closed", data)
    return rnd


def aware(at: datetime) -> datetime:
    """A stored time as UTC (SQLite hands back naive datetimes)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def seconds_left(rnd: Round, now: datetime) -> int | None:
    """Whole seconds until an open round's countdown ends (0 once it has), or None."""
    if rnd.status != RoundStatus.OPEN or rnd.closes_at is None:
        return None
    return max(0, math.ceil((aware(rnd.closes_at) - now).total_seconds()))


def void_round(
    session: Session,
    meeting: Meeting,
    number: int,
    reason: str = "",
    *,
    receiver_open: bool = False,
) -> Round:
    """Void round `number` (an open one is closed first, sealed as usual): it did not count.
    Its ballots stay in the database and the audit chain; the report, the exports and the
    recount mark it "voided" and never present its results as a decision; the projector never
    shows them. `reason` (optional) is cleaned and at most `VOID_REASON_MAX` characters.
    Logged as `round.voided` with the reason.

    Raises:
        BadInput: the reason is too long.
        Conflict: the round is already voided.
    """
    why = clean_text(reason).strip()
    if len(why) > VOID_REASON_MAX:
        raise BadInput(f"The reason is at most {VOID_REASON_MAX} characters.")
    rnd = get_round(session, meeting, number)
    if rnd.status == RoundStatus.VOIDED:
        raise Conflict(f"Round {number} is already voided.")
    if rnd.status == RoundStatus.OPEN:
        close_round(session, meeting, number, receiver_open=receiver_open)
    rnd.status = RoundStatus.VOIDED
    rnd.voided_at = utcnow()
    rnd.void_reason = why or None
    rnd.revealed = False
    rnd.final = False
    if meeting.current_round_id == rnd.id:
        # The room goes back to where it was before this round: the latest round that counts
        # (its results if they were revealed), or none; nothing of the voided one is shown.
        assert meeting.id is not None
        kept = [
            r
            for r in rounds_of(session, meeting.id)
            if r.id != rnd.id and r.status != RoundStatus.VOIDED
        ]
        meeting.current_round_id = max(kept, key=lambda r: r.number).id if kept else None
    session.add_all([rnd, meeting])
    assert meeting.id is not None
    data: dict[str, Any] = {"round": number}
    if why:
        data["reason"] = why
    audit.record(session, meeting.id, "round.voided", data)
    return rnd


def reopen_round(session: Session, meeting: Meeting, number: int) -> Round:
    """Open closed round `number` again: its ballots stay, voters may change them, and closing
    it again seals it again (the last `round.closed` link is its seal). Logged as
    `round.reopened`.

    Raises:
        Conflict: the round is not closed (open or voided), its results were revealed, a later
            round exists, or another round is open.
    """
    rnd = get_round(session, meeting, number)
    if rnd.status != RoundStatus.CLOSED:
        raise Conflict(f"Only a closed round can be reopened; round {number} is {rnd.status}.")
    if rnd.revealed:
        raise Conflict(f"Round {number}'s results have been revealed: it cannot be reopened.")
    assert meeting.id is not None
    others = rounds_of(session, meeting.id)
    if any(r.number > number for r in others):
        raise Conflict(f"A later round exists: round {number} cannot be reopened.")
    if any(r.status == RoundStatus.OPEN for r in others):
        raise Conflict("A round is already open. Close it before opening another.")
    rnd.status = RoundStatus.OPEN
    rnd.closed_at = None
    rnd.turnout = None
    rnd.final = False
    meeting.current_round_id = rnd.id
    session.add_all([rnd, meeting])
    audit.record(session, meeting.id, "round.reopened", {"round": number})
    return rnd


def set_final(session: Session, meeting: Meeting, number: int, final: bool) -> Round:
    """Mark closed round `number` as (part of) the meeting's decision, or take the mark off.
    Logged as `round.final` with `final`.

    Raises:
        Conflict: marking a round that is open or voided.
    """
    rnd = get_round(session, meeting, number)
    if final and rnd.status == RoundStatus.VOIDED:
        raise Conflict(f"Round {number} was voided: it cannot be the decision.")
    if final and rnd.status != RoundStatus.CLOSED:
        raise Conflict(f"Close round {number} before marking it final.")
    rnd.final = final
    session.add(rnd)
    assert meeting.id is not None
    audit.record(session, meeting.id, "round.final", {"round": number, "final": final})
    return rnd


def round_seal(session: Session, meeting: Meeting, rnd: Round) -> dict[str, Any]:
    """What the `round.closed` link seals: the number of ballots and the SHA-256 of the round's
    public ballot and group rows (`anonymity.seal`), which `covote audit verify` recomputes."""
    ballots = ballot_rows(session, meeting, rnd)
    return {
        "ballots": len({r.voter for r in ballots}),
        "ballots_sha256": anonymity.seal(ballot_cells(ballots)),
        "groups_sha256": anonymity.seal(group_cells(group_rows(session, meeting, rnd))),
        **kind_of(rnd).seals(session, meeting, rnd),
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
    """Put item `index` (0-based) of a keypad round on the projector for keypads."""
    rnd = get_round(session, meeting, number)
    if rnd.status != RoundStatus.OPEN or rnd.keypad_step is None:
        raise Conflict(f"Round {number} is not an open keypad round.")
    if not 0 <= index < len(rnd.proposal_keys):
        noun = kind_of(rnd).noun
        raise BadInput(f"Round {number} has {noun}s 1 to {len(rnd.proposal_keys)}.")
    if index not in keypad_steps(session, meeting, rnd):
        raise BadInput(f"Keypads cannot answer {rnd.proposal_keys[index]}: choose another.")
    rnd.keypad_step = index
    session.add(rnd)
    assert meeting.id is not None
    audit.record(session, meeting.id, "round.keypad_step", {"round": number, "proposal": index + 1})
    return rnd


def keypad_steps(session: Session, meeting: Meeting, rnd: Round) -> list[int]:
    """The items (0-based) keypads can answer in the round, in order: every item, but for a
    kind whose keypads answer only its keyed items (`ActivityKind.keypads_some`)."""
    activity = kind_of(rnd)
    if not activity.keypads_some:
        return list(range(len(rnd.proposal_keys)))
    assert meeting.id is not None
    scales = activity.scales(session, meeting.id, rnd.proposal_keys)
    return [
        n for n, key in enumerate(rnd.proposal_keys) if key in scales and scales[key].keypad_choices
    ]


def set_revealed(session: Session, meeting: Meeting, number: int, revealed: bool) -> Round:
    rnd = get_round(session, meeting, number)
    if revealed and rnd.status == RoundStatus.VOIDED:
        raise Conflict(f"Round {number} was voided: its results are never shown.")
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


def round_marks(chosen: Sequence[Round]) -> dict[str, chain.RoundMark]:
    """The final and voided marks of `chosen` rounds, by number as text (as the audit log's
    `chain.round_marks` reads them back); rounds with neither are left out."""
    return {
        str(r.number): chain.RoundMark(
            final=bool(r.final),
            voided=r.status == RoundStatus.VOIDED,
            reason=r.void_reason or "",
        )
        for r in chosen
        if r.final or r.status == RoundStatus.VOIDED
    }


def round_result(session: Session, meeting: Meeting, rnd: Round) -> object:
    """The round's result, counted by its kind from the stored ballots (never stored)."""
    return kind_of(rnd).result(session, meeting, rnd)


def round_record(session: Session, meeting: Meeting, rnd: Round) -> KindRecord:
    """The round's results in the public recount format (its kind's `record`)."""
    return kind_of(rnd).record(session, meeting, rnd)


def pabulib_election(
    session: Session, meeting: Meeting, rnd: Round
) -> tuple[list[tuple[str, frozenset[str]]], dict[str, Fraction], list[str]]:
    """A room vote's approval election for a Pabulib export (`room_vote.pabulib_election`).

    Raises:
        BadInput: the round is not a room vote, or the meeting has no budget.
    """
    if kind_of(rnd).key != ROOM_VOTE:
        raise BadInput("Only a room vote's round is a Pabulib election.")
    return room_vote.pabulib_election(session, meeting, rnd)


def ballot_rows(session: Session, meeting: Meeting, rnd: Round) -> list[BallotRow]:
    """The round's public ballot file: one row per item of the round (its kind's
    `ballot_keys`) for every voter who answered, by this round's pseudonym, sorted by it (an
    item they left gets the kind's `unanswered` answer, or no row); no segments (their totals
    are in `group_rows`) and channels used by fewer than m voters merged (README, Anonymity)."""
    kind = kind_of(rnd)
    unanswered = kind.unanswered
    keys = kind.ballot_keys(session, meeting, rnd)
    ballots = public_responses(session, meeting, rnd)
    labels = anonymity.channel_labels(
        anonymity.count_channels(r.channel for _, r in ballots), meeting.group_min
    )
    rows = []
    for pseudonym, r in ballots:
        for key in keys:
            mark = r.marks.get(key, unanswered)
            if mark is not None:
                rows.append(BallotRow(str(rnd.number), pseudonym, labels[r.channel], (), key, mark))
    return rows


def group_rows(session: Session, meeting: Meeting, rnd: Round) -> list[GroupRow]:
    """The round's published group totals (groups.csv): its kind's `group_rows` (the room
    vote's affected groups with at least m active voters; none for most kinds)."""
    return kind_of(rnd).group_rows(session, meeting, rnd)


def results_visible(meeting: Meeting, rnd: Round) -> bool:
    """Hidden until revealed by default; a meeting may opt into results as soon as it closes.
    A voided round's never."""
    if rnd.status == RoundStatus.VOIDED:
        return False
    return rnd.revealed or (not meeting.results_hidden and rnd.status == RoundStatus.CLOSED)


def results_view(session: Session, meeting: Meeting, rnd: Round) -> KindResults:
    """Results as the screens show them (the kind's `results_view`: its record with titles)."""
    return kind_of(rnd).results_view(session, meeting, rnd)


# A round view's status while its round waits for a scheduled online opening (online.py).
SCHEDULED = "scheduled"


def online_view(meeting: Meeting, rnd: Round) -> OnlineView | None:
    """An online round's period for screens (None: not online, or reopened without one)."""
    if not rnd.online:
        return None
    ends = rnd.closes_at if rnd.status == RoundStatus.OPEN else rnd.closed_at
    if ends is None:
        return None
    return {
        "opens_at": chain.time_text(aware(rnd.opens_at or rnd.opened_at)),
        "closes_at": chain.time_text(aware(ends)),
        "zone": meeting.time_zone or DEFAULT_ZONE,
    }


def room_state(
    session: Session,
    meeting_id: int,
    join_url: str,
    *,
    receiver_open: bool = False,
    now: datetime | None = None,
) -> RoomState:
    """Everything the projector, phones and console show live (no personal data), as the
    database has it: `Services.room_state` adds the console's alert and the keypad prompt.
    `receiver_open`: a keypad receiver serves the meeting now (turnout's "present"); `now`: the
    time a countdown's seconds left are counted from (None: the clock)."""
    meeting = get_meeting(session, meeting_id)
    assert meeting.id is not None
    rnd = current_round(session, meeting)
    round_view: RoundView | None = None
    results = None
    if rnd is not None:
        assert rnd.id is not None
        try:
            activity: ActivityKind | None = kind_of(rnd)
        except Conflict:  # a kind this version lacks: the room sees the round, not its items
            activity = None
        items = activity.items(session, meeting_id, rnd.proposal_keys) if activity else []
        round_view = {
            "id": rnd.id,
            "number": rnd.number,
            "status": rnd.status,
            "revealed": results_visible(meeting, rnd),
            # In a keypad round, the proposal keypads vote on now (0-based), else None.
            "keypad_step": rnd.keypad_step if rnd.status == RoundStatus.OPEN else None,
            # The activity's items (a room vote's proposals), as its kind shows them.
            "proposals": [activity.item_view(i) for i in items] if activity else [],
            "kind": activity.key if activity else str(rnd.kind),
            "view": activity.views.projector if activity else None,
        }
        if (period := online_view(meeting, rnd)) is not None:
            round_view["online"] = period
            if rnd.status == RoundStatus.OPEN and rnd.opens_at is not None:
                round_view["status"] = SCHEDULED
        elif (left := seconds_left(rnd, now or utcnow())) is not None:
            # Phones' clocks are wrong: the seconds left are counted here, when the snapshot
            # is made (screens count down from them), and the time itself is there to show.
            assert rnd.closes_at is not None
            round_view["closes_at"] = chain.time_text(aware(rnd.closes_at))
            round_view["closes_in"] = left
        if activity is not None and results_visible(meeting, rnd):
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
            # The projector shows each proposal's saving or cost while it is voted on.
            "currency": meeting.budget_currency or "GBP",
        },
        "round": round_view,
        # Live while the round is open; the stored snapshot once it has closed.
        "turnout": rnd.turnout.copy()
        if rnd is not None and rnd.turnout
        else turnout.counts(
            session,
            meeting,
            rnd,
            receiver_open=receiver_open and rnd is not None and rnd.status == RoundStatus.OPEN,
        ),
        "show_channels": bool(meeting.show_channels),
        "results": results,
    }


def has_ballots(session: Session, rnd: Round) -> bool:
    assert rnd.id is not None
    return voted_count(session, rnd.id) > 0
