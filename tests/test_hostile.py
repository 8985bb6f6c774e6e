"""A hostile attendee against a real `covote serve`, while 200 honest phones vote.

One server process, two meetings: an open one (200 phones joined from their own loopback
addresses, voting as the phone page does: over the live WebSocket, a few over the HTTP API or the
no-JavaScript form) and a tickets one (a few ticket holders). From its own address, an attendee
of both meetings runs the attacks of issue 11 concurrently with the vote, each bounded in count
and time: out-of-range and huge numbers, reused and reserved ballot ids, 500 rapid versions, a
voter-creation flood, ticket-code guessing, a cross-origin socket, oversized, deeply nested and
NaN bodies, and texts with NUL and bidi controls. A probe asks for a cheap page every 100 ms.

Checked afterwards, as product-level invariants: every attack was answered with a 4xx or an
error frame (never a 5xx, never silence); the probe never failed nor waited long; the server is
alive and acknowledges a new ballot; nobody was created by GETs or guesses; and in each
meeting's export bundle every honest acknowledged final ballot is present (as a multiset of
ballots: pseudonyms are not known to phones), `covote audit verify` passes and `covote recount`
prints exactly the bundle's results.json.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import csv
import io
import json
import os
import random
import re
import shlex
import subprocess
import sys
import time
import uuid
import zipfile
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import httpx
import pytest
import websockets
from websockets.typing import Origin

from app.meetings import CODE_ALPHABET
from tests.conftest import FACILITATOR_KEY, MEETING, TIME_FACTOR
from tests.processes import CovoteProcess

pytestmark = pytest.mark.slow

PHONES = 200
TICKET_HOLDERS = 6
PROPOSALS = ("library", "respite", "toilets")
MARKS = ("want", "dont_want", "neutral")
CSRF_HEADER = "X-Covote-CSRF"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
JOIN_FORM = re.compile(r'<form\b[^>]*\bid="join-form"[^>]*\baction="([^"]+)"')

# Loopback addresses (Linux routes all of 127.0.0.0/8 to lo): one per honest device, so limits
# per address throttle the attacker, not the room. Only 127.x addresses are ever used.
ATTACKER = "127.0.9.9"
PROBE = "127.0.3.1"
LATE_PHONE = "127.0.1.250"


def phone_address(i: int) -> str:
    return f"127.0.1.{i + 1}"


def holder_address(i: int) -> str:
    return f"127.0.2.{i + 1}"


# A phone waits this long for an ack before it counts the ballot as lost (the page would say
# "Not saved yet" after 5 s and retry; the product must ack long before either).
ACK_WITHIN_S = 10 * TIME_FACTOR
# No attack may run longer than this, answered or not.
ATTACK_BOUND_S = 30 * TIME_FACTOR
# The probe: a cheap page every 100 ms, each answered within a generous bound.
PROBE_EVERY_S = 0.1
PROBE_BOUND_S = 5 * TIME_FACTOR
# Paper sheets keyed after the attacks (numbers 1 and 2: the attacker sent their old ids).
PAPER = {
    1: {"library": "want", "respite": "dont_want", "toilets": "neutral"},
    2: {"library": "dont_want", "respite": "want", "toilets": "want"},
}
HUGE = 2**63  # one past SQLite's and PostgreSQL's signed 64-bit integers
TINY = -(2**63) - 1


# --- clients ---------------------------------------------------------------------------------


# Idle connections are dropped well before the server's keep-alive timeout (uvicorn: 5 s), so a
# request never goes out on a connection the server is closing at that moment (a browser would
# silently retry it; httpx reports it as a failure).
KEEPALIVE_S = 1.0


def http_client(base_url: str, address: str) -> httpx.AsyncClient:
    """A browser's HTTP client, its connections made from `address`; never a proxy."""
    return httpx.AsyncClient(
        base_url=base_url,
        transport=httpx.AsyncHTTPTransport(
            local_address=address, limits=httpx.Limits(keepalive_expiry=KEEPALIVE_S)
        ),
        timeout=ACK_WITHIN_S,  # every answer, a stored ballot's included, comes within this
        trust_env=False,
    )


Reply = dict[str, Any]


