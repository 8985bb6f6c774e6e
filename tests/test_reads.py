"""Reads never slow the ballot path (issue 14): every GET answers through a read transaction,
which never takes SQLite's write lock and refuses to write.

The route table below names a URL for every GET route of the app; a GET route missing from it
fails `test_every_get_route_is_checked`, so a new page is checked from the day it is added.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from app.config import Settings
from app.voting import countdowns
from app.voting.db import (
    WriteInReadTransaction,
    create_schema,
    make_engine,
    read_transaction,
    transaction,
)
from app.voting.models import FacilitatorSession, utcnow
from tests.conftest import TIME_FACTOR, LiveServer, Meeting, Phone, make_settings

# GET routes that write on purpose, and why.
WRITES_ON_PURPOSE = {
    "/facilitator": "the sign-in link: it creates the browser's console session",
}

# Every other GET route, as a URL of the meeting `m` (its first round closed, a second open).
ROUTES: dict[str, Callable[[Meeting], str]] = {
    "/": lambda m: "/",
    "/join": lambda m: f"/join?code={m.code}",
    "/m/{code}": lambda m: f"/m/{m.code}",
    "/m/{code}/ballot": lambda m: f"/m/{m.code}/ballot",
    "/p/{code}": lambda m: f"/p/{m.code}",
    "/p/{code}/charts": lambda m: f"/p/{m.code}/charts",
    "/m/{code}/qr.svg": lambda m: f"/m/{m.code}/qr.svg",
    "/m/{code}/helping": lambda m: f"/m/{m.code}/helping",
    "/m/{code}/helping/thanks": lambda m: f"/m/{m.code}/helping/thanks",
    "/m/{code}/you-said": lambda m: f"/m/{m.code}/you-said",
    "/m/{code}/lab": lambda m: f"/m/{m.code}/lab",
    "/m/{code}/amend": lambda m: f"/m/{m.code}/amend",
    "/m/{code}/rate": lambda m: f"/m/{m.code}/rate",
    "/p/{code}/wall": lambda m: f"/p/{m.code}/wall",
    "/console/{meeting_id}/lab": lambda m: f"/console/{m.id}/lab",
    "/console/{meeting_id}/lab/{what}": lambda m: f"/console/{m.id}/lab/lab-results.json",
    "/console/{meeting_id}/charter": lambda m: f"/console/{m.id}/charter?from=1&to=1",
    "/console/{meeting_id}/charter/{what}": lambda m: f"/console/{m.id}/charter/charter.md",
    "/console/{meeting_id}/charter.pdf": lambda m: f"/console/{m.id}/charter.pdf",
    "/t/{code}": lambda m: "/t/ABCD-EFGH-JKMN",
    "/api/m/{code}": lambda m: f"/api/m/{m.code}",
    "/console": lambda m: "/console",
    "/console/sessions": lambda m: "/console/sessions",
    "/console/{meeting_id}": lambda m: f"/console/{m.id}",
    "/console/{meeting_id}/setup": lambda m: f"/console/{m.id}/setup",
    "/console/{meeting_id}/setup/guidance.json": (
        lambda m: f"/console/{m.id}/setup/guidance.json?group_min=3&expected_attendance=40"
    ),
    "/console/{meeting_id}/access": lambda m: f"/console/{m.id}/access",
    "/console/{meeting_id}/people": lambda m: f"/console/{m.id}/people",
    "/console/{meeting_id}/people/people.csv": lambda m: f"/console/{m.id}/people/people.csv",
    "/console/{meeting_id}/paper": lambda m: f"/console/{m.id}/paper",
    "/console/{meeting_id}/rounds/{number}": lambda m: f"/console/{m.id}/rounds/1",
    "/console/{meeting_id}/report": lambda m: f"/console/{m.id}/report",
    "/console/{meeting_id}/report.html": lambda m: f"/console/{m.id}/report.html",
    "/console/{meeting_id}/report.pdf": lambda m: f"/console/{m.id}/report.pdf",
    "/console/{meeting_id}/export/bundle.zip": lambda m: f"/console/{m.id}/export/bundle.zip",
    "/console/{meeting_id}/export/{what}": lambda m: f"/console/{m.id}/export/results.json",
    "/console/{meeting_id}/rounds/{number}/export/{what}": (
        lambda m: f"/console/{m.id}/rounds/1/export/ballots.csv"
    ),
    "/console/{meeting_id}/rounds/{number}/paper": lambda m: f"/console/{m.id}/rounds/1/paper",
    "/console/{meeting_id}/rounds/{number}/paper/print": (
        lambda m: f"/console/{m.id}/rounds/1/paper/print"
    ),
    "/console/{meeting_id}/rounds/{number}/paper/key/{keying}": (
        lambda m: f"/console/{m.id}/rounds/1/paper/key/1"
    ),
    "/console/{meeting_id}/tickets": lambda m: f"/console/{m.id}/tickets",
    "/console/{meeting_id}/tickets/print": lambda m: f"/console/{m.id}/tickets/print",
    "/console/{meeting_id}/keypads": lambda m: f"/console/{m.id}/keypads",
    "/console/{meeting_id}/present": lambda m: f"/console/{m.id}/present",
    "/console/{meeting_id}/keypads/status.json": lambda m: f"/console/{m.id}/keypads/status.json",
    "/console/{meeting_id}/keypads/capture": lambda m: f"/console/{m.id}/keypads/capture",
    "/console/meetings/{meeting_id}/duplicate": lambda m: f"/console/meetings/{m.id}/duplicate",
    "/console/meetings/{meeting_id}/delete": lambda m: f"/console/meetings/{m.id}/delete",
}

# More of each export than the table's one, read the same way (every branch of _export_text).
EXPORTS = ("meeting.json", "proposals.csv", "ballots.csv", "groups.csv", "audit.jsonl")


def get_routes(server: LiveServer) -> set[str]:
    """The app's GET routes, from its OpenAPI schema (no route leaves it: include_in_schema is
    never set to False; FastAPI's nested routers are not plain lists to walk)."""
    paths: dict[str, dict[str, Any]] = server.app.openapi()["paths"]
    return {path for path, operations in paths.items() if "get" in operations}


