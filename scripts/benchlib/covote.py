"""Covote's scenarios, against `covote serve` in a subprocess on a fresh SQLite data dir.

Set-up goes through the console as a facilitator would (facilitator key from
COVOTE_FACILITATOR_KEY): create the demo meeting, open a round. Phones join as a browser does:
GET /m/{code} (which never joins), POST /m/{code}/join for the `covote` session cookie of a
joined voter, then WS /ws/m/{code} with it, `hello`, and
`cast {ballot_id, round, marks}` answered by an `ack` after the ballot is committed.

Order: (3) memory on the fresh process at the largest N, then (2) projector latency with
`latency_phones` connected, then (1) ingest with `ingest_phones` connected, then (4) ack latency
with `read_load_phones` casting at a steady rate, quiet and while public pages are viewed
(issue 14: reads never slow the ballot path), then (5) the bursts (burst.py): N phones
holding their sockets, released at once, then (6) `all_phones` phones joining as browsers do
and following a round opening and a reveal (benchlib/phones.py). Phones join once (cookies
are reused); each scenario connects or closes sockets to have exactly its N.
After every measured round the stored ballots are read back from the SQLite file: every acked
ballot must be there with the marks that were sent.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import secrets
import signal
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from benchlib.burst import bursts
from benchlib.clients import CastRefused, LatencyTrack, Phone, Projector, close_all, open_many
from benchlib.config import PHASES, ROOT, BenchConfig
from benchlib.phones import run_phones
from benchlib.profile import Sampler
from benchlib.survey_phones import run_survey
from benchlib.util import (
    HttpResponse,
    Meter,
    ServerProc,
    Window,
    free_port,
    http,
    log,
    ms,
    note_window,
    pct,
    rss,
)

# Settings of app/config.py that rate-limit phones (app/web/ratelimit.py); lifted for the bench.
RATE_LIMITS = (
    "limit_casts_per_voter",
    "limit_joins_per_address",
    "limit_joins_per_meeting",
    "limit_ticket_failures_per_address",
    "limit_api_per_address",
)

perf = time.perf_counter

# (4) page views unanswered at once before the client stops sending more: a server that falls
# this far behind is overloaded, and more sockets would only measure the client.
VIEWS_IN_FLIGHT = 100


@dataclass
class Casts:
    """What one window of steady casts saw."""

    acks: list[float] = field(default_factory=list)  # send -> ack, seconds
    errors: int = 0  # refused, timed out or the socket closed
    skipped: int = 0  # the phone's previous cast was still unacknowledged at its turn


@dataclass
class Views:
    """What one window of page views saw."""

    latencies: list[float] = field(default_factory=list)  # request -> full response, seconds
    failed: int = 0  # not a 200, or the connection failed
    dropped: int = 0  # not sent: VIEWS_IN_FLIGHT already unanswered


def server(cfg: BenchConfig, data_dir: Path, log_dir: Path, key: str) -> ServerProc:
    port = free_port()
    entry = (
        "benchlib.memprobe" if cfg.memprobe else "benchlib.gcprobe" if cfg.gcprobe else "app.cli"
    )
    argv = [
        sys.executable, "-m", entry, "serve",
        "--host", "127.0.0.1", "--port", str(port),
        "--data", str(data_dir),
        "--database-url", f"sqlite:///{data_dir / 'covote.db'}",
        "--public-url", f"http://127.0.0.1:{port}",
    ]  # fmt: skip
    env = {"COVOTE_FACILITATOR_KEY": key}
    # Thousands of phones join and vote from one address (127.0.0.1): lift the rate limits.
    for limit in RATE_LIMITS:
        env[f"COVOTE_{limit.upper()}"] = "1000000/minute"
    if cfg.tick_hz is not None:
        env["COVOTE_TICK_HZ"] = str(cfg.tick_hz)
    if cfg.memprobe or cfg.gcprobe:
        env["BENCH_MEMPROBE_DIR"] = str(log_dir / "memprobe")
        env["BENCH_GCPROBE_FILE"] = str(log_dir / "gc.json")
        env["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT / "scripts"), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
    return ServerProc(
        name="covote",
        argv=argv,
        port=port,
        log_path=log_dir / "covote-server.log",
        env=env,
        cwd=ROOT,
        core=cfg.server_core if cfg.pin else None,
        nice=cfg.nice,
        drop_env_prefix="COVOTE_",
    )


class Facilitator:
    """The console over HTTP, with the facilitator's cookie jar."""

    def __init__(self, port: int, key: str) -> None:
        self.port = port
        self.key = key
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.meeting_id = 0
        self.code = ""
        self.keys: list[str] = []

    async def req(
        self, method: str, path: str, form: list[tuple[str, str]] | None = None
    ) -> HttpResponse:
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = b""
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        r = await http(self.port, method, path, headers=headers, body=body)
        self.cookies.update(r.cookies())
        return r

    async def post(self, path: str, *fields: tuple[str, str]) -> HttpResponse:
        r = await self.req("POST", path, [("csrf", self.csrf), *fields])
        if r.status != 303:
            raise RuntimeError(f"POST {path}: {r.status} {r.text[:300]}")
        return r

    async def set_up(self) -> None:
        r = await self.req("GET", f"/facilitator?key={quote(self.key)}")
        if r.status != 303:
            raise RuntimeError(f"facilitator login failed: {r.status}")
        m = re.search(r'name="csrf" value="([^"]+)"', (await self.req("GET", "/console")).text)
        if not m:
            raise RuntimeError("no CSRF token on /console")
        self.csrf = m.group(1)
        r = await self.post("/console/demo")
        self.meeting_id = int((r.header("location") or "").split("/")[2])
        page = (await self.req("GET", f"/console/{self.meeting_id}")).text
        code = re.search(r'class="code">([A-Z0-9]{6})<', page)
        if not code:
            raise RuntimeError("no meeting code on the console page")
        self.code = code.group(1)
        self.keys = re.findall(r'name="proposal" value="([^"]+)"', page)
        if not self.keys:
            raise RuntimeError("no proposals on the console page")

    async def state(self) -> dict[str, Any]:
        r = await self.req("GET", f"/api/m/{self.code}")
        if r.status != 200:
            raise RuntimeError(f"GET /api/m/{self.code}: {r.status}")
        return dict(json.loads(r.body))

    async def fresh_round(self) -> dict[str, Any]:
        """Close the open round, if any, and open a new one on every proposal."""
        rnd = (await self.state())["round"]
        if rnd and rnd["status"] == "open":
            close = f"/console/{self.meeting_id}/rounds/{rnd['number']}/close"
            await self.post(close, ("confirm", "yes"))  # irreversible: sent confirmed
        await self.post(f"/console/{self.meeting_id}/rounds", *(("proposal", k) for k in self.keys))
        rnd = (await self.state())["round"]
        assert rnd and rnd["status"] == "open", rnd
        return dict(rnd)


