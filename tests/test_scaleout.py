"""Several server processes over PostgreSQL and Redis: any process's projector sees every ballot.

Needs PostgreSQL on 127.0.0.1:5432 and the `redis-server` program (a private Redis is started
on a free port so that it can be restarted mid-vote); skipped with the reason otherwise.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from tests.conftest import TIME_FACTOR, with_csrf
from tests.processes import RELAXED_ENV, CovoteProcess, free_port, open_meeting

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


class PrivateRedis:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.dir = tmp
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10 * TIME_FACTOR
        while (
            subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
            ).stdout.strip()
            != "PONG"
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("redis did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        pytest.skip("redis-server is not installed; the scale-out tests need a real Redis")
    r = PrivateRedis(tmp_path)
    r.start()
    yield r
    r.stop()


def process(data: Path, postgres_url: str, redis_url: str) -> CovoteProcess:
    # Periodic resync is set far beyond the test's waits, so what the projector sees must
    # come through Redis signals and the listener's resync after reconnecting.
    return CovoteProcess(
        data,
        "--database-url",
        postgres_url,
        "--broadcast-url",
        redis_url,
        env={
            **RELAXED_ENV,
            "COVOTE_SESSION_SECRET": "shared-by-all-processes",
            "COVOTE_RESYNC_S": "600",
        },
    ).start()


async def join(proc: CovoteProcess, code: str) -> str:
    async with httpx.AsyncClient(base_url=proc.url) as c:
        page = await c.get(f"/m/{code}")
        page.raise_for_status()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf
        joined = await c.post(
            f"/m/{code}/join", data={"csrf": csrf.group(1)}, follow_redirects=True
        )
        joined.raise_for_status()
        return "; ".join(f"{k}={v}" for k, v in c.cookies.items())


async def cast(ws_url: str, cookie: str, round_id: int, ballot_id: str) -> None:
    async with websockets.connect(
        with_csrf(ws_url, cookie), additional_headers={"Cookie": cookie}, compression=None
    ) as ws:
        await ws.send(
            json.dumps(
                {
                    "type": "cast",
                    "ballot_id": ballot_id,
                    "round": round_id,
                    "marks": {"library": "want"},
                }
            )
        )
        while True:
            msg = json.loads(await ws.recv())
            assert msg["type"] != "error", msg
            if msg["type"] == "ack":
                return


async def wait_for_voted(ws: websockets.ClientConnection, voted: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout * TIME_FACTOR
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"the projector never showed {voted} votes"
        msg = json.loads(await asyncio.wait_for(ws.recv(), left))
        if msg["type"] in ("snapshot", "turnout") and msg["turnout"]["voted"] >= voted:
            assert msg["turnout"]["voted"] == voted
            return


def test_projector_on_one_process_sees_ballots_cast_on_another_even_across_a_redis_restart(
    tmp_path: Path, postgres_url: str, redis_server: PrivateRedis
) -> None:
    """Phones on A, projector on B; Redis is killed and restarted mid-vote; B catches up."""
    a = process(tmp_path / "a", postgres_url, redis_server.url)
    b = process(tmp_path / "b", postgres_url, redis_server.url)
    try:
        code, _, round_id = open_meeting(a.url)

        async def scenario() -> None:
            async with websockets.connect(b.ws(code), compression=None) as projector:
                cookies = await asyncio.gather(*(join(a, code) for _ in range(40)))
                await asyncio.gather(
                    *(cast(a.ws(code), c, round_id, uuid.uuid4().hex) for c in cookies[:30])
                )
                await wait_for_voted(projector, 30, timeout=5)
                redis_server.stop()
                await asyncio.gather(
                    *(cast(a.ws(code), c, round_id, uuid.uuid4().hex) for c in cookies[30:])
                )
                redis_server.start()
                await wait_for_voted(projector, 40, timeout=10)

        asyncio.run(scenario())
    finally:
        a.stop()
        b.stop()


def test_a_ballot_resent_to_another_process_lands_once(
    tmp_path: Path, postgres_url: str, redis_server: PrivateRedis
) -> None:
    """A phone that reconnects to a different process and resends its ballot is counted once."""
    a = process(tmp_path / "a", postgres_url, redis_server.url)
    b = process(tmp_path / "b", postgres_url, redis_server.url)
    try:
        code, _, round_id = open_meeting(a.url)

        async def scenario() -> None:
            cookies = await asyncio.gather(*(join(a, code) for _ in range(20)))
            ids = [uuid.uuid4().hex for _ in cookies]
            await asyncio.gather(
                *(cast(a.ws(code), c, round_id, i) for c, i in zip(cookies, ids, strict=True))
            )
            await asyncio.gather(
                *(cast(b.ws(code), c, round_id, i) for c, i in zip(cookies, ids, strict=True))
            )
            # and fresh ballots from half of them on B replace, not add
            await asyncio.gather(
                *(cast(b.ws(code), c, round_id, uuid.uuid4().hex) for c in cookies[:10])
            )

        asyncio.run(scenario())
        state = httpx.get(f"{b.url}/api/m/{code}").json()
        assert state["turnout"]["voted"] == 20
        assert state["turnout"]["present"] == 20
    finally:
        a.stop()
        b.stop()


def test_the_presenter_on_one_process_drives_a_projector_on_another(
    tmp_path: Path, postgres_url: str, redis_server: PrivateRedis
) -> None:
    """The console on A blanks the screen and shows the join code; B's projector follows each
    (the screen is kept in Redis, the change travels as a signal, B renders it)."""
    from tests.conftest import FACILITATOR_KEY

    a = process(tmp_path / "a", postgres_url, redis_server.url)
    b = process(tmp_path / "b", postgres_url, redis_server.url)
    try:
        code, meeting_id, _ = open_meeting(a.url)

        async def scenario() -> None:
            async with (
                httpx.AsyncClient(base_url=a.url) as f,
                websockets.connect(b.ws(code), compression=None) as projector,
            ):
                await f.get(f"/facilitator?key={FACILITATOR_KEY}")
                csrf = re.search(r'name="csrf" value="([^"]+)"', (await f.get("/console")).text)
                assert csrf
                for action in ("blank", "join"):
                    r = await f.post(
                        f"/console/{meeting_id}/screen",
                        data={"csrf": csrf.group(1), "action": action},
                    )
                    assert r.status_code == 303, r.text
                    await wait_for_screen(projector, action, timeout=5)
            state = httpx.get(f"{b.url}/api/m/{code}").json()
            assert state["screen"]["mode"] == "join" and state["screen"]["version"] == 2

        asyncio.run(scenario())
    finally:
        a.stop()
        b.stop()


async def wait_for_screen(ws: websockets.ClientConnection, mode: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout * TIME_FACTOR
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"the projector never showed the screen {mode}"
        msg = json.loads(await asyncio.wait_for(ws.recv(), left))
        if msg["type"] == "snapshot" and msg["screen"]["mode"] == mode:
            return
