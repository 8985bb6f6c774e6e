"""The load client's connections, all in one asyncio process (one monotonic clock).

Every socket is `websockets.asyncio.client.connect(..., compression=None, ping_interval=None)`:
no permessage-deflate (the server has it off too) and no client pings (uvicorn pings the
client; websockets answers them while it reads). Every connection has a reader task, because a
phone that stops reading would be closed by the server as too slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from base64 import b64decode
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from benchlib.util import log

WS_OPTS: dict[str, Any] = {
    "compression": None,
    "ping_interval": None,
    "proxy": None,
    "open_timeout": 30,
    "close_timeout": 5,
}

SNAPSHOT = b'{"type":"snapshot"'
TURNOUT = b'{"type":"turnout"'  # only the turnout changed (screens; phones do not get these)
ACK = b'{"type":"ack"'
ERROR = b'{"type":"error"'
HELLO = '{"type":"hello","last_seq":null}'

perf = time.perf_counter
T = TypeVar("T")


def csrf_of(cookie: str) -> str:
    """The CSRF token inside a `covote` session cookie value (signed base64 JSON)."""
    payload = cookie.strip('"').rsplit(".", 2)[0]
    data = json.loads(b64decode(payload + "=" * (-len(payload) % 4)))
    token = data.get("csrf") if isinstance(data, dict) else None
    return token if isinstance(token, str) else ""


class CastRefused(Exception):
    """The server answered a cast with an error frame."""


class Phone:
    """An attendee's browser: a `covote` session cookie from joining (POST), then the socket.

    Snapshots are only counted (not decoded): the phone page would render them, the bench
    measures what the server sends. Acks and errors resolve the one cast in flight.
    """

    dropped = 0  # phones the server closed (or lost) while the bench was not closing them

    __slots__ = (
        "close_code",
        "closed",
        "closing",
        "cookie",
        "errors",
        "idx",
        "last_acked",
        "snap_bytes",
        "snap_waiter",
        "snapshots",
        "task",
        "turnouts",
        "unacked",
        "waiting",
        "ws",
    )

    def __init__(self, idx: int, cookie: str) -> None:
        self.idx = idx
        self.cookie = cookie
        self.ws: ClientConnection | None = None
        self.task: asyncio.Task[None] | None = None
        self.snapshots = 0
        self.turnouts = 0
        self.snap_bytes = 0
        # resolved with the arrival time of the next snapshot, if someone waits for one
        self.snap_waiter: asyncio.Future[float] | None = None
        self.waiting: tuple[str, asyncio.Future[float]] | None = None
        self.errors: list[dict[str, Any]] = []
        self.closed = True
        self.closing = False
        self.close_code: int | None = None
        # (ballot_id, marks) of the newest acked ballot / of a ballot sent but never acked
        self.last_acked: tuple[str, dict[str, str]] | None = None
        self.unacked: tuple[str, dict[str, str]] | None = None

    async def connect(self, url: str, *, hello: bool = True) -> Phone:
        # As the phone page does: the session's CSRF token rides in the URL (ws.py).
        url = f"{url}?csrf={quote(csrf_of(self.cookie))}"
        self.ws = await connect(
            url, additional_headers={"Cookie": f"covote={self.cookie}"}, **WS_OPTS
        )
        self.closed = False
        self.closing = False
        self.close_code = None
        self.task = asyncio.create_task(self._read())
        if hello:  # as the phone page does on open
            await self.ws.send(HELLO)
        return self

    async def _read(self) -> None:
        ws = self.ws
        assert ws is not None
        try:
            while True:
                m = await ws.recv(decode=False)
                assert isinstance(m, bytes)
                if m.startswith(SNAPSHOT):
                    self.snapshots += 1
                    self.snap_bytes = len(m)
                    sw = self.snap_waiter
                    if sw is not None:
                        self.snap_waiter = None
                        if not sw.done():
                            sw.set_result(perf())
                elif m.startswith(TURNOUT):
                    self.turnouts += 1
                elif m.startswith(ACK):
                    t = perf()
                    w = self.waiting
                    if w is not None and json.loads(m)["ballot_id"] == w[0]:
                        self.waiting = None
                        if not w[1].done():
                            w[1].set_result(t)
                elif m.startswith(ERROR):
                    err = json.loads(m)
                    self.errors.append(err)
                    w = self.waiting
                    if w is not None and err.get("ballot_id") == w[0]:
                        self.waiting = None
                        if not w[1].done():
                            w[1].set_exception(CastRefused(f"{err['code']}: {err['message']}"))
        except ConnectionClosed as e:
            self.close_code = e.rcvd.code if e.rcvd is not None else 1006
        finally:
            self.closed = True
            if not self.closing:
                Phone.dropped += 1
            w, self.waiting = self.waiting, None
            if w is not None and not w[1].done():
                w[1].set_exception(ConnectionError("socket closed before the ack"))

    async def send_cast(
        self, round_id: int, marks: dict[str, str], marks_json: str, ballot_id: str | None = None
    ) -> tuple[str, float, asyncio.Future[float]]:
        """Send a cast with a new ballot id, or `ballot_id` (a resend after a reconnect, as the
        phone page does). Returns (ballot id, send time, future of ack time)."""
        assert self.ws is not None
        bid = ballot_id or uuid.uuid4().hex
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting = (bid, fut)
        self.unacked = (bid, marks)
        t = perf()
        await self.ws.send(
            f'{{"type":"cast","ballot_id":"{bid}","round":{round_id},"marks":{marks_json}}}'
        )
        return bid, t, fut

    def acked(self) -> None:
        self.last_acked, self.unacked = self.unacked, None

    async def close(self) -> None:
        self.closing = True
        try:
            if self.ws is not None:
                await self.ws.close()
            if self.task is not None:
                await self.task
        finally:
            self.ws = None
            self.task = None
            self.closing = False


class SnapshotTrack(Protocol):
    """What the projector tells of every snapshot it applies (and when it arrived)."""

    def on_snapshot(self, snap: dict[str, Any], t: float) -> None: ...


class VotedLog:
    """The projector's turnout.voted of one round over time: (arrival, voted) at each change."""

    def __init__(self, round_id: int) -> None:
        self.round_id = round_id
        self.changes: list[tuple[float, int]] = []

    def on_snapshot(self, snap: dict[str, Any], t: float) -> None:
        rnd = snap.get("round")
        if rnd and rnd.get("id") == self.round_id:
            voted = int(snap["turnout"]["voted"])
            if not self.changes or self.changes[-1][1] != voted:
                self.changes.append((t, voted))

    def first_at_least(self, voted: int) -> float | None:
        """When the projector first showed at least `voted` ballots, if it did."""
        return next((t for t, v in self.changes if v >= voted), None)


