"""The console's set-up: signing in, new meetings, and one meeting's Set-up page (its settings,
segments and proposals, the CSV import, the rule guidance). Facilitator only; every change is a
POST carrying the CSRF token, and ends in a redirect (app/console/forms.py). The Run page (rounds
as they happen) is app/console/run.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from types import EllipsisType
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from app import demo
from app.console import run, setup_form, survey_form
from app.console.forms import (
    act,
    checked,
    confirm_first,
    facilitator_form,
    flash,
    int_field,
    page,
    upload_text,
)
from app.core import localtime
from app.core.errors import BadInput, Conflict, CovoteError, InvalidForm
from app.core.inputs import amount_text, bounded_int
from app.core.messages import N_, Said, said
from app.core.vocab import ChannelPolicy
from app.record import csvfiles, records
from app.rules import guidance
from app.voting import meetings, sections, surveys
from app.voting.models import Meeting, Segment
from app.web import auth, facilitators, i18n
from app.web.deps import RowId, ServicesDep
from app.web.rendering import form_problems
from app.web.services import Services

router = APIRouter()

_T = TypeVar("_T")


@router.get("/facilitator")
async def facilitator_login(request: Request, services: ServicesDep, key: str = "") -> Response:
    agent = request.headers.get("user-agent", "")
    signed = await asyncio.to_thread(
        facilitators.sign_in, services.engine, services.settings, key, agent
    )
    auth.start_facilitator(request, signed.token)
    return RedirectResponse(signed.landing, status_code=303)


@router.post("/facilitator/logout")
async def facilitator_logout(request: Request, services: ServicesDep) -> Response:
    form = await request.form()
    auth.check_csrf(request, form.get("csrf"))
    grant = auth.grant_of(request)
    if grant is not None:
        await asyncio.to_thread(facilitators.end, services.engine, grant.session_id)
    auth.forget_facilitator(request)
    return RedirectResponse("/", status_code=303)


# --- meetings ---------------------------------------------------------------------------------


async def _create(request: Request, services: Services, mf: records.MeetingFile) -> Response:
    def write() -> int:
        with services.session() as session:
            meeting = meetings.create_meeting(session, mf)
            assert meeting.id is not None
            return meeting.id

    meeting_id = await asyncio.to_thread(write)
    flash(request, said(N_("Meeting “%(title)s” created."), title=mf.title))
    return RedirectResponse(f"/console/{meeting_id}/setup", status_code=303)


@router.post("/console/meetings")
async def create_meeting(request: Request, services: ServicesDep) -> Response:
    form = await facilitator_form(request)
    try:
        mf = records.MeetingFile(
            title=str(form.get("title", "")).strip(), segments=[], proposals=[]
        )
    except ValidationError:
        raise BadInput("Give the meeting a title (1 to 200 characters).") from None
    return await _create(request, services, mf)


@router.post("/console/import")
async def import_meeting(request: Request, services: ServicesDep) -> Response:
    form = await facilitator_form(request)
    filename, text = await upload_text(form, "file")
    try:
        mf = records.parse_meeting(text, filename=filename)
    except records.RecordError as e:
        raise BadInput(str(e)) from None
    return await _create(request, services, mf)


@router.post("/console/demo")
async def create_demo(request: Request, services: ServicesDep) -> Response:
    await facilitator_form(request)
    return await _create(request, services, demo.riverside())


# --- one meeting: set-up ----------------------------------------------------------------------


@router.get("/console/{meeting_id}/setup")
async def console_setup(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    auth.require_facilitator(request)
    ctx = await asyncio.to_thread(_setup_context, request, services, meeting_id)
    return page(request, "console/setup.html", ctx)


def _setup_context(request: Request, services: Services, meeting_id: int) -> dict[str, Any]:
    """The set-up page as saved: each section's fields from the database (`seg_rows`,
    `prop_rows`: dicts of the inputs' values, plus blank rows), no problems."""
    ctx = run.meeting_context(services, meeting_id)
    meeting: Meeting = ctx["meeting"]
    ctx["guidance"] = guidance.rule_guidance(
        meeting.ratio,
        meeting.group_min,
        meeting.expected_attendance,
        _protecting(ctx["segments"]),
        i18n.gettext_for(i18n.choose_locale(request)),
    )
    ctx["max_expected_attendance"] = guidance.MAX_EXPECTED_ATTENDANCE
    ctx["title_cy"] = setup_form.welsh(meeting.translations, "title")
    ctx["seg_rows"] = [setup_form.segment_values(s) for s in ctx["segments"]] + [
        {"was": "", "key": "", "label": "", "label_cy": "", "protects": True, "remove": False}
        for _ in range(setup_form.BLANK_SEGMENTS)
    ]
    ctx["prop_rows"] = [setup_form.proposal_values(p) for p in ctx["proposals"]] + [
        setup_form.proposal_values(None) for _ in range(setup_form.BLANK_PROPOSALS)
    ]
    ctx["welsh_missing"] = setup_form.welsh_missing(meeting, ctx["segments"], ctx["proposals"])
    ctx["problems"] = []
    ctx["problem_at"] = {}
    ctx["problem_section"] = ""
    ctx["common_zones"] = localtime.COMMON_ZONES
    ctx["time_zone"] = meeting.time_zone or localtime.DEFAULT_ZONE
    with services.read_session() as session:
        ctx.update(
            survey_form.survey_context(
                surveys.survey_of(session, meeting_id), surveys.has_answers(session, meeting_id)
            )
        )
        ctx["survey_boundaries"] = surveys.boundaries_of(session, meeting_id)
        ctx["survey_population"] = surveys.population_text(session, meeting_id) is not None
    return ctx


