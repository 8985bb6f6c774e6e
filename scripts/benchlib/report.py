"""Ratios, targets and the printed table."""

from __future__ import annotations

from typing import Any

# The targets (one server process, this 2-core machine) and bench.md's fan-out budget.
TARGETS = {
    "ingest_ratio": (">=", 0.25, "1,000 phones"),
    "projector_p99_ms": ("<=", 150.0, "2,000 phones, 500 ballots/s"),
    "memory_ratio": ("<=", 1.2, "10,000 phones"),
    # the sockets alone (joining excluded, as the baseline joins no one), also after traffic
    "phones_10k_ratio": ("<=", 1.2, "10,000 phones"),
    "fanout_ratio": ("<=", 2.0, "bench.md C.3"),
    # issue 14: ack p99 while 200 page views/s are served, over ack p99 without them
    "read_load_ack_p99_ratio": ("<=", 1.5, "200 page views/s"),
    # issue 14: MES with Add1, seconds (the median over seeds), and the budget demo's slowest
    "mes_10k_s": ("<=", 1.0, "10,000 voters x 100 proposals"),
    "mes_demo_max_s": ("<=", 0.05, "budget demo, pounds and pence"),
    # issue 14: N phones released at once; seconds until the projector shows all N counted
    "burst_300_s": ("<=", 0.3, "300 phones at once"),
    "burst_2000_s": ("<=", 1.5, "2,000 phones at once"),
    # issue 14: every phone, not only the projector (benchlib/phones.py)
    "round_open_all_phones_s": ("<=", 1.0, "2,000 phones"),
    "reveal_all_phones_s": ("<=", 1.0, "2,000 phones"),
    "join_per_s": (">=", 500.0, "2,000 phones"),
    # issue 14: 3 processes over PostgreSQL and Redis, 10,000 phones (benchlib/scaleout.py):
    # cast-to-projector p99 over the one-process figure of (2), and no acknowledged ballot lost
    # when a process is killed mid-vote
    "scaleout_projector_p99_ratio": ("<=", 1.5, "3 processes vs one"),
    "scaleout_lost": ("<=", 0.0, "a process killed mid-vote"),
}

REQUIRED = {
    "baseline_echo_per_s": float,
    "ingest_per_s": float,
    "ingest_ratio": float,
    "ack_p50_ms": float,
    "ack_p99_ms": float,
    "projector_p50_ms": float,
    "projector_p99_ms": float,
    "phones": int,
    "kib_per_phone": float,
    "baseline_kib_per_conn": float,
    "read_load_quiet_ack_p99_ms": float,
    "read_load_ack_p99_ms": float,
    "read_load_ack_p99_ratio": float,
    "round_open_all_phones_s": float,
    "reveal_all_phones_s": float,
    "phones_10k_kib_per_phone": float,
    "join_per_s": float,
}

# (8) scale-out's keys, required when the phase ran (it needs PostgreSQL and Redis)
REQUIRED_SCALEOUT = {
    "scaleout_projector_p50_ms": float,
    "scaleout_projector_p99_ms": float,
    "scaleout_resync_s": float,
    "scaleout_resync_acked_s": float,
    "scaleout_acked": int,
    "scaleout_lost": int,
}


def _ratio(a: Any, b: Any) -> float | None:
    if isinstance(a, int | float) and isinstance(b, int | float) and b:
        return round(a / b, 3)
    return None


def add_ratios(r: dict[str, Any]) -> None:
    r["ingest_ratio"] = _ratio(r.get("ingest_per_s"), r.get("baseline_echo_per_s"))
    r["memory_ratio"] = _ratio(r.get("kib_per_phone"), r.get("baseline_kib_per_conn"))
    r["phones_10k_ratio"] = _ratio(
        r.get("phones_10k_kib_per_phone"), r.get("baseline_kib_per_conn")
    )
    r["fanout_ratio"] = _ratio(
        r.get("fanout_us_per_frame"), r.get("baseline_broadcast_us_per_frame")
    )
    r["read_load_ack_p99_ratio"] = _ratio(
        r.get("read_load_ack_p99_ms"), r.get("read_load_quiet_ack_p99_ms")
    )
    r["projector_p99_vs_broadcast_p99"] = _ratio(
        r.get("projector_p99_ms"), r.get("baseline_broadcast_p99_ms")
    )
    r["scaleout_projector_p99_ratio"] = _ratio(
        r.get("scaleout_projector_p99_ms"), r.get("projector_p99_ms")
    )
    targets = {}
    for key, (op, limit, where) in TARGETS.items():
        v = r.get(key)
        met = None if v is None else (v >= limit if op == ">=" else v <= limit)
        targets[key] = {"target": f"{op} {limit:g} ({where})", "value": v, "met": met}
    r["targets"] = targets


