"""Facilitator sessions live on the server: sign-out ends them everywhere, they expire, they are
listed, and a helper's link opens one meeting's tasks only."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from app.config import Settings
from app.voting.db import transaction
from app.voting.models import FacilitatorSession
from app.web import facilitators
from tests.conftest import (
    FACILITATOR_KEY,
    MEETING,
    LiveServer,
    Meeting,
    csrf_of,
    make_settings,
)


def _copy(server: LiveServer, client: httpx.Client) -> httpx.Client:
    """Another browser holding a copy of `client`'s cookies (a stolen cookie)."""
    thief = server.browser()
    for name, value in client.cookies.items():
        thief.cookies.set(name, value)
    return thief


def _sign_in(server: LiveServer, key: str = FACILITATOR_KEY, agent: str = "") -> httpx.Client:
    client = server.browser()
    headers = {"User-Agent": agent} if agent else {}
    r = client.get(f"/facilitator?key={key}", headers=headers, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def test_signing_out_ends_the_session_for_a_copied_cookie(
    server: LiveServer, facilitator: httpx.Client
) -> None:
    """After sign-out, a cookie copied before it no longer opens the console or changes anything."""
    thief = _copy(server, facilitator)
    assert thief.get("/console").status_code == 200
    csrf = csrf_of(facilitator)
    r = facilitator.post("/facilitator/logout", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert thief.get("/console").status_code == 403
    r = thief.post("/console/meetings", data={"csrf": csrf, "title": "x"}, follow_redirects=False)
    assert r.status_code == 403
    assert facilitator.get("/console").status_code == 403


def test_the_console_lists_signed_in_browsers_and_signs_out_everywhere(
    server: LiveServer,
) -> None:
    """Two sign-ins show as two browsers; "sign out everywhere" needs the tick, then ends both."""
    firefox = _sign_in(server, agent="Mozilla/5.0 (Windows NT 10.0; rv:140.0) Firefox/140.0")
    chrome = _sign_in(server, agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0 Safari/537")
    assert "Signed in on 2 browsers" in firefox.get("/console").text
    page = firefox.get("/console/sessions").text
    assert "Signed in on 2 browsers" in page
    assert "Firefox on Windows" in page and "Chrome on Linux" in page
    csrf = csrf_of(firefox, "/console/sessions")
    r = firefox.post("/console/sessions/end-all", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 200 and "Sign out every browser?" in r.text  # asks; nothing happens
    assert chrome.get("/console").status_code == 200
    r = firefox.post(
        "/console/sessions/end-all", data={"csrf": csrf, "confirm": "on"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert chrome.get("/console").status_code == 403
    assert firefox.get("/console").status_code == 403


def test_one_browser_can_be_signed_out_from_another(server: LiveServer) -> None:
    """Signing out a listed browser ends that one only."""
    mine, other = _sign_in(server), _sign_in(server)
    html = mine.get("/console/sessions").text
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    theirs = [r for r in rows if "/end" in r and "this browser" not in r]
    assert len(theirs) == 1
    sid = re.search(r"/console/sessions/(\d+)/end", theirs[0])
    assert sid
    csrf = csrf_of(mine, "/console/sessions")
    r = mine.post(f"/console/sessions/{sid.group(1)}/end", data={"csrf": csrf})
    assert r.status_code == 303
    assert other.get("/console").status_code == 403
    assert mine.get("/console").status_code == 200


def test_a_session_ends_after_the_idle_time_and_the_maximum(tmp_path: Path) -> None:
    """A console left idle longer than facilitator_idle_s, or older than facilitator_max_s,
    is signed out, and its row removed."""
    settings = make_settings(tmp_path).with_secrets()
    from app.voting.db import create_schema, make_engine

    engine = make_engine(settings.resolved_database_url())
    create_schema(engine)
    signed = facilitators.sign_in(engine, settings, FACILITATOR_KEY, "")
    assert facilitators.check(engine, signed.token, settings.facilitator_idle_s) is not None
    with transaction(engine) as session:
        row = session.exec(select(FacilitatorSession)).one()
        row.last_seen_at = datetime.now(UTC) - timedelta(seconds=settings.facilitator_idle_s + 1)
    assert facilitators.check(engine, signed.token, settings.facilitator_idle_s) is None
    signed = facilitators.sign_in(engine, settings, FACILITATOR_KEY, "")
    with transaction(engine) as session:
        row = session.exec(select(FacilitatorSession)).one()
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert facilitators.check(engine, signed.token, settings.facilitator_idle_s) is None
    with transaction(engine) as session:
        assert session.exec(select(FacilitatorSession)).all() == []
    facilitators.sign_in(engine, settings, FACILITATOR_KEY, "")  # a browser that never returns
    with transaction(engine) as session:
        row = session.exec(select(FacilitatorSession)).one()
        row.last_seen_at = datetime.now(UTC) - timedelta(seconds=settings.facilitator_idle_s + 1)
    facilitators.sign_in(engine, settings, FACILITATOR_KEY, "")  # the next sign-in forgets it
    with transaction(engine) as session:
        assert len(session.exec(select(FacilitatorSession)).all()) == 1
    engine.dispose()


def test_the_facilitator_lifetime_is_shorter_than_a_voter_cookie() -> None:
    """Defaults: 12 h idle, a day at most; a voter's cookie lasts a week."""
    s = Settings()
    assert s.facilitator_idle_s == 12 * 3600
    assert s.facilitator_max_s == 24 * 3600 < s.session_max_age_s


def _helper_link(meeting: Meeting, role: str) -> str:
    r = meeting.f.post(
        f"/console/{meeting.id}/access",
        data={"csrf": meeting.csrf, "role": role, "label": f"{role} desk"},
        follow_redirects=True,
    )
    assert r.status_code == 200
    m = re.search(r"/facilitator\?key=([A-Za-z0-9_-]+)", r.text)
    assert m, r.text
    return m.group(1)


def test_a_paper_helper_link_opens_only_that_meetings_paper_pages(
    server: LiveServer, meeting: Meeting
) -> None:
    """A paper-keying link reaches the meeting's paper pages and nothing else: not the round
    controls, not set-up, not other meetings, not the list of meetings or sessions."""
    other = Meeting(meeting.f, {**MEETING, "title": "Another meeting"})
    meeting.open_round()
    key = _helper_link(meeting, "paper")
    clerk = server.browser()
    r = clerk.get(
        f"/facilitator?key={key}", follow_redirects=True
    )  # lands on the latest round's paper page
    assert r.status_code == 200 and str(r.url).endswith(f"/console/{meeting.id}/rounds/1/paper")
    assert clerk.get(f"/console/{meeting.id}/rounds/1/paper/key/1").status_code == 200
    for path in (
        "/console",
        "/console/sessions",
        f"/console/{meeting.id}",
        f"/console/{meeting.id}/setup",
        f"/console/{meeting.id}/access",
        f"/console/{meeting.id}/export/ballots.csv",
        f"/console/{other.id}/rounds/1/paper",
        f"/console/{other.id}",
    ):
        assert clerk.get(path).status_code == 403, path
    csrf = csrf_of(clerk, f"/console/{meeting.id}/rounds/1/paper/key/1")
    r = clerk.post(
        f"/console/{meeting.id}/rounds/1/close", data={"csrf": csrf}, follow_redirects=False
    )
    assert r.status_code == 403
    assert meeting.state()["round"]["status"] == "open"
    r = clerk.post("/console/meetings", data={"csrf": csrf, "title": "x"}, follow_redirects=False)
    assert r.status_code == 403


def test_a_meeting_helper_link_runs_one_meeting_and_revoking_it_signs_out(
    server: LiveServer, meeting: Meeting
) -> None:
    """A whole-meeting link runs that meeting but no other; revoking the link ends its session."""
    other = Meeting(meeting.f, {**MEETING, "title": "Another meeting"})
    key = _helper_link(meeting, "meeting")
    helper = server.browser()
    assert helper.get(f"/facilitator?key={key}", follow_redirects=True).status_code == 200
    assert helper.get(f"/console/{meeting.id}").status_code == 200
    assert helper.get(f"/console/{meeting.id}/setup").status_code == 200
    assert helper.get(f"/console/{other.id}").status_code == 403
    assert helper.get(f"/console/{meeting.id}/access").status_code == 403
    access = meeting.f.get(f"/console/{meeting.id}/access").text
    key_id = re.search(rf"/console/{meeting.id}/access/(\d+)/revoke", access)
    assert key_id
    meeting.post(f"/access/{key_id.group(1)}/revoke", confirm="yes")
    assert helper.get(f"/console/{meeting.id}").status_code == 403
    assert helper.get(f"/facilitator?key={key}", follow_redirects=False).status_code == 403


@pytest.mark.parametrize("role", ["paper", "meeting"])
def test_only_the_facilitator_makes_helper_links(
    server: LiveServer, meeting: Meeting, role: str
) -> None:
    """A helper cannot make more helper links."""
    key = _helper_link(meeting, role)
    helper = _sign_in(server, key)
    r = helper.post(
        f"/console/{meeting.id}/access",
        data={"csrf": meeting.csrf, "role": "meeting", "label": "x"},
        follow_redirects=False,
    )
    assert r.status_code == 403