class LiveSocket:
    """The page's live connection (app/static/live.js): frames are read all the time, and the
    personal ones (ack, error) are handed to whoever waits for a reply, in arrival order."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.snapshots = 0
        self._replies: asyncio.Queue[Reply] = asyncio.Queue()
        self._closed: Reply | None = None
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(
        cls, url: str, *, address: str, cookie: str | None = None, origin: str | None = None
    ) -> LiveSocket:
        """Raises websockets.InvalidStatus when the server refuses the handshake."""
        ws = await websockets.connect(
            url,
            additional_headers={"Cookie": cookie} if cookie else {},
            origin=Origin(origin) if origin else None,
            compression=None,
            proxy=None,
            ping_interval=None,
            open_timeout=20 * TIME_FACTOR,
            local_addr=(address, 0),
        )
        live = cls(ws)
        await live.send({"type": "hello", "last_seq": None})
        return live

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                if msg.get("type") in ("ack", "error"):
                    self._replies.put_nowait(msg)
                elif msg.get("type") == "snapshot":
                    self.snapshots += 1
        except websockets.ConnectionClosed:
            pass
        finally:
            self._closed = {"type": "closed", "code": self.ws.close_code}
            self._replies.put_nowait(self._closed)

    async def send(self, frame: dict[str, Any] | str) -> bool:
        """False if the socket is closed (nothing was sent)."""
        try:
            await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))
            return True
        except websockets.ConnectionClosed:
            return False

    async def reply(self, timeout: float = ACK_WITHIN_S) -> Reply:
        """The next ack or error; `closed` once the socket is gone; `timeout` if none came."""
        if self._replies.empty() and self._closed is not None:
            return self._closed
        try:
            return await asyncio.wait_for(self._replies.get(), timeout)
        except TimeoutError:
            return {"type": "timeout"}

    async def cast(self, round_id: int, marks: dict[str, str], ballot_id: str) -> Reply:
        """Send a whole ballot; the reply for this ballot id (older versions' are skipped)."""
        frame = {"type": "cast", "ballot_id": ballot_id, "round": round_id, "marks": marks}
        if not await self.send(frame):
            return self._closed or {"type": "closed", "code": None}
        deadline = time.monotonic() + ACK_WITHIN_S
        while True:
            msg = await self.reply(max(0.0, deadline - time.monotonic()))
            if msg["type"] in ("closed", "timeout") or msg.get("ballot_id") == ballot_id:
                return msg

    async def close(self) -> None:
        await self.ws.close()
        await self._reader


class Browser:
    """An attendee's browser at one address: its cookie jar and the session's CSRF token."""

    def __init__(self, server: CovoteProcess, code: str, address: str) -> None:
        self.server, self.code, self.address = server, code, address
        self.http = http_client(server.url, address)
        self.csrf = ""
        self.round_id: int | None = None

    def cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())

    async def join(self) -> bool:
        """Join as a person does: open the phone page and press Join (a GET never joins)."""
        try:
            page = await self.http.get(f"/m/{self.code}")
            form = JOIN_FORM.search(page.text)
            csrf = CSRF_FIELD.search(page.text)
            if form and csrf:
                r = await self.http.post(form.group(1), data={"csrf": csrf.group(1)})
                if r.status_code != 303:
                    return False
            return await self.read_page()
        except (OSError, httpx.HTTPError):
            return False

    async def read_page(self) -> bool:
        """The phone page as a joined voter sees it: its CSRF token and the open round."""
        page = await self.http.get(f"/m/{self.code}")
        found = CSRF_FIELD.search(page.text)
        shown = re.search(r'data-round-id="(\d+)"', page.text)
        if page.status_code != 200 or not found or not shown:
            return False
        self.csrf, self.round_id = found.group(1), int(shown.group(1))
        return True

    async def read_form(self) -> dict[str, str] | None:
        """The hidden fields of the page's ballot form (round, ballot_id; csrf is added later),
        or None if the page has no ballot form."""
        page = await self.http.get(f"/m/{self.code}")
        hidden = r'type="hidden" name="(round|ballot_id)" value="([^"]*)"'
        found = dict(re.findall(hidden, page.text))
        return found if set(found) == {"round", "ballot_id"} else None

    async def socket(self, *, origin: str | None = None, csrf: str | None = None) -> LiveSocket:
        """The phone page's socket: the page's own Origin and the session's CSRF token."""
        token = self.csrf if csrf is None else csrf
        url = self.server.ws(self.code) + (f"?csrf={quote(token)}" if token else "")
        return await LiveSocket.open(
            url,
            address=self.address,
            cookie=self.cookie(),
            origin=self.server.url if origin is None else origin,
        )

    async def post_ballot(self, body: dict[str, Any] | str) -> httpx.Response:
        """POST /api/m/CODE/ballot, as phone.js does when the socket is down."""
        content = body if isinstance(body, str) else json.dumps(body)
        return await self.http.post(
            f"/api/m/{self.code}/ballot",
            content=content,
            headers={"Content-Type": "application/json", CSRF_HEADER: self.csrf},
        )

    async def post_form(self, fields: dict[str, str]) -> httpx.Response:
        """The no-JavaScript ballot form."""
        return await self.http.post(f"/m/{self.code}/ballot", data={"csrf": self.csrf, **fields})

    async def aclose(self) -> None:
        await self.http.aclose()


# --- honest phones ---------------------------------------------------------------------------

Way = Literal["socket", "api", "form"]


@dataclass
class Phone:
    """An honest attendee and what the server acknowledged to it."""

    browser: Browser
    way: Way
    final: dict[str, str] | None = None  # marks of the last acknowledged ballot
    acks: int = 0
    failures: list[str] = field(default_factory=list)


def way_of(i: int) -> Way:
    """Most phones vote over the socket; one in ten over the API, one in ten with no script."""
    return "api" if i % 10 == 1 else "form" if i % 10 == 2 else "socket"


def new_ballot_id() -> str:
    return uuid.uuid4().hex  # what phone.js makes: 16 random bytes in hex


async def cast_once(phone: Phone, live: LiveSocket | None, marks: dict[str, str]) -> None:
    """One whole ballot the way this phone sends it; `final` moves only on an ack."""
    b = phone.browser
    assert b.round_id is not None
    ballot_id = new_ballot_id()
    if phone.way == "socket":
        assert live is not None
        reply = await live.cast(b.round_id, marks, ballot_id)
        ok, what = reply["type"] == "ack", json.dumps(reply)
    elif phone.way == "api":
        r = await b.post_ballot({"ballot_id": ballot_id, "round": b.round_id, "marks": marks})
        ok, what = r.status_code == 200, f"HTTP {r.status_code} {r.text[:200]}"
    elif (form := await b.read_form()) is None:  # the page after the last save
        ok, what = False, "the phone page shows no ballot form"
    else:
        fields = {f"mark:{p}": m for p, m in marks.items()}
        r = await b.post_form({**form, **fields})
        ok = r.status_code == 303 and "saved=1" in r.headers.get("location", "")
        what = f"HTTP {r.status_code} {r.text[:200]}"
    if ok:
        phone.final, phone.acks = dict(marks), phone.acks + 1
    else:
        phone.failures.append(what)


async def vote(phone: Phone, rng: random.Random) -> None:
    """Mark the proposals one by one (the page saves the whole ballot at every change), and
    sometimes change one's mind; the no-script form is saved once, sometimes twice."""
    marks: dict[str, str] = {}
    steps = [{p: rng.choice(MARKS)} for p in PROPOSALS]
    if phone.way == "form":
        steps = [{p: rng.choice(MARKS) for p in PROPOSALS}]
    if rng.random() < 0.3:
        steps.append({rng.choice(PROPOSALS): rng.choice(MARKS)})
    live: LiveSocket | None = None
    try:
        live = await phone.browser.socket() if phone.way == "socket" else None
        for step in steps:
            await asyncio.sleep(rng.uniform(0.2, 1.5))
            marks.update(step)
            await cast_once(phone, live, dict(marks))
            if phone.failures:
                return
    except (OSError, httpx.HTTPError, websockets.WebSocketException) as e:
        phone.failures.append(f"no answer: {e!r}")
    finally:
        if live is not None:
            await live.close()


