"""A meeting's life around its votes: the meeting list, duplicating, archiving and deleting.

Contract: every function takes the caller's session and never commits (meetings.py). What each
action keeps and changes:

* **Duplicate** (`duplicate`, a rehearsal -> the real meeting): a new meeting made from the
  set-up of another through its meeting file (`meetings.meeting_file`, the public record's one
  definition of a set-up): title, rule, budget, savings target, segments, proposals,
  translations, results visibility, admission and channel policy; its survey (issue 15), if
  it has one, and its charter's current draft as version 1 with its block share (issue 17).
  Nothing that happened in it is copied: no voters, ballots, rounds, paper, tickets, keypads,
  helper links, audit links or people who offered to help (their details were given to the
  source's facilitator).
  The copy gets a new code, a new record secret, its own tie-break order drawn afresh (the
  source's order was drawn for the source; a copy must not let anyone choose it) and its own
  audit chain, which starts with `meeting.created` carrying `duplicated_from`: the source's code.
  Keypad auto-enrol is not part of the set-up file and starts off, its safe default.
* **Archive** (`archive` / `unarchive`): read-only, still exported. No round opens, no set-up
  changes (`meetings.require_active`, checked by every set-up change, `rounds.open_round` and the
  console), nobody joins (`voters.join`) and the ballot path refuses every ballot
  (`ballots.validate_batch`). Archiving needs every round closed. Both append an audit link.
  The people list stays until each person's date (app/voting/people.py) and can be deleted.
* **Delete** (`delete_meeting`): every row of the meeting in every table, in one transaction,
  with the helpers' sign-in links, the browsers signed in with them, its survey and the
  people list. It
  needs the meeting's code typed back, no open round, and a meeting with ballots archived
  first: deleting a counted vote takes two deliberate steps (a rehearsal with ballots: archive,
  then delete). The meeting's audit log goes with it; export the bundle first to keep the
  record.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, Select, Table, case, delete, false, func, or_, select
from sqlalchemy.sql.schema import Column
from sqlmodel import Session, SQLModel, col

from app.core.errors import BadInput, Conflict
from app.core.messages import N_
from app.core.vocab import RoundStatus
from app.record.records import MAX_TITLE, MeetingFile
from app.voting import audit, charters, meetings, surveys
from app.voting.models import (
    AuditHead,
    Ballot,
    Contact,
    FacilitatorKey,
    Keypad,
    Meeting,
    Round,
    Ticket,
    Voter,
    utcnow,
)

log = logging.getLogger(__name__)


class MeetingStatus(StrEnum):
    """Where a meeting is, as the meeting list shows it (derived, never stored)."""

    SETUP = "setup"  # no round yet
    OPEN = "open"  # a round is open: voting now
    CLOSED = "closed"  # rounds held, none open
    ARCHIVED = "archived"


@dataclass(frozen=True, slots=True)
class MeetingSummary:
    """One row of the meeting list."""

    id: int
    title: str
    code: str
    created_at: datetime
    archived_at: datetime | None
    status: MeetingStatus
    rounds: int
    voters: int
    open_round: int | None  # the open round's number
    time_zone: str | None = None  # the meeting's (NULL: Europe/London), for its times


@dataclass(frozen=True, slots=True)
class MeetingList:
    """The meetings to show, newest first, and how many archived ones exist (shown or not)."""

    meetings: list[MeetingSummary]
    archived: int


def meeting_list(session: Session, *, with_archived: bool = False) -> MeetingList:
    """Meetings newest first (by creation), archived ones only when asked; four queries."""
    q = select(Meeting).order_by(col(Meeting.created_at).desc(), col(Meeting.id).desc())
    if not with_archived:
        q = q.where(col(Meeting.archived_at).is_(None))
    rows = list(session.scalars(q))
    # The open round's number (at most one is open; max() skips the NULLs of the others).
    open_number = func.max(
        case((col(Round.status) == RoundStatus.OPEN.value, col(Round.number)), else_=None)
    )
    rounds = {
        meeting_id: (count, number)
        for meeting_id, count, number in session.execute(
            select(col(Round.meeting_id), func.count(), open_number).group_by(col(Round.meeting_id))
        )
    }
    q_voters = select(col(Voter.meeting_id), func.count()).group_by(col(Voter.meeting_id))
    voters = {meeting_id: count for meeting_id, count in session.execute(q_voters)}
    archived = session.execute(
        select(func.count()).select_from(Meeting).where(col(Meeting.archived_at).is_not(None))
    ).scalar_one()
    out = []
    for m in rows:
        assert m.id is not None
        count, number = rounds.get(m.id, (0, None))
        out.append(
            MeetingSummary(
                id=m.id,
                title=m.title,
                code=m.code,
                created_at=m.created_at,
                archived_at=m.archived_at,
                status=_status(m, count, number),
                rounds=count,
                voters=voters.get(m.id, 0),
                open_round=number,
                time_zone=m.time_zone,
            )
        )
    return MeetingList(out, archived)


def _status(meeting: Meeting, rounds: int, open_round: int | None) -> MeetingStatus:
    if meeting.archived_at is not None:
        return MeetingStatus.ARCHIVED
    if open_round is not None:
        return MeetingStatus.OPEN
    return MeetingStatus.CLOSED if rounds else MeetingStatus.SETUP


# --- duplicate ---------------------------------------------------------------------------------

COPY_TITLE = N_("%(title)s (copy)")


def copy_title(title: str, pattern: str = COPY_TITLE) -> str:
    """The suggested title of a copy: `pattern` (translated `COPY_TITLE`) around `title`,
    which is shortened (ending in "…") when the whole would pass the title limit."""
    room = MAX_TITLE - len(pattern % {"title": ""})
    if len(title) > room:
        title = title[: room - 1].rstrip() + "…"
    return pattern % {"title": title}


def duplicate(
    session: Session, source: Meeting, title: str, *, rng: random.Random | None = None
) -> Meeting:
    """A new meeting with `source`'s set-up and the given title (see the module docstring).

    Raises:
        BadInput: the title is empty or too long.
    """
    setup = meetings.meeting_file(session, source).model_dump(mode="json", exclude={"tie_break"})
    try:
        # Without `tie_break` the file asks create_meeting to draw a new order.
        copy = MeetingFile.model_validate({**setup, "title": title})
    except ValidationError as e:
        raise BadInput(meetings.describe_validation(e)) from None
    made = meetings.create_meeting(session, copy, rng=rng, origin={"duplicated_from": source.code})
    assert source.id is not None
    surveys.copy_survey(session, source.id, made)  # the survey is set-up too (issue 15)
    charters.copy_charter(session, source.id, made)  # and the charter's current draft (17)
    return made


# --- archive -----------------------------------------------------------------------------------


def open_round_number(session: Session, meeting_id: int) -> int | None:
    """The number of the meeting's open round, or None."""
    q = select(col(Round.number)).where(
        col(Round.meeting_id) == meeting_id, col(Round.status) == RoundStatus.OPEN.value
    )
    return session.execute(q).scalars().first()


