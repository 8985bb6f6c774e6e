"""The hostile attendee of tests/test_hostile.py: one attack per function, each bounded in
count and time, every answer recorded with whether the product may give it (a 4xx or an error
frame where a refusal is due, never a 5xx or silence)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import websockets

from app.voting.meetings import CODE_ALPHABET
from tests.attendees import (
    CSRF_FIELD,
    CSRF_HEADER,
    MARKS,
    Browser,
    LiveSocket,
    Reply,
    http_client,
    new_ballot_id,
)
from tests.conftest import TIME_FACTOR
from tests.processes import CovoteProcess

# The attacker's own loopback address: limits per address throttle it, not the room.
ATTACKER = "127.0.9.9"
# No attack may run longer than this, answered or not.
ATTACK_BOUND_S = 30 * TIME_FACTOR
HUGE = 2**63  # one past a signed 64-bit integer (SQLite's; PostgreSQL's ids are 32-bit)
TINY = -(2**63) - 1


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
    must still count sheets 1 and 2 (test_hostile.py keys and counts them afterwards), so each of
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