# --- what the attacker sees ------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One attack request and its answer; `ok` if the answer is one the product may give."""

    attack: str
    how: str
    outcome: str
    ok: bool


class Attacker:
    """A hostile attendee of both meetings, from one address, recording every answer."""

    def __init__(self, server: CovoteProcess, code: str, tickets_code: str) -> None:
        self.server, self.code, self.tickets_code = server, code, tickets_code
        self.seen: list[Seen] = []
        self.voters: list[Browser] = []

    async def voter(self) -> Browser:
        """A voter of the open meeting, joined as a phone would join."""
        b = Browser(self.server, self.code, ATTACKER)
        assert await b.join(), "the attacker could not join like an attendee"
        self.voters.append(b)
        return b

    def saw(self, attack: str, how: str, outcome: str, ok: bool) -> None:
        self.seen.append(Seen(attack, how, outcome, ok))

    def refused_http(self, attack: str, how: str, r: httpx.Response) -> None:
        """Must be refused: a 4xx answer."""
        self.saw(attack, how, f"HTTP {r.status_code}", 400 <= r.status_code < 500)

    def answered_http(self, attack: str, how: str, r: httpx.Response) -> None:
        """May be accepted or refused, but never a server error."""
        self.saw(attack, how, f"HTTP {r.status_code}", r.status_code < 500)

    def refused_frame(self, attack: str, how: str, reply: Reply) -> None:
        """Must be refused: an error frame (not a storage failure), or the socket closed."""
        self.saw(attack, how, _describe(reply), _refused(reply))

    def answered_frame(self, attack: str, how: str, reply: Reply) -> None:
        """An ack or a refusal, but an answer."""
        self.saw(attack, how, _describe(reply), reply["type"] == "ack" or _refused(reply))

    async def http_call(
        self, attack: str, how: str, call: Awaitable[httpx.Response], *, must_refuse: bool
    ) -> httpx.Response | None:
        try:
            r = await call
        except httpx.HTTPError as e:
            self.saw(attack, how, f"no answer: {e!r}", False)
            return None
        (self.refused_http if must_refuse else self.answered_http)(attack, how, r)
        return r


def _describe(reply: Reply) -> str:
    if reply["type"] == "error":
        return f"error frame {reply.get('code')}"
    if reply["type"] == "closed":
        return f"socket closed {reply.get('code')}"
    return str(reply["type"])


def _refused(reply: Reply) -> bool:
    if reply["type"] == "error":
        return reply.get("code") not in ("storage_unavailable", "error")
    # The server may close an abusive socket (policy, too big, too slow), never silently hang.
    return reply["type"] == "closed" and reply.get("code") not in (None, 1006, 1011)


async def frame_attack(
    a: Attacker, attack: str, browser: Browser, frames: list[tuple[str, str]], *, refuse: bool
) -> None:
    """Send each (how, raw text) frame and record the reply; when the server has closed the
    socket (as it may for an abusive frame), the next frame goes on a new one."""
    sockets = [await browser.socket()]
    try:
        for how, raw in frames:
            if not await sockets[-1].send(raw):
                sockets.append(await browser.socket())
                await sockets[-1].send(raw)
            reply = await sockets[-1].reply()
            (a.refused_frame if refuse else a.answered_frame)(attack, how, reply)
    finally:
        for live in sockets:
            await live.close()


def cast_text(ballot_id: str, round_id: Any, marks: Any) -> str:
    return json.dumps({"type": "cast", "ballot_id": ballot_id, "round": round_id, "marks": marks})


# --- the attacks: one function each, bounded in count and time ---------------------------------


async def huge_rounds(a: Attacker) -> None:
    """round = 2**63 and -2**63-1 (and 400 digits) over the socket, the API and the form."""
    b = await a.voter()
    marks = {"library": "want"}
    huge_numbers = {"2**63": HUGE, "-2**63-1": TINY, "400 digits": int("9" * 400)}
    frames = [
        (f"socket round={name}", cast_text(new_ballot_id(), n, marks))
        for name, n in huge_numbers.items()
    ]
    await frame_attack(a, "huge round", b, frames, refuse=True)
    for name, n in huge_numbers.items():
        body = {"ballot_id": new_ballot_id(), "round": n, "marks": marks}
        api = b.post_ballot(body)
        await a.http_call("huge round", f"API round={name}", api, must_refuse=True)
        form = {"round": str(n), "ballot_id": new_ballot_id(), "mark:library": "want"}
        await a.http_call("huge round", f"form round={name}", b.post_form(form), must_refuse=True)


async def reused_ballot_ids(a: Attacker) -> None:
    """One ballot id sent again with other marks: over the socket, and Back + Save on the form."""
    b = await a.voter()
    assert b.round_id is not None
    live = await b.socket()
    try:
        reused = new_ballot_id()
        for mark in ("want", "dont_want", "neutral", "want"):
            reply = await live.cast(b.round_id, {"library": mark, "respite": "want"}, reused)
            a.answered_frame("reused id", f"socket {reused} library={mark}", reply)
    finally:
        await live.close()
    reused = new_ballot_id()
    for mark in ("want", "dont_want"):
        fields = {"round": str(b.round_id), "ballot_id": reused, "mark:toilets": mark}
        await a.http_call(
            "reused id", f"form toilets={mark}", b.post_form(fields), must_refuse=False
        )
    body = {"ballot_id": reused, "round": b.round_id, "marks": {"toilets": "neutral"}}
    await a.http_call("reused id", "API after form", b.post_ballot(body), must_refuse=False)


