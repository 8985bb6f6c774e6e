"""The data directory: the database, the secrets file, TLS certificates, captures and backups.

Everything in it is for the server's own user: the directory is 0700 and its files 0600. New
files are made private from the start (`covote serve` sets umask 077; the SQLite file is created
0600 before SQLite opens it, and SQLite gives its -wal and -shm files the database file's
mode). At every start, anything looser (a copy restored with `cp`, a directory made by hand) is
tightened, and what was fixed is logged.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077


def make_private_dir(path: Path) -> None:
    """Create `path` (and parents) as 0700 if it is missing."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def create_private_file(path: Path) -> None:
    """Create an empty 0600 file if `path` does not exist yet (never truncates)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def tighten(path: Path) -> bool:
    """Remove group and other permissions from `path`; True if it was looser."""
    mode = stat.S_IMODE(path.lstat().st_mode)
    if mode & 0o077 == 0:
        return False
    path.chmod(mode & 0o700)
    return True


def sqlite_file(database_url: str) -> Path | None:
    """The file a `sqlite:///path` URL names, or None (in-memory or not SQLite)."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix):
        return None
    name = database_url[len(prefix) :].split("?", 1)[0]
    return Path(name) if name and name != ":memory:" else None


def secure(data_dir: Path, database_url: str) -> list[Path]:
    """Make the data directory and the SQLite database private; returns what was tightened."""
    make_private_dir(data_dir)
    fixed: list[Path] = []
    db = sqlite_file(database_url)
    if db is not None:
        make_private_dir(db.parent)
        create_private_file(db)
        suffixes = ("", "-wal", "-shm", "-journal")
        fixed += [p for p in (Path(f"{db}{s}") for s in suffixes) if p.exists() and tighten(p)]
    for path in [data_dir, *data_dir.rglob("*")]:
        if not path.is_symlink() and tighten(path):
            fixed.append(path)
    if fixed:
        log.warning("made private (owner only): %s", ", ".join(str(p) for p in sorted(set(fixed))))
    return fixed
