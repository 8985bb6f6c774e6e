"""The one WebSocket endpoint, `/ws/m/{code}`: projector, phones and console all use it.

Every connection gets the meeting's snapshot at once and on every change. A connection whose
session holds a voter of this meeting, and which carries the session's CSRF token
(`?csrf=`, the same token the API takes in X-Covote-CSRF), may also cast ballots. A handshake
whose Origin is neither the page's own host nor a configured origin (public_url,
extra_origins) is refused with HTTP 403 before anything is read: another site's page cannot
open a socket with a voter's cookie. Per connection a reader and a writer
task run together; when either ends the other is cancelled and the connection leaves the room.
Close codes: 4404 unknown meeting, 1009 message too big, 4008 too slow (the client reconnects
and resyncs), 4429 too many connections from this address (it reconnects after a backoff),
1003 not text.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from base64 import b64decode
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any

import itsdangerous
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from app.core.errors import CovoteError, CsrfFailed, NotFound, NotJoined, TooManyRequests
from app.live import protocol
from app.live.mailbox import Mailbox, RoomClosed, Sink, TooSlow
from app.voting.ballots import CastRequest
from app.voting.models import Voter
from app.voting.voters import you_view
from app.web import auth, i18n
from app.web.attendees import attendee, not_joined
from app.web.netinfo import client_address
from app.web.ratelimit import Limit
from app.web.services import Services

log = logging.getLogger(__name__)


class SocketRoute:
    """`/ws/m/{code}` before the HTTP middleware stack (the outermost middleware).

    A WebSocket lives for the whole meeting; every middleware and routing layer it passes keeps
    a frame alive for that long. Measured with scripts/bench (5,000 phones): ~14 KiB of the
    ~45 KiB per phone were FastAPI's and Starlette's layers. The only thing those layers gave
    a socket is the session, so this reads the session cookie the way Starlette's
    SessionMiddleware writes it (itsdangerous-signed base64 JSON, same secret and max age).
    """

    PREFIX = "/ws/m/"

    def __init__(
        self,
        app: ASGIApp,
        *,
        secret: str,
        max_age: int,
        cookie: str,
        origins: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self._origins = origins
        self._signer = itsdangerous.TimestampSigner(secret)
        self._max_age = max_age
        self._cookie = cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket" or not scope["path"].startswith(self.PREFIX):
            await self.app(scope, receive, send)
            return
        code = scope["path"][len(self.PREFIX) :]
        if not origin_allowed(scope, self._origins):
            await WebSocket(scope, receive, send).close(code=1008)  # HTTP 403 before accept
            return
        scope["session"] = self._session(scope)
        await meeting_socket(WebSocket(scope, receive, send), code, sink_of(send))

    def _session(self, scope: Scope) -> dict[str, Any]:
        for name, value in scope["headers"]:
            if name != b"cookie":
                continue
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
                if self._cookie in jar:
                    data = self._signer.unsign(jar[self._cookie].value, max_age=self._max_age)
                    session = json.loads(b64decode(data))
                    return session if isinstance(session, dict) else {}
            except (itsdangerous.BadSignature, ValueError, CookieError):
                return {}
        return {}


def origin_allowed(scope: Scope, origins: frozenset[str]) -> bool:
    """Browsers always send Origin on a WebSocket handshake; it must be the page's own host
    (the Host header it was served from) or a configured origin. A client without Origin is
    not a browser page, so it cannot be one site riding on another's cookie."""
    headers = dict(scope["headers"])
    origin = headers.get(b"origin")
    if origin is None:
        return True
    text = origin.decode("latin-1").strip().lower().rstrip("/")
    if text in origins:
        return True
    scheme, sep, netloc = text.partition("://")
    host = headers.get(b"host", b"").decode("latin-1").strip().lower()
    return bool(sep) and scheme in ("http", "https") and bool(host) and netloc == host


