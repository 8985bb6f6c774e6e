"""The people list (issue 15): who offered to help, kept apart from the answers.

A person who would help the council leaves their name, a phone number and/or an e-mail address
and what they would help with (the phone's /m/{code}/helping, after a privacy notice). Each is
a `Contact` row of its meeting and nothing else: **no link to a voter, a ballot or an answer**
(no voter id, no round, only the day given), so the answers stay pseudonymous and nobody can
put a name to them from the database either. Only the facilitator (never a helper's sign-in
link) sees the list, on the console's People page and as people.csv; no export of the public
record, the report, the audit log or the server's log carries any of it (no audit link is
written for these changes: they are not part of the record, and a link would date a person).

Kept until `delete_after` (fixed when given: app/rules/people.py), deleted sooner on request
(one, or the whole list), with its meeting (app/voting/lifecycle.py finds the table by its
foreign key), never copied by duplicating, kept when the meeting is archived until its date.
`purge_expired` deletes what is past its date; the server runs it at start-up, the console
whenever it reads the list, and `covote people purge` on demand.

Contract: every function takes the caller's session and never commits; times are passed in.
"""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import delete, func, select
from sqlmodel import Session, col

from app.core.errors import Conflict, NotFound
from app.core.messages import N_
from app.rules import people as rules
from app.voting import meetings
from app.voting.models import Contact, Meeting

log = logging.getLogger(__name__)


def days_kept(meeting: Meeting, default: int) -> int:
    """How many days a new offer to this meeting is kept."""
    return rules.retention_days(meeting.people_retention_days, default)


def add(
    session: Session, meeting: Meeting, offer: rules.Offer, *, today: date, days: int
) -> Contact:
    """Put a checked offer on the meeting's list, kept `days` days from `today` (the meeting's
    date today). The caller checks the offer (`rules.parse_offer`) first.

    Raises:
        Conflict: the meeting is archived, or its list is full (`rules.MAX_CONTACTS`).
    """
    assert meeting.id is not None
    meetings.require_active(meeting)
    if count(session, meeting.id) >= rules.MAX_CONTACTS:
        raise Conflict(N_("This meeting's list is full. Please tell the facilitator instead."))
    row = Contact(
        meeting_id=meeting.id,
        name=offer.name,
        phone=offer.phone,
        email=offer.email,
        help_text=offer.help_text,
        help_with=list(offer.help_with),
        given_on=today,
        delete_after=rules.delete_after(today, days),
    )
    session.add(row)
    session.flush()
    return row


def count(session: Session, meeting_id: int) -> int:
    """How many people are on the meeting's list (expired ones included until purged)."""
    q = select(func.count()).select_from(Contact).where(col(Contact.meeting_id) == meeting_id)
    return int(session.execute(q).scalar_one())


def listing(session: Session, meeting_id: int, *, today: date) -> list[Contact]:
    """The meeting's list in the order given, without those past their date (even before a
    purge has removed them: an expired person is never shown)."""
    q = (
        select(Contact)
        .where(col(Contact.meeting_id) == meeting_id, col(Contact.delete_after) >= today)
        .order_by(col(Contact.given_on), col(Contact.id))
    )
    return list(session.scalars(q))


def has_expired(session: Session, *, today: date) -> bool:
    """Whether any meeting's list holds someone past their date (a purge has work to do)."""
    q = select(col(Contact.id)).where(col(Contact.delete_after) < today).limit(1)
    return session.execute(q).first() is not None


def delete_one(session: Session, meeting: Meeting, contact_id: int) -> None:
    """Delete one person's details (on their request). Allowed on an archived meeting too.

    Raises:
        NotFound: the meeting's list has no such person (already deleted).
    """
    row = session.get(Contact, contact_id)
    if row is None or row.meeting_id != meeting.id:
        raise NotFound(N_("That person is not on this meeting's list (already deleted?)."))
    session.delete(row)


def delete_all(session: Session, meeting: Meeting) -> int:
    """Delete the meeting's whole list; returns how many people were on it."""
    assert meeting.id is not None
    gone = count(session, meeting.id)
    session.execute(delete(Contact).where(col(Contact.meeting_id) == meeting.id))
    return gone


def purge_expired(session: Session, *, today: date) -> int:
    """Delete every person, of every meeting, kept past their date; returns how many."""
    result = session.execute(delete(Contact).where(col(Contact.delete_after) < today))
    purged = int(getattr(result, "rowcount", 0) or 0)
    if purged:
        log.info("people list: %d expired contact(s) deleted", purged)
    return purged


def set_notice(session: Session, meeting: Meeting, *, keeper: str | None, days: int) -> None:
    """The privacy notice's words: who keeps the list, and the days new offers are kept (the
    people already on the list keep the date they were told).

    Raises:
        Conflict: the meeting is archived.
    """
    meetings.require_active(meeting)
    meeting.people_keeper = keeper
    meeting.people_retention_days = days
    session.add(meeting)
