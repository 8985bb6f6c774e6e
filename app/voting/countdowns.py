"""The server side of "Close in 30 s": a task that closes each round when its countdown ends.

Ballots stored at or after a round's `closes_at` are refused by the ballot writer whatever this
task does (ballots.validate_batch reads the clock at the edge), so the close itself may come a
moment late without a ballot slipping in; what this task adds is the close (seal, turnout
snapshot, `round.closed` link) and telling the room. Nothing survives a restart in memory: on
start-up `close_overdue` closes every countdown that ended while the server was down, and the
task sleeps until the next countdown in the database ends (`wake` when one starts or is
cancelled; at most `POLL_S` for countdowns started by another process).

Contract: `start` once the app runs, `aclose` at shutdown (lifespan-managed: no leaked task).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine

from app.voting import rounds
from app.voting.models import utcnow

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
        """Close every countdown that has ended (blocking: at start-up, before serving)."""
        closed, _ = rounds.close_due_now(self._engine, self._receiving)
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
                    rounds.close_due_now, self._engine, self._receiving
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
