"""A connection's mailbox: the newest snapshot only, plus a short queue of personal frames.

Contract: one `Mailbox` per WebSocket connection (`app/web/ws.py` owns the socket and its
writer task; `app/live/hub.py` offers every room's frames). `offer` replaces any snapshot not
yet sent (a slow phone skips snapshots and never delays anyone else); `push` queues a personal
frame (ack, error) that is never dropped and goes out in order before any snapshot, up to a
limit (`TooSlow`); `close` ends the connection (`RoomClosed`). With a `sink`, a frame is
written at once when nothing is queued and the writer is not sending, so the order is kept.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from app.live.protocol import wire_text

# Writes a whole pre-encoded WebSocket frame now if the socket takes it without waiting;
# False (nothing written) otherwise (ws.py).
Sink = Callable[[bytes], bool]


class TooSlow(Exception):
    """The connection let its personal queue fill up: close it; the client resyncs."""


class RoomClosed(Exception):
    """The connection's meeting is gone: close it with `code` and `reason` (no resync)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


class Mailbox:
    """One connection's frames. Lean, as there is one per phone (10,000 in a process): no
    asyncio.Event (a future exists only while the writer waits) and no personal queue until a
    personal frame comes (scripts/bench: memory per phone)."""

    __slots__ = (
        "_closed",
        "_direct",
        "_limit",
        "_snapshot",
        "_waiter",
        "counted",
        "locale",
        "sending",
        "sink",
        "voter_id",
    )

    @property
    def wants_turnout(self) -> bool:
        """Projectors and consoles show turnout; a voter's phone does not."""
        return self.voter_id is None

    def __init__(
        self,
        limit: int,
        voter_id: int | None = None,
        locale: str | None = None,
        *,
        counted: bool = True,
    ) -> None:
        self._snapshot: str | None = None
        self._direct: deque[str] | None = None
        self._limit = limit
        self._waiter: asyncio.Future[None] | None = None
        self._closed: RoomClosed | None = None
        self.voter_id = voter_id
        # A phone page's language: its snapshots carry the ballot section in it. None: a
        # screen (projector, console) or a client that draws the ballot itself.
        self.locale = locale
        # In the room's `connected` count; not the presenter view's preview of the projector.
        self.counted = counted
        # Set by the connection (ws.py): the fast path, and whether its writer is mid-send.
        self.sink: Sink | None = None
        self.sending = False

    @property
    def pending(self) -> bool:
        """A frame is waiting to be sent (the connection has not caught up yet)."""
        return self._snapshot is not None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _writes_now(self) -> bool:
        """Nothing queued, nothing being sent, not closed: a frame written now keeps the order."""
        return (
            self.sink is not None
            and not self.sending
            and self._snapshot is None
            and not self._direct
            and self._closed is None
        )

    def offer(self, snapshot: str, wire: bytes | None = None) -> None:
        """The newest snapshot (`wire`: the same, as a whole WebSocket frame) replaces any
        snapshot not yet sent."""
        if self._writes_now() and wire is not None and self.sink is not None and self.sink(wire):
            return
        self._snapshot = snapshot
        self._wake()

    def push(self, frame: str) -> None:
        """A personal frame (ack, error): never dropped, sent in order, before any snapshot.

        Raises:
            TooSlow: `limit` personal frames are already waiting.
        """
        if self._writes_now() and self.sink is not None and self.sink(wire_text(frame)):
            return
        if self._direct is None:
            self._direct = deque()
        elif len(self._direct) >= self._limit:
            raise TooSlow
        self._direct.append(frame)
        self._wake()

    def close(self, code: int, reason: str) -> None:
        """End the connection: `take` raises RoomClosed from now on, frames or not."""
        self._closed = RoomClosed(code, reason)
        self._wake()

    async def take(self) -> str:
        """Personal frames first, in order; then the newest snapshot.

        Raises:
            RoomClosed: the room was closed (`close`); nothing more is sent.
        """
        while True:
            if self._closed is not None:
                raise self._closed
            if self._direct:
                frame = self._direct.popleft()
                if not self._direct:
                    self._direct = None  # most connections never hold a personal frame
                return frame
            if self._snapshot is not None:
                frame, self._snapshot = self._snapshot, None
                return frame
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
