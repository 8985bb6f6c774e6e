"""Keypad registration: which radio keypad is which voter in a meeting.

Contract: functions take the caller's session and never commit. A keypad is unknown until it is
registered (CSV import, roll call, auto-enrol); each registered keypad is one voter whose
ballots have channel `keypad`: a new one (`register`) or a ticket holder's, checked in at the
door (`bind`, app/scrutiny/tickets.py). In a tickets meeting no keypad makes a new voter: a keypad
is
only ever a ticket holder's (`register` and the CSV import refuse, auto-enrol is off).
A lost keypad is swapped (the voter keeps their ballot and segments, the old radio id stops
counting) or revoked (it stops counting). Keypad ballots are not secret: radio presses can be
sniffed and spoofed (see README, "Keypads").
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.core.errors import BadInput, Conflict, NotFound
from app.core.inputs import clean_text, id_problem
from app.core.vocab import Channel
from app.record.csvfiles import csv_records
from app.record.records import Problems
from app.voting import audit
from app.voting.meetings import segments_of
from app.voting.models import Keypad, Meeting, Voter
from app.voting.voters import declare_segments, join

CSV_HEADER = ("keypad", "label", "segments")
MAX_ID = 64
THROUGH_TICKETS = (
    "This meeting admits voters by ticket: a keypad votes only for a ticket's holder. "
    "Check the keypad in with its holder's ticket on the Tickets page."
)
NO_AUTO_ENROL = "This meeting admits voters by ticket: unknown keypads cannot enrol themselves."


@dataclass(frozen=True, slots=True)
class RosterEntry:
    keypad: str
    label: str
    voter_id: int
    pseudonym: str
    segments: tuple[str, ...]
    revoked: bool


def roster(session: Session, meeting_id: int) -> list[RosterEntry]:
    q = (
        select(Keypad, Voter)
        .join(Voter, col(Voter.id) == col(Keypad.voter_id))
        .where(Keypad.meeting_id == meeting_id)
        .order_by(col(Keypad.label), col(Keypad.id))
    )
    return [
        RosterEntry(k.keypad, k.label, v.id or 0, v.pseudonym, tuple(v.segments), k.revoked)
        for k, v in session.exec(q)
    ]


def _clean_id(value: str, what: str = "The keypad id") -> str:
    """A keypad's radio id: refused (never changed) if it holds invisible characters."""
    value = value.strip()
    if not value or len(value) > MAX_ID:
        raise BadInput(f"{what} must be 1-{MAX_ID} characters.")
    problem = id_problem(value)
    if problem:
        raise BadInput(f"{what} {problem}.")
    return value


def _clean_label(value: str) -> str:
    value = clean_text(value).strip()
    if not value or len(value) > MAX_ID:
        raise BadInput(f"The label must be 1-{MAX_ID} characters.")
    return value


def _find(session: Session, meeting_id: int, keypad: str) -> Keypad | None:
    q = select(Keypad).where(Keypad.meeting_id == meeting_id, Keypad.keypad == keypad)
    return session.exec(q).first()


def _free(session: Session, meeting_id: int, keypad: str, label: str) -> tuple[str, str]:
    """The cleaned id and label, once neither is in use in the meeting."""
    keypad, label = _clean_id(keypad), _clean_label(label)
    if _find(session, meeting_id, keypad) is not None:
        raise Conflict(f"Keypad {keypad} is already registered in this meeting.")
    taken = select(Keypad).where(
        Keypad.meeting_id == meeting_id, Keypad.label == label, col(Keypad.revoked).is_(False)
    )
    if session.exec(taken).first() is not None:
        raise Conflict(f"Label {label} is already on another keypad; swap it instead.")
    return keypad, label


def may_make_voters(meeting: Meeting) -> bool:
    """Can a keypad become a new voter (register, import, roll call, auto-enrol)? Not in a
    tickets meeting, where every voter is a ticket's (a keypad is checked in with one)."""
    return not meeting.uses_tickets


def require_new_voters(meeting: Meeting) -> None:
    """Conflict, saying to check keypads in with tickets, in a tickets meeting."""
    if not may_make_voters(meeting):
        raise Conflict(THROUGH_TICKETS)