class Begins:
    """Every BEGIN statement the app's engine issues while watching (from any thread)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seen: list[str] = []
        self._lock = threading.Lock()

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.upper().startswith("BEGIN"):
            with self._lock:
                self.seen.append(statement.upper())

    def immediate(self) -> int:
        with self._lock:
            return sum("IMMEDIATE" in s for s in self.seen)

    def deferred(self) -> int:
        with self._lock:
            return sum("IMMEDIATE" not in s for s in self.seen)

    @contextmanager
    def watching(self) -> Iterator[Begins]:
        event.listen(self.engine, "before_cursor_execute", self._record)
        try:
            yield self
        finally:
            event.remove(self.engine, "before_cursor_execute", self._record)


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(make_settings(tmp_path)) as live:
        yield live


@pytest.fixture
def busy_meeting(sqlite_server: LiveServer) -> tuple[Meeting, httpx.Client, Phone]:
    """A meeting with a closed round (ballots to export) and an open one; a joined phone."""
    facilitator = sqlite_server.browser()
    r = facilitator.get("/facilitator?key=test-facilitator-key", follow_redirects=False)
    assert r.status_code == 303
    meeting = Meeting(facilitator)
    meeting.open_round()
    phone = Phone(sqlite_server.browser(), meeting.code)
    assert phone.vote({"library": "want", "respite": "dont_want"}).status_code == 200
    meeting.close_round(1)
    meeting.open_round()
    return meeting, facilitator, phone


def _client_for(path: str, facilitator: httpx.Client, phone: Phone) -> httpx.Client:
    return facilitator if path.startswith("/console") else phone.c


def _engine(server: LiveServer) -> Engine:
    engine: Engine = server.app.state.services.engine
    return engine


def test_every_get_route_is_checked(sqlite_server: LiveServer) -> None:
    """The route table names every GET route of the app (or why it writes): none is unchecked."""
    assert get_routes(sqlite_server) == set(ROUTES) | set(WRITES_ON_PURPOSE)


def test_no_get_page_takes_the_write_lock(
    sqlite_server: LiveServer, busy_meeting: tuple[Meeting, httpx.Client, Phone]
) -> None:
    """Serving any GET (pages, the API, the console, exports) issues no BEGIN IMMEDIATE."""
    meeting, facilitator, phone = busy_meeting
    urls = [make(meeting) for make in ROUTES.values()]
    urls += [f"/console/{meeting.id}/export/{what}" for what in EXPORTS]
    with Begins(_engine(sqlite_server)).watching() as begins:
        for url in urls:
            before = begins.immediate()
            r = _client_for(url, facilitator, phone).get(url, follow_redirects=False)
            assert r.status_code < 500, (url, r.status_code, r.text[:300])
            assert begins.immediate() == before, f"GET {url} took the write lock"
        assert begins.deferred() >= len(urls) // 2  # the reads did run, as plain BEGINs


def test_the_countdown_pass_takes_the_write_lock_only_when_something_is_due(
    sqlite_server: LiveServer, busy_meeting: tuple[Meeting, httpx.Client, Phone]
) -> None:
    """The pass that closes ended countdowns runs every few seconds all meeting long: while
    nothing is due it only reads, so it never queues behind (or holds up) the ballot writer."""
    meeting, _, _ = busy_meeting
    meeting.post("/rounds/2/countdown", seconds="60")
    engine = _engine(sqlite_server)
    with Begins(engine).watching() as begins:
        closed, next_at = countdowns.close_due_now(engine, lambda _: False)
    assert closed == [] and next_at is not None and next_at > utcnow()
    assert begins.immediate() == 0 and begins.deferred() >= 1


def test_pages_answer_while_another_connection_holds_the_write_lock(
    sqlite_server: LiveServer, busy_meeting: tuple[Meeting, httpx.Client, Phone]
) -> None:
    """With a write transaction held open by another connection (as the ballot writer holds it
    while it commits), every GET still answers at once, with what was committed before."""
    meeting, facilitator, phone = busy_meeting
    database = _engine(sqlite_server).url.database
    assert database
    writer = sqlite3.connect(database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE meeting SET title = 'uncommitted' WHERE id = ?", (meeting.id,))
        for make in ROUTES.values():
            url = make(meeting)
            client = _client_for(url, facilitator, phone)
            # A GET that waited for the lock would wait out busy_timeout (10 s), then fail.
            r = client.get(url, follow_redirects=False, timeout=5 * TIME_FACTOR)
            assert r.status_code < 500, (url, r.status_code, r.text[:300])
            assert "uncommitted" not in r.text, url
        state = phone.state()
        assert state["meeting"]["title"] == "Test budget"
        assert state["round"]["number"] == 2
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_cast_after_the_lock_is_released_still_commits(
    sqlite_server: LiveServer, busy_meeting: tuple[Meeting, httpx.Client, Phone]
) -> None:
    """Reads leave the ballot path as it was: casts take the write lock (BEGIN IMMEDIATE)."""
    _, _, phone = busy_meeting
    with Begins(_engine(sqlite_server)).watching() as begins:
        assert phone.vote({"library": "dont_want"}).status_code == 200
        assert begins.immediate() >= 1


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.resolved_database_url())
    create_schema(engine)
    yield engine
    engine.dispose()


def _a_session_row(engine: Engine) -> int:
    now = datetime.now(UTC)
    with transaction(engine) as session:
        row = FacilitatorSession(
            token_hash="h",
            role="all",
            user_agent="test",
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=1),
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def test_a_read_transaction_refuses_to_flush_a_change(engine: Engine) -> None:
    """Changing, adding or deleting an object in a read transaction raises at flush, and
    nothing reaches the database."""
    row_id = _a_session_row(engine)
    with pytest.raises(WriteInReadTransaction), read_transaction(engine) as session:
        row = session.get(FacilitatorSession, row_id)
        assert row is not None
        row.user_agent = "changed"
        session.flush()
    with pytest.raises(WriteInReadTransaction), read_transaction(engine) as session:
        row = session.get(FacilitatorSession, row_id)
        session.delete(row)
        session.flush()
    with transaction(engine) as session:
        row = session.get(FacilitatorSession, row_id)
        assert row is not None and row.user_agent == "test"


def test_a_read_transaction_refuses_write_statements(engine: Engine) -> None:
    """An INSERT, UPDATE or DELETE executed through a read session raises before it runs."""
    row_id = _a_session_row(engine)
    with pytest.raises(WriteInReadTransaction), read_transaction(engine) as session:
        session.execute(delete(FacilitatorSession).where(FacilitatorSession.id == row_id))  # type: ignore[arg-type]
    with read_transaction(engine) as session:
        assert session.exec(select(FacilitatorSession)).all()


@pytest.mark.postgres
def test_postgres_reads_are_read_only_transactions(postgres_url: str) -> None:
    """On PostgreSQL a read transaction is READ ONLY: the server refuses even raw SQL."""
    engine = make_engine(postgres_url)
    try:
        create_schema(engine)
        with read_transaction(engine) as session:
            assert session.execute(text("SHOW transaction_read_only")).scalar() == "on"
        with pytest.raises(DBAPIError, match="read-only"), read_transaction(engine) as session:
            session.connection().exec_driver_sql("DELETE FROM facilitatorsession")
        with transaction(engine) as session:
            assert session.execute(text("SHOW transaction_read_only")).scalar() == "off"
    finally:
        engine.dispose()


@pytest.fixture
def slow_tick_server(tmp_path: Path) -> Iterator[LiveServer]:
    """tick_hz=1: page_state may reuse a state for up to a second."""
    with LiveServer(make_settings(tmp_path, tick_hz=1)) as live:
        yield live


def test_page_views_share_the_live_state_until_the_meeting_changes(
    slow_tick_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Views between two changes read the room once; a ballot or a facilitator's change makes
    the next view read it again (a read after a write sees the write)."""
    server = slow_tick_server
    facilitator = server.browser()
    facilitator.get("/facilitator?key=test-facilitator-key", follow_redirects=False)
    meeting = Meeting(facilitator)
    meeting.open_round()
    phone = Phone(server.browser(), meeting.code)
    services = server.app.state.services
    reads: list[int] = []
    room_state = services.room_state

    def counted(meeting_id: int) -> Any:
        reads.append(meeting_id)
        return room_state(meeting_id)

    # No socket is open, so the hub renders nothing: every read counted is a page view's.
    monkeypatch.setattr(services, "room_state", counted)
    services.changed(meeting.id)  # as after any change: the next view reads the room
    phone.state()
    for url in (f"/p/{meeting.code}", f"/m/{meeting.code}", f"/api/m/{meeting.code}"):
        assert phone.c.get(url).status_code == 200
    assert len(reads) == 1
    assert phone.vote({"library": "want"}).status_code == 200
    assert phone.state()["turnout"]["voted"] == 1
    assert len(reads) == 2
    meeting.close_round(1)
    assert phone.state()["round"]["status"] == "closed"
    assert len(reads) == 3