class LatencyTrack:
    """Cast-to-projector latency for one fresh round: ballot i is the (i+1)-th voter.

    latency(i) = arrival of the first projector snapshot of this round whose turnout.voted
    reaches i + 1, minus the send time of ballot i.
    """

    def __init__(self, round_id: int, n: int) -> None:
        self.round_id = round_id
        self.n = n
        self.t_send = [0.0] * n
        self.matched = 0
        self.latencies: list[float] = []
        self.done = asyncio.Event()

    def on_snapshot(self, snap: dict[str, Any], t: float) -> None:
        rnd = snap.get("round")
        if not rnd or rnd.get("id") != self.round_id:
            return
        voted = min(int(snap["turnout"]["voted"]), self.n)
        while self.matched < voted and self.t_send[self.matched] > 0.0:
            self.latencies.append(t - self.t_send[self.matched])
            self.matched += 1
        if self.matched >= self.n:
            self.done.set()


class Projector:
    """The projector page's socket: no cookie, decodes every frame. A `turnout` frame (only the
    turnout changed) is applied to the last snapshot, as the page's live.js does."""

    def __init__(self) -> None:
        self.ws: ClientConnection | None = None
        self.task: asyncio.Task[None] | None = None
        self.last: dict[str, Any] | None = None
        self.frames = 0  # snapshots and turnout frames
        self.frame_bytes = 0  # the last full snapshot's size
        self.turnout_frames = 0
        self.turnout_bytes = 0
        self.track: SnapshotTrack | None = None
        self.arrivals: list[float] | None = None  # snapshot arrival times, while recording
        self._waiters: list[
            tuple[Callable[[dict[str, Any]], bool], asyncio.Future[dict[str, Any]]]
        ] = []

    async def connect(self, url: str) -> Projector:
        self.ws = await connect(url, **WS_OPTS)
        self.task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            while True:
                m = await self.ws.recv(decode=False)
                t = perf()
                snap = json.loads(m)
                kind = snap.get("type")
                if kind == "turnout" and self.last is not None:
                    self.turnout_frames += 1
                    self.turnout_bytes = len(m)
                    snap = {**self.last, "seq": snap["seq"], "turnout": snap["turnout"]}
                elif kind == "snapshot":
                    self.frame_bytes = len(m)
                else:
                    continue
                self.frames += 1
                self.last = snap
                if self.arrivals is not None:
                    self.arrivals.append(t)
                if self.track is not None:
                    self.track.on_snapshot(snap, t)
                if self._waiters:
                    keep = []
                    for cond, fut in self._waiters:
                        if fut.done():
                            continue
                        if cond(snap):
                            fut.set_result(snap)
                        else:
                            keep.append((cond, fut))
                    self._waiters = keep
        except ConnectionClosed:
            pass

    async def wait_for(
        self, cond: Callable[[dict[str, Any]], bool], timeout: float
    ) -> dict[str, Any]:
        if self.last is not None and cond(self.last):
            return self.last
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters.append((cond, fut))
        async with asyncio.timeout(timeout):
            return await fut

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.task is not None:
            await self.task


