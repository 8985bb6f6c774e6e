"""Live fan-out: a room per meeting, a leading-edge throttle, a mailbox per connection.

Contract:
- `Hub.changed(meeting_id)` is what services call after a commit. It never sends and never
  awaits: it marks the room dirty.
- A leading-edge throttle with a trailing send, per room: a change to a room that sent nothing
  in the last `1/tick_hz` is rendered at once (a quiet room shows a ballot within a frame);
  a change within that interval only marks the room dirty, and the room is rendered once at
  the end of the interval (trailing), with every change made meanwhile. So a room's renders
  start at most once per interval (timed from each render's start), and its last state always
  goes out. A render reads the
  state in a worker thread and encodes it once (JSON, and the whole WebSocket frame); the
  same string goes to every mailbox. Cost is connections x tick rate at most, whatever the
  ballot rate (../shared/realtime.md B.3, B.6). When only the turnout changed
  (the usual case while a round is open) the frame is a small `turnout` frame and only screens
  that show turnout (projector, console) get it; phones hear nothing until the round changes.
- `Hub.counted(meeting_id)` is `changed` for a commit that changed only who is counted (a
  ballot, a join): the room may then read just its turnout (`turnout_render`, a few counting
  queries instead of the whole state) and send screens a turnout frame, up to `turnout_hz`
  times a second (one throttle, two intervals: `_due_at`). A whole render still starts at most
  `tick_hz` times a second; a turnout frame goes out between two whole renders, never
  instead of one that is due. So a busy room shows each ballot on the projector within
  ~1/turnout_hz, at the cost of counting queries, not of whole snapshots.
- Phones get the ballot with the round (issue 14): a phone's connection names its language
  (`Mailbox.locale`), and every snapshot it is offered carries `ballot_html`, the phone page's
  ballot section for that state in that language, rendered once per round state and language
  (`PhoneRender`, in a worker thread) and shared by every phone of that language. So a round
  opening, closing or being revealed reaches every phone in one frame, with no page fetch. The
  section has nothing of the voter's own: the phone fills in its marks from `you` and acks.
- Every connection has a `Mailbox` (app/live/mailbox.py): the newest snapshot only, plus its
  personal frames. A slow phone skips snapshots; it never delays anyone else. The hub never
  awaits a socket; `ws.py` owns sending, with a deadline.
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
from typing import Protocol

from app.core.errors import NotFound
from app.core.shapes import LiveTurnout, Snapshot
from app.live.broadcast import Broadcast, LocalBroadcast
from app.live.mailbox import Mailbox
from app.live.presence import LocalPresence, Presence
from app.live.protocol import SnapshotFrame, TurnoutFrame, encode, encode_str, wire_text

log = logging.getLogger(__name__)

Render = Callable[[int], Snapshot]  # meeting id -> its snapshot (blocking; runs in a thread)
# (snapshot, locale) -> the phone's ballot section as HTML (blocking; runs in a thread)
PhoneRender = Callable[[Snapshot, str], str]
# (meeting id, its last snapshot) -> only its turnout now, or None when that cannot stand for
# a whole render (blocking; runs in a thread). See `Hub.counted`.
TurnoutRender = Callable[[int, Snapshot], LiveTurnout | None]


GONE = 4404  # the close code for "this meeting does not exist" (live.js: no reconnect)
# A room's turnout frames are spaced by at least this many times the CPU time reading its
# turnout last took: they never take more than about a fifth of the server, however slow the
# counting queries get (a huge meeting), so ballots keep the rest; but never further apart than
# whole renders (1/tick_hz), so a busy server shows ballots at least as often as without them.
# CPU time, not wall time: on a saturated server wall time is mostly waiting for the GIL, and
# backing off on it made the projector slower than the ticker (scripts/bench, latency).
TURNOUT_SPACING = 4.0


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """Time for the throttle: the event loop's by default; tests give a fake one."""

    def now(self) -> float: ...
    def call_at(self, when: float, callback: Callable[[], None]) -> Timer: ...


class LoopClock:
    """The running event loop's monotonic clock and timers."""

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        return asyncio.get_running_loop().call_at(when, callback)


