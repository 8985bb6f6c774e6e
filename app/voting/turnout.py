"""Electorate and turnout: who could vote, who is here, who voted, on which channel.

    registered   tickets issued and not revoked (admission "tickets"); None in an open meeting,
                 where anyone with the code may join
    present      who is here now (below)
    voted        voters with a ballot in the round
    by_channel   those ballots per channel, every channel listed (0 where none)

Present means present now. A voter who is not disabled counts when
    1. no keypad was ever registered to them: browsers that joined (phones in the room, online)
       and paper voters, as before issue 13; or they hold a ticket (admission "tickets"): a
       ticket holder given a keypad at check-in was seen at the door; or
    2. they have a ballot in the round, whatever its channel (a keypad that pressed is in the
       room, so `present >= voted` always); or
    3. they hold a keypad that is not revoked, the round takes keypads (`Round.keypad_step`
       is set), and `receiver_open`: a keypad receiver is connected and serving this meeting
       (the caller asks the desk, `KeypadDesk.receiving`; this module reads no process state).
       Callers pass it for the open round only, and `rounds.close_round` for the snapshot it
       takes as the round closes: "now" says nothing about a round closed earlier.
So 30 keypads registered for a rehearsal are not "present" in a phone-only round, nor while
no receiver could hear them; once they can vote they count before their first press.

`counts` is live (console, projector); `rounds.close_round` stores it on the round as the
round's snapshot, shown with its results and in the report: a closed round's turnout is read
from that snapshot, never recomputed, so snapshots stored before this definition keep their
figures. Contract: reads only, through the caller's session.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, or_
from sqlmodel import Session, col, select

from app.core.shapes import Turnout
from app.core.vocab import DEVICE_CHANNELS, Channel, TicketStatus
from app.voting.models import Ballot, Keypad, Meeting, Round, Ticket, Voter


def registered_count(session: Session, meeting: Meeting) -> int | None:
    if not meeting.uses_tickets:
        return None
    q = (
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.meeting_id == meeting.id, Ticket.status != TicketStatus.REVOKED)
    )
    return session.exec(q).one()


def keypads_may_vote(rnd: Round | None) -> bool:
    """Whether `rnd` was opened with keypads ("Keypads vote too")."""
    return rnd is not None and rnd.keypad_step is not None


def present_count(
    session: Session, meeting_id: int, rnd: Round | None = None, *, receiver_open: bool = False
) -> int:
    """Voters present now in `rnd` (None: between rounds); the rules are the module's."""
    has_keypad = exists().where(col(Keypad.voter_id) == col(Voter.id))
    has_ticket = exists().where(col(Ticket.voter_id) == col(Voter.id))
    clauses = [~has_keypad, has_ticket]
    if rnd is not None and rnd.id is not None:
        clauses.append(
            exists().where(col(Ballot.round_id) == rnd.id, col(Ballot.voter_id) == col(Voter.id))
        )
    if receiver_open and keypads_may_vote(rnd):
        clauses.append(
            exists().where(col(Keypad.voter_id) == col(Voter.id), col(Keypad.revoked).is_not(True))
        )
    q = (
        select(func.count())
        .select_from(Voter)
        .where(
            Voter.meeting_id == meeting_id,
            col(Voter.disabled).is_not(True),
            or_(*clauses),
        )
    )
    return session.exec(q).one()


def registered_keypads(session: Session, meeting_id: int) -> int:
    """Keypads registered to the meeting and not revoked (whether or not they can vote now)."""
    q = (
        select(func.count())
        .select_from(Keypad)
        .where(Keypad.meeting_id == meeting_id, col(Keypad.revoked).is_not(True))
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


def counts(
    session: Session, meeting: Meeting, rnd: Round | None, *, receiver_open: bool = False
) -> Turnout:
    """The live turnout of `rnd` (`receiver_open`: see the module's definition of present)."""
    assert meeting.id is not None
    channels = by_channel(session, rnd.id) if rnd is not None and rnd.id is not None else {}
    return {
        "registered": registered_count(session, meeting),
        "present": present_count(session, meeting.id, rnd, receiver_open=receiver_open),
        "voted": sum(channels.values()),
        "by_channel": channels or dict.fromkeys(Channel, 0),
    }
