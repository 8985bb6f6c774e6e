"""The Set-up page's Survey section (issue 15): import a survey file (uploaded or pasted),
start one from the meeting's proposals, edit its services, questions and areas, import areas
from CSV.
Its export is `/console/{id}/export/survey.json` (app/console/exports.py).

Facilitator only; every change is a POST carrying the CSRF token, saved in one transaction
(app/voting/surveys.py `save_survey`, which checks the whole survey and stores its canonical
file) and ending in a redirect to the section. A refused save comes back to the set-up page
with every problem in its summary, nothing saved. Replacing a survey that people have answered
asks first (`replace_survey`). The section's fields: app/console/survey_form.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import cast

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from app.console import setup, survey_form, survey_questions
from app.console.forms import act, confirm_first, facilitator_form, flash, page, upload_text
from app.core.errors import BadInput, Conflict
from app.core.messages import N_, Said, said
from app.core.shapes import SurveyView
from app.core.vocab import SURVEY, RoundStatus
from app.record import records, survey_areas, we_did
from app.rules import survey as sv
from app.rules import survey_tally
from app.voting import meetings, rounds, surveys
from app.voting.models import Meeting
from app.web.deps import RowId, ServicesDep
from app.web.services import Services

router = APIRouter()

SECTION = "survey"
MAX_PASTED = 1_000_000  # characters of a pasted survey file: 60 services fit in a tenth of it


async def _save(
    request: Request,
    services: Services,
    meeting_id: int,
    form: FormData,
    build: Callable[[Session, Meeting], sv.Survey],
    message: Said,
) -> Response:
    """Save the survey `build` makes (asking first when people have answered the survey),
    then back to the section; on a problem, the set-up page with all of them."""
    if await _has_answers(services, meeting_id):
        asked = await confirm_first(
            request,
            services,
            form,
            "replace_survey",
            back=f"/setup#{SECTION}",
            meeting_id=meeting_id,
        )
        if asked is not None:
            return asked

    def change(session: Session, meeting: Meeting) -> Said:
        surveys.save_survey(session, meeting, build(session, meeting))
        return message

    return await setup._save_section(request, services, meeting_id, SECTION, form, change)


async def _has_answers(services: Services, meeting_id: int) -> bool:
    def read() -> bool:
        with services.read_session() as session:
            return surveys.has_answers(session, meeting_id)

    return await asyncio.to_thread(read)


@router.post("/console/{meeting_id}/survey/import")
async def import_survey(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """A survey file, uploaded (`file`) or pasted (`text`), replaces the meeting's survey."""
    form = await facilitator_form(request)
    pasted = str(form.get("text", ""))
    if len(pasted) > MAX_PASTED:
        raise BadInput(f"A pasted survey is at most {MAX_PASTED} characters.")
    if pasted.strip():
        filename, text = "survey.json", pasted
    else:
        filename, text = await upload_text(form, "file")

    def build(session: Session, meeting: Meeting) -> sv.Survey:
        return surveys.read_file(text, filename)

    return await _save(
        request, services, meeting_id, form, build, said(N_("The survey is imported."))
    )


@router.post("/console/{meeting_id}/survey/from-proposals")
async def survey_from_proposals(
    request: Request, meeting_id: RowId, services: ServicesDep
) -> Response:
    """A survey with one service per proposal (custom questions and areas kept)."""
    form = await facilitator_form(request)
    return await _save(
        request,
        services,
        meeting_id,
        form,
        lambda session, meeting: surveys.from_proposals(session, meeting),
        said(N_("The survey asks about each of the meeting's proposals.")),
    )


@router.post("/console/{meeting_id}/survey/services")
async def save_survey_services(
    request: Request, meeting_id: RowId, services: ServicesDep
) -> Response:
    """The edit form's title and services."""
    form = await facilitator_form(request)

    def build(session: Session, meeting: Meeting) -> sv.Survey:
        assert meeting.id is not None
        return survey_form.edited_services(form, surveys.survey_of(session, meeting.id), meeting)

    return await _save(
        request, services, meeting_id, form, build, said(N_("The survey's services are saved."))
    )


@router.post("/console/{meeting_id}/survey/questions")
async def save_survey_questions(
    request: Request, meeting_id: RowId, services: ServicesDep
) -> Response:
    """The questions of the facilitator's own (survey_questions: every problem by field).
    "More rows" (`more`) draws the page again with what was typed and more blanks, saving
    nothing; `move` saves with a question moved up or down."""
    form = await facilitator_form(request)
    if str(form.get("more", "")):
        return await _more_rows(request, services, meeting_id, form)

    def build(session: Session, meeting: Meeting) -> sv.Survey:
        assert meeting.id is not None
        old = surveys.survey_of(session, meeting.id)
        return survey_questions.edited_questions(form, old, meeting)

    return await _save(
        request, services, meeting_id, form, build, said(N_("The survey's questions are saved."))
    )


async def _more_rows(
    request: Request, services: Services, meeting_id: int, form: FormData
) -> Response:
    """The set-up page with the questions as typed and the blank rows asked for (no save;
    `facilitator_form` has checked who asks)."""
    ctx = await asyncio.to_thread(setup._setup_context, request, services, meeting_id)
    ctx.update(survey_questions.typed(form))
    return page(request, "console/setup.html", ctx)