def _protecting(segments: Sequence[Segment]) -> int:
    """How many of a meeting's segments can protect (not marked "never protects")."""
    return sum(1 for s in segments if s.protects)


@router.get("/console/{meeting_id}/setup/guidance.json")
async def setup_guidance(
    request: Request, meeting_id: RowId, services: ServicesDep
) -> dict[str, list[str]]:
    """The help beside R and m (app/rules/guidance.py) for the values being typed, so the
    set-up page can say what they mean before they are saved.

    Query: `ratio`, `group_min`, `expected_attendance` (empty: not given); one left out is the
    meeting's saved value. Answers `{"explanation": [...], "warnings": [...]}` in the browser's
    language. Raises BadInput (400) for a value the set-up form would refuse.
    """
    auth.require_facilitator(request)
    query = request.query_params

    def read() -> tuple[int, int, int | None, int]:
        """The saved R, m and attendance, and how many segments can protect."""
        with services.read_session() as session:
            meeting = meetings.get_meeting(session, meeting_id)
            protecting = _protecting(meetings.segments_of(session, meeting_id))
            return meeting.ratio, meeting.group_min, meeting.expected_attendance, protecting

    ratio, group_min, expected, protecting = await asyncio.to_thread(read)
    if "ratio" in query:
        ratio = _rule_int(query["ratio"], "R")
    if "group_min" in query:
        group_min = _rule_int(query["group_min"], "m")
    if "expected_attendance" in query:
        expected = _attendance(query["expected_attendance"])
    help_ = guidance.rule_guidance(
        ratio, group_min, expected, protecting, i18n.gettext_for(i18n.choose_locale(request))
    )
    return {"explanation": list(help_.explanation), "warnings": list(help_.warnings)}


def _rule_int(value: object, label: str) -> int:
    """R or m as the meeting file bounds them (records.RuleFile)."""
    return bounded_int(value, label, low=1, high=records.MAX_RULE_PARAMETER)


def _attendance(value: object) -> int | None:
    """The expected attendance from a form or query: empty is None (not given)."""
    text = str(value).strip()
    if not text:
        return None
    return bounded_int(
        text, "The expected attendance", low=1, high=guidance.MAX_EXPECTED_ATTENDANCE
    )


