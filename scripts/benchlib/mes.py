"""Phase (5): the budget rule, MES with Add1, timed in this process (no server, one core).

`scripts/bench budget` (scripts/bench_budget.py) does the same with more options; this phase
puts its two figures beside their targets in the table and the JSON: `mes_10k_s` (10,000
voters x 100 proposals, the median over `mes_seeds`) and `mes_demo_max_s` (the slowest of the
budget demo's shapes: as voted, one voter who WANTs only the dearest proposal, a £3,000,000
pot, each in pounds and in pence). `mes_runs` and `mes_loop_runs` say how many MES runs Add1
made (float and exact; `mes_exact_runs` the exact ones) and how many the rule's loop (one per
unit) would have made.
"""

from __future__ import annotations

import statistics
from typing import Any

from benchlib.config import BenchConfig
from benchlib.util import log


def run(cfg: BenchConfig, out: dict[str, Any]) -> None:
    import bench_budget  # scripts/ is on the path, as for benchlib itself

    log(
        f"mes: {cfg.mes_voters:,} voters x {cfg.mes_proposals} proposals, "
        f"seeds {list(cfg.mes_seeds)}, and the budget demo"
    )
    r = bench_budget.run(cfg.mes_voters, cfg.mes_proposals, tuple(cfg.mes_seeds))
    out["mes_voters"], out["mes_proposals"] = cfg.mes_voters, cfg.mes_proposals
    out["mes_median_s"] = r["median_seconds"]
    if "mes_10k_s" in r:
        out["mes_10k_s"] = r["mes_10k_s"]
    out["mes_cpu_s"] = round(statistics.median(x["cpu_seconds"] for x in r["runs"]), 3)
    out["mes_runs"] = int(statistics.median(x["mes_runs"] for x in r["runs"]))
    out["mes_exact_runs"] = int(statistics.median(x["exact_runs"] for x in r["runs"]))
    out["mes_loop_runs"] = int(statistics.median(x["loop_runs"] for x in r["runs"]))
    demo = r["demo_meetings"]
    out["mes_demo_max_s"] = demo["demo_max_s"]
    out["mes_demo"] = {k: v for k, v in demo.items() if k != "demo_max_s"}
    log(f"  mes: {out['mes_median_s']} s median, demo max {out['mes_demo_max_s']} s")