def _f(v: Any, unit: str = "", digits: int = 1) -> str:
    if v is None:
        return "-"
    if isinstance(v, float | int):
        if abs(v) >= 1000:
            return f"{v:,.0f}{unit}"
        return f"{v:.{digits}f}{unit}"
    return str(v)


def _met(r: dict[str, Any], key: str) -> str:
    t = r.get("targets", {}).get(key)
    if not t or t["met"] is None:
        return ""
    return f"{t['target'].split(' (')[0]:>7}  {'met' if t['met'] else 'NOT met'}"


def table(r: dict[str, Any]) -> str:
    m = r.get("meta", {})
    head = (
        f"Covote bench, {'quick' if m.get('quick') else 'full'} run, {m.get('started_utc', '')}: "
        f"{m.get('cpus')} CPUs ({m.get('cpu_model', '')}); "
        + (
            f"server on core {m.get('server_core')}, load client on core {m.get('client_core')}"
            if m.get("pinned")
            else "NOT pinned"
        )
        + f"; tick {m.get('tick_hz')} Hz"
    )
    rows: list[tuple[str, str, str, str, str]] = []

    def row(label: str, base: str = "", cov: str = "", ratio: str = "", target: str = "") -> None:
        rows.append((label, base, cov, ratio, target))

    row("", "baseline", "Covote", "ratio", "target")
    row(f"(1) ingest: {_n(r.get('ingest_phones'))} phones, closed loop")
    row(
        "    ballots/s (baseline: echo round trips/s)",
        _f(r.get("baseline_echo_per_s")),
        _f(r.get("ingest_per_s")),
        _f(r.get("ingest_ratio"), digits=3),
        _met(r, "ingest_ratio"),
    )
    row(
        "    ack p50 / p99 ms (baseline: echo)",
        f"{_f(r.get('baseline_echo_p50_ms'))} / {_f(r.get('baseline_echo_p99_ms'))}",
        f"{_f(r.get('ack_p50_ms'))} / {_f(r.get('ack_p99_ms'))}",
    )
    row("    server CPU per ballot µs", "", _f(r.get("server_cpu_us_per_ballot")))
    row("    server / client core busy", _busy(r, "baseline_echo"), _busy(r, "ingest"))
    row(
        f"(2) projector: {_n(r.get('latency_phones'))} phones connected, "
        f"{_f(r.get('latency_rate_per_s'), digits=0)} ballots/s offered, "
        f"{_n(r.get('latency_samples'))} ballots"
    )
    row(
        "    p50 / p99 ms (baseline: 10 Hz broadcast)",
        f"{_f(r.get('baseline_broadcast_p50_ms'))} / {_f(r.get('baseline_broadcast_p99_ms'))}",
        f"{_f(r.get('projector_p50_ms'))} / {_f(r.get('projector_p99_ms'))}",
        _f(r.get("projector_p99_vs_broadcast_p99"), digits=2),
        _met(r, "projector_p99_ms"),
    )
    row(
        "    projector frame interval p50 / p99 ms",
        "",
        f"{_f(r.get('projector_interval_p50_ms'))} / {_f(r.get('projector_interval_p99_ms'))}",
    )
    row(
        "    ack p50 / p99 ms at that rate",
        "",
        f"{_f(r.get('latency_ack_p50_ms'))} / {_f(r.get('latency_ack_p99_ms'))}",
    )
    row(
        f"    fan-out: µs server CPU per extra frame ({_f(r.get('snapshot_bytes'), digits=0)} B)",
        _f(r.get("baseline_broadcast_us_per_frame")),
        _f(r.get("fanout_us_per_frame")),
        _f(r.get("fanout_ratio"), digits=2),
        _met(r, "fanout_ratio"),
    )
    row("    server / client core busy", _busy(r, "baseline_broadcast"), _busy(r, "latency"))
    row(
        "    round change: server CPU ms with all sockets / with 2",
        "",
        f"{_f(r.get('round_change_cpu_ms'))} / {_f(r.get('round_change_cpu_ms_2_sockets'))}",
    )
    row(f"(3) memory: {_n(r.get('phones'))} idle phones connected")
    row(
        "    KiB per connection",
        _f(r.get("baseline_kib_per_conn")),
        _f(r.get("kib_per_phone")),
        _f(r.get("memory_ratio"), digits=2),
        _met(r, "memory_ratio"),
    )
    row(
        "    KiB per phone, sockets alone: connected or after traffic, the higher",
        _f(r.get("baseline_kib_per_conn")),
        _f(r.get("phones_10k_kib_per_phone")),
        _f(r.get("phones_10k_ratio"), digits=2),
        _met(r, "phones_10k_ratio"),
    )
    row(
        "    KiB per phone: socket only / after traffic",
        "",
        f"{_f(r.get('kib_per_phone_socket_only'))} / {_f(r.get('kib_per_phone_after_traffic'))}",
    )
    row(
        "    RSS MiB: start -> connected",
        f"{_f(r.get('baseline_rss_base_mib'))} -> {_f(r.get('baseline_rss_conn_mib'))}",
        f"{_f(r.get('rss_start_mib'))} -> {_f(r.get('rss_connected_mib'))}",
    )
    row(
        "    joins/s (GET /m/{code}, POST join); connect s",
        "",
        f"{_f(r.get('memory_join_per_s'), digits=0)}; {_f(r.get('connect_s'))}",
    )
    row(
        f"(4) reads: {_n(r.get('read_load_phones'))} phones casting "
        f"{_f(r.get('read_load_cast_per_s'), digits=0)}/s, "
        f"{_f(r.get('read_load_views_per_s'), digits=0)} page views/s offered "
        f"({_f(r.get('read_load_views_served_per_s'), digits=0)} served)"
    )
    row(
        "    ack p50 / p99 ms: quiet",
        "",
        f"{_f(r.get('read_load_quiet_ack_p50_ms'))} / {_f(r.get('read_load_quiet_ack_p99_ms'))}",
    )
    row(
        "    ack p50 / p99 ms: with page views (ratio of p99s)",
        "",
        f"{_f(r.get('read_load_ack_p50_ms'))} / {_f(r.get('read_load_ack_p99_ms'))}",
        _f(r.get("read_load_ack_p99_ratio"), digits=2),
        _met(r, "read_load_ack_p99_ratio"),
    )
    row(
        "    page view p50 / p99 ms",
        "",
        f"{_f(r.get('read_load_view_p50_ms'))} / {_f(r.get('read_load_view_p99_ms'))}",
    )
    row("    server / client core busy", "", _busy(r, "read_load"))
    _burst_rows(r, row)
    _phones_rows(r, row)
    _survey_rows(r, row)
    config = r.get("meta", {}).get("config", {})
    if config.get("mes_only") or set(config.get("only") or ["all"]) == {"scaleout"}:
        del rows[1:]  # --mes-only, --only scaleout: (1) to (6) did not run
    row(
        f"(7) budget rule: MES with Add1 in one process, "
        f"{_n(r.get('mes_voters'))} voters x {_n(r.get('mes_proposals'))} proposals"
    )
    row(
        "    seconds (median over seeds)",
        "",
        _f(r.get("mes_10k_s", r.get("mes_median_s")), digits=2),
        "",
        _met(r, "mes_10k_s"),
    )
    row(
        "    CPU seconds (median; on a busy machine, wall time is not)",
        "",
        _f(r.get("mes_cpu_s"), digits=2),
    )
    row(
        "    MES runs Add1 made / the rule's loop would make",
        "",
        f"{_n(r.get('mes_runs'))} / {_n(r.get('mes_loop_runs'))}",
    )
    row(
        "    budget demo, slowest shape: s",
        "",
        _f(r.get("mes_demo_max_s"), digits=4),
        "",
        _met(r, "mes_demo_max_s"),
    )
    _scaleout_rows(r, row)

    widths = [max(len(x[i]) for x in rows) for i in range(5)]
    lines = [head, ""]
    for label, base, cov, ratio, target in rows:
        lines.append(
            f"{label:<{widths[0]}}  {base:>{widths[1]}}  {cov:>{widths[2]}}  "
            f"{ratio:>{widths[3]}}  {target}".rstrip()
        )
    c = r.get("stored_check") or {}
    lines.append("")
    if "stored_check" not in r and "all_acked_stored" not in r:
        pass  # --mes-only: no ballots were cast
    elif r.get("all_acked_stored"):
        lines.append(
            f"Stored: every acked ballot is in the database with its marks "
            f"({c.get('acked_checked', 0):,} checked over {c.get('rounds', 0)} rounds); "
            f"{_n(r.get('ballot_rows'))} ballot rows in all."
        )
    else:
        lines.append(f"Stored: CHECK FAILED {c}")
    if "scaleout_all_acked_stored" in r:
        lines.append(
            "Scale-out stored: "
            + (
                f"every acked ballot is in PostgreSQL with its marks, also those acked by the "
                f"process killed mid-vote ({r.get('scaleout_acked', 0):,} in the kill round)."
                if r["scaleout_all_acked_stored"] and not r.get("scaleout_lost")
                else f"CHECK FAILED: {r.get('scaleout_lost')} acked ballots lost, "
                f"{r.get('scaleout_extra_rows')} rows never sent"
            )
        )
    if r.get("baseline_echo_by_conns") and len(r["baseline_echo_by_conns"]) > 1:
        lines.append(
            "Baseline echo round trips/s by connections: "
            + ", ".join(f"{k}: {v:,.0f}" for k, v in r["baseline_echo_by_conns"].items())
        )
    if r.get("foreign_util"):
        lines.append(
            "Other processes' share of a pinned core, by phase: "
            + ", ".join(f"{k} {v:.0%}" for k, v in r["foreign_util"].items())
        )
    for note in r.get("notes", []):
        lines.append(f"Note: {note}")
    if r.get("error"):
        lines.append(f"ERROR: {r['error']}")
    lines.append(f"Took {r.get('meta', {}).get('elapsed_s', '?')} s.")
    return "\n".join(lines)