async def reserved_ids(a: Attacker) -> None:
    """Ballot ids like the server's own for paper sheets and keypads. Ids in the server's space
    must be refused; a look-alike may be taken as an ordinary phone id, but the paper desk
    must still count sheets 1 and 2 (checked after the attacks with `count_paper`), so each of
    those two stays stored: its voter casts nothing after it."""
    first, second, other = await a.voter(), await a.voter(), await a.voter()
    assert other.round_id is not None
    marks = {"library": "want"}

    def body(ballot_id: str) -> dict[str, Any]:
        return {"ballot_id": ballot_id, "round": other.round_id, "marks": marks}

    sheet_1 = cast_text("paper-r1-s1", other.round_id, marks)
    await frame_attack(a, "reserved id", first, [("socket paper-r1-s1", sheet_1)], refuse=False)
    sheet_2 = second.post_ballot(body("paper-r1-s2"))
    await a.http_call("reserved id", "API paper-r1-s2", sheet_2, must_refuse=False)
    lookalike = ["paper-r2-s7", "kp" + uuid.uuid4().hex]
    server_space = ["paper:r1:s1", "paper:r1-s2", "keypad:" + uuid.uuid4().hex]
    for ids, refuse in ((lookalike, False), (server_space, True)):
        frames = [(f"socket {i}", cast_text(i, other.round_id, marks)) for i in ids]
        await frame_attack(a, "reserved id", other, frames, refuse=refuse)
        for i in ids:
            api = other.post_ballot(body(i))
            await a.http_call("reserved id", f"API {i}", api, must_refuse=refuse)
            form = {"round": str(other.round_id), "ballot_id": i, "mark:library": "want"}
            await a.http_call("reserved id", f"form {i}", other.post_form(form), must_refuse=refuse)


async def rapid_versions(a: Attacker) -> None:
    """500 ballot versions from one voter as fast as the socket takes them."""
    b = await a.voter()
    assert b.round_id is not None
    live = await b.socket()
    try:
        for n in range(500):
            frame = cast_text(new_ballot_id(), b.round_id, {"library": MARKS[n % 3]})
            if not await live.send(frame):
                break
        answers: Counter[str] = Counter()
        for _ in range(500):
            reply = await live.reply()
            answers[_describe(reply)] += 1
            if reply["type"] in ("closed", "timeout"):
                a.answered_frame("500 versions", "the last reply", reply)
                break
            if not (reply["type"] == "ack" or _refused(reply)):
                a.answered_frame("500 versions", "one reply", reply)
        counts = ", ".join(f"{n} {what}" for what, n in answers.most_common())
        a.saw("500 versions", "socket", counts, True)
    finally:
        await live.close()


async def flood(requests: list[Callable[[], Awaitable[None]]], workers: int) -> None:
    """Run the requests `workers` at a time, as a script with several connections does."""
    queue = iter(requests)

    async def worker() -> None:
        for request in queue:
            await request()

    await asyncio.gather(*(worker() for _ in range(workers)))


async def voter_flood(a: Attacker) -> None:
    """300 plain GETs of the phone page, 10 at a time, none sending back a cookie."""
    async with http_client(a.server.url, ATTACKER) as c:

        async def get() -> None:
            request = c.build_request("GET", f"/m/{a.code}")
            request.headers.pop("Cookie", None)
            await a.http_call("GET flood", "GET /m/CODE", c.send(request), must_refuse=False)

        await flood([get] * 300, workers=10)


def guess() -> str:
    code = "".join(random.choice(CODE_ALPHABET) for _ in range(8))
    return f"{code[:4]}-{code[4:]}"


async def ticket_guessing(a: Attacker) -> None:
    """300 guessed ticket codes, 5 at a time: typed on the tickets meeting's page, opened as
    links, and typed on the join page."""
    async with http_client(a.server.url, ATTACKER) as c:
        page = await c.get(f"/m/{a.tickets_code}")
        found = CSRF_FIELD.search(page.text)
        assert found, "the tickets meeting's page asks for a ticket code"
        typed = {"csrf": found.group(1), "meeting": a.tickets_code}

        def attempt(method: str, url: str, code: str) -> Callable[[], Awaitable[None]]:
            how = f"{method} {url.split('?')[0].replace(code, 'CODE')}"
            data = {**typed, "code": code} if method == "POST" else None

            async def send() -> None:
                try:
                    r = await c.request(method, url, data=data)
                except httpx.HTTPError as e:
                    a.saw("ticket guess", how, f"no answer: {e!r}", False)
                    return
                # A guess never gets in: refused, or sent on to a page that asks for a ticket.
                inside = r.headers.get("location", "").startswith("/m/")
                ok = r.status_code < 500 and not inside
                a.saw("ticket guess", how, f"HTTP {r.status_code}", ok)

            return send

        tries = [attempt("POST", "/t", guess()) for _ in range(150)]
        tries += [attempt("GET", f"/t/{code}", code) for code in (guess() for _ in range(75))]
        tries += [
            attempt("GET", f"/join?code={code}", code) for code in (guess() for _ in range(75))
        ]
        await flood(tries, workers=5)


async def cross_origin_socket(a: Attacker) -> None:
    """Another site's page opens the socket with the voter's cookie and casts."""
    b = await a.voter()
    assert b.round_id is not None
    for how, origin, csrf in (
        ("evil Origin", "http://evil.example", None),
        ("evil Origin, no token", "https://covote.evil.example", ""),
        ("no CSRF token", None, ""),
    ):
        try:
            live = await b.socket(origin=origin, csrf=csrf)
        except websockets.InvalidStatus as e:
            status = e.response.status_code
            a.saw("cross-origin socket", how, f"handshake {status}", 400 <= status < 500)
            continue
        try:
            reply = await live.cast(b.round_id, {"respite": "dont_want"}, new_ballot_id())
            a.refused_frame("cross-origin socket", how, reply)
        finally:
            await live.close()


