"""`covote db upgrade|current|history` (Alembic migrations) and `covote people purge`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from app.config import Settings


def db_command(action: str, data: Path | None, database_url: str | None) -> int:
    """`covote db upgrade|current|history`: thin wrappers over Alembic (app/voting/migrations);
    `covote db survey-counts`: every survey round's kept counts rebuilt from its ballots
    (`survey_counts.rebuild_all`; the ballot writer keeps them, so only after ballots were
    written another way)."""
    from alembic.script import ScriptDirectory

    from app.core import datadir
    from app.voting.db import alembic_config, current_revision, head_revision, make_engine, upgrade

    if action == "history":
        for script in ScriptDirectory.from_config(alembic_config()).walk_revisions():
            print(f"{script.revision}  {(script.doc or '').splitlines()[0]}")
        return 0
    overrides: dict[str, Any] = {"data_dir": data, "database_url": database_url}
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    url = settings.resolved_database_url()
    sqlite = datadir.sqlite_file(url)
    if action == "current" and sqlite is not None and not sqlite.exists():
        print(f"covote db current: no database at {sqlite}", file=sys.stderr)
        return 1
    if action == "upgrade":
        os.umask(datadir.PRIVATE_UMASK)
        datadir.secure(settings.data_dir, url)
    engine = make_engine(url)
    try:
        if action == "current":
            print(current_revision(engine) or "none (empty, or made before migrations)")
            return 0
        if action == "survey-counts":
            return _survey_counts(engine, sqlite)
        backup = upgrade(engine, backup_dir=settings.data_dir / "backups")
    finally:
        engine.dispose()
    print(f"database at revision {head_revision()}" + (f" (backup: {backup})" if backup else ""))
    return 0


def _survey_counts(engine: Any, sqlite: Path | None) -> int:
    from app.voting import survey_counts
    from app.voting.db import current_revision, head_revision, transaction

    if sqlite is not None and not sqlite.exists():
        print(f"covote db survey-counts: no database at {sqlite}", file=sys.stderr)
        return 1
    if current_revision(engine) != head_revision():
        print("covote db survey-counts: run `covote db upgrade` first", file=sys.stderr)
        return 1
    with transaction(engine) as session:
        n = survey_counts.rebuild_all(session)
    print(f"{n} survey round(s) counted again from their ballots")
    return 0


def people_purge(data: Path | None, database_url: str | None) -> int:
    """`covote people purge`: delete every contact on a people list past its date (issue 15;
    the server also does it at start-up and whenever the console reads a list)."""
    from datetime import UTC, datetime

    from app.core import datadir
    from app.voting import people
    from app.voting.db import current_revision, head_revision, make_engine, transaction

    overrides: dict[str, Any] = {"data_dir": data, "database_url": database_url}
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    url = settings.resolved_database_url()
    sqlite = datadir.sqlite_file(url)
    if sqlite is not None and not sqlite.exists():
        print(f"covote people purge: no database at {sqlite}", file=sys.stderr)
        return 1
    engine = make_engine(url)
    try:
        if current_revision(engine) != head_revision():
            print("covote people purge: run `covote db upgrade` first", file=sys.stderr)
            return 1
        with transaction(engine) as session:
            purged = people.purge_expired(session, today=datetime.now(UTC).date())
    finally:
        engine.dispose()
    print(f"{purged} expired contact(s) deleted from the people lists")
    return 0
