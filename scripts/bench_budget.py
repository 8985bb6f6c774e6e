#!/usr/bin/env python3
"""Time the Method of Equal Shares with Add1 on a city-sized election and on demo meetings.

    .venv/bin/python scripts/bench_budget.py                 10,000 voters x 100 proposals, 3 seeds
    .venv/bin/python scripts/bench_budget.py --voters 2000 --proposals 40 --seeds 1 2
    .venv/bin/python scripts/bench_budget.py --unit 100      the same, priced in pence
    .venv/bin/python scripts/bench_budget.py --completion none

Prints one JSON object on stdout. Each election is random but seeded (so runs are comparable):
costs are whole pounds between £20,000 and £400,000, the pot a quarter of the total cost, and
each voter WANTs 1 to 10 proposals drawn with a skewed popularity (a few favourites, a long
tail), as in published participatory budgets; `--unit 100` multiplies costs and pot by 100
(pence), which makes Add1's loop take 100 times as many steps. Timing covers
`budget.equal_shares` only, and `greedy` separately. `mes_runs` counts the MES runs Add1 made
(float runs and exact ones), `exact_runs` the exact ones among them, `loop_runs` those the
rule's loop (one run per unit the share rises, and the one that stops it) would have made.
With the default size the report's `mes_10k_s` is the median over seeds.

`demo_meetings` times the budget demo (`app.demo.riverside_budget`) voted as its docstring says,
and with one more voter who WANTs only the dearest proposal (the shape that took seconds when
Add1 ran once per pound), in pounds, in pence, and with a £3,000,000 pot; `demo_max_s` is the
slowest. `run()` can be called from scripts/bench.
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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import demo
from app.rules import budget, mes, mes_floats


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


@contextmanager
def counting_runs() -> Iterator[list[int]]:
    """Count the MES runs `budget.equal_shares` makes while inside: one item per run, 1 for an
    exact run (`mes.exact_run`), 0 for a float run (`mes_floats.float_run`, whose close calls
    an exact run redoes)."""
    runs: list[int] = []
    exact: Callable[..., Any] = mes.exact_run
    frun: Callable[..., Any] = mes_floats.float_run

    def counted(*args: Any, **kwargs: Any) -> Any:
        runs.append(1)
        return exact(*args, **kwargs)

    def counted_float(*args: Any, **kwargs: Any) -> Any:
        runs.append(0)
        return frun(*args, **kwargs)

    mes.exact_run, mes_floats.float_run = counted, counted_float
    try:
        yield runs
    finally:
        mes.exact_run, mes_floats.float_run = exact, frun


def timed(
    voters: Sequence[frozenset[str]],
    costs: dict[str, int],
    pot: int,
    completion: budget.Completion = "add1",
    tie_break: Sequence[str] = (),
) -> tuple[budget.BudgetOutcome, float, int]:
    """`equal_shares` with its time in seconds and the number of MES runs it made."""
    outcome, seconds, _, runs = timed_cpu(voters, costs, pot, completion, tie_break)
    return outcome, seconds, len(runs)


def timed_cpu(
    voters: Sequence[frozenset[str]],
    costs: dict[str, int],
    pot: int,
    completion: budget.Completion = "add1",
    tie_break: Sequence[str] = (),
) -> tuple[budget.BudgetOutcome, float, float, list[int]]:
    """`timed` with the CPU seconds of this process as well (on a shared machine the wall
    time counts the others' work too), and the runs as `counting_runs` lists them."""
    with counting_runs() as runs:
        c0, t0 = time.process_time(), time.perf_counter()
        outcome = budget.equal_shares(
            voters, costs, pot, completion=completion, tie_break=tie_break
        )
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return outcome, seconds, cpu, list(runs)


def loop_runs(
    outcome: budget.BudgetOutcome, costs: dict[str, int], completion: budget.Completion
) -> int:
    """The runs the rule's loop makes: the first, one per unit the share rose, and (unless it
    stopped at an exhaustive outcome) the one that cost more than the pot."""
    if completion == "none" or not outcome.voters:
        return 1
    climbed = int(outcome.share - outcome.budget / outcome.voters)
    mes = [d.id for d in outcome.details if d.by == "mes"]
    left = outcome.budget - sum(costs[p] for p in mes)
    wanted = [p for p, n in outcome.supporters.items() if n]
    exhaustive = all(p in mes or costs[p] > left for p in wanted)
    return climbed + (1 if exhaustive else 2)


def demo_meetings() -> dict[str, Any]:
    """The budget demo's shapes, timed: each entry {"seconds", "mes_runs", "loop_runs",
    "funded"}; `demo_max_s` the slowest."""
    m = demo.riverside_budget()
    assert m.budget is not None
    costs = {p.id: p.cost for p in m.proposals if p.cost is not None}
    order = [p.id for p in m.proposals]
    voted = (
        [frozenset({"town-square", "cycle-path", "play-park"})] * 55
        + [frozenset({"play-park", "youth-hub"})] * 30
        + [frozenset({"respite-breaks"})] * 15
    )
    dearest = max(costs, key=lambda p: costs[p])
    shapes = {
        "as_docstring": (voted, 1, 1),
        "as_docstring_pence": (voted, 100, 1),
        "one_wants_dearest": ([*voted, frozenset({dearest})], 1, 1),
        "one_wants_dearest_pence": ([*voted, frozenset({dearest})], 100, 1),
        "one_wants_dearest_3m_pot": ([*voted, frozenset({dearest})], 1, 10),
        "one_wants_dearest_3m_pot_pence": ([*voted, frozenset({dearest})], 100, 10),
    }
    report: dict[str, Any] = {}
    for name, (ballots, unit, times) in shapes.items():
        priced = {p: int(c * unit) for p, c in costs.items()}
        pot = int(m.budget.pot * unit * times)
        outcome, seconds, runs = timed(ballots, priced, pot, tie_break=order)
        report[name] = {
            "seconds": round(seconds, 4),
            "mes_runs": runs,
            "loop_runs": loop_runs(outcome, priced, "add1"),
            "funded": list(outcome.funded),
        }
    report["demo_max_s"] = max(r["seconds"] for r in report.values())
    return report


def run(
    voters: int = 10_000,
    proposals: int = 100,
    seeds: tuple[int, ...] = (1, 2, 3),
    completion: budget.Completion = "add1",
    unit: int = 1,
) -> dict[str, Any]:
    """Time MES (with `completion`) and greedy on one election per seed, and the demo meetings;
    a JSON-ready report."""
    runs: list[dict[str, Any]] = []
    seconds: list[float] = []
    for seed in seeds:
        ballots, costs, pot = election(voters, proposals, seed)
        costs = {p: c * unit for p, c in costs.items()}
        pot *= unit
        tie_break = sorted(costs)
        outcome, mes_s, cpu_s, mes_runs = timed_cpu(ballots, costs, pot, completion, tie_break)
        seconds.append(mes_s)
        t0 = time.perf_counter()
        most_wanted = budget.greedy(ballots, costs, pot, tie_break=tie_break)
        greedy_s = time.perf_counter() - t0
        runs.append(
            {
                "seed": seed,
                "seconds": round(mes_s, 3),
                "cpu_seconds": round(cpu_s, 3),
                "greedy_seconds": round(greedy_s, 3),
                "pot": pot,
                "start_share": budget.amount_to_json(Fraction(pot, voters)),
                "final_share": budget.amount_to_json(outcome.share),
                "mes_runs": len(mes_runs),
                "exact_runs": sum(mes_runs),
                "loop_runs": loop_runs(outcome, costs, completion),
                "distinct_ballots": len(set(ballots)),
                "funded": len(outcome.funded),
                "spent": budget.amount_to_json(outcome.spent),
                "greedy_funded": len(most_wanted),
            }
        )
    report: dict[str, Any] = {
        "benchmark": "budget.equal_shares",
        "completion": completion,
        "voters": voters,
        "proposals": proposals,
        "unit": unit,
        "median_seconds": round(statistics.median(seconds), 3),
        "max_seconds": round(max(seconds), 3),
    }
    if (voters, proposals, completion) == (10_000, 100, "add1"):
        key = "mes_10k_s" if unit == 1 else f"mes_10k_unit{unit}_s"
        report[key] = report["median_seconds"]
    return {
        **report,
        "runs": runs,
        "demo_meetings": demo_meetings(),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=10_000)
    parser.add_argument("--proposals", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--completion", choices=budget.COMPLETIONS, default="add1")
    parser.add_argument("--unit", type=int, default=1, help="price in 1/unit pounds (100: pence)")
    args = parser.parse_args(argv)
    report = run(args.voters, args.proposals, tuple(args.seeds), args.completion, args.unit)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
