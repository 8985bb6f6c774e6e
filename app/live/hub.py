"""Live fan-out: one room per meeting, a coalescing ticker, a latest-wins mailbox per connection.

Contract:
- `Hub.changed(meeting_id)` is what services call after a commit. It never sends and never
  awaits: it marks the room dirty.
- Every `1/tick_hz` the ticker renders each dirty room once (state read in a worker thread,
  JSON encoded once) and offers the same string to every mailbox. Cost is connections x tick
  rate, whatever the ballot rate (../shared/realtime.md B.3). When only the turnout changed
  (the usual case while a round is open) the frame is a small `turnout` frame and only screens
  that show turnout (projector, console) get it; phones hear nothing until the round changes.
- Phones get the ballot with the round (issue 14): a phone's connection names its language
  (`Mailbox.locale`), and every snapshot it is offered carries `ballot_html`, the phone page's
  ballot section for that state in that language, rendered once per round state and language
  (`PhoneRender`, in a worker thread) and shared by every phone of that language. So a round
  opening, closing or being revealed reaches every phone in one frame, with no page fetch. The
  section has nothing of the voter's own: the phone fills in its marks from `you` and acks.
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
from app.live.protocol import SnapshotFrame, TurnoutFrame, encode, encode_str

log = logging.getLogger(__name__)

Render = Callable[[int], Snapshot]  # meeting id -> its snapshot (blocking; runs in a thread)
# (snapshot, locale) -> the phone's ballot section as HTML (blocking; runs in a thread)
PhoneRender = Callable[[Snapshot, str], str]


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
    """One connection's frames. Lean, as there is one per phone (10,000 in a process): no
    asyncio.Event (a future exists only while the writer waits) and no personal queue until a
    personal frame comes (scripts/bench: memory per phone)."""

    __slots__ = ("_closed", "_direct", "_limit", "_snapshot", "_waiter", "locale", "voter_id")

    @property
    def wants_turnout(self) -> bool:
        """Projectors and consoles show turnout; a voter's phone does not."""
        return self.voter_id is None

    def __init__(self, limit: int, voter_id: int | None = None, locale: str | None = None) -> None:
        self._snapshot: str | None = None
        self._direct: deque[str] | None = None
        self._limit = limit
        self._waiter: asyncio.Future[None] | None = None
        self._closed: RoomClosed | None = None
        self.voter_id = voter_id
        # A phone page's language: its snapshots carry the ballot section in it. None: a
        # screen (projector, console) or a client that draws the ballot itself.
        self.locale = locale

    @property
    def pending(self) -> bool:
        """A frame is waiting to be sent (the connection has not caught up yet)."""
        return self._snapshot is not None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def offer(self, snapshot: str) -> None:
        self._snapshot = snapshot
        self._wake()

    def push(self, frame: str) -> None:
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


class Room:
    def __init__(self, meeting_id: int) -> None:
        self.meeting_id = meeting_id
        self.seq = int(time.time() * 1000)
        self.snapshot: str | None = None
        self.state: Snapshot | None = None
        # The newest frame to offer: the whole snapshot, or only the turnout when nothing else
        # changed (a ~100-byte frame for screens instead of ~2 KiB for everyone).
        self.frame: str | None = None
        self.turnout_only = False
        self.dirty = True
        self.mailboxes: set[Mailbox] = set()
        # The snapshot with the phone's ballot section, by language (of the phones here), and
        # the rendered sections by language: (what they were rendered from, the HTML).
        self.phone_frames: dict[str, str] = {}
        self.phone_snapshot: str | None = None  # the snapshot phone_frames were made from
        self.ballots: dict[str, tuple[str, str]] = {}

    def frame_for(self, box: Mailbox) -> str:
        """The full snapshot as `box` takes it: with the ballot section for a phone."""
        assert self.snapshot is not None
        if box.locale is None or self.phone_snapshot is not self.snapshot:
            return self.snapshot  # (the phone fetches the section: GET /m/{code}/ballot)
        return self.phone_frames.get(box.locale, self.snapshot)


