"""A hostile attendee against a real `covote serve`, while 200 honest phones vote.

One server process, two meetings: an open one (200 phones joined from their own loopback
addresses, voting as the phone page does: over the live WebSocket, a few over the HTTP API or the
no-JavaScript form) and a tickets one (a few ticket holders). From its own address, an attendee
of both meetings runs the attacks of issue 11 concurrently with the vote, each bounded in count
and time: out-of-range and huge numbers, reused and reserved ballot ids, 500 rapid versions, a
voter-creation flood, ticket-code guessing, a cross-origin socket, oversized, deeply nested and
NaN bodies, and texts with NUL and bidi controls. A probe asks for a cheap page every 100 ms.

Checked afterwards, as product-level invariants: every attack was answered with a 4xx or an
error frame (never a 5xx, never silence); the probe never failed nor waited long; the server is
alive and acknowledges a new ballot; nobody was created by GETs or guesses; paper sheets whose
ids the attacker imitated are keyed and counted; and in each meeting's export bundle every
honest acknowledged final ballot is present (as a multiset of ballots: pseudonyms are not known
to phones), and the bundle's own `covote audit verify` and `covote recount` commands pass, the
recount printing exactly its results.json with the outcomes the projector showed.

The attendees' clients are in tests/attendees.py, the attacks in tests/attacks.py.
"""

from __future__ import annotations

import asyncio
import copy
import csv
import io
import json
import os
import random
import re
import shlex
import subprocess
import sys
import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
import websockets

from tests.attacks import ATTACKS, Attacker, run_attack
from tests.attendees import (
    ACK_WITHIN_S,
    CSRF_FIELD,
    KEEPALIVE_S,
    MARKS,
    Browser,
    LiveSocket,
    http_client,
    new_ballot_id,
)
from tests.conftest import FACILITATOR_KEY, MEETING, TIME_FACTOR
from tests.processes import CovoteProcess

pytestmark = pytest.mark.slow

PHONES = 200
TICKET_HOLDERS = 6
PROPOSALS = ("library", "respite", "toilets")

# Loopback addresses (Linux routes all of 127.0.0.0/8 to lo): one per honest device, so limits
# per address throttle the attacker (tests/attacks.py: its own), not the room. Only 127.x.
PROBE = "127.0.3.1"
LATE_PHONE = "127.0.1.250"


def phone_address(i: int) -> str:
    return f"127.0.1.{i + 1}"


def holder_address(i: int) -> str:
    return f"127.0.2.{i + 1}"


# The probe: a cheap page every 100 ms, each answered within a generous bound.
PROBE_EVERY_S = 0.1
PROBE_BOUND_S = 5 * TIME_FACTOR
# Paper sheets keyed after the attacks (numbers 1 and 2: the attacker sent their old ids).
PAPER = {
    1: {"library": "want", "respite": "dont_want", "toilets": "neutral"},
    2: {"library": "dont_want", "respite": "want", "toilets": "want"},
}


# --- honest phones ---------------------------------------------------------------------------

Way = Literal["socket", "api", "form"]


@dataclass
class Phone:
    """An honest attendee and what the server acknowledged to it."""

    browser: Browser
    way: Way
    final: dict[str, str] | None = None  # marks of the last acknowledged ballot
    acks: int = 0
    failures: list[str] = field(default_factory=list)


def way_of(i: int) -> Way:
    """Most phones vote over the socket; one in ten over the API, one in ten with no script."""
    return "api" if i % 10 == 1 else "form" if i % 10 == 2 else "socket"


