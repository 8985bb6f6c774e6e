"""`run_bench(cfg) -> dict`: the baseline, then Covote, in one run on one machine."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]
import uvloop

from benchlib import baseline, covote, mes, scaleout
from benchlib.config import PHASES, BenchConfig
from benchlib.report import add_ratios
from benchlib.util import Meter, can_pin, cpu_model, log, pin_self, raise_fd_limit, versions


def run_bench(cfg: BenchConfig) -> dict[str, Any]:
    """Run every scenario; returns the result dict (with "error" if a phase failed)."""
    started = datetime.now(UTC)
    fd_limit = raise_fd_limit()
    pinned = cfg.pin and can_pin()
    if pinned and not pin_self(cfg.client_core):
        pinned = False
    Meter.cores = (cfg.server_core, cfg.client_core) if pinned else None
    if cfg.nice is not None:
        try:
            psutil.Process().nice(cfg.nice)
        except psutil.Error as e:
            log(f"cannot set nice {cfg.nice}: {e}")
    out: dict[str, Any] = {
        "meta": {
            "started_utc": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "quick": cfg.quick,
            "cpus": os.cpu_count(),
            "cpu_model": cpu_model(),
            "pinned": pinned,
            "server_core": cfg.server_core if pinned else None,
            "client_core": cfg.client_core if pinned else None,
            "fd_limit": fd_limit,
            "tick_hz": cfg.tick_hz or float(os.environ.get("COVOTE_TICK_HZ", "10")),
            "profiled": cfg.profile,
            "nice": cfg.nice,
            "versions": versions(),
            "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(cfg).items()},
        },
        "notes": [],
    }
    if not pinned:
        out["notes"].append("server and load client not pinned to separate cores")
    most = max(cfg.max_phones, cfg.all_phones, cfg.scaleout_phones if cfg.runs("scaleout") else 0)
    if fd_limit < most * 2 + 100:
        out["notes"].append(f"fd limit {fd_limit} may be too low for {most} phones")
    busy = psutil.cpu_percent(interval=0.5, percpu=True)
    out["meta"]["cpu_busy_before_pct"] = busy
    if max(busy, default=0) >= 20:
        out["notes"].append(
            f"the machine was busy before the run (CPU {', '.join(f'{b:.0f}%' for b in busy)} "
            "per core): other processes will perturb the figures; see foreign_util"
        )
        log(f"warning: the machine is busy ({busy}% per core); figures will be perturbed")
    t0 = time.monotonic()
    work_dir = cfg.work_dir
    with contextlib.ExitStack() as stack:
        if work_dir is None:
            work_dir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="covote-bench-"))
            )
        if not cfg.mes_only:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                try:
                    runner.run(_main(cfg, work_dir, out))
                except Exception as e:  # keep what was measured; the caller reports the error
                    out["error"] = f"{type(e).__name__}: {e}"
                    log(f"ERROR: {out['error']}")
            if cfg.runs("scaleout"):  # after the single server stopped: its own processes
                with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                    try:
                        runner.run(scaleout.run(cfg, work_dir / "scaleout", out))
                    except Exception as e:
                        out.setdefault("error", f"scaleout: {type(e).__name__}: {e}")
                        log(f"ERROR: scaleout: {type(e).__name__}: {e}")
        if cfg.mes or cfg.mes_only:
            try:
                mes.run(cfg, out)  # after the servers stopped: the phase has the core alone
            except Exception as e:
                out.setdefault("error", f"mes: {type(e).__name__}: {e}")
                log(f"ERROR: {out['error']}")
    out["meta"]["elapsed_s"] = round(time.monotonic() - t0, 1)
    add_ratios(out)
    return out


async def _main(cfg: BenchConfig, work: Path, out: dict[str, Any]) -> None:
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    if not any(cfg.runs(p) for p in PHASES if p != "scaleout"):
        return  # --only scaleout: neither the baseline nor the single server is needed
    async with asyncio.timeout(cfg.time_limit_s):
        if not cfg.skip_baseline:
            srv = baseline.server(cfg, logs)
            log("baseline: starting the bare Starlette app")
            srv.start()
            try:
                await srv.wait_ready()
                await baseline.run(cfg, srv, out)
            finally:
                srv.stop()
        data = work / "covote-data"
        if data.exists():  # a kept --work-dir from an earlier run: start fresh
            shutil.rmtree(data)
        data.mkdir(parents=True)
        key = covote.new_key()
        srv = covote.server(cfg, data, logs, key)
        log("covote: starting `covote serve` on a fresh SQLite data dir")
        srv.start()
        phases: dict[str, tuple[float, float]] = {}
        try:
            await srv.wait_ready(180 if cfg.memprobe else 30)
            await covote.run(cfg, srv, data, key, out, logs, phases)
        finally:
            rc = srv.stop()
            if rc not in (0, None, -2, -15):  # uvicorn re-raises SIGINT after a clean shutdown
                out["notes"].append(f"covote server exited with {rc}; log tail: {srv.tail(5)}")
        if cfg.gcprobe and (logs / "gc.json").exists():
            from benchlib.gcprobe import summarize

            out["server_gc"] = summarize(logs / "gc.json", phases)
            for name, g in out["server_gc"].items():
                log(f"  gc during {name}: {g}")
        out["ballot_rows"] = await asyncio.to_thread(covote.count_rows, data / "covote.db")


def save(result: dict[str, Any], results_dir: Path) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = result["meta"]["started_utc"].replace(":", "").replace("-", "")
    path = results_dir / f"{stamp}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return path
