"""The presenter view: the facilitator drives the big screen (app/live/screen.py).

- GET  /console/{id}/present  a live preview of the projector (the real projector page in an
                              iframe, 1920x1080 scaled down) and its controls
- POST /console/{id}/screen   one command (`action`, and `page` or `proposal`): a plain form
                              without JavaScript (redirects back to the view); with
                              `Accept: application/json` (the view's script) the new screen as
                              JSON. Facilitator only, with the CSRF token.

Every projector follows the change through its next snapshot (`screen`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from app.console.forms import facilitator_form, page
from app.live import screen
from app.voting import meetings
from app.web import auth
from app.web.deps import RowId, ServicesDep

router = APIRouter()


@router.get("/console/{meeting_id}/present")
async def present(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    auth.require_facilitator(request)

    def read() -> dict[str, Any]:
        with services.read_session() as session:
            meeting = meetings.get_meeting(session, meeting_id)
            return {
                "meeting": meeting,
                "proposals": meetings.proposals_of(session, meeting_id),
            }

    ctx = await asyncio.to_thread(read)
    state = await asyncio.to_thread(lambda: services.page_state(meeting_id, exact=True))
    ctx.update(
        screen=state["screen"],
        revealed=state["results"] is not None,
        round=state["round"],
    )
    return page(request, "console/present.html", ctx)


@router.post("/console/{meeting_id}/screen")
async def set_screen(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    form = await facilitator_form(request)
    action = str(form.get("action", ""))[:32]
    page_index = screen.parse_page(form.get("page"))
    proposal = form.get("proposal")
    proposal = proposal[:64] if isinstance(proposal, str) and proposal else None
    new = await asyncio.to_thread(
        services.set_screen, meeting_id, action, page=page_index, proposal=proposal
    )
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"screen": new.view()})
    return RedirectResponse(f"/console/{meeting_id}/present", status_code=303)
