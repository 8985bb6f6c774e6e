"""Console access: the browsers signed in to the console, and helpers' sign-in links.

`/console/sessions` (the facilitator only) lists every signed-in browser, with "sign out" for
one and "sign out everywhere" (after a confirmation tick). `/console/{id}/access` makes and
revokes a meeting's helper links (app/web/facilitators.py): a clerk keying paper gets a link that
opens that meeting's paper pages and nothing else.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.responses import RedirectResponse, Response

from app.console.forms import act, confirm_first, facilitator_form, page
from app.core.errors import NotFound
from app.core.messages import N_, Said, said
from app.voting import meetings
from app.voting.models import Meeting
from app.web import auth, facilitators
from app.web.deps import RowId, ServicesDep

router = APIRouter()

ROLE_LABELS = {"meeting": "the whole meeting", "paper": "paper keying"}
# What making a link says, by its role (ROLE_LABELS).
MADE = {
    "meeting": N_(
        "Sign-in link for the whole meeting made. Give it to the helper now; it is not shown "
        "again: %(link)s"
    ),
    "paper": N_(
        "Sign-in link for paper keying made. Give it to the helper now; it is not shown again: "
        "%(link)s"
    ),
}


@router.get("/console/sessions")
async def sessions_page(request: Request, services: ServicesDep) -> Response:
    auth.require_facilitator(request)

    def read() -> dict[str, Any]:
        with services.read_session() as session:
            titles = {m.id: m.title for m in meetings.list_meetings(session)}
            return {"sessions": facilitators.list_sessions(session), "titles": titles}

    ctx = await asyncio.to_thread(read)
    grant = auth.grant_of(request)
    ctx["current"] = grant.session_id if grant else None
    return page(request, "console/sessions.html", ctx)


@router.post("/console/sessions/end-all")
async def end_all(request: Request, services: ServicesDep) -> Response:
    form = await facilitator_form(request)
    asked = await confirm_first(request, services, form, "end_all", back="/console/sessions")
    if asked is not None:
        return asked
    await asyncio.to_thread(facilitators.end_all, services.engine)
    auth.forget_facilitator(request)
    return RedirectResponse("/", status_code=303)


@router.post("/console/sessions/{session_id}/end")
async def end_one(request: Request, session_id: RowId, services: ServicesDep) -> Response:
    await facilitator_form(request)
    await asyncio.to_thread(facilitators.end, services.engine, session_id)
    grant = auth.grant_of(request)
    if grant is not None and grant.session_id == session_id:
        auth.forget_facilitator(request)
        return RedirectResponse("/", status_code=303)
    auth.session_of(request)["flash"] = "That browser is signed out."
    return RedirectResponse("/console/sessions", status_code=303)


@router.get("/console/{meeting_id}/access")
async def access_page(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    auth.require_facilitator(request)

    def read() -> dict[str, Any]:
        with services.read_session() as session:
            return {
                "meeting": meetings.get_meeting(session, meeting_id),
                "keys": facilitators.keys_of(session, meeting_id),
                "roles": ROLE_LABELS,
            }

    return page(request, "console/access.html", await asyncio.to_thread(read))


@router.post("/console/{meeting_id}/access")
async def create_key(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    form = await facilitator_form(request)
    role = str(form.get("role", ""))
    label = str(form.get("label", ""))

    def change(session: Session, meeting: Meeting) -> Said:
        key = facilitators.create_key(session, meeting, role, label)
        link = f"{services.base_url}/facilitator?key={key}"
        return said(MADE[role], link=link)

    return await act(request, services, meeting_id, change, "/access", archived_ok=True)


@router.post("/console/{meeting_id}/access/{key_id}/revoke")
async def revoke_key(
    request: Request, meeting_id: RowId, key_id: RowId, services: ServicesDep
) -> Response:
    form = await facilitator_form(request)

    def name(session: Session, meeting: Meeting) -> dict[str, object]:
        keys = facilitators.keys_of(session, meeting_id)
        return {"name": next((k.label for k, _ in keys if k.id == key_id), "")}

    asked = await confirm_first(
        request, services, form, "revoke_link", back="/access", meeting_id=meeting_id, describe=name
    )
    if asked is not None:
        return asked

    def change(session: Session, meeting: Meeting) -> Said:
        label = facilitators.revoke_key(session, meeting, key_id)
        return said(
            N_("Sign-in link “%(label)s” revoked; its browsers are signed out."), label=label
        )

    # Access is not the meeting's record: links can be revoked (and made) while it is archived.
    return await act(request, services, meeting_id, change, "/access", archived_ok=True)


@router.get("/console/{meeting_id}/paper")
async def paper_landing(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """Where a paper-keying helper lands: the paper page of the meeting's latest round."""
    auth.require_facilitator(request)

    def read() -> int | None:
        with services.read_session() as session:
            meetings.get_meeting(session, meeting_id)
            return facilitators.latest_round_number(session, meeting_id)

    number = await asyncio.to_thread(read)
    if number is None:
        raise NotFound("This meeting has no round yet. Reload this page once voting starts.")
    return RedirectResponse(f"/console/{meeting_id}/rounds/{number}/paper", status_code=303)
