"""The keypad path under load: 1,000 keypads press within 5 seconds through a KPL/1 receiver.

Starts `covote serve` (SQLite, fresh data dir) reading an emulated KPL/1 receiver on a
pseudo-terminal (the real `serial://` driver, reader thread, de-duplication, keypad desk and
ballot writer), registers the keypads, opens a keypad round, connects a projector, and presses
every keypad once, spread evenly over the window. Reports presses counted (the projector's
turnout and the exported ballot rows must both reach N) and press-to-projector latency: for
the i-th press, the time until the projector first shows at least i votes.

    .venv/bin/python scripts/bench_keypads.py [--keypads 1000] [--window 5] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from hardware.emulator import KplEmulator

KEY = "bench-keypads"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else values[0]


async def run(keypads: int, window: float) -> dict[str, object]:
    data = Path(tempfile.mkdtemp(prefix="covote-bench-kp-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with KplEmulator(heartbeat_s=2.0) as emu:
        env = dict(os.environ, COVOTE_FACILITATOR_KEY=KEY)
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--data",
                str(data),
                "--public-url",
                base,
                "--keypads",
                emu.url,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            async with httpx.AsyncClient(base_url=base, timeout=30) as f:
                for _ in range(200):
                    try:
                        await f.get("/")
                        break
                    except httpx.TransportError:
                        await asyncio.sleep(0.05)
                await f.get(f"/facilitator?key={KEY}")
                csrf = re.search(r'name="csrf" value="([^"]+)"', (await f.get("/console")).text)
                assert csrf
                token = csrf.group(1)
                meeting = {
                    "title": "Keypad bench",
                    "segments": [],
                    "proposals": [{"id": "p1", "title": "One", "kind": "keep"}],
                }
                r = await f.post(
                    "/console/import",
                    data={"csrf": token},
                    files={"file": ("m.json", json.dumps(meeting).encode())},
                )
                mid = int(r.headers["location"].split("/")[2])
                code = re.search(
                    r'class="code">([A-Z0-9]{6})<', (await f.get(f"/console/{mid}")).text
                )
                assert code
                ids = [f"{i:06X}" for i in range(1, keypads + 1)]
                rows = "keypad,label,segments\n" + "".join(f"kpl:{k},{k}," + "\n" for k in ids)
                r = await f.post(
                    f"/console/{mid}/keypads/import",
                    data={"csrf": token},
                    files={"file": ("k.csv", rows.encode())},
                )
                assert r.status_code == 303, r.text[:300]
                await f.post(
                    f"/console/{mid}/rounds",
                    data={"csrf": token, "proposal": "p1", "keypads": "on"},
                )
                for _ in range(200):
                    if emu.accepting:
                        break
                    await asyncio.sleep(0.05)

                sent: list[float] = []
                shown: list[float] = []
                async with websockets.connect(
                    f"ws://127.0.0.1:{port}/ws/m/{code.group(1)}", compression=None
                ) as projector:
                    await projector.recv()

                    async def watch() -> None:
                        while len(shown) < keypads:
                            msg = json.loads(await projector.recv())
                            if msg["type"] in ("snapshot", "turnout"):
                                now = time.perf_counter()
                                while len(shown) < min(msg["turnout"]["voted"], keypads):
                                    shown.append(now)

                    watcher = asyncio.create_task(watch())
                    start = time.perf_counter()
                    for i, k in enumerate(ids):
                        target = start + window * i / keypads
                        delay = target - time.perf_counter()
                        if delay > 0:
                            await asyncio.sleep(delay)
                        sent.append(time.perf_counter())
                        emu.press(k, "1", seq=1)
                    await asyncio.wait_for(watcher, 60)
                export = (await f.get(f"/console/{mid}/export/ballots.csv")).text
                stored = sum(",keypad," in line for line in export.splitlines())
        finally:
            server.terminate()
            server.wait(10)
    latencies = [(s - t) * 1000 for s, t in zip(shown, sorted(sent), strict=True)]
    return {
        "keypads": keypads,
        "window_s": window,
        "counted_on_projector": len(shown),
        "stored_keypad_ballots": stored,
        "press_to_projector_p50_ms": round(percentile(latencies, 50), 1),
        "press_to_projector_p99_ms": round(percentile(latencies, 99), 1),
        "press_to_projector_max_ms": round(max(latencies), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keypads", type=int, default=1000)
    parser.add_argument("--window", type=float, default=5.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args.keypads, args.window))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for k, v in result.items():
            print(f"{k:32} {v}")
    ok = result["counted_on_projector"] == result["stored_keypad_ballots"] == args.keypads
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
