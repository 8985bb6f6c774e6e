"""(8) Scale-out, measured (issue 14): `scaleout_processes` (3) `covote serve` processes over one
PostgreSQL database and Redis, `scaleout_phones` phones spread across them (phone i joins and
connects on process i mod 3), the projector on the first.

- `scaleout_projector_p50_ms` / `scaleout_projector_p99_ms`: cast-to-projector latency in a fresh
  round, every phone casting once at `rate` ballots/s offered, measured as phase (2) measures it
  for one process (LatencyTrack): a ballot cast on B reaches A's projector through the commit in
  PostgreSQL, B's signal through Redis and A's render. `scaleout_projector_p99_ratio` is that
  over phase (2)'s `projector_p99_ms` of the same run (target <= 1.5); there is none when phase
  (2) did not run (`--only scaleout`; `--only latency,scaleout` measures both).
- A process killed mid-vote: in a second fresh round the phones cast at the same rate; halfway
  through, the last process gets SIGKILL (no shutdown code runs, as when a machine dies). Its
  phones do what the phone page does (app/static/shared/live.js): reconnect after the first
  backoff (0.25-0.5 s) to a live process (as a load balancer would send them), `hello`, and once
  the snapshot has arrived resend the unacknowledged ballot with the same ballot id, or cast the
  one they had not sent yet. `scaleout_resync_s`: from the kill until every one of those phones
  has a snapshot from another process; `scaleout_resync_acked_s`: until each has its ballot
  acknowledged. The round's ballots are then read back from PostgreSQL: `scaleout_acked`
  ballots were acknowledged, `scaleout_lost` of them are not stored with the marks that were
  sent (must be 0), and the projector must come to show every stored ballot.

The database is created for the run (`covote_bench_<hex>` beside `scaleout_pg`) and dropped
afterwards with its connections; Redis is a private `redis-server` on a free port (or
`scaleout_redis`). Without PostgreSQL or Redis the phase is skipped with the reason in the notes.
The load client stays as cheap as the other phases' (raw websockets, benchlib/clients.py) and
the servers share the server core when pinned: on a 2-core machine this measures the
cross-process path (commit, signal, re-read, render), not more capacity.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed

from benchlib.clients import (
    HANDSHAKE_ERRORS,
    LatencyTrack,
    Phone,
    Projector,
    VotedLog,
    close_all,
    open_many,
)
from benchlib.cluster import (
    PrivateRedis,
    ProcGroup,
    create_database,
    drop_database,
    pg_backends,
    pg_unavailable,
    processes,
    redis_ping,
    servers,
    stored_ballots,
)
from benchlib.config import BenchConfig
from benchlib.covote import Facilitator, Marks, join_phone
from benchlib.util import Meter, ServerProc, log, ms, note_window, pct, rss

perf = time.perf_counter

# The phone page's reconnect backoff (app/static/shared/live.js BACKOFF_FIRST_MS, _CAP_MS): the
# n-th retry waits a uniform time in [cap/2, cap], cap = 0.5 s doubling up to 10 s.
BACKOFF_FIRST_S = 0.5
BACKOFF_CAP_S = 10.0
RECONNECT_TRIES = 8  # 0.5 + 1 + 2 + 4 + 8 + 10 + 10 + 10 s: a phone still out by then is lost


async def run(cfg: BenchConfig, work: Path, out: dict[str, Any]) -> None:
    """Set up PostgreSQL, Redis and the processes, measure, and always tear them down."""
    notes: list[str] = out.setdefault("notes", [])
    reason = await asyncio.to_thread(pg_unavailable, cfg.scaleout_pg)
    private: PrivateRedis | None = None
    redis_url = cfg.scaleout_redis
    if reason is None and redis_url is None:
        if shutil.which("redis-server"):
            private = PrivateRedis(work, cfg.server_core if cfg.pin else None)
        elif await redis_ping("redis://127.0.0.1:6379/0"):
            redis_url = "redis://127.0.0.1:6379/0"
            notes.append("scale-out: no redis-server program; used the shared Redis on 6379")
        else:
            reason = "no redis-server program and no Redis on 127.0.0.1:6379"
    elif reason is None and redis_url is not None and not await redis_ping(redis_url):
        reason = f"Redis not reachable at {redis_url}"
    if reason is not None:
        out["scaleout_skipped"] = reason
        notes.append(f"scale-out: skipped, {reason}")
        log(f"scaleout: skipped, {reason}")
        return
    work.mkdir(parents=True, exist_ok=True)
    procs: list[ServerProc] = []
    name, db_url = await asyncio.to_thread(create_database, cfg.scaleout_pg)
    out["scaleout_database"] = name  # dropped at the end of the phase
    try:
        if private is not None:
            private.start()
            await private.wait_ready()
            redis_url = private.url
        assert redis_url is not None
        key = secrets.token_urlsafe(18)
        procs = servers(cfg, work, db_url, redis_url, key)
        log(
            f"scaleout: starting {len(procs)} `covote serve` processes on database {name} and "
            f"{'a private' if private else 'the given'} Redis"
        )
        for p in procs:  # at once: they take turns at the migrations (an advisory lock)
            p.start()
        for p in procs:
            await p.wait_ready(120)
        out["scaleout_redis"] = "private" if private is not None else redis_url
        redis_pid = private.popen.pid if private is not None and private.popen else None

        def support() -> list[int]:  # the database's backends and the private Redis
            return pg_backends(cfg.scaleout_pg, name) + ([redis_pid] if redis_pid else [])

        s = ScaleOut(cfg, out, procs, key, db_url, support, redis_pid is not None)
        try:
            async with asyncio.timeout(cfg.scaleout_time_limit_s):
                await s.measure()
        finally:
            await s.close()
    finally:
        for p in procs:
            rc = p.stop()
            if rc not in (0, None, -2, -9, -15):
                notes.append(f"scale-out: {p.name} exited with {rc}; log tail: {p.tail(5)}")
        if private is not None:
            private.stop()
        with contextlib.suppress(Exception):
            await asyncio.to_thread(drop_database, cfg.scaleout_pg, name)


class ScaleOut:
    def __init__(self, cfg: BenchConfig, out: dict[str, Any], procs: list[ServerProc],
                 key: str, db_url: str, support: Callable[[], list[int]],
                 has_redis: bool) -> None:  # fmt: skip
        self.cfg, self.out, self.procs, self.db_url = cfg, out, procs, db_url
        self.support = support  # () -> pids of PostgreSQL's backends for the run and of Redis
        self.has_redis = has_redis
        self.notes: list[str] = out.setdefault("notes", [])
        self.f = Facilitator(procs[0].port, key)
        self.phones: list[Phone] = []
        self.home: dict[int, int] = {}  # phone idx -> the process it is connected to
        self.projector: Projector | None = None
        self.marks: Marks | None = None
        self.servers = ProcGroup([p.proc for p in procs])
        self.resync_failures: dict[str, int] = {}  # why a resynced phone's ballot was not acked

    def ws_url(self, i: int) -> str:
        return f"ws://127.0.0.1:{self.procs[i].port}/ws/m/{self.f.code}"

    async def measure(self) -> None:
        cfg, out = self.cfg, self.out
        k = len(self.procs)
        await self.f.set_up()
        first = await self.f.fresh_round()
        self.marks = Marks(self.f.keys)
        n = cfg.scaleout_phones
        log(f"scaleout: joining {n:,} phones, spread across {k} processes")
        sem = asyncio.Semaphore(cfg.join_concurrency * k)

        async def one(i: int) -> Phone:
            async with sem:
                return await join_phone(self.procs[i % k].port, self.f.code, i)

        t0 = perf()
        self.phones = list(await asyncio.gather(*(one(i) for i in range(n))))
        out["scaleout_join_per_s"] = round(n / (perf() - t0), 1)
        log(f"  {out['scaleout_join_per_s']:,.0f} joins/s")

        self.projector = await Projector().connect(self.ws_url(0))
        await self.projector.wait_for(lambda s: True, 10)
        log(f"scaleout: connecting {n:,} phones, the projector on process A")
        t0 = perf()
        _, failed = await open_many(
            n,
            lambda i: self.phones[i].connect(self.ws_url(i % k)),
            spacing_s=cfg.connect_spacing_s,
            what="phones connect",
            # about 150 sockets/s over PostgreSQL on a busy 2-core machine: room for 30/s
            timeout=max(120.0, n / 30),
        )
        out["scaleout_connect_s"] = round(perf() - t0, 2)
        if failed:
            self.notes.append(f"scale-out: {failed} phone sockets failed to open")
        for p in self.phones:
            self.home[p.idx] = p.idx % k
        live = [p for p in self.phones if not p.closed]
        # warm-up: one ballot through each process (lazy imports, first queries)
        for i in range(min(k, len(live))):
            _, _, fut = await live[i].send_cast(first["id"], *self.marks.get(i))
            async with asyncio.timeout(cfg.ack_timeout_s):
                await fut
        await asyncio.sleep(0.5)
        out["scaleout_processes"] = k
        out["scaleout_phones"] = len(live)
        out["scaleout_rss_mib"] = [round(rss(p.proc) / 2**20, 1) for p in self.procs]
        await self.latency(live)
        # What the console's "N screens and phones connected" says on process A after the
        # round's ballots (every process has rendered the meeting since): every phone and the
        # projector are connected. Before app/live/presence.py it counted A's sockets only.
        assert self.projector is not None and self.projector.last is not None
        out["scaleout_connected_shown"] = self.projector.last["turnout"].get("connected")
        out["scaleout_connected"] = sum(1 for p in live if not p.closed) + 1
        await self.kill_mid_vote(live)

    async def fresh_round(self) -> int:
        """A new round, shown on the projector, and a moment for it to reach every phone."""
        assert self.projector is not None
        rid = int((await self.f.fresh_round())["id"])

        def fresh(s: dict[str, Any]) -> bool:
            return bool(s["round"]) and s["round"]["id"] == rid and s["turnout"]["voted"] == 0

        await self.projector.wait_for(fresh, 15)
        await asyncio.sleep(0.5 + len(self.phones) / 10_000)  # ~0.1 ms per phone to send
        return rid

    async def latency(self, phones: list[Phone]) -> None:
        """Every phone casts once, at `rate` per second in turn: cast-to-projector latency."""
        cfg, out, proj = self.cfg, self.out, self.projector
        assert proj is not None and self.marks is not None
        n = len(phones)
        rid = await self.fresh_round()
        log(
            f"scaleout: projector latency, {n:,} first ballots at {cfg.rate:g}/s "
            f"({n / cfg.rate:.1f} s) over {len(self.procs)} processes"
        )
        for p in phones:
            p.last_acked = p.unacked = None
        track = LatencyTrack(rid, n)
        proj.track = track
        support = ProcGroup(processes(await asyncio.to_thread(self.support)))
        # everything serving the vote: the processes, PostgreSQL's backends, Redis
        meter = Meter(ProcGroup(self.servers.procs + support.procs))
        covote0 = cpu_of(self.servers)
        pending: list[tuple[float, asyncio.Future[float]]] = []
        late: list[float] = []
        start = perf() + 0.01
        for i, p in enumerate(phones):
            due = start + i / cfg.rate
            if (wait := due - perf()) > 0:
                await asyncio.sleep(wait)
            t = perf()
            late.append(t - due)
            track.t_send[i] = t
            _, _, fut = await p.send_cast(rid, *self.marks.get(i))
            self._on_ack(p, fut)
            pending.append((t, fut))
        try:
            async with asyncio.timeout(cfg.ack_timeout_s):
                await asyncio.gather(*(f for _, f in pending), return_exceptions=True)
                await track.done.wait()
        except TimeoutError:
            self.notes.append("scale-out latency: timed out waiting for acks/projector")
        win = meter.stop()
        proj.track = None
        acks = [f.result() - t for t, f in pending if _ok(f)]
        errors = sum(1 for _, f in pending if not _ok(f))
        covote_cpu = cpu_of(self.servers) - covote0
        out["scaleout_pg_connections"] = len(support.procs) - (1 if self.has_redis else 0)
        stored = await asyncio.to_thread(stored_ballots, self.db_url, rid)
        lost = sum(
            1 for p in phones if p.last_acked and stored.get(p.last_acked[0]) != p.last_acked[1]
        )
        out["scaleout_rate_per_s"] = cfg.rate
        out["scaleout_samples"] = len(track.latencies)
        out["scaleout_projector_p50_ms"] = ms(pct(track.latencies, 50))
        out["scaleout_projector_p99_ms"] = ms(pct(track.latencies, 99))
        out["scaleout_projector_max_ms"] = ms(max(track.latencies, default=None))
        out["scaleout_ack_p50_ms"] = ms(pct(acks, 50))
        out["scaleout_ack_p99_ms"] = ms(pct(acks, 99))
        out["scaleout_latency_errors"] = errors
        out["scaleout_latency_lost"] = lost
        out["scaleout_server_util"] = round(win.server_util, 3)  # with PostgreSQL and Redis
        out["scaleout_covote_util"] = round(covote_cpu / win.wall, 3) if win.wall else None
        out["scaleout_client_util"] = round(win.client_util, 3)
        log(
            f"  projector p50 {out['scaleout_projector_p50_ms']} / p99 "
            f"{out['scaleout_projector_p99_ms']} ms over {len(track.latencies)} ballots, ack p50 "
            f"{out['scaleout_ack_p50_ms']} / p99 {out['scaleout_ack_p99_ms']} ms; "
            f"the processes {out['scaleout_covote_util']:.0%} of a core together, with "
            f"PostgreSQL and Redis {win.server_util:.0%}; client {win.client_util:.0%}; "
            f"{out['scaleout_pg_connections']} database connections"
        )
        note_window(out, "scale-out latency", win)
        if errors or lost:
            self.notes.append(f"scale-out latency: {errors} casts failed, {lost} acked not stored")
        if late and (pct(late, 99) or 0) > 0.02:
            self.notes.append(
                f"scale-out latency: the client sent late (p99 {ms(pct(late, 99))} ms behind "
                "schedule); the offered rate was not fully met"
            )

    async def kill_mid_vote(self, phones: list[Phone]) -> None:
        """Phones cast at `rate`; halfway through the last process is killed (SIGKILL)."""
        cfg, out, proj = self.cfg, self.out, self.projector
        assert proj is not None and self.marks is not None
        victim = len(self.procs) - 1
        others = [i for i in range(len(self.procs)) if i != victim]
        rid = await self.fresh_round()
        orphans = [p for p in phones if self.home[p.idx] == victim]
        orphans_set = set(orphans)
        log(
            f"scaleout: {len(phones):,} phones cast at {cfg.rate:g}/s; halfway, process "
            f"{self.procs[victim].name} ({len(orphans):,} phones) gets SIGKILL"
        )
        for p in phones:
            p.last_acked = p.unacked = None
        pending: list[tuple[Phone, asyncio.Future[float]]] = []
        resyncs: list[asyncio.Task[tuple[float | None, float | None]]] = []
        t_kill = 0.0
        votes = VotedLog(rid)
        proj.track = votes
        start = perf() + 0.01
        for i, p in enumerate(phones):
            if i == len(phones) // 2:
                proc = self.procs[victim]
                assert proc.popen is not None
                proc.popen.kill()
                t_kill = perf()
                for o in orphans:
                    o.closing = True  # not "dropped" in the bench's sense: we killed its server
                resyncs = [
                    asyncio.create_task(self.resync(o, rid, others[o.idx % len(others)]))
                    for o in orphans
                ]
            due = start + i / cfg.rate
            if (wait := due - perf()) > 0:
                await asyncio.sleep(wait)
            if t_kill and p in orphans_set:
                continue  # its process is dead: it casts once it has reconnected (resync)
            _, _, fut = await p.send_cast(rid, *self.marks.get(i))
            self._on_ack(p, fut)
            pending.append((p, fut))
        results: list[tuple[float | None, float | None]] = []
        try:
            async with asyncio.timeout(cfg.ack_timeout_s + sum(_backoff_caps())):
                await asyncio.gather(*(f for _, f in pending), return_exceptions=True)
                results = list(await asyncio.gather(*resyncs))
        except TimeoutError:
            self.notes.append("scale-out kill: timed out waiting for acks or resyncs")
            for r in resyncs:
                r.cancel()
            await asyncio.gather(*resyncs, return_exceptions=True)
            results = [r.result() if _ok(r) else (None, None) for r in resyncs]
        # a cast in flight to the killed process may go unacknowledged (its phone resends it);
        # one to a live process must not
        errors = sum(1 for p, f in pending if not _ok(f) and p not in orphans_set)
        cut = sum(1 for p, f in pending if not _ok(f) and p in orphans_set)
        snaps = [s for s, _ in results if s is not None]
        acked = [a for _, a in results if a is not None]
        stored = await asyncio.to_thread(stored_ballots, self.db_url, rid)
        sent: set[str] = set()
        n_acked = lost = 0
        for p in phones:
            if p.last_acked is not None:
                n_acked += 1
                sent.add(p.last_acked[0])
                if stored.get(p.last_acked[0]) != p.last_acked[1]:
                    lost += 1
            if p.unacked is not None:  # sent, ack never seen: stored or not, both are allowed
                sent.add(p.unacked[0])
        extra = len(set(stored) - sent)
        # when the projector came to show every stored ballot, after the last ack of the round
        with contextlib.suppress(TimeoutError):
            await proj.wait_for(
                lambda s: bool(s["round"]) and s["round"]["id"] == rid
                and s["turnout"]["voted"] >= len(stored),
                10,
            )  # fmt: skip
        proj.track = None
        shown = votes.first_at_least(len(stored))
        acks = [f.result() for _, f in pending if _ok(f)] + acked
        last_ack = max(acks, default=t_kill)
        out["scaleout_projector_voted"] = votes.changes[-1][1] if votes.changes else None
        others_dropped = sum(1 for p in phones if self.home[p.idx] != victim and p.closed)
        out["scaleout_killed_phones"] = len(orphans)
        out["scaleout_resynced"] = len(snaps)
        after = [t - t_kill for t in snaps]
        out["scaleout_resync_s"] = round(max(after), 3) if after else None
        out["scaleout_resync_p50_s"] = round(pct(after, 50) or 0.0, 3) if after else None
        out["scaleout_resync_acked_s"] = (
            round(max(acked) - t_kill, 3) if len(acked) == len(orphans) and acked else None
        )
        out["scaleout_acked"] = n_acked
        out["scaleout_stored"] = len(stored)
        out["scaleout_lost"] = lost + out.get("scaleout_latency_lost", 0)
        out["scaleout_extra_rows"] = extra
        out["scaleout_all_acked_stored"] = n_acked > 0 and lost == 0 and extra == 0
        out["scaleout_kill_errors"] = errors
        out["scaleout_resync_failures"] = self.resync_failures
        out["scaleout_casts_cut"] = cut  # in flight to the killed process: resent after resync
        out["scaleout_others_dropped"] = others_dropped
        # from the round's last ack until the projector (on a live process) showed every ballot
        out["scaleout_projector_lag_s"] = None if shown is None else round(shown - last_ack, 3)
        log(
            f"  {len(snaps):,} of {len(orphans):,} phones resynced on the others "
            f"{out['scaleout_resync_s']} s after the kill (p50 {out['scaleout_resync_p50_s']} s), "
            f"all re-acked after {out['scaleout_resync_acked_s']} s; {n_acked:,} ballots acked, "
            f"{len(stored):,} stored, {lost} acked ballots lost, {extra} rows never sent, {cut} "
            f"casts cut off by the kill and resent; the projector showed them all "
            f"{out['scaleout_projector_lag_s']} s after the round's last ack"
        )
        if len(snaps) < len(orphans):
            self.notes.append(
                f"scale-out kill: {len(orphans) - len(snaps)} phones of the killed process "
                "never resynced on another"
            )
        if errors or others_dropped:
            self.notes.append(
                f"scale-out kill: {errors} casts to live processes failed; {others_dropped} "
                "phones of live processes were dropped"
            )
        if shown is None:
            self.notes.append("scale-out kill: the projector never showed every stored ballot")

    async def resync(self, p: Phone, round_id: int, to: int) -> tuple[float | None, float | None]:
        """As the phone page after its socket died: reconnect with backoff to process `to`,
        wait for the snapshot, then resend the unacknowledged ballot (same id) or cast the one
        not sent yet. Returns (snapshot time, ack time); None where it did not happen."""
        assert self.marks is not None
        if p.task is not None:
            await asyncio.wait([p.task])  # the reader sees the socket close
        p.closing = False
        t_snap: float | None = None
        for cap in _backoff_caps():
            await asyncio.sleep(cap / 2 + random.random() * cap / 2)
            fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
            p.snap_waiter = fut
            try:
                await p.connect(self.ws_url(to))
                async with asyncio.timeout(15):
                    t_snap = await fut
                break
            except (*HANDSHAKE_ERRORS, ConnectionError, ConnectionClosed):
                p.snap_waiter = None
                if p.ws is not None and not p.closed:
                    with contextlib.suppress(Exception):
                        await p.close()
        if t_snap is None:
            return None, None
        self.home[p.idx] = to
        if p.unacked is not None:
            bid, marks = p.unacked
            mj = json.dumps(marks, separators=(",", ":"))
            _, _, ack = await p.send_cast(round_id, marks, mj, ballot_id=bid)
        elif p.last_acked is None:
            _, _, ack = await p.send_cast(round_id, *self.marks.get(p.idx))
        else:
            return t_snap, t_snap  # its ballot was acknowledged before the kill
        self._on_ack(p, ack)
        try:
            async with asyncio.timeout(self.cfg.ack_timeout_s):
                return t_snap, await ack
        except Exception as e:
            why = f"{type(e).__name__}: {e}"[:120]

            self.resync_failures[why] = self.resync_failures.get(why, 0) + 1
            return t_snap, None

    @staticmethod
    def _on_ack(p: Phone, fut: asyncio.Future[float]) -> None:
        """Mark the phone's ballot acknowledged as soon as the ack arrives (a resync that
        starts later must know whether to resend)."""

        def done(f: asyncio.Future[float]) -> None:
            if _ok(f) and p.unacked is not None:
                p.acked()

        fut.add_done_callback(done)

    async def close(self) -> None:
        items: list[Any] = [p for p in self.phones if not p.closed]
        if self.projector is not None:
            items.append(self.projector)
        with contextlib.suppress(TimeoutError):
            await close_all(items)


def cpu_of(group: ProcGroup) -> float:
    t = group.cpu_times()
    return float(t.user + t.system)


def _ok(f: asyncio.Future[Any]) -> bool:
    return f.done() and not f.cancelled() and f.exception() is None


def _backoff_caps() -> list[float]:
    return [min(BACKOFF_CAP_S, BACKOFF_FIRST_S * 2**i) for i in range(RECONNECT_TRIES)]