def _budget_fields(
    form: FormData,
) -> tuple[records.BudgetFile | EllipsisType | None, int | float | EllipsisType | None]:
    """The budget and savings target from the set-up form: an empty pot means no budget; a
    form without the fields (an older page) leaves both as they are (`...`)."""
    if "budget_pot" not in form and "savings_target" not in form:
        return ..., ...
    pot = _amount(form, "budget_pot", "The pot")
    target = _amount(form, "savings_target", "The savings target")
    if pot is None:
        return None, target
    try:
        budget = records.BudgetFile(
            pot=pot,
            currency=str(form.get("budget_currency", "")).strip() or "£",
            completion=str(form.get("budget_completion", "") or "add1"),
        )
    except ValidationError as e:
        raise BadInput(f"Budget: {meetings.describe_validation(e)}") from None
    return budget, target


def _voting_fields(form: FormData) -> records.VotingFile | EllipsisType:
    """Admission, channel policy and per-channel turnout from the set-up form (`...` from a
    form without them: unchanged)."""
    if "admission" not in form:
        return ...
    try:
        return records.VotingFile(
            admission=str(form.get("admission")),
            channel_policy=str(form.get("channel_policy") or ChannelPolicy.ONE_CHANNEL.value),
            show_channels=checked(form, "show_channels"),
        )
    except ValidationError:
        raise BadInput(
            "Admission must be open or tickets, and the channel policy one_channel or latest."
        ) from None


