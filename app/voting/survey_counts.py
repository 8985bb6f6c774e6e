"""A survey round's answers counted as its ballots arrive (issue 15: 100,000 respondents x 30
questions in about a second on PostgreSQL).

Counting 100,000 stored ballots on every first view cost seconds (2.7 million answers split
out of JSON text and hashed), so the counts are kept in `survey_count` instead: the ballot
writer adds each survey ballot's rows and subtracts those of the ballot it replaces, in the
ballot's own transaction (`apply`, with `survey_rows.difference`), and a change to a voter's
segments moves their ballots' rows (`set_segments`). Results read a few thousand rows
(`stored_counts`). `survey_files.public_counts` protects them exactly as `public_responses`
protects the responses, and `survey_tally.count_table` / `tabulate_counts` take them, so the
figures are the same bytes as the record's path over the responses (tests/test_survey_counts.py).

**Never drifting.** Every write of a survey round's ballots goes through the writer (phones,
keypads, paper, online). Anything that writes ballots another way (a bulk load: the bench, the
tests) calls `rebuild`, which counts the round's ballots again in SQL (`_COUNTS`, the query the
results used before) and replaces its rows; migration 0018 rebuilt every round that existed
before it. `covote db survey-counts` rebuilds every survey round by hand.

**Concurrent writers.** On SQLite one transaction writes at a time (BEGIN IMMEDIATE). On
PostgreSQL a transaction that changes a survey round's counts first takes that round's
transaction-scoped advisory lock (`lock_rounds`, in round id order, so two batches never wait
for each other in a circle), and only then reads the stored ballots and the voters' segments
the difference is computed from: a second writer of the same round waits and then sees the
first one's ballots. The rows are upserted in key order, `n = n + excluded.n`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from app.core.vocab import SURVEY
from app.rules import survey as sv
from app.rules import survey_rows
from app.rules.survey_rows import CountKey
from app.rules.survey_tally import Answer
from app.rules.survey_weights import Cell
from app.voting.models import Ballot, Round, SurveyCount, Voter

DB = Session | Connection

# A round's final ballots (one per voter and round: a unique constraint) counted by their
# area answer, their segments' stored text and each (item, answer), in one pass; a row whose
# item and answer are NULL per ballot counts the respondents (an empty ballot included).
# Only `rebuild` runs it now. The area is taken out once per ballot, below the OFFSET 0 that
# keeps PostgreSQL from moving it above the expansion (there it is parsed once per answer).
_COUNTS = {
    "postgresql": """
        SELECT r.area, r.segments, e.key, e.value, count(*)
        FROM (
            SELECT b.marks, b.marks ->> :area AS area, v.segments::text AS segments
            FROM ballot b JOIN voter v ON v.id = b.voter_id
            WHERE b.round_id = :round_id
            OFFSET 0
        ) AS r
        CROSS JOIN LATERAL (
            SELECT key, value FROM json_each_text(r.marks) UNION ALL SELECT NULL, NULL
        ) AS e
        GROUP BY 1, 2, 3, 4""",
    "sqlite": """
        SELECT json_extract(b.marks, '$.' || :area), v.segments, e.key, e.value, count(*)
        FROM ballot b JOIN voter v ON v.id = b.voter_id, json_each(b.marks) AS e
        WHERE b.round_id = :round_id
        GROUP BY 1, 2, 3, 4
        UNION ALL
        SELECT json_extract(b.marks, '$.' || :area), v.segments, NULL, NULL, count(*)
        FROM ballot b JOIN voter v ON v.id = b.voter_id
        WHERE b.round_id = :round_id
        GROUP BY 1, 2""",
}
# PostgreSQL's plan for the rebuild's count, for this transaction only: its estimate of the
# groups (json_each_text's default 100 rows per ballot) is off by 40 times, so it would
# JIT-compile (2 s) and sort 2.7 million rows by text; a hash of the real groups takes 20 MB.
_PLAN = (("jit", "off"), ("work_mem", "'64MB'"), ("enable_sort", "off"))
# The advisory locks' first key (pg_advisory_xact_lock(int, int)): survey counts' own space.
_LOCKS = 15_0018
_TABLE: sa.Table = SurveyCount.__table__  # type: ignore[attr-defined]
_READ = sa.select(
    col(SurveyCount.area),
    col(SurveyCount.segments),
    col(SurveyCount.item),
    col(SurveyCount.answer),
    col(SurveyCount.n),
).where(col(SurveyCount.round_id) == sa.bindparam("round_id"), col(SurveyCount.n) != 0)


@dataclass(frozen=True, slots=True)
class StoredCounts:
    """A round's final ballots counted by stored cell (module doc)."""

    people: Counter[Cell]
    answers: list[Answer]

    def totals(self) -> Counter[tuple[str, str]]:
        """Respondents by (item, answer), every cell together: `answers.count_answer_totals`."""
        out: Counter[tuple[str, str]] = Counter()
        for _, key, value, n in self.answers:
            out[(key, value)] += n
        return out


@lru_cache(maxsize=4096)
def _segments(stored: str) -> frozenset[str]:
    # A few distinct texts per meeting (the voters' combinations of segments): parsed once.
    return frozenset(json.loads(stored))


