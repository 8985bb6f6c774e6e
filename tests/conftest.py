"""Shared fixtures: an app per test on its own SQLite file, a facilitator and phones."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from hypothesis import settings as hypothesis_settings

from app.config import Settings
from app.main import create_app

# Property tests assert behaviour, never speed: on a busy 2-core CI machine Hypothesis's default
# 200 ms deadline per example failed pure tally tests by timing alone (speed is for scripts/bench).
hypothesis_settings.register_profile("covote", deadline=None)
hypothesis_settings.load_profile("covote")

FACILITATOR_KEY = "test-facilitator-key"
# Timing constants in tests are multiplied by this on slow CI machines.
TIME_FACTOR = float(os.environ.get("COVOTE_TEST_TIME_FACTOR", "1"))


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "public_url": "http://testserver",
        "session_secret": "test-session-secret",
        "facilitator_key": FACILITATOR_KEY,
        "tick_hz": 50,
        # Tests join hundreds of phones and cast many ballots from one address (127.0.0.1):
        # generous limits here; tests/test_limits.py checks the defaults.
        **RELAXED_LIMITS,
    }
    values.update(overrides)
    return Settings(**values)


RELAXED_LIMITS: dict[str, Any] = {
    "limit_casts_per_voter": "100000/minute",
    "limit_joins_per_address": "100000/minute",
    "limit_joins_per_meeting": "100000/minute",
    "limit_ticket_failures_per_address": "100000/minute",
    "limit_api_per_address": "100000/minute",
    "limit_offers_per_address": "100000/minute",
    "limit_ideas_per_voter": "100000/minute",
    "limit_amendments_per_voter": "100000/minute",
}


def join(client: httpx.Client, code: str) -> str:
    """Open the meeting's phone page and press Join (a GET never joins); the page's CSRF token."""
    html = client.get(f"/m/{code}").text
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html
    if 'id="join-form"' in html:
        r = client.post(f"/m/{code}/join", data={"csrf": m.group(1)}, follow_redirects=True)
        assert r.status_code == 200, r.text
    return m.group(1)


PG_ADMIN_URL = os.environ.get("COVOTE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def postgres_unavailable() -> str | None:
    """Why the PostgreSQL tests cannot run here, or None if they can."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=2):
            return None
    except Exception as e:
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {e}"


@pytest.fixture(scope="session")
def pg_reason() -> str | None:
    return postgres_unavailable()


@pytest.fixture
def postgres_url(pg_reason: str | None) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    if pg_reason:
        pytest.skip(pg_reason)
    import uuid

    import psycopg

    name = f"covote_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """The app's settings, once per database backend."""
    if request.param == "postgres":
        return make_settings(tmp_path, database_url=request.getfixturevalue("postgres_url"))
    return make_settings(tmp_path)


class LiveServer:
    """The app under a real uvicorn (same WebSocket flags as `covote serve`) in a thread."""

    def __init__(self, settings: Settings) -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        settings = settings.model_copy(update={"public_url": self.url, "port": self.port})
        self.app = create_app(settings)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            ws="websockets-sansio",
            ws_per_message_deflate=False,
            ws_max_size=settings.ws_max_message_bytes,
            log_level="warning",
        )
        self.server = uvicorn.Server(config)
        self.clients: list[httpx.Client] = []
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10 * TIME_FACTOR
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        for client in self.clients:
            client.close()
        self.server.should_exit = True
        self.thread.join(10 * TIME_FACTOR)

    def browser(self) -> httpx.Client:
        """A new browser: its own cookie jar."""
        client = httpx.Client(base_url=self.url, timeout=10 * TIME_FACTOR)
        self.clients.append(client)
        return client

    def ws_url(self, code: str) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/m/{code}"