async def cast_once(phone: Phone, live: LiveSocket | None, marks: dict[str, str]) -> None:
    """One whole ballot the way this phone sends it; `final` moves only on an ack."""
    b = phone.browser
    assert b.round_id is not None
    ballot_id = new_ballot_id()
    if phone.way == "socket":
        assert live is not None
        reply = await live.cast(b.round_id, marks, ballot_id)
        ok, what = reply["type"] == "ack", json.dumps(reply)
    elif phone.way == "api":
        r = await b.post_ballot({"ballot_id": ballot_id, "round": b.round_id, "marks": marks})
        ok, what = r.status_code == 200, f"HTTP {r.status_code} {r.text[:200]}"
    elif (form := await b.read_form()) is None:  # the page after the last save
        ok, what = False, "the phone page shows no ballot form"
    else:
        fields = {f"mark:{p}": m for p, m in marks.items()}
        r = await b.post_form({**form, **fields})
        ok = r.status_code == 303 and "saved=1" in r.headers.get("location", "")
        what = f"HTTP {r.status_code} {r.text[:200]}"
    if ok:
        phone.final, phone.acks = dict(marks), phone.acks + 1
    else:
        phone.failures.append(what)


async def vote(phone: Phone, rng: random.Random) -> None:
    """Mark the proposals one by one (the page saves the whole ballot at every change), and
    sometimes change one's mind; the no-script form is saved once, sometimes twice."""
    marks: dict[str, str] = {}
    steps = [{p: rng.choice(MARKS)} for p in PROPOSALS]
    if phone.way == "form":
        steps = [{p: rng.choice(MARKS) for p in PROPOSALS}]
    if rng.random() < 0.3:
        steps.append({rng.choice(PROPOSALS): rng.choice(MARKS)})
    live: LiveSocket | None = None
    try:
        live = await phone.browser.socket() if phone.way == "socket" else None
        for step in steps:
            await asyncio.sleep(rng.uniform(0.2, 1.5))
            marks.update(step)
            await cast_once(phone, live, dict(marks))
            if phone.failures:
                return
    except (OSError, httpx.HTTPError, websockets.WebSocketException) as e:
        phone.failures.append(f"no answer: {e!r}")
    finally:
        if live is not None:
            await live.close()


# --- the probe -------------------------------------------------------------------------------


@dataclass
class ProbeLog:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


async def probe(base_url: str, paths: tuple[str, ...], stop: asyncio.Event, log: ProbeLog) -> None:
    """A cheap page every 100 ms, from its own address, until `stop`."""
    async with http_client(base_url, PROBE) as c:
        n = 0
        while not stop.is_set():
            path = paths[n % len(paths)]
            n += 1
            start = time.monotonic()
            try:
                r = await c.get(path, timeout=PROBE_BOUND_S)
                if r.status_code != 200:
                    log.failures.append(f"{path}: HTTP {r.status_code}")
            except httpx.HTTPError as e:
                log.failures.append(f"{path}: {e!r}")
            took = time.monotonic() - start
            log.latencies.append(took)
            await asyncio.sleep(max(0.0, PROBE_EVERY_S - took))


# --- the facilitator -------------------------------------------------------------------------


