"""A meeting's Community Charter (issue 17): stored as numbered versions, read back, drafted.

Each saved draft is a `CharterVersion`: its number (1, 2, ...), its canonical charter file
text (app/record/charter_file.py `dump_charter`, with `version` set to the number) and when it
was saved; the current charter is the highest number. What is stored is exactly what the
console exports as JSON, so an export imports back to the same text (and saves no version).
The adoption rule's block share lives beside them in `MeetingCharter`.

Contract: every function takes the caller's session and never commits. A save is a set-up
change (`meetings._touch`: refused for an archived meeting) and appends a `charter.saved`
audit link with the version and the text's SHA-256. No save while a `charter` round is open:
its phones and keypads are answering the clauses as they stand. A consent round is counted
against the version in force when it opened (`charter_at`), so a later draft never changes a
closed round's results.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from functools import lru_cache

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.core.errors import BadInput, Conflict, NotFound
from app.core.messages import N_
from app.core.vocab import CHARTER, CHARTER_REVIEW, RoundStatus
from app.record.charter_file import dump_charter, parse_charter
from app.record.charter_markdown import parse_markdown
from app.record.records import RecordError
from app.rules import charter_doc as cd
from app.rules.charter import DEFAULT_BLOCK_PERCENT, CharterRule
from app.rules.tally import Rule
from app.voting import audit
from app.voting.meetings import _touch
from app.voting.models import Ballot, CharterVersion, Meeting, MeetingCharter, Round, utcnow
from app.voting.surveys import file_problems

PARSED_KEPT = 32  # parsed versions kept by text: a few meetings' current charters
MAX_VERSIONS = cd.MAX_VERSION  # numbers stay within the charter file's own bound
# What made a version (the versions list says it in words: console/charter.html).
SAVED_BY = ("imported", "budget", "lab", "copied", "adopted", "amended", "review")


@lru_cache(maxsize=PARSED_KEPT)
def parse_stored(text: str) -> cd.Charter:
    """A stored version's text, parsed (kept: the same text gives the same object)."""
    return parse_charter(text)


def versions_of(session: Session, meeting_id: int) -> list[CharterVersion]:
    """The meeting's saved versions, oldest first."""
    q = (
        select(CharterVersion)
        .where(CharterVersion.meeting_id == meeting_id)
        .order_by(col(CharterVersion.number))
    )
    return list(session.exec(q))


def current_version(session: Session, meeting_id: int) -> CharterVersion | None:
    """The latest saved version, or None when the meeting has no charter."""
    q = (
        select(CharterVersion)
        .where(CharterVersion.meeting_id == meeting_id)
        .order_by(col(CharterVersion.number).desc())
        .limit(1)
    )
    return session.exec(q).first()


def charter_of(session: Session, meeting_id: int) -> cd.Charter | None:
    """The meeting's current charter, or None."""
    row = current_version(session, meeting_id)
    return None if row is None else parse_stored(row.definition)


def version(session: Session, meeting_id: int, number: int) -> cd.Charter:
    """Version `number` of the meeting's charter.

    Raises:
        NotFound: there is no such version.
    """
    q = select(CharterVersion).where(
        CharterVersion.meeting_id == meeting_id, CharterVersion.number == number
    )
    row = session.exec(q).first()
    if row is None:
        raise NotFound(N_("The charter has no version %(n)s."), n=number)
    return parse_stored(row.definition)


def charter_at(session: Session, meeting_id: int, at: datetime) -> cd.Charter | None:
    """The version in force at `at` (the latest saved by then): what a round opened at `at`
    asked, since no version is saved while a charter round is open."""
    text = definition_at(session, meeting_id, at)
    return None if text is None else parse_stored(text)


def definition_at(session: Session, meeting_id: int, at: datetime) -> str | None:
    """The stored text of the version in force at `at` (`charter_at`): the charter file the
    public record publishes for a round opened then, whose sha256 its `charter.saved` link
    holds."""
    q = (
        select(CharterVersion)
        .where(CharterVersion.meeting_id == meeting_id, col(CharterVersion.saved_at) <= at)
        .order_by(col(CharterVersion.number).desc())
        .limit(1)
    )
    row = session.exec(q).first()
    return None if row is None else row.definition


def block_percent(session: Session, meeting_id: int) -> int:
    """The meeting's block share P (the default until it is set)."""
    row = session.get(MeetingCharter, meeting_id)
    return DEFAULT_BLOCK_PERCENT if row is None else row.block_percent


def rule_of(session: Session, meeting: Meeting) -> CharterRule:
    """The adoption rule's parameters: the block share and the meeting's R and m."""
    assert meeting.id is not None
    return CharterRule(
        block_percent(session, meeting.id), Rule(ratio=meeting.ratio, group_min=meeting.group_min)
    )


