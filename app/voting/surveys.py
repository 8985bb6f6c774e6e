"""A meeting's Community Survey (issue 15): stored, read back, replaced.

One survey per meeting, kept as the canonical survey file text (app/record/survey_file.py) in
`MeetingSurvey`: what is stored is exactly what the console exports, so an export and an import
round-trip byte for byte. Reading parses it again (`parse_survey`), kept in a small cache by
text, since the ballot path asks a survey round's scales once per batch.

Contract: every function takes the caller's session and never commits. A save is a set-up
change (`meetings._touch`: refused for an archived meeting) and appends a `survey.saved` audit
link. Replacing a survey whose rounds have answers is allowed (the console asks first), but
never while a survey round is open: its phones and keypads are answering those items.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import lru_cache

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.core.errors import BadInput, Conflict, CovoteError, InvalidForm
from app.core.inputs import slug
from app.core.messages import N_
from app.core.vocab import SURVEY, RoundStatus
from app.record.records import RecordError
from app.record.survey_file import dump_survey, parse_survey
from app.rules import survey as sv
from app.voting import audit
from app.voting.meetings import _touch, proposals_of
from app.voting.models import Ballot, Meeting, MeetingSurvey, Round, utcnow

# Parsed surveys kept by their text: a few meetings' surveys at once, each parsed once.
PARSED_KEPT = 32


@lru_cache(maxsize=PARSED_KEPT)
def parse_stored(text: str) -> sv.Survey:
    """A stored survey file, parsed (kept: the same text gives the same object)."""
    return parse_survey(text)


def survey_text(session: Session, meeting_id: int) -> str | None:
    """The meeting's survey file, as stored (canonical), or None if it has no survey."""
    row = session.get(MeetingSurvey, meeting_id)
    return None if row is None else row.definition


def survey_of(session: Session, meeting_id: int) -> sv.Survey | None:
    """The meeting's survey, or None if it has none."""
    text = survey_text(session, meeting_id)
    return None if text is None else parse_stored(text)


def changed_at(session: Session, meeting_id: int) -> datetime | None:
    """When the meeting's survey was last saved, or None."""
    row = session.get(MeetingSurvey, meeting_id)
    return None if row is None else row.changed_at


def survey_rounds(session: Session, meeting_id: int) -> list[Round]:
    q = select(Round).where(Round.meeting_id == meeting_id, Round.kind == SURVEY)
    return list(session.exec(q))


def has_answers(session: Session, meeting_id: int) -> bool:
    """Whether anyone has answered a survey round of this meeting (replacing asks first)."""
    q = (
        select(func.count())
        .select_from(Ballot)
        .join(Round, col(Round.id) == col(Ballot.round_id))
        .where(Round.meeting_id == meeting_id, Round.kind == SURVEY)
    )
    return session.exec(q).one() > 0


def read_file(text: str, filename: str = "survey.json") -> sv.Survey:
    """A survey file as typed or uploaded, checked.

    Raises:
        InvalidForm: every problem the file has, one each (`parse_survey`'s RecordError).
    """
    try:
        return parse_survey(text, filename=filename)
    except RecordError as e:
        raise file_problems(e) from None


def file_problems(e: RecordError) -> InvalidForm:
    """A file's problems (a survey file, an areas CSV) as the form's: one each, with where."""
    where = [e.filename if n is None else f"{e.filename}:{n}" for n, _ in e.errors]
    problems: list[tuple[str, CovoteError]] = [
        ("", BadInput(N_("%(where)s: %(reason)s"), where=at, reason=reason))
        for at, (_, reason) in zip(where, e.errors, strict=True)
    ]
    if e.omitted:
        problems.append(("", BadInput(N_("… and %(n)s more problems."), n=e.omitted)))
    return InvalidForm(problems)


def check(survey: sv.Survey) -> sv.Survey:
    """A survey built in the console (not read from a file), checked the way a file is: its
    canonical text read back. Raises InvalidForm with every problem."""
    return read_file(dump_survey(survey))


def save_survey(session: Session, meeting: Meeting, survey: sv.Survey) -> str:
    """Store `survey` as the meeting's (replacing any) and log `survey.saved`; returns the
    stored text. The survey is checked again here: nothing unchecked is ever stored.

    Raises:
        InvalidForm: the survey has problems (every one).
        Conflict: a survey round is open, or the meeting is archived.
    """
    assert meeting.id is not None
    text = dump_survey(check(survey))
    open_rounds = [r for r in survey_rounds(session, meeting.id) if r.status == RoundStatus.OPEN]
    if open_rounds:
        raise Conflict(
            N_("Survey round %(n)s is open: close it before changing the survey."),
            n=open_rounds[0].number,
        )
    row = session.get(MeetingSurvey, meeting.id)
    if row is None:
        row = MeetingSurvey(meeting_id=meeting.id, definition=text)
    elif row.definition == text:
        return text  # nothing changed: no audit link, no revision
    row.definition, row.changed_at = text, utcnow()
    session.add(row)
    _touch(meeting)
    session.add(meeting)
    audit.record(
        session,
        meeting.id,
        "survey.saved",
        {
            "title": survey.title,
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "items": len(sv.items(survey)),
        },
    )
    return text


def copy_survey(session: Session, source_id: int, target: Meeting) -> None:
    """Give `target` (a duplicate) the survey of meeting `source_id`, if it has one."""
    text = survey_text(session, source_id)
    if text is not None:
        save_survey(session, target, parse_stored(text))


def from_proposals(session: Session, meeting: Meeting, title: str | None = None) -> sv.Survey:
    """A survey asking every standard question about each of the meeting's proposals: one
    service per proposal (`proposal` names it; its key made an id, its Welsh title carried),
    keeping the custom questions and areas of the meeting's survey, if it has one. A meeting
    of more than `survey.MAX_SERVICES` proposals gives its first `MAX_SERVICES`.

    Raises:
        BadInput: the meeting has no proposals.
    """
    assert meeting.id is not None
    proposals = proposals_of(session, meeting.id)
    if not proposals:
        raise BadInput(N_("The meeting has no proposals yet: add them in Set-up first."))
    taken: set[str] = set()
    services = []
    for p in proposals[: sv.MAX_SERVICES]:
        key = slug(p.key, taken, limit=sv.MAX_SERVICE_KEY, fallback="service")
        taken.add(key)
        texts = {
            lang: {n: t for n, t in words.items() if n in ("title", "description") and t}
            for lang, words in (p.translations or {}).items()
        }
        services.append(
            sv.Service(
                key,
                p.title,
                description=p.description,
                translations={lang: w for lang, w in texts.items() if w},
                proposal=p.key,
            )
        )
    old = survey_of(session, meeting.id)
    return sv.Survey(
        title or (old.title if old else meeting.title),
        tuple(services),
        old.custom if old else (),
        old.areas if old else (),
        old.translations if old else _title_texts(meeting),
    )


def _title_texts(meeting: Meeting) -> dict[str, dict[str, str]]:
    """The meeting's title in other languages, as a survey's translations."""
    return {
        lang: {"title": words["title"]}
        for lang, words in (meeting.translations or {}).items()
        if words.get("title")
    }