async def open_many(
    n: int,
    make: Callable[[int], Awaitable[T]],
    *,
    spacing_s: float,
    what: str,
    concurrency: int = 64,
    timeout: float = 120.0,
) -> tuple[list[T], int]:
    """Open n connections, starting one every `spacing_s` with at most `concurrency` handshakes
    in flight. Returns the ones that opened (in order) and the number of failures."""
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> T:
        async with sem:
            return await make(i)

    tasks: list[asyncio.Task[T]] = []
    step = max(1, n // 5)
    async with asyncio.timeout(timeout):
        for i in range(n):
            tasks.append(asyncio.create_task(one(i)))
            if spacing_s > 0:
                await asyncio.sleep(spacing_s)
            if (i + 1) % step == 0 and n >= 1000:
                log(f"  {what}: {i + 1}/{n} started")
        results = await asyncio.gather(*tasks, return_exceptions=True)
    ok: list[T] = []
    failures = 0
    first_error: BaseException | None = None
    for r in results:
        if isinstance(r, BaseException):
            failures += 1
            first_error = first_error or r
        else:
            ok.append(r)
    if failures:
        log(f"  {what}: {failures} of {n} failed to open, e.g. {first_error!r}")
    return ok, failures


async def close_all(items: list[Any], *, concurrency: int = 200, timeout: float = 60.0) -> None:
    """Close connections (closing handshake), a few hundred at a time."""
    sem = asyncio.Semaphore(concurrency)

    async def one(x: Any) -> None:
        async with sem:
            with contextlib.suppress(ConnectionClosed, OSError, TimeoutError):
                await x.close()

    async with asyncio.timeout(timeout):
        await asyncio.gather(*(one(x) for x in items))


async def plain(url: str) -> ClientConnection:
    return await connect(url, **WS_OPTS)


HANDSHAKE_ERRORS = (InvalidHandshake, InvalidStatus, OSError, TimeoutError)
