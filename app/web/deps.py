"""What route handlers share: the app's services, typed dependencies, page rendering."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Annotated, Any, TypeVar

from babel.dates import format_date
from fastapi import Depends
from fastapi import Path as PathParam
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse

from app.config import Settings
from app.core import localtime
from app.core.bounds import DB_INT_MAX
from app.core.errors import NotJoined, TooManyRequests
from app.core.shapes import LiveTurnout, Snapshot, Surge, Turnout
from app.core.vocab import ROOM_VOTE, RoundStatus
from app.keypads.receivers import KeypadDesk
from app.live import screen
from app.live.hub import Hub
from app.live.screen import Screen
from app.live.screens import LocalScreens, Screens
from app.live.surge import surge
from app.record import review_charts, survey_charts
from app.rules import explain, survey_tally
from app.scrutiny import tickets
from app.voting import kinds, meetings, rounds, turnout
from app.voting.activity import Views
from app.voting.ballots import BallotWriter, CastRequest, Receipt
from app.voting.countdowns import CountdownCloser
from app.voting.db import read_transaction, transaction
from app.voting.meetings import get_meeting, meeting_by_code, zone_named, zone_of
from app.voting.models import Meeting, Round, Voter, utcnow
from app.voting.voters import find_voter, join
from app.web import auth, i18n
from app.web.netinfo import channel_of
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

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))
TEMPLATES.env.autoescape = True
# Templates are read once: checking each one's file time on every render cost 3.5% of the
# server's time while phones joined (scripts/bench, py-spy). Restart to see edited templates.
TEMPLATES.env.auto_reload = False
# The outcome words (names, icons, reasons, meanings) every live screen takes from explain.py.
TEMPLATES.env.globals["outcome_strings"] = explain.live_strings


def activity_views(kind: str | None) -> Views:
    """The templates an activity kind is drawn with (a round's `kind`; None: the room vote).
    A kind this version lacks gets the defaults: its round shows, without items."""
    known = kinds.kinds().get(kind or ROOM_VOTE)
    return known.views if known is not None else Views()


def answer_labels() -> list[str]:
    """The label msgids of every registered kind's fixed scales (the projector's strings)."""
    return sorted({label for kind in kinds.kinds().values() for label in kind.answer_labels()})


TEMPLATES.env.globals["activity_views"] = activity_views
TEMPLATES.env.globals["answer_labels"] = answer_labels
# A survey round's charts in the page's language (console/results_survey.html).
TEMPLATES.env.globals["survey_charts"] = survey_charts.survey_charts
TEMPLATES.env.globals["survey_focus"] = survey_tally.focus_list
TEMPLATES.env.globals["survey_names"] = survey_charts.names_in
# A charter review round's scorecard and history charts (console/results_review.html, the
# projector's charts) and the names of its parties and commitments in the page's language.
TEMPLATES.env.globals["review_charts"] = review_charts.review_charts
TEMPLATES.env.globals["review_name"] = review_charts.name_in

# phone_item's drawings: (template, locale, position, answer) -> (the item drawn, its HTML).
_ITEMS: dict[tuple[str, str, int, str | None], tuple[object, Markup]] = {}


@pass_context
def phone_item(ctx: Context, template: str, item: object, index: int, chosen: str | None) -> Markup:
    """An activity item as its kind draws it on the phone (`template`, activity.Views
    .phone_item), from the item of a live state (shared, never changed), its 1-based `index`,
    the voter's stored answer `chosen` and the page's language; drawn once per item, language,
    position and answer, and served as drawn to every other phone page and ballot section
    that shows the same: the items were ~28% of drawing a phone page with 8 proposals
    (scripts/bench, joins). The templates read nothing else (`_` follows the language)."""
    key = (template, str(ctx.get("locale")), index, chosen)
    hit = _ITEMS.get(key)
    if hit is not None and hit[0] is item:  # the cache holds the item: its id is not reused
        return hit[1]
    values = {**ctx.get_all(), "item": item, "index": index, "chosen": chosen}
    html = Markup(ctx.environment.get_template(template).render(values))
    _ITEMS[key] = (item, html)
    return html


TEMPLATES.env.globals["phone_item"] = phone_item


def show_time(at: datetime | None, tz: tzinfo | None = None, seconds: bool = False) -> str:
    """The `localtime` filter: `{{ r.opened_at | localtime(tz) }}` -> "2026-12-05 19:40 GMT".
    `render` puts the meeting's zone in `tz` on every page about a meeting; a page about none
    (the meeting list, sessions) shows Europe/London's time."""
    return localtime.show(at, tz or zone_named(None), seconds=seconds)


