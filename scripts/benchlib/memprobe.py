"""Where a phone's memory goes: `covote serve` under tracemalloc (`scripts/bench --memprobe`).

Run as the server process: `python -m benchlib.memprobe serve ...` (same arguments as
`covote`). Each SIGUSR1 writes a tracemalloc snapshot to $BENCH_MEMPROBE_DIR/<n>.tracemalloc.
`compare(a, b, per)` lists the allocation sites that grew between two snapshots, per phone.
RSS figures of a probed run are not comparable (tracemalloc's own bookkeeping is in RSS).
"""

from __future__ import annotations

import os
import signal
import sys
import tracemalloc
from pathlib import Path
from typing import Any


def _serve() -> int:
    out = Path(os.environ["BENCH_MEMPROBE_DIR"])
    out.mkdir(parents=True, exist_ok=True)
    tracemalloc.start(int(os.environ.get("BENCH_MEMPROBE_FRAMES", "10")))
    count = 0

    def dump(_signum: int, _frame: Any) -> None:
        nonlocal count
        tmp = out / f"{count}.tmp"
        tracemalloc.take_snapshot().dump(str(tmp))
        tmp.rename(out / f"{count}.tracemalloc")
        count += 1

    signal.signal(signal.SIGUSR1, dump)
    from app.cli import main

    return main(sys.argv[1:])


def compare(a: Path, b: Path, per: int, top: int = 25) -> list[str]:
    """Top allocation sites (innermost app/library frame) by growth from a to b, per unit."""
    s0 = tracemalloc.Snapshot.load(str(a))
    s1 = tracemalloc.Snapshot.load(str(b))
    filters = [
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
        tracemalloc.Filter(False, "<unknown>"),
    ]
    s0, s1 = s0.filter_traces(filters), s1.filter_traces(filters)
    total = sum(st.size for st in s1.statistics("filename")) - sum(
        st.size for st in s0.statistics("filename")
    )
    lines = [f"traced growth {total / 1024 / per:.2f} KiB per unit over {per} units"]
    for st in s1.compare_to(s0, "traceback")[:top]:
        if st.size_diff <= 0:
            continue
        frames = [f"{_short(f.filename)}:{f.lineno}" for f in st.traceback]
        lines.append(
            f"{st.size_diff / 1024 / per:7.2f} KiB {st.count_diff / per:6.1f} blocks  "
            + " <- ".join(reversed(frames[-4:]))
        )
    return lines


def _short(path: str) -> str:
    for marker in ("site-packages/", "lib/python3.11/", "/work/main/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


if __name__ == "__main__":
    raise SystemExit(_serve())
