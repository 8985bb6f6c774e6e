"""Who may do what: the facilitator, voters, and CSRF protection.

Both live in one signed session cookie (Starlette SessionMiddleware, itsdangerous):
- `facilitator: true` after opening the facilitator link (`/facilitator?key=...`); the key is
  compared in constant time and never stored in the cookie;
- `voters: {meeting id: voter id}`: the browser's voter in each meeting it joined;
- `device`: a random token naming this browser, made when it first redeems a voter ticket; a
  ticket voter votes only from the browser whose token's SHA-256 (`device_key`) it holds, and
  moving it to another browser takes the facilitator's approval (app/tickets.py);
- `csrf`: a random token every form and JSON change must carry (`csrf` field or the
  `X-Covote-CSRF` header); cross-site pages cannot read it, so they cannot forge a change.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from starlette.requests import HTTPConnection, Request

from app.errors import CsrfFailed, NotFacilitator
from app.i18n import N_

CSRF_HEADER = "x-covote-csrf"


def session_of(conn: HTTPConnection) -> dict[str, Any]:
    session: dict[str, Any] = conn.session
    return session


def _token(conn: HTTPConnection, name: str) -> str:
    """The session's random token `name`, made on first use."""
    session = session_of(conn)
    token = session.get(name)
    if not isinstance(token, str):
        token = session[name] = secrets.token_urlsafe(24)
    return token


def csrf_token(conn: HTTPConnection) -> str:
    return _token(conn, "csrf")


def check_csrf(conn: HTTPConnection, supplied: object) -> None:
    expected = session_of(conn).get("csrf")
    if not (
        isinstance(expected, str)
        and isinstance(supplied, str)
        and hmac.compare_digest(expected, supplied)
    ):
        raise CsrfFailed(
            N_("This page has expired or did not come from Covote. Reload it and try again.")
        )


def login_facilitator(request: Request, key: str, expected: str) -> None:
    if not hmac.compare_digest(key.encode(), expected.encode()):
        raise NotFacilitator("That facilitator link is not valid for this server.")
    session_of(request)["facilitator"] = True
    csrf_token(request)


def is_facilitator(conn: HTTPConnection) -> bool:
    return session_of(conn).get("facilitator") is True


def require_facilitator(conn: HTTPConnection) -> None:
    if not is_facilitator(conn):
        raise NotFacilitator(
            "Only the facilitator can open the console. Use the facilitator link that "
            "`covote serve` printed on the laptop."
        )


def voter_id(conn: HTTPConnection, meeting_id: int) -> object:
    voters = session_of(conn).get("voters") or {}
    return voters.get(str(meeting_id))


def remember_voter(conn: HTTPConnection, meeting_id: int, vid: int) -> None:
    session = session_of(conn)
    voters = dict(session.get("voters") or {})
    voters[str(meeting_id)] = vid
    session["voters"] = voters


def device_token(conn: HTTPConnection) -> str:
    """This browser's device token, made on first use (only for ticket redemption)."""
    return _token(conn, "device")


def device_key(conn: HTTPConnection) -> str | None:
    """SHA-256 of this browser's device token (what the database keeps), or None if it has none."""
    token = session_of(conn).get("device")
    return hashlib.sha256(token.encode()).hexdigest() if isinstance(token, str) else None
