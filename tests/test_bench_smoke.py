"""The benchmark harness (`scripts/bench`) still runs end to end: tiny N, a few seconds.

It starts the bare baseline app and `covote serve` as real processes, joins 20 phones as a
browser does (GET /m/{code}, then POST join), votes over the WebSocket and reads the ballots
back from the SQLite file. It
asserts only that every acknowledged ballot is stored and that the result has every key with a
sane type: no timing assertions (figures on a shared CI machine mean nothing).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "scripts") not in sys.path:
    sys.path.insert(0, str(ROOT / "scripts"))
config = importlib.import_module("benchlib.config")
report = importlib.import_module("benchlib.report")
run = importlib.import_module("benchlib.run")

PHONES = 20


def tiny(tmp_path: Path) -> Any:
    return dataclasses.replace(
        config.quick(),
        ingest_phones=PHONES,
        latency_phones=PHONES,
        memory_phones=PHONES,
        rate=100.0,
        latency_rounds=1,
        read_load_phones=PHONES,
        all_phones=PHONES,
        read_load_cast_per_s=40.0,
        read_load_views_per_s=40.0,
        read_load_s=0.5,
        burst_sizes=(PHONES,),
        warmup_s=0.3,
        ingest_s=1.0,
        echo_s=0.5,
        broadcast_s=0.5,
        fanout_s=0.5,
        traffic_s=0.5,
        settle_s=0.3,
        pin=False,  # never pin the test process to a core
        results_dir=None,
        work_dir=tmp_path,
        time_limit_s=150.0,
        mes_voters=300,
        mes_proposals=12,
    )


def test_quick_harness_at_tiny_n_stores_every_acked_ballot_and_reports_every_key(
    tmp_path: Path,
) -> None:
    result = run.run_bench(tiny(tmp_path))

    assert "error" not in result, result["error"]
    check = result["stored_check"]
    assert result["all_acked_stored"] is True, check
    # ingest round: every phone acked at least once; latency round: every phone voted once
    assert check["acked_checked"] >= 2 * PHONES
    assert check["missing"] == check["wrong_marks"] == check["extra_rows"] == 0
    assert result["ballot_rows"] >= check["acked_checked"] - PHONES

    assert report.missing_keys(result) == []
    for key in ("phones", "ingest_phones", "latency_phones", "memory_phones", "read_load_phones"):
        assert result[key] == PHONES
    assert result["latency_samples"] == PHONES
    for key in ("ingest_per_s", "baseline_echo_per_s", "ingest_ratio", "kib_per_phone"):
        assert result[key] > 0
    for key in ("ack_p50_ms", "ack_p99_ms", "projector_p50_ms", "projector_p99_ms"):
        assert result[key] >= 0
    assert result["ack_p50_ms"] <= result["ack_p99_ms"]
    assert result["projector_p50_ms"] <= result["projector_p99_ms"]
    # read load: acks in both windows, page views served, the ratio of the two p99s
    quiet_acks, loaded_acks = result["read_load_acks"]
    assert quiet_acks > 0 and loaded_acks > 0
    assert result["read_load_views_served_per_s"] > 0
    assert result["read_load_views_failed"] == 0
    assert result["read_load_ack_p99_ratio"] == pytest.approx(
        result["read_load_ack_p99_ms"] / result["read_load_quiet_ack_p99_ms"], rel=0.01
    )
    assert "(4) reads" in report.table(result)
    # burst: every phone cast once at the same moment; all acked, the projector showed them
    assert result["burst_sizes"] == [PHONES]
    assert result[f"burst_{PHONES}_errors"] == 0
    assert result[f"burst_{PHONES}_s"] > 0 and result[f"burst_{PHONES}_ack_s"] > 0
    assert "(5) burst" in report.table(result)
    assert isinstance(result["notes"], list)
    assert set(result["targets"]) == set(report.TARGETS)

    json.loads(json.dumps(result))  # what --json prints and bench/results/ keeps
    text = report.table(result)
    assert "ballots/s" in text and "KiB per connection" in text
    # (5) the budget rule: timed at a small size here, so no mes_10k_s
    assert result["mes_median_s"] >= 0 and result["mes_demo_max_s"] >= 0
    assert result["mes_runs"] >= 1 and "mes_10k_s" not in result
    assert "(7) budget rule" in text


def test_mes_only_runs_the_budget_phase_alone() -> None:
    """`scripts/bench --mes-only` starts no server and reports (5) beside its targets."""
    cfg, _ = config.parse_args(["--mes-only", "--no-save", "--no-pin"])
    assert cfg.mes_only and cfg.mes_seeds == (1, 2, 3)
    cfg.mes_voters, cfg.mes_proposals, cfg.mes_seeds = 200, 10, (1,)
    result = run.run_bench(cfg)
    assert "error" not in result and "ingest_per_s" not in result
    assert result["targets"]["mes_demo_max_s"]["value"] == result["mes_demo_max_s"]
    assert "(7) budget rule" in report.table(result)
    quick, _ = config.parse_args(["--quick", "--skip-mes"])
    assert quick.mes_seeds == (1,) and not quick.mes


def test_bench_options_scale_every_scenario() -> None:
    cfg, args = config.parse_args(["--quick", "--phones", "7", "--rate", "50", "--json"])
    assert (cfg.ingest_phones, cfg.latency_phones, cfg.memory_phones) == (7, 7, 7)
    assert cfg.all_phones == 7
    assert cfg.rate == 50 and cfg.quick and args.json
    full, _ = config.parse_args([])
    assert (full.ingest_phones, full.latency_phones, full.memory_phones) == (1000, 2000, 10000)
    assert full.all_phones == 2000 and full.only == ()
    assert full.rate == 500
    assert full.burst_sizes == (300, 2000, 5000)
    assert 300 in cfg.burst_sizes  # --quick: at least the 300-phone burst
    cfg, _ = config.parse_args(["--quick", "--burst", "50,400"])
    assert cfg.burst_sizes == (50, 400) and cfg.max_phones >= 400