class Marks:
    """Two ballots that differ on every proposal: phones alternate between them."""

    def __init__(self, keys: list[str]) -> None:
        a = {k: ("want" if i % 2 == 0 else "dont_want") for i, k in enumerate(keys)}
        b = {k: ("dont_want" if v == "want" else "want") for k, v in a.items()}
        self.pair = (a, b)
        self.json = (json.dumps(a, separators=(",", ":")), json.dumps(b, separators=(",", ":")))

    def get(self, i: int) -> tuple[dict[str, str], str]:
        return self.pair[i & 1], self.json[i & 1]


def stored_ballots(db: Path, round_id: int) -> dict[str, dict[str, str]]:
    con = sqlite3.connect(db, timeout=30)
    try:
        rows = con.execute(
            "SELECT ballot_uid, marks FROM ballot WHERE round_id = ?", (round_id,)
        ).fetchall()
    finally:
        con.close()
    return {uid: json.loads(marks) for uid, marks in rows}


def count_rows(db: Path) -> int:
    con = sqlite3.connect(db, timeout=30)
    try:
        return int(con.execute("SELECT count(*) FROM ballot").fetchone()[0])
    finally:
        con.close()


async def join_phone(port: int, code: str, idx: int) -> Phone:
    """One phone joins as a browser does: open the page (a GET never joins), then press Join
    (a POST). Returns the phone with the `covote` session cookie of a joined voter."""
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
    cookie = r.cookies().get("covote")
    if r.status != 303 or not cookie:
        raise RuntimeError(f"POST /m/{code}/join: {r.status}, no session cookie")
    return Phone(idx, cookie)


