#!/usr/bin/env python3
"""Server CPU per fan-out frame, in one process, on uvicorn's own WebSocket protocol objects.

    .venv/bin/python scripts/bench_fanout.py            300, 1,000 and 2,000 sockets
    .venv/bin/python scripts/bench_fanout.py 5000       (or: scripts/bench fanout 5000)

N `websockets-sansio` protocol objects (the implementation `covote serve` runs) are opened with
fake transports that only count bytes, and one ~2.5 KB snapshot per round is offered to each
connection's mailbox, through the two paths the hub has:
- `writer`: the mailbox wakes the connection's writer task, which sends with its deadline
  (`ws._writer`: asyncio.timeout, `send_text`; uvicorn encodes and frames the text per socket);
- `sink`: the frame, encoded once (`protocol.wire_text`), is written straight to each idle
  socket's transport (`ws.sink_of`).
Reported: process CPU per frame (the 10th percentile of 40 rounds, best of two passes), so
other processes on a shared machine hardly move it; the kernel's write per socket is not in
it (the transports are fake). `scripts/bench` measures the whole path with real sockets.
Prints one JSON object on stdout.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import uvloop  # noqa: E402
from starlette.types import Receive, Scope, Send  # noqa: E402
from starlette.websockets import WebSocket, WebSocketState  # noqa: E402
from uvicorn.config import Config  # noqa: E402
from uvicorn.protocols.websockets.websockets_sansio_impl import (  # noqa: E402
    WebSocketsSansIOProtocol,
)
from uvicorn.server import ServerState  # noqa: E402

from app.live.mailbox import Mailbox  # noqa: E402
from app.live.protocol import wire_text  # noqa: E402
from app.web.ws import _writer, sink_of  # noqa: E402

ROUNDS = 40
HANDSHAKE = (
    b"GET /ws HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


class CountingTransport(asyncio.Transport):
    """Takes every write at once (a socket whose buffer never fills) and counts the bytes."""

    def __init__(self) -> None:
        super().__init__()
        self.written = 0
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += len(data)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 8000) if name in ("peername", "sockname") else default

    def pause_reading(self) -> None:
        return None

    def resume_reading(self) -> None:
        return None


async def measure(n: int) -> dict[str, Any]:
    opened: list[tuple[Scope, Receive, Send]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "websocket.accept"})
        opened.append((scope, receive, send))
        await asyncio.Event().wait()

    config = Config(
        app=app, ws="websockets-sansio", ws_per_message_deflate=False, log_level="critical"
    )
    config.load()
    state = ServerState()
    protocols = []
    for _ in range(n):
        proto = WebSocketsSansIOProtocol(config, state, app_state={})
        proto.connection_made(CountingTransport())
        proto.data_received(HANDSHAKE)
        protocols.append(proto)
    while len(opened) < n:
        await asyncio.sleep(0.01)
    body = "a" * 2500
    best: dict[str, float] = {}
    for path in ("writer", "sink", "writer", "sink"):
        boxes: list[Mailbox] = []
        tasks = []
        for scope, receive, send in opened:
            box = Mailbox(64)
            box.sink = sink_of(send) if path == "sink" else None
            ws = WebSocket(scope, receive, send)
            ws.client_state = ws.application_state = WebSocketState.CONNECTED
            tasks.append(asyncio.create_task(_writer(ws, box, 5.0)))
            boxes.append(box)
        await asyncio.sleep(0.05)
        per_frame = []
        for r in range(ROUNDS):
            text = json.dumps({"type": "snapshot", "seq": r, "x": body})
            t0 = time.process_time()
            wire = wire_text(text) if path == "sink" else None
            for box in boxes:
                box.offer(text, wire)
            for _ in range(3):  # the writer tasks send
                await asyncio.sleep(0)
            per_frame.append((time.process_time() - t0) / n * 1e6)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        per_frame.sort()
        p10 = per_frame[ROUNDS // 10]
        best[path] = min(best.get(path, p10), p10)
    for proto in protocols:
        proto.transport.close()
    return {
        "sockets": n,
        "writer_task_us_per_frame": round(best["writer"], 2),
        "sink_us_per_frame": round(best["sink"], 2),
    }


def main() -> int:
    sizes = [int(a) for a in sys.argv[1:]] or [300, 1000, 2000]
    results = [uvloop.run(measure(n)) for n in sizes]
    print(json.dumps({"fanout_micro": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
