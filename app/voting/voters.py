"""Voters: joining a meeting and declaring segments.

A voter is one browser (its signed session cookie holds the voter id) or, later, one keypad or
paper ballot. Segments are self-declared and fixed once the voter has cast a ballot.
"""

from __future__ import annotations

import secrets

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.core.errors import BadInput, Conflict
from app.core.messages import N_
from app.core.shapes import YouView
from app.core.vocab import Channel
from app.record import anonymity
from app.voting import audit, survey_counts
from app.voting.meetings import ENDED, segments_of
from app.voting.models import Ballot, Meeting, Round, Voter


def join(session: Session, meeting: Meeting, channel: str = Channel.PHONE) -> Voter:
    """A new voter with a fresh random pseudonym; `channel` is how they will vote.

    Raises:
        Conflict: the meeting is archived (it has ended: nobody joins it any more).
    """
    assert meeting.id is not None
    if meeting.archived_at is not None:
        raise Conflict(ENDED)
    while True:
        pseudonym = "v-" + secrets.token_hex(5)
        if session.exec(select(Voter.id).where(Voter.pseudonym == pseudonym)).first() is None:
            break
    voter = Voter(meeting_id=meeting.id, pseudonym=pseudonym, channel=channel)
    session.add(voter)
    session.flush()
    return voter


def find_voter(session: Session, meeting: Meeting, voter_id: object) -> Voter | None:
    """The voter a cookie names, if it still exists and belongs to this meeting."""
    if not isinstance(voter_id, int):
        return None
    voter = session.get(Voter, voter_id)
    return voter if voter is not None and voter.meeting_id == meeting.id else None


def has_voted(session: Session, voter: Voter) -> bool:
    return session.exec(select(Ballot.id).where(Ballot.voter_id == voter.id)).first() is not None


def declare_segments(session: Session, meeting: Meeting, voter: Voter, keys: list[str]) -> None:
    assert meeting.id is not None
    known = {s.key for s in segments_of(session, meeting.id)}
    unknown = sorted(set(keys) - known)
    if unknown:
        raise BadInput(f"Unknown segment(s): {', '.join(unknown)}.")
    chosen = sorted(set(keys))
    if chosen == sorted(voter.segments):
        return
    if has_voted(session, voter):
        raise Conflict(N_("Your groups are fixed once you have voted."))
    survey_counts.set_segments(session, voter, chosen)  # a survey's counts move with them
    # An opaque commitment only: a voter's segments are published as group totals of at least
    # m voters, never one by one (README, Anonymity).
    declared = {"voter": voter.id, "segments": chosen}
    secret = anonymity.secret_or_fail(meeting.record_secret)
    commit = anonymity.commitment(secret, "voter.segments", declared)
    audit.record(session, meeting.id, "voter.segments", {"commit": commit})


def device_handle(meeting: Meeting, voter: Voter) -> str:
    """The voter's handle on its own device (`anonymity.device_handle`), never a pseudonym."""
    assert voter.id is not None
    return anonymity.device_handle(anonymity.secret_or_fail(meeting.record_secret), voter.id)


def voted_count(session: Session, round_id: int) -> int:
    q = select(func.count()).select_from(Ballot).where(Ballot.round_id == round_id)
    return session.exec(q).one()


def ballot_of(session: Session, round_id: int, voter_id: int) -> Ballot | None:
    q = select(Ballot).where(Ballot.round_id == round_id, Ballot.voter_id == voter_id)
    return session.exec(q).first()


def latest_round_ballot(session: Session, meeting_id: int, voter_id: int) -> Ballot | None:
    q = (
        select(Ballot)
        .join(Round, col(Round.id) == col(Ballot.round_id))
        .where(Round.meeting_id == meeting_id, Ballot.voter_id == voter_id)
        .order_by(col(Round.number).desc())
    )
    return session.exec(q).first()


def you_view(session: Session, meeting_id: int, voter: Voter | None) -> YouView:
    """What a voter's own device shows about them: its handle (`device_handle`), segments and
    latest ballot. Never a pseudonym: a device that could name its row in the public ballots
    would be a receipt for a coercer or a vote buyer (README, Anonymity)."""
    fresh = session.get(Voter, voter.id) if voter is not None else None
    meeting = session.get(Meeting, meeting_id)
    if fresh is None or fresh.id is None or meeting is None:
        return {"voter": None, "segments": [], "ballot": None}
    ballot = latest_round_ballot(session, meeting_id, fresh.id)
    return {
        "voter": device_handle(meeting, fresh),
        "segments": fresh.segments,
        "ballot": None
        if ballot is None
        else {"round": ballot.round_id, "ballot_id": ballot.ballot_uid, "marks": ballot.marks},
    }
