"""Electorate and turnout: who could vote, who is here, who voted, on which channel.

    registered   tickets issued and not revoked (admission "tickets"); None in an open meeting,
                 where anyone with the code may join
    present      voters in the meeting whose ticket is not revoked (browsers that joined,
                 registered keypads, counted paper ballots)
    voted        voters with a ballot in the round
    by_channel   those ballots per channel, every channel listed (0 where none)

`counts` is live (console, projector); `rounds.close_round` stores it on the round as the
round's snapshot, shown with its results and in the report. Contract: reads only, through the
caller's session.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.core.shapes import Turnout
from app.core.vocab import DEVICE_CHANNELS, Channel, TicketStatus
from app.voting.models import Ballot, Meeting, Round, Ticket, Voter


def registered_count(session: Session, meeting: Meeting) -> int | None:
    if not meeting.uses_tickets:
        return None
    q = (
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.meeting_id == meeting.id, Ticket.status != TicketStatus.REVOKED)
    )
    return session.exec(q).one()


def present_count(session: Session, meeting_id: int) -> int:
    q = (
        select(func.count())
        .select_from(Voter)
        .where(Voter.meeting_id == meeting_id, col(Voter.disabled).is_not(True))
    )
    return session.exec(q).one()


def joined_since(session: Session, meeting_id: int, since: datetime) -> int:
    """Voters who joined from a device (phone or remote) at or after `since`."""
    q = (
        select(func.count())
        .select_from(Voter)
        .where(
            Voter.meeting_id == meeting_id,
            col(Voter.joined_at) >= since,
            col(Voter.channel).in_(DEVICE_CHANNELS),
        )
    )
    return session.exec(q).one()


def by_channel(session: Session, round_id: int) -> dict[str, int]:
    q = (
        select(Ballot.channel, func.count())
        .where(Ballot.round_id == round_id)
        .group_by(col(Ballot.channel))
    )
    found = {channel: n for channel, n in session.exec(q)}
    # Channel's order is the display order everywhere (console, projector, report, exports).
    return {c: found.get(c, 0) for c in (*Channel, *sorted(set(found) - set(Channel)))}


def counts(session: Session, meeting: Meeting, rnd: Round | None) -> Turnout:
    assert meeting.id is not None
    channels = by_channel(session, rnd.id) if rnd is not None and rnd.id is not None else {}
    return {
        "registered": registered_count(session, meeting),
        "present": present_count(session, meeting.id),
        "voted": sum(channels.values()),
        "by_channel": channels or dict.fromkeys(Channel, 0),
    }