def register(
    session: Session, meeting: Meeting, keypad: str, label: str, segments: list[str]
) -> Keypad:
    """Bind a radio id to a new voter. Refuses an id or label already in use in the meeting,
    and any new keypad voter in a tickets meeting (`tickets.check_in` binds a ticket's)."""
    assert meeting.id is not None
    require_new_voters(meeting)
    keypad, label = _free(session, meeting.id, keypad, label)
    voter = join(session, meeting, channel=Channel.KEYPAD)
    declare_segments(session, meeting, voter, segments)
    return bind(session, meeting, keypad, label, voter)


def bind(session: Session, meeting: Meeting, keypad: str, label: str, voter: Voter) -> Keypad:
    """Give an existing voter of the meeting a keypad (a ticket holder checked in at the door).

    Refuses an id or label already in use in the meeting, and a voter who already holds a
    keypad (swap that one instead)."""
    assert meeting.id is not None and voter.id is not None and voter.meeting_id == meeting.id
    keypad, label = _free(session, meeting.id, keypad, label)
    held = select(Keypad.label).where(Keypad.voter_id == voter.id, col(Keypad.revoked).is_(False))
    if (other := session.exec(held).first()) is not None:
        raise Conflict(f"This voter already holds keypad {other}; swap that one instead.")
    row = Keypad(meeting_id=meeting.id, keypad=keypad, label=label, voter_id=voter.id)
    session.add(row)
    session.flush()
    audit.record(session, meeting.id, "keypad.registered", {"label": label})
    return row


def swap(session: Session, meeting: Meeting, label: str, new_keypad: str) -> Keypad:
    """A keypad was lost: the voter behind `label` now votes with `new_keypad`."""
    assert meeting.id is not None
    label = clean_text(label).strip()
    new_keypad = _clean_id(new_keypad, "The new keypad id")
    q = select(Keypad).where(
        Keypad.meeting_id == meeting.id, Keypad.label == label, col(Keypad.revoked).is_(False)
    )
    old = session.exec(q).first()
    if old is None:
        raise NotFound(f"No keypad has the label {label}.")
    if _find(session, meeting.id, new_keypad) is not None:
        raise Conflict(f"Keypad {new_keypad} is already registered in this meeting.")
    old.revoked = True
    row = Keypad(meeting_id=meeting.id, keypad=new_keypad, label=label, voter_id=old.voter_id)
    session.add_all([old, row])
    session.flush()
    audit.record(session, meeting.id, "keypad.swapped", {"label": label})
    return row


def revoke(session: Session, meeting: Meeting, keypad: str) -> None:
    assert meeting.id is not None
    row = _find(session, meeting.id, keypad)
    if row is None:
        raise NotFound(f"Keypad {keypad} is not registered in this meeting.")
    row.revoked = True
    session.add(row)
    audit.record(session, meeting.id, "keypad.revoked", {"label": row.label})


def import_csv(session: Session, meeting: Meeting, text: str, filename: str) -> int:
    """`keypad,label,segments` rows (segments joined by ';'); all or nothing, errors by line."""
    assert meeting.id is not None
    require_new_voters(meeting)
    known = {s.key for s in segments_of(session, meeting.id)}
    read = Problems(filename)
    records = csv_records(text, read)
    header = records[0][1] if records else None
    if header is None or tuple(h.strip() for h in header) != CSV_HEADER:
        raise BadInput(f"{filename}:1: the header must be {','.join(CSV_HEADER)}")
    problems = [f"{filename}:{line}: {reason}" for line, reason in read.errors]
    rows: list[tuple[int, str, str, list[str]]] = []
    for line, cells in records[1:]:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(CSV_HEADER):
            problems.append(f"{filename}:{line}: expected 3 columns, found {len(cells)}")
            continue
        segments = [s.strip() for s in cells[2].split(";") if s.strip()]
        unknown = [s for s in segments if s not in known]
        if unknown:
            problems.append(f"{filename}:{line}: unknown segment {', '.join(unknown)}")
            continue
        rows.append((line, cells[0], cells[1], segments))
    if problems:
        raise BadInput("\n".join(problems[:50]))
    for line, keypad, label, segments in rows:
        try:
            register(session, meeting, keypad, label, segments)
        except (BadInput, Conflict) as e:
            raise BadInput(f"{filename}:{line}: {e.message}") from None
    return len(rows)


def registry(session: Session, meeting_id: int) -> dict[str, tuple[int, bool]]:
    """keypad id -> (voter id, revoked), for the press path's in-memory lookup."""
    q = select(Keypad.keypad, Keypad.voter_id, Keypad.revoked).where(
        Keypad.meeting_id == meeting_id
    )
    return {k: (v, r) for k, v, r in session.exec(q)}