def test_a_voters_own_write_shows_in_their_next_view_and_others_within_a_tick(
    slow_tick_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between two ticks, a page view reads the room again only for a voter whose own ballot
    or join is newer than the shared state (they see it counted at once) or for the
    facilitator (exact); another voter's view and the projector page keep the shared state
    until the tick ends (so 100 ballots a second do not make every view read the room)."""
    from types import SimpleNamespace

    from app.web import services as services_module

    server = slow_tick_server
    facilitator = server.browser()
    facilitator.get("/facilitator?key=test-facilitator-key", follow_redirects=False)
    meeting = Meeting(facilitator)
    meeting.open_round()
    alice = Phone(server.browser(), meeting.code)
    bob = Phone(server.browser(), meeting.code)
    services = server.app.state.services
    reads: list[int] = []
    room_state = services.room_state

    def counted(meeting_id: int) -> Any:
        reads.append(meeting_id)
        return room_state(meeting_id)

    monkeypatch.setattr(services, "room_state", counted)
    clock = [1000.0]  # the tick ends only when the test says so
    monkeypatch.setattr(services_module, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    services.changed(meeting.id)
    round_id = alice.round_id()
    assert len(reads) == 1
    assert bob.vote({"library": "want"}, round_id=round_id).status_code == 200
    assert alice.state()["turnout"]["voted"] == 0  # Bob's ballot: within the tick, not yet
    assert alice.c.get(f"/p/{meeting.code}").status_code == 200
    assert len(reads) == 1
    assert bob.state()["turnout"]["voted"] == 1  # his own ballot: at once
    assert len(reads) == 2
    assert alice.state()["turnout"]["voted"] == 1  # the state Bob's view read is shared
    assert len(reads) == 2
    assert alice.vote({"library": "want"}, round_id=round_id).status_code == 200
    assert meeting.state()["turnout"]["voted"] == 2  # the facilitator's read: exact, at once
    assert len(reads) == 3
    assert alice.state()["turnout"]["voted"] == 2  # the facilitator's read is shared too
    assert len(reads) == 3
    carol = Phone(server.browser(), meeting.code)
    present = alice.state()["turnout"]["present"]
    assert len(reads) == 3  # Carol's join: not yet for Alice
    assert carol.state()["turnout"]["present"] == present + 1  # her own join: at once
    assert len(reads) == 4
    assert carol.vote({"library": "dont_want"}, round_id=round_id).status_code == 200
    clock[0] += 1.01  # the tick has ended: every view reads the room again
    assert bob.state()["turnout"]["voted"] == 3
    assert len(reads) == 5


def test_page_views_are_drawn_by_a_few_threads_however_many_arrive(
    slow_tick_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twelve page views at once (phone page, projector page, API state) are all answered,
    but no more than PAGE_THREADS of them read and draw at the same time, in the page threads:
    the rest wait their turn instead of taking the GIL from the ballot writer."""
    from concurrent.futures import ThreadPoolExecutor

    from app.web.services import PAGE_THREADS

    server = slow_tick_server
    facilitator = server.browser()
    facilitator.get("/facilitator?key=test-facilitator-key", follow_redirects=False)
    meeting = Meeting(facilitator)
    meeting.open_round()
    phone = Phone(server.browser(), meeting.code)
    services = server.app.state.services
    page_state, phone_state = services.page_state, services.phone_state
    lock = threading.Lock()
    running: list[str] = []
    most = [0]
    names: set[str] = set()

    def slow(read: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with lock:
                running.append(threading.current_thread().name)
                names.add(running[-1])
                most[0] = max(most[0], len(running))
            try:
                threading.Event().wait(0.05)  # long enough for the others to pile up
                return read(*args, **kwargs)
            finally:
                with lock:
                    running.remove(threading.current_thread().name)

        return wrapped

    monkeypatch.setattr(services, "page_state", slow(page_state))
    monkeypatch.setattr(services, "phone_state", slow(phone_state))
    urls = [f"/m/{meeting.code}", f"/p/{meeting.code}", f"/api/m/{meeting.code}"] * 4
    with ThreadPoolExecutor(len(urls)) as pool:
        statuses = list(pool.map(lambda url: phone.c.get(url).status_code, urls))
    assert statuses == [200] * len(urls)
    assert 1 <= most[0] <= PAGE_THREADS
    assert all(name.startswith("page") for name in names), names


def test_the_server_runs_with_a_short_gil_switch_interval(tmp_path: Path) -> None:
    """While the app runs, a thread waiting for the GIL (the ballot writer, the event loop
    sending acks) gets it within SWITCH_INTERVAL_S; the interpreter's own value comes back
    when the app stops."""
    import sys

    from app.main import SWITCH_INTERVAL_S

    before = sys.getswitchinterval()
    assert before != SWITCH_INTERVAL_S
    with LiveServer(make_settings(tmp_path)):
        assert sys.getswitchinterval() == SWITCH_INTERVAL_S
    assert sys.getswitchinterval() == before


def test_the_hubs_render_serves_the_page_views_that_follow_it(
    slow_tick_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The state the hub reads for its frames also serves the page views of the same tick (no
    read of their own), without the `connected` count the hub adds to its frames' turnout."""
    from types import SimpleNamespace

    from app.web import services as services_module

    server = slow_tick_server
    facilitator = server.browser()
    facilitator.get("/facilitator?key=test-facilitator-key", follow_redirects=False)
    meeting = Meeting(facilitator)
    meeting.open_round()
    phone = Phone(server.browser(), meeting.code)
    services = server.app.state.services
    reads: list[int] = []
    room_state = services.room_state

    def counted(meeting_id: int) -> Any:
        reads.append(meeting_id)
        return room_state(meeting_id)

    monkeypatch.setattr(services, "room_state", counted)
    monkeypatch.setattr(services_module, "time", SimpleNamespace(monotonic=lambda: 1000.0))

    async def change() -> None:  # on the loop, as after a facilitator's change
        services.changed(meeting.id)

    asyncio.run_coroutine_threadsafe(change(), services.loop).result()
    frame_state = services.live_state(meeting.id)  # as the hub's renderer does
    frame_state["turnout"]["connected"] = 3  # as the hub does to its frames
    assert len(reads) == 1
    state = phone.state()
    assert phone.c.get(f"/p/{meeting.code}").status_code == 200
    assert len(reads) == 1
    assert "connected" not in state["turnout"]
    assert state["round"]["id"] == frame_state["round"]["id"]


def test_a_phone_pages_items_are_drawn_once_and_follow_the_answer_and_the_round(
    slow_tick_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The items of an open round are drawn once per answer and language for every phone
    page: a second phone's page draws none, a voter's own answer draws its item again (with
    that answer checked, and no one else's), and a new round draws them afresh."""
    from types import SimpleNamespace

    from app.web import rendering
    from app.web import services as services_module

    server = slow_tick_server
    facilitator = server.browser()
    facilitator.get("/facilitator?key=test-facilitator-key", follow_redirects=False)
    meeting = Meeting(facilitator)
    meeting.open_round()
    alice, bob, carol = (Phone(server.browser(), meeting.code) for _ in range(3))
    env = rendering.TEMPLATES.env
    get_template = env.get_template
    drawn: list[str] = []

    def counted(name: Any, *args: Any, **kwargs: Any) -> Any:
        if str(name).startswith("phone/item_"):
            drawn.append(str(name))
        return get_template(name, *args, **kwargs)

    monkeypatch.setattr(env, "get_template", counted)
    clock = [1000.0]  # one tick for the whole test: the phone pages share one state
    monkeypatch.setattr(services_module, "time", SimpleNamespace(monotonic=lambda: clock[0]))

    async def change() -> None:  # on the loop: a new state, drawn by none of the joins
        services.changed(meeting.id)

    services = server.app.state.services
    asyncio.run_coroutine_threadsafe(change(), services.loop).result()
    page = f"/m/{meeting.code}"

    def checked(phone: Phone) -> list[tuple[str, str]]:
        return re.findall(r'name="mark:(\w+)" value="(\w+)" checked', phone.c.get(page).text)

    assert checked(bob) == []
    first = len(drawn)
    assert first == 3  # the round's three proposals
    assert checked(carol) == []
    assert len(drawn) == first  # drawn once for both
    assert alice.vote({"library": "want"}).status_code == 200
    assert checked(alice) == [("library", "want")]
    assert len(drawn) == first + 1  # only the item with her answer
    assert checked(bob) == []
    assert len(drawn) == first + 1
    meeting.close_round(1)
    meeting.open_round("library")
    assert checked(alice) == []  # her answer was in round 1
    assert len(drawn) == first + 2