TEMPLATES.env.filters["localtime"] = show_time


def show_day(day: date, locale: str = "en") -> str:
    """The `day` filter: `{{ until | day(locale) }}` -> "5 December 2027" ("5 Rhagfyr 2027" in
    Welsh): a date for people, in the page's language (the people list's retention dates)."""
    return format_date(day, "d MMMM y", locale=locale)


TEMPLATES.env.filters["day"] = show_day


# Babel's locale for dates: "en" alone is American English; Covote's is British.
_DATE_LOCALES = {"en": "en_GB"}


@pass_context
def show_moment(ctx: Context, at: datetime | str, zone: tzinfo | str | None = None) -> str:
    """The `moment` global: `{{ moment(rnd.online.closes_at, rnd.online.zone) }}` -> "Friday
    18 December at 17:00" ("Dydd Gwener 18 Rhagfyr am 17:00" in Welsh): a time days away, for
    people, in the meeting's zone (a tzinfo or an IANA name; None: Europe/London) and the
    page's language. `at` is a stored datetime or a snapshot's ISO text (UTC)."""
    when = datetime.fromisoformat(at.replace("Z", "+00:00")) if isinstance(at, str) else at
    tz = zone if isinstance(zone, tzinfo) else zone_named(zone)
    local = localtime.local(when, tz)
    locale = str(ctx.get("locale") or "en")
    babel_locale = _DATE_LOCALES.get(locale, locale)
    _ = i18n.gettext_for(locale)
    return _(
        "%(day)s at %(time)s",
        day=format_date(local, "EEEE d MMMM", locale=babel_locale),
        time=f"{local:%H:%M}",
    )


TEMPLATES.env.globals["moment"] = show_moment


@dataclass
class Services:
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


def client_address(conn: HTTPConnection) -> str:
    """The peer's address as uvicorn reports it (it alone decides whether to trust
    X-Forwarded-For: `--forwarded-allow-ips`); never parsed from headers here."""
    return conn.client.host if conn.client else "unknown"


def get_services(conn: HTTPConnection) -> Services:
    services: Services = conn.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]

# Every integer in a path (a meeting, round or ticket number) is positive and fits the
# database's integers; anything else is a 404 (main._validation_error), never an overflow.
RowId = Annotated[int, PathParam(ge=1, le=DB_INT_MAX)]


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    locale = i18n.choose_locale(request)
    meeting = context.get("meeting")
    ctx = {
        # Every time on a page about a meeting is shown in its zone (the `localtime` filter).
        "tz": zone_of(meeting) if isinstance(meeting, Meeting) else zone_named(None),
        "request": request,
        "_": i18n.gettext_for(locale),
        "locale": locale,
        "csrf": auth.csrf_token(request),
        "is_facilitator": auth.is_facilitator(request),
        "grant": auth.grant_of(request),
        **context,
    }
    response = TEMPLATES.TemplateResponse(request, template, ctx, status_code=status_code)
    _remember_lang(request, response, locale)
    return response


def _remember_lang(request: Request, response: HTMLResponse, locale: str) -> None:
    """A language chosen with ?lang= is kept in a cookie."""
    if request.query_params.get("lang") == locale:
        response.set_cookie(
            "lang",
            locale,
            max_age=365 * 24 * 3600,
            samesite="lax",
            secure=request.url.scheme == "https",
        )


# render_shared's pages: (template, locale, path) -> (what it was drawn from, the body)
_SHARED: dict[tuple[str, str, str], tuple[object, bytes]] = {}


