#!/usr/bin/env python3
"""Time the Co-Production Lab's statistics at issue 16's scale: 500 participants, 300 ideas,
30,000 votes; the projector recomputes groups and bridging after every vote, within a second.

    .venv/bin/python scripts/bench_lab.py                  500 voters x 300 ideas, 60 each, 5 runs
    .venv/bin/python scripts/bench_lab.py --voters 1000 --ideas 400 --per-voter 80 --runs 3

Prints one JSON object on stdout. The votes are random but seeded (runs are comparable): three
camps of voters, each agreeing with its own third of the ideas and disagreeing with the rest,
one answer in six flipped or passed, plus a few ideas everyone backs. `lab_tabulate_s` is the
median wall time of `lab.tabulate` (with `cpu_seconds`: on a shared machine the wall time
counts the others' work too); `json_s` encodes the results; `duplicates_s` runs
`likely_duplicates` over 300 short texts. `run()` can be called from scripts/bench.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.rules import lab
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
    result = lab.tabulate(idea_list, voter_list, rule)  # warm up: imports, first allocation
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        result = lab.tabulate(idea_list, voter_list, rule)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    t0 = time.perf_counter()
    lab.dumps_lab_results(result)
    json_s = time.perf_counter() - t0
    rng = random.Random(2)
    words = "library park bins road bus school youth centre open close fund repair more less"
    vocabulary = words.split()
    texts = {f"t{n:03d}": " ".join(rng.choices(vocabulary, k=8)) for n in range(300)}
    t0 = time.perf_counter()
    pairs = lab.likely_duplicates(texts)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=500)
    parser.add_argument("--ideas", type=int, default=300)
    parser.add_argument("--per-voter", type=int, default=60)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.voters, args.ideas, args.per_voter, args.runs), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
