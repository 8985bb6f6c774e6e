"""The physical limit of this stack on this box: a bare Starlette app, no database.

Run with the same uvicorn flags as `covote serve`:
    uvicorn benchlib.bare_app:app --ws websockets-sansio --loop uvloop --http httptools \
        --ws-per-message-deflate false

`/ws` text frames:
    "C..." -> "A..." to the sender (echo: what a cast and its ack cost at the least)
    "B..." -> the same frame to every connected socket, by a direct `await send` loop
`GET /` answers "ok" (readiness).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

clients: set[WebSocket] = set()


async def ready(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def socket(ws: WebSocket) -> None:
    await ws.accept()
    clients.add(ws)
    try:
        while True:
            msg = await ws.receive_text()
            kind = msg[:1]
            if kind == "C":
                await ws.send_text("A" + msg[1:])
            elif kind == "B":
                for other in list(clients):
                    try:
                        await other.send_text(msg)
                    except (WebSocketDisconnect, RuntimeError, OSError):
                        clients.discard(other)
    except WebSocketDisconnect:
        pass
    finally:
        clients.discard(ws)


app = Starlette(routes=[Route("/", ready), WebSocketRoute("/ws", socket)])