class Console:
    """The facilitator's browser on the laptop (127.0.0.1), driving the console."""

    def __init__(self, server: CovoteProcess) -> None:
        self.c = httpx.Client(
            base_url=server.url,
            timeout=60 * TIME_FACTOR,
            trust_env=False,
            limits=httpx.Limits(keepalive_expiry=KEEPALIVE_S),
        )
        self.c.get(f"/facilitator?key={FACILITATOR_KEY}")
        found = CSRF_FIELD.search(self.c.get("/console").text)
        assert found, "the facilitator link did not open the console"
        self.csrf = found.group(1)

    def post(self, path: str, **data: Any) -> httpx.Response:
        r = self.c.post(path, data={"csrf": self.csrf, **data})
        assert r.status_code < 400, f"{path}: HTTP {r.status_code} {r.text[:300]}"
        return r

    def create(self, spec: dict[str, Any]) -> tuple[int, str]:
        """Import a meeting file; (meeting id, code)."""
        r = self.c.post(
            "/console/import",
            data={"csrf": self.csrf},
            files={"file": ("m.json", json.dumps(spec).encode(), "application/json")},
        )
        assert r.status_code == 303, r.text[:300]
        meeting_id = int(r.headers["location"].split("/")[2])
        found = re.search(r'class="code">([A-Z0-9]{6})<', self.c.get(f"/console/{meeting_id}").text)
        assert found
        return meeting_id, found.group(1)

    def open_round(self, meeting_id: int) -> None:
        self.post(f"/console/{meeting_id}/rounds", proposal=list(PROPOSALS))

    def close_round(self, meeting_id: int, number: int) -> None:
        self.post(f"/console/{meeting_id}/rounds/{number}/close", confirm="yes")

    def reveal(self, meeting_id: int, code: str, number: int) -> dict[str, str]:
        """Show the round's results on the projector; what each proposal's outcome is there."""
        self.post(f"/console/{meeting_id}/rounds/{number}/reveal")
        shown = self.c.get(f"/api/m/{code}").json()["results"]
        return {p["id"]: p["category"] for p in shown["proposals"]}

    def issue_tickets(self, meeting_id: int, count: int) -> list[str]:
        """Issue tickets and read their codes off the print sheet."""
        self.post(f"/console/{meeting_id}/tickets", count=str(count))
        sheet = self.c.get(f"/console/{meeting_id}/tickets/print?from=1")
        codes = re.findall(r'class="ticket-code">([A-Z0-9]{4}-[A-Z0-9]{4})<', sheet.text)
        assert len(codes) == count, sheet.text[:300]
        return codes

    def turnout(self, code: str) -> dict[str, Any]:
        turnout: dict[str, Any] = self.c.get(f"/api/m/{code}").json()["turnout"]
        return turnout

    def present(self, code: str) -> int:
        return int(self.turnout(code)["present"])

    def count_paper(self, meeting_id: int, sheets: dict[int, dict[str, str]]) -> list[str]:
        """Key each sheet twice (two clerks) and count round 1's paper; problems, if any."""
        base = f"/console/{meeting_id}/rounds/1/paper"
        problems = []
        try:
            for sheet, marks in sheets.items():
                for keying in (1, 2):
                    data = {"csrf": self.csrf, "sheet": str(sheet)}
                    data.update({f"mark:{p}": m for p, m in marks.items()})
                    r = self.c.post(f"{base}/key/{keying}", data=data, timeout=ACK_WITHIN_S)
                    if r.status_code != 303:
                        problems.append(f"paper sheet {sheet}, keying {keying}: {r.status_code}")
            r = self.c.post(f"{base}/count", data={"csrf": self.csrf}, timeout=ACK_WITHIN_S)
            if r.status_code != 303:
                problems.append(f"counting paper: HTTP {r.status_code}")
        except httpx.HTTPError as e:
            problems.append(f"paper: no answer from the console ({e!r})")
        return problems

    def bundle(self, meeting_id: int, into: Path) -> Path:
        """The export bundle as the console offers it, unpacked into `into`."""
        r = self.c.get(f"/console/{meeting_id}/export/bundle.zip")
        assert r.status_code == 200, r.text[:300]
        with zipfile.ZipFile(io.BytesIO(r.content)) as z:
            z.extractall(into)
        return into

    def close(self) -> None:
        self.c.close()


# --- the export checks ----------------------------------------------------------------------

Ballot = frozenset[tuple[str, str]]  # (proposal, mark) for every proposal of the round


def whole(marks: dict[str, str]) -> Ballot:
    """A ballot as the export lists it: unmarked proposals of the round are neutral."""
    return frozenset((p, marks.get(p, "neutral")) for p in PROPOSALS)