class Room:
    def __init__(self, meeting_id: int) -> None:
        self.meeting_id = meeting_id
        self.seq = int(time.time() * 1000)
        self.snapshot: str | None = None
        self.snapshot_wire: bytes | None = None
        self.state: Snapshot | None = None
        self.refreshed_at = 0.0  # time.monotonic() when its state was last read (countdowns)
        # The newest frame to offer: the whole snapshot, or only the turnout when nothing else
        # changed (a ~100-byte frame for screens instead of ~2 KiB for everyone).
        self.frame: str | None = None
        self.frame_wire: bytes | None = None
        self.turnout_only = False
        self.dirty = True  # something changed since the last render began
        self.full = True  # ... and not only the turnout (`Hub.counted`): a whole render is due
        self.mailboxes: set[Mailbox] = set()
        # The throttle: when the last render of any kind began, and the last whole one; a
        # trailing render's timer and its time; whether the room waits in the render queue or
        # is being rendered.
        self.rendered_at = float("-inf")
        self.full_at = float("-inf")
        self.timer: Timer | None = None
        self.timer_at = float("inf")
        # `snapshot` carries an older turnout than `state` (turnout frames went out since it
        # was encoded): re-encoded before anyone is given it (`Hub._fresh_snapshot`).
        self.snapshot_stale = False
        self.turnout_cost = 0.0  # CPU seconds reading its turnout alone last took
        self.queued = False
        self.rendering = False
        # The snapshot with the phone's ballot section, by language (of the phones here), and
        # the rendered sections by language: (what they were rendered from, the HTML).
        self.phone_frames: dict[str, tuple[str, bytes]] = {}
        self.phone_snapshot: str | None = None  # the snapshot phone_frames were made from
        self.ballots: dict[str, tuple[str, str]] = {}

    def frame_for(self, box: Mailbox) -> tuple[str, bytes | None]:
        """The full snapshot as `box` takes it, and as a whole WebSocket frame: with the ballot
        section for a phone."""
        assert self.snapshot is not None
        if box.locale is not None and self.phone_snapshot is self.snapshot:
            got = self.phone_frames.get(box.locale)
            if got is not None:
                return got
        return self.snapshot, self.snapshot_wire  # (a phone then fetches GET /m/{code}/ballot)