async def raw_post(
    server: CovoteProcess,
    path: str,
    headers: dict[str, str],
    body_size: int,
    *,
    chunked: bool,
    piece: bytes,
) -> str:
    """POST `body_size` bytes (`piece` repeated) from the attacker's address and return the
    status line; stops sending once the server has answered (a server refusing a body may
    answer and close before reading it all)."""
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", server.port, local_addr=(ATTACKER, 0)
    )
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {body_size}"
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", framing]
    head += [f"{k}: {v}" for k, v in headers.items()]
    answer = asyncio.create_task(reader.readline())
    try:
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
        sent = 0
        while sent < body_size and not answer.done():
            chunk = piece[: body_size - sent]
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            await writer.drain()
            sent += len(chunk)
        if chunked and not answer.done():
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except ConnectionError:
        pass  # the server stopped reading: its answer is what counts
    try:
        line = await asyncio.wait_for(answer, 20 * TIME_FACTOR)
        return line.decode("latin-1").strip()
    except (TimeoutError, ConnectionError):
        return ""
    finally:
        answer.cancel()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def oversized_bodies(a: Attacker) -> None:
    """3 MiB bodies, chunked and with a Content-Length: 413 (or 429 once limited)."""
    b = await a.voter()
    api = {"Content-Type": "application/json", CSRF_HEADER: b.csrf}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    # JSON that never ends; a form of 4 KiB fields, each within the form parser's own limits
    # (1 MiB a field, 1,000 fields), so only the body limit can refuse it.
    json_piece = b"[" * (64 * 1024)
    form_piece = (b"f=" + b"x" * 4093 + b"&") * 16
    for path, headers, piece in (
        (f"/api/m/{a.code}/ballot", api, json_piece),
        (f"/m/{a.code}/ballot", form, form_piece),
    ):
        for chunked in (True, False):
            how = f"{'chunked' if chunked else 'Content-Length'} 3 MiB to {path}"
            status = await raw_post(
                a.server,
                path,
                {"Cookie": b.cookie(), **headers},
                3 << 20,
                chunked=chunked,
                piece=piece,
            )
            code = status.split(" ")[1] if status.count(" ") >= 1 else ""
            a.saw("3 MiB body", how, status or "no answer", code in ("413", "429"))


async def malformed_json(a: Attacker) -> None:
    """5,000-level nested JSON and NaN, over the API and the socket."""
    b = await a.voter()
    assert b.round_id is not None
    nested = "[" * 5000 + "]" * 5000
    deep = '{"a":' * 5000 + "1" + "}" * 5000
    rid = b.round_id
    nan_mark = '{"library": NaN}'
    fields = {
        "nested marks": f'"ballot_id": "{new_ballot_id()}", "round": {rid}, "marks": {nested}',
        "nested objects": f'"ballot_id": "{new_ballot_id()}", "round": {rid}, "marks": {deep}',
        "NaN round": f'"ballot_id": "{new_ballot_id()}", "round": NaN, "marks": {{}}',
        "NaN mark": f'"ballot_id": "{new_ballot_id()}", "round": {rid}, "marks": {nan_mark}',
        "Infinity round": f'"ballot_id": "{new_ballot_id()}", "round": Infinity, "marks": {{}}',
    }
    for how, body in {**{k: f"{{{v}}}" for k, v in fields.items()}, "nested body": nested}.items():
        await a.http_call("bad JSON", f"API {how}", b.post_ballot(body), must_refuse=True)
    segments = b.http.post(
        f"/api/m/{a.code}/segments",
        content='{"segments": ' + nested + "}",
        headers={"Content-Type": "application/json", CSRF_HEADER: b.csrf},
    )
    await a.http_call("bad JSON", "API nested segments", segments, must_refuse=True)
    frames = [(f"socket {how}", f'{{"type": "cast", {v}}}') for how, v in fields.items()]
    frames += [
        ("socket nested body", nested),
        ("socket nested hello", '{"type": "hello", "last_seq": ' + nested + "}"),
    ]
    await frame_attack(a, "bad JSON", b, frames, refuse=True)


async def huge_paths(a: Attacker) -> None:
    """400-digit and 64-bit-overflowing numbers wherever a path takes a number or a code."""
    digits = "9" * 400
    paths = [
        f"/console/{digits}",
        f"/console/{HUGE}/rounds/{HUGE}/export/ballots.csv",
        f"/console/{TINY}/export/ballots.csv",
        f"/console/1/rounds/{digits}/export/results.json",
        f"/console/1/tickets/{HUGE}/revoke",
        f"/m/{digits}",
        f"/m/{digits}/ballot",
        f"/api/m/{digits}",
        f"/p/{digits}",
        f"/t/{digits}",
        f"/m/{digits}/qr.svg",
    ]
    async with http_client(a.server.url, ATTACKER) as c:
        for path in paths:
            await a.http_call("huge path", f"GET {path[:60]}", c.get(path), must_refuse=True)
    try:
        live = await LiveSocket.open(a.server.ws(digits), address=ATTACKER, origin=a.server.url)
    except websockets.InvalidStatus as e:
        status = e.response.status_code
        a.saw("huge path", "socket /ws/m/<400 digits>", f"handshake {status}", status < 500)
        return
    reply = await live.reply()
    await live.close()
    a.refused_frame("huge path", "socket /ws/m/<400 digits>", reply)


async def hostile_texts(a: Attacker) -> None:
    """NUL, right-to-left override and zero-width characters in ids and codes."""
    b = await a.voter()
    assert b.round_id is not None
    texts = {
        "NUL": "\x00",
        "RLO": "\u202e",
        "zero-width": "\u200b",
        "BOM": "\ufeff",
        "isolate": "\u2066",
    }
    frames: list[tuple[str, str]] = []
    for name, ch in texts.items():
        ballot_id = f"abcd{ch}efgh1234"
        frames.append((f"socket ballot id with {name}", cast_text(ballot_id, b.round_id, {})))
        marks = {f"library{ch}": "want"}
        frames.append(
            (f"socket proposal with {name}", cast_text(new_ballot_id(), b.round_id, marks))
        )
        body = {"ballot_id": ballot_id, "round": b.round_id, "marks": {"library": "want"}}
        await a.http_call(
            "hostile text", f"API id with {name}", b.post_ballot(body), must_refuse=True
        )
        segments = b.http.post(
            f"/api/m/{a.code}/segments",
            json={"segments": [f"carer{ch}"]},
            headers={CSRF_HEADER: b.csrf},
        )
        await a.http_call("hostile text", f"segment with {name}", segments, must_refuse=True)
        form = {"round": str(b.round_id), "ballot_id": ballot_id, f"mark:toilets{ch}": "want"}
        await a.http_call("hostile text", f"form with {name}", b.post_form(form), must_refuse=True)
        code = quote(f"ABCD{ch}EFGH")
        await a.http_call(
            "hostile text", f"ticket code with {name}", b.http.get(f"/t/{code}"), must_refuse=True
        )
        await a.http_call(
            "hostile text",
            f"meeting code with {name}",
            b.http.get(f"/m/{quote(a.code + ch)}/ballot"),
            must_refuse=True,
        )
    await frame_attack(a, "hostile text", b, frames, refuse=True)