def exported_ballots(folder: Path) -> Counter[Ballot]:
    """The multiset of round 1's ballots in the bundle's ballots.csv."""
    text = (folder / "ballots.csv").read_text(encoding="utf-8-sig")
    by_voter: dict[str, set[tuple[str, str]]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        if row["round"] == "1":
            by_voter.setdefault(row["voter"], set()).add((row["proposal"], row["mark"]))
    return Counter(frozenset(marks) for marks in by_voter.values())


# The tree these tests belong to: the CLI run on a bundle is this tree's code, whichever
# directory the bundle is unpacked in.
ROOT = Path(__file__).resolve().parents[1]


def bundle_commands(folder: Path) -> list[list[str]]:
    """The commands the bundle's README.txt tells a reader to run, as argv for this Python."""
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    lines = re.findall(r"^\s+(covote (?:recount|audit verify) .+)$", readme, re.MULTILINE)
    return [[sys.executable, "-m", "app.cli", *shlex.split(line)[1:]] for line in lines]


def check_bundle(
    folder: Path, honest: list[dict[str, str]], voters: int, shown: dict[str, str]
) -> list[str]:
    """Problems with one meeting's bundle: an honest acknowledged ballot (`honest`, the final
    marks of each) missing, more ballots than `voters` could cast, the bundle's own recount and
    verify commands failing, or the recount's outcomes not those the projector `shown`."""
    problems = []
    exported = exported_ballots(folder)
    missing = Counter(whole(marks) for marks in honest) - exported
    if missing:
        problems.append(f"{folder.name}: {missing.total()} honest acknowledged ballots missing")
    if exported.total() > voters:
        problems.append(f"{folder.name}: {exported.total()} ballots exported, more than voters")
    commands = bundle_commands(folder)
    kinds = sorted(" ".join(cmd[3:5]) for cmd in commands)
    if len(commands) != 2 or not kinds[0].startswith("audit verify"):
        problems.append(f"{folder.name}: README.txt names {kinds}, not recount and audit verify")
    for cmd in commands:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True, timeout=120)
        line = " ".join(cmd[3:])
        if done.returncode != 0:
            problems.append(f"{folder.name}: `{line}` exit {done.returncode}: {done.stderr[-800:]}")
        elif cmd[3] == "recount":
            if done.stdout != (folder / "results.json").read_text("utf-8"):
                problems.append(f"{folder.name}: `{line}` differs from results.json")
            rounds = json.loads(done.stdout)["rounds"]  # none if nobody voted
            recounted = rounds[0]["proposals"] if rounds else []
            if rounds and {p["id"]: p["category"] for p in recounted} != shown:
                problems.append(f"{folder.name}: `{line}` outcomes differ from the projector's")
    return problems


# --- the scenario ----------------------------------------------------------------------------


@dataclass
class Meetings:
    open_id: int
    code: str
    tickets_id: int
    tickets_code: str
    cards: list[str]


@dataclass
class Outcome:
    phones: list[Phone]
    holders: list[Phone]
    late: Phone
    joined_before: int
    attacker: Attacker
    probe: ProbeLog


async def join_all(browsers: list[Browser], batch: int = 50) -> list[bool]:
    """Join in batches, as a hall fills over a minute (compressed)."""
    out: list[bool] = []
    for start in range(0, len(browsers), batch):
        out += await asyncio.gather(*(b.join() for b in browsers[start : start + batch]))
    return out


async def redeem(b: Browser, card: str) -> bool:
    """Open the ticket's link (its QR code) and press "use it on this phone"."""
    page = await b.http.get(f"/t/{card}")
    found = CSRF_FIELD.search(page.text)
    if page.status_code != 200 or not found:
        return False
    r = await b.http.post(f"/t/{card}", data={"csrf": found.group(1)})
    if r.status_code != 303 or r.headers.get("location") != f"/m/{b.code}":
        return False
    return await b.read_page()


