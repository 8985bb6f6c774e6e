"""The phone's amendments page (issue 17): propose another wording of one charter clause.

- GET  `/m/{code}/amend`  while the facilitator has amendments open: the notice not to include
                          personal details, the current charter's clauses (numbered, in the
                          phone's language), the form (the clause, the wording, its Welsh if
                          the proposer likes) and the amendments this phone sent, each with its
                          status (and the moderator's reason when declined)
- POST `/m/{code}/amend`  the form (CSRF; a joined voter only; limited per voter:
                          Limit.AMENDMENTS_PER_VOTER, and charter_amend.MAX_PER_VOTER in all);
                          a refused form comes back with every problem by its field and nothing
                          kept, an accepted one returns to the page, which says it waits for
                          the facilitator

The proposal waits until the facilitator moderates it on the Charter page
(app/voting/charter_amendments.py); its author is kept only to list it on this phone and to
count the phone's proposals.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from app.core.errors import Conflict, CovoteError, InvalidForm, NotFound
from app.core.inputs import cut
from app.core.messages import N_
from app.rules.charter_amend import MAX_TEXT, clause_numbers
from app.voting import charter_amendments, charters
from app.web import auth
from app.web.attendees import attendee
from app.web.deps import ServicesDep
from app.web.ratelimit import Limit
from app.web.rendering import form_problems, render
from app.web.services import Services

router = APIRouter()

NOT_JOINED = N_("Join the meeting first, then propose your amendment.")


def _context(request: Request, services: Services, code: str) -> dict[str, Any]:
    """The meeting, whether amendments are open, the current charter and this phone's
    proposals (none when the browser has not joined)."""
    with services.read_session() as session:
        meeting, voter = attendee(request, session, code)
        assert meeting.id is not None
        charter = charters.charter_of(session, meeting.id)
        is_open = charter is not None and charter_amendments.is_open(session, meeting.id)
        mine = (
            [] if voter is None else charter_amendments.sent_by(session, meeting.id, voter.id or 0)
        )
        session.expunge_all()
    return {
        "meeting": meeting,
        "joined": voter is not None,
        "charter": charter,
        "is_open": is_open,
        "numbers": {} if charter is None else clause_numbers(charter),
        "mine": mine,
        "text_max": MAX_TEXT,
        "typed": {},
        "problems": [],
        "problem_at": {},
        "sent": request.query_params.get("sent") == "1",
    }


@router.get("/m/{code}/amend")
async def amend_page(request: Request, code: str, services: ServicesDep) -> Response:
    ctx = await asyncio.to_thread(_context, request, services, code)
    return render(request, "phone/amend.html", ctx)


def _typed(form: FormData) -> dict[str, str]:
    """The form's fields, each cut short before anything reads it (parse_draft checks)."""

    def text(name: str, limit: int) -> str:
        return cut(form.get(name), limit)

    return {
        "clause": text("clause", 32),
        "text": text("text", MAX_TEXT),
        "text_cy": text("text_cy", MAX_TEXT),
    }


def _voter_key(request: Request, services: Services, code: str) -> str:
    """The rate limit's key: this browser's voter in the meeting. Raises NotFound, Conflict."""
    with services.read_session() as session:
        meeting, voter = attendee(request, session, code)
        if voter is None:
            raise Conflict(NOT_JOINED)
        return f"{meeting.id}:{voter.id}"


def _store(request: Request, services: Services, code: str, typed: dict[str, str]) -> str:
    """Check and store the proposal in one transaction; returns the meeting's code."""
    with services.session() as session:
        meeting, voter = attendee(request, session, code)
        if voter is None:
            raise Conflict(NOT_JOINED)
        assert meeting.id is not None
        charter = charter_amendments.current(session, meeting.id)
        draft = charter_amendments.parse_draft(
            charter,
            clause=typed["clause"],
            text=typed["text"],
            text_cy=typed["text_cy"],
            prefix="amend-",
        )
        charter_amendments.propose(session, meeting, voter, draft)
        return meeting.code


@router.post("/m/{code}/amend")
async def amend_sent(request: Request, code: str, services: ServicesDep) -> Response:
    """Store the proposal (waiting), then the page again saying so; or the form with every
    problem, nothing kept (400; 404 the clause has gone; 409 not joined, not open, archived
    or full; 429)."""
    form = await request.form()
    auth.check_csrf(request, form.get("csrf"))
    typed = _typed(form)
    try:
        key = await asyncio.to_thread(_voter_key, request, services, code)
        # Counted before anything is written: a refused request changes nothing (429).
        await services.limiter.hit(Limit.AMENDMENTS_PER_VOTER, key)
        meeting_code = await asyncio.to_thread(_store, request, services, code, typed)
    except InvalidForm as e:
        return await _again(request, services, code, typed, e.problems, e.status_code)
    except (Conflict, NotFound) as e:
        return await _again(request, services, code, typed, [("", e)], e.status_code)
    # A waiting amendment is on no screen: nothing to signal until the facilitator accepts it.
    return RedirectResponse(f"/m/{meeting_code}/amend?sent=1#your-amendments", status_code=303)


async def _again(
    request: Request,
    services: Services,
    code: str,
    typed: dict[str, str],
    problems: list[tuple[str, CovoteError]],
    status: int,
) -> Response:
    """The form again with what was typed and every problem, each by its field."""
    ctx = await asyncio.to_thread(_context, request, services, code)
    ctx.update(form_problems(request, problems))
    ctx.update(
        typed=typed,
        sent=False,
    )
    return render(request, "phone/amend.html", ctx, status_code=status)
