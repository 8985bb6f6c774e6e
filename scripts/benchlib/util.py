"""Small pieces the scenarios share: progress on stderr, percentiles, CPU/RSS meters, a minimal
HTTP/1.1 client (cheap enough to join thousands of phones from one core) and server processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil  # type: ignore[import-untyped]

_T0 = time.monotonic()


def log(msg: str) -> None:
    """Progress line on stderr, stamped with seconds since start."""
    print(f"[{time.monotonic() - _T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], p: float) -> float | None:
    """The p-th percentile (linear interpolation, as statistics.quantiles 'inclusive')."""
    if not values:
        return None
    s = sorted(values)
    if len(s) == 1:
        return s[0]
    k = (len(s) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def can_pin() -> bool:
    return (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity")


def pin_self(core: int) -> bool:
    try:
        os.sched_setaffinity(0, {core})
        return True
    except (OSError, AttributeError):
        return False


# --- CPU and memory -----------------------------------------------------------------------------


def cpu_s(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)


def rss(proc: psutil.Process) -> int:
    return int(proc.memory_info().rss)


@dataclass
class Window:
    """Wall time and CPU seconds of the server and of this (client) process over a window,
    and the CPU seconds other processes took on the server's and the client's cores."""

    wall: float
    server_cpu: float
    client_cpu: float
    foreign_server_core: float | None = None
    foreign_client_core: float | None = None

    def __add__(self, other: Window) -> Window:
        def add(a: float | None, b: float | None) -> float | None:
            return None if a is None or b is None else a + b

        return Window(
            self.wall + other.wall,
            self.server_cpu + other.server_cpu,
            self.client_cpu + other.client_cpu,
            add(self.foreign_server_core, other.foreign_server_core),
            add(self.foreign_client_core, other.foreign_client_core),
        )

    def foreign_util(self) -> float | None:
        """The larger share of a core that processes other than ours took during the window."""
        vals = [v for v in (self.foreign_server_core, self.foreign_client_core) if v is not None]
        return max(vals) / self.wall if vals and self.wall > 0 else None

    @property
    def server_util(self) -> float:
        return self.server_cpu / self.wall if self.wall > 0 else 0.0

    @property
    def client_util(self) -> float:
        return self.client_cpu / self.wall if self.wall > 0 else 0.0


def _core_busy() -> list[float]:
    # irq/softirq time is left out: loopback traffic of our own shows up there
    return [t.user + t.nice + t.system for t in psutil.cpu_times(percpu=True)]


class Meter:
    """CPU seconds over a window. `cores` = (server core, client core) when pinned: the busy
    time of those cores minus our own processes is what others (a shared machine) took."""

    cores: tuple[int, int] | None = None

    def __init__(self, server: psutil.Process) -> None:
        self._server = server
        self._me = psutil.Process()
        self.t0 = time.perf_counter()
        self._s0 = cpu_s(server)
        self._c0 = cpu_s(self._me)
        self._b0 = _core_busy() if self.cores else None

    def stop(self) -> Window:
        win = Window(
            wall=time.perf_counter() - self.t0,
            server_cpu=cpu_s(self._server) - self._s0,
            client_cpu=cpu_s(self._me) - self._c0,
        )
        if self.cores and self._b0 is not None:
            b1 = _core_busy()
            sc, cc = self.cores
            if max(sc, cc) < len(b1):
                win.foreign_server_core = max(0.0, b1[sc] - self._b0[sc] - win.server_cpu)
                win.foreign_client_core = max(0.0, b1[cc] - self._b0[cc] - win.client_cpu)
        return win


# --- a minimal HTTP/1.1 client ------------------------------------------------------------------


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k == name), None)

    def cookies(self) -> dict[str, str]:
        out = {}
        for k, v in self.headers:
            if k == "set-cookie":
                pair = v.split(";", 1)[0]
                name, _, value = pair.partition("=")
                out[name.strip()] = value.strip()
        return out

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return bytes(out)


async def http(
    port: int,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    timeout: float = 20.0,
) -> HttpResponse:
    """One request on its own connection (`Connection: close`), read to EOF."""
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
            lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
            if body or method != "GET":
                lines.append(f"Content-Length: {len(body)}")
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            data = await reader.read()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
    head, _, rest = data.partition(b"\r\n\r\n")
    head_lines = head.decode("latin-1").split("\r\n")
    status = int(head_lines[0].split(" ", 2)[1])
    hdrs = []
    for line in head_lines[1:]:
        k, _, v = line.partition(":")
        hdrs.append((k.strip().lower(), v.strip()))
    resp = HttpResponse(status, hdrs, rest)
    if (resp.header("transfer-encoding") or "").lower() == "chunked":
        resp.body = _dechunk(rest)
    return resp


# --- server processes ---------------------------------------------------------------------------


@dataclass
class ServerProc:
    """A server subprocess, pinned to one core with taskset where possible."""

    name: str
    argv: list[str]
    port: int
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    core: int | None = None
    nice: int | None = None
    drop_env_prefix: str | None = None  # e.g. COVOTE_: the caller's settings do not leak in
    popen: subprocess.Popen[bytes] | None = None
    proc: psutil.Process | None = None
    _log: IO[bytes] | None = None

    def start(self) -> None:
        argv = list(self.argv)
        if self.core is not None and shutil.which("taskset"):
            argv = ["taskset", "-c", str(self.core), *argv]
        self._log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            argv,
            cwd=self.cwd,
            env={**self._inherited_env(), **self.env},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C on the bench does not hit the server first
        )
        # taskset execs the server, so the pid is the server's own.
        self.proc = psutil.Process(self.popen.pid)
        if self.nice is not None:
            with contextlib.suppress(psutil.Error):
                self.proc.nice(self.nice)

    def _inherited_env(self) -> dict[str, str]:
        drop = self.drop_env_prefix
        return {k: v for k, v in os.environ.items() if not (drop and k.startswith(drop))}

    async def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.popen is not None
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start-up:\n{self.tail()}")
            try:
                r = await http(self.port, "GET", "/", timeout=2.0)
                if r.status == 200:
                    return
            except (OSError, TimeoutError, IndexError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.name} did not answer within {timeout:.0f} s:\n{self.tail()}"
                )
            await asyncio.sleep(0.05)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGINT (uvicorn's graceful shutdown), then SIGKILL if it lingers."""
        rc = None
        if self.popen is not None:
            if self.popen.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    self.popen.send_signal(signal.SIGINT)
                try:
                    self.popen.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.popen.kill()
                    self.popen.wait(5)
            rc = self.popen.returncode
        if self._log is not None:
            self._log.close()
            self._log = None
        return rc


def note_window(out: dict[str, Any], phase: str, win: Window) -> None:
    """Record how busy the cores were in a phase; add notes where a figure is not the server's."""
    notes = out.setdefault("notes", [])
    foreign = win.foreign_util()
    if foreign is not None:
        out.setdefault("foreign_util", {})[phase] = round(foreign, 3)
        if foreign >= 0.1:
            notes.append(
                f"{phase}: other processes on this machine took {foreign:.0%} of a pinned core; "
                "the figures of this phase are perturbed"
            )
    if win.client_util >= 0.9:
        notes.append(
            f"{phase}: the load client's core was saturated ({win.client_util:.0%}); "
            "the figure is client-bound (a lower bound for the server)"
        )
    if win.server_util >= 0.95:
        notes.append(f"{phase}: the server's core was saturated ({win.server_util:.0%})")


def versions() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, Any] = {"python": sys.version.split()[0]}
    for pkg in ("uvicorn", "websockets", "starlette", "fastapi", "sqlalchemy", "uvloop"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"