def _burst_rows(r: dict[str, Any], row: Any) -> None:
    """(5) bursts (burst.py): one line per N, beside its target where the issue set one."""
    sizes = r.get("burst_sizes") or []
    if not sizes:
        return
    row("(5) burst: N phones holding sockets, released at once, one cast each")
    for n in sizes:
        row(
            f"    {n:,}: s until the projector shows all counted / every phone acked",
            "",
            f"{_f(r.get(f'burst_{n}_s'), digits=3)} / {_f(r.get(f'burst_{n}_ack_s'), digits=3)}",
            "",
            _met(r, f"burst_{n}_s"),
        )


def _phones_rows(r: dict[str, Any], row: Any) -> None:
    """(6) every phone (benchlib/phones.py)."""
    row(f"(6) every phone: {_n(r.get('all_phones'))} phones holding their sockets")
    row(
        "    joins/s (page, POST join, page, socket + hello)",
        "",
        _f(r.get("join_per_s"), digits=0),
        "",
        _met(r, "join_per_s"),
    )
    for key, what in (("round_open", "a round opens"), ("reveal", "results revealed")):
        row(
            f"    {what}: s until all show it (p50; page fetches)",
            "",
            f"{_f(r.get(f'{key}_all_phones_s'), digits=3)} "
            f"({_f(r.get(f'{key}_phones_p50_s'), digits=3)}; {_n(r.get(f'{key}_fetches'))})",
            "",
            _met(r, f"{key}_all_phones_s"),
        )
    row("    server CPU ms per join", "", _f(r.get("join_server_cpu_ms"), digits=2))
    row("    server / client core busy while joining", "", _busy(r, "join"))


