"""Live fan-out: one room per meeting, a coalescing ticker, a latest-wins mailbox per connection.

Contract:
- `Hub.changed(meeting_id)` is what services call after a commit. It never sends and never
  awaits: it marks the room dirty.
- Every `1/tick_hz` the ticker renders each dirty room once (state read in a worker thread,
  JSON encoded once) and offers the same string to every mailbox. Cost is connections x tick
  rate, whatever the ballot rate (../shared/realtime.md B.3). When only the turnout changed
  (the usual case while a round is open) the frame is a small `turnout` frame and only screens
  that show turnout (projector, console) get it; phones hear nothing until the round changes.
- A mailbox holds the newest snapshot only, plus a short queue of personal frames (acks,
  errors). A slow phone skips snapshots; it never delays anyone else. The hub never awaits a
  socket; `ws.py` owns sending, with a deadline.
- `seq` starts at the wall clock in milliseconds and then increases, so it still increases
  across a server restart and a reconnecting client can always drop an older frame.
- A meeting that no longer exists (deleted) has its room closed (`close_room`): every
  connection ends with close code 4404, which clients take as "gone" and do not retry. The
  process that deleted it closes the room at once; the others when their render finds no
  meeting. No connection of a deleted meeting outlives it, so none can act in a later meeting
  that reuses its id (SQLite reuses the highest row ids once their rows are deleted).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable

from app.core.errors import NotFound
from app.core.shapes import Snapshot
from app.live.broadcast import Broadcast, LocalBroadcast
from app.live.protocol import SnapshotFrame, TurnoutFrame, encode

log = logging.getLogger(__name__)

Render = Callable[[int], Snapshot]  # meeting id -> its snapshot (blocking; runs in a thread)


class TooSlow(Exception):
    """The connection let its personal queue fill up: close it; the client resyncs."""


class RoomClosed(Exception):
    """The connection's meeting is gone: close it with `code` and `reason` (no resync)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


GONE = 4404  # the close code for "this meeting does not exist" (live.js: no reconnect)


class Mailbox:
    __slots__ = ("_closed", "_direct", "_limit", "_ready", "_snapshot", "counted", "voter_id")

    @property
    def wants_turnout(self) -> bool:
        """Projectors and consoles show turnout; a voter's phone does not."""
        return self.voter_id is None

    def __init__(self, limit: int, voter_id: int | None = None, *, counted: bool = True) -> None:
        self._snapshot: str | None = None
        self._direct: deque[str] = deque()
        self._limit = limit
        self._ready = asyncio.Event()
        self._closed: RoomClosed | None = None
        self.voter_id = voter_id
        # In the room's `connected` count; not the presenter view's preview of the projector.
        self.counted = counted

    @property
    def pending(self) -> bool:
        """A frame is waiting to be sent (the connection has not caught up yet)."""
        return self._snapshot is not None

    def offer(self, snapshot: str) -> None:
        self._snapshot = snapshot
        self._ready.set()

    def push(self, frame: str) -> None:
        if len(self._direct) >= self._limit:
            raise TooSlow
        self._direct.append(frame)
        self._ready.set()

    def close(self, code: int, reason: str) -> None:
        """End the connection: `take` raises RoomClosed from now on, frames or not."""
        self._closed = RoomClosed(code, reason)
        self._ready.set()

    async def take(self) -> str:
        """Personal frames first, in order; then the newest snapshot.

        Raises:
            RoomClosed: the room was closed (`close`); nothing more is sent.
        """
        while True:
            if self._closed is not None:
                raise self._closed
            if self._direct:
                return self._direct.popleft()
            if self._snapshot is not None:
                frame, self._snapshot = self._snapshot, None
                return frame
            self._ready.clear()
            await self._ready.wait()


class Room:
    def __init__(self, meeting_id: int) -> None:
        self.meeting_id = meeting_id
        self.seq = int(time.time() * 1000)
        self.snapshot: str | None = None
        self.state: Snapshot | None = None
        self.rendered_at = 0.0  # time.monotonic() of the last render
        # The newest frame to offer: the whole snapshot, or only the turnout when nothing else
        # changed (a ~100-byte frame for screens instead of ~2 KiB for everyone).
        self.frame: str | None = None
        self.turnout_only = False
        self.dirty = True
        self.mailboxes: set[Mailbox] = set()


