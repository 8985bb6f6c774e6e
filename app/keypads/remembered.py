"""The keypad receivers the facilitator opened, remembered so a restart re-opens them.

A receiver added in the console (Keypads → Receivers) is written here with the meeting it
serves; "use keypads" in another meeting moves every remembered receiver to that meeting (one
laptop's receivers serve one meeting at a time, as the desk does). `KeypadDesk.start` reads
them back; "Remove" under Saved receivers on the keypad desk forgets one (`forget`), and it is
not opened again. Receivers given on the command line (`--keypads`) are not written: the
command line gives them again. Contract: every function works in the caller's session; nobody
here commits.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.voting.models import KeypadReceiver


def remember(session: Session, url: str, meeting_id: int) -> None:
    """Remember `url` (again), serving `meeting_id` from now on."""
    row = session.exec(select(KeypadReceiver).where(KeypadReceiver.url == url)).first()
    if row is None:
        row = KeypadReceiver(url=url)
    row.meeting_id = meeting_id
    session.add(row)
    serve(session, meeting_id)


def serve(session: Session, meeting_id: int) -> None:
    """Every remembered receiver now serves `meeting_id`."""
    for row in session.exec(select(KeypadReceiver)):
        if row.meeting_id != meeting_id:
            row.meeting_id = meeting_id
            session.add(row)


def remembered(session: Session) -> list[KeypadReceiver]:
    """The remembered receivers, oldest first (the order the desk re-opens them in)."""
    q = select(KeypadReceiver).order_by(col(KeypadReceiver.added_at), col(KeypadReceiver.id))
    return list(session.exec(q))


def forget(session: Session, url: str) -> bool:
    """Stop remembering `url`: the next start does not open it. False if it was not remembered."""
    row = session.exec(select(KeypadReceiver).where(KeypadReceiver.url == url)).first()
    if row is None:
        return False
    session.delete(row)
    return True
