"""Engine and sessions.

SQLite (default): WAL so readers never wait for the writer; `synchronous=FULL` because an
acknowledged ballot must survive a power cut, and group commit (ballots.py) amortises the fsync;
`busy_timeout` instead of "database is locked"; every write transaction (`transaction`) starts
with BEGIN IMMEDIATE, so a transaction that reads then writes (check the round is open, then store
the ballot) holds the write lock from its first read and cannot act on a stale snapshot.

Reads (`read_transaction`: every GET page, the API's GETs, the live snapshot, exports) never take
the write lock: on SQLite a plain deferred BEGIN, which in WAL mode reads a snapshot and neither
waits for the writer nor makes it wait; on PostgreSQL a READ ONLY transaction. Their session
(`ReadSession`) refuses to write, so a read that grows a write fails in tests instead of taking
the lock behind the ballot path's back.

PostgreSQL: `postgresql://` URLs are mapped to the psycopg 3 driver.

Schema: Alembic revisions in app/voting/migrations, applied by `upgrade` at start-up and by
`covote db upgrade`.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import ORMExecuteState, UOWTransaction
from sqlmodel import Session, SQLModel, create_engine

from app.voting import models  # noqa: F401  (registers the tables)


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
        event.listen(engine, "begin", _postgres_read_only)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


# The execution option `read_transaction` sets on its engine: the begin listeners read it.
READ_ONLY = "covote_read_only"


def _sqlite_begin_immediate(conn: Any) -> None:
    # Reads (snapshots, pages) take a plain BEGIN: in WAL they never wait for the writer, so a
    # steady stream of ballot commits cannot starve the projector's ticker or a page view.
    read_only = conn.get_execution_options().get(READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _postgres_read_only(conn: Any) -> None:
    # psycopg opens the transaction with the first statement, so this is that transaction's
    # first statement (SET TRANSACTION must precede any query): the server then refuses writes.
    if conn.get_execution_options().get(READ_ONLY, False):
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")


MIGRATIONS = Path(__file__).with_name("migrations")
# pg_advisory_xact_lock key: processes starting at once on one PostgreSQL database take turns.
_MIGRATION_LOCK = 0x436F766F7465  # "Covote"


def alembic_config() -> Config:
    """Alembic's settings: the revisions shipped inside the package, no ini file, no URL (the
    connection comes from `upgrade`, i.e. from the app's own Settings and engine)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's revision (None: empty, or made before migrations existed)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, *, backup_dir: Path | None = None) -> Path | None:
    """Bring the database to the newest revision; return the SQLite backup made, if any.

    An empty database gets the models' tables and is stamped with the head revision (a test
    checks that the revisions build the same schema). A database made before migrations (release
    ad72a22, or main before issue 12: no `alembic_version`) is stamped with the revision its
    tables show, then upgraded. Before changing a SQLite file that holds anything, it is copied
    to `backup_dir/covote-YYYYmmdd-HHMMSS.sqlite` (mode 0600).

    One transaction: on SQLite it starts with BEGIN IMMEDIATE, on PostgreSQL it first takes an
    advisory lock, so processes starting together wait for each other and the second one finds
    the database already at head (DDL is transactional on both).
    """
    config = alembic_config()
    head = head_revision()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        current = MigrationContext.configure(conn).get_current_revision()
        tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
        config.attributes["connection"] = conn
        if current is None and not tables:
            SQLModel.metadata.create_all(conn)
            command.stamp(config, head)
            return None
        if current == head:
            return None
        backup = _backup_sqlite(engine, backup_dir) if backup_dir is not None else None
        if current is None:
            command.stamp(config, _unversioned_revision(conn, tables))
        command.upgrade(config, "head")
        return backup


def create_schema(engine: Engine) -> None:
    """The schema at its newest revision (`upgrade` without a backup: tests, tools)."""
    upgrade(engine)


def _unversioned_revision(conn: Connection, tables: set[str]) -> str:
    """The revision of a database made before migrations: 0002 if it has issue 11's tables and
    the record secret (main's start-up added those), else the baseline 0001."""
    if "meeting" not in tables:
        raise RuntimeError(f"not a Covote database (tables: {', '.join(sorted(tables))})")
    columns = {c["name"] for c in inspect(conn).get_columns("meeting")}
    if "facilitatorkey" in tables and "record_secret" in columns:
        return "0002"
    return "0001"


def _backup_sqlite(engine: Engine, backup_dir: Path) -> Path | None:
    """Copy a SQLite file with SQLite's online backup (consistent, WAL included), mode 0600."""
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return None
    if engine.url.database == ":memory:":
        return None
    backup_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    target = backup_dir / f"covote-{stamp}.sqlite"
    n = 1
    while target.exists():
        n += 1
        target = backup_dir / f"covote-{stamp}-{n}.sqlite"
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    source = sqlite3.connect(engine.url.database)
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()
    os.chmod(target, 0o600)
    return target


class WriteInReadTransaction(RuntimeError):
    """A write attempted in a `read_transaction`: a bug (use `transaction` for work that writes)."""


class ReadSession(Session):
    """The session of a `read_transaction`: it reads, and raises `WriteInReadTransaction` on a
    flush with changes or on an INSERT, UPDATE or DELETE it is asked to execute, before anything
    reaches the database (on SQLite the deferred BEGIN would otherwise quietly take the write
    lock; PostgreSQL's READ ONLY transaction refuses it again on the server)."""


@event.listens_for(ReadSession, "before_flush")
def _refuse_flush(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    changes = len(session.new) + len(session.dirty) + len(session.deleted)
    raise WriteInReadTransaction(f"a read transaction was asked to write {changes} object(s)")


@event.listens_for(ReadSession, "do_orm_execute")
def _refuse_write_statements(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise WriteInReadTransaction(f"a read transaction was asked to run: {state.statement}")


def read_transaction(engine: Engine) -> AbstractContextManager[Session]:
    """A unit of work that only reads: it never takes SQLite's write lock (plain BEGIN, a WAL
    snapshot) and is READ ONLY on PostgreSQL; writing in it raises `WriteInReadTransaction`.
    Ends with a commit (nothing to write: it only releases the snapshot)."""
    return _unit(engine.execution_options(**{READ_ONLY: True}), ReadSession)


def transaction(engine: Engine) -> AbstractContextManager[Session]:
    """One unit of work: commit on success, roll back on any error (nothing half-written).
    On SQLite it holds the write lock from its first statement (BEGIN IMMEDIATE)."""
    return _unit(engine, Session)


@contextmanager
def _unit(engine: Engine, kind: type[Session]) -> Iterator[Session]:
    with kind(engine, expire_on_commit=False) as session, session.begin():
        yield session
