"""Bounded work per voter, per address and per meeting (issue 11): rate limits with the default
Settings, joining only by POST, no oracle and a lockout for ticket codes, and the console's
alert when "present" jumps."""

from __future__ import annotations

import functools
import json
import re
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from app.config import Settings
from app.live.surge import surge
from tests.conftest import (
    RELAXED_LIMITS,
    LiveServer,
    Meeting,
    Phone,
    Socket,
    join,
    make_settings,
)
from tests.test_tickets import TICKETS, codes, issue, present

# The limits as shipped (tests/conftest.py relaxes them for every other test).
DEFAULTS: dict[str, Any] = {name: Settings.model_fields[name].default for name in RELAXED_LIMITS}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The shipped limits, on SQLite."""
    return make_settings(tmp_path, **DEFAULTS)


def ballot_links(m: Meeting) -> int:
    text = m.f.get(f"/console/{m.id}/export/audit.jsonl").text
    return sum(1 for line in text.splitlines() if json.loads(line)["kind"] == "ballot")


def test_the_defaults_are_the_safe_ones() -> None:
    """Settings ship with the limits documented in app/config.py, and refuse unreadable ones."""
    fresh = Settings()
    assert fresh.limit_casts_per_voter == "30/minute;300/hour"
    assert fresh.limit_joins_per_address == "20/minute;200/hour"
    assert fresh.limit_ticket_failures_per_address == "10/minute;30/hour;60/day"
    with pytest.raises(ValueError, match="not a rate"):
        Settings(limit_casts_per_voter="lots")


def test_500_rapid_casts_from_one_voter_are_refused_after_the_limit(
    server: LiveServer, meeting: Meeting
) -> None:
    """One phone sends 500 versions over the WebSocket: 30 are stored and audited, the rest get
    a `rate_limited` error frame on a socket that stays open, and leave no audit link."""
    meeting.open_round()
    phone = Phone(server.browser(), meeting.code)
    round_id = phone.round_id()
    before = ballot_links(meeting)
    acks = errors = 0
    with Socket(server, meeting.code, phone.c) as ws:
        for batch in range(10):  # 50 at a time: within the connection's frame backlog
            for i in range(50):
                mark = ["want", "dont_want", "neutral"][(batch + i) % 3]
                ws.send({"type": "cast", "ballot_id": uuid.uuid4().hex, "round": round_id,
                         "marks": {"library": mark}})  # fmt: skip
            while acks + errors < 50 * (batch + 1):
                frame = ws.until(lambda f: f["type"] in ("ack", "error"))
                if frame["type"] == "ack":
                    acks += 1
                else:
                    assert frame["code"] == "rate_limited" and "Wait" in frame["message"]
                    errors += 1
        ws.send({"type": "ping"})
        assert ws.until(lambda f: f["type"] == "pong")  # still open
    assert (acks, errors) == (30, 470)
    assert ballot_links(meeting) - before == 30
    r = phone.vote({"library": "want"})  # the HTTP path shares the voter's limit
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.json()["error"]["code"] == "rate_limited"
    assert ballot_links(meeting) - before == 30


def test_the_no_javascript_form_shows_the_limit_in_the_page_language(
    tmp_path: Path,
) -> None:
    """A refused form post gets a 429 page with Retry-After and the message in Welsh."""
    settings = make_settings(tmp_path, **{**DEFAULTS, "limit_casts_per_voter": "1/minute"})
    with LiveServer(settings) as server:
        fac = server.browser()
        fac.get("/facilitator?key=test-facilitator-key")
        meeting = Meeting(fac)
        meeting.open_round()
        phone = Phone(server.browser(), meeting.code)
        data = {"csrf": phone.csrf, "round": str(phone.round_id()), "mark:library": "want"}
        assert phone.c.post(f"/m/{meeting.code}/ballot", data=data).status_code == 303
        r = phone.c.post(f"/m/{meeting.code}/ballot?lang=cy", data=data)
        assert r.status_code == 429 and "text/html" in r.headers["content-type"]
        assert int(r.headers["retry-after"]) >= 1
        assert "Arhoswch" in r.text  # "Wait", in Welsh


def test_300_gets_from_one_client_create_no_voter(server: LiveServer, meeting: Meeting) -> None:
    """Opening the phone page, the API state and the join redirect never makes a voter: the
    page shows a Join button instead; pressing it (a POST) joins once."""
    for _ in range(100):
        client = httpx.Client(base_url=server.url)  # a fresh browser every time
        page = client.get(f"/m/{meeting.code}")
        assert page.status_code == 200 and 'id="join-form"' in page.text
        client.get(f"/api/m/{meeting.code}")
        client.get(f"/join?code={meeting.code}", follow_redirects=True)
        client.close()
    assert present(meeting) == 0
    browser = server.browser()
    join(browser, meeting.code)
    join(browser, meeting.code)  # already joined: no second voter
    assert present(meeting) == 1
    assert 'id="ballot"' in browser.get(f"/m/{meeting.code}").text


def test_joins_are_limited_per_address_and_refusals_alert_the_console(
    server: LiveServer, meeting: Meeting
) -> None:
    """A script joining from one address gets 20 voters a minute, then 429s; the console's
    live turnout carries an alert naming the refused joins."""
    statuses = []
    for _ in range(25):
        client = server.browser()
        page = client.get(f"/m/{meeting.code}").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf
        r = client.post(f"/m/{meeting.code}/join", data={"csrf": csrf.group(1)})
        statuses.append(r.status_code)
    assert statuses == [303] * 20 + [429] * 5
    assert present(meeting) == 20
    with Socket(server, meeting.code, meeting.f) as ws:
        frame = ws.until(lambda f: bool(f.get("turnout", {}).get("surge")))
    assert frame["turnout"]["surge"] == {"joined": 20, "refused": 5}


def test_new_voters_per_meeting_are_limited_whatever_the_address(tmp_path: Path) -> None:
    """The meeting-wide cap holds even when each join comes from an address under its own
    limit: the 4th new voter in a minute is told that too many people are joining."""
    limits = {**DEFAULTS, "limit_joins_per_meeting": "3/minute"}
    with LiveServer(make_settings(tmp_path, **limits)) as server:
        fac = server.browser()
        fac.get("/facilitator?key=test-facilitator-key")
        meeting = Meeting(fac)
        for _ in range(3):
            join(server.browser(), meeting.code)
        client = server.browser()
        page = client.get(f"/m/{meeting.code}").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf
        r = client.post(f"/m/{meeting.code}/join", data={"csrf": csrf.group(1)})
        assert r.status_code == 429 and "Too many people are joining right now" in r.text
        assert present(meeting) == 3


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_console_shows_an_alert_after_a_burst_of_joins(
    tmp_path: Path, db: str, request: pytest.FixtureRequest
) -> None:
    """60 phones joining within a minute (over the floor of 50) shows a role=alert message on
    the facilitator's console page, worded in English and in Welsh."""
    extra = {"database_url": request.getfixturevalue("postgres_url")} if db == "postgres" else {}
    with LiveServer(make_settings(tmp_path, **extra)) as server:
        fac = server.browser()
        fac.get("/facilitator?key=test-facilitator-key")
        meeting = Meeting(fac)
        page = fac.get(f"/console/{meeting.id}").text
        assert 'id="surge"' in page and 'role="alert"' in page
        for _ in range(60):
            join(server.browser(), meeting.code)
        state = meeting.state()
        assert state["turnout"]["surge"] == {"joined": 60, "refused": 0}
        page = fac.get(f"/console/{meeting.id}").text
        assert "60 phones joined in the last minute" in page
        welsh = fac.get(f"/console/{meeting.id}?lang=cy").text
        assert "60 ffôn" in welsh