def archive(session: Session, meeting: Meeting) -> None:
    """Make the meeting read-only (still exported) and log `meeting.archived`.

    Raises:
        Conflict: it is already archived, or a round is open (close it first: closing seals the
            round's ballots in the audit log).
    """
    assert meeting.id is not None
    if meeting.archived_at is not None:
        raise Conflict(N_("“%(title)s” is already archived."), title=meeting.title)
    number = open_round_number(session, meeting.id)
    if number is not None:
        raise Conflict(N_("Close round %(n)s before archiving the meeting."), n=number)
    meeting.archived_at = utcnow()
    session.add(meeting)
    audit.record(session, meeting.id, "meeting.archived", {})


def unarchive(session: Session, meeting: Meeting) -> None:
    """Make an archived meeting changeable again and log `meeting.unarchived`.

    Raises:
        Conflict: it is not archived.
    """
    assert meeting.id is not None
    if meeting.archived_at is None:
        raise Conflict(N_("“%(title)s” is not archived."), title=meeting.title)
    meeting.archived_at = None
    session.add(meeting)
    audit.record(session, meeting.id, "meeting.unarchived", {})


# --- delete ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Loss:
    """What deleting a meeting destroys, for the confirmation page."""

    rounds: int
    ballots: int
    voters: int
    tickets: int
    keypads: int
    audit_links: int
    helper_links: int
    people: int = 0  # the people list's contact details (app/voting/people.py)


