#!/usr/bin/env python3
"""Time the Co-Production Lab's statistics at issue 16's scale: 500 participants, 300 ideas,
30,000 votes; the projector recomputes groups and bridging after every vote, within a second.

    .venv/bin/python scripts/bench_lab.py                  500 voters x 300 ideas, 60 each, 5 runs
    .venv/bin/python scripts/bench_lab.py --voters 1000 --ideas 400 --per-voter 80 --runs 3
    .venv/bin/python scripts/bench_lab.py --live           the projector, end to end (below)

Prints one JSON object on stdout. The votes are random but seeded (runs are comparable): three
camps of voters, each agreeing with its own third of the ideas and disagreeing with the rest,
one answer in six flipped or passed, plus a few ideas everyone backs. `lab_tabulate_s` is the
median wall time of `lab_tally.tabulate` (with `cpu_seconds`: on a shared machine the wall time
counts the others' work too); `json_s` encodes the results; `duplicates_s` runs
`likely_duplicates` over 300 short texts. `run()` can be called from scripts/bench.

`--live` times the idea wall end to end on a real server (`covote serve`, SQLite, in a
subprocess): the same seeded votes go in as 500 phones' ballots (300 ideas keyed in the
console, one `lab` round), a projector follows the meeting's socket and fetches the wall the
way static/projector/lab_wall.js does (after every frame, and again when the wall says its
groups are older than the ratings); meanwhile the room keeps rating (`--background` ballots a
second, each a voter changing one rating). Then, `--samples` times, one more phone casts a
ballot of `--per-voter` ratings: the time from its ballot acknowledged (HTTP 200) to the wall
showing one voter more in the opinion groups, p50 and p99 (`live_*`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from app.rules import lab, lab_duplicates, lab_json, lab_tally
from app.rules.tally import Rule

CAMPS = 3
BACKED_BY_ALL = 5  # ideas every camp agrees with: the bridging ones


def votes(
    voters: int, ideas: int, per_voter: int, seed: int
) -> tuple[list[lab.LabIdea], list[lab.LabVoter]]:
    """Seeded Lab votes with planted camps (module doc)."""
    rng = random.Random(seed)
    keys = [f"i{j:04d}" for j in range(ideas)]
    out = []
    for n in range(voters):
        camp = n % CAMPS
        ratings = {}
        for j in rng.sample(range(ideas), min(per_voter, ideas)):
            agree = j < BACKED_BY_ALL or j % CAMPS == camp
            roll = rng.random()
            if roll < 1 / 12:
                ratings[keys[j]] = lab.Rating.PASS
            elif roll < 1 / 6:
                agree = not agree
            if keys[j] not in ratings:
                ratings[keys[j]] = lab.Rating.AGREE if agree else lab.Rating.DISAGREE
        segments = ("tenants",) if n % 4 == 0 else ()
        out.append(lab.LabVoter(f"v-{n:05d}", segments, ratings))
    return [lab.LabIdea(k, "challenge", ("tenants",)) for k in keys], out


def run(voters: int = 500, ideas: int = 300, per_voter: int = 60, runs: int = 5) -> dict[str, Any]:
    """Time `tabulate` `runs` times on one seeded Lab; a JSON-ready report."""
    idea_list, voter_list = votes(voters, ideas, per_voter, seed=1)
    rule = Rule(ratio=2, group_min=5)
    walls, cpus = [], []
    result = lab_tally.tabulate(idea_list, voter_list, rule)  # warm up: imports, first allocation
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        result = lab_tally.tabulate(idea_list, voter_list, rule)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    t0 = time.perf_counter()
    lab_json.dumps_lab_results(result)
    json_s = time.perf_counter() - t0
    rng = random.Random(2)
    words = "library park bins road bus school youth centre open close fund repair more less"
    vocabulary = words.split()
    texts = {f"t{n:03d}": " ".join(rng.choices(vocabulary, k=8)) for n in range(300)}
    t0 = time.perf_counter()
    pairs = lab_duplicates.likely_duplicates(texts)
    duplicates_s = time.perf_counter() - t0
    return {
        "benchmark": "lab.tabulate",
        "voters": voters,
        "ideas": ideas,
        "votes": sum(len(v.ratings) for v in voter_list),
        "lab_tabulate_s": round(statistics.median(walls), 3),
        "max_seconds": round(max(walls), 3),
        "cpu_seconds": round(statistics.median(cpus), 3),
        "json_s": round(json_s, 3),
        "duplicates_s": round(duplicates_s, 3),
        "duplicate_pairs": len(pairs),
        "groups": [g.size for g in result.groups],
        "bridging": sum(i.is_bridging for i in result.ideas),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
    }


KEY = "bench-lab-facilitator-key-0123456789"
ROWS_PER_FORM = 20  # app/voting/lab.MAX_KEYED_ROWS
GROUP_SIZE = re.compile(r"Group \d+: (\d+) people")
RATE_LIMITS = (
    "limit_casts_per_voter",
    "limit_joins_per_address",
    "limit_joins_per_meeting",
    "limit_api_per_address",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token"
    return found.group(1)


async def _phone(base: str, code: str) -> tuple[httpx.AsyncClient, str]:
    """A joined phone: its client (cookie) and CSRF token."""
    c = httpx.AsyncClient(base_url=base, timeout=60)
    token = _csrf((await c.get(f"/m/{code}")).text)
    r = await c.post(f"/m/{code}/join", data={"csrf": token}, follow_redirects=True)
    assert r.status_code == 200, r.text[:200]
    return c, token


async def _cast(
    phone: tuple[httpx.AsyncClient, str], code: str, rnd: int, marks: dict[str, str]
) -> None:
    c, token = phone
    r = await c.post(
        f"/api/m/{code}/ballot",
        json={"ballot_id": uuid.uuid4().hex, "round": rnd, "marks": marks},
        headers={"X-Covote-CSRF": token},
    )
    assert r.status_code == 200, r.text[:200]


def _clustered(html: str) -> int:
    return sum(int(n) for n in GROUP_SIZE.findall(html))


async def live(
    voters: int, ideas: int, per_voter: int, samples: int, background: float
) -> dict[str, Any]:
    """The projector's groups after a rating, end to end (module doc)."""
    import websockets

    _, voter_list = votes(voters + samples, ideas, per_voter, seed=1)
    data = Path(tempfile.mkdtemp(prefix="covote-bench-lab-"))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, COVOTE_FACILITATOR_KEY=KEY)
    for limit in RATE_LIMITS:
        env[f"COVOTE_{limit.upper()}"] = "1000000/minute"
    root = Path(__file__).resolve().parents[1]
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
        ],
        env=env,
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    phones: list[tuple[httpx.AsyncClient, str]] = []
    try:
        async with httpx.AsyncClient(base_url=base, timeout=120) as f:
            for _ in range(400):
                try:
                    await f.get("/")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            await f.get(f"/facilitator?key={KEY}")
            token = _csrf((await f.get("/console")).text)
            meeting = {
                "title": "Lab bench",
                "rule": {"ratio": 2, "group_min": 5},
                "segments": [{"id": "tenants", "label": "Tenants", "protects": True}],
                "proposals": [{"id": "p1", "title": "One", "kind": "keep"}],
            }
            r = await f.post(
                "/console/import",
                data={"csrf": token},
                files={"file": ("m.json", json.dumps(meeting).encode())},
            )
            assert "location" in r.headers, r.text[-600:]
            mid = int(r.headers["location"].split("/")[2])
            console = (await f.get(f"/console/{mid}")).text
            code_found = re.search(r'class="code">([A-Z0-9]{6})<', console)
            assert code_found
            code = code_found.group(1)
            await f.post(f"/console/{mid}/lab/challenges", data={"csrf": token, "title": "Bench"})
            lab_page = (await f.get(f"/console/{mid}/lab")).text
            challenge = re.findall(r'/lab/challenges/(c\d+)/edit"', lab_page)[0]
            for start in range(0, ideas, ROWS_PER_FORM):
                form = {"csrf": token}
                for row, j in enumerate(range(start, min(ideas, start + ROWS_PER_FORM)), 1):
                    form |= {
                        f"text_{row}": f"Idea {j:04d}",
                        f"challenge_{row}": challenge,
                        f"kind_{row}": "redesign",
                    }
                r = await f.post(f"/console/{mid}/lab/ideas", data=form)
                assert r.status_code in (200, 303), r.text[:300]
            r = await f.post(f"/console/{mid}/rounds", data={"csrf": token, "kind": "lab"})
            state = (await f.get(f"/api/m/{code}")).json()
            rnd = int(state["round"]["id"])
            keys = [p["id"] for p in state["round"]["proposals"]]  # keyed in order: Idea 0000...
            assert len(keys) == ideas, len(keys)
            key_of = {f"i{j:04d}": keys[j] for j in range(ideas)}
            marks_of = [{key_of[k]: r.value for k, r in v.ratings.items()} for v in voter_list]
            sem = asyncio.Semaphore(20)

            async def join_and_cast(n: int) -> tuple[httpx.AsyncClient, str]:
                async with sem:
                    phone = await _phone(base, code)
                    if n < voters:
                        await _cast(phone, code, rnd, marks_of[n])
                    return phone

            t0 = time.perf_counter()
            phones = list(
                await asyncio.gather(*(join_and_cast(n) for n in range(voters + samples)))
            )
            seed_s = time.perf_counter() - t0

            # The projector: lab_wall.js in Python.
            wall = f"/p/{code}/wall?part=1"
            seen: list[tuple[float, int]] = []
            wake = asyncio.Event()

            async def projector() -> None:
                async with httpx.AsyncClient(base_url=base, timeout=60) as p:
                    while True:
                        await wake.wait()
                        wake.clear()
                        html = (await p.get(wall)).text
                        seen.append((time.perf_counter(), _clustered(html)))
                        retry = re.search(r'data-retry-ms="(\d+)"', html)
                        if retry:
                            ms = min(max(int(retry.group(1)), 50), 5000)
                            asyncio.get_running_loop().call_later(ms / 1000, wake.set)

            async def follow() -> None:
                url = f"ws://127.0.0.1:{port}/ws/m/{code}?preview=1"
                async with websockets.connect(url, compression=None) as ws:
                    while True:
                        await ws.recv()
                        wake.set()

            rng = random.Random(3)

            async def room() -> None:
                while background > 0:
                    await asyncio.sleep(1 / background)
                    n = rng.randrange(voters)
                    k = rng.choice(list(marks_of[n]))
                    marks_of[n][k] = rng.choice(("agree", "disagree", "pass"))
                    await _cast(phones[n], code, rnd, marks_of[n])

            tasks = [asyncio.create_task(t()) for t in (projector, follow, room)]
            wake.set()
            await asyncio.sleep(3)
            latencies = []
            for s in range(samples):
                before = seen[-1][1] if seen else 0
                await _cast(phones[voters + s], code, rnd, marks_of[voters + s])
                acked = time.perf_counter()
                deadline = acked + 30
                while seen[-1][1] <= before and time.perf_counter() < deadline:
                    await asyncio.sleep(0.005)
                shown = next((t for t, n in seen if n > before), float("inf"))
                latencies.append(max(0.0, shown - acked))
                await asyncio.sleep(rng.uniform(0.3, 2.0))  # land anywhere in the throttle
            for t in tasks:
                t.cancel()
            return {
                "benchmark": "lab wall, live",
                "voters": voters,
                "ideas": ideas,
                "votes": sum(len(m) for m in marks_of[:voters]),
                "background_ballots_per_s": background,
                "samples": samples,
                "seed_s": round(seed_s, 1),
                "live_p50_s": round(_percentile(latencies, 50), 3),
                "live_p99_s": round(_percentile(latencies, 99), 3),
                "live_max_s": round(max(latencies), 3),
                "groups_shown": GROUP_SIZE.findall((await f.get(wall)).text),
                "python": platform.python_version(),
                "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
            }
    finally:
        for c, _ in phones:
            await c.aclose()
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=500)
    parser.add_argument("--ideas", type=int, default=300)
    parser.add_argument("--per-voter", type=int, default=60)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--live", action="store_true", help="the projector, end to end")
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--background", type=float, default=10.0)
    args = parser.parse_args(argv)
    if args.live:
        report = asyncio.run(
            live(args.voters, args.ideas, args.per_voter, args.samples, args.background)
        )
        print(json.dumps(report, indent=2))
        return 0
    print(json.dumps(run(args.voters, args.ideas, args.per_voter, args.runs), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