class Run:
    def __init__(self, cfg: BenchConfig, srv: ServerProc, data_dir: Path, key: str,
                 out: dict[str, Any], log_dir: Path) -> None:  # fmt: skip
        self.cfg = cfg
        self.srv = srv
        self.db = data_dir / "covote.db"
        self.out = out
        self.log_dir = log_dir  # scratch: server log, memprobe snapshots
        self.artifacts = cfg.results_dir or log_dir  # profiles
        self.f = Facilitator(srv.port, key)
        self.phones: list[Phone] = []
        self.projector: Projector | None = None
        self.checks = {"rounds": 0, "acked_checked": 0, "missing": 0, "wrong_marks": 0,
                       "extra_rows": 0}  # fmt: skip
        self.notes: list[str] = out.setdefault("notes", [])
        self.phases: dict[str, tuple[float, float]] = {}  # perf_counter spans, for --gcprobe
        assert srv.proc is not None
        self.proc = srv.proc

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.srv.port}/ws/m/{self.f.code}"

    def sampler(self, phase: str) -> Sampler | None:
        if not self.cfg.profile:
            return None
        stamp = self.out["meta"]["started_utc"].replace(":", "").replace("-", "")
        self.artifacts.mkdir(parents=True, exist_ok=True)
        s = Sampler(
            self.proc.pid, self.artifacts / f"{stamp}-profile-{phase}.txt", gil=self.cfg.profile_gil
        )
        s.start()
        return s

    def stop_sampler(self, s: Sampler | None, phase: str) -> None:
        if s is not None:
            summary = s.stop()
            if summary:
                self.out.setdefault("profile", {})[phase] = summary

    # --- set-up ---------------------------------------------------------------------------

    async def set_up(self) -> None:
        await self.f.set_up()
        rnd = await self.f.fresh_round()
        log(
            f"covote: meeting {self.f.code} (id {self.f.meeting_id}), round {rnd['number']} open "
            f"on {len(self.f.keys)} proposals"
        )
        self.marks = Marks(self.f.keys)
        # warm-up: one phone joins, connects, votes and leaves (lazy imports, first queries)
        p = (await self.join(1))[0]
        await p.connect(self.ws_url)
        _, _, fut = await p.send_cast(rnd["id"], *self.marks.get(0))
        async with asyncio.timeout(10):
            await fut
        await p.close()
        await asyncio.sleep(0.5)

    async def join(self, n: int) -> list[Phone]:
        sem = asyncio.Semaphore(self.cfg.join_concurrency)

        async def one(i: int) -> Phone:
            async with sem:
                return await join_phone(self.srv.port, self.f.code, i)

        return list(await asyncio.gather(*(one(i) for i in range(n))))

    async def ensure_connected(self, n: int) -> float:
        """Exactly phones[:n] connected. Returns the seconds it took to open new ones."""
        extra = [p for p in self.phones[n:] if not p.closed]
        if extra:
            log(f"  closing {len(extra)} phones")
            await close_all(extra)
        todo = [p for p in self.phones[:n] if p.closed]
        t0 = perf()
        if todo:
            log(f"  connecting {len(todo)} phones")
            _, failed = await open_many(
                len(todo),
                lambda i: todo[i].connect(self.ws_url),
                spacing_s=self.cfg.connect_spacing_s,
                what="phones connect",
            )
            if failed:
                self.notes.append(f"{failed} phone sockets failed to open")
        return perf() - t0

    def snapshots_received(self) -> int:
        """Snapshot and turnout frames received by every connected phone and the projector."""
        n = sum(p.snapshots + p.turnouts for p in self.phones if not p.closed)
        return n + (self.projector.frames if self.projector else 0)

    async def check_round(self, round_id: int, phones: list[Phone]) -> None:
        """Every acked ballot is stored, with its marks; no row we did not send."""
        rows = await asyncio.to_thread(stored_ballots, self.db, round_id)
        sent = set()
        c = self.checks
        c["rounds"] += 1
        for p in phones:
            if p.last_acked is not None:
                uid, marks = p.last_acked
                sent.add(uid)
                c["acked_checked"] += 1
                if uid not in rows:
                    c["missing"] += 1
                elif rows[uid] != marks:
                    c["wrong_marks"] += 1
            if p.unacked is not None:  # sent, ack never seen: stored or not, both are allowed
                sent.add(p.unacked[0])
        c["extra_rows"] += len(set(rows) - sent)

    # --- (3) memory -----------------------------------------------------------------------

    async def memory(self) -> None:
        cfg, out = self.cfg, self.out
        n_join = cfg.max_phones
        await self.probe()
        rss_start = rss(self.proc)
        log(f"covote: joining {n_join} phones (GET /m/{{code}}, POST join)")
        t0 = perf()
        self.phones = await self.join(n_join)
        join_s = perf() - t0
        out["memory_join_per_s"] = round(n_join / join_s, 1)  # join_per_s: benchlib/phones.py
        log(f"  {n_join / join_s:,.0f} joins/s")
        await asyncio.sleep(0.5)
        await self.probe()
        rss_joined = rss(self.proc)

        n = cfg.memory_phones
        log(f"covote: memory, connecting {n} phones (hello on open)")
        sampler = self.sampler("connect")
        meter = Meter(self.proc)
        connect_s = await self.ensure_connected(n)
        await asyncio.sleep(cfg.settle_s)
        win = meter.stop()
        self.phases["connect"] = (meter.t0, meter.t0 + win.wall)
        self.stop_sampler(sampler, "connect")
        rss_connected = rss(self.proc)
        await self.probe()
        if cfg.memprobe:
            self.memprobe_report(n_join, n)
        out["connect_s"] = round(connect_s, 2)
        out["connect_server_cpu_s"] = round(win.server_cpu, 2)
        out["connect_client_util"] = round(win.client_util, 3)

        # a few seconds of traffic: the round changes once a second (a full snapshot to every
        # phone each time), while one phone re-votes (turnout frames to screens)
        log(f"covote: memory, {cfg.traffic_s:g} s of round changes and votes with {n} phones")
        frames0 = self.snapshots_received()
        meter = Meter(self.proc)
        await asyncio.gather(
            self.churn_for(cfg.traffic_s, per_s=1.0),
            self.recast_for(self.phones[0], cfg.traffic_s, per_s=10.0),
        )
        await asyncio.sleep(0.3)
        twin = meter.stop()
        self.phases["traffic"] = (meter.t0, meter.t0 + twin.wall)
        frames = self.snapshots_received() - frames0
        rss_traffic = rss(self.proc)
        out["phones"] = n
        out["memory_phones"] = n
        out["rss_start_mib"] = round(rss_start / 2**20, 1)
        out["rss_joined_mib"] = round(rss_joined / 2**20, 1)
        out["rss_connected_mib"] = round(rss_connected / 2**20, 1)
        out["rss_traffic_mib"] = round(rss_traffic / 2**20, 1)
        out["kib_per_phone"] = round((rss_connected - rss_start) / 1024 / n, 2)
        out["kib_per_phone_socket_only"] = round((rss_connected - rss_joined) / 1024 / n, 2)
        out["kib_per_phone_after_traffic"] = round((rss_traffic - rss_start) / 1024 / n, 2)
        # issue 14: memory per phone at 10,000 phones (full run), the sockets alone (the bare
        # baseline joins no one) and the higher of connected and after traffic
        out["phones_10k_phones"] = n
        out["phones_10k_kib_per_phone"] = round(
            (max(rss_connected, rss_traffic) - rss_joined) / 1024 / n, 2
        )
        out["traffic_frames_per_s"] = round(frames / twin.wall, 1)
        out["traffic_server_util"] = round(twin.server_util, 3)
        out["traffic_client_util"] = round(twin.client_util, 3)
        log(
            f"  RSS start {rss_start / 2**20:.1f} MiB, joined {rss_joined / 2**20:.1f}, "
            f"connected {rss_connected / 2**20:.1f}, after traffic {rss_traffic / 2**20:.1f}: "
            f"{out['kib_per_phone']} KiB per phone "
            f"({out['kib_per_phone_socket_only']} socket only); "
            f"connect took {connect_s:.1f} s, {win.server_cpu:.1f} s server CPU"
        )
        log(
            f"  traffic: {frames / twin.wall:,.0f} snapshots/s received, server "
            f"{twin.server_util:.0%}, client {twin.client_util:.0%}"
        )
        self.window_note("memory traffic", twin)

    async def probe(self) -> None:
        """--memprobe: ask the server for a tracemalloc snapshot and wait for it."""
        if not self.cfg.memprobe:
            return
        d = self.log_dir / "memprobe"
        n = len(list(d.glob("*.tracemalloc"))) if d.exists() else 0
        self.proc.send_signal(signal.SIGUSR1)
        async with asyncio.timeout(120):
            while not (d / f"{n}.tracemalloc").exists():
                await asyncio.sleep(0.1)

    def memprobe_report(self, joined: int, connected: int) -> None:
        from benchlib.memprobe import compare

        d = self.log_dir / "memprobe"
        report = ["per joined phone (GET /m/{code}, POST join), start -> joined:"]
        report += compare(d / "0.tracemalloc", d / "1.tracemalloc", joined)
        report += ["", "per connected phone (socket, hello), joined -> connected:"]
        report += compare(d / "1.tracemalloc", d / "2.tracemalloc", connected)
        (d / "report.txt").write_text("\n".join(report) + "\n")
        self.out["memprobe"] = report
        for line in report:
            log("  " + line)
        self.notes.append("memprobe: the server ran under tracemalloc; RSS figures are inflated")

    async def recast_for(self, phone: Phone, seconds: float, per_s: float) -> int:
        """One phone re-votes `per_s` times a second (the round may change meanwhile)."""
        rid = (await self.f.state())["round"]["id"]
        end = perf() + seconds
        i = 0
        while perf() < end:
            t = perf()
            _, _, fut = await phone.send_cast(rid, *self.marks.get(i))
            try:
                async with asyncio.timeout(self.cfg.ack_timeout_s):
                    await fut
                phone.acked()
            except CastRefused:  # the round closed: vote in the new one
                phone.unacked = None
                rid = (await self.f.state())["round"]["id"]
            i += 1
            await asyncio.sleep(max(0.0, 1.0 / per_s - (perf() - t)))
        return i

    # --- (2) cast-to-projector latency ----------------------------------------------------

    async def latency(self) -> None:
        cfg, out = self.cfg, self.out
        n = cfg.latency_phones
        log(f"covote: latency, {n} phones connected")
        self.projector = await Projector().connect(self.ws_url)
        proj = self.projector
        await proj.wait_for(lambda s: True, 10)

        # fan-out cost: the facilitator closes the round and opens a new one a few times a second
        # (each change is a full snapshot to every socket), with 2 sockets and with n + 1; per
        # change, the difference is the cost of the extra frames alone.
        await self.ensure_connected(1)
        small, small_frames, small_changes = await self.fanout_window(2)
        await self.ensure_connected(n)
        sampler = self.sampler("fanout")
        big, big_frames, big_changes = await self.fanout_window(n + 1)
        self.stop_sampler(sampler, "fanout")
        cpu_small, cpu_big = small.server_cpu / small_changes, big.server_cpu / big_changes
        fr_small, fr_big = small_frames / small_changes, big_frames / big_changes
        marginal = (cpu_big - cpu_small) / (fr_big - fr_small) * 1e6 if fr_big > fr_small else None
        out["snapshot_bytes"] = proj.frame_bytes
        out["fanout_conns"] = n + 1
        out["fanout_frames_per_change"] = round(fr_big, 1)
        out["fanout_us_per_frame"] = None if marginal is None else round(marginal, 2)
        out["round_change_cpu_ms"] = round(cpu_big * 1e3, 1)
        out["round_change_cpu_ms_2_sockets"] = round(cpu_small * 1e3, 1)
        out["fanout_server_util"] = round(big.server_util, 3)
        out["fanout_client_util"] = round(big.client_util, 3)
        log(
            f"  fan-out: {fr_big:,.0f} frames per round change to {n + 1} sockets, "
            f"{out['fanout_us_per_frame']} µs server CPU per extra frame of {proj.frame_bytes} B; "
            f"a round change costs {out['round_change_cpu_ms']} ms server CPU "
            f"({out['round_change_cpu_ms_2_sockets']} ms with 2 sockets); "
            f"server {big.server_util:.0%}, client {big.client_util:.0%}"
        )
        self.window_note("fan-out", big)

        # open loop: ballot i from phone i (a first vote in a fresh round) at `rate` per second
        lat: list[float] = []
        acks: list[float] = []
        late: list[float] = []
        gaps: list[float] = []  # between projector snapshots: the tick period achieved
        windows: list[Window] = []
        errors = 0
        sampler = self.sampler("latency")
        for r in range(cfg.latency_rounds):
            rnd = await self.f.fresh_round()
            rid = rnd["id"]

            def fresh(s: dict[str, Any], rid: int = rid) -> bool:
                return bool(s["round"]) and s["round"]["id"] == rid and s["turnout"]["voted"] == 0

            await proj.wait_for(
                fresh,
                10,
            )
            await asyncio.sleep(0.3)  # the new round's snapshot reaches every phone
            phones = self.phones[:n]
            for p in phones:
                p.last_acked = p.unacked = None
            track = LatencyTrack(rid, n)
            proj.track = track
            proj.arrivals = []
            log(
                f"  round {rnd['number']}: {n} first ballots at {cfg.rate:g}/s "
                f"({n / cfg.rate:.1f} s)"
            )
            meter = Meter(self.proc)
            pending = []
            start = perf() + 0.01
            for i, p in enumerate(phones):
                due = start + i / cfg.rate
                wait = due - perf()
                if wait > 0:
                    await asyncio.sleep(wait)
                t = perf()
                late.append(t - due)
                track.t_send[i] = t
                marks, mj = self.marks.get(i)
                _, _, fut = await p.send_cast(rid, marks, mj)
                pending.append((p, t, fut))
            results: list[Any]
            try:
                async with asyncio.timeout(cfg.ack_timeout_s):
                    results = await asyncio.gather(*(f for _, _, f in pending),
                                                   return_exceptions=True)  # fmt: skip
                    await track.done.wait()
            except TimeoutError:
                self.notes.append(f"latency round {r + 1}: timed out waiting for acks/projector")
                results = [
                    f.result() if f.done() and not f.cancelled() and f.exception() is None
                    else None
                    for _, _, f in pending
                ]  # fmt: skip
            windows.append(meter.stop())
            self.phases[f"latency-{r + 1}"] = (meter.t0, meter.t0 + windows[-1].wall)
            proj.track = None
            gaps += [b - a for a, b in itertools.pairwise(proj.arrivals)]
            proj.arrivals = None
            for (p, t, _), res in zip(pending, results, strict=True):
                if isinstance(res, float):
                    acks.append(res - t)
                    p.acked()
                else:
                    errors += 1
            lat += track.latencies
            await self.check_round(rid, phones)
            log(
                f"    projector p50 {ms(pct(track.latencies, 50))} / p99 "
                f"{ms(pct(track.latencies, 99))} ms over {len(track.latencies)} ballots"
            )
        self.stop_sampler(sampler, "latency")
        win = windows[0]
        for w in windows[1:]:
            win = win + w
        out["latency_phones"] = n
        out["latency_rate_per_s"] = cfg.rate
        out["latency_samples"] = len(lat)
        out["projector_p50_ms"] = ms(pct(lat, 50))
        out["projector_p99_ms"] = ms(pct(lat, 99))
        out["projector_max_ms"] = ms(max(lat)) if lat else None
        out["latency_ack_p50_ms"] = ms(pct(acks, 50))
        out["latency_ack_p99_ms"] = ms(pct(acks, 99))
        out["latency_send_late_p99_ms"] = ms(pct(late, 99))
        out["projector_interval_p50_ms"] = ms(pct(gaps, 50))
        out["projector_interval_p99_ms"] = ms(pct(gaps, 99))
        out["latency_errors"] = errors
        out["latency_server_util"] = round(win.server_util, 3)
        out["latency_client_util"] = round(win.client_util, 3)
        log(
            f"  projector p50 {out['projector_p50_ms']} / p99 {out['projector_p99_ms']} ms, "
            f"ack p50 {out['latency_ack_p50_ms']} / p99 {out['latency_ack_p99_ms']} ms, "
            f"projector frames every {out['projector_interval_p50_ms']} ms (p50) / "
            f"{out['projector_interval_p99_ms']} ms (p99), "
            f"server {win.server_util:.0%}, client {win.client_util:.0%}"
        )
        self.window_note("latency", win)
        if late and (pct(late, 99) or 0) > 0.02:
            self.notes.append(
                f"latency: the client sent late (p99 {ms(pct(late, 99))} ms behind schedule); "
                "the offered rate was not fully met"
            )

    async def fanout_window(self, sockets: int) -> tuple[Window, int, int]:
        """(window, frames received, round changes) while the round changes 4 times a second."""
        cfg = self.cfg
        log(
            f"  fan-out with {sockets} sockets: round changes at 4/s for "
            f"{cfg.warmup_s:g}+{cfg.fanout_s:g} s"
        )
        await self.churn_for(cfg.warmup_s, per_s=4.0)
        await asyncio.sleep(0.3)
        frames0 = self.snapshots_received()
        meter = Meter(self.proc)
        changes = await self.churn_for(cfg.fanout_s, per_s=4.0)
        await asyncio.sleep(0.3)  # the last change reaches every socket
        win = meter.stop()
        self.phases[f"fanout-{sockets}"] = (meter.t0, meter.t0 + win.wall)
        return win, self.snapshots_received() - frames0, max(1, changes)

    async def churn_for(self, seconds: float, per_s: float) -> int:
        """Close the round and open a new one `per_s` times a second, as the facilitator."""
        end = perf() + seconds
        n = 0
        while perf() < end:
            t = perf()
            await self.f.fresh_round()
            n += 1
            await asyncio.sleep(max(0.0, 1.0 / per_s - (perf() - t)))
        return n

    # --- (1) ingest -----------------------------------------------------------------------

    async def ingest(self) -> None:
        cfg, out = self.cfg, self.out
        n = cfg.ingest_phones
        log(
            f"covote: ingest, {n} phones casting in a closed loop, "
            f"{cfg.warmup_s:g}+{cfg.ingest_s:g} s"
        )
        await self.ensure_connected(n)
        rnd = await self.f.fresh_round()
        rid = rnd["id"]
        if self.projector is not None:
            await self.projector.wait_for(
                lambda s: bool(s["round"]) and s["round"]["id"] == rid, 10
            )
        await asyncio.sleep(0.3)
        phones = self.phones[:n]
        for p in phones:
            p.last_acked = p.unacked = None
        stop = False
        measuring = False
        rtts: list[float] = []
        refused = 0
        timeouts = 0

        async def loop(p: Phone) -> None:
            nonlocal refused, timeouts
            i = p.idx
            while not stop and not p.closed:
                _, t0, fut = await p.send_cast(rid, *self.marks.get(i))
                try:
                    async with asyncio.timeout(cfg.ack_timeout_s):
                        t1 = await fut
                except TimeoutError:
                    timeouts += 1
                    return
                except Exception:
                    refused += 1
                    continue
                p.acked()
                if measuring:
                    rtts.append(t1 - t0)
                i += 1

        tasks = [asyncio.create_task(loop(p)) for p in phones]
        await asyncio.sleep(cfg.warmup_s)
        sampler = self.sampler("ingest")
        frames0 = self.snapshots_received()
        meter = Meter(self.proc)
        measuring = True
        await asyncio.sleep(cfg.ingest_s)
        measuring = False
        win = meter.stop()
        self.phases["ingest"] = (meter.t0, meter.t0 + win.wall)
        frames = self.snapshots_received() - frames0
        self.stop_sampler(sampler, "ingest")
        stop = True
        log("  draining: waiting for the acks in flight")
        async with asyncio.timeout(cfg.ack_timeout_s + 10):
            await asyncio.gather(*tasks, return_exceptions=True)
        await self.check_round(rid, phones)
        per_s = len(rtts) / win.wall
        out["ingest_phones"] = n
        out["ingest_per_s"] = round(per_s, 1)
        out["ack_p50_ms"] = ms(pct(rtts, 50))
        out["ack_p99_ms"] = ms(pct(rtts, 99))
        out["ack_max_ms"] = ms(max(rtts)) if rtts else None
        out["server_cpu_us_per_ballot"] = (
            round(win.server_cpu / len(rtts) * 1e6, 1) if rtts else None
        )
        out["ingest_server_util"] = round(win.server_util, 3)
        out["ingest_client_util"] = round(win.client_util, 3)
        out["ingest_snapshots_per_s"] = round(frames / win.wall, 1)
        out["ingest_refused"] = refused
        out["ingest_timeouts"] = timeouts
        log(
            f"  {per_s:,.0f} ballots/s acked, ack p50 {out['ack_p50_ms']} / p99 "
            f"{out['ack_p99_ms']} ms, {out['server_cpu_us_per_ballot']} µs server CPU per ballot, "
            f"server {win.server_util:.0%}, client {win.client_util:.0%}"
        )
        self.window_note("ingest", win)
        if refused or timeouts:
            self.notes.append(f"ingest: {refused} casts refused, {timeouts} acks timed out")

    # --- (4) ack latency under read load --------------------------------------------------

    async def read_load(self) -> None:
        """Phones cast at a steady offered rate (open loop, in turn): ack p50/p99 over a quiet
        window, then over a window in which public pages are viewed at `read_load_views_per_s`
        (the phone page and the API state as joined phones, the projector page). The ratio of
        the two p99s is what page views cost the ballot path."""
        cfg, out = self.cfg, self.out
        n = cfg.read_load_phones
        log(
            f"covote: read load, {n} phones casting {cfg.read_load_cast_per_s:g}/s, quiet then "
            f"with {cfg.read_load_views_per_s:g} page views/s, {cfg.read_load_s:g} s each"
        )
        await self.ensure_connected(n)
        rnd = await self.f.fresh_round()
        rid = rnd["id"]
        await asyncio.sleep(0.3)  # the new round's snapshot reaches every phone
        phones = self.phones[:n]
        for p in phones:
            p.last_acked = p.unacked = None
        await self.steady_casts(phones, rid, min(cfg.warmup_s, 1.0))  # warm-up, not measured
        quiet, qwin, _ = await self.steady_casts(phones, rid, cfg.read_load_s)
        sampler = self.sampler("reads")
        loaded, lwin, views = await self.steady_casts(
            phones, rid, cfg.read_load_s, views_per_s=cfg.read_load_views_per_s
        )
        self.stop_sampler(sampler, "reads")
        await self.check_round(rid, phones)
        assert views is not None
        out["read_load_phones"] = n
        out["read_load_cast_per_s"] = cfg.read_load_cast_per_s
        out["read_load_views_per_s"] = cfg.read_load_views_per_s
        out["read_load_quiet_ack_p50_ms"] = ms(pct(quiet.acks, 50))
        out["read_load_quiet_ack_p99_ms"] = ms(pct(quiet.acks, 99))
        out["read_load_ack_p50_ms"] = ms(pct(loaded.acks, 50))
        out["read_load_ack_p99_ms"] = ms(pct(loaded.acks, 99))
        out["read_load_acks"] = [len(quiet.acks), len(loaded.acks)]
        out["read_load_cast_errors"] = quiet.errors + loaded.errors
        out["read_load_casts_skipped"] = quiet.skipped + loaded.skipped
        out["read_load_views_served_per_s"] = round(len(views.latencies) / lwin.wall, 1)
        out["read_load_view_p50_ms"] = ms(pct(views.latencies, 50))
        out["read_load_view_p99_ms"] = ms(pct(views.latencies, 99))
        out["read_load_views_failed"] = views.failed
        out["read_load_views_dropped"] = views.dropped
        out["read_load_quiet_server_util"] = round(qwin.server_util, 3)
        out["read_load_server_util"] = round(lwin.server_util, 3)
        out["read_load_client_util"] = round(lwin.client_util, 3)
        log(
            f"  quiet: ack p50 {out['read_load_quiet_ack_p50_ms']} / p99 "
            f"{out['read_load_quiet_ack_p99_ms']} ms, server {qwin.server_util:.0%}"
        )
        log(
            f"  with {out['read_load_views_served_per_s']:,.0f} page views/s served (p50 "
            f"{out['read_load_view_p50_ms']} / p99 {out['read_load_view_p99_ms']} ms): ack p50 "
            f"{out['read_load_ack_p50_ms']} / p99 {out['read_load_ack_p99_ms']} ms, server "
            f"{lwin.server_util:.0%}, client {lwin.client_util:.0%}"
        )
        self.window_note("read load quiet", qwin)
        self.window_note("read load", lwin)
        if quiet.errors or loaded.errors or views.failed or views.dropped:
            self.notes.append(
                f"read load: {quiet.errors + loaded.errors} casts failed, {views.failed} page "
                f"views failed, {views.dropped} not sent ({VIEWS_IN_FLIGHT} already in flight)"
            )
        if quiet.skipped or loaded.skipped:
            self.notes.append(
                f"read load: {quiet.skipped + loaded.skipped} casts not sent (the phone's "
                "previous cast was still unacknowledged); the offered rate was not fully met"
            )

    async def steady_casts(
        self, phones: list[Phone], round_id: int, seconds: float, views_per_s: float = 0.0
    ) -> tuple[Casts, Window, Views | None]:
        """Casts at `read_load_cast_per_s` for `seconds`, phones in turn (a phone whose last
        cast is unacknowledged skips its turn); page views alongside if `views_per_s`."""
        rate = self.cfg.read_load_cast_per_s
        casts = Casts()
        tasks: list[asyncio.Task[None]] = []

        async def one(p: Phone, k: int) -> None:
            _, t, fut = await p.send_cast(round_id, *self.marks.get(k))
            try:
                async with asyncio.timeout(self.cfg.ack_timeout_s):
                    t1 = await fut
            except (TimeoutError, CastRefused, ConnectionError):
                casts.errors += 1
                return
            p.acked()
            casts.acks.append(t1 - t)

        views = Views() if views_per_s else None
        meter = Meter(self.proc)
        start = perf()
        viewing = (
            asyncio.create_task(self.page_views(views, phones, views_per_s, start, seconds))
            if views is not None
            else None
        )
        total = int(seconds * rate)
        for i in range(total):
            wait = start + i / rate - perf()
            if wait > 0:
                await asyncio.sleep(wait)
            p = phones[i % len(phones)]
            if p.waiting is not None:
                casts.skipped += 1
                continue
            # alternate each phone's marks, so every cast after its first changes its ballot
            tasks.append(asyncio.create_task(one(p, p.idx + i // len(phones))))
        if viewing is not None:
            await viewing
        await asyncio.gather(*tasks)
        win = meter.stop()
        return casts, win, views

    async def page_views(
        self, views: Views, phones: list[Phone], per_s: float, start: float, seconds: float
    ) -> None:
        """GET public pages at `per_s` from `start` for `seconds`, open loop, each on its own
        connection: the phone page and the API state (as joined phones) and the projector page
        in turn. A view is not sent while VIEWS_IN_FLIGHT are unanswered (counted as dropped)."""
        code = self.f.code
        inflight: set[asyncio.Task[None]] = set()

        async def one(path: str, cookie: str | None) -> None:
            headers = {"Cookie": f"covote={cookie}"} if cookie else {}
            t = perf()
            try:
                r = await http(self.srv.port, "GET", path, headers=headers, timeout=10.0)
            except (OSError, TimeoutError):
                views.failed += 1
                return
            if r.status != 200:
                views.failed += 1
                return
            views.latencies.append(perf() - t)

        for i in range(int(seconds * per_s)):
            wait = start + i / per_s - perf()
            if wait > 0:
                await asyncio.sleep(wait)
            if len(inflight) >= VIEWS_IN_FLIGHT:
                views.dropped += 1
                continue
            p = phones[i % len(phones)]
            path, cookie = (
                (f"/m/{code}", p.cookie),
                (f"/api/m/{code}", p.cookie),
                (f"/p/{code}", None),
            )[i % 3]
            task = asyncio.create_task(one(path, cookie))
            inflight.add(task)
            task.add_done_callback(inflight.discard)
        await asyncio.gather(*inflight)

    def window_note(self, phase: str, win: Window) -> None:
        note_window(self.out, phase, win)

    async def finish(self) -> None:
        items: list[Any] = [p for p in self.phones if not p.closed]
        if self.projector is not None:
            items.append(self.projector)
        await close_all(items)
        c = self.checks
        self.out["stored_check"] = dict(c)
        self.out["all_acked_stored"] = (
            c["acked_checked"] > 0 and c["missing"] == 0 and c["wrong_marks"] == 0
            and c["extra_rows"] == 0
        )  # fmt: skip
        self.out["acked_checked"] = c["acked_checked"]
        self.out["phones_dropped"] = Phone.dropped
        if Phone.dropped:
            self.notes.append(f"{Phone.dropped} phone sockets were closed by the server")


async def run(cfg: BenchConfig, srv: ServerProc, data_dir: Path, key: str,
              out: dict[str, Any], log_dir: Path,
              phases: dict[str, tuple[float, float]] | None = None) -> Run:  # fmt: skip
    Phone.dropped = 0
    r = Run(cfg, srv, data_dir, key, out, log_dir)
    if phases is not None:
        r.phases = phases
    await r.set_up()
    try:
        chosen = cfg.only or PHASES
        if "memory" in chosen:
            await r.memory()
        if {"latency", "ingest", "reads"} & set(chosen) and not r.phones:
            r.phones = await r.join(cfg.max_phones)
        if "latency" in chosen:
            await r.latency()
        if "ingest" in chosen:
            await r.ingest()
        if "reads" in chosen:
            await r.read_load()
        if "bursts" in chosen:
            await bursts(r)
        if "phones" in chosen:
            await run_phones(r)
        if cfg.runs("survey"):
            await run_survey(r)
    finally:
        await r.finish()
    return r


def new_key() -> str:
    return secrets.token_urlsafe(18)
