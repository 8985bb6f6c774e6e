"""`scripts/bench` entry point: python -m benchlib [--quick] [--json] ..."""

from __future__ import annotations

import json
import sys

from benchlib.config import parse_args
from benchlib.report import missing_keys, table
from benchlib.run import run_bench, save
from benchlib.util import log


def main(argv: list[str] | None = None) -> int:
    cfg, args = parse_args(argv)
    result = run_bench(cfg)
    if cfg.results_dir is not None:
        path = save(result, cfg.results_dir)
        log(f"saved {path}")
    text = table(result)
    if args.json:
        print(text, file=sys.stderr)
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(text)
    if result.get("error"):
        return 1
    if cfg.mes_only:  # no servers ran: only (5)'s keys
        return 0 if "mes_median_s" in result else 1
    if not result.get("all_acked_stored"):
        return 1
    if missing_keys(result):
        log(f"missing keys: {missing_keys(result)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