ATTACKS: tuple[Callable[[Attacker], Awaitable[None]], ...] = (
    huge_rounds,
    reused_ballot_ids,
    reserved_ids,
    rapid_versions,
    voter_flood,
    ticket_guessing,
    cross_origin_socket,
    oversized_bodies,
    malformed_json,
    huge_paths,
    hostile_texts,
)


async def run_attack(a: Attacker, attack: Callable[[Attacker], Awaitable[None]]) -> None:
    """One attack, bounded in time; what goes wrong on the attacker's side is recorded."""
    name = attack.__name__
    try:
        async with asyncio.timeout(ATTACK_BOUND_S):
            await attack(a)
    except TimeoutError:
        a.saw(name, "bounded", f"still running after {ATTACK_BOUND_S:.0f} s", False)
    except (OSError, httpx.HTTPError, websockets.WebSocketException, AssertionError) as e:
        a.saw(name, "attacker", f"stopped: {e!r}"[:300], False)


# --- the probe -------------------------------------------------------------------------------


@dataclass
class ProbeLog:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


async def probe(base_url: str, paths: tuple[str, ...], stop: asyncio.Event, log: ProbeLog) -> None:
    """A cheap page every 100 ms, from its own address, until `stop`."""
    async with http_client(base_url, PROBE) as c:
        n = 0
        while not stop.is_set():
            path = paths[n % len(paths)]
            n += 1
            start = time.monotonic()
            try:
                r = await c.get(path, timeout=PROBE_BOUND_S)
                if r.status_code != 200:
                    log.failures.append(f"{path}: HTTP {r.status_code}")
            except httpx.HTTPError as e:
                log.failures.append(f"{path}: {e!r}")
            took = time.monotonic() - start
            log.latencies.append(took)
            await asyncio.sleep(max(0.0, PROBE_EVERY_S - took))


# --- the facilitator -------------------------------------------------------------------------


class Console:
    """The facilitator's browser on the laptop (127.0.0.1), driving the console."""

    def __init__(self, server: CovoteProcess) -> None:
        self.c = httpx.Client(
            base_url=server.url,
            timeout=60 * TIME_FACTOR,
            trust_env=False,
            limits=httpx.Limits(keepalive_expiry=KEEPALIVE_S),
        )
        self.c.get(f"/facilitator?key={FACILITATOR_KEY}")
        found = CSRF_FIELD.search(self.c.get("/console").text)
        assert found, "the facilitator link did not open the console"
        self.csrf = found.group(1)

    def post(self, path: str, **data: Any) -> httpx.Response:
        r = self.c.post(path, data={"csrf": self.csrf, **data})
        assert r.status_code < 400, f"{path}: HTTP {r.status_code} {r.text[:300]}"
        return r

    def create(self, spec: dict[str, Any]) -> tuple[int, str]:
        """Import a meeting file; (meeting id, code)."""
        r = self.c.post(
            "/console/import",
            data={"csrf": self.csrf},
            files={"file": ("m.json", json.dumps(spec).encode(), "application/json")},
        )
        assert r.status_code == 303, r.text[:300]
        meeting_id = int(r.headers["location"].split("/")[2])
        found = re.search(r'class="code">([A-Z0-9]{6})<', self.c.get(f"/console/{meeting_id}").text)
        assert found
        return meeting_id, found.group(1)

    def open_round(self, meeting_id: int) -> None:
        self.post(f"/console/{meeting_id}/rounds", proposal=list(PROPOSALS))

    def close_round(self, meeting_id: int, number: int) -> None:
        self.post(f"/console/{meeting_id}/rounds/{number}/close")

    def reveal(self, meeting_id: int, code: str, number: int) -> dict[str, str]:
        """Show the round's results on the projector; what each proposal's outcome is there."""
        self.post(f"/console/{meeting_id}/rounds/{number}/reveal")
        shown = self.c.get(f"/api/m/{code}").json()["results"]
        return {p["id"]: p["category"] for p in shown["proposals"]}

    def issue_tickets(self, meeting_id: int, count: int) -> list[str]:
        """Issue tickets and read their codes off the print sheet."""
        self.post(f"/console/{meeting_id}/tickets", count=str(count))
        sheet = self.c.get(f"/console/{meeting_id}/tickets/print?from=1")
        codes = re.findall(r'class="ticket-code">([A-Z0-9]{4}-[A-Z0-9]{4})<', sheet.text)
        assert len(codes) == count, sheet.text[:300]
        return codes

    def turnout(self, code: str) -> dict[str, Any]:
        turnout: dict[str, Any] = self.c.get(f"/api/m/{code}").json()["turnout"]
        return turnout

    def present(self, code: str) -> int:
        return int(self.turnout(code)["present"])

    def count_paper(self, meeting_id: int, sheets: dict[int, dict[str, str]]) -> list[str]:
        """Key each sheet twice (two clerks) and count round 1's paper; problems, if any."""
        base = f"/console/{meeting_id}/rounds/1/paper"
        problems = []
        try:
            for sheet, marks in sheets.items():
                for keying in (1, 2):
                    data = {"csrf": self.csrf, "sheet": str(sheet)}
                    data.update({f"mark:{p}": m for p, m in marks.items()})
                    r = self.c.post(f"{base}/key/{keying}", data=data, timeout=ACK_WITHIN_S)
                    if r.status_code != 303:
                        problems.append(f"paper sheet {sheet}, keying {keying}: {r.status_code}")
            r = self.c.post(f"{base}/count", data={"csrf": self.csrf}, timeout=ACK_WITHIN_S)
            if r.status_code != 303:
                problems.append(f"counting paper: HTTP {r.status_code}")
        except httpx.HTTPError as e:
            problems.append(f"paper: no answer from the console ({e!r})")
        return problems

    def bundle(self, meeting_id: int, into: Path) -> Path:
        """The export bundle as the console offers it, unpacked into `into`."""
        r = self.c.get(f"/console/{meeting_id}/export/bundle.zip")
        assert r.status_code == 200, r.text[:300]
        with zipfile.ZipFile(io.BytesIO(r.content)) as z:
            z.extractall(into)
        return into

    def close(self) -> None:
        self.c.close()


