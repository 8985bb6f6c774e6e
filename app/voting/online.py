"""A survey round online for a set period (issue 15): opened now or at a given time, closed by
the server at a given time, extended or ended early from the Run page.

The period is the round's `opened_at` to `closes_at`, with `online` set so screens show dates
("Open until Friday 18 December at 17:00"), not a closing countdown. The closing is the
countdown's own mechanism (app/voting/countdowns.py): ballots at or after `closes_at` are
refused by the ballot writer, and the CountdownCloser closes the round, after a restart too.

A future opening is the same mechanism turned round: the round is created open, with
`opens_at`; the ballot writer refuses ballots before it (clock read at the edge), screens show
it as "scheduled" (rounds.room_state), and the CountdownCloser's pass runs `open_due`, which
clears `opens_at`, sets `opened_at` to it and logs `round.online_opened`, then tells the room.
A round waiting for its opening is open in the database, so no other round can be opened in
the meantime, and voiding it cancels the schedule.

Audit links: `round.online` {"round", "opens_at", "closes_at"} when scheduled (after the
round's `round.opened`), `round.online_opened` {"round"} when a scheduled opening comes,
`round.online_extended` {"round", "closes_at"}; ending early is the usual `round.closed`.

Contract: functions take the caller's session and never commit (like app/voting/rounds.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from app.core.errors import BadInput, Conflict, InvalidForm
from app.core.vocab import SURVEY, RoundStatus
from app.record import chain
from app.rules import online as rule
from app.voting import audit, rounds
from app.voting.models import Meeting, Round


def open_online(
    session: Session,
    meeting: Meeting,
    keys: list[str],
    *,
    kind: str,
    opens_at: datetime | None,
    closes_at: datetime,
    now: datetime,
) -> Round:
    """Open a round of `kind` (a survey) online from `opens_at` (None: now) until `closes_at`.

    Raises:
        InvalidForm: the period is not sound (rules/online.py: an opening in the past, a
            closing not after it, longer than MAX_DAYS); nothing is opened.
        BadInput: `kind` is not the survey.
        Conflict: as rounds.open_round (a round is open, an archived meeting).
    """
    if kind != SURVEY:
        raise BadInput("Only a survey round runs online for a set period.")
    opens = now if opens_at is None or opens_at <= now else opens_at
    if problems := rule.period_problems(opens_at or now, closes_at, now):
        raise InvalidForm(problems)
    rnd = rounds.open_round(session, meeting, keys, kind=kind)
    rnd.online = True
    rnd.closes_at = closes_at
    rnd.opened_at = opens
    rnd.opens_at = opens if opens > now else None
    session.add(rnd)
    assert meeting.id is not None
    audit.record(
        session,
        meeting.id,
        "round.online",
        {
            "round": rnd.number,
            "opens_at": chain.time_text(opens),
            "closes_at": chain.time_text(closes_at),
        },
    )
    return rnd


def _online_round(session: Session, meeting: Meeting, number: int) -> Round:
    rnd = rounds.get_round(session, meeting, number)
    if rnd.status != RoundStatus.OPEN or not rnd.online or rnd.closes_at is None:
        raise Conflict(f"Round {number} is not running online.")
    return rnd


def running(session: Session, meeting: Meeting, number: int) -> bool:
    """Whether round `number` is open online for a set period (or waiting for its opening)."""
    rnd = rounds.get_round(session, meeting, number)
    return rnd.status == RoundStatus.OPEN and bool(rnd.online) and rnd.closes_at is not None


def extend(
    session: Session, meeting: Meeting, number: int, closes_at: datetime, *, now: datetime
) -> Round:
    """Move online round `number`'s closing to `closes_at` (later, or earlier but not past).
    Logged as `round.online_extended`.

    Raises:
        InvalidForm: the closing is past, not after the opening, or the period too long.
        Conflict: the round is not open online, or its period has already ended (`now`).
    """
    rnd = _online_round(session, meeting, number)
    assert rnd.closes_at is not None
    if rounds.aware(rnd.closes_at) <= now:
        raise Conflict(f"Round {number}'s online period has ended.")
    if problems := rule.extension_problems(rounds.aware(rnd.opened_at), closes_at, now):
        raise InvalidForm(problems)
    rnd.closes_at = closes_at
    session.add(rnd)
    assert meeting.id is not None
    audit.record(
        session,
        meeting.id,
        "round.online_extended",
        {"round": number, "closes_at": chain.time_text(closes_at)},
    )
    return rnd


def not_yet_open(rnd: Round, now: datetime) -> bool:
    """Whether `rnd` waits for its scheduled opening at `now` (ballots are refused)."""
    return rnd.opens_at is not None and rounds.aware(rnd.opens_at) > now


def open_due(session: Session, now: datetime) -> list[int]:
    """Open every round whose scheduled opening is at or before `now`, as the server does:
    `opens_at` cleared, logged as `round.online_opened`. Returns the meetings whose round it
    opened. Rows are locked first, so two processes never open one twice."""
    q = (
        select(Round)
        .where(Round.status == RoundStatus.OPEN, col(Round.opens_at).is_not(None))
        .with_for_update()
    )
    opened = []
    for rnd in list(session.exec(q)):
        assert rnd.opens_at is not None
        if rounds.aware(rnd.opens_at) > now:
            continue
        rnd.opened_at, rnd.opens_at = rnd.opens_at, None
        session.add(rnd)
        audit.record(session, rnd.meeting_id, "round.online_opened", {"round": rnd.number})
        opened.append(rnd.meeting_id)
    return opened


def next_open(session: Session) -> datetime | None:
    """When the next scheduled opening is (None: none waits)."""
    q = select(Round.opens_at).where(
        Round.status == RoundStatus.OPEN, col(Round.opens_at).is_not(None)
    )
    times = [rounds.aware(t) for t in session.exec(q) if t is not None]
    return min(times, default=None)
