"""Who a browser is in a meeting: its voter (if it has joined), why it has none, and joining it.

A browser's voter is in its signed session cookie (app/web/auth.py); in a tickets meeting it
must also hold the voter's ticket on this device (app/scrutiny/tickets.py). A GET never creates
a voter: `join_browser` is for an explicit POST or script action, rate-limited per address and
per meeting for new voters.
"""

from __future__ import annotations

import asyncio

from sqlmodel import Session
from starlette.requests import HTTPConnection

from app.core.errors import NotJoined
from app.scrutiny import tickets
from app.voting.meetings import meeting_by_code
from app.voting.models import Meeting, Voter
from app.voting.voters import find_voter, join
from app.web import auth
from app.web.netinfo import channel_of
from app.web.services import Services


def attendee(conn: HTTPConnection, session: Session, code: str) -> tuple[Meeting, Voter | None]:
    """The meeting a code names and this browser's voter in it, if it has joined (in a tickets
    meeting: if the voter's ticket is on this device, see tickets.device_may_vote)."""
    meeting = meeting_by_code(session, code)
    assert meeting.id is not None
    voter = find_voter(session, meeting, auth.voter_id(conn, meeting.id, meeting.code))
    if voter is not None and not tickets.device_may_vote(meeting, voter, auth.device_key(conn)):
        voter = None
    return meeting, voter


def not_joined(conn: HTTPConnection, session: Session, meeting: Meeting, default: str) -> NotJoined:
    """Why this browser has no voter in the meeting, as the error to raise (`default` in an open
    meeting; in a tickets meeting: no ticket redeemed here, or the ticket moved elsewhere)."""
    assert meeting.id is not None
    if not meeting.uses_tickets:
        return NotJoined(default)
    named = find_voter(session, meeting, auth.voter_id(conn, meeting.id, meeting.code))
    return tickets.refusal(meeting, named, default)


def join_attendee(conn: HTTPConnection, session: Session, code: str) -> tuple[Meeting, Voter, bool]:
    """Like `attendee`, joining this browser as a new voter if needed; True if it was new.
    In a tickets meeting a browser joins only by redeeming a ticket: NotJoined otherwise."""
    meeting, voter = attendee(conn, session, code)
    if voter is not None:
        return meeting, voter, False
    if meeting.uses_tickets:
        raise not_joined(conn, session, meeting, tickets.NO_TICKET)
    voter = join(session, meeting, channel_of(conn.client.host if conn.client else None))
    assert voter.id is not None and meeting.id is not None
    auth.remember_voter(conn, meeting.id, meeting.code, voter.id)
    return meeting, voter, True


async def join_browser(conn: HTTPConnection, services: Services, code: str) -> tuple[int, str]:
    """Join this browser to the meeting as a new voter unless it already is one (an explicit
    POST or script action: a GET never creates a voter). New voters are rate-limited per
    address and per meeting (`Services.admit`). Returns the meeting's id and code."""

    def existing() -> tuple[int, bool]:
        with services.read_session() as session:
            meeting, voter = attendee(conn, session, code)
            assert meeting.id is not None
            if voter is None and meeting.uses_tickets:
                raise not_joined(conn, session, meeting, tickets.NO_TICKET)
            return meeting.id, voter is not None

    meeting_id, joined = await asyncio.to_thread(existing)
    if not joined:
        await services.admit(conn, meeting_id)

    def write() -> tuple[int, str, int, bool]:
        with services.session() as session:
            meeting, voter, new = join_attendee(conn, session, code)
            assert meeting.id is not None and voter.id is not None
            return meeting.id, meeting.code, voter.id, new

    meeting_id, meeting_code, voter_id, new = await asyncio.to_thread(write)
    if new:
        services.joined(meeting_id, voter_id)
    return meeting_id, meeting_code