class Hub:
    def __init__(
        self,
        render: Render,
        *,
        tick_hz: float,
        direct_backlog: int = 64,
        broadcast: Broadcast | None = None,
        resync_s: float | None = None,
        phone_render: PhoneRender | None = None,
    ) -> None:
        self._render = render
        self._phone_render = phone_render
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
        self, meeting_id: int, voter_id: int | None = None, locale: str | None = None
    ) -> Mailbox:
        """A new connection: it gets the current snapshot at once (resync on every connect);
        with a `locale`, a phone's: the snapshot carries the ballot section in that language."""
        room = self.rooms.get(meeting_id)
        if room is None:
            room = self.rooms[meeting_id] = Room(meeting_id)
        if locale is not None and self._phone_render is None:
            locale = None
        if room.snapshot is None:
            await self._refresh(room, extra_locale=locale)
        elif locale is not None and locale not in room.phone_frames:
            await self._render_phones(room, {locale})
        box = Mailbox(self._backlog, voter_id, locale)
        room.mailboxes.add(box)
        room.dirty = True  # the connected count changed
        box.offer(room.frame_for(box))
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
        return len(room.mailboxes) if room else 0

    async def _refresh(self, room: Room, extra_locale: str | None = None) -> None:
        room.dirty = False
        state = await asyncio.to_thread(self._render, room.meeting_id)
        state["turnout"]["connected"] = len(room.mailboxes)
        previous, room.state = room.state, state
        room.seq += 1
        frame: SnapshotFrame = {**state, "seq": room.seq}
        room.snapshot = encode(frame)
        room.turnout_only = previous is not None and _without_turnout(previous) == _without_turnout(
            state
        )
        turnout: TurnoutFrame = {"type": "turnout", "seq": room.seq, "turnout": state["turnout"]}
        room.frame = encode(turnout) if room.turnout_only else room.snapshot
        locales = {box.locale for box in room.mailboxes if box.locale is not None}
        if extra_locale is not None:
            locales.add(extra_locale)
        await self._render_phones(room, locales)

    async def _render_phones(self, room: Room, locales: set[str]) -> None:
        """Add the snapshot with the ballot section for phones in `locales` to
        `room.phone_frames`. Each section is rendered once per state of the round and language
        (in a worker thread), then spliced into the snapshot's JSON, which is not encoded again."""
        if not locales or self._phone_render is None or room.state is None:
            return
        state, snapshot, render = room.state, room.snapshot, self._phone_render
        assert snapshot is not None and snapshot.endswith("}")
        # What the section is drawn from: the round and the meeting (its code and texts).
        key = encode({"round": state["round"], "meeting": state["meeting"]})
        stale = sorted(loc for loc in locales if room.ballots.get(loc, ("", ""))[0] != key)
        if stale:

            def draw() -> dict[str, str]:
                return {loc: render(state, loc) for loc in stale}

            try:
                drawn = await asyncio.to_thread(draw)
            except Exception:
                # Phones then get the plain snapshot and fetch the section over HTTP: a
                # template error must not stop the projector's updates.
                log.exception("drawing the phone's ballot for meeting %s failed", room.meeting_id)
                return
            for loc, html in drawn.items():
                room.ballots[loc] = (key, html)
        if room.snapshot is not snapshot:
            return  # a newer refresh ran meanwhile and draws its own
        frames = dict(room.phone_frames) if room.phone_snapshot is snapshot else {}
        for loc in locales:
            html = room.ballots[loc][1]
            frames[loc] = f'{snapshot[:-1]},"ballot_html":{encode_str(html)}}}'
        room.phone_frames, room.phone_snapshot = frames, snapshot

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
                        box.offer(room.frame_for(box))
                    elif box.pending:
                        # Never let a turnout frame replace a snapshot not yet sent: it would
                        # lose the change (e.g. the round closing) that snapshot carries.
                        box.offer(room.frame_for(box))
                    elif box.wants_turnout:
                        box.offer(room.frame)


def _without_turnout(state: Snapshot) -> dict[str, object]:
    return {k: v for k, v in state.items() if k != "turnout"}