def render_shared(
    request: Request, template: str, context: dict[str, Any], source: object
) -> HTMLResponse:
    """`render` for a page that is the same for every viewer of `source` (the shared state
    object `Services.page_state` returns, unchanged until the meeting changes): drawn once per
    source, language and path, and served as drawn to the others. Only for templates that show
    nothing of the viewer's own (no CSRF token, no facilitator links): the projector page.
    On the event loop or in a worker thread alike."""
    locale = i18n.choose_locale(request)
    key = (template, locale, request.url.path)
    hit = _SHARED.get(key)
    if hit is None or hit[0] is not source:
        response = render(request, template, context)
        _SHARED[key] = (source, bytes(response.body))
        return response
    auth.csrf_token(request)  # as `render`: the session has its token from the first page on
    response = HTMLResponse(hit[1])
    _remember_lang(request, response, locale)
    return response


def attendee(conn: HTTPConnection, session: Session, code: str) -> tuple[Meeting, Voter | None]:
    """The meeting a code names and this browser's voter in it, if it has joined (in a tickets
    meeting: if the voter's ticket is on this device, see tickets.device_may_vote)."""
    meeting = meeting_by_code(session, code)
    assert meeting.id is not None
    voter = find_voter(session, meeting, auth.voter_id(conn, meeting.id, meeting.code))
    if voter is not None and not tickets.device_may_vote(meeting, voter, auth.device_key(conn)):
        voter = None
    return meeting, voter


def not_joined(conn: HTTPConnection, session: Session, meeting: Meeting, default: str) -> NotJoined:
    """Why this browser has no voter in the meeting, as the error to raise (`default` in an open
    meeting; in a tickets meeting: no ticket redeemed here, or the ticket moved elsewhere)."""
    assert meeting.id is not None
    if not meeting.uses_tickets:
        return NotJoined(default)
    named = find_voter(session, meeting, auth.voter_id(conn, meeting.id, meeting.code))
    return tickets.refusal(meeting, named, default)


def join_attendee(conn: HTTPConnection, session: Session, code: str) -> tuple[Meeting, Voter, bool]:
    """Like `attendee`, joining this browser as a new voter if needed; True if it was new.
    In a tickets meeting a browser joins only by redeeming a ticket: NotJoined otherwise."""
    meeting, voter = attendee(conn, session, code)
    if voter is not None:
        return meeting, voter, False
    if meeting.uses_tickets:
        raise not_joined(conn, session, meeting, tickets.NO_TICKET)
    voter = join(session, meeting, channel_of(conn.client.host if conn.client else None))
    assert voter.id is not None and meeting.id is not None
    auth.remember_voter(conn, meeting.id, meeting.code, voter.id)
    return meeting, voter, True


async def join_browser(conn: HTTPConnection, services: Services, code: str) -> tuple[int, str]:
    """Join this browser to the meeting as a new voter unless it already is one (an explicit
    POST or script action: a GET never creates a voter). New voters are rate-limited per
    address and per meeting (`Services.admit`). Returns the meeting's id and code."""

    def existing() -> tuple[int, bool]:
        with services.read_session() as session:
            meeting, voter = attendee(conn, session, code)
            assert meeting.id is not None
            if voter is None and meeting.uses_tickets:
                raise not_joined(conn, session, meeting, tickets.NO_TICKET)
            return meeting.id, voter is not None

    meeting_id, joined = await asyncio.to_thread(existing)
    if not joined:
        await services.admit(conn, meeting_id)

    def write() -> tuple[int, str, int, bool]:
        with services.session() as session:
            meeting, voter, new = join_attendee(conn, session, code)
            assert meeting.id is not None and voter.id is not None
            return meeting.id, meeting.code, voter.id, new

    meeting_id, meeting_code, voter_id, new = await asyncio.to_thread(write)
    if new:
        services.joined(meeting_id, voter_id)
    return meeting_id, meeting_code


def _live(counts: Turnout, alert: Surge | None) -> LiveTurnout:
    """The live turnout: the counts and the console's alert, every key in its place."""
    return {
        "registered": counts["registered"],
        "present": counts["present"],
        "voted": counts["voted"],
        "by_channel": counts["by_channel"],
        "surge": alert,
    }
