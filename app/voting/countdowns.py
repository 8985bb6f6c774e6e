"""The server side of "Close in 30 s": a task that closes each round when its countdown ends
(and opens a survey round whose scheduled online opening has come: app/voting/online.py).

Ballots stored at or after a round's `closes_at` are refused by the ballot writer whatever this
task does (ballots.validate_batch reads the clock at the edge), so the close itself may come a
moment late without a ballot slipping in; what this task adds is the close (seal, turnout
snapshot, `round.closed` link) and telling the room. Nothing survives a restart in memory: on
start-up `close_overdue` closes every countdown that ended while the server was down, and the
task sleeps until the next countdown in the database ends (`wake` when one starts or is
cancelled; at most `POLL_S` for countdowns started by another process).

The countdown's actions on a round are here too: `start_countdown`, `cancel_countdown` (the
Run page's buttons) and `close_due` (what the task runs). Like app/voting/rounds.py they take
the caller's session and never commit; `close_due_now` is the task's own transaction.

Contract: `start` once the app runs, `aclose` at shutdown (lifespan-managed: no leaked task).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.core.bounds import COUNTDOWN_SECONDS
from app.core.errors import BadInput, Conflict
from app.core.vocab import RoundStatus
from app.record import chain
from app.voting import audit, online, rounds
from app.voting.db import read_transaction, transaction
from app.voting.meetings import get_meeting
from app.voting.models import Meeting, Round, utcnow

log = logging.getLogger(__name__)

# Another process may start a countdown this one is not told of (scale-out): look this often.
POLL_S = 5.0
# After a failed pass (the database briefly away), try again after this pause.
RETRY_S = 1.0


class CountdownCloser:
    """Closes rounds whose countdown has ended, then calls `changed(meeting_id)` for each."""

    def __init__(
        self,
        engine: Engine,
        changed: Callable[[int], None],
        receiving: Callable[[int], bool] = lambda _: False,
    ) -> None:
        self._engine = engine
        self._changed = changed
        self._receiving = receiving
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def close_overdue(self) -> list[int]:
        """Close every countdown that has ended, and open every scheduled online round whose
        time has come (blocking: at start-up, before serving). Returns the meetings changed."""
        closed, _ = close_due_now(self._engine, self._receiving)
        for meeting_id in closed:
            self._changed(meeting_id)
        return closed

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="covote-countdowns")

    def wake(self) -> None:
        """A countdown started or was cancelled: look again now (from the loop's thread)."""
        self._wake.set()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                closed, next_at = await asyncio.to_thread(
                    close_due_now, self._engine, self._receiving
                )
            except Exception:  # the database away for a moment: the next pass closes it
                log.warning("closing ended countdowns failed; trying again", exc_info=True)
                closed, next_at = [], None
                delay = RETRY_S
            else:
                delay = _delay(next_at, utcnow())
            for meeting_id in closed:
                self._changed(meeting_id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)


def _delay(next_at: datetime | None, now: datetime) -> float:
    """How long to sleep before the next pass: until the next countdown ends, at most POLL_S."""
    if next_at is None:
        return POLL_S
    return min(POLL_S, max(0.0, (next_at - now).total_seconds()))


# --- the countdown's actions on a round -----------------------------------------------------------


def _open_round(session: Session, meeting: Meeting, number: int) -> Round:
    rnd = rounds.get_round(session, meeting, number)
    if rnd.status != RoundStatus.OPEN:
        raise Conflict(f"Round {number} is not open.")
    return rnd


def start_countdown(
    session: Session, meeting: Meeting, number: int, seconds: int, *, now: datetime
) -> Round:
    """Close open round `number` `seconds` from `now` (one of `COUNTDOWN_SECONDS`): phones and
    the projector count down, ballots stored from then on are refused, and the server's
    `CountdownCloser` closes the round. Logged as `round.countdown`.

    Raises:
        BadInput: `seconds` is not one of the choices.
        Conflict: the round is not open, or a countdown already runs.
    """
    if seconds not in COUNTDOWN_SECONDS:
        choices = ", ".join(str(c) for c in COUNTDOWN_SECONDS)
        raise BadInput(f"The countdown is one of {choices} seconds.")
    rnd = _open_round(session, meeting, number)
    if rnd.closes_at is not None:
        raise Conflict(f"Round {number} is already closing: cancel that countdown first.")
    rnd.closes_at = now + timedelta(seconds=seconds)
    session.add(rnd)
    assert meeting.id is not None
    closes = chain.time_text(rnd.closes_at)
    audit.record(
        session,
        meeting.id,
        "round.countdown",
        {"round": number, "seconds": seconds, "closes_at": closes},
    )
    return rnd


def cancel_countdown(session: Session, meeting: Meeting, number: int, *, now: datetime) -> Round:
    """Stop round `number`'s countdown: it stays open. Logged as `round.countdown_cancelled`.

    Raises:
        Conflict: the round is not open, no countdown runs, it has already ended (`now`), or
            the round runs online for a set period (online.py: extend or end it instead).
    """
    rnd = _open_round(session, meeting, number)
    if rnd.online:  # its closing is a date: changed or ended, never left open-ended
        raise Conflict(f"Round {number} runs online: change its closing or end it instead.")
    if rnd.closes_at is None:
        raise Conflict(f"Round {number} has no countdown to cancel.")
    if rounds.aware(rnd.closes_at) <= now:
        raise Conflict(f"Round {number}'s countdown has ended: voting is closed.")
    rnd.closes_at = None
    session.add(rnd)
    assert meeting.id is not None
    audit.record(session, meeting.id, "round.countdown_cancelled", {"round": number})
    return rnd


def close_due(
    session: Session, now: datetime, receiving: Callable[[int], bool] = lambda _: False
) -> list[int]:
    """Close every open round whose countdown ended at or before `now`, as the server does
    (`receiving(meeting_id)`: a keypad receiver serves it, for turnout). Returns the meetings
    whose round it closed. Rows are locked first, so two processes never close one twice."""
    q = (
        select(Round)
        .where(Round.status == RoundStatus.OPEN, col(Round.closes_at).is_not(None))
        .with_for_update()
    )
    closed = []
    for rnd in list(session.exec(q)):
        assert rnd.closes_at is not None
        if rounds.aware(rnd.closes_at) > now:
            continue
        meeting = get_meeting(session, rnd.meeting_id)
        rounds.close_round(
            session, meeting, rnd.number, receiver_open=receiving(rnd.meeting_id), by_countdown=True
        )
        closed.append(rnd.meeting_id)
    return closed


def next_close(session: Session) -> datetime | None:
    """When the next countdown ends (None: none runs)."""
    q = select(Round.closes_at).where(
        Round.status == RoundStatus.OPEN, col(Round.closes_at).is_not(None)
    )
    times = [rounds.aware(t) for t in session.exec(q) if t is not None]
    return min(times, default=None)


def close_due_now(
    engine: Engine, receiving: Callable[[int], bool]
) -> tuple[list[int], datetime | None]:
    """Scheduled online openings that have come (online.open_due), then `close_due`, in a
    transaction of their own; returns the meetings changed and when the next opening or close
    is due (blocking: a worker thread). An online period that ended while the server was down
    is opened and closed in the same pass.

    It looks first in a read transaction and takes the write lock only when something is due:
    the pass runs every few seconds all meeting long, and on SQLite a write transaction, even
    an empty one, queues behind the ballot writer and holds it up."""
    with read_transaction(engine) as session:
        due = _next_due(session)
    if due is None or due > utcnow():
        return [], due
    with transaction(engine) as session:
        now = utcnow()
        changed = online.open_due(session, now) + close_due(session, now, receiving)
        return list(dict.fromkeys(changed)), _next_due(session)


def _next_due(session: Session) -> datetime | None:
    """When the next scheduled opening or countdown's end is (None: none waits)."""
    due = [t for t in (online.next_open(session), next_close(session)) if t is not None]
    return min(due, default=None)
