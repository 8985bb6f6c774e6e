"""The app's services as route handlers reach them (`deps.ServicesDep`): the engine, the hub,
the ballot writer, the keypad desk, the limiter and the big screens, and the live state that
pages, the API and the hub read, cached per meeting for one hub tick.

`Services.changed` is what every write that changes a meeting calls after its commit (the
projectors, phones and keypad desk follow); `cast` / `device_cast` store ballots; `joined`
and `admit` are the join path's. Made once per app by `create_app` (app/main.py).
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.requests import HTTPConnection

from app.config import Settings
from app.core.errors import TooManyRequests
from app.core.shapes import LiveTurnout, Snapshot, Surge, Turnout
from app.core.vocab import RoundStatus
from app.keypads.receivers import KeypadDesk
from app.live import screen
from app.live.hub import Hub
from app.live.screen import Screen
from app.live.screens import LocalScreens, Screens
from app.live.surge import surge
from app.voting import meetings, rounds, turnout
from app.voting.ballots import BallotWriter, CastRequest, Receipt
from app.voting.countdowns import CountdownCloser
from app.voting.db import read_transaction, transaction
from app.voting.meetings import get_meeting
from app.voting.models import Round, utcnow
from app.web.netinfo import client_address
from app.web.ratelimit import Limit, RateLimiter

# The console's alert looks at joins within this window (app/live/surge.py).
SURGE_WINDOW = timedelta(minutes=1)

# Threads that read and draw the public pages (phone page, ballot section, projector page,
# the API's state): few, so that however many views arrive at once, at most this many threads
# compete for the GIL with the ballot writer's commits and the event loop that sends the acks
# (with the 6 threads of the default pool, 200 views/s made ack p99 x9; scripts/bench, reads).
# Two, not one: a view waiting on SQLite's disk does not hold up the next.
PAGE_THREADS = 2

T = TypeVar("T")


@dataclass
class Services:
    """The app's services (module doc); blocking methods say so and run in worker threads."""

    settings: Settings
    engine: Engine
    hub: Hub
    writer: BallotWriter
    desk: KeypadDesk
    base_url: str  # what phones are told to open, e.g. http://192.168.1.20:8000
    loop: asyncio.AbstractEventLoop  # the server's loop: worker threads hand work back to it
    limiter: RateLimiter
    # What each meeting's big screen shows (app/live/screen.py), set from the presenter view.
    # In memory (a restart returns every screen to automatic) or, with several processes, in
    # Redis: every process renders the same `screen` into its snapshots (app/live/screens.py).
    screens: Screens = field(default_factory=LocalScreens)
    # page_state's cache: meeting id -> (monotonic time, generation, state); the generation of
    # a meeting moves on with each ballot, join and `changed`, and the state keeps the one it
    # was read at. Guarded by _pages_lock (worker threads fill it).
    _pages: dict[int, tuple[float, int, Snapshot]] = field(default_factory=dict, repr=False)
    _generations: dict[int, int] = field(default_factory=dict, repr=False)
    # Meeting id -> its generation at its latest `changed` (a round opened, closed, revealed…):
    # a state read before it is stale for every viewer.
    _changed_at: dict[int, int] = field(default_factory=dict, repr=False)
    # Meeting id -> voter id -> the generation of the voter's latest ballot or join, kept until
    # a state read at or after it is cached (so it holds about one tick of writes): their own
    # views must show their write (read your writes); others may see it up to one tick later,
    # as the projector's frames do.
    _wrote: dict[int, dict[int, int]] = field(default_factory=dict, repr=False)
    # phone_state's cache, alike; its generation moves on with `changed` only (not with ballots
    # or joins, which change only the turnout, which the phone page does not show).
    _phone_pages: dict[int, tuple[float, int, Snapshot]] = field(default_factory=dict, repr=False)
    _phone_generations: dict[int, int] = field(default_factory=dict, repr=False)
    _pages_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # Meeting id -> the lock its page_state reads take, one read at a time (kept: one per
    # meeting this process served).
    _page_reads: dict[int, threading.Lock] = field(default_factory=dict, repr=False)
    # Closes rounds whose closing countdown ends (app/voting/countdowns.py); made with the rest.
    countdowns: CountdownCloser = field(init=False, repr=False)
    # Where `in_page_thread` runs page views (PAGE_THREADS); shut down with the app.
    page_threads: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(PAGE_THREADS, thread_name_prefix="page"),
        repr=False,
    )

    def __post_init__(self) -> None:
        self.countdowns = CountdownCloser(self.engine, self.changed, self.desk.receiving)

    async def in_page_thread(self, fn: Callable[[], T]) -> T:
        """Run a public page view's blocking work (read, draw) in one of the PAGE_THREADS, with
        the caller's context (as asyncio.to_thread): views beyond them wait their turn."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.page_threads, contextvars.copy_context().run, fn)

    def join_url(self, code: str) -> str:
        return f"{self.base_url}/m/{code}"

    async def cast(self, req: CastRequest) -> Receipt:
        """Store a ballot (returns after commit), then let the room know."""
        receipt = await self.writer.cast(req)
        self._wrote_now(req.meeting_id, req.voter_id)
        self.hub.counted(req.meeting_id)
        return receipt

    async def device_cast(self, req: CastRequest) -> Receipt:
        """A ballot from a phone or browser (WebSocket, API, form): limited per voter first,
        so a refused one changes nothing. Keypads and paper use `cast`, never limited."""
        await self.limiter.hit(Limit.CASTS_PER_VOTER, str(req.voter_id))
        return await self.cast(req)

    async def admit(self, conn: HTTPConnection, meeting_id: int) -> None:
        """Before a browser joins a meeting as a new voter: per address, then per meeting.
        A refusal also counts towards the console's alert."""
        try:
            await self.limiter.hit(Limit.JOINS_PER_ADDRESS, client_address(conn))
            await self.limiter.hit(Limit.JOINS_PER_MEETING, str(meeting_id))
        except TooManyRequests:
            await self.limiter.note_join_refused(meeting_id)
            self.changed(meeting_id)
            raise

    def room_state(self, meeting_id: int) -> Snapshot:
        """The live state of a meeting (blocking: the hub calls it in a worker thread)."""
        with self.read_session() as session:
            meeting = get_meeting(session, meeting_id)
            room = rounds.room_state(
                session,
                meeting_id,
                self.join_url(meeting.code),
                receiver_open=self.desk.receiving(meeting_id),
            )
            present = turnout.present_count(session, meeting_id)
            alert = self.surge(session, meeting_id, present)
        # Every key in its place (the prompt last): byte for byte.
        return {
            **room,
            "turnout": _live(room["turnout"], alert),
            "keypad_prompt": self.desk.prompt(meeting_id),
            "screen": self.screens.get(meeting_id).view(),
        }

    def turnout_state(self, meeting_id: int, previous: Snapshot) -> LiveTurnout | None:
        """Only the turnout of a meeting whose last snapshot was `previous`, as `room_state`
        would give it now (blocking: the hub calls it in a worker thread after ballots or
        joins, `Hub.counted`). None when it cannot stand for `room_state`: the round
        `previous` shows is not open any more, or its results are shown (ballots change them).
        """
        shown = previous["round"]
        if shown is None or shown["status"] != RoundStatus.OPEN or previous["results"]:
            return None
        with self.read_session() as session:
            meeting = get_meeting(session, meeting_id)
            rnd = session.get(Round, shown["id"])
            if rnd is None or rnd.status != RoundStatus.OPEN or rnd.meeting_id != meeting_id:
                return None
            counts = turnout.counts(
                session, meeting, rnd, receiver_open=self.desk.receiving(meeting_id)
            )
            alert = self.surge(session, meeting_id, turnout.present_count(session, meeting_id))
        return _live(counts, alert)

    def page_state(
        self, meeting_id: int, voter_id: int | None = None, *, exact: bool = False
    ) -> Snapshot:
        """The live state for a page view or an API read by `voter_id` (None: a viewer who is
        not a voter, e.g. the projector page), blocking: from a worker thread.

        `room_state`, shared by the views that arrive within one hub tick (1 / tick_hz) of each
        other, as long as it was read after the meeting's last `changed` of this process (the
        round a facilitator just opened shows at once) and, for a voter, after that voter's
        own last ballot or join here (their turnout counts their vote). Others' ballots and
        joins show within a tick, as on the projector; another process's change too. Under
        100 ballots/s, page views then cost the database, and the ballot writer that shares
        the CPU and the GIL with them, about one `room_state` per tick and a few for voters
        who have just voted, instead of one per ballot (scripts/bench, reads).

        `exact` (a facilitator's view: they act on the turnout they see, and are few): read
        after every ballot and join of this process, as all views were before. Do not change
        the state it returns: others share it."""
        ttl = 1.0 / self.settings.tick_hz
        with self._pages_lock:
            needed = self._changed_at.get(meeting_id, 0)
            if exact:
                needed = self._generations.get(meeting_id, 0)
            elif voter_id is not None:
                needed = max(needed, self._wrote.get(meeting_id, {}).get(voter_id, 0))
            cached = self._pages.get(meeting_id)
        if cached is not None and cached[1] >= needed and time.monotonic() - cached[0] < ttl:
            return cached[2]
        with self._pages_lock:
            reading = self._page_reads.setdefault(meeting_id, threading.Lock())
        # One read of a meeting at a time: the views that find the state stale together wait
        # for the first one's read instead of each reading the room (and taking the GIL from
        # the ballot writer) at once.
        with reading:
            with self._pages_lock:
                generation = self._generations.get(meeting_id, 0)
                cached = self._pages.get(meeting_id)
            now = time.monotonic()
            if cached is not None and cached[1] >= needed and now - cached[0] < ttl:
                return cached[2]  # read while this view waited
            state = self.room_state(meeting_id)
            self._keep_page_state(meeting_id, now, generation, state)
        return state

    def live_state(self, meeting_id: int) -> Snapshot:
        """`room_state` for the hub's frames (blocking: the hub calls it in a worker thread):
        always read afresh, and also kept for page views as `page_state`'s, so that while the
        hub renders a busy meeting every tick, page views between its renders read nothing.
        The hub adds `connected` to the turnout it gets; the pages' copy has a turnout of its
        own, without it."""
        with self._pages_lock:
            generation = self._generations.get(meeting_id, 0)
        now = time.monotonic()
        state = self.room_state(meeting_id)
        shared = state.copy()
        shared["turnout"] = state["turnout"].copy()
        self._keep_page_state(meeting_id, now, generation, shared)
        return state

    def _keep_page_state(
        self, meeting_id: int, read_at: float, generation: int, state: Snapshot
    ) -> None:
        """Cache `state`, read from `read_at` on at `generation` or later, unless a newer one
        is cached: it stands for that generation (a write that arrived during the read is
        newer and makes its writer's next view read again)."""
        with self._pages_lock:
            current = self._pages.get(meeting_id)
            if current is None or current[1] <= generation:
                self._pages[meeting_id] = (read_at, generation, state)
                writes = self._wrote.get(meeting_id)
                if writes:  # the writes this state includes need no entry any more
                    self._wrote[meeting_id] = {v: g for v, g in writes.items() if g > generation}

    def phone_state(self, meeting_id: int) -> Snapshot:
        """The live state for a phone page (blocking: from a worker thread): as `page_state`,
        but a ballot or a join does not make it read again, as they change only the turnout,
        which the phone page does not show (its turnout may be one tick old). When 1,000
        phones join, the pages they open then cost one `room_state` per tick, not one each
        (scripts/bench: joins). Do not change the state it returns: others share it."""
        ttl = 1.0 / self.settings.tick_hz
        with self._pages_lock:
            generation = self._phone_generations.get(meeting_id, 0)
            cached = self._phone_pages.get(meeting_id)
        now = time.monotonic()
        if cached is not None and cached[1] == generation and now - cached[0] < ttl:
            return cached[2]
        state = self.page_state(meeting_id)
        with self._pages_lock:
            if self._phone_generations.get(meeting_id, 0) == generation:
                self._phone_pages[meeting_id] = (now, generation, state)
        return state

    def _forget_page_state(self, meeting_id: int) -> None:
        """The meeting changed for every viewer: no page shows a state read before now."""
        with self._pages_lock:
            generation = self._generations.get(meeting_id, 0) + 1
            self._generations[meeting_id] = self._changed_at[meeting_id] = generation
            self._pages.pop(meeting_id, None)
            self._phone_generations[meeting_id] = self._phone_generations.get(meeting_id, 0) + 1
            self._phone_pages.pop(meeting_id, None)

    def _wrote_now(self, meeting_id: int, voter_id: int | None) -> None:
        """A ballot or join of `voter_id` was committed: a new generation of the meeting that
        their own next page view must include (others' views may be a tick behind)."""
        with self._pages_lock:
            generation = self._generations.get(meeting_id, 0) + 1
            self._generations[meeting_id] = generation
            if voter_id is not None:
                self._wrote.setdefault(meeting_id, {})[voter_id] = generation

    def surge(self, session: Session, meeting_id: int, present: int) -> Surge | None:
        """The console's alert (blocking: from a worker thread). Joins come from the database,
        refused joins from the limiter (Redis in scale-out): every process agrees."""
        joined = turnout.joined_since(session, meeting_id, utcnow() - SURGE_WINDOW)
        try:
            asyncio.get_running_loop()
            refused = 0  # on the loop itself (never, today): do not block it
        except RuntimeError:
            refused = asyncio.run_coroutine_threadsafe(
                self.limiter.joins_refused(meeting_id), self.loop
            ).result(timeout=5)
        return surge(
            joined,
            present,
            refused,
            min_joins=self.settings.surge_min_joins,
            share=self.settings.surge_share,
        )

    def changed(self, meeting_id: int) -> None:
        """After a commit that changes a meeting: projectors, phones and the keypad desk.

        Safe from a worker thread too: it hands itself to the loop, so the hub and the desk
        change only on the loop (the hub's render thread only reads `desk.prompt`)."""
        # Pages see the change from now on, whichever thread this is (before the redirect).
        self._forget_page_state(meeting_id)
        try:
            on_loop = asyncio.get_running_loop() is self.loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self.writer.forget_rounds(meeting_id)
            self.hub.changed(meeting_id)
            self.desk.invalidate(meeting_id)
        else:
            self.loop.call_soon_threadsafe(self.changed, meeting_id)

    def set_screen(
        self, meeting_id: int, action: str, *, page: int | None, proposal: str | None
    ) -> Screen:
        """Change what the meeting's big screen shows (`screen.command`) and tell every
        projector (blocking: from a worker thread). The proposal must be the meeting's.

        Raises:
            BadInput, NotFound: as `screen.command`; nothing changes.
            StorageUnavailable: Redis could not store it (several processes).
        """
        with self.read_session() as session:
            get_meeting(session, meeting_id)  # NotFound for a meeting that does not exist
            keys = {p.key for p in meetings.proposals_of(session, meeting_id)}
        new = self.screens.update(
            meeting_id,
            lambda current: screen.command(
                current, action, page=page, proposal=proposal, proposals=keys
            ),
        )
        self.changed(meeting_id)
        return new

    def joined(self, meeting_id: int, voter_id: int | None = None) -> None:
        """After a browser joined as `voter_id` (on the loop): as `changed`, but phone pages
        keep their state (a join changes only the turnout, which they do not show), screens
        get only the turnout, and other page views may show the join a tick later
        (`page_state`)."""
        self._wrote_now(meeting_id, voter_id)
        self.hub.counted(meeting_id)
        self.desk.invalidate(meeting_id)

    def forget(self, meeting_id: int) -> None:
        """After a meeting is deleted (call on the loop): its connections here end at once
        (close 4404, `Hub.close_room`), before anything can reuse its id; the keypad desk and
        the other processes find it gone when told it `changed`."""
        self.hub.close_room(meeting_id)
        self.screens.forget(meeting_id)
        with self._pages_lock:
            self._wrote.pop(meeting_id, None)
        self.changed(meeting_id)

    def session(self) -> AbstractContextManager[Session]:
        return transaction(self.engine)

    def read_session(self) -> AbstractContextManager[Session]:
        """For work that only reads: it never waits behind ballot commits (SQLite)."""
        return read_transaction(self.engine)


def _live(counts: Turnout, alert: Surge | None) -> LiveTurnout:
    """The live turnout: the counts and the console's alert, every key in its place."""
    return {
        "registered": counts["registered"],
        "present": counts["present"],
        "voted": counts["voted"],
        "by_channel": counts["by_channel"],
        "surge": alert,
    }