@router.post("/console/{meeting_id}/survey/areas")
async def save_survey_areas(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """The edit form's areas."""
    form = await facilitator_form(request)

    def build(session: Session, meeting: Meeting) -> sv.Survey:
        assert meeting.id is not None
        return survey_form.edited_areas(form, surveys.survey_of(session, meeting.id), meeting)

    return await _save(
        request, services, meeting_id, form, build, said(N_("The survey's areas are saved."))
    )


@router.post("/console/{meeting_id}/survey/areas.csv")
async def import_survey_areas(
    request: Request, meeting_id: RowId, services: ServicesDep
) -> Response:
    """Areas from a CSV (`key,label,label_cy,code`) replace the survey's areas."""
    form = await facilitator_form(request)
    filename, text = await upload_text(form, "file")

    def build(session: Session, meeting: Meeting) -> sv.Survey:
        assert meeting.id is not None
        try:
            areas = tuple(survey_areas.read_areas_csv(text, filename=filename))
        except records.RecordError as e:
            raise surveys.file_problems(e) from None
        return survey_form.with_areas(surveys.survey_of(session, meeting.id), meeting, areas)

    return await _save(
        request,
        services,
        meeting_id,
        form,
        build,
        said(N_("The survey's areas are imported from %(file)s."), file=filename),
    )


# --- the area map's boundaries and the population's shares (no answer depends on them) ----


@router.post("/console/{meeting_id}/survey/boundaries")
async def save_survey_boundaries(
    request: Request, meeting_id: RowId, services: ServicesDep
) -> Response:
    """The areas' boundaries (GeoJSON in longitude/latitude) for the results' area map."""
    form = await facilitator_form(request)
    filename, text = await upload_text(form, "file")

    def change(session: Session, meeting: Meeting) -> Said:
        drawn = surveys.save_boundaries(session, meeting, text, filename)
        matched, missing = len(drawn.match.matched), drawn.match.missing
        if missing:
            return said(
                N_("The area map is saved: %(n)s areas drawn; not in the file: %(missing)s."),
                n=matched,
                missing=", ".join(missing),
            )
        return said(N_("The area map is saved: all %(n)s areas drawn."), n=matched)

    return await setup._save_section(request, services, meeting_id, SECTION, form, change)


@router.post("/console/{meeting_id}/survey/population")
async def save_survey_population(
    request: Request, meeting_id: RowId, services: ServicesDep
) -> Response:
    """The population's shares by area and segment (CSV), for weighted figures."""
    form = await facilitator_form(request)
    filename, text = await upload_text(form, "file")

    def change(session: Session, meeting: Meeting) -> Said:
        surveys.save_population(session, meeting, text, filename)
        return said(N_("The population is saved: the results show weighted figures too."))

    return await setup._save_section(request, services, meeting_id, SECTION, form, change)


@router.post("/console/{meeting_id}/survey/{what}/remove")
async def remove_survey_extra(
    request: Request, meeting_id: RowId, what: str, services: ServicesDep
) -> Response:
    """Forget the boundaries or the population."""
    messages = {
        "boundaries": N_("The area map's boundaries are removed."),
        "population": N_("The population is removed: the results are unweighted."),
    }
    if what not in messages:
        raise BadInput("Only the boundaries or the population can be removed here.")
    form = await facilitator_form(request)

    def change(session: Session, meeting: Meeting) -> Said:
        surveys.clear_extra(session, meeting, what)
        return said(messages[what])

    return await setup._save_section(request, services, meeting_id, SECTION, form, change)


@router.post("/console/{meeting_id}/rounds/{number}/we-did")
async def save_we_did(
    request: Request, meeting_id: RowId, number: RowId, services: ServicesDep
) -> Response:
    """The "We did" texts (overall and per service, English and Welsh) from a survey round's
    page, for the public "You said" page; back to that page."""
    form = await facilitator_form(request)

    def text(name: str) -> str:
        return str(form.get(name, ""))

    def change(session: Session, meeting: Meeting) -> Said:
        assert meeting.id is not None
        survey = surveys.survey_of(session, meeting.id)
        if survey is None:
            raise Conflict(N_("Set up the survey first."))
        said_ = we_did.from_fields(
            {lang: text(f"wd-overall-{lang}") for lang in we_did.LANGUAGES},
            {
                s.key: {lang: text(f"wd-s-{s.key}-{lang}") for lang in we_did.LANGUAGES}
                for s in survey.services
            },
        )
        surveys.save_we_did(session, meeting, said_)
        return said(N_("“We did” is saved: the “You said” page shows it."))

    return await act(request, services, meeting_id, change, f"/rounds/{number}#we-did")


@router.post("/console/{meeting_id}/rounds/{number}/focus-budget")
async def budget_from_focus(
    request: Request, meeting_id: RowId, number: RowId, services: ServicesDep
) -> Response:
    """The next step of the method in one action: a new budget meeting whose proposals are
    the survey round's focus list; then its set-up page, to add the savings or costs."""
    await facilitator_form(request)

    def create() -> int:
        with services.session() as session:
            meeting = meetings.get_meeting(session, meeting_id)
            rnd = rounds.get_round(session, meeting, number)
            view = rounds.results_view(session, meeting, rnd)
            if rnd.kind != SURVEY or rnd.status == RoundStatus.OPEN or "survey" not in view:
                raise BadInput(N_("Only a closed survey round has a focus list."))
            focus = survey_tally.focus_list(cast(SurveyView, view)["survey"])
            made = surveys.budget_from_focus(session, meeting, focus)
            assert made.id is not None
            return made.id

    made = await asyncio.to_thread(create)
    flash(
        request,
        said(N_("A budget meeting is set up with the focus list's services: add their savings.")),
    )
    return RedirectResponse(f"/console/{made}/setup", status_code=303)
