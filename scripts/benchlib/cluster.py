"""The scale-out phase's parts (scaleout.py): a fresh PostgreSQL database, a private Redis,
`covote serve` processes sharing both, and their CPU summed for Meter."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

from benchlib.config import ROOT, BenchConfig
from benchlib.covote import RATE_LIMITS
from benchlib.util import ServerProc, free_port


@dataclass
class ProcGroup:
    """Several server processes as one for Meter: their CPU seconds summed. A process that has
    exited stops counting, so meter only windows in which none of them dies."""

    procs: list[psutil.Process]

    def cpu_times(self) -> Any:
        user = system = 0.0
        for p in self.procs:
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                user += t.user
                system += t.system
        return _Times(user, system)


@dataclass
class _Times:
    user: float
    system: float


class PrivateRedis:
    """A redis-server of the bench's own on a free port: no other process's signals (tests on
    the shared Redis publish on the same channel) reach the bench's servers."""

    def __init__(self, work: Path, core: int | None) -> None:
        self.port = free_port()
        self.dir = work
        self.core = core
        self.popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.dir)]  # fmt: skip
        if self.core is not None and shutil.which("taskset"):
            argv = ["taskset", "-c", str(self.core), *argv]
        self.popen = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    async def wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not await redis_ping(self.url):
            if self.popen is not None and self.popen.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.popen.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not answer within {timeout:.0f} s")
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(5)


async def redis_ping(url: str) -> bool:
    """Whether a Redis answers PING at `url` (redis://host:port/db)."""
    hostport = url.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
    host, _, port = hostport.partition(":")
    try:
        async with asyncio.timeout(2):
            reader, writer = await asyncio.open_connection(host or "127.0.0.1", int(port or 6379))
            try:
                writer.write(b"PING\r\n")
                return (await reader.readline()).startswith(b"+PONG")
            finally:
                writer.close()
    except (OSError, TimeoutError, ValueError):
        return False


def pg_unavailable(admin: str) -> str | None:
    """Why the phase cannot use PostgreSQL at `admin`, or None."""
    try:
        import psycopg

        with psycopg.connect(admin, connect_timeout=3):
            return None
    except Exception as e:
        return f"PostgreSQL not reachable at {admin}: {e}"


def create_database(admin: str) -> tuple[str, str]:
    """A fresh, empty database beside `admin`'s. Returns (name, URL)."""
    import psycopg

    name = f"covote_bench_{secrets.token_hex(6)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, f"{admin.rsplit('/', 1)[0]}/{name}"


def drop_database(admin: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def stored_ballots(url: str, round_id: int) -> dict[str, dict[str, str]]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT ballot_uid, marks FROM ballot WHERE round_id = %s", (round_id,)
        ).fetchall()
    return {uid: (json.loads(m) if isinstance(m, str) else m) for uid, m in rows}


def pg_backends(admin: str, name: str) -> list[int]:
    """The process ids of the PostgreSQL backends serving database `name` (their CPU is the
    scale-out's too: without them the database's work would count as other processes')."""
    import psycopg

    with psycopg.connect(admin) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,)
        ).fetchall()
    return [int(r[0]) for r in rows]


def processes(pids: list[int]) -> list[psutil.Process]:
    """psutil handles of the pids still alive."""
    out = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            out.append(psutil.Process(pid))
    return out


def servers(
    cfg: BenchConfig, work: Path, db_url: str, redis_url: str, key: str
) -> list[ServerProc]:
    """`covote serve` processes on one database and one Redis, with one session secret (a
    phone's cookie from any process is good on every other, as behind a load balancer)."""
    secret = secrets.token_urlsafe(32)
    procs = []
    for i in range(cfg.scaleout_processes):
        port = free_port()
        data = work / f"scaleout-{i}"
        data.mkdir(parents=True, exist_ok=True)
        argv = [
            sys.executable, "-m", "app.cli", "serve",
            "--host", "127.0.0.1", "--port", str(port),
            "--data", str(data),
            "--database-url", db_url,
            "--broadcast-url", redis_url,
            "--public-url", f"http://127.0.0.1:{port}",
        ]  # fmt: skip
        env = {"COVOTE_FACILITATOR_KEY": key, "COVOTE_SESSION_SECRET": secret}
        for limit in RATE_LIMITS:  # thousands of phones from one address, as in covote.server
            env[f"COVOTE_{limit.upper()}"] = "1000000/minute"
        if cfg.tick_hz is not None:
            env["COVOTE_TICK_HZ"] = str(cfg.tick_hz)
        procs.append(
            ServerProc(
                name=f"covote-{chr(ord('A') + i)}",
                argv=argv,
                port=port,
                log_path=work / f"scaleout-{i}.log",
                env=env,
                cwd=ROOT,
                core=cfg.server_core if cfg.pin else None,
                nice=cfg.nice,
                drop_env_prefix="COVOTE_",
            )
        )
    return procs