# --- the export checks ----------------------------------------------------------------------

Ballot = frozenset[tuple[str, str]]  # (proposal, mark) for every proposal of the round


def whole(marks: dict[str, str]) -> Ballot:
    """A ballot as the export lists it: unmarked proposals of the round are neutral."""
    return frozenset((p, marks.get(p, "neutral")) for p in PROPOSALS)


def exported_ballots(folder: Path) -> Counter[Ballot]:
    """The multiset of round 1's ballots in the bundle's ballots.csv."""
    text = (folder / "ballots.csv").read_text(encoding="utf-8-sig")
    by_voter: dict[str, set[tuple[str, str]]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        if row["round"] == "1":
            by_voter.setdefault(row["voter"], set()).add((row["proposal"], row["mark"]))
    return Counter(frozenset(marks) for marks in by_voter.values())


# The tree these tests belong to: the CLI run on a bundle is this tree's code, whichever
# directory the bundle is unpacked in.
ROOT = Path(__file__).resolve().parents[1]


def bundle_commands(folder: Path) -> list[list[str]]:
    """The commands the bundle's README.txt tells a reader to run, as argv for this Python."""
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    lines = re.findall(r"^\s+(covote (?:recount|audit verify) .+)$", readme, re.MULTILINE)
    return [[sys.executable, "-m", "app.cli", *shlex.split(line)[1:]] for line in lines]


def check_bundle(
    folder: Path, honest: list[dict[str, str]], voters: int, shown: dict[str, str]
) -> list[str]:
    """Problems with one meeting's bundle: an honest acknowledged ballot (`honest`, the final
    marks of each) missing, more ballots than `voters` could cast, the bundle's own recount and
    verify commands failing, or the recount's outcomes not those the projector `shown`."""
    problems = []
    exported = exported_ballots(folder)
    missing = Counter(whole(marks) for marks in honest) - exported
    if missing:
        problems.append(f"{folder.name}: {missing.total()} honest acknowledged ballots missing")
    if exported.total() > voters:
        problems.append(f"{folder.name}: {exported.total()} ballots exported, more than voters")
    commands = bundle_commands(folder)
    kinds = sorted(" ".join(cmd[3:5]) for cmd in commands)
    if len(commands) != 2 or not kinds[0].startswith("audit verify"):
        problems.append(f"{folder.name}: README.txt names {kinds}, not recount and audit verify")
    for cmd in commands:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True, timeout=120)
        line = " ".join(cmd[3:])
        if done.returncode != 0:
            problems.append(f"{folder.name}: `{line}` exit {done.returncode}: {done.stderr[-800:]}")
        elif cmd[3] == "recount":
            if done.stdout != (folder / "results.json").read_text("utf-8"):
                problems.append(f"{folder.name}: `{line}` differs from results.json")
            rounds = json.loads(done.stdout)["rounds"]  # none if nobody voted
            recounted = rounds[0]["proposals"] if rounds else []
            if rounds and {p["id"]: p["category"] for p in recounted} != shown:
                problems.append(f"{folder.name}: `{line}` outcomes differ from the projector's")
    return problems


# --- the scenario ----------------------------------------------------------------------------


@dataclass
class Meetings:
    open_id: int
    code: str
    tickets_id: int
    tickets_code: str
    cards: list[str]


@dataclass
class Outcome:
    phones: list[Phone]
    holders: list[Phone]
    late: Phone
    joined_before: int
    attacker: Attacker
    probe: ProbeLog


async def join_all(browsers: list[Browser], batch: int = 50) -> list[bool]:
    """Join in batches, as a hall fills over a minute (compressed)."""
    out: list[bool] = []
    for start in range(0, len(browsers), batch):
        out += await asyncio.gather(*(b.join() for b in browsers[start : start + batch]))
    return out


async def redeem(b: Browser, card: str) -> bool:
    """Open the ticket's link (its QR code) and press "use it on this phone"."""
    page = await b.http.get(f"/t/{card}")
    found = CSRF_FIELD.search(page.text)
    if page.status_code != 200 or not found:
        return False
    r = await b.http.post(f"/t/{card}", data={"csrf": found.group(1)})
    if r.status_code != 303 or r.headers.get("location") != f"/m/{b.code}":
        return False
    return await b.read_page()


async def holders_vote(holders: list[Phone], cards: list[str], rng: random.Random) -> None:
    """Ticket holders arrive while the attacker guesses codes, redeem their cards and vote."""

    async def one(phone: Phone, card: str) -> None:
        await asyncio.sleep(rng.uniform(0.5, 4.0))
        if not await redeem(phone.browser, card):
            phone.failures.append(f"could not redeem {card}")
            return
        await vote(phone, rng)

    await asyncio.gather(*(one(p, c) for p, c in zip(holders, cards, strict=True)))


async def scenario(server: CovoteProcess, console: Console, m: Meetings) -> Outcome:
    rng = random.Random(11)
    stop = asyncio.Event()
    log = ProbeLog()
    prober = asyncio.create_task(probe(server.url, ("/", f"/p/{m.code}"), stop, log))
    browsers = [Browser(server, m.code, phone_address(i)) for i in range(PHONES)]
    holders = [
        Phone(Browser(server, m.tickets_code, holder_address(i)), "socket")
        for i in range(TICKET_HOLDERS)
    ]
    late = Phone(Browser(server, m.code, LATE_PHONE), "socket")
    attacker = Attacker(server, m.code, m.tickets_code)
    phones = [Phone(b, way_of(i)) for i, b in enumerate(browsers)]
    try:
        joined = await join_all(browsers)
        for phone, ok in zip(phones, joined, strict=True):
            if not ok:
                phone.failures.append("could not join")
        joined_before = await asyncio.to_thread(console.present, m.code)
        await asyncio.gather(
            *(vote(p, rng) for p in phones if not p.failures),
            holders_vote(holders, m.cards, rng),
            *(run_attack(attacker, attack) for attack in ATTACKS),
        )
        # After the attacks: a phone that arrives late still joins and its ballot is acked.
        if await late.browser.join():
            await vote(late, rng)
        else:
            late.failures.append("could not join after the attacks")
    finally:
        stop.set()
        await prober
        for b in [*browsers, late.browser, *(h.browser for h in holders), *attacker.voters]:
            await b.aclose()
    return Outcome(phones, holders, late, joined_before, attacker, log)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[CovoteProcess]:
    """`covote serve` as it ships: its own limits (tests that lift them say so), SQLite."""
    proc = CovoteProcess(tmp_path / "data", log=tmp_path / "server.log").start()
    try:
        yield proc
    finally:
        proc.stop()