async def holders_vote(holders: list[Phone], cards: list[str], rng: random.Random) -> None:
    """Ticket holders arrive while the attacker guesses codes, redeem their cards and vote."""

    async def one(phone: Phone, card: str) -> None:
        await asyncio.sleep(rng.uniform(0.5, 4.0))
        if not await redeem(phone.browser, card):
            phone.failures.append(f"could not redeem {card}")
            return
        await vote(phone, rng)

    await asyncio.gather(*(one(p, c) for p, c in zip(holders, cards, strict=True)))


async def scenario(server: CovoteProcess, console: Console, m: Meetings) -> Outcome:
    rng = random.Random(11)
    stop = asyncio.Event()
    log = ProbeLog()
    prober = asyncio.create_task(probe(server.url, ("/", f"/p/{m.code}"), stop, log))
    browsers = [Browser(server, m.code, phone_address(i)) for i in range(PHONES)]
    holders = [
        Phone(Browser(server, m.tickets_code, holder_address(i)), "socket")
        for i in range(TICKET_HOLDERS)
    ]
    late = Phone(Browser(server, m.code, LATE_PHONE), "socket")
    attacker = Attacker(server, m.code, m.tickets_code)
    phones = [Phone(b, way_of(i)) for i, b in enumerate(browsers)]
    try:
        joined = await join_all(browsers)
        for phone, ok in zip(phones, joined, strict=True):
            if not ok:
                phone.failures.append("could not join")
        joined_before = await asyncio.to_thread(console.present, m.code)
        await asyncio.gather(
            *(vote(p, rng) for p in phones if not p.failures),
            holders_vote(holders, m.cards, rng),
            *(run_attack(attacker, attack) for attack in ATTACKS),
        )
        # After the attacks: a phone that arrives late still joins and its ballot is acked.
        if await late.browser.join():
            await vote(late, rng)
        else:
            late.failures.append("could not join after the attacks")
    finally:
        stop.set()
        await prober
        for b in [*browsers, late.browser, *(h.browser for h in holders), *attacker.voters]:
            await b.aclose()
    return Outcome(phones, holders, late, joined_before, attacker, log)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[CovoteProcess]:
    """`covote serve` as it ships: its own limits (tests that lift them say so), SQLite."""
    proc = CovoteProcess(tmp_path / "data", log=tmp_path / "server.log").start()
    try:
        yield proc
    finally:
        proc.stop()


def test_a_hostile_attendee_neither_stops_the_vote_nor_spoils_the_record(
    server: CovoteProcess, tmp_path: Path
) -> None:
    """Attacks during a 200-phone vote: all refused, every acked ballot exported and verified."""
    console = Console(server)
    try:
        open_id, code = console.create(MEETING)
        tickets_spec = {**copy.deepcopy(MEETING), "voting": {"admission": "tickets"}}
        tickets_id, tickets_code = console.create(tickets_spec)
        cards = console.issue_tickets(tickets_id, TICKET_HOLDERS + 4)
        console.open_round(open_id)
        console.open_round(tickets_id)
        meetings = Meetings(open_id, code, tickets_id, tickets_code, cards[:TICKET_HOLDERS])
        started = time.monotonic()
        out = asyncio.run(scenario(server, console, meetings))
        took = time.monotonic() - started
        problems = [*attack_problems(out.attacker), *honest_problems(out), *probe_problems(out)]
        if server.proc is None or server.proc.poll() is not None:
            problems.append("the server process died")
        problems += present_problems(console, out, code, tickets_code)
        # The sheets whose ids the attacker tried to take are keyed and counted as usual.
        paper_problems = console.count_paper(open_id, PAPER)
        if (paper := console.turnout(code)["by_channel"]["paper"]) != len(PAPER):
            paper_problems.append(f"{paper} paper ballots counted, not {len(PAPER)}")
        problems += paper_problems

        console.close_round(open_id, 1)
        console.close_round(tickets_id, 1)
        shown = console.reveal(open_id, code, 1)
        # (A phone that lost an ack is reported above; what it has stored is not known.)
        phones = [p.final for p in [*out.phones, out.late] if p.final and not p.failures]
        voters = PHONES + 1 + len(out.attacker.voters) + len(PAPER)
        folder = console.bundle(open_id, tmp_path / "open")
        counted = [] if paper_problems else list(PAPER.values())  # else reported above
        problems += check_bundle(folder, [*phones, *counted], voters, shown)
        shown = console.reveal(tickets_id, tickets_code, 1)
        holders = [p.final for p in out.holders if p.final and not p.failures]
        folder = console.bundle(tickets_id, tmp_path / "tickets")
        problems += check_bundle(folder, holders, TICKET_HOLDERS, shown)
        print(summary(out, took))  # shown with -s, and with the problems on failure
        assert not problems, "\n".join([*problems, *server_log_tail(server)])
    finally:
        console.close()