def test_repeated_api_requests_and_hellos_from_one_address_are_limited(tmp_path: Path) -> None:
    """A script repeating state reads gets 429 with Retry-After once over the per-address
    limit; a socket's hello then gets a `rate_limited` error frame on an open socket, and
    the next handshake is closed with 4429 (the page reconnects after a backoff)."""
    settings = make_settings(tmp_path, **{**DEFAULTS, "limit_api_per_address": "6/minute"})
    with LiveServer(settings) as server:
        fac = server.browser()
        fac.get("/facilitator?key=test-facilitator-key")
        meeting = Meeting(fac)  # reads the console, not the API
        client = server.browser()
        statuses = [client.get(f"/api/m/{meeting.code}").status_code for _ in range(5)]
        assert statuses == [200] * 5
        with Socket(server, meeting.code, client) as ws:  # the 6th request: the handshake
            ws.send({"type": "hello", "last_seq": None})  # the 7th: refused, socket stays open
            frame = ws.until(lambda f: f["type"] == "error")
            assert frame["code"] == "rate_limited"
            ws.send({"type": "ping"})
            assert ws.until(lambda f: f["type"] == "pong")
        with Socket(server, meeting.code, client) as ws, pytest.raises(ConnectionClosed) as closed:
            ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429
        r = client.get(f"/api/m/{meeting.code}")
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert r.json()["error"]["code"] == "rate_limited"


