#!/usr/bin/env python3
"""Time the Method of Equal Shares with Add1 on a city-sized election (issue 6).

    .venv/bin/python scripts/bench_budget.py                 10,000 voters x 100 proposals, 3 seeds
    .venv/bin/python scripts/bench_budget.py --voters 2000 --proposals 40 --seeds 1 2
    .venv/bin/python scripts/bench_budget.py --completion none

Prints one JSON object on stdout. Each election is random but seeded (so runs are comparable):
costs are whole pounds between £20,000 and £400,000, the pot a quarter of the total cost, and
each voter WANTs 1 to 10 proposals drawn with a skewed popularity (a few favourites, a long
tail), as in published participatory budgets. Timing covers `budget.equal_shares` only (the
whole Add1 loop: one MES run per pound the share rises, plus the one that overspends), and
`greedy` separately. `run()` can be called from scripts/bench.
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

from app.rules import budget


def election(
    voters: int, proposals: int, seed: int
) -> tuple[list[frozenset[str]], dict[str, int], int]:
    """A seeded random approval election: (ballots, costs in pounds, pot)."""
    rng = random.Random(seed)
    ids = [f"p{i:03}" for i in range(proposals)]
    costs = {pid: rng.randrange(20_000, 400_001, 1_000) for pid in ids}
    pot = sum(costs.values()) // 4
    weights = [1 / (rank + 1) ** 0.8 for rank in range(proposals)]
    rng.shuffle(weights)
    ballots = []
    for _ in range(voters):
        k = rng.randint(1, min(10, proposals))
        chosen: set[str] = set()
        while len(chosen) < k:
            chosen.add(rng.choices(ids, weights)[0])
        ballots.append(frozenset(chosen))
    return ballots, costs, pot


def run(
    voters: int = 10_000,
    proposals: int = 100,
    seeds: tuple[int, ...] = (1, 2, 3),
    completion: budget.Completion = "add1",
) -> dict[str, Any]:
    """Time MES (with `completion`) and greedy on one election per seed; a JSON-ready report."""
    runs: list[dict[str, Any]] = []
    seconds: list[float] = []
    for seed in seeds:
        ballots, costs, pot = election(voters, proposals, seed)
        tie_break = sorted(costs)
        t0 = time.perf_counter()
        outcome = budget.equal_shares(
            ballots, costs, pot, completion=completion, tie_break=tie_break
        )
        mes_s = time.perf_counter() - t0
        seconds.append(mes_s)
        t0 = time.perf_counter()
        most_wanted = budget.greedy(ballots, costs, pot, tie_break=tie_break)
        greedy_s = time.perf_counter() - t0
        start_share = budget.amount(pot) / voters
        runs.append(
            {
                "seed": seed,
                "seconds": round(mes_s, 3),
                "greedy_seconds": round(greedy_s, 3),
                "pot": pot,
                "start_share": budget.amount_to_json(start_share),
                "final_share": budget.amount_to_json(outcome.share),
                "mes_runs": int(outcome.share - start_share)
                + 1
                + (completion != "none"),  # the last one overspends or is exhaustive
                "distinct_ballots": len(set(ballots)),
                "funded": len(outcome.funded),
                "spent": budget.amount_to_json(outcome.spent),
                "greedy_funded": len(most_wanted),
            }
        )
    return {
        "benchmark": "budget.equal_shares",
        "completion": completion,
        "voters": voters,
        "proposals": proposals,
        "median_seconds": round(statistics.median(seconds), 3),
        "max_seconds": round(max(seconds), 3),
        "runs": runs,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=10_000)
    parser.add_argument("--proposals", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--completion", choices=budget.COMPLETIONS, default="add1")
    args = parser.parse_args(argv)
    report = run(args.voters, args.proposals, tuple(args.seeds), args.completion)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
