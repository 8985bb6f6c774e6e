"""The console's People page: the people list of a meeting (issue 15), the facilitator's alone.

`/console/{id}/people` lists who offered to help (name, phone, e-mail, what they would help
with, the day given, the day kept until), with the privacy notice's settings (who keeps the
list, how many days), delete one person (on their request), delete the whole list, and
people.csv for the follow-up. A helper's sign-in link never opens these pages
(`facilitators.FACILITATOR_ONLY`). Reading the list purges everyone past their date first.
Pages and the file are sent with `Cache-Control: no-store`: personal data stays out of caches.
Status messages never name a person (they travel in the session cookie).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.responses import Response

from app.console.forms import act, confirm_first, facilitator_form, page
from app.core.errors import NotFound
from app.core.messages import N_, Said, said
from app.record import filenames
from app.record.people_csv import PersonRow, write_people_csv
from app.rules import people as rules
from app.voting import meetings, people, rounds
from app.voting.models import Contact, Meeting
from app.web import auth
from app.web.deps import RowId, ServicesDep
from app.web.services import Services

router = APIRouter(prefix="/console/{meeting_id}/people")

NO_STORE = {"Cache-Control": "no-store"}


def _today() -> date:
    """Today for purging: UTC's date (a person is deleted on the first purge after their last
    day has ended in UTC)."""
    return datetime.now(UTC).date()


def _purge_if_due(services: Services, today: date) -> None:
    """Delete everyone past their date, if anyone is: a write only when there is work."""
    with services.read_session() as session:
        due = people.has_expired(session, today=today)
    if due:
        with services.session() as session:
            people.purge_expired(session, today=today)


def _helps(row: Contact, titles: dict[str, str]) -> tuple[str, ...]:
    """The titles of the proposals a person picked (a key if the proposal has gone since)."""
    return tuple(titles.get(key, key) for key in row.help_with)


def _context(services: Services, meeting_id: int) -> dict[str, Any]:
    today = _today()
    _purge_if_due(services, today)
    with services.read_session() as session:
        meeting = meetings.get_meeting(session, meeting_id)
        titles = {p.key: p.title for p in meetings.proposals_of(session, meeting_id)}
        rows = people.listing(session, meeting_id, today=today)
        session.expunge_all()
    default = services.settings.people_retention_days
    return {
        "meeting": meeting,
        "rows": [(row, _helps(row, titles)) for row in rows],
        "form_url": f"{services.base_url}/m/{meeting.code}/helping",
        "keeper": meeting.people_keeper or "",
        "days": people.days_kept(meeting, default),
        "default_days": default,
        "max_days": rules.MAX_RETENTION_DAYS,
        "max_keeper": rules.MAX_KEEPER,
    }


@router.get("")
async def people_page(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    auth.require_facilitator(request)
    ctx = await asyncio.to_thread(_context, services, meeting_id)
    response = page(request, "console/people.html", {"page": "people", **ctx})
    response.headers.update(NO_STORE)
    return response


def _csv(services: Services, meeting_id: int) -> tuple[str, str]:
    """people.csv's text and its Content-Disposition (named from the meeting's title and date)."""
    today = _today()
    _purge_if_due(services, today)
    with services.read_session() as session:
        meeting = meetings.get_meeting(session, meeting_id)
        titles = {p.key: p.title for p in meetings.proposals_of(session, meeting_id)}
        rows = people.listing(session, meeting_id, today=today)
        opened = [rnd.opened_at for rnd in rounds.rounds_of(session, meeting_id)]
        day = filenames.meeting_day(meeting.created_at, opened, meetings.zone_of(meeting))
        text = write_people_csv(
            PersonRow(
                name=row.name,
                phone=row.phone or "",
                email=row.email or "",
                help_with=_helps(row, titles),
                help_text=row.help_text or "",
                given_on=row.given_on,
                delete_after=row.delete_after,
            )
            for row in rows
        )
        header = filenames.content_disposition("attachment", meeting.title, day, "people.csv")
    return text, header


@router.get("/people.csv")
async def people_csv(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    auth.require_facilitator(request)
    text, disposition = await asyncio.to_thread(_csv, services, meeting_id)
    headers = {"Content-Disposition": disposition, **NO_STORE}
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)


@router.post("/notice")
async def save_notice(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """The privacy notice's settings: who keeps the list, how many days new offers are kept."""
    form = await facilitator_form(request)
    keeper = rules.parse_keeper(str(form.get("keeper", ""))[:1000])
    days = rules.parse_retention(str(form.get("days", ""))[:20])

    def change(session: Session, meeting: Meeting) -> Said:
        people.set_notice(session, meeting, keeper=keeper, days=days)
        return said(N_("The privacy notice is saved: new details are kept %(n)s days."), n=days)

    return await act(request, services, meeting_id, change, "/people")


@router.post("/{contact_id}/delete")
async def delete_one(
    request: Request, meeting_id: RowId, contact_id: RowId, services: ServicesDep
) -> Response:
    """Delete one person's details (asks first). Allowed on an archived meeting."""
    form = await facilitator_form(request)

    def describe(session: Session, meeting: Meeting) -> dict[str, object]:
        row = session.get(Contact, contact_id)
        if row is None or row.meeting_id != meeting.id:
            raise NotFound(N_("That person is not on this meeting's list (already deleted?)."))
        return {"name": row.name}

    asked = await confirm_first(
        request,
        services,
        form,
        "delete_contact",
        back="/people",
        meeting_id=meeting_id,
        describe=describe,
    )
    if asked is not None:
        asked.headers.update(NO_STORE)
        return asked

    def change(session: Session, meeting: Meeting) -> Said:
        people.delete_one(session, meeting, contact_id)
        return said(N_("One person's details are deleted."))

    return await act(request, services, meeting_id, change, "/people", archived_ok=True)


@router.post("/delete-all")
async def delete_all(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """Delete the whole list (asks first). Allowed on an archived meeting."""
    form = await facilitator_form(request)

    def describe(session: Session, meeting: Meeting) -> dict[str, object]:
        assert meeting.id is not None
        return {"n": people.count(session, meeting.id)}

    asked = await confirm_first(
        request,
        services,
        form,
        "delete_people",
        back="/people",
        meeting_id=meeting_id,
        describe=describe,
    )
    if asked is not None:
        return asked

    def change(session: Session, meeting: Meeting) -> Said:
        gone = people.delete_all(session, meeting)
        return said(N_("The people list is deleted: %(n)s people."), n=gone)

    return await act(request, services, meeting_id, change, "/people", archived_ok=True)