def charter_rounds(session: Session, meeting_id: int) -> list[Round]:
    q = select(Round).where(Round.meeting_id == meeting_id, Round.kind == CHARTER)
    return list(session.exec(q))


def _has_answers(session: Session, meeting_id: int) -> bool:
    q = (
        select(func.count())
        .select_from(Ballot)
        .join(Round, col(Round.id) == col(Ballot.round_id))
        .where(Round.meeting_id == meeting_id, Round.kind == CHARTER)
    )
    return session.exec(q).one() > 0


def _no_open_round(session: Session, meeting_id: int) -> None:
    # A review round (charter_review) reads the commitments as they stand, like a consent round.
    q = select(Round).where(
        Round.meeting_id == meeting_id,
        col(Round.kind).in_((CHARTER, CHARTER_REVIEW)),
        Round.status == RoundStatus.OPEN,
    )
    open_rounds = list(session.exec(q))
    if open_rounds:
        raise Conflict(
            N_("Charter round %(n)s is open: close it before changing the charter."),
            n=open_rounds[0].number,
        )


def read_file(text: str, filename: str) -> cd.Charter:
    """A charter file as uploaded or pasted: Markdown when its name ends in .md or its first
    non-blank character is "#", else JSON.

    Raises:
        InvalidForm: every problem the file has, one each, with where.
    """
    stripped = text.lstrip("\ufeff \t\r\n")
    markdown = filename.lower().endswith((".md", ".markdown")) or stripped.startswith("#")
    try:
        return (
            parse_markdown(text, filename=filename)
            if markdown
            else parse_charter(text, filename=filename)
        )
    except RecordError as e:
        raise file_problems(e) from None


def save_charter(
    session: Session, meeting: Meeting, charter: cd.Charter, made_by: str = "imported"
) -> CharterVersion | None:
    """Store `charter` as the meeting's next version (its `version` becomes that number) and
    log `charter.saved`; returns the new version, or None when it is the current one unchanged
    (no version, no audit link). Checked again as the file it will be: nothing unchecked is
    stored.

    Raises:
        InvalidForm: the charter has problems (every one).
        Conflict: a charter round is open, or the meeting is archived.
    """
    assert meeting.id is not None and made_by in SAVED_BY
    _no_open_round(session, meeting.id)
    latest = current_version(session, meeting.id)
    number = 1 if latest is None else latest.number + 1
    if latest is not None:
        same = dump_charter(replace(charter, version=latest.number))
        if same == latest.definition:
            return None  # nothing changed
    if number > MAX_VERSIONS:
        raise Conflict(N_("The charter has too many versions."))
    try:
        text = dump_charter(replace(charter, version=number))
        parse_charter(text)
    except RecordError as e:
        raise file_problems(e) from None
    row = CharterVersion(meeting_id=meeting.id, number=number, definition=text, made_by=made_by)
    session.add(row)
    if session.get(MeetingCharter, meeting.id) is None:
        session.add(MeetingCharter(meeting_id=meeting.id))
    _touch(meeting)
    session.add(meeting)
    audit.record(
        session,
        meeting.id,
        "charter.saved",
        {
            "version": number,
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "clauses": len(charter.clauses()),
        },
    )
    session.flush()
    return row


def set_block_percent(session: Session, meeting: Meeting, value: int) -> None:
    """Set the block share P (0-100); logs `charter.rule`.

    Raises:
        BadInput: outside 0-100.
        Conflict: no charter yet, or a charter round has answers (its results would change).
    """
    assert meeting.id is not None
    if not 0 <= value <= 100:
        raise BadInput(N_("The block share is a percentage from 0 to 100."))
    row = session.get(MeetingCharter, meeting.id)
    if row is None:
        raise Conflict(N_("Import a charter first."))
    if row.block_percent == value:
        return
    if _has_answers(session, meeting.id):
        raise Conflict(N_("People have answered a charter round: its rule cannot change now."))
    row.block_percent, row.changed_at = value, utcnow()
    session.add(row)
    _touch(meeting)
    session.add(meeting)
    audit.record(session, meeting.id, "charter.rule", {"block_percent": value})


def copy_charter(session: Session, source_id: int, target: Meeting) -> None:
    """Give `target` (a duplicate) the current charter of meeting `source_id` as its version
    1, with its block share, if it has one."""
    charter = charter_of(session, source_id)
    if charter is None:
        return
    save_charter(session, target, charter, "copied")
    source, copy = session.get(MeetingCharter, source_id), session.get(MeetingCharter, target.id)
    assert source is not None and copy is not None
    copy.block_percent = source.block_percent
    session.add(copy)
