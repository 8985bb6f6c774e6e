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
import shutil
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
cluster = importlib.import_module("benchlib.cluster")

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
        # (8) needs PostgreSQL and Redis: test_scaleout_phase_at_tiny_n_... runs it
        only=tuple(p for p in config.PHASES if p != "scaleout"),
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
    # (6b) a survey answered by every phone, screen by screen: each Next acked and the last
    # ballot of every phone stored with its marks; the projector counted them all
    assert result["survey_phones"] == PHONES and result["survey_stored_ok"] is True
    assert result["survey_acks"] == PHONES * result["survey_screens"] > PHONES
    assert result["survey_acks_per_s"] > 0 and result["survey_turnout_p99_ms"] is not None
    assert "(6b) survey" in report.table(result)
    assert isinstance(result["notes"], list)
    assert set(result["targets"]) == set(report.TARGETS)

    json.loads(json.dumps(result))  # what --json prints and bench/results/ keeps
    text = report.table(result)
    assert "ballots/s" in text and "KiB per connection" in text
    # (5) the budget rule: timed at a small size here, so no mes_10k_s
    assert result["mes_median_s"] >= 0 and result["mes_demo_max_s"] >= 0
    assert result["mes_runs"] >= 1 and "mes_10k_s" not in result
    assert "(7) budget rule" in text


@pytest.mark.postgres
@pytest.mark.redis
def test_scaleout_phase_at_tiny_n_loses_no_acked_ballot_and_reports_its_keys(
    tmp_path: Path,
) -> None:
    """`--only scaleout` at tiny N: 3 processes over PostgreSQL and Redis, one killed mid-vote;
    every phone of it resyncs on another, no acknowledged ballot is lost, the keys are there."""
    cfg = dataclasses.replace(tiny(tmp_path), only=("scaleout",), mes=False, scaleout_phones=30)
    if reason := cluster.pg_unavailable(cfg.scaleout_pg):
        pytest.skip(reason)
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed; the phase starts a private Redis")

    result = run.run_bench(cfg)

    assert "error" not in result, result["error"]
    assert "scaleout_skipped" not in result, result["scaleout_skipped"]
    assert result["scaleout_processes"] == 3 and result["scaleout_phones"] == 30
    assert result["scaleout_samples"] == 30  # every phone's ballot reached the projector
    assert result["scaleout_killed_phones"] == 10
    assert result["scaleout_resynced"] == 10 and result["scaleout_resync_failures"] == {}
    assert result["scaleout_all_acked_stored"] is True
    assert result["scaleout_lost"] == 0 and result["scaleout_extra_rows"] == 0
    assert result["scaleout_acked"] == result["scaleout_stored"] == 30
    assert result["scaleout_projector_voted"] == 30
    assert result["scaleout_kill_errors"] == 0 and result["scaleout_others_dropped"] == 0
    # the console on the projector's process counts the phones of every process
    assert result["scaleout_connected_shown"] == result["scaleout_connected"] == 31
    missing = report.missing_keys(result)
    assert not [k for k in missing if k.startswith("scaleout_")], missing
    assert "ingest_per_s" not in result  # --only scaleout: no single-process phase ran
    # no ratio without phase (2) in the same run, and the target says so rather than guessing
    assert result["targets"]["scaleout_projector_p99_ratio"]["met"] is None
    assert result["targets"]["scaleout_lost"]["met"] is True
    text = report.table(result)
    assert "(8) scale-out" in text and "(1) ingest" not in text
    json.loads(json.dumps(result))
    # the database made for the run is gone
    import psycopg

    with psycopg.connect(cfg.scaleout_pg) as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s", (result["scaleout_database"],)
        ).fetchone()
    assert left is not None and left[0] == 0


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
    # (8) scale-out: 10,000 phones in the full run, fewer in --quick; --only picks it alone
    assert full.scaleout_phones == 10_000 and full.scaleout_processes == 3
    cfg, _ = config.parse_args(["--quick", "--only", "scaleout", "--scaleout-phones", "90"])
    assert cfg.only == ("scaleout",) and cfg.scaleout_phones == 90
    assert cfg.runs("scaleout") and not cfg.runs("latency")
    assert config.quick().scaleout_phones < full.scaleout_phones