def _survey_rows(r: dict[str, Any], row: Any) -> None:
    """(6b) a survey answered by every phone (benchlib/survey_phones.py), when it ran."""
    if "survey_acks_per_s" not in r:
        return
    row(
        f"(6b) survey: {_n(r.get('survey_phones'))} phones answering "
        f"{_n(r.get('survey_questions'))} questions on {_n(r.get('survey_screens'))} screens"
    )
    row(
        "    acks/s (every Next a ballot; ratio to (1) ingest)",
        "",
        _f(r.get("survey_acks_per_s"), digits=0),
        _f(r.get("survey_vs_ingest_ratio"), digits=2),
    )
    row(
        "    ack p50 / p99 ms",
        "",
        f"{_f(r.get('survey_ack_p50_ms'))} / {_f(r.get('survey_ack_p99_ms'))}",
    )
    row(
        "    projector turnout p50 / p99 ms (first ballot to counted)",
        "",
        f"{_f(r.get('survey_turnout_p50_ms'))} / {_f(r.get('survey_turnout_p99_ms'))}",
    )
    row("    server CPU ms per ack", "", _f(r.get("survey_server_cpu_ms_per_ack"), digits=3))


def _scaleout_rows(r: dict[str, Any], row: Any) -> None:
    """(8) scale-out (scaleout.py), when it ran or was skipped."""
    if not any(k.startswith("scaleout_") for k in r):
        return
    row(
        f"(8) scale-out: {_n(r.get('scaleout_processes'))} processes over PostgreSQL and Redis, "
        f"{_n(r.get('scaleout_phones'))} phones, projector on one"
    )
    if r.get("scaleout_skipped"):
        row(f"    skipped: {r['scaleout_skipped']}")
        return
    row(
        f"    projector p50 / p99 ms at {_f(r.get('scaleout_rate_per_s'), digits=0)} ballots/s "
        "(beside: one process, (2))",
        f"{_f(r.get('projector_p50_ms'))} / {_f(r.get('projector_p99_ms'))}",
        f"{_f(r.get('scaleout_projector_p50_ms'))} / {_f(r.get('scaleout_projector_p99_ms'))}",
        _f(r.get("scaleout_projector_p99_ratio"), digits=2),
        _met(r, "scaleout_projector_p99_ratio"),
    )
    row(
        "    ack p50 / p99 ms at that rate",
        "",
        f"{_f(r.get('scaleout_ack_p50_ms'))} / {_f(r.get('scaleout_ack_p99_ms'))}",
    )
    row(
        f"    one killed mid-vote: s until its {_n(r.get('scaleout_killed_phones'))} phones "
        "resynced on the others / re-acked",
        "",
        f"{_f(r.get('scaleout_resync_s'), digits=2)} / "
        f"{_f(r.get('scaleout_resync_acked_s'), digits=2)}",
    )
    row(
        "    ballots acked in the kill round / acked but not stored (both rounds)",
        "",
        f"{_n(r.get('scaleout_acked'))} / {_n(r.get('scaleout_lost'))}",
        "",
        _met(r, "scaleout_lost"),
    )
    row(
        "    joins/s; connect s",
        "",
        f"{_f(r.get('scaleout_join_per_s'), digits=0)}; {_f(r.get('scaleout_connect_s'))}",
    )
    cov = r.get("scaleout_covote_util")
    row(
        "    busy: the processes together; with PostgreSQL and Redis / client",
        "",
        f"{_f(None if cov is None else cov * 100, '%', 0)}; {_busy(r, 'scaleout')}",
    )


def _busy(r: dict[str, Any], prefix: str) -> str:
    a, b = (r.get(f"{prefix}_{who}_util") for who in ("server", "client"))
    pa = None if a is None else a * 100
    pb = None if b is None else b * 100
    return f"{_f(pa, '%', 0)} / {_f(pb, '%', 0)}"


def _n(v: Any) -> str:
    return f"{v:,}" if isinstance(v, int) else "?"


def missing_keys(r: dict[str, Any]) -> list[str]:
    bad = []
    required = dict(REQUIRED)
    config = r.get("meta", {}).get("config", {})
    for n in config.get("burst_sizes", []):
        required[f"burst_{n}_s"] = float
        required[f"burst_{n}_ack_s"] = float
    if not config.get("only") or "scaleout" in config["only"]:
        required.update(REQUIRED_SCALEOUT)
    for key, typ in required.items():
        v = r.get(key)
        if typ is float:
            ok = isinstance(v, int | float) and not isinstance(v, bool)
        else:
            ok = isinstance(v, int) and not isinstance(v, bool)
        if not ok:
            bad.append(key)
    return bad
