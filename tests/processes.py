"""`covote serve` as a real process, for tests that kill it or run several of them."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import FACILITATOR_KEY, MEETING, RELAXED_LIMITS, TIME_FACTOR

# For tests that join hundreds of phones from one address: the rate limits lifted.
RELAXED_ENV = {f"COVOTE_{name.upper()}": value for name, value in RELAXED_LIMITS.items()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CovoteProcess:
    """One server process on a free port; `start()` again after `kill()` restarts it."""

    def __init__(
        self, data: Path, *args: str, env: dict[str, str] | None = None, log: Path | None = None
    ) -> None:
        self.data, self.port = data, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args, self.env = args, env or {}
        self.log = log  # the server's stderr goes here (appended across restarts), else nowhere
        self.proc: subprocess.Popen[bytes] | None = None

    def ws(self, code: str) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/m/{code}"

    def start(self) -> CovoteProcess:
        cmd = [
            sys.executable,
            "-m",
            "app.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data",
            str(self.data),
            "--public-url",
            self.url,
            *self.args,
        ]
        env = dict(os.environ, COVOTE_FACILITATOR_KEY=FACILITATOR_KEY, **self.env)
        if self.log is None:
            self.proc = subprocess.Popen(
                cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        else:
            with self.log.open("ab") as stderr:
                self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + 20 * TIME_FACTOR
        while True:
            try:
                if httpx.get(self.url + "/", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("covote serve did not start")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when a laptop crashes."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def open_meeting(url: str) -> tuple[str, int, int]:
    """Import the test meeting through the console and open a round on every proposal.

    Returns (code, meeting id, round id)."""
    with httpx.Client(base_url=url) as f:
        f.get(f"/facilitator?key={FACILITATOR_KEY}")
        csrf = re.search(r'name="csrf" value="([^"]+)"', f.get("/console").text)
        assert csrf
        r = f.post(
            "/console/import",
            data={"csrf": csrf.group(1)},
            files={"file": ("m.json", json.dumps(MEETING).encode(), "application/json")},
        )
        meeting_id = int(r.headers["location"].split("/")[2])
        code = re.search(r'class="code">([A-Z0-9]{6})<', f.get(f"/console/{meeting_id}").text)
        assert code
        f.post(
            f"/console/{meeting_id}/rounds",
            data={"csrf": csrf.group(1), "proposal": ["library", "respite", "toilets"]},
        )
        return code.group(1), meeting_id, f.get(f"/api/m/{code.group(1)}").json()["round"]["id"]
