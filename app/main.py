"""`create_app(settings)`: the ASGI application, its lifespan and its one error renderer."""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import console
from app.config import Settings
from app.core import datadir
from app.core.errors import CovoteError, PayloadTooLarge, TooManyRequests
from app.core.messages import N_
from app.keypads.receiver_urls import ReceiverPolicy
from app.keypads.receivers import KeypadDesk
from app.live.broadcast import open_broadcast
from app.live.hub import Hub
from app.live.presence import open_presence
from app.live.screens import open_screens
from app.voting import people, rounds
from app.voting.ballots import BallotWriter
from app.voting.db import make_engine, transaction, upgrade
from app.web import api, charter_amend, helping, i18n, lab, netinfo, pages, ws, you_said
from app.web.facilitators import FacilitatorGate
from app.web.ratelimit import RateLimiter, database_digest
from app.web.rendering import render
from app.web.services import Services

log = logging.getLogger(__name__)

SESSION_COOKIE = "covote"
GC_THRESHOLDS = (50_000, 20, 100)  # CPython's default is (700, 10, 10)
# How long a thread may hold the GIL while another waits for it (CPython's default: 5 ms). The
# ballot writer's commit and the event loop that sends acks give the GIL up at every SQLite call
# and socket write, and under page views they then waited up to 5 ms for a drawing thread each
# time (the convoy effect): at 1 ms, ack p99 under 200 views/s went from 8.9-12.6x the quiet
# figure to 2.8x (scripts/bench --only reads, with PAGE_THREADS). Restored at shutdown.
SWITCH_INTERVAL_S = 0.001


