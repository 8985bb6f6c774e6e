"""Helpers' pledges on the Lab's ideas (issue 16): who would help make an idea happen.

A voter pledges on an approved idea (once; again changes the hours a month they offer) or
takes it back. Only their own phone reads their pledges (`pledges_by`); everyone else reads
them summed up with every count under the meeting's m suppressed (`pledge_summaries`, the
rule in app/rules/lab_pledges.py), in words in a language (`describe_pledges`). Every function
takes the caller's session and never commits.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.core.errors import BadInput, Conflict, InvalidForm
from app.core.messages import N_
from app.rules import lab_pledges
from app.rules.lab import IdeaStatus
from app.voting import meetings
from app.voting.models import LabIdea, LabPledge, Meeting, Voter
from app.voting.survey_kind import _catalogue

HOURS_FIELD = "hours"


def parse_hours(raw: object, field: str = HOURS_FIELD) -> int | None:
    """The hours a month a helper offers, as typed: "" for not said (None), else a whole
    number 0..lab_pledges.HOURS_MAX (the survey's bound).

    Raises:
        InvalidForm: anything else (field `field`).
    """
    text = raw.strip()[:16] if isinstance(raw, str) else ""
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or int(text) > lab_pledges.HOURS_MAX:
        problem = BadInput(
            N_("Hours a month are a whole number from 0 to %(max)s."), max=lab_pledges.HOURS_MAX
        )
        raise InvalidForm([(field, problem)])
    return int(text)


def _pledge_row(session: Session, idea_row: LabIdea, voter: Voter) -> LabPledge | None:
    q = select(LabPledge).where(
        col(LabPledge.idea_id) == idea_row.id, col(LabPledge.voter_id) == voter.id
    )
    return session.exec(q).first()


def pledge(session: Session, idea_row: LabIdea, voter: Voter, hours: int | None = None) -> None:
    """A voter would help make an approved idea happen, offering `hours` a month (None: not
    said): once per idea, a second pledge changes the hours.

    Raises:
        Conflict: the idea is not approved (waiting, hidden or merged), or the voter's ticket
            was revoked.
        BadInput: hours outside 0..HOURS_MAX (callers check with `parse_hours`).
    """
    assert idea_row.id is not None and voter.id is not None
    if voter.disabled:
        raise Conflict(N_("This ticket was revoked; ask the facilitator."))
    if idea_row.status != IdeaStatus.APPROVED:
        raise Conflict(N_("Only an approved idea takes pledges."))
    if hours is not None and not 0 <= hours <= lab_pledges.HOURS_MAX:
        raise BadInput(
            N_("Hours a month are a whole number from 0 to %(max)s."), max=lab_pledges.HOURS_MAX
        )
    row = _pledge_row(session, idea_row, voter) or LabPledge(idea_id=idea_row.id, voter_id=voter.id)
    row.hours = hours
    session.add(row)
    session.flush()


def withdraw(session: Session, idea_row: LabIdea, voter: Voter) -> bool:
    """Take back a voter's pledge on an idea; False when there was none."""
    row = _pledge_row(session, idea_row, voter)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def pledges_by(session: Session, meeting_id: int, voter_id: int) -> dict[str, int | None]:
    """One voter's pledges in a meeting: idea key -> the hours offered (None: not said), for
    their own phone only."""
    q = (
        select(LabIdea.key, LabPledge.hours)
        .join(LabIdea, col(LabIdea.id) == col(LabPledge.idea_id))
        .where(col(LabIdea.meeting_id) == meeting_id, col(LabPledge.voter_id) == voter_id)
    )
    return {str(k): h for k, h in session.execute(q).all()}


def pledge_summaries(session: Session, meeting: Meeting) -> dict[str, lab_pledges.PledgeSummary]:
    """Each idea's pledges summed up (idea key -> summary; ideas without pledges are left
    out): counts by the helpers' segments, hours in all, every count under the meeting's m
    suppressed (app/rules/lab_pledges.py). No voter leaves this function."""
    assert meeting.id is not None
    q = (
        select(LabIdea.key, Voter.segments, LabPledge.hours)
        .join(LabIdea, col(LabIdea.id) == col(LabPledge.idea_id))
        .join(Voter, col(Voter.id) == col(LabPledge.voter_id))
        .where(col(LabIdea.meeting_id) == meeting.id)
    )
    by_idea: dict[str, list[lab_pledges.Pledge]] = {}
    for key, segs, hours in session.execute(q).all():
        by_idea.setdefault(str(key), []).append(lab_pledges.Pledge(frozenset(segs or ()), hours))
    order = [s.key for s in meetings.segments_of(session, meeting.id)]
    return {k: lab_pledges.summarise(ps, order, meeting.group_min) for k, ps in by_idea.items()}


def segment_labels(session: Session, meeting_id: int, lang: str) -> dict[str, str]:
    """The meeting's segment names in `lang` (its own label where no translation is given)."""
    return {
        s.key: ((s.translations or {}).get(lang, {}).get("label", "").strip() or s.label)
        for s in meetings.segments_of(session, meeting_id)
    }


def describe_pledges(
    session: Session, meeting_id: int, summary: lab_pledges.PledgeSummary, lang: str
) -> str:
    """A pledge summary in words in `lang` (lab_pledges.describe with the segments' names)."""
    labels = segment_labels(session, meeting_id, lang)
    return lab_pledges.describe(summary, labels, _catalogue(lang).gettext)