def test_surge_is_relative_to_the_room() -> None:
    """A room filling at a human pace is quiet; a jump over the floor and half the room, or any
    refused join, raises the alert."""
    quiet = functools.partial(surge, min_joins=50, share=0.5)
    assert quiet(30, 30, 0) is None  # the first 30 arrive
    assert quiet(50, 450, 0) is None  # latecomers to a hall of 400
    assert quiet(51, 51, 0) == {"joined": 51, "refused": 0}
    assert quiet(80, 300, 0) is None  # 80 <= 0.5 x the 220 already here
    assert quiet(120, 300, 0) == {"joined": 120, "refused": 0}  # 120 > 0.5 x 180
    assert quiet(0, 10, 1) == {"joined": 0, "refused": 1}


def test_ticket_guessing_is_locked_out_and_wrong_and_unusable_codes_look_alike(
    server: LiveServer, facilitator: httpx.Client
) -> None:
    """A revoked (real) code and a wrong one get the same status, page and time; after 10
    wrong codes the address is locked out (429, Retry-After), even for a real code."""
    tm = Meeting(facilitator, TICKETS)
    issue(tm, 2)
    real = codes(tm)
    tm.post("/tickets/1/revoke", confirm="yes")
    guesser = server.browser()

    def answer(code: str) -> tuple[int, str, float]:
        started = time.monotonic()
        r = guesser.get(f"/join?code={code}", follow_redirects=True)
        elapsed = time.monotonic() - started
        body = r.text.replace(code, "CODE").replace(code.replace("-", ""), "CODE")
        body = re.sub(r'name="csrf" value="[^"]+"', "", body)
        return r.status_code, body, elapsed

    revoked = [answer(real[1]) for _ in range(4)]
    wrong = [answer("HJKM-NP34") for _ in range(4)]
    assert {s for s, _, _ in revoked} == {s for s, _, _ in wrong} == {404}
    assert {b for _, b, _ in revoked} == {b for _, b, _ in wrong}
    gap = abs(statistics.median(t for *_, t in revoked) - statistics.median(t for *_, t in wrong))
    assert gap < 0.05
    for _ in range(2):
        answer("HJKM-NP36")
    r = guesser.get(f"/t/{real[2]}")  # an unused, real code: the address is locked out
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert "Too many wrong ticket codes" in r.text
    assert present(tm) == 0


REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_unavailable() -> str | None:
    """Why the Redis test cannot run here, or None if it can."""
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        return None
    except Exception as e:
        return f"Redis not reachable at {REDIS_URL}: {e}"


@pytest.mark.redis
def test_two_processes_share_one_limit_through_redis(tmp_path: Path) -> None:
    """Scale-out: with a broadcast URL the counters live in Redis, so joins through two app
    instances on one database count against one per-address limit."""
    reason = redis_unavailable()
    if reason:
        pytest.skip(reason)
    limits = {**DEFAULTS, "limit_joins_per_address": "3/minute"}
    settings = make_settings(tmp_path, broadcast_url=REDIS_URL, **limits)
    with LiveServer(settings) as first, LiveServer(settings) as second:
        fac = first.browser()
        fac.get("/facilitator?key=test-facilitator-key")
        meeting = Meeting(fac)
        statuses = []
        for server in (first, second, first, second):
            client = server.browser()
            page = client.get(f"/m/{meeting.code}").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page)
            assert csrf
            statuses.append(client.post(f"/m/{meeting.code}/join", data={"csrf": csrf.group(1)}))
        assert [r.status_code for r in statuses] == [303, 303, 303, 429]
        assert present(meeting) == 3
