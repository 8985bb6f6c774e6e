"""Presets and command-line options."""

from __future__ import annotations

import argparse
import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Covote's phases, in the order they run (benchlib/covote.py run; then scaleout.py, on its own
# processes after the single server has stopped)
PHASES = ("memory", "latency", "ingest", "reads", "bursts", "phones", "survey", "scaleout")
# Phases the quick run leaves out unless named with --only (benchlib/survey_phones.py: 2,000
# phones joining and answering take minutes on a shared machine)
NOT_QUICK = ("survey",)


def _admin_pg() -> str:
    # the tests' PostgreSQL (tests/conftest.py PG_ADMIN_URL): a database there to connect to
    return os.environ.get("COVOTE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass
class BenchConfig:
    quick: bool
    # scenario sizes
    ingest_phones: int  # (1) closed-loop ingest
    latency_phones: int  # (2) phones connected while the projector latency is measured
    memory_phones: int  # (3) idle phones connected at once
    rate: float  # (2) offered ballots/s, open loop
    latency_rounds: int  # (2) fresh rounds; every connected phone casts once per round
    read_load_phones: int  # (4) phones casting in turn, open loop, while pages are viewed
    read_load_cast_per_s: float  # (4) their offered ballots/s, together
    read_load_views_per_s: float  # (4) offered page views/s (phone page, API state, projector)
    read_load_s: float  # (4) each window: quiet, then under page views
    burst_sizes: tuple[int, ...]  # (5) phones released at once, each casting once (burst.py)
    # durations (seconds)
    warmup_s: float
    ingest_s: float
    echo_s: float
    broadcast_s: float
    fanout_s: float
    traffic_s: float
    settle_s: float
    # baseline
    echo_extra: tuple[int, ...]  # more echo N besides ingest_phones (bench.md C.3 1a)
    broadcast_hz: float
    frame_bytes: int  # baseline broadcast frame: as a Covote snapshot of the demo meeting
    cast_bytes: int  # baseline echo frame; a Covote cast of the demo meeting
    # harness
    connect_spacing_s: float
    join_concurrency: int
    ack_timeout_s: float
    time_limit_s: float
    tick_hz: float | None  # None = Covote's default (COVOTE_TICK_HZ if set)
    pin: bool
    server_core: int
    client_core: int
    profile: bool
    results_dir: Path | None
    skip_baseline: bool = False
    memprobe: bool = False
    gcprobe: bool = False
    nice: int | None = None  # scheduling priority of both servers and the client (root: < 0)
    profile_gil: bool = False  # py-spy --gil: only the thread holding the GIL (about CPU time)
    work_dir: Path | None = None  # None = a temporary directory, removed afterwards
    # (7) the budget rule in this process: MES with Add1 on a seeded election per seed
    mes_voters: int = 10_000
    mes_proposals: int = 100
    mes_seeds: tuple[int, ...] = (1,)
    mes: bool = True  # --skip-mes: leave the phase out
    mes_only: bool = False  # --mes-only: only this phase (no servers)
    # (6) every phone (benchlib/phones.py): phones that join as browsers do and hold their
    # sockets while a round opens and its results are revealed
    all_phones: int = 2000
    join_concurrency_all: int = 64  # browsers joining at once
    only: tuple[str, ...] = ()  # Covote's phases to run (PHASES); () = all
    # (8) scale-out (benchlib/scaleout.py): processes over one PostgreSQL database and Redis,
    # phones spread across them, the projector on the first; one of them killed mid-vote
    scaleout_phones: int = 10_000  # issue 14: 10,000 phones spread across the processes
    scaleout_processes: int = 3
    scaleout_time_limit_s: float = 600.0  # joining and connecting 10,000 phones: minutes
    scaleout_pg: str = field(default_factory=_admin_pg)  # a fresh database is made beside it
    scaleout_redis: str | None = None  # None: a private redis-server on a free port

    def runs(self, phase: str) -> bool:
        """Whether `phase` (of PHASES) is among the phases this run measures."""
        if self.only:
            return phase in self.only
        return phase in PHASES and not (self.quick and phase in NOT_QUICK)

    @property
    def max_phones(self) -> int:
        return max(
            self.ingest_phones,
            self.latency_phones,
            self.memory_phones,
            self.read_load_phones,
            *self.burst_sizes,
        )


def quick() -> BenchConfig:
    return BenchConfig(
        quick=True,
        ingest_phones=200,
        latency_phones=300,
        memory_phones=1000,
        rate=200.0,
        latency_rounds=2,
        # The case: 200 page views/s while phones vote (115/s once raised ack p95 from
        # 15 to over 200 ms); 100 ballots/s is half the projector phase's rate, so the quiet
        # window has room and the ratio shows what the views cost the ballot path.
        read_load_phones=100,
        read_load_cast_per_s=100.0,
        read_load_views_per_s=200.0,
        read_load_s=3.0,
        burst_sizes=(300, 2000),
        warmup_s=1.0,
        ingest_s=4.0,
        echo_s=3.0,
        broadcast_s=3.0,
        fanout_s=2.0,
        traffic_s=2.0,
        settle_s=1.0,
        echo_extra=(),
        broadcast_hz=10.0,
        frame_bytes=2032,
        cast_bytes=260,
        connect_spacing_s=0.001,
        join_concurrency=8,
        ack_timeout_s=15.0,
        time_limit_s=420.0,  # bursts of 2,000 and 1,000 phones joining: minutes on a shared machine
        # (6) at half the 2,000 phones: the quick run stays near two minutes
        all_phones=1000,
        # (8) 1,500 phones over 3 processes: the cross-process path at a quick run's size
        scaleout_phones=1500,
        scaleout_time_limit_s=300.0,
        tick_hz=None,
        pin=True,
        server_core=0,
        client_core=1,
        profile=False,
        results_dir=ROOT / "bench" / "results",
    )


def full() -> BenchConfig:
    return dataclasses.replace(
        quick(),
        quick=False,
        ingest_phones=1000,
        latency_phones=2000,
        memory_phones=10000,  # issue 14: 10,000 idle phones in one process
        rate=500.0,
        latency_rounds=3,
        read_load_phones=500,
        read_load_cast_per_s=200.0,
        read_load_s=8.0,
        burst_sizes=(300, 2000, 5000),
        warmup_s=2.0,
        ingest_s=15.0,
        echo_s=8.0,
        broadcast_s=10.0,
        fanout_s=5.0,
        traffic_s=4.0,
        settle_s=2.0,
        echo_extra=(10, 100),
        mes_seeds=(1, 2, 3),
        ack_timeout_s=30.0,
        time_limit_s=590.0,
        all_phones=2000,
        scaleout_phones=10_000,
        scaleout_time_limit_s=600.0,
    )


def parse_args(argv: list[str] | None = None) -> tuple[BenchConfig, argparse.Namespace]:
    p = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Benchmark Covote against a bare Starlette/uvicorn app on this machine "
        "(../shared/bench.md). Prints a table; saves JSON to bench/results/.",
    )
    p.add_argument("--quick", action="store_true", help="small N, about a minute")
    p.add_argument("--json", action="store_true", help="JSON on stdout (the table goes to stderr)")
    p.add_argument("--phones", type=int, help="set every scenario size to N (not the bursts)")
    p.add_argument("--ingest-phones", type=int, help="(1) phones casting in a closed loop")
    p.add_argument("--latency-phones", type=int, help="(2) phones connected for projector latency")
    p.add_argument("--memory-phones", type=int, help="(3) idle phones connected at once")
    p.add_argument("--rate", type=float, help="(2) offered ballots/s (open loop)")
    p.add_argument("--all-phones", type=int, help="(5) phones joining and following round changes")
    p.add_argument(
        "--scaleout-phones", type=int, help="(8) phones spread over the scale-out processes"
    )
    p.add_argument(
        "--pg-url",
        help="(8) a PostgreSQL database to connect to; the phase creates a fresh one beside it "
        "and drops it afterwards (default COVOTE_TEST_PG or postgresql://postgres@127.0.0.1/test)",
    )
    p.add_argument(
        "--redis-url",
        help="(8) use this Redis (default: a private redis-server on a free port, so that no "
        "other process's signals reach the bench's servers)",
    )
    p.add_argument(
        "--only",
        help=f"Covote's phases to run, comma-separated, of {','.join(PHASES)} (for working on "
        "one: keys of the others are missing, so the run exits 1)",
    )
    p.add_argument("--latency-rounds", type=int, help="(2) fresh rounds to measure")
    p.add_argument("--read-load-phones", type=int, help="(4) phones casting while pages are viewed")
    p.add_argument(
        "--read-load-cast-per-s", type=float, help="(4) their offered ballots/s, together"
    )
    p.add_argument("--read-load-views-per-s", type=float, help="(4) offered page views/s")
    p.add_argument(
        "--burst",
        type=lambda v: tuple(int(x) for x in v.split(",") if x.strip()),
        metavar="N,N,...",
        help="(5) burst sizes: phones released at once, each casting once",
    )
    p.add_argument("--duration", type=float, help="(1) ingest measurement window, s")
    p.add_argument("--warmup", type=float, help="warm-up before each measurement window, s")
    p.add_argument("--tick-hz", type=float, help="Covote's COVOTE_TICK_HZ for the server")
    p.add_argument("--time-limit", type=float, help="abort the run after this many seconds")
    p.add_argument("--no-pin", action="store_true", help="do not pin server and client to cores")
    p.add_argument(
        "--nice",
        type=int,
        metavar="N",
        help="run the servers and the load client at this nice value (e.g. -5 as root, on a "
        "shared machine: other processes then perturb less, and get less CPU meanwhile)",
    )
    p.add_argument("--skip-baseline", action="store_true", help="Covote only (ratios omitted)")
    p.add_argument(
        "--profile",
        action="store_true",
        help="sample the Covote server with py-spy during each phase (pip install py-spy); "
        "collapsed stacks and a summary go to bench/results/",
    )
    p.add_argument(
        "--profile-gil",
        action="store_true",
        help="with --profile: sample only the thread holding the GIL (close to CPU time; "
        "misses SQLite work done without the GIL)",
    )
    p.add_argument(
        "--memprobe",
        action="store_true",
        help="run Covote under tracemalloc and list what each connected phone allocates "
        "(RSS figures of such a run are not comparable)",
    )
    p.add_argument(
        "--gcprobe",
        action="store_true",
        help="run Covote with a gc callback and report garbage-collector pauses per phase",
    )
    p.add_argument(
        "--mes-only",
        action="store_true",
        help="(5) only the budget rule's phase: MES with Add1, 10,000 voters x 100 proposals "
        "and the budget demo, in this process (no servers, no baseline)",
    )
    p.add_argument("--skip-mes", action="store_true", help="leave out (5), the budget rule")
    p.add_argument("--mes-seeds", type=int, nargs="+", help="(5) seeded elections to time")
    p.add_argument("--work-dir", type=Path, help="keep server logs and data here (debugging)")
    p.add_argument("--results-dir", type=Path, help="save the JSON here (default bench/results)")
    p.add_argument("--no-save", action="store_true", help="do not write bench/results/*.json")
    a = p.parse_args(argv)
    cfg = quick() if a.quick else full()
    if a.phones is not None:
        cfg.ingest_phones = cfg.latency_phones = cfg.memory_phones = a.phones
        cfg.read_load_phones = cfg.all_phones = cfg.scaleout_phones = a.phones
    for name in (
        "ingest_phones",
        "latency_phones",
        "memory_phones",
        "rate",
        "latency_rounds",
        "read_load_phones",
        "read_load_cast_per_s",
        "read_load_views_per_s",
        "all_phones",
        "scaleout_phones",
    ):
        value = getattr(a, name)
        if value is not None:
            setattr(cfg, name, value)
    if a.burst is not None:
        cfg.burst_sizes = a.burst
    if a.duration is not None:
        cfg.ingest_s = cfg.echo_s = cfg.broadcast_s = cfg.read_load_s = a.duration
    if a.warmup is not None:
        cfg.warmup_s = a.warmup
    if a.tick_hz is not None:
        cfg.tick_hz = a.tick_hz
    if a.time_limit is not None:
        cfg.time_limit_s = a.time_limit
    cfg.pin = not a.no_pin
    cfg.profile = a.profile
    cfg.skip_baseline = a.skip_baseline
    cfg.nice = a.nice
    cfg.memprobe = a.memprobe
    cfg.profile_gil = a.profile_gil
    if a.profile_gil:
        cfg.profile = True
    cfg.work_dir = a.work_dir
    if a.mes_only and a.skip_mes:
        p.error("--mes-only and --skip-mes cannot be combined")
    cfg.mes_only, cfg.mes = a.mes_only, not a.skip_mes
    if a.mes_seeds:
        cfg.mes_seeds = tuple(a.mes_seeds)
    cfg.gcprobe = a.gcprobe
    if a.only:
        cfg.only = tuple(x.strip() for x in a.only.split(",") if x.strip())
    if a.pg_url:
        cfg.scaleout_pg = a.pg_url
    if a.redis_url:
        cfg.scaleout_redis = a.redis_url
    if a.results_dir is not None:
        cfg.results_dir = a.results_dir
    if a.no_save:
        cfg.results_dir = None
    _check(p, cfg)
    return cfg, a


def _check(p: argparse.ArgumentParser, cfg: BenchConfig) -> None:
    """Refuse a configuration that cannot run (p.error exits with the reason)."""
    if unknown := set(cfg.only) - set(PHASES):
        p.error(f"--only: unknown phases {sorted(unknown)}; known: {', '.join(PHASES)}")
    if cfg.scaleout_phones < cfg.scaleout_processes:
        p.error("--scaleout-phones: at least one phone per process")
    if cfg.gcprobe and cfg.memprobe:
        p.error("--gcprobe and --memprobe cannot be combined")
    if any(n < 1 for n in cfg.burst_sizes):
        p.error("--burst sizes must be at least 1")
    for name in (
        "ingest_phones",
        "latency_phones",
        "memory_phones",
        "latency_rounds",
        "read_load_phones",
        "all_phones",
        "scaleout_phones",
    ):
        if getattr(cfg, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    for name in ("rate", "read_load_cast_per_s", "read_load_views_per_s"):
        if getattr(cfg, name) <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive")
