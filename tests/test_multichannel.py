"""One ticketed meeting on all four channels at once — a phone in the room, a computer at home,
a keypad and a paper ballot — with every cross-channel double vote refused, and the export
bundle standing on its own: it recounts to its results, its audit log verifies against its
ballots and the report's hash, and nothing in it names a ticket code, an address or a device."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx

from tests.conftest import LiveServer, Meeting, Phone
from tests.test_keypads import capture, eventually
from tests.test_paper import key
from tests.test_tickets import TICKETS, codes, error_of, holder, issue, redeem

HOME_ADDRESS = "81.2.69.142"  # a public address: the voter is at home, not in the hall
BROWSER = "Mozilla/5.0 (SecretPhone 9; Covote-test)"


def approved(server: LiveServer, m: Meeting, code: str, number: int) -> Phone:
    """A new browser that asked to take ticket `number` over, approved by the facilitator."""
    client = server.browser()
    assert redeem(client, code).status_code == 303
    m.post(f"/tickets/{number}/approve")
    r = client.get(f"/t/{code}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/m/{m.code}", r.text
    return Phone(client, m.code)


def test_four_channels_one_vote_each_and_a_bundle_that_checks_out(
    server: LiveServer, facilitator: httpx.Client, tmp_path: Path
) -> None:
    m = Meeting(facilitator, TICKETS)
    issue(m, 5)
    cards = codes(m)
    room = holder(server, m, cards[1], **{"User-Agent": BROWSER})
    home = holder(server, m, cards[2], **{"X-Forwarded-For": HOME_ADDRESS, "User-Agent": BROWSER})
    m.post("/tickets/checkin", ticket="3", keypad="wedge:3", label="K3")
    assert room.segments("carer").status_code == 200

    m.post("/rounds", proposal=["library", "respite", "toilets"], keypads="on")
    assert room.vote({"library": "want", "respite": "want"}).status_code == 200
    assert home.vote({"library": "dont_want", "toilets": "want"}).status_code == 200
    capture(m, "3 1")  # keypad K3 presses 1 (WANT) on the proposal on screen: library
    # Ticket No. 4 votes on paper; both keyings agree.
    for keying in (1, 2):
        r = key(m, keying, 1, {"respite": "dont_want"}, segments=("north",), ticket=4)
        assert r.status_code == 303, r.text
    m.post("/rounds/1/paper/count")
    eventually(lambda: m.state()["turnout"]["voted"] == 4)
    assert m.state()["turnout"]["by_channel"] == {"phone": 1, "remote": 1, "keypad": 1, "paper": 1}

    # Every second channel is refused, clearly, and changes nothing.
    # (A phone taking over a paper or keypad voter waits for the facilitator's approval.)
    status, code, message = error_of(approved(server, m, cards[4], 4).vote({"library": "want"}))
    assert (status, code) == (409, "conflict")
    assert message == "You have already voted on paper in this round; that ballot stands."
    status, code, message = error_of(approved(server, m, cards[3], 3).vote({"library": "want"}))
    assert (status, code) == (409, "conflict") and "vote with your keypad" in message
    for keying in (1, 2):  # a paper ballot for the voter who voted from home
        assert key(m, keying, 2, {"toilets": "dont_want"}, ticket=2).status_code == 303
    m.post("/rounds/1/paper/count")
    status_page = m.f.get(f"/console/{m.id}/rounds/1/paper").text
    assert "already voted online in this round" in status_page
    assert m.state()["turnout"]["voted"] == 4

    m.close_round(1)
    snapshot = m.state()["turnout"]
    assert snapshot["registered"] == 5 and snapshot["present"] == 4

    # The bundle, on its own.
    r = m.f.get(f"/console/{m.id}/export/bundle.zip")
    assert r.status_code == 200
    folder = tmp_path / "bundle"
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        z.extractall(folder)
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        assert hashlib.sha256((folder / name.lstrip("*")).read_bytes()).hexdigest() == digest

    rows = list(csv.DictReader(io.StringIO((folder / "ballots.csv").read_text())))
    assert len({row["voter"] for row in rows}) == 4  # four people, one ballot each
    # One voter per channel, fewer than m = 2: the file merges them so none is singled out
    # (README, Anonymity); the turnout above and in the report keeps the totals per channel.
    assert {row["channel"] for row in rows} == {"other"}

    recount = subprocess.run(
        [
            *(sys.executable, "-m", "app.cli", "recount", "ballots.csv"),
            *("--groups", "groups.csv", "--meeting", "meeting.json"),
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    assert recount.stdout == (folder / "results.json").read_text()

    links = [json.loads(line) for line in (folder / "audit.jsonl").read_text().splitlines()]
    assert links[-1]["hash"] in (folder / "report.html").read_text()  # the published head
    verify = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "audit",
            "verify",
            "audit.jsonl",
            "--ballots",
            "ballots.csv",
            "--groups",
            "groups.csv",
            "--meeting",
            "meeting.json",
            "--head",
            links[-1]["hash"],
        ],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0, verify.stderr
    assert "the rows of 1 closed rounds match their seals" in verify.stdout

    # Anonymity: no ticket code, address or browser anywhere in the bundle; no audit link
    # that names both a ticket number and a pseudonym.
    everything = b"".join(p.read_bytes() for p in folder.iterdir())
    secrets = [*cards.values(), *(c.replace("-", "") for c in cards.values())]
    for secret in (*secrets, HOME_ADDRESS, "127.0.0.1", "SecretPhone"):
        assert secret.encode() not in everything, secret
    for link in links:
        text = json.dumps(link["data"])
        assert not (re.search(r"\bv-[0-9a-f]{10,16}\b", text) and "number" in link["data"]), link
