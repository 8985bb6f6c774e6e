"""Who is signed in to the console: server-side facilitator sessions and helpers' sign-in keys.

Signing in with the server's facilitator key (`/facilitator?key=...`, printed by `covote serve`)
or with a helper's key makes a `FacilitatorSession` row; the browser's cookie keeps only a
random token whose SHA-256 names the row. Every request from a browser holding a token is
checked against the table (`FacilitatorGate`), so signing out, "sign out everywhere" and
revoking a helper's key end the session at once, in every server process, however the cookie
was copied. A session ends after `facilitator_idle_s` without a request and, at the latest,
`facilitator_max_s` after signing in.

A helper's key is scoped to one meeting and a role:
- `meeting`: every console page of that one meeting (not the list of meetings, other meetings,
  the page that makes helpers' keys, or the people list: personal data, the facilitator's
  alone);
- `paper`: only keying and counting that meeting's paper ballots.
The server's own key grants `all`. What a grant allows is decided from the request path in one
place (`Grant.allows`), which `auth.require_facilitator` applies to every console route.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.core.errors import BadInput, NotFacilitator, NotFound
from app.voting.db import read_transaction, transaction
from app.voting.models import FacilitatorKey, FacilitatorSession, Meeting, Round

# The cookie-session field holding this browser's console token.
TOKEN_FIELD = "console"
# Where the gate leaves the checked grant for the request (scope key).
GRANT_SCOPE = "covote.grant"
HELPER_ROLES = ("meeting", "paper")
# "Last seen" is written at most this often per session: a page load is not a database write.
TOUCH_EVERY = timedelta(seconds=60)

# A meeting's console pages that no helper's link opens, whatever its role.
FACILITATOR_ONLY = ("/access", "/people")

_PAPER_PATH = re.compile(r"/paper|/rounds/\d+/paper(/.*)?")


@dataclass(frozen=True, slots=True)
class Grant:
    """What one signed-in browser may do."""

    session_id: int
    meeting_id: int | None  # None: every meeting
    role: str  # "all" | "meeting" | "paper"

    def allows(self, path: str) -> bool:
        """May this grant open the console route at `path`?"""
        if self.meeting_id is None:
            return True
        prefix = f"/console/{self.meeting_id}"
        if path != prefix and not path.startswith(prefix + "/"):
            return False
        rest = path[len(prefix) :]
        # The helpers' links and the people list (personal data) are the facilitator's alone.
        if any(rest == page or rest.startswith(page + "/") for page in FACILITATOR_ONLY):
            return False
        if self.role == "paper":
            return _PAPER_PATH.fullmatch(rest) is not None
        return True


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(at: datetime) -> datetime:
    """SQLite returns naive datetimes; every stored time is UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def user_agent_summary(user_agent: str) -> str:
    """'Firefox on Windows' from a User-Agent header: enough to tell one's browsers apart."""
    browsers = (
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    )
    systems = (
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    )
    browser = next((name for mark, name in browsers if mark in user_agent), "")
    system = next((name for mark, name in systems if mark in user_agent), "")
    if browser and system:
        return f"{browser} on {system}"
    summary = browser or system or user_agent.split("/", 1)[0].strip()
    return "".join(c for c in summary if c.isprintable())[:80] or "unknown browser"


# --- signing in and out ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignIn:
    token: str  # for the cookie only
    landing: str  # where the browser goes next


def sign_in(engine: Engine, settings: Settings, key: str, user_agent: str) -> SignIn:
    """A new session for whoever holds `key`: the server's facilitator key or a helper's key."""
    assert settings.facilitator_key is not None
    token = secrets.token_urlsafe(32)
    now = _now()
    with transaction(engine) as session:
        _purge(session, now, settings.facilitator_idle_s)
        if hmac.compare_digest(key.encode(), settings.facilitator_key.encode()):
            meeting_id, role, key_id, landing = None, "all", None, "/console"
        else:
            helper = session.exec(
                select(FacilitatorKey).where(FacilitatorKey.key_hash == hash_secret(key))
            ).first()
            if helper is None or not key:
                raise NotFacilitator("That facilitator link is not valid for this server.")
            meeting_id, role, key_id = helper.meeting_id, helper.role, helper.id
            landing = f"/console/{meeting_id}" + ("/paper" if role == "paper" else "")
        session.add(
            FacilitatorSession(
                token_hash=hash_secret(token),
                meeting_id=meeting_id,
                role=role,
                key_id=key_id,
                user_agent=user_agent_summary(user_agent),
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(seconds=settings.facilitator_max_s),
            )
        )
    return SignIn(token, landing)


