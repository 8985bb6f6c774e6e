"""The console's meeting list and what is done to whole meetings: duplicate, archive, delete.

`/console` lists the meetings newest first with their status and counts; archived ones are
behind `?archived=1` ("Show archived (N)"). Duplicating, archiving and deleting act on a whole
meeting, so they live under `/console/meetings/{id}/...`, outside the `/console/{id}` pages a
helper's sign-in link opens (app/web/facilitators.py): only the facilitator does them. What
each keeps and changes is app/voting/lifecycle.py's. Deleting asks for the meeting's code typed
back on its own page, which says what will be lost and links to the export bundle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from typing import Any

from babel.dates import format_date, format_time
from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from app.console.forms import facilitator_form, flash, page
from app.core import localtime
from app.core.errors import BadInput
from app.core.messages import N_, said
from app.voting import lifecycle, meetings
from app.voting.models import Meeting
from app.web import auth, facilitators, i18n
from app.web.deps import RowId, ServicesDep
from app.web.services import Services

router = APIRouter()

# Babel's locale for dates: "en" alone is American English (Nov 25, 2026); Covote's is British.
DATE_LOCALES = {"en": "en_GB"}


def when(at: datetime, tz: tzinfo, _: i18n.Translator) -> str:
    """A creation time for people: "Today, 19:40", "Yesterday, 09:05" or "25 Nov 2026", in
    the meeting's time zone (meetings.zone_of) and the page's language."""
    local = localtime.local(at, tz)
    today = datetime.now(tz).date()
    locale = DATE_LOCALES.get(_.locale, _.locale)
    clock = format_time(local, "short", locale=locale)
    if local.date() == today:
        return _("Today, %(time)s", time=clock)
    if local.date() == today - timedelta(days=1):
        return _("Yesterday, %(time)s", time=clock)
    return format_date(local, "medium", locale=locale)


def _translator(request: Request) -> i18n.Translator:
    return i18n.gettext_for(i18n.choose_locale(request))


def _read(
    services: Services, meeting_id: int, fn: Callable[[Session, Meeting], dict[str, Any]]
) -> dict[str, Any]:
    """`fn` of the meeting, in a read-only transaction (blocking: call in a worker thread)."""
    with services.read_session() as session:
        return fn(session, meetings.get_meeting(session, meeting_id))


# --- the list ----------------------------------------------------------------------------------


@router.get("/console")
async def console_home(request: Request, services: ServicesDep, archived: bool = False) -> Response:
    auth.require_facilitator(request)

    def read() -> tuple[lifecycle.MeetingList, int]:
        with services.read_session() as session:
            listed = lifecycle.meeting_list(session, with_archived=archived)
            return listed, len(facilitators.list_sessions(session))

    listed, browsers = await asyncio.to_thread(read)
    _ = _translator(request)
    return page(
        request,
        "console/home.html",
        {
            "current": [m for m in listed.meetings if m.archived_at is None],
            "archived": [m for m in listed.meetings if m.archived_at is not None],
            "archived_count": listed.archived,
            "show_archived": archived,
            "created": {
                m.id: when(m.created_at, meetings.zone_named(m.time_zone), _)
                for m in listed.meetings
            },
            "browsers": browsers,
        },
    )


# --- duplicate ---------------------------------------------------------------------------------


@router.get("/console/meetings/{meeting_id}/duplicate")
async def duplicate_page(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """What a copy takes and what it leaves, and its title to edit."""
    auth.require_facilitator(request)

    def read(session: Session, meeting: Meeting) -> dict[str, Any]:
        assert meeting.id is not None
        return {
            "source": meeting,
            "segments": len(meetings.segments_of(session, meeting.id)),
            "proposals": len(meetings.proposals_of(session, meeting.id)),
        }

    ctx = await asyncio.to_thread(_read, services, meeting_id, read)
    _ = _translator(request)
    ctx["title"] = lifecycle.copy_title(ctx["source"].title, _(lifecycle.COPY_TITLE))
    return page(request, "console/duplicate.html", ctx)


@router.post("/console/meetings/{meeting_id}/duplicate")
async def duplicate(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    form = await facilitator_form(request)
    title = str(form.get("title", "")).strip()

    def write() -> tuple[int, str, str]:
        with services.session() as session:
            source = meetings.get_meeting(session, meeting_id)
            copy = lifecycle.duplicate(session, source, title)
            assert copy.id is not None
            return copy.id, copy.code, source.title

    new_id, code, source_title = await asyncio.to_thread(write)
    flash(
        request,
        said(
            N_(
                "“%(title)s” made from the set-up of “%(source)s”, with the code %(code)s and a "
                "new tie-break draw. Check the set-up below."
            ),
            title=title,
            source=source_title,
            code=code,
        ),
    )
    return RedirectResponse(f"/console/{new_id}/setup", status_code=303)


# --- archive -----------------------------------------------------------------------------------


def _back(form: FormData, meeting_id: int) -> str:
    """Where an archive button returns: the list or the delete page it was pressed on, else
    the meeting's page (a fixed choice, never an address from the form)."""
    back = form.get("back")
    if back == "list":
        return "/console"
    if back == "delete":
        return f"/console/meetings/{meeting_id}/delete"
    return f"/console/{meeting_id}"


