"""Alembic migrations (app/voting/migrations, db.upgrade): a database made by release ad72a22
(tests/fixtures/release-ad72a22.sqlite, see tests/fixtures/README.md) upgrades on SQLite and
PostgreSQL and still works; the revisions build exactly the models' schema; money is pence."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import JSON, Boolean, DateTime, MetaData, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from app import cli
from app.config import Settings
from app.voting.db import alembic_config, current_revision, head_revision, make_engine, upgrade
from tests.conftest import LiveServer, Meeting, Phone, make_settings

FIXTURES = Path(__file__).parent / "fixtures"
RELEASE = FIXTURES / "release-ad72a22.sqlite"
# Exported by main at 3e9fb3f (add-columns-at-start-up, float money) from the fixture above.
EXPORTS = FIXTURES / "release-ad72a22-exports"


def migrate(engine: Engine, revision: str) -> None:
    """Run the revisions up to `revision` by themselves (no create_all, no stamping)."""
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def differences(engine: Engine, metadata: MetaData) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def release_in_postgres(url: str) -> None:
    """The release's database on PostgreSQL: the baseline's tables (checked once against the
    release's own create_all, tests/fixtures/README.md), no alembic_version, the fixture's rows."""
    engine = make_engine(url)
    migrate(engine, "0001")
    source = sqlite3.connect(RELEASE)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
        tables = MetaData()
        tables.reflect(conn)
        for table in tables.sorted_tables:
            cursor = source.execute(f'SELECT * FROM "{table.name}"')
            names = [d[0] for d in cursor.description]
            rows = [
                {n: _pg_value(table.c[n].type, v) for n, v in zip(names, row, strict=True)}
                for row in cursor
            ]
            if rows:
                conn.execute(table.insert(), rows)
            if "id" in table.c:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT coalesce(max(id), 0) + 1 FROM {table.name}), false)"
                    )
                )
    source.close()
    engine.dispose()


def _pg_value(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(kind, JSON):
        return json.loads(value)
    if isinstance(kind, Boolean):
        return bool(value)
    if isinstance(kind, DateTime):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def release(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for a server whose database was made by release ad72a22 (not yet upgraded)."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        release_in_postgres(url)
        return make_settings(tmp_path, database_url=url)
    settings = make_settings(tmp_path)
    shutil.copyfile(RELEASE, settings.sqlite_path())
    return settings


def existing(facilitator: Any, meeting_id: int) -> Meeting:
    """The conftest Meeting helper for a meeting already in the database."""
    m = Meeting.__new__(Meeting)
    m.f, m.id = facilitator, meeting_id
    page = facilitator.get(f"/console/{meeting_id}").text
    code = re.search(r'class="code">([A-Z0-9]{6})<', page)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert code and csrf, page
    m.code, m.csrf = code.group(1), csrf.group(1)
    return m


def test_a_release_database_upgrades_and_its_meetings_still_work(
    release: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Started on release ad72a22's database, the app upgrades it to head, then exports the same
    meeting file and results as before and the same audit log plus a `round.sealed` link per
    closed round; both the release's own ballot file (by replay) and today's exports (by the
    new seals) verify against it, and its open round takes and counts new ballots."""
    with LiveServer(release) as server:
        f = server.browser()
        f.get("/facilitator?key=test-facilitator-key")
        for mid in (1, 2):
            for what in ("meeting.json", "results.json"):
                r = f.get(f"/console/{mid}/export/{what}")
                assert r.status_code == 200, r.text
                assert r.content == (EXPORTS / f"meeting-{mid}-{what}").read_bytes(), (mid, what)
            # The old log, then one `round.sealed` link per round it closed before seals
            # existed, sealing the rows the round publishes now.
            old = (EXPORTS / f"meeting-{mid}-audit.jsonl").read_bytes()
            log = tmp_path / f"meeting-{mid}-audit.jsonl"
            log.write_bytes(f.get(f"/console/{mid}/export/audit.jsonl").content)
            assert log.read_bytes().startswith(old)
            added = [json.loads(line) for line in log.read_bytes()[len(old) :].splitlines()]
            closed = old.count(b'"kind":"round.closed"')
            assert [a["kind"] for a in added] == ["round.sealed"] * closed
            meeting_file = str(EXPORTS / f"meeting-{mid}-meeting.json")
            # The release's own ballot file still verifies by replay...
            args = ["audit", "verify", str(log), "--ballots"]
            args += [str(EXPORTS / f"meeting-{mid}-ballots.csv"), "--meeting", meeting_file]
            assert cli.main(args) == 0
            assert "OK: the chain is intact" in capsys.readouterr().out
            # ...and so do today's exports of the same rounds, against the new seals.
            for what in ("ballots.csv", "groups.csv"):
                (tmp_path / what).write_bytes(f.get(f"/console/{mid}/export/{what}").content)
            args = ["audit", "verify", str(log), "--ballots", str(tmp_path / "ballots.csv")]
            args += ["--groups", str(tmp_path / "groups.csv"), "--meeting", meeting_file]
            assert cli.main(args) == 0, capsys.readouterr()
            assert "OK: the chain is intact" in capsys.readouterr().out
        # Round 2 of the first meeting was left open by the release: it still takes ballots.
        m = existing(f, 1)
        before = m.state()["round"]
        phone = Phone(server.browser(), m.code)
        assert phone.vote({"library": "want", "respite": "neutral"}).status_code == 200
        m.close_round(2)
        after = m.state()["round"]
        assert (before["number"], before["status"], after["status"]) == (2, "open", "closed")
        r = f.get("/console/1/rounds/2/export/results.json")
        assert r.status_code == 200 and json.loads(r.content)["rounds"][0]["proposals"][0]["V"] == 4
        log.write_bytes(f.get("/console/1/export/audit.jsonl").content)
        assert cli.main(["audit", "verify", str(log)]) == 0
    engine = make_engine(release.resolved_database_url())
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        secrets = [s for (s,) in conn.execute(text("SELECT record_secret FROM meeting"))]
    engine.dispose()
    assert len(set(secrets)) == 2 and all(re.fullmatch(r"[0-9a-f]{64}", s) for s in secrets)


def test_starting_on_a_release_sqlite_file_first_copies_it_to_a_private_backup(
    tmp_path: Path,
) -> None:
    """The start-up upgrade copies the old file to data/backups/covote-<time>.sqlite (0600)
    first; a second start has nothing to upgrade and makes no copy."""
    settings = make_settings(tmp_path)
    shutil.copyfile(RELEASE, settings.sqlite_path())
    with LiveServer(settings):
        pass
    (backup,) = (tmp_path / "backups").iterdir()
    assert re.fullmatch(r"covote-\d{8}-\d{6}\.sqlite", backup.name)
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    copy = sqlite3.connect(backup)
    tables = {n for (n,) in copy.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "alembic_version" not in tables and "facilitatorkey" not in tables
    assert copy.execute("SELECT cost FROM proposal WHERE key = 'park'").fetchall() == [(60000.1,)]
    copy.close()
    with LiveServer(settings):
        pass
    assert len(list((tmp_path / "backups").iterdir())) == 1


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_the_migrations_build_exactly_the_models_schema(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Revisions 0001..head on an empty database give the tables, columns, types, indexes and
    keys of app/voting/models.py: Alembic's compare_metadata finds no difference."""
    url = (
        request.getfixturevalue("postgres_url")
        if backend == "postgres"
        else f"sqlite:///{tmp_path / 'm.db'}"
    )
    engine = make_engine(url)
    migrate(engine, "head")
    assert differences(engine, SQLModel.metadata) == []
    engine.dispose()


def test_the_baseline_is_release_ad72a22s_schema(tmp_path: Path) -> None:
    """Revision 0001 builds the same tables as the release's own create_all made in the fixture."""
    engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    migrate(engine, "0001")
    made_by_release = MetaData()
    fixture = make_engine(f"sqlite:///{RELEASE}")
    with fixture.connect() as conn:
        made_by_release.reflect(conn)
    fixture.dispose()
    assert differences(engine, made_by_release) == []
    engine.dispose()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_two_processes_starting_together_migrate_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Two servers starting at the same moment on one release database: one upgrades, the other
    waits (PostgreSQL advisory lock / SQLite write lock) and finds it at head; neither fails."""
    if backend == "postgres":
        url = request.getfixturevalue("postgres_url")
        release_in_postgres(url)
    else:
        shutil.copyfile(RELEASE, tmp_path / "covote.db")
        url = f"sqlite:///{tmp_path / 'covote.db'}"
    engines = [make_engine(url), make_engine(url)]
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def start(engine: Engine) -> None:
        barrier.wait()
        try:
            outcomes.append(upgrade(engine, backup_dir=tmp_path / "backups"))
        except Exception as e:  # the assertion below shows it
            outcomes.append(e)

    threads = [threading.Thread(target=start, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert len(outcomes) == 2
    backups = [o for o in outcomes if o is not None]
    assert len(backups) == (1 if backend == "sqlite" else 0)  # only the one that upgraded
    assert current_revision(engines[0]) == head_revision()
    for e in engines:
        e.dispose()


def test_money_is_stored_as_whole_pence(tmp_path: Path) -> None:
    """After the upgrade the money columns are BIGINT pence, old floats converted exactly; the
    app still reads pounds."""
    shutil.copyfile(RELEASE, tmp_path / "c.db")
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT key, cost, saving FROM proposal ORDER BY id")).all()
        pot = conn.execute(text("SELECT budget_pot, savings_target FROM meeting WHERE id = 2"))
        assert pot.one() == (10000025, 3000050)
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("library", None, 4800000),
        ("respite", 8000000, None),
        ("toilets", None, 2200000),
        ("path", 4500075, None),
        ("park", 6000010, None),
        ("pool", None, 1234567),
        ("bins", None, 2000000),
    ]


def test_an_old_amount_with_more_than_two_decimals_stops_the_upgrade_and_changes_nothing(
    tmp_path: Path,
) -> None:
    """Money that is not whole pence is not rounded: the upgrade names the row and rolls back."""
    path = tmp_path / "c.db"
    shutil.copyfile(RELEASE, path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE proposal SET cost = 12.345 WHERE key = 'park'")
    engine = make_engine(f"sqlite:///{path}")
    with pytest.raises(RuntimeError, match=r"proposal\.cost of row 5 is 12\.345"):
        upgrade(engine)
    assert current_revision(engine) is None
    with engine.connect() as conn:
        assert conn.execute(text("SELECT cost FROM proposal WHERE id = 5")).scalar() == 12.345
        names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))
        assert "facilitatorkey" not in {n for (n,) in names}
    engine.dispose()


def test_an_amount_with_more_than_two_decimals_is_refused_on_import(tmp_path: Path) -> None:
    """The meeting file refuses a cost that is not whole pence, with a clear reason."""
    from app.record import records

    spec = json.loads((EXPORTS / "meeting-2-meeting.json").read_text())
    spec["proposals"][0]["cost"] = 45000.755
    with pytest.raises(records.RecordError, match="at most two decimals"):
        records.parse_meeting(json.dumps(spec))


def test_the_db_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`covote db current|upgrade|history` report, upgrade (with a backup) and list revisions."""
    shutil.copyfile(RELEASE, tmp_path / "covote.db")
    data = ["--data", str(tmp_path)]
    assert cli.main(["db", "current", *data]) == 0
    assert capsys.readouterr().out.startswith("none")
    assert cli.main(["db", "upgrade", *data]) == 0
    out = capsys.readouterr().out
    assert f"database at revision {head_revision()}" in out and "backups/covote-" in out
    assert cli.main(["db", "current", *data]) == 0
    assert capsys.readouterr().out.strip() == head_revision()
    assert cli.main(["db", "upgrade", *data]) == 0
    assert "backup" not in capsys.readouterr().out
    assert cli.main(["db", "history"]) == 0
    assert [line[:4] for line in capsys.readouterr().out.splitlines()] == [
        "0020",
        "0019",
        "0018",
        "0017",
        "0016",
        "0015",
        "0014",
        "0013",
        "0012",
        "0011",
        "0010",
        "0009",
        "0008",
        "0007",
        "0006",
        "0005",
        "0004",
        "0003",
        "0002",
        "0001",
    ]
    assert cli.main(["db", "current", "--data", str(tmp_path / "none")]) == 1
