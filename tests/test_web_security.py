"""The web layer under attack: WebSocket Origin and CSRF, security headers on every page,
no CDN, Secure cookies behind HTTPS."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import cast

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from app.config import Settings
from tests.conftest import LiveServer, Meeting, Phone, Socket, make_settings


def _cast(ws: Socket, round_id: int) -> dict[str, object]:
    ballot_id = uuid.uuid4().hex
    ws.send(
        {"type": "cast", "ballot_id": ballot_id, "round": round_id, "marks": {"library": "want"}}
    )
    return ws.until(lambda m: m["type"] in ("ack", "error"))


def test_a_socket_from_another_origin_is_refused(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """A page on another site cannot open the meeting socket with a voter's cookie (HTTP 403)."""
    phone = phones()
    for origin in ("http://evil.example", "null", f"http://127.0.0.1:{server.port}.evil.example"):
        with pytest.raises(InvalidStatus) as refused:
            Socket(server, meeting.code, phone.c, origin=origin).__enter__()
        assert refused.value.response.status_code == 403


def test_a_socket_from_the_pages_own_origin_casts(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """The page's own origin (the host it was served from) is accepted and can cast."""
    meeting.open_round()
    phone = phones()
    with Socket(server, meeting.code, phone.c, origin=server.url) as ws:
        rid = ws.until(lambda m: m["type"] == "snapshot")["round"]["id"]
        assert _cast(ws, rid)["type"] == "ack"


def test_a_socket_without_the_csrf_token_cannot_cast(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """With the voter's cookie but without (or with a wrong) CSRF token, casts are refused and
    nothing is stored; the socket still gets the room's snapshots."""
    meeting.open_round()
    phone = phones()
    for token in ("", "not-the-token"):
        with Socket(server, meeting.code, phone.c, csrf=token) as ws:
            rid = ws.until(lambda m: m["type"] == "snapshot")["round"]["id"]
            error = _cast(ws, rid)
            assert error["type"] == "error" and error["code"] == "csrf_failed"
    assert meeting.state()["turnout"]["voted"] == 0


def test_the_phone_page_opens_its_socket_with_the_token() -> None:
    """phone.js passes the page's CSRF token when it opens the socket."""
    script = (Path(__file__).parents[1] / "app/static/phone/phone.js").read_text()
    assert "'?csrf=' + encodeURIComponent(page.csrf)" in script


HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def _check_headers(r: httpx.Response) -> None:
    csp = r.headers.get("content-security-policy", "")
    # Only the projector may be framed, and only by Covote's own pages (the presenter view).
    framing = "'self'" if r.url.path.startswith("/p/") else "'none'"
    assert "script-src 'self';" in csp and f"frame-ancestors {framing}" in csp, r.url
    assert r.headers.get("x-frame-options") == ("SAMEORIGIN" if framing == "'self'" else "DENY")
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    for name, value in HEADERS.items():
        assert r.headers.get(name) == value, (r.url, name)


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def test_every_page_of_a_meeting_carries_the_headers_and_no_inline_script(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Phone, projector, console pages, report, errors and static files: CSP (script-src 'self',
    frame-ancestors 'none', the projector 'self' for the presenter's preview), nosniff and
    no-referrer; no inline script or event handler."""
    meeting.open_round()
    phone = phones()
    phone.vote({"library": "want"})
    meeting.close_round(1)
    f = meeting.f
    pages = [
        (phone.c, "/"),
        (phone.c, f"/m/{meeting.code}"),
        (phone.c, f"/p/{meeting.code}"),
        (phone.c, f"/m/{meeting.code}/helping"),
        (phone.c, "/t"),
        (phone.c, "/no-such-page"),
        (f, "/console"),
        (f, "/console/sessions"),
        (f, f"/console/{meeting.id}"),
        (f, f"/console/{meeting.id}/setup"),
        (f, f"/console/{meeting.id}/keypads"),
        (f, f"/console/{meeting.id}/tickets"),
        (f, f"/console/{meeting.id}/access"),
        (f, f"/console/{meeting.id}/people"),
        (f, f"/console/{meeting.id}/rounds/1"),
        (f, f"/console/{meeting.id}/rounds/1/paper"),
        (f, f"/console/{meeting.id}/rounds/1/paper/key/1"),
        (f, f"/console/{meeting.id}/report.html"),
        (f, f"/console/{meeting.id}/present"),
    ]
    for client, path in pages:
        r = client.get(path)
        assert r.status_code in (200, 404, 405), (path, r.status_code)
        _check_headers(r)
        assert not INLINE_SCRIPT.search(r.text), path
        assert not INLINE_HANDLER.search(r.text), path
    for path in ("/static/shared/covote.css", f"/api/m/{meeting.code}"):
        _check_headers(phone.c.get(path))


def test_no_page_loads_anything_from_another_site(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """No CDN: the API docs page (Swagger from a CDN) is off by default, and no page or
    template names an outside script, style or font."""
    client = server.browser()
    assert client.get("/api/docs").status_code == 404
    templates = Path(__file__).parents[1] / "app/templates"
    for path in templates.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r'(src|href)="(https?:)?//', text), path


def test_cookies_are_secure_behind_an_https_public_url(tmp_path: Path) -> None:
    """Served under an https:// public URL (a TLS proxy) or with --tls, cookies carry Secure."""
    assert make_settings(tmp_path, public_url="https://vote.example").secure_cookies()
    assert make_settings(tmp_path, tls=True).secure_cookies()
    assert not make_settings(tmp_path).secure_cookies()
    from starlette.middleware.sessions import SessionMiddleware

    from app.main import create_app

    app = create_app(make_settings(tmp_path, public_url="https://vote.example"))
    sessions = [m for m in app.user_middleware if cast(object, m.cls) is SessionMiddleware]
    assert sessions and sessions[0].kwargs["https_only"] is True


def test_api_docs_can_be_switched_on(tmp_path: Path) -> None:
    """With api_docs the docs page answers (for development only)."""
    with LiveServer(make_settings(tmp_path, api_docs=True)) as live:
        assert live.browser().get("/api/docs").status_code == 200


def test_settings_name_the_public_origin() -> None:
    """The public URL's origin may open sockets, besides the page's own host."""
    s = Settings(public_url="https://vote.example/x", extra_origins=["http://Kiosk.local/"])
    assert s.allowed_origins() == {"https://vote.example", "http://kiosk.local"}


def test_the_policy_names_the_pages_own_socket_origin() -> None:
    """connect-src lists ws:// and wss:// for the page's host; a malformed Host adds nothing."""
    from app.main import content_security_policy

    csp = content_security_policy(b"192.168.1.20:8000").decode()
    assert "connect-src 'self' ws://192.168.1.20:8000 wss://192.168.1.20:8000;" in csp
    assert "ws://[::1]:8000" in content_security_policy(b"[::1]:8000").decode()
    for bad in (b"evil; script-src *", b"a b", b""):
        assert "connect-src 'self';" in content_security_policy(bad).decode()
