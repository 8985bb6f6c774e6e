"""Experiments: proposed changes to app/, applied in the server process only, to measure them.

`scripts/bench --patch NAME[,NAME...]` runs Covote through `benchlib.gcprobe` with these
monkeypatches applied before the app starts. Nothing under app/ is edited; each patch is a
minimal version of a change proposed in the bench report, so its gain can be measured before
anyone writes it properly. They mirror app/ as of this harness's writing (hub.py, ws.py,
ballots.py, deps.py, db.py) and say so in a note of the result; if those files change, a patch
may no longer apply (it then fails loudly at start-up).

    gc             gc.freeze() after start-up + gc.set_threshold(50_000, 20, 100)
    read_deferred  read-only work (snapshot render, socket lookup, hello) in a plain BEGIN
                   (deferred) transaction instead of BEGIN IMMEDIATE: WAL readers then never
                   wait for a ballot commit's write lock and fsync
    tick_absolute  the ticker keeps a fixed schedule (next += tick) instead of sleeping a full
                   tick after each render and fan-out (offers as app/hub.py does since 164e35a:
                   turnout-only frames to screens only)
    core_upsert    the batch upsert through Core (`Ballot.__table__`) instead of the ORM bulk
                   path, and no per-batch voter SELECT (the socket/page already resolved the
                   voter in this meeting; the foreign key still guards existence)
    lean_mailbox   Mailbox without an asyncio.Event (a future only while the writer waits)
    lean_writer    the writer arms no asyncio.timeout per frame (an upper bound of that cost;
                   the deadline would move to a per-connection check)
    one_task       one task per connection: the reader runs in the handler itself (the writer is
                   the only extra task, no asyncio.wait), and it keeps the voter's id, not the
                   ORM Voter instance
    ws_direct      /ws/m/{code} dispatched before FastAPI and its middleware stack: the session
                   cookie is verified directly (itsdangerous, as SessionMiddleware does), then
                   ws.meeting_socket runs on a plain Starlette WebSocket
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from typing import Any, cast

log = logging.getLogger("benchlib.patches")

_read = threading.local()


def p_gc() -> None:
    gc.set_threshold(50_000, 20, 100)
    threading.Timer(1.5, gc.freeze).start()


def p_read_deferred() -> None:
    from app import db, deps, ws

    immediate = db._sqlite_begin_immediate

    def begin(conn: Any) -> None:
        if getattr(_read, "on", False):
            conn.exec_driver_sql("BEGIN")
        else:
            immediate(conn)

    db._sqlite_begin_immediate = begin  # make_engine registers it when the app starts

    def reading(fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            _read.on = True
            try:
                return fn(*args, **kwargs)
            finally:
                _read.on = False

        return wrapper

    deps.Services.room_state = reading(deps.Services.room_state)  # type: ignore[method-assign]
    ws._lookup = reading(ws._lookup)
    ws._you = reading(ws._you)


def p_tick_absolute() -> None:
    from app import hub

    async def _ticker(self: Any) -> None:
        loop = asyncio.get_running_loop()
        next_resync = loop.time() + (self._resync_s or 0)
        due = loop.time()
        while True:
            due += self._tick_s
            delay = due - loop.time()
            if delay <= 0:  # behind schedule: do not burst to catch up
                due = loop.time()
                delay = 0
            await asyncio.sleep(delay)
            if self._resync_s is not None and loop.time() >= next_resync:
                next_resync = loop.time() + self._resync_s
                self._on_signal(None)
            for room in list(self.rooms.values()):
                if not room.dirty:
                    continue
                try:
                    await self._refresh(room)
                except Exception:
                    log.exception("rendering meeting %s failed", room.meeting_id)
                    room.dirty = True
                    continue
                for box in room.mailboxes:
                    if not room.turnout_only or box.wants_turnout:
                        box.offer(room.frame)

    hub.Hub._ticker = _ticker  # type: ignore[method-assign]


def p_lean_mailbox() -> None:
    from app import hub

    M = hub.Mailbox

    def __init__(self: Any, limit: int, voter_id: int | None = None) -> None:
        self._snapshot = None
        self._direct = deque()
        self._limit = limit
        self._ready = None
        self.voter_id = voter_id

    def _wake(self: Any) -> None:
        w = self._ready
        if w is not None and not w.done():
            w.set_result(None)

    def offer(self: Any, snapshot: str) -> None:
        self._snapshot = snapshot
        _wake(self)

    def push(self: Any, frame: str) -> None:
        if len(self._direct) >= self._limit:
            raise hub.TooSlow
        self._direct.append(frame)
        _wake(self)

    async def take(self: Any) -> str:
        while True:
            if self._direct:
                return self._direct.popleft()  # type: ignore[no-any-return]
            if self._snapshot is not None:
                frame, self._snapshot = self._snapshot, None
                return frame  # type: ignore[no-any-return]
            self._ready = asyncio.get_running_loop().create_future()
            try:
                await self._ready
            finally:
                self._ready = None

    M.__init__ = __init__  # type: ignore[method-assign]
    M.offer = offer  # type: ignore[method-assign]
    M.push = push  # type: ignore[method-assign]
    M.take = take  # type: ignore[method-assign]


def p_lean_writer() -> None:
    from starlette.websockets import WebSocketDisconnect

    from app import ws

    async def _writer(websocket: Any, box: Any, timeout_s: float) -> Any:
        try:
            while True:
                await websocket.send_text(await box.take())
        except (WebSocketDisconnect, RuntimeError, OSError):
            return None

    ws._writer = _writer


def p_core_upsert() -> None:
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlmodel import col, select

    from app import ballots
    from app.db import transaction
    from app.errors import BadInput, NotFound, RoundClosed
    from app.models import Ballot, Round

    stmts: dict[str, Any] = {}

    def upsert(engine: Any) -> Any:
        name = engine.dialect.name
        if name not in stmts:
            dialect = postgresql if name == "postgresql" else sqlite
            stmt = dialect.insert(Ballot.__table__)  # type: ignore[attr-defined]
            stmts[name] = stmt.on_conflict_do_update(
                index_elements=["round_id", "voter_id"],
                set_={c: stmt.excluded[c] for c in ("ballot_uid", "channel", "marks", "cast_at")},
            )
        return stmts[name]

    def validate(session: Any, batch: list[Any]) -> list[Any]:
        round_ids = {r.round_id for r in batch}
        rounds = {
            rnd.id: rnd
            for rnd in session.exec(
                select(Round).where(col(Round.id).in_(round_ids)).with_for_update(read=True)
            )
        }
        out: list[Any] = []
        for req in batch:
            rnd = rounds.get(req.round_id)
            if rnd is None or rnd.meeting_id != req.meeting_id:
                out.append(NotFound("That round does not exist in this meeting."))
            elif rnd.status != "open":
                out.append(RoundClosed(f"Round {rnd.number} is closed; not counted."))
            elif unknown := sorted(set(req.marks) - set(rnd.proposal_keys)):
                out.append(BadInput(f"Proposal(s) not in round {rnd.number}: {unknown}."))
            else:
                out.append(ballots.Receipt(req.ballot_uid, req.round_id, req.meeting_id))
        return out

    def _commit(self: Any, batch: list[Any]) -> list[Any]:
        with transaction(self._engine) as session:
            outcomes = validate(session, batch)
            rows = [
                ballots._row(req)
                for req, out in zip(batch, outcomes, strict=True)
                if isinstance(out, ballots.Receipt)
            ]
            if rows:
                session.connection().execute(upsert(self._engine), rows)
        return outcomes

    ballots.BallotWriter._commit = _commit  # type: ignore[method-assign]


def p_ws_direct() -> None:
    import json
    from base64 import b64decode
    from http.cookies import SimpleCookie

    import itsdangerous
    from starlette.websockets import WebSocket

    from app import main, ws

    make = main.create_app

    def create_app(settings: Any = None) -> Any:
        fast = make(settings)
        assert settings is not None and settings.session_secret
        signer = itsdangerous.TimestampSigner(str(settings.session_secret))
        max_age = settings.session_max_age_s

        def session_of(scope: dict[str, Any]) -> dict[str, Any]:
            for name, value in scope["headers"]:
                if name == b"cookie":
                    jar: SimpleCookie = SimpleCookie()
                    jar.load(value.decode("latin-1"))
                    if "covote" in jar:
                        try:
                            data = signer.unsign(jar["covote"].value.encode(), max_age=max_age)
                            return dict(json.loads(b64decode(data)))
                        except (itsdangerous.BadSignature, ValueError):
                            return {}
            return {}

        async def asgi(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "websocket" and scope["path"].startswith("/ws/m/"):
                code = scope["path"][len("/ws/m/") :]
                scope["session"] = session_of(scope)
                scope["app"] = fast
                scope["path_params"] = {"code": code}
                await ws.meeting_socket(WebSocket(scope, receive, send), code)
                return
            await fast(scope, receive, send)

        return asgi

    main.create_app = create_app


def p_one_task() -> None:
    from app import ws
    from app.errors import NotFound

    class VoterRef:
        __slots__ = ("id",)

        def __init__(self, id: int) -> None:
            self.id = id

    async def meeting_socket(websocket: Any, code: str) -> None:
        services = websocket.app.state.services
        try:
            meeting_id, voter = await asyncio.to_thread(ws._lookup, services, websocket, code)
        except NotFound as e:
            await websocket.accept()
            await websocket.close(code=4404, reason=e.message[:120])
            return
        ref = VoterRef(voter.id) if voter is not None and voter.id is not None else None
        del voter
        await websocket.accept()
        box = await services.hub.join(meeting_id, ref.id if ref else None)
        writer = asyncio.create_task(
            ws._writer(websocket, box, services.settings.ws_send_timeout_s)
        )
        me = asyncio.current_task()
        assert me is not None
        reading = True

        def writer_done(_t: Any) -> None:
            if reading:
                me.cancel()  # the writer ended (too slow, gone): stop waiting for input

        writer.add_done_callback(writer_done)
        close = None
        try:
            try:
                close = await ws._reader(websocket, services, box, meeting_id, cast(Any, ref))
            except asyncio.CancelledError:
                if not writer.done():
                    raise
                me.uncancel()
                if not writer.cancelled() and writer.exception() is None:
                    close = writer.result()
            finally:
                reading = False
                if not writer.done():
                    writer.cancel()
                    with suppress(asyncio.CancelledError):
                        await writer
            if close is not None:
                with suppress(Exception):
                    await websocket.close(code=close[0], reason=close[1])
        finally:
            services.hub.leave(meeting_id, box)

    ws.meeting_socket = meeting_socket


PATCHES: dict[str, Callable[[], None]] = {
    "gc": p_gc,
    "read_deferred": p_read_deferred,
    "tick_absolute": p_tick_absolute,
    "core_upsert": p_core_upsert,
    "lean_mailbox": p_lean_mailbox,
    "lean_writer": p_lean_writer,
    "one_task": p_one_task,
    "ws_direct": p_ws_direct,
}


def apply(names: list[str]) -> None:
    unknown = [n for n in names if n not in PATCHES]
    if unknown:
        raise SystemExit(f"unknown patch(es) {unknown}; known: {sorted(PATCHES)}")
    for name in names:
        PATCHES[name]()
    with suppress(Exception):
        print(f"benchlib.patches applied: {', '.join(names)}", flush=True)
