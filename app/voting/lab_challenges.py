"""The Lab's challenges: what the meeting asks ideas for (issue 16).

The facilitator types them (English, optional Welsh; `parse_challenge` checks both) or makes
them from a survey's focus list (`challenges_from_focus`, worded by why each service is on
it). A challenge with ideas cannot be removed. Every function takes the caller's session and
never commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.core.errors import BadInput, Conflict, CovoteError, InvalidForm, NotFound
from app.core.inputs import read_text
from app.core.messages import N_
from app.rules import survey_tally
from app.rules.lab import CHALLENGE_MAX
from app.voting import meetings, surveys
from app.voting.models import LabChallenge, LabIdea, Meeting
from app.voting.survey_kind import _catalogue

# A meeting's Lab is a room's work: a few dozen challenges at most, a few hundred ideas. The
# bounds stop a script from filling the queue, not a busy room.
MAX_CHALLENGES = 50


def parse_challenge(title: object, title_cy: object = "") -> tuple[str, str | None]:
    """A challenge's English and (optional) Welsh title, checked.

    Raises:
        InvalidForm: no title, or a title longer than CHALLENGE_MAX (field ids challenge-title,
            challenge-title-cy).
    """
    problems: list[tuple[str, CovoteError]] = []
    english = read_text(title, CHALLENGE_MAX)
    welsh = read_text(title_cy, CHALLENGE_MAX)
    too_long = N_("Keep a challenge to %(n)s characters or fewer.")
    if not english:
        problems.append(("challenge-title", BadInput(N_("Write the challenge."))))
    elif len(english) > CHALLENGE_MAX:
        problems.append(("challenge-title", BadInput(too_long, n=CHALLENGE_MAX)))
    if len(welsh) > CHALLENGE_MAX:
        problems.append(("challenge-title-cy", BadInput(too_long, n=CHALLENGE_MAX)))
    if problems:
        raise InvalidForm(problems)
    return english, welsh or None


def challenges_of(session: Session, meeting_id: int) -> list[LabChallenge]:
    """The meeting's challenges in their order."""
    q = (
        select(LabChallenge)
        .where(col(LabChallenge.meeting_id) == meeting_id)
        .order_by(col(LabChallenge.position), col(LabChallenge.id))
    )
    return list(session.exec(q))


def challenge(session: Session, meeting_id: int, key: str) -> LabChallenge:
    """The meeting's challenge `key`. Raises NotFound."""
    q = select(LabChallenge).where(
        col(LabChallenge.meeting_id) == meeting_id, col(LabChallenge.key) == key
    )
    found = session.exec(q).first()
    if found is None:
        raise NotFound(N_("This meeting has no such challenge (removed?)."))
    return found


def add_challenge(
    session: Session, meeting: Meeting, title: str, title_cy: str | None = None
) -> LabChallenge:
    """Add a checked challenge (`parse_challenge`) after the others.

    Raises:
        Conflict: the meeting is archived or has MAX_CHALLENGES already.
    """
    assert meeting.id is not None
    meetings.require_active(meeting)
    existing = challenges_of(session, meeting.id)
    if len(existing) >= MAX_CHALLENGES:
        raise Conflict(N_("A Lab has at most %(n)s challenges."), n=MAX_CHALLENGES)
    taken = {c.key for c in existing}
    number = len(existing) + 1
    while f"c{number}" in taken:
        number += 1
    row = LabChallenge(
        meeting_id=meeting.id,
        key=f"c{number}",
        title=title,
        title_cy=title_cy,
        position=max((c.position for c in existing), default=0) + 1,
    )
    session.add(row)
    session.flush()
    return row


def edit_challenge(
    session: Session, meeting: Meeting, key: str, title: str, title_cy: str | None
) -> LabChallenge:
    """Change a challenge's titles (checked by `parse_challenge`). Raises NotFound."""
    assert meeting.id is not None
    meetings.require_active(meeting)
    row = challenge(session, meeting.id, key)
    row.title, row.title_cy = title, title_cy
    session.add(row)
    return row


def remove_challenge(session: Session, meeting: Meeting, key: str) -> None:
    """Remove a challenge that has no ideas.

    Raises:
        NotFound: no such challenge.  Conflict: it has ideas (hide them, or keep it).
    """
    assert meeting.id is not None
    meetings.require_active(meeting)
    row = challenge(session, meeting.id, key)
    q = select(func.count()).select_from(LabIdea).where(col(LabIdea.challenge_id) == row.id)
    if session.execute(q).scalar_one():
        raise Conflict(N_("This challenge has ideas: it cannot be removed."))
    session.delete(row)


# A challenge made from a survey's focus list, by why the service is on it (the first reason).
FOCUS_CHALLENGES: Mapping[str, str] = {
    survey_tally.HIGH_NEED_LOW_SATISFACTION: N_(
        "How could %(service)s meet people's needs better?"
    ),
    survey_tally.LOW_VALUE: N_("How could %(service)s cost less or be run differently?"),
}


def challenges_from_focus(
    session: Session, meeting: Meeting, focus: Sequence[survey_tally.Focus]
) -> list[LabChallenge]:
    """A challenge for each service on a survey's focus list, worded by why it is there, in
    English and Welsh (around the service's Welsh title, when it has one); a challenge the
    meeting already has is not added again.

    Raises:
        BadInput: the list is empty.  Conflict: as `add_challenge`.
    """
    assert meeting.id is not None
    survey = surveys.survey_of(session, meeting.id)
    by_key = {s.key: s for s in (survey.services if survey else ())}
    chosen = [(by_key[f.service], f.reasons) for f in focus if f.service in by_key and f.reasons]
    if not chosen:
        raise BadInput(N_("The focus list is empty: no service to make a proposal of."))
    have = {c.title for c in challenges_of(session, meeting.id)}
    made = []
    for service, reasons in chosen:
        wording = FOCUS_CHALLENGES.get(reasons[0], FOCUS_CHALLENGES[survey_tally.LOW_VALUE])
        title = (wording % {"service": service.title})[:CHALLENGE_MAX]
        welsh_name = service.translations.get("cy", {}).get("title", "").strip() or service.title
        welsh = (_catalogue("cy").gettext(wording) % {"service": welsh_name})[:CHALLENGE_MAX]
        if title not in have:
            made.append(add_challenge(session, meeting, title, welsh))
            have.add(title)
    return made
