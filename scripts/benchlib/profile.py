"""Optional: sample the server with py-spy (`pip install py-spy` into .venv) during a phase.

py-spy reads the target's memory from outside (`--nonblocking`: it never pauses the server), so
it sees every thread, including the worker threads that run the database work, unlike cProfile.
Output: collapsed stacks (`--format raw`) and a summary of the hottest functions by own time and
by inclusive time, as a share of the samples.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from benchlib.util import log


def py_spy() -> str | None:
    here = Path(sys.executable).parent / "py-spy"
    return str(here) if here.exists() else shutil.which("py-spy")


class Sampler:
    def __init__(self, pid: int, out: Path, rate: int = 250, *, gil: bool = False) -> None:
        self.pid = pid
        self.gil = gil
        self.out = out
        self.rate = rate
        self.popen: subprocess.Popen[bytes] | None = None
        self._err = out.with_suffix(".log")

    def start(self) -> None:
        exe = py_spy()
        if exe is None:
            log("  (py-spy is not installed: no profile; pip install py-spy into .venv)")
            return
        with self._err.open("wb") as err:
            self.popen = subprocess.Popen(
                [exe, "record", "--pid", str(self.pid), "--rate", str(self.rate), "--format", "raw",
                 "--nonblocking", "--output", str(self.out), *(["--gil"] if self.gil else [])],
                stdin=subprocess.DEVNULL, stdout=err, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def stop(self) -> dict[str, Any] | None:
        if self.popen is None:
            return None
        with contextlib.suppress(ProcessLookupError):
            self.popen.send_signal(signal.SIGINT)
        try:
            self.popen.wait(30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(5)
        if not self.out.exists():
            log(f"  py-spy wrote no profile; see {self._err}")
            return None
        summary = summarize(self.out)
        text = format_summary(summary)
        self.out.with_suffix(".summary.txt").write_text(text)
        log(f"  profile: {self.out} ({summary['samples']} samples)")
        for line in text.splitlines()[1 : 2 + len(summary["categories"])]:
            log("    " + line)
        return summary


_FRAME = re.compile(r"^(?P<fn>.*?) \((?P<file>[^():]+)(?::\d+)?\)$")


def _name(frame: str) -> str:
    m = _FRAME.match(frame)
    if not m:
        return frame
    path = m.group("file")
    for marker in ("site-packages/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        path = path.rsplit("/", 2)[-2] + "/" + path.rsplit("/", 1)[-1] if "/" in path else path
    return f"{m.group('fn')} ({path})"


# Where the server's time goes, by what Covote is doing: the first rule whose function name
# appears anywhere in a sampled stack wins.
CATEGORIES: list[tuple[str, tuple[str, ...]]] = [
    ("render snapshot (room_state, thread)", ("room_state", "render_state")),
    ("hub: encode + offer to mailboxes", ("Hub._refresh", "Hub._render_room", "Mailbox.offer")),
    ("commit: validate_batch SELECTs", ("validate_batch",)),
    ("commit: COMMIT (WAL write, fsync)", ("do_commit",)),
    ("commit: upsert executemany", ("BallotWriter._commit",)),
    ("thread pool: other", ("_worker (",)),
    ("ws connect: lookup, you (thread)", ("_lookup", "_you")),
    ("HTTP pages and API", ("httptools_impl", "phone (", "meeting_state", "console")),
    ("ws: parse cast (pydantic)", ("parse_client",)),
    ("ws: cast -> writer queue -> ack", ("_cast (", "BallotWriter.cast", "BallotWriter._run")),
    ("ws: send frames (acks, snapshots)", ("_writer (",)),
    ("ws: receive", ("_reader (",)),
    ("uvicorn/websockets protocol", ("websockets_sansio_impl", "websockets/")),
]


def _category(frames: list[str]) -> str:
    for label, needles in CATEGORIES:
        for f in frames:
            if any(n in f for n in needles):
                return label
    return "other (event loop, asyncio)"


def summarize(path: Path, top: int = 30) -> dict[str, Any]:
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    cats: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_name(f) for f in stack.split(";")]
        cats[_category(frames)] += n
        own[frames[-1]] += n
        for f in set(frames):
            incl[f] += n
    if total == 0:
        return {"samples": 0, "categories": [], "own": [], "inclusive": []}

    def share(c: Counter[str]) -> list[list[Any]]:
        return [[name, round(100.0 * k / total, 1)] for name, k in c.most_common(top)]

    return {
        "samples": total,
        "categories": share(cats),
        "own": share(own),
        "inclusive": share(incl),
    }


def format_summary(s: dict[str, Any]) -> str:
    lines = [f"{s['samples']} samples; by activity (% of samples):"]
    lines += [f"{p:5.1f}%  {name}" for name, p in s["categories"]]
    lines.append("own time (% of samples):")
    lines += [f"{p:5.1f}%  {name}" for name, p in s["own"]]
    lines.append("inclusive time (% of samples):")
    lines += [f"{p:5.1f}%  {name}" for name, p in s["inclusive"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    """python -m benchlib.profile STACKS.txt...: summarise py-spy raw profiles again."""
    for path in argv:
        print(format_summary(summarize(Path(path))))


if __name__ == "__main__":
    main(sys.argv[1:])
