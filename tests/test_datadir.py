"""The data directory is private: 0700, and its database, secrets and certificate files 0600."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

from app.core import datadir
from tests.conftest import LiveServer, Meeting, Phone, make_settings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_data_directory_and_its_files_are_private(tmp_path: Path) -> None:
    """Started on a missing directory, with the usual umask 022: the directory is 0700, and the
    SQLite file, its -wal and -shm files and the secrets file are 0600 after a vote."""
    data = tmp_path / "data"
    settings = make_settings(data, session_secret=None, facilitator_key=None).with_secrets()
    with LiveServer(settings) as live:
        f = live.browser()
        f.get(f"/facilitator?key={settings.facilitator_key}")
        meeting = Meeting(f)
        meeting.open_round()
        phone = Phone(live.browser(), meeting.code)
        assert phone.vote({"library": "want"}).status_code == 200
        assert _mode(data) == 0o700
        for name in ("covote.db", "covote.db-wal", "covote.db-shm", "covote-secrets.json"):
            assert (data / name).exists(), name
            assert _mode(data / name) == 0o600, name


def test_looser_permissions_are_tightened_at_start(tmp_path: Path) -> None:
    """A directory restored with group and world access (0755 / 0644) is fixed when the server
    starts: the directory, the database, the secrets and a certificate folder."""
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    sqlite3.connect(data / "covote.db").close()
    (data / "covote.db").chmod(0o644)
    (data / "covote-secrets.json").write_text("{}")
    (data / "covote-secrets.json").chmod(0o644)
    (data / "tls").mkdir()
    (data / "tls").chmod(0o755)
    (data / "tls" / "cert.pem").write_text("x")
    (data / "tls" / "cert.pem").chmod(0o664)
    settings = make_settings(data)
    fixed = datadir.secure(settings.data_dir, settings.resolved_database_url())
    assert data / "covote.db" in fixed
    assert _mode(data) == 0o700 and _mode(data / "tls") == 0o700
    for path in ("covote.db", "covote-secrets.json", "tls/cert.pem"):
        assert _mode(data / path) == 0o600, path
    assert datadir.secure(settings.data_dir, settings.resolved_database_url()) == []
    with LiveServer(make_settings(data)):
        (data / "covote.db").chmod(0o644)  # loosened while running: fixed at the next start
    with LiveServer(make_settings(data)):
        assert _mode(data / "covote.db") == 0o600