def receiver_policy(settings: Settings) -> ReceiverPolicy:
    """The console's limits on receiver URLs, from the settings (the desk never reads them)."""
    return ReceiverPolicy(
        file_dirs=(settings.data_dir, *settings.receiver_file_dirs),
        device_patterns=tuple(settings.receiver_device_patterns),
        max_bytes=settings.capture_max_bytes,
        timeout_s=settings.capture_read_timeout_s,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = (settings or Settings()).with_secrets()
    assert settings.session_secret is not None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        datadir.secure(settings.data_dir, settings.resolved_database_url())
        engine = make_engine(settings.resolved_database_url())
        upgrade(engine, backup_dir=settings.data_dir / "backups")
        with transaction(engine) as session:
            if sealed := rounds.seal_earlier_rounds(session):
                log.warning("sealed %d round(s) closed before seals existed (round.sealed)", sealed)
        with transaction(engine) as session:
            # People kept past their date while the server was down go now (issue 15).
            people.purge_expired(session, today=datetime.now(UTC).date())
        scheme = "https" if settings.uses_tls() else "http"
        base_url = settings.public_url or netinfo.lan_base_url(settings.port, scheme)
        # The hub and the desk call back into `services`, which is bound just below.
        hub = Hub(
            lambda meeting_id: services.live_state(meeting_id),
            tick_hz=settings.tick_hz,
            direct_backlog=settings.ws_direct_backlog,
            broadcast=open_broadcast(settings.broadcast_url),
            resync_s=settings.resync_s if settings.broadcast_url else None,
            phone_render=pages.ballot_section,
            turnout_render=lambda meeting_id, previous: services.turnout_state(
                meeting_id, previous
            ),
            turnout_hz=settings.turnout_hz,
            # a process that has not refreshed its count for 3 resyncs has stopped
            presence=open_presence(
                settings.broadcast_url, database_digest(settings), stale_s=3 * settings.resync_s
            ),
        )
        writer = BallotWriter(
            engine, batch_max=settings.commit_batch_max, stall_s=settings.ballot_stall_s
        )
        desk = KeypadDesk(
            engine,
            lambda req: services.cast(req),
            hub.changed,
            policy=receiver_policy(settings),
        )
        limiter = RateLimiter(settings)
        services = Services(
            settings,
            engine,
            hub,
            writer,
            desk,
            base_url.rstrip("/"),
            asyncio.get_running_loop(),
            limiter,
            screens=open_screens(settings.broadcast_url, database_digest(settings)),
        )
        app.state.services = services
        await hub.start()
        writer.start()
        await desk.start(settings.keypad_urls)
        # Countdowns that ended while the server was down close now, before anyone is served.
        if overdue := services.countdowns.close_overdue():
            log.warning("closed %d round(s) whose countdown ended while stopped", len(overdue))
        services.countdowns.start()
        # Everything alive now lives for the whole meeting: move it out of the collector's way,
        # and collect young garbage less often. Measured with scripts/bench: full collections
        # during a vote 13 -> 0 (pauses of up to 290 ms, which stalled the ticker).
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        try:
            yield
        finally:
            sys.setswitchinterval(switch_interval)
            await services.countdowns.aclose()
            await desk.aclose()
            await hub.aclose()
            await writer.aclose()
            await limiter.aclose()
            services.page_threads.shutdown(wait=False)
            engine.dispose()

    # FastAPI's docs page loads Swagger UI from a CDN: off unless asked for (`api_docs`).
    docs_url = "/api/docs" if settings.api_docs else None
    app = FastAPI(title="Covote", lifespan=lifespan, docs_url=docs_url, redoc_url=None)
    # Inside the session middleware: checks a console token against the session table.
    app.add_middleware(FacilitatorGate)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret,
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_max_age_s,
        same_site="lax",
        https_only=settings.secure_cookies(),
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders, api_docs=settings.api_docs)
    # Added last, so outermost: meeting sockets skip the HTTP layers (see ws.SocketRoute).
    app.add_middleware(
        ws.SocketRoute,
        secret=settings.session_secret,
        max_age=settings.session_max_age_s,
        cookie=SESSION_COOKIE,
        origins=settings.allowed_origins(),
    )
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(helping.router)
    app.include_router(you_said.router)
    app.include_router(lab.router)
    app.include_router(charter_amend.router)
    app.include_router(console.router)
    app.add_exception_handler(CovoteError, _render_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    return app


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.url.path.startswith("/api/") or accept.startswith("application/json")


async def _render_error(request: Request, exc: CovoteError) -> Response:
    response: Response
    if _wants_json(request):
        body = {"error": {"code": exc.code, "message": i18n.error_message(request, exc)}}
        response = JSONResponse(body, status_code=exc.status_code)
    else:
        context = {
            "message": exc.message,
            "msgid": exc.msgid,
            "params": exc.params,
            "code": exc.code,
        }
        response = render(request, "error.html", context, exc.status_code)
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    errors = exc.errors()
    if errors and all(err["loc"][:1] == ("path",) for err in errors):
        # A path that cannot name anything (a round 2**63, a meeting "abc") names nothing.
        return await _http_error(request, StarletteHTTPException(404))
    problems = []
    for err in errors[:10]:
        where = ".".join(str(p) for p in err["loc"] if p != "body")
        problems.append(f"{where}: {err['msg']}" if where else str(err["msg"]))
    message = "; ".join(problems) or "The request could not be read."
    if _wants_json(request):
        return JSONResponse({"error": {"code": "bad_input", "message": message}}, status_code=400)
    return render(request, "error.html", {"message": message, "code": "bad_input"}, 400)


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    message = N_("That page does not exist.") if exc.status_code == 404 else str(exc.detail)
    code = "not_found" if exc.status_code == 404 else "http_error"
    if _wants_json(request):
        body = {"error": {"code": code, "message": message}}
        return JSONResponse(body, status_code=exc.status_code)
    return render(request, "error.html", {"message": message, "code": code}, exc.status_code)


class BodyLimit:
    """Answer 413 to a body over the limit: Content-Length checked first, then the bytes of
    every `http.request` message counted as they stream in (chunked bodies have no length).

    Counting happens below the app, so no body parser (FastAPI's turns any read error into
    400) can hide the reason: past the limit the app is told the client went away, and this
    layer sends the 413 itself (unless the app already started a response).
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"").strip()
        if declared.isdigit() and (len(declared) > 19 or int(declared) > self.max_bytes):
            await self._refuse(scope, send)
            return
        seen = 0
        refused = started = False

        async def limited() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    refused = True
                    if not started:
                        await self._refuse(scope, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 was the answer; whatever the app says after it is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, guarded)
        except Exception:
            if not refused:
                raise
            # The app failed reading the body it was refused (ClientDisconnect): answered.

    def _message(self) -> str:
        return f"The upload is larger than {self.max_bytes // 1024} KiB."

    async def _refuse(self, scope: Scope, send: Send) -> None:
        body = {"error": {"code": PayloadTooLarge.code, "message": self._message()}}
        await JSONResponse(body, status_code=413)(scope, _empty_receive, send)


# No inline script anywhere: every script is a file under /static (JSON data islands are data,
# never run). Styles may be inline: the exported report is one self-contained file with its own
# <style>, projector_budget.js adds its own stylesheet, and CSS cannot run script; Jinja's
# autoescaping keeps attendees' text out of markup. connect-src names the page's own ws:// and
# wss:// origin too: older Safari does not count them as 'self'.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'{sockets}; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_HOST = re.compile(rb"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")
OTHER_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


# The one page another page may frame: the projector, in the presenter view's preview
# (/console/{id}/present), and only from Covote's own origin. It has nothing to click that
# changes anything, so framing it can trick nobody into an action.
FRAMED_BY_SELF = re.compile(r"/p/[^/]+")


def content_security_policy(host: bytes | None, *, framed_by_self: bool = False) -> bytes:
    """The policy for a page served to `host` (the Host header; ignored unless well-formed);
    `framed_by_self`: this origin's pages may frame it (the projector)."""
    sockets = ""
    if host is not None and _HOST.fullmatch(host):
        name = host.decode("ascii")
        sockets = f" ws://{name} wss://{name}"
    policy = CSP.format(sockets=sockets)
    if framed_by_self:
        policy = policy.replace("frame-ancestors 'none'", "frame-ancestors 'self'")
    return policy.encode()


class SecurityHeaders:
    """The same security headers on every HTTP response, errors and static files included."""

    def __init__(self, app: ASGIApp, *, api_docs: bool = False) -> None:
        self.app = app
        self.api_docs = api_docs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self.api_docs and scope["path"] == "/api/docs"):
            await self.app(scope, receive, send)
            return
        framed = FRAMED_BY_SELF.fullmatch(scope["path"]) is not None
        csp = content_security_policy(dict(scope["headers"]).get(b"host"), framed_by_self=framed)
        wanted = [(b"content-security-policy", csp), *OTHER_HEADERS]
        if framed:
            wanted = [(n, b"SAMEORIGIN" if n == b"x-frame-options" else v) for n, v in wanted]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in wanted if n not in names]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


async def _empty_receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}