class Hub:
    def __init__(
        self,
        render: Render,
        *,
        tick_hz: float,
        direct_backlog: int = 64,
        broadcast: Broadcast | None = None,
        resync_s: float | None = None,
        clock: Clock | None = None,
        phone_render: PhoneRender | None = None,
        turnout_render: TurnoutRender | None = None,
        turnout_hz: float | None = None,
        presence: Presence | None = None,
        cpu_clock: Callable[[], float] = time.thread_time,
    ) -> None:
        self._render = render
        self._cpu_clock = cpu_clock  # a thread's CPU time: what reading the turnout costs
        # turnout.connected over every process (app/live/presence.py); one process: its own
        self._presence: Presence = presence or LocalPresence()
        self._phone_render = phone_render
        self._turnout_render = turnout_render
        self._tick_s = 1.0 / tick_hz
        # Turnout frames (to screens only) may go out this often; whole renders tick_hz.
        self._turnout_s = 1.0 / turnout_hz if turnout_render and turnout_hz else self._tick_s
        self._backlog = direct_backlog
        self._broadcast = broadcast or LocalBroadcast()
        self._clock: Clock = clock or LoopClock()
        # With other processes writing, re-read every room this often even without a signal:
        # bounds how stale a lost signal can leave a projector.
        self._resync_s = resync_s
        self.rooms: dict[int, Room] = {}
        self._outbox: set[int] = set()
        self._outbox_ready = asyncio.Event()
        self._due: deque[Room] = deque()  # rooms to render now, in the order they became due
        self._due_ready = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._renderer(), name="hub-renderer"))
        self._tasks.append(asyncio.create_task(self._publisher(), name="hub-publisher"))
        if self._resync_s is not None:
            self._tasks.append(asyncio.create_task(self._resyncer(), name="hub-resync"))
        await self._broadcast.start(self._on_signal)

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for room in self.rooms.values():
            self._cancel_timer(room)
        await self._broadcast.aclose()

    def changed(self, meeting_id: int) -> None:
        """After a commit: mark the room dirty here and tell the other processes. Never waits."""
        self._on_signal(meeting_id)
        self._tell_others(meeting_id)

    def counted(self, meeting_id: int) -> None:
        """After a commit that changed only who is counted (ballots, joins): as `changed`, but
        this process may send screens just the new turnout, read on its own (`turnout_render`,
        far cheaper than a whole render), up to `turnout_hz` times a second. Other processes
        are told as for `changed` (they render it whole, at most `tick_hz`)."""
        room = self.rooms.get(meeting_id)
        if room is not None:
            self._poke(room, full=False)
        self._tell_others(meeting_id)

    def _tell_others(self, meeting_id: int) -> None:
        if isinstance(self._broadcast, LocalBroadcast):
            return  # one process: nobody to tell (and no publisher wake-up per ballot)
        self._outbox.add(meeting_id)
        self._outbox_ready.set()

    def _on_signal(self, meeting_id: int | None) -> None:
        rooms = list(self.rooms.values()) if meeting_id is None else [self.rooms.get(meeting_id)]
        for room in rooms:
            if room is not None:
                self._poke(room)

    def _cheap(self, room: Room) -> bool:
        """A turnout-only change of this room can be rendered on its own."""
        return self._turnout_render is not None and room.state is not None

    def _due_at(self, room: Room) -> float:
        """When the room may render next: one tick after its last render while its turnout
        cannot be read alone; else one turnout interval after it (or `TURNOUT_SPACING` times
        what reading the turnout last took, if longer). The renderer then renders it whole if
        a whole render is due (one tick after the last whole one), else only its turnout."""
        if not self._cheap(room):
            return room.rendered_at + self._tick_s
        spacing = min(self._tick_s, TURNOUT_SPACING * room.turnout_cost)
        return room.rendered_at + max(self._turnout_s, spacing)

    def _poke(self, room: Room, *, full: bool = True) -> None:
        """The throttle: render now if the room is due (`_due_at`), else once when it is. A room
        already queued or rendering is only marked dirty: what is under way picks the change
        up (a render in progress re-pokes when done); a timer is brought forward if the change
        may go out sooner."""
        room.dirty = True
        room.full = room.full or full
        if room.queued or room.rendering:
            return
        due = self._due_at(room)
        if room.timer is not None:
            if room.timer_at <= due:
                return
            self._cancel_timer(room)
        if self._clock.now() >= due:
            self._enqueue(room)
        else:
            room.timer_at = due
            room.timer = self._clock.call_at(due, lambda: self._fire(room))

    def _fire(self, room: Room) -> None:
        room.timer = None
        room.timer_at = float("inf")
        self._enqueue(room)

    def _enqueue(self, room: Room) -> None:
        room.queued = True
        self._due.append(room)
        self._due_ready.set()

    @staticmethod
    def _cancel_timer(room: Room) -> None:
        if room.timer is not None:
            room.timer.cancel()
            room.timer = None
            room.timer_at = float("inf")

    async def _publisher(self) -> None:
        while True:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            pending, self._outbox = self._outbox, set()
            for meeting_id in pending:
                await self._broadcast.publish(meeting_id)

    async def join(
        self,
        meeting_id: int,
        voter_id: int | None = None,
        locale: str | None = None,
        *,
        counted: bool = True,
    ) -> Mailbox:
        """A new connection: it gets the current snapshot at once (resync on every connect);
        with a `locale`, a phone's: the snapshot carries the ballot section in that language.
        `counted`: in the room's `connected` count (False: the presenter view's preview)."""
        room = self.rooms.get(meeting_id)
        if room is None:
            room = self.rooms[meeting_id] = Room(meeting_id)
        if locale is not None and self._phone_render is None:
            locale = None
        if room.snapshot is None or _stale_countdown(room):
            room.rendered_at = room.full_at = self._clock.now()
            await self._refresh(room, extra_locale=locale)
        else:
            self._fresh_snapshot(room)
            if locale is not None and locale not in room.phone_frames:
                await self._render_phones(room, {locale})
        box = Mailbox(self._backlog, voter_id, locale, counted=counted)
        room.mailboxes.add(box)
        self._poke(room, full=False)  # the connected count changed
        box.offer(*room.frame_for(box))
        return box

    def leave(self, meeting_id: int, box: Mailbox) -> None:
        room = self.rooms.get(meeting_id)
        if room is None:
            return
        room.mailboxes.discard(box)
        if not room.mailboxes:
            self._cancel_timer(room)
            del self.rooms[meeting_id]
            self._presence.forget(meeting_id)
            return
        self._poke(room, full=False)

    def close_room(self, meeting_id: int, reason: str = "meeting deleted") -> None:
        """The meeting is gone: end every connection to it (close code 4404) and drop its room."""
        room = self.rooms.pop(meeting_id, None)
        if room is None:
            return
        self._cancel_timer(room)
        for box in room.mailboxes:
            box.close(GONE, reason)

    def connected(self, meeting_id: int) -> int:
        room = self.rooms.get(meeting_id)
        return _counted(room) if room else 0

    async def _refresh(self, room: Room, extra_locale: str | None = None) -> None:
        room.dirty = room.full = room.snapshot_stale = False
        room.refreshed_at = time.monotonic()
        # counted here, on the loop: the thread must not walk a set that joins change
        local = _counted(room)
        state, connected = await asyncio.to_thread(self._render_counted, room.meeting_id, local)
        # The other processes' count from the thread, this process's as it is now: a socket
        # that joined while the state was read is in the frame it will get.
        state["turnout"]["connected"] = connected - local + _counted(room)
        previous, room.state = room.state, state
        room.seq += 1
        frame: SnapshotFrame = {**state, "seq": room.seq}
        room.snapshot = encode(frame)
        room.snapshot_wire = wire_text(room.snapshot)
        room.turnout_only = previous is not None and _without_turnout(previous) == _without_turnout(
            state
        )
        if room.turnout_only:
            turnout: TurnoutFrame = {
                "type": "turnout",
                "seq": room.seq,
                "turnout": state["turnout"],
            }
            room.frame = encode(turnout)
            room.frame_wire = wire_text(room.frame)
        else:
            room.frame, room.frame_wire = room.snapshot, room.snapshot_wire
        locales = {box.locale for box in room.mailboxes if box.locale is not None}
        if extra_locale is not None:
            locales.add(extra_locale)
        await self._render_phones(room, locales)

    def _turnout_counted(
        self, meeting_id: int, previous: Snapshot, local: int
    ) -> tuple[LiveTurnout | None, int, float]:
        """In a worker thread: the meeting's turnout alone (`turnout_render`), its connections
        over every process (`local`: this process's) and the CPU time reading the turnout took."""
        assert self._turnout_render is not None
        began = self._cpu_clock()
        turnout = self._turnout_render(meeting_id, previous)
        cost = self._cpu_clock() - began
        total = self._presence.total(meeting_id, local) if turnout is not None else local
        return turnout, total, cost

    def _render_counted(self, meeting_id: int, local: int) -> tuple[Snapshot, int]:
        """In a worker thread: the meeting's state, and its connections over every process
        (`local`: this process's)."""
        return self._render(meeting_id), self._presence.total(meeting_id, local)

    async def _render_phones(self, room: Room, locales: set[str]) -> None:
        """Add the snapshot with the ballot section for phones in `locales` to
        `room.phone_frames`. Each section is rendered once per state of the round and language
        (in a worker thread), then spliced into the snapshot's JSON, which is not encoded again."""
        if not locales or self._phone_render is None or room.state is None:
            return
        state, snapshot, render = room.state, room.snapshot, self._phone_render
        assert snapshot is not None and snapshot.endswith("}")
        key = _ballot_key(state)
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
        if room.snapshot is not snapshot and (room.state is None or _ballot_key(room.state) != key):
            return  # the round changed meanwhile: its refresh draws its own
        # (A snapshot re-encoded meanwhile for its turnout alone takes the same sections.)
        self._splice_phones(room, locales)

    @staticmethod
    def _splice_phones(room: Room, locales: set[str]) -> None:
        """The phones' frames of `room.snapshot`: the sections drawn for it, spliced in."""
        snapshot = room.snapshot
        assert snapshot is not None
        frames = dict(room.phone_frames) if room.phone_snapshot is snapshot else {}
        for loc in locales:
            html = room.ballots[loc][1]
            text = f'{snapshot[:-1]},"ballot_html":{encode_str(html)}}}'
            frames[loc] = (text, wire_text(text))
        room.phone_frames, room.phone_snapshot = frames, snapshot

    def _fresh_snapshot(self, room: Room) -> None:
        """Re-encode the room's snapshot with the turnout that turnout frames have sent since it
        was made (no database read, no section drawn), before anyone is given it whole."""
        if not room.snapshot_stale or room.state is None:
            return
        locales = set(room.phone_frames) if room.phone_snapshot is room.snapshot else set()
        frame: SnapshotFrame = {**room.state, "seq": room.seq}
        room.snapshot = encode(frame)
        room.snapshot_wire = wire_text(room.snapshot)
        room.snapshot_stale = False
        self._splice_phones(room, locales)

    async def _refresh_turnout(self, room: Room) -> bool:
        """Only the turnout, read on its own (`turnout_render`), as the room's next frame: a
        `turnout` frame for screens. False when it cannot stand for a whole render."""
        previous = room.state
        assert previous is not None and self._turnout_render is not None
        room.dirty = False
        local = _counted(room)
        turnout, connected, room.turnout_cost = await asyncio.to_thread(
            self._turnout_counted, room.meeting_id, previous, local
        )
        connected += _counted(room) - local  # as in _refresh: this process's count as it is now
        if turnout is None or room.state is not previous:
            room.dirty = True
            return False
        turnout["connected"] = connected
        room.state = {**previous, "turnout": turnout}
        room.seq += 1
        frame: TurnoutFrame = {"type": "turnout", "seq": room.seq, "turnout": turnout}
        room.frame = encode(frame)
        room.frame_wire = wire_text(room.frame)
        room.turnout_only = room.snapshot_stale = True
        return True

    async def _resyncer(self) -> None:
        assert self._resync_s is not None
        while True:
            await asyncio.sleep(self._resync_s)
            self._on_signal(None)

    async def _renderer(self) -> None:
        """Render the rooms that are due, one at a time, and offer each its new frame."""
        while True:
            await self._due_ready.wait()
            self._due_ready.clear()
            while self._due:
                room = self._due.popleft()
                room.queued = False
                if self.rooms.get(room.meeting_id) is not room or not room.dirty:
                    continue  # left or closed meanwhile; or nothing new since it was queued
                # Measured from the render's start: a room renders at most once per interval,
                # and a slow render does not stretch the interval (the frame rate stays tick_hz,
                # and turnout_hz for turnout frames).
                room.rendering = True
                now = self._clock.now()
                # Whole when due, or when the turnout cannot be read alone (no turnout_render).
                whole = not self._cheap(room) or (room.full and now >= room.full_at + self._tick_s)
                room.rendered_at = now
                if whole:
                    room.full_at = now
                try:
                    await self._render_room(room, whole=whole)
                except Exception:
                    # Nothing may stop the renderer: every meeting's screens depend on it.
                    log.exception("offering meeting %s's frame failed", room.meeting_id)
                finally:
                    room.rendering = False
                if (room.dirty or room.full) and self.rooms.get(room.meeting_id) is room:
                    # Changed while rendering, or a whole render still to come: the trailing send.
                    self._poke(room, full=False)

    async def _render_room(self, room: Room, *, whole: bool) -> None:
        try:
            if whole or not await self._refresh_turnout(room):
                room.full_at = room.rendered_at
                await self._refresh(room)
        except NotFound:
            # Deleted (in another process, or between a signal and this render).
            self.close_room(room.meeting_id)
            return
        except Exception:
            # A failed render (database briefly unavailable) must not stop rendering for every
            # meeting: keep the room dirty and try again one interval later.
            log.exception("rendering meeting %s failed", room.meeting_id)
            room.dirty = True
            return
        if self.rooms.get(room.meeting_id) is not room:
            return  # closed while its state was read
        assert room.frame is not None and room.snapshot is not None
        frame, wire = room.frame, room.frame_wire
        for box in room.mailboxes:
            if not room.turnout_only or box.pending:
                # A turnout frame never replaces a snapshot not yet sent: it would lose the
                # change (e.g. the round closing) that snapshot carries.
                self._fresh_snapshot(room)
                box.offer(*room.frame_for(box))
            elif box.wants_turnout:
                box.offer(frame, wire)


# A countdown's seconds left in a snapshot older than this are rendered again for a new
# connection (at most one render a second however many phones reconnect during it).
COUNTDOWN_STALE_S = 1.0


def _stale_countdown(room: Room) -> bool:
    """The room's snapshot counts a countdown down from seconds that are out of date."""
    rnd = room.state["round"] if room.state is not None else None
    return (
        rnd is not None
        and "closes_in" in rnd
        and time.monotonic() - room.refreshed_at > COUNTDOWN_STALE_S
    )


def _ballot_key(state: Snapshot) -> str:
    """What the phone's ballot section is drawn from: the round and the meeting (its code and
    texts); not a countdown's seconds left, which the page counts down itself."""
    rnd = state["round"]
    if rnd is not None and "closes_in" in rnd:
        rnd = {k: v for k, v in rnd.items() if k != "closes_in"}  # type: ignore[assignment]
    return encode({"round": rnd, "meeting": state["meeting"]})


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
