"""The phone's "help with what comes next" page: the people list's privacy notice and form.

- GET  `/m/{code}/helping`         the privacy notice first (who sees the details, what for,
                                   until when, how to have them deleted, not linked to the
                                   answers), then the form: name, phone, e-mail, what they
                                   would help with, and a consent box that must be ticked
- POST `/m/{code}/helping`         the form (CSRF, limited per address: Limit.OFFERS_PER_ADDRESS);
                                   a refused form comes back with every problem by its field
                                   and nothing kept
- GET  `/m/{code}/helping/thanks`  thank you, until when, how to have them deleted

No join is needed and nothing links the offer to this browser's voter: the page reads and
writes only the meeting and its list (app/voting/people.py). The browser's session keeps only
the date the details are kept until, for the thank-you page.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from app.config import Settings
from app.core import localtime
from app.core.errors import Conflict, CovoteError, InvalidForm
from app.rules import people as rules
from app.voting import meetings, people
from app.voting.models import Meeting
from app.web import auth
from app.web.deps import ServicesDep
from app.web.netinfo import client_address
from app.web.ratelimit import Limit
from app.web.rendering import form_problems, render
from app.web.services import Services

router = APIRouter()

# The thank-you page's dates, by meeting code, in the browser's session cookie (a date each,
# nothing else): the newest few, so the cookie stays small.
HELPED_FIELD = "helped"
HELPED_KEPT = 5
# A form field is cut to this many characters before it is checked: enough for any field's
# limit to be reported (the longest is MAX_HELP_TEXT), never a megabyte parsed.
FIELD_READ_MAX = 2000


def today_for(meeting: Meeting, now: datetime | None = None) -> date:
    """The meeting's date today (its zone): the day an offer is given on."""
    return localtime.local_date(now or datetime.now(UTC), meetings.zone_of(meeting))


def _context(services: Services, code: str) -> dict[str, Any]:
    """What the page shows: the meeting, its proposals to pick from, the notice's words."""
    with services.read_session() as session:
        meeting = meetings.meeting_by_code(session, code)
        assert meeting.id is not None
        proposals = meetings.proposals_of(session, meeting.id)
        session.expunge_all()
    days = people.days_kept(meeting, services.settings.people_retention_days)
    return {
        "meeting": meeting,
        "proposals": proposals,
        "until": rules.delete_after(today_for(meeting), days),
        "keeper": meeting.people_keeper,
        "typed": {},
        "problems": [],
        "problem_at": {},
    }


@router.get("/m/{code}/helping")
async def helping(request: Request, code: str, services: ServicesDep) -> Response:
    ctx = await asyncio.to_thread(_context, services, code)
    return render(request, "phone/helping.html", ctx)


def _typed(form: FormData) -> dict[str, Any]:
    """The form's fields, each cut to FIELD_READ_MAX characters."""

    def text(name: str) -> str:
        value = form.get(name)
        return value[:FIELD_READ_MAX] if isinstance(value, str) else ""

    picked = [v[:FIELD_READ_MAX] for v in form.getlist("help_with") if isinstance(v, str)]
    return {
        "name": text("name"),
        "phone": text("phone"),
        "email": text("email"),
        "help_text": text("help_text"),
        # A form never has more boxes than the meeting has proposals: a bound on the list.
        "help_with": picked[:500],
        "consent": form.get("consent") in ("on", "yes", "1", "true"),
    }


def _store(services: Services, settings: Settings, code: str, typed: dict[str, Any]) -> str:
    """Check and store the offer in one transaction; returns its date, ISO."""
    with services.session() as session:
        meeting = meetings.meeting_by_code(session, code)
        assert meeting.id is not None
        keys = [p.key for p in meetings.proposals_of(session, meeting.id)]
        offer = rules.parse_offer(proposals=keys, **typed)
        row = people.add(
            session,
            meeting,
            offer,
            today=today_for(meeting),
            days=people.days_kept(meeting, settings.people_retention_days),
        )
        return row.delete_after.isoformat()


@router.post("/m/{code}/helping")
async def helping_sent(request: Request, code: str, services: ServicesDep) -> Response:
    """Store the offer (after the notice), then the thank-you page; or the form again with
    every problem, nothing kept (400; 409 when the meeting is archived or its list full)."""
    form = await request.form()
    auth.check_csrf(request, form.get("csrf"))
    # Counted before anything is read: a refused request changes nothing (429).
    await services.limiter.hit(Limit.OFFERS_PER_ADDRESS, client_address(request))
    typed = _typed(form)
    try:
        until = await asyncio.to_thread(_store, services, services.settings, code, typed)
    except InvalidForm as e:
        return await _again(request, services, code, typed, e.problems, e.status_code)
    except Conflict as e:
        return await _again(request, services, code, typed, [("", e)], e.status_code)
    meeting_code = meetings.normalise_code(code)
    session = auth.session_of(request)
    helped = {k: v for k, v in (session.get(HELPED_FIELD) or {}).items() if k != meeting_code}
    session[HELPED_FIELD] = dict(
        [*list(helped.items())[-(HELPED_KEPT - 1) :], (meeting_code, until)]
    )
    return RedirectResponse(f"/m/{meeting_code}/helping/thanks", status_code=303)


async def _again(
    request: Request,
    services: Services,
    code: str,
    typed: dict[str, Any],
    problems: list[tuple[str, CovoteError]],
    status: int,
) -> Response:
    """The form again with what was typed and every problem, each by its field."""
    ctx = await asyncio.to_thread(_context, services, code)
    ctx.update(form_problems(request, problems))
    ctx.update(
        typed=typed,
    )
    return render(request, "phone/helping.html", ctx, status_code=status)


@router.get("/m/{code}/helping/thanks")
async def helping_thanks(request: Request, code: str, services: ServicesDep) -> Response:
    """Thank you, until when the details are kept and how to have them deleted (only after
    sending them from this browser: otherwise, the form)."""
    meeting_code = meetings.normalise_code(code)
    until = (auth.session_of(request).get(HELPED_FIELD) or {}).get(meeting_code)
    if not isinstance(until, str):
        return RedirectResponse(f"/m/{meeting_code}/helping", status_code=303)
    ctx = await asyncio.to_thread(_context, services, code)
    try:
        ctx["until"] = date.fromisoformat(until)
    except ValueError:
        return RedirectResponse(f"/m/{meeting_code}/helping", status_code=303)
    return render(request, "phone/helping_thanks.html", ctx)