def sink_of(send: Send) -> Sink | None:
    """The fast path for whole pre-encoded frames (protocol.wire_text): written straight to
    the connection's transport, as uvicorn's own `send` would after encoding and framing them,
    but once per frame for every socket instead of once per socket, and without waking the
    connection's writer task. Only while the socket is open and its transport takes data
    without waiting (uvicorn's `writable`, cleared above the transport's high-water mark);
    otherwise the sink refuses and the frame goes through `send` with its deadline, so a slow
    phone is still closed as too slow. Only with uvicorn's websockets-sansio protocol (pinned
    in pyproject.toml, chosen in app/cli/server.py); with any other server, None: every frame
    uses `send`.
    """
    proto = getattr(send, "__self__", None)
    if not isinstance(proto, WebSocketsSansIOProtocol):
        return None
    writable = proto.writable

    def sink(wire: bytes) -> bool:
        transport = proto.transport
        if (
            proto.close_sent
            or proto.disconnected
            or not writable.is_set()
            or proto.conn.state is not State.OPEN
            or transport.is_closing()
        ):
            return False
        try:
            transport.write(wire)
        except Exception:  # a transport closing under us: the writer's path reports it
            return False
        return True

    return sink


async def meeting_socket(websocket: WebSocket, code: str, sink: Sink | None = None) -> None:
    services: Services = websocket.app.state.services
    try:
        # Each handshake reads the database: counted like an API request of this address.
        await services.limiter.hit(Limit.API_PER_ADDRESS, client_address(websocket))
        meeting_id, voter, refused = await asyncio.to_thread(_lookup, services, websocket, code)
    except TooManyRequests as e:
        await websocket.accept()
        await websocket.close(code=4429, reason=e.message[:120])
        return
    except NotFound as e:
        # Accept first: a browser cannot see why a refused handshake failed, but it sees 4404.
        await websocket.accept()
        await websocket.close(code=4404, reason=e.message[:120])
        return
    await websocket.accept()
    # The presenter view's preview of the projector and the console's Run page (?preview=1) are
    # not screens in the room: `connected` counts what the room sees and votes with.
    counted = websocket.query_params.get("preview") != "1"
    # The phone page asks for its ballot section in its snapshots, in the page's language.
    phone = websocket.query_params.get("view") == "phone"
    locale = i18n.choose_locale(websocket) if phone else None
    box = await services.hub.join(meeting_id, voter.id if voter else None, locale, counted=counted)
    box.sink = sink
    try:
        auth.check_csrf(websocket, websocket.query_params.get("csrf"))
        forged = None
    except CsrfFailed as e:
        forged = e
    voter_id = voter.id if voter is not None else None
    caster = _Caster(meeting_id, voter_id, refused, auth.device_key(websocket), forged)
    del voter  # the connection keeps the voter's id, not the ORM object (memory per phone)
    # The handler reads; one task writes. When the writer ends (too slow, room closed, socket
    # gone) it cancels the handler's read. One task fewer per connection than a reader task
    # beside the writer (scripts/bench: memory per phone).
    handler = asyncio.current_task()
    assert handler is not None
    writer = asyncio.create_task(_writer(websocket, box, services.settings.ws_send_timeout_s))
    reading = True

    def writer_ended(_: asyncio.Task[Close]) -> None:
        if reading:
            handler.cancel()

    writer.add_done_callback(writer_ended)
    close: Close = None
    try:
        close = await _reader(websocket, services, box, caster)
    except asyncio.CancelledError:
        # Cancelled by the writer's end alone: carry on closing; any other cancel (shutdown)
        # goes on up once the writer has ended.
        if not writer.done() or handler.uncancel() > 0:
            raise
    except Exception:
        log.exception("connection to meeting %s failed", meeting_id)
    finally:
        reading = False
        # Reader and writer end together, also when this handler is cancelled (shutdown).
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            ended = await asyncio.gather(writer, return_exceptions=True)
            if isinstance(ended[0], tuple):
                close = close or ended[0]
            elif isinstance(ended[0], Exception):
                log.error("connection to meeting %s failed", meeting_id, exc_info=ended[0])
        services.hub.leave(meeting_id, box)
    if close is not None:
        with contextlib.suppress(Exception):
            await websocket.close(code=close[0], reason=close[1])


