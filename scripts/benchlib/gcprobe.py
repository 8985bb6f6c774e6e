"""Garbage-collector pauses in the server (`scripts/bench --gcprobe`).

Run as the server process: `python -m benchlib.gcprobe serve ...` (the `covote` arguments).
Every collection's start time (time.perf_counter, the same CLOCK_MONOTONIC as the load client
on Linux), duration and generation are written to $BENCH_GCPROBE_FILE when the server exits,
so the harness can attribute pauses to its phases.

With BENCH_GC_SAVEALL=1 in the environment it also sets gc.DEBUG_SAVEALL, keeps what the
collector finds and lists the types of that cyclic garbage at exit (what creates it).
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

events: list[tuple[float, float, int]] = []  # (start, seconds, generation)
_start = 0.0


def _callback(phase: str, info: dict[str, Any]) -> None:
    global _start
    if phase == "start":
        _start = time.perf_counter()
    else:
        events.append((_start, time.perf_counter() - _start, int(info["generation"])))


def _serve() -> int:
    gc.callbacks.append(_callback)
    if os.environ.get("BENCH_GC_SAVEALL"):
        gc.set_debug(gc.DEBUG_SAVEALL)
    from app.cli import main

    try:
        return main(sys.argv[1:])
    finally:
        out: dict[str, Any] = {
            "events": events,
            "thresholds": gc.get_threshold(),
            "counts": gc.get_count(),
        }
        if os.environ.get("BENCH_GC_SAVEALL"):
            from collections import Counter

            gc.collect()
            kinds = Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.garbage)
            out["garbage"] = kinds.most_common(40)
            out["garbage_total"] = len(gc.garbage)
        Path(os.environ["BENCH_GCPROBE_FILE"]).write_text(json.dumps(out))


def summarize(path: Path, phases: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """Per phase: collections of each generation, total and longest pause (ms)."""
    data = json.loads(path.read_text())
    out: dict[str, Any] = {}
    for name, (t0, t1) in phases.items():
        inside = [e for e in data["events"] if t0 <= e[0] <= t1]
        out[name] = {
            "collections": [sum(1 for e in inside if e[2] == g) for g in (0, 1, 2)],
            "total_ms": round(sum(e[1] for e in inside) * 1e3, 1),
            "max_ms": round(max((e[1] for e in inside), default=0.0) * 1e3, 1),
            "gen2_max_ms": round(max((e[1] for e in inside if e[2] == 2), default=0.0) * 1e3, 1),
            "seconds": round(t1 - t0, 1),
        }
    return out


if __name__ == "__main__":
    raise SystemExit(_serve())
