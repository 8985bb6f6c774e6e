"""Nothing acknowledged is ever lost: SIGKILL the server while 200 phones vote at full speed.

Each phone casts in a closed loop (send, wait for the ack, send the next). After the kill and a
restart, every phone's stored ballot must be the last one acknowledged to it or a later one it
sent (committed, but the ack was lost with the process). Then every phone resends its
unacknowledged ballot, as the phone page does after a reconnect, and the stored ballots must be
exactly the last ones sent, with no duplicates; the tally must equal the recount of the file.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import websockets

from app.record.csvfiles import read_ballot_csv
from app.record.records import parse_meeting
from app.record.results import recount
from tests.conftest import FACILITATOR_KEY, TIME_FACTOR, with_csrf
from tests.processes import RELAXED_ENV, CovoteProcess, open_meeting

pytestmark = pytest.mark.slow

PHONES = 200
KILLS = 3


@dataclass
class PhoneLog:
    cookie: str
    sent: list[str] = field(default_factory=list)  # ballot ids in send order
    acked: int = -1  # index in `sent` of the last acknowledged ballot


async def join_phones(server: CovoteProcess, code: str) -> list[PhoneLog]:
    async def one(client: httpx.AsyncClient) -> PhoneLog:
        r = await client.get(f"/m/{code}")
        r.raise_for_status()
        csrf = re.search(r'name="csrf" value="([^"]+)"', r.text)
        assert csrf
        r = await client.post(
            f"/m/{code}/join", data={"csrf": csrf.group(1)}, follow_redirects=True
        )
        r.raise_for_status()
        return PhoneLog("; ".join(f"{k}={v}" for k, v in client.cookies.items()))

    logs = []
    for _ in range(PHONES // 50):
        clients = [httpx.AsyncClient(base_url=server.url) for _ in range(50)]
        logs += await asyncio.gather(*(one(c) for c in clients))
        for c in clients:
            await c.aclose()
    return logs


MARKS = ["want", "dont_want", "neutral"]


async def vote_until_killed(
    server: CovoteProcess, code: str, round_id: int, phones: list[PhoneLog], acks_before_kill: int
) -> None:
    """Vote at full speed; kill the server once `acks_before_kill` more ballots were acked.

    Counting acks rather than seconds keeps the test meaningful on a slow or busy machine."""

    async def phone(log: PhoneLog) -> None:
        ws_url = with_csrf(server.ws(code), log.cookie)
        try:
            async with websockets.connect(
                ws_url,
                additional_headers={"Cookie": log.cookie},
                compression=None,
                ping_interval=None,
            ) as ws:
                while True:
                    ballot_id = uuid.uuid4().hex
                    log.sent.append(ballot_id)
                    n = len(log.sent)
                    await ws.send(
                        json.dumps(
                            {
                                "type": "cast",
                                "ballot_id": ballot_id,
                                "round": round_id,
                                "marks": {"library": MARKS[n % 3], "respite": MARKS[(n + 1) % 3]},
                            }
                        )
                    )
                    while True:
                        msg = json.loads(await ws.recv())
                        if msg["type"] == "ack" and msg["ballot_id"] == ballot_id:
                            log.acked = len(log.sent) - 1
                            break
                        assert msg["type"] != "error", msg
        except (websockets.ConnectionClosed, OSError):
            return  # the server died under us

    def acks() -> int:
        return sum(log.acked + 1 for log in phones)

    target = acks() + acks_before_kill
    tasks = [asyncio.create_task(phone(p)) for p in phones]
    deadline = time.monotonic() + 60 * TIME_FACTOR
    while acks() < target and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert acks() >= target, "the phones could not vote"
    server.kill()
    await asyncio.wait(tasks, timeout=30 * TIME_FACTOR)


async def resend_pending(
    server: CovoteProcess, code: str, round_id: int, phones: list[PhoneLog]
) -> None:
    """What the phone page does after reconnecting: resend the unacknowledged ballot."""

    async def phone(log: PhoneLog) -> None:
        if log.acked == len(log.sent) - 1:
            return
        ballot_id = log.sent[-1]
        n = len(log.sent)
        async with websockets.connect(
            with_csrf(server.ws(code), log.cookie),
            additional_headers={"Cookie": log.cookie},
            compression=None,
        ) as ws:
            await ws.send(
                json.dumps(
                    {
                        "type": "cast",
                        "ballot_id": ballot_id,
                        "round": round_id,
                        "marks": {"library": MARKS[n % 3], "respite": MARKS[(n + 1) % 3]},
                    }
                )
            )
            while True:
                msg = json.loads(await ws.recv())
                if msg["type"] == "ack":
                    log.acked = n - 1
                    return

    await asyncio.gather(*(phone(p) for p in phones))


def stored_ballots(server: CovoteProcess, meeting_id: int) -> dict[str, str]:
    """voter cookie-independent view: pseudonym -> ballot_uid, read from the database."""
    import sqlite3

    con = sqlite3.connect(server.data / "covote.db")
    try:
        rows = con.execute(
            "SELECT v.pseudonym, b.ballot_uid FROM ballot b JOIN voter v ON v.id = b.voter_id"
        ).fetchall()
    finally:
        con.close()
    return dict(rows)


def test_acknowledged_ballots_survive_sigkill_and_resends_do_not_duplicate(tmp_path: Path) -> None:
    """Kill -9 mid-vote, several times: no acknowledged ballot is lost, no ballot is doubled."""
    server = CovoteProcess(tmp_path / "data", env=RELAXED_ENV)
    server.start()
    try:
        code, meeting_id, round_id = open_meeting(server.url)
        phones = asyncio.run(join_phones(server, code))
        for attempt in range(KILLS):
            asyncio.run(vote_until_killed(server, code, round_id, phones, 400 + 170 * attempt))
            server.start()
            kept = set(stored_ballots(server, meeting_id).values())
            for log in phones:
                if log.acked < 0:
                    continue
                later = set(log.sent[log.acked :])
                assert kept & later, "an acknowledged ballot was lost"
        asyncio.run(resend_pending(server, code, round_id, phones))
        stored = stored_ballots(server, meeting_id)
        assert len(stored) == sum(1 for log in phones if log.sent)
        assert sorted(stored.values()) == sorted(log.sent[-1] for log in phones if log.sent)

        with httpx.Client(base_url=server.url) as f:
            f.get(f"/facilitator?key={FACILITATOR_KEY}")
            found = re.search(r'name="csrf" value="([^"]+)"', f.get("/console").text)
            assert found is not None
            csrf = found.group(1)
            f.post(f"/console/{meeting_id}/rounds/1/close", data={"csrf": csrf, "confirm": "yes"})
            f.post(f"/console/{meeting_id}/rounds/1/reveal", data={"csrf": csrf})
            shown = f.get(f"/api/m/{code}").json()["results"]
            meeting = parse_meeting(f.get(f"/console/{meeting_id}/export/meeting.json").text)
            rows = read_ballot_csv(f.get(f"/console/{meeting_id}/export/ballots.csv").text, meeting)
        recounted = recount(meeting, rows)["rounds"][0]
        assert [
            (p["id"], p["V"], p["W"], p["D"], p["category"]) for p in recounted["proposals"]
        ] == [(p["id"], p["V"], p["W"], p["D"], p["category"]) for p in shown["proposals"]]
        assert recounted["proposals"][0]["V"] == len(stored)
    finally:
        server.stop()
