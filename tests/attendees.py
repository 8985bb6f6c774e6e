"""Attendees' browsers against a real server, at their own loopback addresses: the phone
page's HTTP requests (join, ballot API, no-script form) and its live WebSocket, as
app/static/phone/phone.js and live.js use them. For tests that run `covote serve` as a process
(tests/processes.py) with many devices, such as tests/test_hostile.py.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import websockets
from websockets.typing import Origin

from tests.conftest import TIME_FACTOR
from tests.processes import CovoteProcess

MARKS = ("want", "dont_want", "neutral")
CSRF_HEADER = "X-Covote-CSRF"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
JOIN_FORM = re.compile(r'<form\b[^>]*\bid="join-form"[^>]*\baction="([^"]+)"')
# A phone waits this long for an ack before it counts the ballot as lost (the page would say
# "Not saved yet" after 5 s and retry; the product must ack long before either).
ACK_WITHIN_S = 10 * TIME_FACTOR


# Idle connections are dropped well before the server's keep-alive timeout (uvicorn: 5 s), so a
# request never goes out on a connection the server is closing at that moment (a browser would
# silently retry it; httpx reports it as a failure).
KEEPALIVE_S = 1.0


def http_client(base_url: str, address: str) -> httpx.AsyncClient:
    """A browser's HTTP client, its connections made from `address`; never a proxy."""
    return httpx.AsyncClient(
        base_url=base_url,
        transport=httpx.AsyncHTTPTransport(
            local_address=address, limits=httpx.Limits(keepalive_expiry=KEEPALIVE_S)
        ),
        timeout=ACK_WITHIN_S,  # every answer, a stored ballot's included, comes within this
        trust_env=False,
    )


Reply = dict[str, Any]


class LiveSocket:
    """The page's live connection (app/static/shared/live.js): frames are read all the time, and the
    personal ones (ack, error) are handed to whoever waits for a reply, in arrival order."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.snapshots = 0
        self._replies: asyncio.Queue[Reply] = asyncio.Queue()
        self._closed: Reply | None = None
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(
        cls, url: str, *, address: str, cookie: str | None = None, origin: str | None = None
    ) -> LiveSocket:
        """Raises websockets.InvalidStatus when the server refuses the handshake."""
        ws = await websockets.connect(
            url,
            additional_headers={"Cookie": cookie} if cookie else {},
            origin=Origin(origin) if origin else None,
            compression=None,
            proxy=None,
            ping_interval=None,
            open_timeout=20 * TIME_FACTOR,
            local_addr=(address, 0),
        )
        live = cls(ws)
        await live.send({"type": "hello", "last_seq": None})
        return live

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                if msg.get("type") in ("ack", "error"):
                    self._replies.put_nowait(msg)
                elif msg.get("type") == "snapshot":
                    self.snapshots += 1
        except websockets.ConnectionClosed:
            pass
        finally:
            self._closed = {"type": "closed", "code": self.ws.close_code}
            self._replies.put_nowait(self._closed)

    async def send(self, frame: dict[str, Any] | str) -> bool:
        """False if the socket is closed (nothing was sent)."""
        try:
            await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))
            return True
        except websockets.ConnectionClosed:
            return False

    async def reply(self, timeout: float = ACK_WITHIN_S) -> Reply:
        """The next ack or error; `closed` once the socket is gone; `timeout` if none came."""
        if self._replies.empty() and self._closed is not None:
            return self._closed
        try:
            return await asyncio.wait_for(self._replies.get(), timeout)
        except TimeoutError:
            return {"type": "timeout"}

    async def cast(self, round_id: int, marks: dict[str, str], ballot_id: str) -> Reply:
        """Send a whole ballot; the reply for this ballot id (older versions' are skipped)."""
        frame = {"type": "cast", "ballot_id": ballot_id, "round": round_id, "marks": marks}
        if not await self.send(frame):
            return self._closed or {"type": "closed", "code": None}
        deadline = time.monotonic() + ACK_WITHIN_S
        while True:
            msg = await self.reply(max(0.0, deadline - time.monotonic()))
            if msg["type"] in ("closed", "timeout") or msg.get("ballot_id") == ballot_id:
                return msg

    async def close(self) -> None:
        await self.ws.close()
        await self._reader


class Browser:
    """An attendee's browser at one address: its cookie jar and the session's CSRF token."""

    def __init__(self, server: CovoteProcess, code: str, address: str) -> None:
        self.server, self.code, self.address = server, code, address
        self.http = http_client(server.url, address)
        self.csrf = ""
        self.round_id: int | None = None

    def cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())

    async def join(self) -> bool:
        """Join as a person does: open the phone page and press Join (a GET never joins)."""
        try:
            page = await self.http.get(f"/m/{self.code}")
            form = JOIN_FORM.search(page.text)
            csrf = CSRF_FIELD.search(page.text)
            if form and csrf:
                r = await self.http.post(form.group(1), data={"csrf": csrf.group(1)})
                if r.status_code != 303:
                    return False
            return await self.read_page()
        except (OSError, httpx.HTTPError):
            return False

    async def read_page(self) -> bool:
        """The phone page as a joined voter sees it: its CSRF token and the open round."""
        page = await self.http.get(f"/m/{self.code}")
        found = CSRF_FIELD.search(page.text)
        shown = re.search(r'data-round-id="(\d+)"', page.text)
        if page.status_code != 200 or not found or not shown:
            return False
        self.csrf, self.round_id = found.group(1), int(shown.group(1))
        return True

    async def read_form(self) -> dict[str, str] | None:
        """The hidden fields of the page's ballot form (round, ballot_id; csrf is added later),
        or None if the page has no ballot form."""
        page = await self.http.get(f"/m/{self.code}")
        hidden = r'type="hidden" name="(round|ballot_id)" value="([^"]*)"'
        found = dict(re.findall(hidden, page.text))
        return found if set(found) == {"round", "ballot_id"} else None

    async def socket(self, *, origin: str | None = None, csrf: str | None = None) -> LiveSocket:
        """The phone page's socket: the page's own Origin and the session's CSRF token."""
        token = self.csrf if csrf is None else csrf
        url = self.server.ws(self.code) + (f"?csrf={quote(token)}" if token else "")
        return await LiveSocket.open(
            url,
            address=self.address,
            cookie=self.cookie(),
            origin=self.server.url if origin is None else origin,
        )

    async def post_ballot(self, body: dict[str, Any] | str) -> httpx.Response:
        """POST /api/m/CODE/ballot, as phone.js does when the socket is down."""
        content = body if isinstance(body, str) else json.dumps(body)
        return await self.http.post(
            f"/api/m/{self.code}/ballot",
            content=content,
            headers={"Content-Type": "application/json", CSRF_HEADER: self.csrf},
        )

    async def post_form(self, fields: dict[str, str]) -> httpx.Response:
        """The no-JavaScript ballot form."""
        return await self.http.post(f"/m/{self.code}/ballot", data={"csrf": self.csrf, **fields})

    async def aclose(self) -> None:
        await self.http.aclose()


def new_ballot_id() -> str:
    return uuid.uuid4().hex  # what phone.js makes: 16 random bytes in hex
