"""Engine and sessions.

SQLite (default): WAL so readers never wait for the writer; `synchronous=FULL` because an
acknowledged ballot must survive a power cut, and group commit (ballots.py) amortises the fsync;
`busy_timeout` instead of "database is locked"; every transaction starts with BEGIN IMMEDIATE,
so a transaction that reads then writes (check the round is open, then store the ballot) holds
the write lock from its first read and cannot act on a stale snapshot.

PostgreSQL: `postgresql://` URLs are mapped to the psycopg 3 driver.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

from app import models  # noqa: F401  (registers the tables)


def normalise_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "isolation_level": None, "timeout": 10},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
    else:
        engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # Reads (snapshots, pages) take a plain BEGIN: in WAL they never wait for the writer, so a
    # steady stream of ballot commits cannot starve the projector's ticker.
    read_only = conn.get_execution_options().get("covote_read_only", False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def create_schema(engine: Engine) -> None:
    """Create missing tables, then add missing nullable columns to existing ones.

    There are no migrations yet: `create_all` only creates tables, so a column added to a model
    later (e.g. `meeting.budget_pot`) would be missing from a database made before it. Nullable
    columns are added with ALTER TABLE (SQLite and PostgreSQL); anything else is left alone.
    """
    SQLModel.metadata.create_all(engine)
    add_missing_columns(engine)
    draw_missing_record_secrets(engine)


_DRAW_SECRET = text("UPDATE meeting SET record_secret = :s WHERE id = :m AND record_secret IS NULL")


def draw_missing_record_secrets(engine: Engine) -> int:
    """Give every meeting made before `meeting.record_secret` existed its own secret (README,
    Anonymity). Safe from several processes: a secret once drawn is never replaced."""
    from app.anonymity import new_secret

    drawn = 0
    with engine.begin() as conn:
        ids = conn.exec_driver_sql("SELECT id FROM meeting WHERE record_secret IS NULL").all()
        for (meeting_id,) in ids:
            conn.execute(
                text(
                    "UPDATE meeting SET record_secret = :s WHERE id = :m AND record_secret IS NULL"
                ),
                {"s": new_secret(), "m": meeting_id},
            )
            drawn += 1
    return drawn


def add_missing_columns(engine: Engine) -> list[str]:
    """ALTER TABLE ... ADD COLUMN for every nullable model column the database lacks.

    Returns the `table.column` names added. Safe to run from several processes at once: on
    PostgreSQL with IF NOT EXISTS, on SQLite under the write lock (BEGIN IMMEDIATE).
    """
    added: list[str] = []
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        existing = inspect(conn)
        tables = set(existing.get_table_names())
        for table in SQLModel.metadata.sorted_tables:
            if table.name not in tables:
                continue
            have = {c["name"] for c in existing.get_columns(table.name)}
            for column in table.columns:
                if column.name in have or not column.nullable or column.primary_key:
                    continue
                kind = column.type.compile(dialect=engine.dialect)
                preparer = engine.dialect.identifier_preparer
                exists = "IF NOT EXISTS " if postgres else ""
                conn.exec_driver_sql(
                    f"ALTER TABLE {preparer.quote(table.name)} "
                    f"ADD COLUMN {exists}{preparer.quote(column.name)} {kind}"
                )
                added.append(f"{table.name}.{column.name}")
    return added


def read_transaction(engine: Engine) -> AbstractContextManager[Session]:
    """A unit of work that only reads: never takes SQLite's write lock. Writing in it is a bug."""
    return _unit(engine.execution_options(covote_read_only=True))


def transaction(engine: Engine) -> AbstractContextManager[Session]:
    """One unit of work: commit on success, roll back on any error (nothing half-written)."""
    return _unit(engine)


@contextmanager
def _unit(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session