def _lookup(
    services: Services, websocket: WebSocket, code: str
) -> tuple[int, Voter | None, NotJoined | None]:
    """The meeting, this connection's voter, and what its ballots get if it has none."""
    with services.read_session() as session:
        meeting, voter = attendee(websocket, session, code)
        assert meeting.id is not None
        default = "Open the meeting's join link on this phone before voting."
        refused = None if voter is not None else not_joined(websocket, session, meeting, default)
        return meeting.id, voter, refused


@dataclass(frozen=True, slots=True)
class _Caster:
    """Who casts on a connection. Every ballot carries the browser's device key: the ballot
    path refuses a ticket voter's ballot once the facilitator has moved the ticket to another
    device, even while this connection stays open."""

    meeting_id: int
    voter_id: int | None
    refused: NotJoined | None  # what a ballot gets without a voter
    device_key: str | None
    forged: CsrfFailed | None  # what a ballot gets without the session's CSRF token


Close = tuple[int, str] | None


async def _writer(websocket: WebSocket, box: Mailbox, timeout_s: float) -> Close:
    try:
        while True:
            frame = await box.take()
            box.sending = True
            try:
                async with asyncio.timeout(timeout_s):
                    await websocket.send_text(frame)
            finally:
                box.sending = False
    except TimeoutError:
        return (4008, "too slow")
    except RoomClosed as e:
        return (e.code, e.reason)
    except (WebSocketDisconnect, RuntimeError, OSError):
        return None


async def _reader(websocket: WebSocket, services: Services, box: Mailbox, caster: _Caster) -> Close:
    limit = services.settings.ws_max_message_bytes
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return None
            raw = message.get("text")
            if raw is None:
                return (1003, "text frames only")
            if len(raw) > limit:
                return (1009, f"message over {limit} bytes")
            msg: protocol.Hello | protocol.Cast | protocol.Ping | None = None
            try:
                msg = protocol.parse_client(raw)
                if isinstance(msg, protocol.Ping):
                    box.push(protocol.PONG)
                elif isinstance(msg, protocol.Hello):
                    # A database read per hello: counted like an API request of this address.
                    await services.limiter.hit(Limit.API_PER_ADDRESS, client_address(websocket))
                    box.push(
                        await asyncio.to_thread(_you, services, caster.meeting_id, caster.voter_id)
                    )
                else:
                    box.push(await _cast(services, caster, msg))
            except CovoteError as e:
                text = i18n.error_message(websocket, e)
                box.push(protocol.error(e.code, text, getattr(msg, "ballot_id", None)))
    except TooSlow:
        return (4008, "too slow")
    except WebSocketDisconnect:
        return None


async def _cast(services: Services, caster: _Caster, msg: protocol.Cast) -> str:
    voter_id = caster.voter_id
    if voter_id is None:
        raise caster.refused or NotJoined("Open the meeting's join link on this phone first.")
    if caster.forged is not None:
        raise caster.forged
    req = CastRequest(
        meeting_id=caster.meeting_id,
        round_id=msg.round,
        voter_id=voter_id,
        ballot_uid=msg.ballot_id,
        marks=dict(msg.marks),
        device_key=caster.device_key,
    )
    receipt = await services.device_cast(req)
    return protocol.ack(receipt.ballot_uid, receipt.round_id)


def _you(services: Services, meeting_id: int, voter_id: int | None) -> str:
    with services.read_session() as session:
        voter = session.get(Voter, voter_id) if voter_id is not None else None
        frame: protocol.YouFrame = {"type": "you", **you_view(session, meeting_id, voter)}
    return protocol.encode(frame)
