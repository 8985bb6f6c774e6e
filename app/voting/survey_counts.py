"""A survey round's answers counted in the database (issue 15: 100,000 respondents x 30
questions in about a second on PostgreSQL).

Reading every ballot into Python and counting there costs seconds at that size (100,000 JSON
documents decoded into dicts, then 3 million answers hashed); the database counts them in
one pass and returns a few thousand rows: the respondents by *stored cell* (their area answer,
or None, and their segments) and every `(stored cell, item, answer)` with how many gave it.
`survey_files.public_counts` protects those cells exactly as `public_responses` protects the
responses, and `survey_tally.count_table` / `tabulate_counts` take the counts, so the figures
are the same bytes as the record's path over the responses (tests/test_survey_counts.py).

Both databases count the same way, in one query: PostgreSQL with `json_each_text` (the
columns are `json`, so the segments are grouped as their text, which is also what SQLite
stores), SQLite with `json_each`. Segments' text is turned into a set here, once per
distinct text, so two voters whose segments were stored in another order or spacing land in
one cell. A multi-choice answer is one stored string ("a;b"), counted as such, as the Python
path counts it.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.rules import survey as sv
from app.rules.survey_tally import Answer
from app.rules.survey_weights import Cell
from app.voting.models import Round

# A round's final ballots (one per voter and round: a unique constraint) counted by their
# area answer, their segments' stored text and each (item, answer), in one pass; a row whose
# item and answer are NULL per ballot counts the respondents (an empty ballot included).
# The area is taken out once per ballot, below the OFFSET 0 that keeps PostgreSQL from
# moving it above the expansion (there it is parsed once per answer: 30 times the work).
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
# PostgreSQL's plan for the count, for this transaction only: its estimate of the groups
# (json_each_text's default 100 rows per ballot) is off by 40 times, so it would JIT-compile
# (2 s) and sort 2.7 million rows by text to group them; a hash of the real ~30,000 groups
# takes 20 MB. Put back after the count.
_PLAN = (("jit", "off"), ("work_mem", "'64MB'"), ("enable_sort", "off"))
# What the count depends on, cheaply (PostgreSQL): every ballot and voter row written gets a
# new xmin (the writing transaction's id, newer than every committed one), so an insert, an
# update or a delete of the round's ballots, or a change to their voters' segments, changes
# these sums or counts. A few tens of milliseconds against seconds for the count.
_VERSION = """
    SELECT count(*), coalesce(sum(b.xmin::text::bigint), 0),
           coalesce(sum(v.xmin::text::bigint), 0)
    FROM ballot b JOIN voter v ON v.id = b.voter_id
    WHERE b.round_id = :round_id"""
KEPT = 8  # rounds whose counts are kept (a process shows one or two rounds at a time)


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


_kept: OrderedDict[tuple[str, int | None], tuple[tuple[int, ...], StoredCounts]] = OrderedDict()
_kept_lock = threading.Lock()


def stored_counts(session: Session, rnd: Round) -> StoredCounts:
    """The round's final ballots counted by stored cell, and their answers by cell (every
    item, the area's too: `public_counts` replaces it by the cell published). Callers must
    not change what it returns: on PostgreSQL the last `KEPT` rounds' counts are kept and
    given again while their ballots and voters are unchanged (`_VERSION`), so the console and
    the projector do not count 100,000 ballots again on every view."""
    bind = session.get_bind()
    dialect = bind.dialect.name
    if dialect not in _COUNTS:
        raise NotImplementedError(f"survey counts on {dialect}")
    postgres = dialect == "postgresql"
    if not postgres:
        return _count(session, rnd, dialect)
    engine = bind if isinstance(bind, Engine) else bind.engine
    key = (engine.url.render_as_string(hide_password=True), rnd.id)
    row = session.execute(text(_VERSION), {"round_id": rnd.id}).one()
    version = tuple(int(v) for v in row)
    with _kept_lock:
        kept = _kept.get(key)
        if kept is not None and kept[0] == version:
            _kept.move_to_end(key)
            return kept[1]
    counted = _count(session, rnd, dialect)
    with _kept_lock:
        _kept[key] = (version, counted)
        _kept.move_to_end(key)
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
    return counted


def forget() -> None:
    """Drop every kept count (scripts/bench survey times the count itself)."""
    with _kept_lock:
        _kept.clear()


def _count(session: Session, rnd: Round, dialect: str) -> StoredCounts:
    postgres = dialect == "postgresql"
    if postgres:
        for name, value in _PLAN:
            session.execute(text(f"SET LOCAL {name} = {value}"))
    params = {"round_id": rnd.id, "area": sv.AREA_ITEM}
    people: Counter[Cell] = Counter()
    answers: list[Answer] = []
    for area, segments, key, value, n in session.execute(text(_COUNTS[dialect]), params):
        cell = (area, _segments(segments))
        if key is None:
            people[cell] += n
        else:
            answers.append((cell, key, value, n))
    if postgres:  # (after an error the transaction rolls back, and the settings with it)
        for name, _ in _PLAN:
            session.execute(text(f"SET LOCAL {name} TO DEFAULT"))
    return StoredCounts(people, answers)