class Hub:
    def __init__(
        self,
        render: Render,
        *,
        tick_hz: float,
        direct_backlog: int = 64,
        broadcast: Broadcast | None = None,
        resync_s: float | None = None,
    ) -> None:
        self._render = render
        self._tick_s = 1.0 / tick_hz
        self._backlog = direct_backlog
        self._broadcast = broadcast or LocalBroadcast()
        # With other processes writing, re-read every room this often even without a signal:
        # bounds how stale a lost signal can leave a projector.
        self._resync_s = resync_s
        self.rooms: dict[int, Room] = {}
        self._outbox: set[int] = set()
        self._outbox_ready = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._ticker(), name="hub-ticker"))
        self._tasks.append(asyncio.create_task(self._publisher(), name="hub-publisher"))
        await self._broadcast.start(self._on_signal)

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._broadcast.aclose()

    def changed(self, meeting_id: int) -> None:
        """After a commit: mark the room dirty here and tell the other processes. Never waits."""
        self._on_signal(meeting_id)
        self._outbox.add(meeting_id)
        self._outbox_ready.set()

    def _on_signal(self, meeting_id: int | None) -> None:
        rooms = self.rooms.values() if meeting_id is None else [self.rooms.get(meeting_id)]
        for room in rooms:
            if room is not None:
                room.dirty = True

    async def _publisher(self) -> None:
        while True:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            pending, self._outbox = self._outbox, set()
            for meeting_id in pending:
                await self._broadcast.publish(meeting_id)

    async def join(
        self, meeting_id: int, voter_id: int | None = None, *, counted: bool = True
    ) -> Mailbox:
        """A new connection: it gets the current snapshot at once (resync on every connect).
        `counted`: in the room's `connected` count (False: the presenter view's preview)."""
        room = self.rooms.get(meeting_id)
        if room is None:
            room = self.rooms[meeting_id] = Room(meeting_id)
        if room.snapshot is None or _stale_countdown(room):
            await self._refresh(room)
        box = Mailbox(self._backlog, voter_id, counted=counted)
        room.mailboxes.add(box)
        room.dirty = True  # the connected count changed
        assert room.snapshot is not None
        box.offer(room.snapshot)
        return box

    def leave(self, meeting_id: int, box: Mailbox) -> None:
        room = self.rooms.get(meeting_id)
        if room is None:
            return
        room.mailboxes.discard(box)
        room.dirty = True
        if not room.mailboxes:
            del self.rooms[meeting_id]

    def close_room(self, meeting_id: int, reason: str = "meeting deleted") -> None:
        """The meeting is gone: end every connection to it (close code 4404) and drop its room."""
        room = self.rooms.pop(meeting_id, None)
        if room is None:
            return
        for box in room.mailboxes:
            box.close(GONE, reason)

    def connected(self, meeting_id: int) -> int:
        room = self.rooms.get(meeting_id)
        return _counted(room) if room else 0

    async def _refresh(self, room: Room) -> None:
        room.dirty = False
        room.rendered_at = time.monotonic()
        state = await asyncio.to_thread(self._render, room.meeting_id)
        state["turnout"]["connected"] = _counted(room)
        previous, room.state = room.state, state
        room.seq += 1
        frame: SnapshotFrame = {**state, "seq": room.seq}
        room.snapshot = encode(frame)
        room.turnout_only = previous is not None and _without_turnout(previous) == _without_turnout(
            state
        )
        turnout: TurnoutFrame = {"type": "turnout", "seq": room.seq, "turnout": state["turnout"]}
        room.frame = encode(turnout) if room.turnout_only else room.snapshot

    async def _ticker(self) -> None:
        loop = asyncio.get_running_loop()
        next_resync = loop.time() + (self._resync_s or 0)
        while True:
            await asyncio.sleep(self._tick_s)
            if self._resync_s is not None and loop.time() >= next_resync:
                next_resync = loop.time() + self._resync_s
                self._on_signal(None)
            for room in list(self.rooms.values()):
                if not room.dirty:
                    continue
                try:
                    await self._refresh(room)
                except NotFound:
                    # Deleted (in another process, or between a signal and this tick).
                    self.close_room(room.meeting_id)
                    continue
                except Exception:
                    # A failed render (database briefly unavailable) must not stop the ticker for
                    # every meeting: keep the room dirty and try again next tick.
                    log.exception("rendering meeting %s failed", room.meeting_id)
                    room.dirty = True
                    continue
                assert room.frame is not None
                for box in room.mailboxes:
                    if not room.turnout_only:
                        box.offer(room.frame)
                    elif box.pending:
                        # Never let a turnout frame replace a snapshot not yet sent: it would
                        # lose the change (e.g. the round closing) that snapshot carries.
                        assert room.snapshot is not None
                        box.offer(room.snapshot)
                    elif box.wants_turnout:
                        box.offer(room.frame)


# A countdown's seconds left in a snapshot older than this are rendered again for a new
# connection (at most one render a second however many phones reconnect during it).
COUNTDOWN_STALE_S = 1.0


def _stale_countdown(room: Room) -> bool:
    """The room's snapshot counts a countdown down from seconds that are out of date."""
    rnd = room.state["round"] if room.state is not None else None
    return (
        rnd is not None
        and "closes_in" in rnd
        and time.monotonic() - room.rendered_at > COUNTDOWN_STALE_S
    )


def _counted(room: Room) -> int:
    return sum(1 for box in room.mailboxes if box.counted)


def _without_turnout(state: Snapshot) -> dict[str, object]:
    """What a full snapshot is sent for: all but the turnout, and but a countdown's seconds
    left, which tick down by themselves between renders (screens count down from the first
    ones they get; `closes_at` says when it ends), so a ballot during a countdown is still a
    small turnout frame, not a snapshot to every phone once a second."""
    out: dict[str, object] = {k: v for k, v in state.items() if k != "turnout"}
    rnd = state["round"]
    if rnd is not None and "closes_in" in rnd:
        out["round"] = {k: v for k, v in rnd.items() if k != "closes_in"}
    return out