def _purge(session: Session, now: datetime, idle_s: int) -> None:
    """Forget sessions that have expired or gone idle (their browsers never came back)."""
    idle_since = now - timedelta(seconds=idle_s)
    session.execute(
        delete(FacilitatorSession).where(
            (col(FacilitatorSession.expires_at) <= now)
            | (col(FacilitatorSession.last_seen_at) <= idle_since)
        )
    )


def check(engine: Engine, token: str, idle_s: int) -> Grant | None:
    """The grant a console token carries now, or None (unknown, idle too long or expired)."""
    now = _now()
    with read_transaction(engine) as session:
        row = session.exec(
            select(FacilitatorSession).where(FacilitatorSession.token_hash == hash_secret(token))
        ).first()
    if row is None or row.id is None:
        return None
    last_seen = _aware(row.last_seen_at)
    if _aware(row.expires_at) <= now or last_seen + timedelta(seconds=idle_s) <= now:
        end(engine, row.id)
        return None
    if now - last_seen >= TOUCH_EVERY:
        with transaction(engine) as session:
            fresh = session.get(FacilitatorSession, row.id)
            if fresh is not None:
                fresh.last_seen_at = now
    return Grant(row.id, row.meeting_id, row.role)


def end(engine: Engine, session_id: int) -> None:
    """Sign one browser out."""
    with transaction(engine) as session:
        session.execute(delete(FacilitatorSession).where(col(FacilitatorSession.id) == session_id))


def end_all(engine: Engine) -> int:
    """Sign every console browser out, helpers included; returns how many."""
    with transaction(engine) as session:
        count = len(session.exec(select(FacilitatorSession.id)).all())
        session.execute(delete(FacilitatorSession))
    return count


def list_sessions(session: Session) -> list[FacilitatorSession]:
    """Every signed-in console browser, most recently seen first."""
    rows = session.exec(select(FacilitatorSession)).all()
    return sorted(rows, key=lambda r: _aware(r.last_seen_at), reverse=True)


# --- helpers' keys --------------------------------------------------------------------------


def create_key(session: Session, meeting: Meeting, role: str, label: str) -> str:
    """A new helper's key for one meeting; returns the key (only its hash is stored)."""
    if role not in HELPER_ROLES:
        raise BadInput("Choose what the helper may do: the whole meeting or paper keying.")
    label = " ".join(label.split())
    if not 1 <= len(label) <= 80 or not label.isprintable():
        raise BadInput("Name the helper's link (1 to 80 characters), e.g. “Paper desk”.")
    assert meeting.id is not None
    key = secrets.token_urlsafe(18)
    session.add(
        FacilitatorKey(meeting_id=meeting.id, role=role, label=label, key_hash=hash_secret(key))
    )
    return key


def keys_of(session: Session, meeting_id: int) -> list[tuple[FacilitatorKey, int]]:
    """A meeting's helper keys, each with how many browsers are signed in with it."""
    keys = session.exec(
        select(FacilitatorKey)
        .where(FacilitatorKey.meeting_id == meeting_id)
        .order_by(col(FacilitatorKey.id))
    ).all()
    signed_in = session.exec(
        select(FacilitatorSession.key_id).where(FacilitatorSession.meeting_id == meeting_id)
    ).all()
    return [(k, signed_in.count(k.id)) for k in keys]


def revoke_key(session: Session, meeting: Meeting, key_id: int) -> str:
    """Delete a helper's key and sign out every browser that used it; returns its label."""
    row = session.get(FacilitatorKey, key_id)
    if row is None or row.meeting_id != meeting.id:
        raise NotFound("No such sign-in link in this meeting.")
    session.execute(delete(FacilitatorSession).where(col(FacilitatorSession.key_id) == key_id))
    session.delete(row)
    return row.label


def latest_round_number(session: Session, meeting_id: int) -> int | None:
    numbers = session.exec(select(Round.number).where(Round.meeting_id == meeting_id)).all()
    return max(numbers, default=None)


# --- the gate -------------------------------------------------------------------------------


class FacilitatorGate:
    """Checks a browser's console token against the session table on every HTTP request that
    carries one, and leaves the grant in the scope for `auth.require_facilitator`. A token that
    no longer names a live session is dropped from the cookie. Runs inside SessionMiddleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/static/"):
            cookie_session = scope.get("session")
            token = cookie_session.get(TOKEN_FIELD) if cookie_session is not None else None
            if cookie_session is not None and isinstance(token, str):
                services = scope["app"].state.services
                idle_s = services.settings.facilitator_idle_s
                grant = await asyncio.to_thread(check, services.engine, token, idle_s)
                if grant is None:
                    cookie_session.pop(TOKEN_FIELD, None)
                else:
                    scope[GRANT_SCOPE] = grant
        await self.app(scope, receive, send)