def _count(session: Session, q: Select[Any]) -> int:
    return int(session.execute(q).scalar_one())


def loss(session: Session, meeting: Meeting) -> Loss:
    """Counts of what `delete_meeting` would remove."""
    mid = meeting.id
    assert mid is not None

    def rows(column: object) -> int:
        owner = col(column)
        return _count(session, select(func.count()).where(owner == mid))

    rounds = select(col(Round.id)).where(col(Round.meeting_id) == mid)
    head = session.get(AuditHead, mid)
    return Loss(
        rounds=rows(Round.meeting_id),
        ballots=_count(session, select(func.count()).where(col(Ballot.round_id).in_(rounds))),
        voters=rows(Voter.meeting_id),
        tickets=rows(Ticket.meeting_id),
        keypads=rows(Keypad.meeting_id),
        audit_links=head.seq if head is not None else 0,
        helper_links=rows(FacilitatorKey.meeting_id),
        people=rows(Contact.meeting_id),
    )


def delete_meeting(session: Session, meeting: Meeting, typed_code: str) -> Loss:
    """Remove every row of the meeting from every table (see `meeting_tables`); returns what
    was removed. The caller signs out nothing itself: the helpers' sessions are rows too.

    Raises:
        BadInput: `typed_code` is not the meeting's code.
        Conflict: a round is open, or the meeting has ballots and is not archived.
    """
    mid = meeting.id
    assert mid is not None
    if meetings.normalise_code(typed_code) != meeting.code:
        raise BadInput(
            N_("Type the meeting's code, %(code)s, to delete it. Nothing was deleted."),
            code=meeting.code,
        )
    number = open_round_number(session, mid)
    if number is not None:
        raise Conflict(N_("Close round %(n)s before deleting the meeting."), n=number)
    lost = loss(session, meeting)
    if lost.ballots and meeting.archived_at is None:
        raise Conflict(
            N_("“%(title)s” has ballots: archive it first, then delete it."), title=meeting.title
        )
    tables = meeting_tables()
    graph = dict(tables)
    for table, links in tables:
        session.execute(delete(table).where(_rows_of(links, graph, mid)))
    session.execute(delete(Meeting).where(col(Meeting.id) == mid))
    session.expunge(meeting)
    log.info("meeting %s deleted (%s ballots, %s voters)", mid, lost.ballots, lost.voters)
    return lost


Links = list[tuple[Column[object], Column[object], Table]]  # (column, the id it names, its table)


def meeting_tables() -> list[tuple[Table, Links]]:
    """Every table whose rows belong to a meeting, children before parents: those with a
    foreign key to the meeting or to another such table (a ballot through its round or its
    voter, a helper's session through its key). Found from the schema, so a table added later
    is deleted with its meeting without a change here."""
    meeting: Table = Meeting.__table__  # type: ignore[attr-defined]
    owned = {meeting}
    found: list[tuple[Table, Links]] = []
    for table in SQLModel.metadata.sorted_tables:  # parents before children
        links: Links = [
            (fk.parent, fk.column, fk.column.table)
            for fk in table.foreign_keys
            if fk.column.table in owned and fk.column.table is not table
        ]
        if links:
            owned.add(table)
            found.append((table, links))
    return found[::-1]


def _rows_of(links: Links, graph: dict[Table, Links], meeting_id: int) -> ColumnElement[bool]:
    """The rows of a table that belong to the meeting: those whose foreign keys (`links`) name
    the meeting or a row of another table in `graph` that belongs to it."""
    meeting: Table = Meeting.__table__  # type: ignore[attr-defined]
    conditions: list[ColumnElement[bool]] = []
    for column, target, parent in links:
        if parent is meeting:
            conditions.append(column == meeting_id)
        else:
            owned = select(target).where(_rows_of(graph[parent], graph, meeting_id))
            conditions.append(column.in_(owned))
    return or_(false(), *conditions)
