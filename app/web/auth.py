"""Who may do what: the facilitator, voters, and CSRF protection.

Both live in one signed session cookie (Starlette SessionMiddleware, itsdangerous):
- `console`: a random token naming this browser's server-side facilitator session
  (app/web/facilitators.py: checked on every request, revocable, scoped to one meeting for helpers);
  the facilitator key itself is compared in constant time and never stored in the cookie;
- `voters: {meeting id: voter id}`: the browser's voter in each meeting it joined;
- `device`: a random token naming this browser, made when it first redeems a voter ticket; a
  ticket voter votes only from the browser whose token's SHA-256 (`device_key`) it holds, and
  moving it to another browser takes the facilitator's approval (app/scrutiny/tickets.py);
- `csrf`: a random token every form and JSON change must carry (`csrf` field or the
  `X-Covote-CSRF` header); cross-site pages cannot read it, so they cannot forge a change.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from starlette.requests import HTTPConnection, Request

from app.core.errors import CsrfFailed, NotFacilitator
from app.core.messages import N_
from app.web import facilitators

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


def start_facilitator(request: Request, token: str) -> None:
    """Remember a new console session's token in this browser (after facilitators.sign_in)."""
    session = session_of(request)
    session.pop("facilitator", None)  # the old, unrevocable marker: never honoured again
    session[facilitators.TOKEN_FIELD] = token
    csrf_token(request)


def grant_of(conn: HTTPConnection) -> facilitators.Grant | None:
    """The console grant FacilitatorGate checked for this request, if any."""
    grant = conn.scope.get(facilitators.GRANT_SCOPE)
    return grant if isinstance(grant, facilitators.Grant) else None


def forget_facilitator(conn: HTTPConnection) -> None:
    session_of(conn).pop(facilitators.TOKEN_FIELD, None)


def is_facilitator(conn: HTTPConnection) -> bool:
    grant = grant_of(conn)
    return grant is not None and grant.allows(conn.scope["path"])


def require_facilitator(conn: HTTPConnection) -> None:
    grant = grant_of(conn)
    if grant is None:
        raise NotFacilitator(
            "Only the facilitator can open the console. Use the facilitator link that "
            "`covote serve` printed on the laptop."
        )
    if not grant.allows(conn.scope["path"]):
        raise NotFacilitator(
            "This sign-in link is for one meeting's tasks only. Ask the facilitator for "
            "anything else."
        )


def voter_id(conn: HTTPConnection, meeting_id: int, code: str) -> object:
    """The voter this browser joined the meeting as, if any (to be checked by the caller).

    The cookie keeps the meeting's code beside the voter id (`remember_voter`), and an entry
    for another code is ignored: a deleted meeting's id (and its voters' ids) can be reused by
    a later meeting on SQLite, and a browser of the deleted one must not become a voter of the
    new one. An entry written before codes were kept (a bare id) is still read."""
    voters = session_of(conn).get("voters") or {}
    entry = voters.get(str(meeting_id))
    if isinstance(entry, list) and len(entry) == 2:
        vid, joined = entry
        return vid if joined == code else None
    return entry


def remember_voter(conn: HTTPConnection, meeting_id: int, code: str, vid: int) -> None:
    """This browser is voter `vid` of the meeting `meeting_id`, whose code is `code`."""
    session = session_of(conn)
    voters = dict(session.get("voters") or {})
    voters[str(meeting_id)] = [vid, code]
    session["voters"] = voters


def device_token(conn: HTTPConnection) -> str:
    """This browser's device token, made on first use (only for ticket redemption)."""
    return _token(conn, "device")


def device_key(conn: HTTPConnection) -> str | None:
    """SHA-256 of this browser's device token (what the database keeps), or None if it has none."""
    token = session_of(conn).get("device")
    return hashlib.sha256(token.encode()).hexdigest() if isinstance(token, str) else None
