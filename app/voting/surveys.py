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
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.core.errors import BadInput, Conflict, CovoteError, InvalidForm
from app.core.inputs import slug
from app.core.messages import N_
from app.core.vocab import SURVEY, RoundStatus
from app.record import geojson, records, survey_files, we_did
from app.record.records import RecordError
from app.record.survey_file import dump_survey, parse_survey
from app.rules import survey as sv
from app.rules.survey_tally import Focus
from app.rules.survey_weights import Population
from app.voting import audit, meetings
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


# --- the area map's boundaries and the population's shares ----------------------------------


@dataclass(frozen=True, slots=True)
class Boundaries:
    """A survey's areas as drawn: the checked GeoJSON, the feature property that names them
    and which survey area each feature is (`geojson.match_areas`)."""

    areas: geojson.GeoAreas
    key_property: str
    match: geojson.AreaMatch


@lru_cache(maxsize=8)
def _read_boundaries(text: str, areas: tuple[tuple[str, str], ...]) -> Boundaries:
    """Read GeoJSON and pick the property that names the most of `areas` (key, code); kept
    per text (reading a council's boundaries can take a second). Raises RecordError."""
    geo = geojson.read_geojson(text)
    best: Boundaries | None = None
    for prop in geo.key_properties():
        match = geojson.match_areas(geo.keys(prop), areas)
        if best is None or len(match.matched) > len(best.match.matched):
            best = Boundaries(geo, prop, match)
    if best is None:
        raise RecordError(
            "areas.geojson", [(None, "no property names every feature with its own value")]
        )
    return best


def _row(session: Session, meeting: Meeting) -> tuple[MeetingSurvey, sv.Survey]:
    assert meeting.id is not None
    row = session.get(MeetingSurvey, meeting.id)
    if row is None:
        raise Conflict(N_("Set up the survey first."))
    return row, parse_stored(row.definition)


def save_boundaries(session: Session, meeting: Meeting, text: str, filename: str) -> Boundaries:
    """Store the survey's area boundaries (GeoJSON, longitude/latitude): every feature must be
    a (Multi)Polygon and at least one of the survey's areas must be named by a property of the
    features (its key or its official code). Returns what will be drawn.

    Raises:
        InvalidForm: every problem of the file (by feature).
        BadInput: no feature names any of the survey's areas.
        Conflict: the meeting has no survey.
    """
    row, survey = _row(session, meeting)
    try:
        drawn = _read_boundaries(text, tuple((a.key, a.code) for a in survey.areas))
    except RecordError as e:
        e.filename = filename
        raise file_problems(e) from None
    if not drawn.match.matched:
        raise BadInput(
            N_("No area of %(file)s is one of the survey's areas (by id or official code)."),
            file=filename,
        )
    row.boundaries = text
    session.add(row)
    return drawn


def boundaries_of(session: Session, meeting_id: int) -> Boundaries | None:
    """The survey's area boundaries as drawn, or None (no survey, no boundaries)."""
    row = session.get(MeetingSurvey, meeting_id)
    if row is None or row.boundaries is None:
        return None
    survey = parse_stored(row.definition)
    try:
        return _read_boundaries(row.boundaries, tuple((a.key, a.code) for a in survey.areas))
    except RecordError:
        return None  # checked when saved; a file this version reads differently is not drawn


def save_population(session: Session, meeting: Meeting, text: str, filename: str) -> Population:
    """Store the population's shares by area and segment (the population CSV,
    `survey_files.read_population`), for weighted figures.

    Raises:
        InvalidForm: every problem of the file, by line. Conflict: the meeting has no survey.
    """
    row, survey = _row(session, meeting)
    try:
        population = survey_files.read_population(text, survey, filename=filename)
    except RecordError as e:
        raise file_problems(e) from None
    row.population = text
    session.add(row)
    return population


def population_text(session: Session, meeting_id: int) -> str | None:
    row = session.get(MeetingSurvey, meeting_id)
    return None if row is None else row.population


def population_of(session: Session, meeting_id: int, survey: sv.Survey) -> Population | None:
    """The stored population's shares for `survey`, or None (none stored, or no longer
    readable against the survey, e.g. an area was removed since: then unweighted)."""
    text = population_text(session, meeting_id)
    if text is None:
        return None
    try:
        return survey_files.read_population(text, survey)
    except RecordError:
        return None


def clear_extra(session: Session, meeting: Meeting, what: str) -> None:
    """Forget the boundaries (`what` "boundaries") or the population ("population")."""
    row, _ = _row(session, meeting)
    setattr(row, what, None)
    session.add(row)


# --- "We did": what was done about the results (the public "You said" page) ------------------


def we_did_of(session: Session, meeting_id: int) -> we_did.WeDid:
    """The meeting's "We did" texts (empty when none are written or there is no survey)."""
    row = session.get(MeetingSurvey, meeting_id)
    return we_did.parse_we_did(row.we_did if row is not None else None)


def save_we_did(session: Session, meeting: Meeting, said: we_did.WeDid) -> None:
    """Store the "We did" texts (replacing them). A set-up change of the record's words, not
    of what people answered: allowed whatever the rounds' state, refused once archived.

    Raises:
        Conflict: the meeting has no survey, or is archived.
    """
    row, _ = _row(session, meeting)
    _touch(meeting)
    row.we_did = we_did.dump_we_did(said)
    session.add(row)
    session.add(meeting)


def budget_from_focus(session: Session, meeting: Meeting, focus: list[Focus]) -> Meeting:
    """A new meeting whose proposals are the focus list's services (to keep: WANT keeps the
    service), with this meeting's segments, rule and set-up, for the budget step of the method.
    Its savings or costs are for the facilitator to fill in. Raises BadInput if the list is
    empty."""
    assert meeting.id is not None
    survey = survey_of(session, meeting.id)
    by_key = {s.key: s for s in (survey.services if survey else ())}
    chosen = [by_key[f.service] for f in focus if f.service in by_key]
    if not chosen:
        raise BadInput(N_("The focus list is empty: no service to make a proposal of."))
    data = meetings.meeting_file(session, meeting).model_dump()
    data.update(
        title=(meeting.title[: records.MAX_TITLE - 20] + ": the focus list"),
        proposals=[
            {
                "id": s.key,
                "title": s.title,
                "description": s.description,
                "kind": "keep",
                "translations": {
                    lang: {k: v for k, v in texts.items() if k in ("title", "description")}
                    for lang, texts in s.translations.items()
                },
            }
            for s in chosen
        ],
        tie_break=[],
        budget=None,
        savings_target=None,
    )
    data["translations"] = {}
    return meetings.create_meeting(
        session, records.MeetingFile.model_validate(data), origin={"from_survey_of": meeting.code}
    )


def copy_survey(session: Session, source_id: int, target: Meeting) -> None:
    """Give `target` (a duplicate) the survey of meeting `source_id`, if it has one."""
    text = survey_text(session, source_id)
    if text is not None:
        save_survey(session, target, parse_stored(text))
        source, copy = session.get(MeetingSurvey, source_id), session.get(MeetingSurvey, target.id)
        assert source is not None and copy is not None
        copy.boundaries, copy.population = source.boundaries, source.population
        session.add(copy)


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
