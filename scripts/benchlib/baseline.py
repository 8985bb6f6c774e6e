"""The baseline: a bare Starlette app under uvicorn with Covote's flags (bare_app.py).

(c) memory per idle connection, on the fresh process; (a) echo round trips/s, closed loop,
at the ingest N (and more N in the full run); (b) broadcast at 10 Hz with frames the size of a
Covote snapshot: server µs per delivered frame and send-to-receive latency.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from benchlib.clients import close_all, open_many, plain
from benchlib.config import ROOT, BenchConfig
from benchlib.util import Meter, ServerProc, free_port, log, ms, note_window, pct, rss

perf = time.perf_counter


def server(cfg: BenchConfig, log_dir: Any) -> ServerProc:
    port = free_port()
    argv = [
        sys.executable, "-m", "uvicorn", "benchlib.bare_app:app",
        "--app-dir", str(ROOT / "scripts"),
        "--host", "127.0.0.1", "--port", str(port),
        "--ws", "websockets-sansio", "--loop", "uvloop", "--http", "httptools",
        "--ws-per-message-deflate", "false",
        "--ws-max-size", str(16 * 1024),  # as Covote's ws_max_message_bytes
        "--log-level", "warning",
    ]  # fmt: skip
    return ServerProc(
        name="baseline",
        argv=argv,
        port=port,
        log_path=log_dir / "baseline-server.log",
        cwd=ROOT,
        core=cfg.server_core if cfg.pin else None,
        nice=cfg.nice,
    )


async def run(cfg: BenchConfig, srv: ServerProc, out: dict[str, Any]) -> None:
    url = f"ws://127.0.0.1:{srv.port}/ws"
    assert srv.proc is not None
    # warm-up: one socket, one echo (lazy imports, first allocations)
    ws = await plain(url)
    await ws.send("C" + "x" * 10)
    await ws.recv()
    await ws.close()
    await asyncio.sleep(0.3)

    # (c) memory per idle connection
    n = cfg.memory_phones
    log(f"baseline: memory, {n} idle connections")
    base = rss(srv.proc)
    conns, failed = await open_many(
        n, lambda _i: plain(url), spacing_s=cfg.connect_spacing_s, what="baseline connect"
    )
    await asyncio.sleep(cfg.settle_s)
    held = rss(srv.proc)
    out["baseline_memory_conns"] = len(conns)
    out["baseline_rss_base_mib"] = round(base / 2**20, 1)
    out["baseline_rss_conn_mib"] = round(held / 2**20, 1)
    out["baseline_kib_per_conn"] = round((held - base) / 1024 / max(1, len(conns)), 2)
    out["baseline_connect_failures"] = failed
    await close_all(conns)
    await asyncio.sleep(0.3)

    # (a) echo
    sizes = sorted({*cfg.echo_extra, cfg.ingest_phones})
    by_n: dict[str, float] = {}
    for n in sizes:
        r = await echo(cfg, srv, url, n, out)
        by_n[str(n)] = r["per_s"]
        if n == cfg.ingest_phones:
            out["baseline_echo_per_s"] = r["per_s"]
            out["baseline_echo_p50_ms"] = r["p50_ms"]
            out["baseline_echo_p99_ms"] = r["p99_ms"]
            out["baseline_echo_conns"] = n
            out["baseline_echo_server_util"] = r["server_util"]
            out["baseline_echo_client_util"] = r["client_util"]
    out["baseline_echo_by_conns"] = by_n

    # (b) broadcast
    r = await broadcast(cfg, srv, url, cfg.latency_phones, out)
    out.update(r)


async def echo(
    cfg: BenchConfig, srv: ServerProc, url: str, n: int, out: dict[str, Any]
) -> dict[str, Any]:
    log(f"baseline: echo, {n} connections, closed loop, {cfg.warmup_s:g}+{cfg.echo_s:g} s")
    assert srv.proc is not None
    conns, _ = await open_many(
        n, lambda _i: plain(url), spacing_s=cfg.connect_spacing_s, what="baseline connect"
    )
    payload = "C" + "x" * (cfg.cast_bytes - 1)
    stop = False
    measuring = False
    rtts: list[float] = []

    async def loop(ws: ClientConnection) -> None:
        try:
            while not stop:
                t0 = perf()
                await ws.send(payload)
                await ws.recv(decode=False)
                if measuring:
                    rtts.append(perf() - t0)
        except ConnectionClosed:
            pass

    tasks = [asyncio.create_task(loop(ws)) for ws in conns]
    await asyncio.sleep(cfg.warmup_s)
    meter = Meter(srv.proc)
    measuring = True
    await asyncio.sleep(cfg.echo_s)
    measuring = False
    win = meter.stop()
    stop = True
    async with asyncio.timeout(30):
        await asyncio.gather(*tasks)
    await close_all(conns)
    per_s = len(rtts) / win.wall
    if n == cfg.ingest_phones:
        note_window(out, "baseline echo", win)
    log(
        f"  {per_s:,.0f} round trips/s, p99 {ms(pct(rtts, 99))} ms, server {win.server_util:.0%}"
        f" client {win.client_util:.0%}"
    )
    return {
        "per_s": round(per_s, 1),
        "p50_ms": ms(pct(rtts, 50)),
        "p99_ms": ms(pct(rtts, 99)),
        "server_util": round(win.server_util, 3),
        "client_util": round(win.client_util, 3),
    }


async def broadcast(
    cfg: BenchConfig, srv: ServerProc, url: str, n: int, out: dict[str, Any]
) -> dict[str, Any]:
    hz = cfg.broadcast_hz
    log(
        f"baseline: broadcast, {n} connections, {hz:g} Hz, {cfg.frame_bytes} B frames, "
        f"{cfg.warmup_s:g}+{cfg.broadcast_s:g} s"
    )
    assert srv.proc is not None
    conns, _ = await open_many(
        n, lambda _i: plain(url), spacing_s=cfg.connect_spacing_s, what="baseline connect"
    )
    measuring = False
    lat: list[float] = []
    received = 0

    async def reader(ws: ClientConnection) -> None:
        nonlocal received
        try:
            while True:
                m = await ws.recv(decode=False)
                t = perf()
                assert isinstance(m, bytes)
                if measuring:
                    received += 1
                    lat.append(t - float(m[1 : m.index(b"|")]))
        except ConnectionClosed:
            pass

    readers = [asyncio.create_task(reader(ws)) for ws in conns]
    publisher = conns[0]  # also a receiver
    pad = "x" * max(0, cfg.frame_bytes - 24)
    stop = False

    async def publish() -> None:
        period = 1.0 / hz
        due = perf()
        while not stop:
            await publisher.send(f"B{perf()!r}|{pad}")
            due += period
            await asyncio.sleep(max(0.0, due - perf()))

    pub = asyncio.create_task(publish())
    await asyncio.sleep(cfg.warmup_s)
    meter = Meter(srv.proc)
    measuring = True
    await asyncio.sleep(cfg.broadcast_s)
    measuring = False
    win = meter.stop()
    stop = True
    await pub
    await asyncio.sleep(0.5)
    await close_all(conns)
    async with asyncio.timeout(30):
        await asyncio.gather(*readers)
    expected = n * hz * win.wall
    note_window(out, "baseline broadcast", win)
    us = win.server_cpu / received * 1e6 if received else None
    log(
        f"  {received:,} frames ({received / expected:.0%} of offered), "
        f"{us and round(us, 1)} µs server CPU per frame, p50 {ms(pct(lat, 50))} / "
        f"p99 {ms(pct(lat, 99))} ms, server {win.server_util:.0%} client {win.client_util:.0%}"
    )
    return {
        "baseline_broadcast_conns": n,
        "baseline_broadcast_hz": hz,
        "baseline_frame_bytes": cfg.frame_bytes,
        "baseline_broadcast_us_per_frame": None if us is None else round(us, 2),
        "baseline_broadcast_p50_ms": ms(pct(lat, 50)),
        "baseline_broadcast_p99_ms": ms(pct(lat, 99)),
        "baseline_broadcast_delivered": round(received / expected, 3) if expected else None,
        "baseline_broadcast_server_util": round(win.server_util, 3),
        "baseline_broadcast_client_util": round(win.client_util, 3),
    }