@pytest.fixture
def server(settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(settings) as live:
        yield live


@pytest.fixture
def facilitator(server: LiveServer) -> httpx.Client:
    client = server.browser()
    r = client.get(f"/facilitator?key={FACILITATOR_KEY}", follow_redirects=False)
    assert r.status_code == 303
    return client


def csrf_of(client: httpx.Client, path: str = "/console") -> str:
    """The CSRF token a page carries in its forms."""
    html = client.get(path).text
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, f"no csrf token on {path}"
    return m.group(1)


MEETING: dict[str, Any] = {
    "title": "Test budget",
    "rule": {"ratio": 2, "group_min": 2},
    "segments": [
        {"id": "carer", "label": "Carer", "protects": True},
        {"id": "north", "label": "Area: North", "protects": True},
        {"id": "staff", "label": "Staff", "protects": False},
    ],
    "proposals": [
        {
            "id": "library",
            "title": "Mobile library",
            "kind": "keep",
            "saving": 48000,
            "affected_groups": ["north"],
        },
        {
            "id": "respite",
            "title": "Respite breaks",
            "kind": "fund",
            "cost": 80000,
            "affected_groups": ["carer", "staff"],
        },
        {
            "id": "toilets",
            "title": "Park toilets",
            "kind": "keep",
            "saving": 22000,
            "affected_groups": [],
        },
    ],
    "tie_break": ["toilets", "library", "respite"],
}


class Meeting:
    """A meeting created through the console, with helpers to drive it as the facilitator."""

    def __init__(self, facilitator: httpx.Client, spec: dict[str, Any] | None = None) -> None:
        import json

        self.f = facilitator
        csrf = csrf_of(facilitator)
        body = json.dumps(spec or MEETING).encode()
        r = facilitator.post(
            "/console/import",
            data={"csrf": csrf},
            files={"file": ("meeting.json", body, "application/json")},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        self.id = int(r.headers["location"].split("/")[2])
        page = facilitator.get(f"/console/{self.id}").text
        m = re.search(r'class="code">([A-Z0-9]{6})<', page)
        assert m
        self.code = m.group(1)
        self.csrf = csrf

    def post(self, path: str, **data: Any) -> Any:
        r = self.f.post(
            f"/console/{self.id}{path}", data={"csrf": self.csrf, **data}, follow_redirects=False
        )
        assert r.status_code == 303, r.text
        return r

    def open_round(self, *keys: str) -> None:
        self.post("/rounds", proposal=list(keys) or ["library", "respite", "toilets"])

    def close_round(self, number: int) -> None:
        self.post(f"/rounds/{number}/close", confirm="yes")

    def reveal(self, number: int) -> None:
        self.post(f"/rounds/{number}/reveal")

    def state(self) -> dict[str, Any]:
        return dict(self.f.get(f"/api/m/{self.code}").json())


class Phone:
    """An attendee's browser: joins through the join page and votes through the API."""

    def __init__(self, client: httpx.Client, code: str) -> None:
        self.c = client
        self.code = code
        self.csrf = join(client, code)

    def state(self) -> dict[str, Any]:
        return dict(self.c.get(f"/api/m/{self.code}").json())

    def round_id(self) -> int:
        return int(self.state()["round"]["id"])

    def segments(self, *keys: str) -> Any:
        return self.c.post(
            f"/api/m/{self.code}/segments",
            json={"segments": list(keys)},
            headers={"X-Covote-CSRF": self.csrf},
        )

    def vote(
        self, marks: dict[str, str], *, ballot_id: str | None = None, round_id: int | None = None
    ) -> Any:
        import uuid

        return self.c.post(
            f"/api/m/{self.code}/ballot",
            json={
                "ballot_id": ballot_id or uuid.uuid4().hex,
                "round": round_id if round_id is not None else self.round_id(),
                "marks": marks,
            },
            headers={"X-Covote-CSRF": self.csrf},
        )


@pytest.fixture
def meeting(facilitator: httpx.Client) -> Meeting:
    return Meeting(facilitator)


@pytest.fixture
def phones(server: LiveServer, meeting: Meeting) -> Callable[[], Phone]:
    return lambda: Phone(server.browser(), meeting.code)


def cookie_header(client: httpx.Client) -> str:
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def session_value(client: httpx.Client | None, name: str) -> Any:
    """A value from the browser's signed session cookie (as the page's own scripts get it)."""
    raw = client.cookies.get("covote") if client is not None else None
    return session_data(raw).get(name) if raw else None


def session_data(raw: str) -> dict[str, Any]:
    """The JSON inside a `covote` session cookie's value (signed, not encrypted)."""
    import base64
    import json

    payload = raw.strip('"').rsplit(".", 2)[0]
    data = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    return data if isinstance(data, dict) else {}


def with_csrf(ws_url: str, cookie: str) -> str:
    """The socket URL a phone page opens: its session's CSRF token in `?csrf=` (from a Cookie
    header value such as "covote=...; lang=cy")."""
    from urllib.parse import quote

    for part in cookie.split(";"):
        name, _, value = part.strip().partition("=")
        if name == "covote" and value:
            token = session_data(value).get("csrf")
            if isinstance(token, str):
                return f"{ws_url}?csrf={quote(token)}"
    return ws_url


class Socket:
    """A WebSocket to the meeting, as a browser with `client`'s cookies (or none) opens it."""

    def __init__(
        self,
        server: LiveServer,
        code: str,
        client: httpx.Client | None = None,
        *,
        csrf: str | None = None,
        origin: str | None = None,
        query: str = "",
    ) -> None:
        from urllib.parse import quote

        from websockets.sync.client import connect

        headers = {"Cookie": cookie_header(client)} if client is not None else {}
        if origin is not None:
            headers["Origin"] = origin
        token = csrf if csrf is not None else session_value(client, "csrf")
        params = [f"csrf={quote(token)}"] if token else []
        url = server.ws_url(code) + "?" + "&".join([*params, query] if query else params)
        url = url.rstrip("?")
        self._connect = connect(url, additional_headers=headers, compression=None)

    def send(self, msg: dict[str, Any]) -> None:
        import json

        self.ws.send(json.dumps(msg))

    def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        import json

        return dict(json.loads(self.ws.recv(timeout=timeout * TIME_FACTOR)))

    def until(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 5.0
    ) -> dict[str, Any]:
        """Read frames until one matches; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout * TIME_FACTOR
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no matching frame arrived in time")
            msg = self.recv(left / TIME_FACTOR)
            if predicate(msg):
                return msg

    def __enter__(self) -> Socket:
        self.ws = self._connect.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._connect.__exit__(None, None, None)