def summary(out: Outcome, took: float) -> str:
    """What happened, in a few lines: acks, answers to the attacks, the probe's latencies."""
    phones = [*out.phones, *out.holders, out.late]
    answers = Counter(f"{s.attack}: {s.outcome}" for s in out.attacker.seen)
    latencies = sorted(out.probe.latencies) or [0.0]
    return "\n".join(
        [
            f"scenario {took:.0f} s; {sum(p.acks for p in phones)} honest ballots acknowledged",
            f"probe: {len(latencies)} pages, median {latencies[len(latencies) // 2]:.3f} s, "
            f"slowest {latencies[-1]:.3f} s",
            *(f"  {n:4d} x {what}" for what, n in sorted(answers.items())),
        ]
    )


def present_problems(console: Console, out: Outcome, code: str, tickets_code: str) -> list[str]:
    """Only explicit joins and redeemed tickets made voters: no GET and no guessed code did."""
    problems = []
    joined = sum("could not join" not in p.failures for p in out.phones)
    if out.joined_before != joined:
        problems.append(f"open meeting: {out.joined_before} present after {joined} joined")
    expected = (
        out.joined_before + len(out.attacker.voters) + int(out.late.browser.round_id is not None)
    )
    if (present := console.present(code)) != expected:
        problems.append(f"open meeting: {present} present, expected {expected}")
    redeemed = sum(1 for h in out.holders if h.browser.round_id is not None)
    if (present := console.present(tickets_code)) != redeemed:
        problems.append(f"tickets meeting: {present} present, {redeemed} tickets redeemed")
    return problems


def attack_problems(attacker: Attacker) -> list[str]:
    """Every attack answered as the product may answer it (at most 40 listed)."""
    bad = [s for s in attacker.seen if not s.ok]
    listed = [f"attack {s.attack} ({s.how}): {s.outcome}" for s in bad[:40]]
    return [*listed, f"... and {len(bad) - 40} more"] if len(bad) > 40 else listed


def honest_problems(out: Outcome) -> list[str]:
    """Every honest ballot acknowledged, the late phone's too."""
    failed = [p for p in [*out.phones, *out.holders, out.late] if p.failures]
    problems = []
    if failed:
        problems.append(f"{len(failed)} honest phones had a ballot refused or never acked:")
        problems += [f"  {p.way} {p.browser.address}: {p.failures[0]}" for p in failed[:10]]
    if out.late.acks == 0:
        problems.append("the late phone's ballot was never acknowledged")
    return problems


def probe_problems(out: Outcome) -> list[str]:
    """The probe's pages always answered, and within the bound."""
    problems = [f"probe: {f}" for f in out.probe.failures[:10]]
    slowest = max(out.probe.latencies, default=0.0)
    if slowest > PROBE_BOUND_S:
        problems.append(f"probe: a page took {slowest:.1f} s")
    return problems


def server_log_tail(server: CovoteProcess) -> list[str]:
    if server.log is None or not server.log.exists():
        return []
    return ["server log:", *server.log.read_text(errors="replace").splitlines()[-30:]]