@router.post("/console/meetings/{meeting_id}/archive")
async def archive(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    form = await facilitator_form(request)

    def write() -> str:
        with services.session() as session:
            meeting = meetings.get_meeting(session, meeting_id)
            lifecycle.archive(session, meeting)
            return meeting.title

    title = await asyncio.to_thread(write)
    services.changed(meeting_id)
    flash(
        request,
        said(
            N_(
                "“%(title)s” is archived: read-only, and still exported. It is listed under “Show "
                "archived”."
            ),
            title=title,
        ),
    )
    return RedirectResponse(_back(form, meeting_id), status_code=303)


@router.post("/console/meetings/{meeting_id}/unarchive")
async def unarchive(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    form = await facilitator_form(request)

    def write() -> str:
        with services.session() as session:
            meeting = meetings.get_meeting(session, meeting_id)
            lifecycle.unarchive(session, meeting)
            return meeting.title

    title = await asyncio.to_thread(write)
    services.changed(meeting_id)
    flash(
        request,
        said(N_("“%(title)s” is no longer archived: it can be changed again."), title=title),
    )
    back = "/console?archived=1" if form.get("back") == "list" else f"/console/{meeting_id}"
    return RedirectResponse(back, status_code=303)


# --- delete ------------------------------------------------------------------------------------


def _delete_context(session: Session, meeting: Meeting) -> dict[str, Any]:
    assert meeting.id is not None
    return {
        "meeting": meeting,
        "loss": lifecycle.loss(session, meeting),
        "open_round": lifecycle.open_round_number(session, meeting.id),
    }


@router.get("/console/meetings/{meeting_id}/delete")
async def delete_page(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """What deleting loses, the export to make first, and the code to type back."""
    auth.require_facilitator(request)
    ctx = await asyncio.to_thread(_read, services, meeting_id, _delete_context)
    return page(request, "console/delete.html", ctx)


@router.post("/console/meetings/{meeting_id}/delete")
async def delete(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    form = await facilitator_form(request)
    typed = str(form.get("code", ""))[:32]

    def write() -> str:
        with services.session() as session:
            meeting = meetings.get_meeting(session, meeting_id)
            lifecycle.delete_meeting(session, meeting, typed)
            return meeting.title

    try:
        title = await asyncio.to_thread(write)
    except BadInput as e:  # the code typed wrong: the same page again, saying so
        ctx = await asyncio.to_thread(_read, services, meeting_id, _delete_context)
        ctx["error"] = e
        return page(request, "console/delete.html", ctx, status_code=e.status_code)
    services.forget(meeting_id)
    flash(request, said(N_("“%(title)s” is deleted, with its ballots and audit log."), title=title))
    return RedirectResponse("/console", status_code=303)