def test_a_hostile_attendee_neither_stops_the_vote_nor_spoils_the_record(
    server: CovoteProcess, tmp_path: Path
) -> None:
    """Attacks during a 200-phone vote: all refused, every acked ballot exported and verified."""
    console = Console(server)
    try:
        open_id, code = console.create(MEETING)
        tickets_spec = {**copy.deepcopy(MEETING), "voting": {"admission": "tickets"}}
        tickets_id, tickets_code = console.create(tickets_spec)
        cards = console.issue_tickets(tickets_id, TICKET_HOLDERS + 4)
        console.open_round(open_id)
        console.open_round(tickets_id)
        meetings = Meetings(open_id, code, tickets_id, tickets_code, cards[:TICKET_HOLDERS])
        started = time.monotonic()
        out = asyncio.run(scenario(server, console, meetings))
        took = time.monotonic() - started
        problems = [*attack_problems(out.attacker), *honest_problems(out), *probe_problems(out)]
        if server.proc is None or server.proc.poll() is not None:
            problems.append("the server process died")
        problems += present_problems(console, out, code, tickets_code)
        # The sheets whose ids the attacker tried to take are keyed and counted as usual.
        paper_problems = console.count_paper(open_id, PAPER)
        if (paper := console.turnout(code)["by_channel"]["paper"]) != len(PAPER):
            paper_problems.append(f"{paper} paper ballots counted, not {len(PAPER)}")
        problems += paper_problems

        console.close_round(open_id, 1)
        console.close_round(tickets_id, 1)
        shown = console.reveal(open_id, code, 1)
        # (A phone that lost an ack is reported above; what it has stored is not known.)
        phones = [p.final for p in [*out.phones, out.late] if p.final and not p.failures]
        voters = PHONES + 1 + len(out.attacker.voters) + len(PAPER)
        folder = console.bundle(open_id, tmp_path / "open")
        counted = [] if paper_problems else list(PAPER.values())  # else reported above
        problems += check_bundle(folder, [*phones, *counted], voters, shown)
        shown = console.reveal(tickets_id, tickets_code, 1)
        holders = [p.final for p in out.holders if p.final and not p.failures]
        folder = console.bundle(tickets_id, tmp_path / "tickets")
        problems += check_bundle(folder, holders, TICKET_HOLDERS, shown)
        print(summary(out, took))  # shown with -s, and with the problems on failure
        assert not problems, "\n".join([*problems, *server_log_tail(server)])
    finally:
        console.close()


def summary(out: Outcome, took: float) -> str:
    """What happened, in a few lines: acks, answers to the attacks, the probe's latencies."""
    phones = [*out.phones, *out.holders, out.late]
    answers = Counter(f"{s.attack}: {s.outcome}" for s in out.attacker.seen)
    latencies = sorted(out.probe.latencies) or [0.0]
    return "\n".join(
        [
            f"scenario {took:.0f} s; {sum(p.acks for p in phones)} honest ballots acknowledged",
            f"probe: {len(latencies)} pages, median {latencies[len(latencies) // 2]:.3f} s, "
            f"slowest {latencies[-1]:.3f} s",
            *(f"  {n:4d} x {what}" for what, n in sorted(answers.items())),
        ]
    )


def present_problems(console: Console, out: Outcome, code: str, tickets_code: str) -> list[str]:
    """Only explicit joins and redeemed tickets made voters: no GET and no guessed code did."""
    problems = []
    joined = sum("could not join" not in p.failures for p in out.phones)
    if out.joined_before != joined:
        problems.append(f"open meeting: {out.joined_before} present after {joined} joined")
    expected = (
        out.joined_before + len(out.attacker.voters) + int(out.late.browser.round_id is not None)
    )
    if (present := console.present(code)) != expected:
        problems.append(f"open meeting: {present} present, expected {expected}")
    redeemed = sum(1 for h in out.holders if h.browser.round_id is not None)
    if (present := console.present(tickets_code)) != redeemed:
        problems.append(f"tickets meeting: {present} present, {redeemed} tickets redeemed")
    return problems


def attack_problems(attacker: Attacker) -> list[str]:
    """Every attack answered as the product may answer it (at most 40 listed)."""
    bad = [s for s in attacker.seen if not s.ok]
    listed = [f"attack {s.attack} ({s.how}): {s.outcome}" for s in bad[:40]]
    return [*listed, f"... and {len(bad) - 40} more"] if len(bad) > 40 else listed


def honest_problems(out: Outcome) -> list[str]:
    """Every honest ballot acknowledged, the late phone's too."""
    failed = [p for p in [*out.phones, *out.holders, out.late] if p.failures]
    problems = []
    if failed:
        problems.append(f"{len(failed)} honest phones had a ballot refused or never acked:")
        problems += [f"  {p.way} {p.browser.address}: {p.failures[0]}" for p in failed[:10]]
    if out.late.acks == 0:
        problems.append("the late phone's ballot was never acknowledged")
    return problems


def probe_problems(out: Outcome) -> list[str]:
    """The probe's pages always answered, and within the bound."""
    problems = [f"probe: {f}" for f in out.probe.failures[:10]]
    slowest = max(out.probe.latencies, default=0.0)
    if slowest > PROBE_BOUND_S:
        problems.append(f"probe: a page took {slowest:.1f} s")
    return problems


def server_log_tail(server: CovoteProcess) -> list[str]:
    if server.log is None or not server.log.exists():
        return []
    return ["server log:", *server.log.read_text(errors="replace").splitlines()[-30:]]