def stored_counts(session: Session, rnd: Round) -> StoredCounts:
    """The round's final ballots counted by stored cell, and their answers by cell (every
    item, the area's too: `public_counts` replaces it by the cell published), as the writer
    keeps them: one indexed read of the round's rows."""
    people: Counter[Cell] = Counter()
    answers: list[Answer] = []
    for area, segments, item, answer, n in session.execute(_READ, {"round_id": rnd.id}):
        cell = (area, _segments(segments))
        if item is None:
            people[cell] += n
        else:
            answers.append((cell, item, answer, n))
    return StoredCounts(people, answers)


def lock_rounds(db: DB, round_ids: Iterable[int]) -> None:
    """Take the survey rounds' count locks for this transaction, in id order (PostgreSQL;
    SQLite's writer already writes alone): call before reading what a difference is computed
    from (module doc)."""
    if _dialect(db) != "postgresql":
        return
    for round_id in sorted(set(round_ids)):
        db.execute(text("SELECT pg_advisory_xact_lock(:k, :r)"), {"k": _LOCKS, "r": round_id})


def apply(db: DB, changes: Mapping[int, Counter[CountKey]]) -> None:
    """Add each round's differences (`survey_rows.difference`, summed) to its stored rows, in
    the caller's transaction, which holds the rounds' locks (`lock_rounds`). Rows upserted in
    (round, key) order."""
    rows = [
        {
            "round_id": round_id,
            "key": survey_rows.row_key(k),
            "area": k[0],
            "segments": k[1],
            "item": k[2],
            "answer": k[3],
            "n": n,
        }
        for round_id, counter in changes.items()
        for k, n in counter.items()
        if n
    ]
    if rows:
        rows.sort(key=lambda r: (r["round_id"], r["key"]))
        db.execute(_upsert_for(_dialect(db)), rows)


@lru_cache(maxsize=2)
def _upsert_for(dialect_name: str) -> Any:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    stmt = dialect.insert(_TABLE)
    return stmt.on_conflict_do_update(
        index_elements=["round_id", "key"], set_={"n": _TABLE.c.n + stmt.excluded.n}
    )


def recount(db: DB, round_id: int) -> Counter[CountKey]:
    """The round's rows counted from its stored ballots (what `apply` keeps), in SQL."""
    dialect = _dialect(db)
    if dialect not in _COUNTS:
        # Covote runs on these two (app/voting/db.py); say so rather than count wrongly.
        raise RuntimeError(f"survey counts are kept on SQLite and PostgreSQL, not {dialect}")
    postgres = dialect == "postgresql"
    if postgres:
        for name, value in _PLAN:
            db.execute(text(f"SET LOCAL {name} = {value}"))
    params = {"round_id": round_id, "area": sv.AREA_ITEM}
    out: Counter[CountKey] = Counter()
    texts: dict[str, str] = {}
    for area, stored, item, answer, n in db.execute(text(_COUNTS[dialect]), params):
        segments = texts.get(stored)
        if segments is None:
            segments = texts[stored] = survey_rows.segments_text(json.loads(stored))
        out[(area, segments, item, answer)] += n
    if postgres:  # (after an error the transaction rolls back, and the settings with it)
        for name, _ in _PLAN:
            db.execute(text(f"SET LOCAL {name} TO DEFAULT"))
    return out


def kept(db: DB, round_id: int) -> Counter[CountKey]:
    """The round's rows as stored (rows at 0 left out): what `recount` must equal."""
    rows = db.execute(_READ, {"round_id": round_id})
    return Counter({(a, s, i, v): n for a, s, i, v, n in rows})


def rebuild(db: DB, round_id: int) -> None:
    """Replace the round's rows by a `recount` of its ballots, under its lock, in the caller's
    transaction: for ballots written other than by the writer (a bulk load), and by hand."""
    lock_rounds(db, [round_id])
    db.execute(sa.delete(_TABLE).where(_TABLE.c.round_id == round_id))
    apply(db, {round_id: recount(db, round_id)})


def rebuild_all(db: DB) -> int:
    """`rebuild` every survey round; how many (migration 0018, `covote db survey-counts`)."""
    query = text("SELECT id FROM round WHERE kind = :kind ORDER BY id")
    ids: list[int] = list(db.execute(query, {"kind": SURVEY}).scalars())
    for round_id in ids:
        rebuild(db, round_id)
    return len(ids)


def set_segments(session: Session, voter: Voter, segments: list[str]) -> None:
    """Give `voter` these segments, moving their survey ballots' rows to the new cell in the
    caller's transaction (normally none: a voter's groups are fixed once they have voted, but
    a ballot may be committed between that check and this change)."""
    assert voter.id is not None
    rounds = [
        r
        for (r,) in session.execute(
            sa.select(col(Round.id)).where(
                col(Round.meeting_id) == voter.meeting_id, col(Round.kind) == SURVEY
            )
        )
    ]
    lock_rounds(session, rounds)
    changes: dict[int, Counter[CountKey]] = {}
    if rounds:
        stored = session.execute(
            sa.select(col(Voter.segments)).where(col(Voter.id) == voter.id)
        ).scalar_one()
        ballots = session.execute(
            sa.select(col(Ballot.round_id), col(Ballot.marks)).where(
                col(Ballot.voter_id) == voter.id, col(Ballot.round_id).in_(rounds)
            )
        )
        for round_id, marks in ballots:
            changes[round_id] = survey_rows.difference(
                sv.AREA_ITEM, (stored, marks), (segments, marks)
            )
    voter.segments = segments
    session.add(voter)
    apply(session, changes)


def _dialect(db: DB) -> str:
    bind = db.get_bind() if isinstance(db, Session) else db
    return bind.dialect.name
