"""Experiment: what one group commit of ballots costs, by write path (evidence for proposals).

    PYTHONPATH=scripts .venv/bin/python -m benchlib.exp_commit [--batch 50 200 500]

In-process, on a fresh SQLite file with Covote's own engine settings (app.db: WAL,
synchronous=FULL, BEGIN IMMEDIATE), the demo meeting, an open round and voters:
- `app`: BallotWriter._commit as it is (validate_batch + ORM bulk upsert)
- `app, no voter SELECT`: the same minus the per-batch voter query
- `core upsert`: validate rounds + the same upsert through Core (`Ballot.__table__`)
- `raw executemany`: validate rounds + sqlite3 executemany with pre-encoded JSON
CPU is this thread's CPU time; wall includes the WAL fsync. Then: how long a snapshot render
(rounds.room_state) waits while ballots are being committed, with BEGIN IMMEDIATE (as now) and
with a deferred read transaction.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import sqlite
from sqlmodel import Session, col, select

from app import ballots as B
from app import db
from app.demo import riverside
from app.meetings import create_meeting
from app.models import Ballot, Round, utcnow
from app.rounds import open_round, room_state
from app.tally import Mark
from app.voters import join


def setup(path: Path, voters: int) -> tuple[Any, int, int, list[int], list[str]]:
    engine = db.make_engine(f"sqlite:///{path}")
    db.create_schema(engine)
    with db.transaction(engine) as s:
        m = create_meeting(s, riverside())
        keys = [p.id for p in riverside().proposals]
        rnd = open_round(s, m, keys)
        vids = [join(s, m).id for _ in range(voters)]
        assert m.id is not None and rnd.id is not None
        return engine, m.id, rnd.id, [v for v in vids if v is not None], keys


def requests(
    mid: int, rid: int, vids: list[int], keys: list[str], flip: int
) -> list[B.CastRequest]:
    out = []
    for i, v in enumerate(vids):
        want = (i + flip) % 2 == 0
        marks = {
            k: Mark.WANT if (j % 2 == 0) == want else Mark.DONT_WANT for j, k in enumerate(keys)
        }
        out.append(B.CastRequest(mid, rid, v, uuid.uuid4().hex, marks))
    return out


def rounds_only(session: Session, batch: list[B.CastRequest]) -> None:
    ids = {r.round_id for r in batch}
    list(session.exec(select(Round).where(col(Round.id).in_(ids)).with_for_update(read=True)))


def path_app(engine: Any, batch: list[B.CastRequest]) -> None:
    B.BallotWriter(engine)._commit(batch)


def path_app_no_voters(engine: Any, batch: list[B.CastRequest]) -> None:
    with db.transaction(engine) as session:
        rounds_only(session, batch)
        session.execute(B._upsert(engine), [B._row(r) for r in batch])


def _core_upsert() -> Any:
    stmt = sqlite.insert(Ballot.__table__)  # type: ignore[attr-defined]
    return stmt.on_conflict_do_update(
        index_elements=["round_id", "voter_id"],
        set_={c: stmt.excluded[c] for c in ("ballot_uid", "channel", "marks", "cast_at")},
    )


CORE = _core_upsert()


def path_core(engine: Any, batch: list[B.CastRequest]) -> None:
    with db.transaction(engine) as session:
        rounds_only(session, batch)
        session.connection().execute(CORE, [B._row(r) for r in batch])


RAW = (
    "INSERT INTO ballot (round_id, voter_id, ballot_uid, channel, marks, cast_at) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (round_id, voter_id) DO UPDATE SET "
    "ballot_uid = excluded.ballot_uid, channel = excluded.channel, marks = excluded.marks, "
    "cast_at = excluded.cast_at"
)


def path_raw(engine: Any, batch: list[B.CastRequest]) -> None:
    now = utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
    rows = [
        (r.round_id, r.voter_id, r.ballot_uid, r.channel,
         json.dumps({k: str(v) for k, v in r.marks.items()}), now)
        for r in batch
    ]  # fmt: skip
    with db.transaction(engine) as session:
        rounds_only(session, batch)
        session.connection().exec_driver_sql(RAW, rows)


PATHS = {
    "app (ORM bulk upsert)": path_app,
    "app, no voter SELECT": path_app_no_voters,
    "core upsert": path_core,
    "raw executemany": path_raw,
}


def time_path(fn: Any, engine: Any, mid: int, rid: int, vids: list[int], keys: list[str],
              batch: int, reps: int) -> tuple[float, float]:  # fmt: skip
    cpu: list[float] = []
    wall: list[float] = []
    for rep in range(reps):
        chunk = vids[(rep * batch) % len(vids) :][:batch]
        if len(chunk) < batch:
            chunk = vids[:batch]
        reqs = requests(mid, rid, chunk, keys, rep)
        c0, w0 = time.thread_time(), time.perf_counter()
        fn(engine, reqs)
        cpu.append(time.thread_time() - c0)
        wall.append(time.perf_counter() - w0)
    return statistics.median(cpu) / batch * 1e6, statistics.median(wall) * 1e3


def render_wait(engine: Any, read_engine: Any, mid: int, rid: int, vids: list[int],
                keys: list[str], seconds: float = 3.0) -> dict[str, float]:  # fmt: skip
    """Render room_state every 20 ms while another thread commits batches of 200 back to back."""
    stop = threading.Event()

    def writer() -> None:
        flip = 0
        while not stop.is_set():
            path_app(engine, requests(mid, rid, vids[:200], keys, flip))
            flip += 1

    t = threading.Thread(target=writer)
    t.start()
    out: dict[str, list[float]] = {"immediate": [], "deferred": []}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for name, eng in (("immediate", engine), ("deferred", read_engine)):
            w0 = time.perf_counter()
            with db.transaction(eng) as s:
                room_state(s, mid, "")
            out[name].append(time.perf_counter() - w0)
            time.sleep(0.02)
    stop.set()
    t.join()
    res = {}
    for name, vals in out.items():
        vals.sort()
        res[f"{name}_p50_ms"] = round(vals[len(vals) // 2] * 1e3, 2)
        res[f"{name}_p99_ms"] = round(vals[int(len(vals) * 0.99)] * 1e3, 2)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 50, 200, 500])
    ap.add_argument("--reps", type=int, default=15)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        engine, mid, rid, vids, keys = setup(Path(d) / "covote.db", max(a.batch) * 2)
        read_engine = db.make_engine(f"sqlite:///{Path(d) / 'covote.db'}")
        event.remove(read_engine, "begin", db._sqlite_begin_immediate)
        print(f"{'path':<24} {'batch':>6} {'CPU µs/ballot':>14} {'wall ms/batch':>14}")
        for batch in a.batch:
            for name, fn in PATHS.items():
                cpu, wall = time_path(fn, engine, mid, rid, vids, keys, batch, a.reps)
                print(f"{name:<24} {batch:>6} {cpu:>14.1f} {wall:>14.2f}")
        c0, w0 = time.thread_time(), time.perf_counter()
        for _ in range(20):
            with db.transaction(engine) as s:
                room_state(s, mid, "")
        print(
            f"room_state render: {(time.thread_time() - c0) / 20 * 1e3:.2f} ms CPU, "
            f"{(time.perf_counter() - w0) / 20 * 1e3:.2f} ms wall (idle database)"
        )
        print(
            "render while a writer commits batches of 200:",
            render_wait(engine, read_engine, mid, rid, vids, keys),
        )
        engine.dispose()
        read_engine.dispose()


if __name__ == "__main__":
    main()
