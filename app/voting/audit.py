"""The audit log's writer: appends links to a meeting's hash-chained chain in the database.

The chain's format, what each kind of link holds and the checks on an export are the public
record's, in app/record/chain.py (pure). This module stores links and reads them back.

Contract for writers: call `record` inside the transaction that makes the change, after the
change (the head row is locked, so appends from concurrent transactions and processes
serialise and the chain never forks). Links of the kinds in `chain.UNTIMED` get no time; the
others get the time of the append (`now_text`), the one clock read in the chain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlmodel import Session, col, select

from app.record import chain
from app.voting.models import AuditEvent, AuditHead


def now_text() -> str:
    """The time of an append, as a link's `at`."""
    return chain.time_text(datetime.now(UTC))


# --- writing (inside the caller's transaction) -------------------------------------------------


def record(session: Session, meeting_id: int, kind: str, data: Mapping[str, Any]) -> None:
    """Append one link for `meeting_id`; see `append`."""
    append(session, meeting_id, [(kind, data)])


def append(
    session: Session, meeting_id: int, links: Sequence[tuple[str, Mapping[str, Any]]]
) -> None:
    """Append links in order. Locks the chain's head row until the caller's transaction ends."""
    if not links:
        return
    head = session.execute(_LOCK_HEAD, {"m": meeting_id}).first()
    if head is None:
        session.add(AuditHead(meeting_id=meeting_id, seq=0, hash=chain.GENESIS))
        session.flush()
        seq, prev = 0, chain.GENESIS
    else:
        seq, prev = head.seq, head.hash
    at_now = now_text()
    rows = []
    for kind, data in links:
        seq += 1
        at = None if kind in chain.UNTIMED else at_now
        text = chain.canonical(data)  # stored as hashed: the export writes this text as it is
        digest = chain.link_digest(seq, at, kind, text, prev)
        rows.append(
            {
                "meeting_id": meeting_id,
                "seq": seq,
                "at": at,
                "kind": kind,
                "data": text,
                "prev": prev,
                "hash": digest,
            }
        )
        prev = digest
    connection = session.connection()
    connection.execute(_INSERT, rows)
    connection.execute(_UPDATE_HEAD, {"m": meeting_id, "seq": seq, "hash": prev})


# Core statements built once (the ballot writer appends a link per ballot at peak load).
_EVENTS: Table = AuditEvent.__table__  # type: ignore[attr-defined]
_HEADS: Table = AuditHead.__table__  # type: ignore[attr-defined]
_INSERT = insert(_EVENTS)
_LOCK_HEAD = (
    select(_HEADS.c.seq, _HEADS.c.hash)
    .where(_HEADS.c.meeting_id == bindparam("m"))
    .with_for_update()
)
_UPDATE_HEAD = (
    update(_HEADS)
    .where(_HEADS.c.meeting_id == bindparam("m"))
    .values(seq=bindparam("seq"), hash=bindparam("hash"))
)


def head_of(session: Session, meeting_id: int) -> tuple[int, str]:
    """(number of links, hash of the last link) of a meeting's chain."""
    head = session.get(AuditHead, meeting_id)
    return (0, chain.GENESIS) if head is None else (head.seq, head.hash)


def export_lines(session: Session, meeting_id: int) -> str:
    """The meeting's log as JSON Lines, oldest first."""
    q = select(AuditEvent).where(AuditEvent.meeting_id == meeting_id).order_by(col(AuditEvent.seq))
    return "".join(
        chain.link_line(e.seq, e.at, e.kind, e.data, e.prev, e.hash) for e in session.exec(q)
    )
