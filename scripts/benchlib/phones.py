"""(5) Every phone, not only the projector (issue 14): N phones that hold their sockets and
behave as the phone page does.

- `join_per_s`: N browsers join as a person does, `join_concurrency_all` at once: GET /m/{code}
  (the join page, which never joins), POST /m/{code}/join, the redirect's GET /m/{code} (the
  phone page), then the page's socket (`?csrf=&view=phone&lang=en`) with `hello`, until its
  first snapshot has arrived (the page is live). Joins/s = N / wall time.
- `round_open_all_phones_s`: the facilitator opens a round (POST, timed from just before it);
  the time until every phone has what it needs to show the new round: a snapshot of that round
  carrying the ballot section (`ballot_html`), or, when it does not carry it, the snapshot and
  then the page's GET /m/{code}/ballot answered (what phone.js does). Every phone then casts
  once (untimed), so the revealed results are those of an N-ballot round.
- `reveal_all_phones_s`: the round is closed (untimed, every phone showing it), then the
  facilitator reveals the results: the time until every phone shows them (as above).
Phones only look at the round's id, status and revealed flag in a snapshot (a regular
expression, falling back to JSON), as phone.js compares them with what it shows.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from benchlib.clients import SNAPSHOT, WS_OPTS, close_all, csrf_of
from benchlib.util import Meter, http, log, pct

if TYPE_CHECKING:
    from benchlib.covote import Run

perf = time.perf_counter

ROUND = re.compile(rb'"round":\{"id":(\d+),"number":\d+,"status":"(\w+)","revealed":(true|false)')
NO_ROUND = b'"round":null'
BALLOT_HTML = b'"ballot_html":'
ACK = b'{"type":"ack"'

Key = tuple[int, str, bool] | None  # (round id, status, revealed); None: no round yet


def round_key(m: bytes) -> Key:
    """The round a snapshot shows, as phone.js keys it."""
    found = ROUND.search(m)
    if found:
        return int(found.group(1)), found.group(2).decode(), found.group(3) == b"true"
    if NO_ROUND in m:
        return None
    rnd = json.loads(m).get("round")
    return None if not rnd else (int(rnd["id"]), str(rnd["status"]), bool(rnd["revealed"]))


class BrowserPhone:
    """A phone page: its cookie, its socket, and when it last had what the page shows."""

    __slots__ = (
        "acked",
        "code",
        "cookie",
        "fetches",
        "fetching",
        "first",
        "port",
        "shown",
        "shown_at",
        "task",
        "want",
        "ws",
    )

    def __init__(self, port: int, code: str, cookie: str) -> None:
        self.port = port
        self.code = code
        self.cookie = cookie
        self.ws: ClientConnection | None = None
        self.task: asyncio.Task[None] | None = None
        self.first = asyncio.get_running_loop().create_future()  # the first snapshot came
        self.shown: Key | bool = False  # False: nothing yet
        self.shown_at = 0.0
        self.want: Key | bool = False  # the state being waited for
        self.fetching = False
        self.fetches = 0
        self.acked: asyncio.Future[None] | None = None

    async def connect(self, url: str) -> None:
        url = f"{url}?csrf={quote(csrf_of(self.cookie))}&view=phone&lang=en"
        self.ws = await connect(
            url, additional_headers={"Cookie": f"covote={self.cookie}"}, **WS_OPTS
        )
        self.task = asyncio.create_task(self._read())
        await self.ws.send('{"type":"hello","last_seq":null}')

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            while True:
                m = await self.ws.recv(decode=False)
                assert isinstance(m, bytes)
                if m.startswith(SNAPSHOT):
                    self._snapshot(m)
                elif m.startswith(ACK) and self.acked is not None and not self.acked.done():
                    self.acked.set_result(None)
        except ConnectionClosed:
            pass

    def _snapshot(self, m: bytes) -> None:
        key = round_key(m)
        if not self.first.done():
            self.first.set_result(None)
        if key == self.shown:
            return
        if BALLOT_HTML in m:
            self._show(key)
        elif not self.fetching:
            # The page fetches the section; its answer is what the newest state shows.
            self.fetching = True
            asyncio.get_running_loop().create_task(self._fetch(key))

    def _show(self, key: Key) -> None:
        self.shown, self.shown_at = key, perf()

    async def _fetch(self, key: Key) -> None:
        try:
            r = await http(
                self.port,
                "GET",
                f"/m/{self.code}/ballot",
                headers={"Cookie": f"covote={self.cookie}", "Accept": "text/html"},
                timeout=120,
            )
            self.fetches += 1
            if r.status == 200:
                self._show(key)
        finally:
            self.fetching = False

    async def cast(self, round_id: int, marks_json: str) -> None:
        assert self.ws is not None
        self.acked = asyncio.get_running_loop().create_future()
        bid = uuid.uuid4().hex
        await self.ws.send(
            f'{{"type":"cast","ballot_id":"{bid}","round":{round_id},"marks":{marks_json}}}'
        )
        await self.acked

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.task is not None:
            await self.task


async def join_one(run: Run, sem: asyncio.Semaphore) -> BrowserPhone:
    """One browser joining as a person does, until its page is live."""
    port, code = run.srv.port, run.f.code
    async with sem:
        r = await http(port, "GET", f"/m/{code}")
        cookie = r.cookies().get("covote")
        token = re.search(r'name="csrf" value="([^"]+)"', r.text)
        if r.status != 200 or not cookie or not token:
            raise RuntimeError(f"GET /m/{code}: {r.status}, no session cookie")
        headers = {
            "Cookie": f"covote={cookie}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        body = urlencode({"csrf": token.group(1)}).encode()
        r = await http(port, "POST", f"/m/{code}/join", headers=headers, body=body)
        cookie = r.cookies().get("covote") or cookie
        if r.status != 303:
            raise RuntimeError(f"POST /m/{code}/join: {r.status}")
        r = await http(port, "GET", f"/m/{code}", headers={"Cookie": f"covote={cookie}"})
        if r.status != 200 or 'id="ballot"' not in r.text:
            raise RuntimeError(f"GET /m/{code} after joining: {r.status}")
        phone = BrowserPhone(port, code, cookie)
        await phone.connect(run.ws_url)
        async with asyncio.timeout(60):
            await phone.first
        return phone


async def until_shown(
    phones: list[BrowserPhone], want: Key, t0: float, timeout: float
) -> tuple[float, list[float], int]:
    """Wait until every phone shows `want`. Returns (seconds until the last, each phone's
    seconds, phones that had not got there by the timeout)."""
    deadline = perf() + timeout
    while perf() < deadline:
        if all(p.shown == want for p in phones):
            break
        await asyncio.sleep(0.005)
    late = sum(1 for p in phones if p.shown != want)
    each = [p.shown_at - t0 for p in phones if p.shown == want]
    return (max(each) if each and not late else float("nan")), each, late


async def run_phones(run: Run) -> None:
    """Join N phones, then time a round opening and a reveal reaching all of them."""
    cfg, out = run.cfg, run.out
    n = cfg.all_phones
    await run.ensure_connected(0)  # only this phase's phones in the room
    out["all_phones"] = n
    log(f"covote: {n} phones join as browsers do ({cfg.join_concurrency_all} at once)")
    sem = asyncio.Semaphore(cfg.join_concurrency_all)
    sampler = run.sampler("phones-join")
    meter = Meter(run.proc)
    t0 = perf()
    results = await asyncio.gather(*(join_one(run, sem) for _ in range(n)), return_exceptions=True)
    join_s = perf() - t0
    win = meter.stop()
    run.stop_sampler(sampler, "phones-join")
    phones = [p for p in results if isinstance(p, BrowserPhone)]
    failed = [e for e in results if not isinstance(e, BrowserPhone)]
    if failed:
        run.notes.append(f"phones: {len(failed)} of {n} joins failed, e.g. {failed[0]!r}")
    out["join_per_s"] = round(len(phones) / join_s, 1)
    out["join_server_cpu_ms"] = round(win.server_cpu * 1000 / max(1, len(phones)), 2)
    out["join_server_util"] = round(win.server_util, 3)
    out["join_client_util"] = round(win.client_util, 3)
    log(
        f"  {len(phones) / join_s:,.0f} joins/s ({join_s:.1f} s), "
        f"{out['join_server_cpu_ms']} ms server CPU per join, server {win.server_util:.0%}, "
        f"client {win.client_util:.0%}"
    )
    run.window_note("phones join", win)
    try:
        await _round_changes(run, phones)
    finally:
        await close_all(phones)


async def _round_changes(run: Run, phones: list[BrowserPhone]) -> None:
    cfg, out, f = run.cfg, run.out, run.f
    n = len(phones)
    rnd = (await f.state())["round"]
    if rnd and rnd["status"] == "open":  # untimed: close the round the other phases left
        await f.post(f"/console/{f.meeting_id}/rounds/{rnd['number']}/close", ("confirm", "yes"))
        rnd = (await f.state())["round"]
        await until_shown(phones, (rnd["id"], "closed", False), perf(), 60)
    for p in phones:
        p.fetches = 0

    log(f"covote: a round opens with {n} phones holding their sockets")
    sampler = run.sampler("phones-round-open")
    meter = Meter(run.proc)
    t0 = perf()
    await f.post(f"/console/{f.meeting_id}/rounds", *(("proposal", k) for k in f.keys))
    rnd = (await f.state())["round"]
    last, each, late = await until_shown(phones, (rnd["id"], "open", False), t0, 60)
    win = meter.stop()
    run.stop_sampler(sampler, "phones-round-open")
    fetched = sum(p.fetches for p in phones)
    out["round_open_all_phones_s"] = round(last, 3)
    out["round_open_phones_p50_s"] = _p50(each)
    out["round_open_fetches"] = fetched
    out["round_open_server_cpu_s"] = round(win.server_cpu, 3)
    if late:
        run.notes.append(f"round open: {late} of {n} phones did not show it within 60 s")
    log(
        f"  all {n} phones show round {rnd['number']} after {last:.3f} s "
        f"(p50 {out['round_open_phones_p50_s']} s), {fetched} page fetches, "
        f"server CPU {win.server_cpu:.2f} s"
    )
    run.window_note("round open, all phones", win)

    # Every phone votes (untimed), so the results are an N-ballot round's.
    marks = run.marks
    sem = asyncio.Semaphore(200)

    async def vote(i: int, p: BrowserPhone) -> None:
        async with sem:
            async with asyncio.timeout(cfg.ack_timeout_s):
                await p.cast(rnd["id"], marks.get(i)[1])

    voted = await asyncio.gather(
        *(vote(i, p) for i, p in enumerate(phones)), return_exceptions=True
    )
    bad = sum(1 for v in voted if isinstance(v, BaseException))
    if bad:
        run.notes.append(f"round open: {bad} of {n} phones' ballots were not acked")
    await f.post(f"/console/{f.meeting_id}/rounds/{rnd['number']}/close", ("confirm", "yes"))
    await until_shown(phones, (rnd["id"], "closed", False), perf(), 60)
    for p in phones:
        p.fetches = 0

    log(f"covote: results of a {n - bad}-ballot round revealed with {n} phones")
    sampler = run.sampler("phones-reveal")
    meter = Meter(run.proc)
    t0 = perf()
    await f.post(f"/console/{f.meeting_id}/rounds/{rnd['number']}/reveal")
    last, each, late = await until_shown(phones, (rnd["id"], "closed", True), t0, 120)
    win = meter.stop()
    run.stop_sampler(sampler, "phones-reveal")
    fetched = sum(p.fetches for p in phones)
    out["reveal_all_phones_s"] = round(last, 3)
    out["reveal_phones_p50_s"] = _p50(each)
    out["reveal_fetches"] = fetched
    out["reveal_server_cpu_s"] = round(win.server_cpu, 3)
    if late:
        run.notes.append(f"reveal: {late} of {n} phones did not show it within 120 s")
    log(
        f"  all {n} phones show the results after {last:.3f} s "
        f"(p50 {out['reveal_phones_p50_s']} s), {fetched} page fetches, "
        f"server CPU {win.server_cpu:.2f} s"
    )
    run.window_note("reveal, all phones", win)


def _p50(values: list[float]) -> float | None:
    p = pct(values, 50)
    return None if p is None else round(p, 3)