@router.post("/console/{meeting_id}/settings")
async def save_settings(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """The Meeting section: title (and its Welsh), rule, budget, voting. Every problem comes
    back next to its field with what was typed; nothing is saved unless all of it is."""
    form = await facilitator_form(request)
    problems: list[tuple[str, CovoteError]] = []

    def field(where: str, read: Callable[[], _T]) -> _T | None:
        try:
            return read()
        except BadInput as e:
            problems.append((where, e))
            return None

    ratio = field("s-ratio", lambda: int_field(form, "ratio", "R"))
    group_min = field("s-m", lambda: int_field(form, "group_min", "m"))
    money = field("s-pot", lambda: _budget_fields(form))
    voting = field("s-adm-open", lambda: _voting_fields(form))
    # A form without the field (an older page) leaves the expected attendance as it is.
    expected = field(
        "s-expected",
        lambda: (
            _attendance(form.get("expected_attendance", ""))
            if "expected_attendance" in form
            else ...
        ),
    )
    # A form without the Welsh title (an older page, a script) leaves the translations alone.
    title_cy = str(form["title_cy"]) if "title_cy" in form else None

    # The record's time zone, venue and chair: a form without them leaves them as they are.
    time_zone, venue, chair = (
        str(form.get(name, "")).strip() if name in form else ...
        for name in ("time_zone", "venue", "chair")
    )

    def change(session: Session, meeting: Meeting) -> Said:
        if problems:
            raise InvalidForm(problems)
        assert ratio is not None and group_min is not None and money is not None
        assert voting is not None
        try:
            meetings.update_settings(
                session,
                meeting,
                title=str(form.get("title", "")).strip(),
                ratio=ratio,
                group_min=group_min,
                results_hidden=checked(form, "results_hidden"),
                budget=money[0],
                savings_target=money[1],
                voting=voting,
                expected_attendance=expected,
                title_cy=... if title_cy is None else title_cy,
                time_zone=time_zone,
                venue=venue,
                chair=chair,
            )
        except CovoteError as e:
            raise InvalidForm([(_settings_field(e), e)]) from None
        return said(N_("Meeting settings saved."))

    return await _save_section(request, services, meeting_id, "meeting", form, change)


def _settings_field(e: CovoteError) -> str:
    """The input a problem of the settings (from meetings.update_settings) is about."""
    text = e.message
    for words, where in (
        ("time zone", "s-zone"),
        ("time_zone", "s-zone"),
        ("venue", "s-venue"),
        ("chair", "s-chair"),
        ("title_cy", "s-title-cy"),
        ("translations", "s-title-cy"),
        ("title", "s-title"),
        ("rule", "s-ratio"),
        ("savings", "s-target"),
        ("budget", "s-pot"),
        ("Admission", "s-adm-open"),
    ):
        if text.startswith(words) or words in text:
            return where
    return ""


async def _save_section(
    request: Request,
    services: Services,
    meeting_id: int,
    section: str,
    form: FormData,
    change: Callable[[Session, Meeting], Said],
) -> Response:
    """Save one set-up section in one transaction and go back to it (`#section`), or, on any
    problem, nothing saved: the set-up page again with what was typed, each problem next to its
    field and all of them in a summary at the top (status 400, or 409 for a conflict)."""
    try:
        return await act(request, services, meeting_id, change, f"/setup#{section}")
    except InvalidForm as e:
        problems = e.problems
        status = e.status_code
    except (BadInput, Conflict) as e:
        problems, status = [("", e)], e.status_code

    ctx = await asyncio.to_thread(_setup_context, request, services, meeting_id)
    ctx.update(form_problems(request, problems))
    ctx["problem_section"] = section
    if section == "meeting":
        ctx["meeting"] = setup_form.typed_meeting(ctx["meeting"], form)
        ctx["title_cy"] = str(form.get("title_cy", ctx["title_cy"]))
    elif section == "segments":
        ctx["seg_rows"] = [setup_form.typed_values(r) for r in setup_form.segment_rows(form)]
    elif section == "proposals":
        ctx["prop_rows"] = [setup_form.typed_values(r) for r in setup_form.proposal_rows(form)]
    elif section == "survey":
        ctx.update(survey_form.typed(form))
    return page(request, "console/setup.html", ctx, status_code=status)


@router.post("/console/{meeting_id}/setup/segments")
async def save_segments(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """The Segments section: the whole table in one save (sections.save_segments)."""
    form = await facilitator_form(request)
    rows = setup_form.segment_rows(form)

    def change(session: Session, meeting: Meeting) -> Said:
        return sections.save_segments(session, meeting, rows)

    return await _save_rows(request, services, meeting_id, "segments", form, rows, change)


@router.post("/console/{meeting_id}/setup/proposals")
async def save_proposals(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """The Proposals section: every proposal in one save (sections.save_proposals)."""
    form = await facilitator_form(request)
    rows = setup_form.proposal_rows(form)

    def change(session: Session, meeting: Meeting) -> Said:
        return sections.save_proposals(session, meeting, rows)

    return await _save_rows(request, services, meeting_id, "proposals", form, rows, change)


async def _save_rows(
    request: Request,
    services: Services,
    meeting_id: int,
    section: str,
    form: FormData,
    rows: Sequence[sections.SegmentRow | sections.ProposalRow],
    change: Callable[[Session, Meeting], Said],
) -> Response:
    """Save a table section (`_save_section`); rows ticked for removal ask first
    (confirm_first), since removing cannot be undone."""
    removing = setup_form.removing(rows)
    if removing:
        asked = await confirm_first(
            request,
            services,
            form,
            "remove_items",
            back=f"/setup#{section}",
            meeting_id=meeting_id,
            items=removing,
        )
        if asked is not None:
            return asked
    return await _save_section(request, services, meeting_id, section, form, change)


@router.post("/console/{meeting_id}/segments")
async def save_segment(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    form = await facilitator_form(request)

    def change(session: Session, meeting: Meeting) -> Said:
        seg = meetings.save_segment(
            session,
            meeting,
            key=str(form.get("key", "")).strip(),
            label=str(form.get("label", "")).strip(),
            protects=not checked(form, "never_protects"),
        )
        return said(N_("Segment “%(label)s” saved."), label=seg.label)

    return await act(request, services, meeting_id, change, "/setup")


def _label_of(session: Session, meeting: Meeting, key: str) -> str:
    """A segment's label for a confirmation (its id if there is no such segment: removing it
    then says so)."""
    assert meeting.id is not None
    return next((s.label for s in meetings.segments_of(session, meeting.id) if s.key == key), key)


def _title_of(session: Session, meeting: Meeting, key: str) -> str:
    """A proposal's title for a confirmation (its id if there is no such proposal)."""
    assert meeting.id is not None
    return next((p.title for p in meetings.proposals_of(session, meeting.id) if p.key == key), key)


@router.post("/console/{meeting_id}/segments/{key}/delete")
async def delete_segment(
    request: Request, meeting_id: RowId, key: str, services: ServicesDep
) -> Response:
    form = await facilitator_form(request)
    asked = await confirm_first(
        request,
        services,
        form,
        "remove_segment",
        back="/setup",
        meeting_id=meeting_id,
        describe=lambda session, meeting: {"label": _label_of(session, meeting, key)},
    )
    if asked is not None:
        return asked

    def change(session: Session, meeting: Meeting) -> Said:
        meetings.delete_segment(session, meeting, key)
        return said(N_("Segment %(key)s removed."), key=key)

    return await act(request, services, meeting_id, change, "/setup")


def _amount(form: FormData, name: str, label: str) -> int | float | None:
    """'£35,000' -> 35000; empty -> None."""
    return amount_text(str(form.get(name, "")), label)


@router.post("/console/{meeting_id}/proposals")
async def save_proposal(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    form = await facilitator_form(request)
    try:
        pf = records.ProposalFile(
            id=str(form.get("key", "")).strip(),
            title=str(form.get("title", "")).strip(),
            description=str(form.get("description", "")).strip(),
            kind=str(form.get("kind", "")),
            cost=_amount(form, "cost", "Cost"),
            saving=_amount(form, "saving", "Saving"),
            affected_groups=[str(g) for g in form.getlist("affected_groups")],
        )
    except ValidationError as e:
        raise BadInput(meetings.describe_validation(e)) from None

    def change(session: Session, meeting: Meeting) -> Said:
        meetings.save_proposal(session, meeting, pf)
        return said(N_("Proposal “%(title)s” saved."), title=pf.title)

    return await act(request, services, meeting_id, change, "/setup")


@router.post("/console/{meeting_id}/proposals/{key}/delete")
async def delete_proposal(
    request: Request, meeting_id: RowId, key: str, services: ServicesDep
) -> Response:
    form = await facilitator_form(request)
    asked = await confirm_first(
        request,
        services,
        form,
        "remove_proposal",
        back="/setup",
        meeting_id=meeting_id,
        describe=lambda session, meeting: {"title": _title_of(session, meeting, key)},
    )
    if asked is not None:
        return asked

    def change(session: Session, meeting: Meeting) -> Said:
        meetings.delete_proposal(session, meeting, key)
        return said(N_("Proposal %(key)s removed."), key=key)

    return await act(request, services, meeting_id, change, "/setup")


@router.post("/console/{meeting_id}/proposals.csv")
async def import_proposals_csv(
    request: Request, meeting_id: RowId, services: ServicesDep
) -> Response:
    form = await facilitator_form(request)
    filename, text = await upload_text(form, "file")

    def change(session: Session, meeting: Meeting) -> Said:
        assert meeting.id is not None
        segment_ids = {s.key for s in meetings.segments_of(session, meeting.id)}
        try:
            parsed = csvfiles.read_proposals_csv(text, segment_ids, filename=filename)
        except records.RecordError as e:
            raise BadInput(str(e)) from None
        return said(
            N_("Imported %(n)s proposal(s)."), n=meetings.import_proposals(session, meeting, parsed)
        )

    return await act(request, services, meeting_id, change, "/setup")
