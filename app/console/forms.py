"""What every console page shares: the facilitator's form, the flash message, the change.

Every change in the console is a POST from the facilitator carrying the CSRF token
(`facilitator_form`), made in one transaction and ending in a redirect (`act`), so a reload
never repeats it; the message it flashes is shown once, on the next page (`page`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi import Request
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile
from starlette.responses import RedirectResponse, Response

from app.core.errors import BadInput
from app.voting import meetings
from app.voting.models import Meeting
from app.web import auth
from app.web.deps import Services, render


def flash(request: Request, message: str) -> None:
    """Keep `message` in the session for the next page `page` renders (shown once)."""
    auth.session_of(request)["flash"] = message


def page(request: Request, template: str, context: dict[str, Any]) -> Response:
    """Render a console template with the flashed message, if any (and forget it)."""
    return render(
        request, template, {"flash": auth.session_of(request).pop("flash", None), **context}
    )


async def facilitator_form(request: Request) -> FormData:
    """The posted form, once the sender is the facilitator and the CSRF token matches."""
    auth.require_facilitator(request)
    form = await request.form()
    auth.check_csrf(request, form.get("csrf"))
    return form


async def upload_text(form: FormData, field: str) -> tuple[str, str]:
    """(file name, text) of the file uploaded in `field`, UTF-8 with or without a BOM.

    Raises:
        BadInput: no file was chosen, or it is not UTF-8 text.
    """
    upload = form.get(field)
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise BadInput("Choose a file to import.")
    data = await upload.read()
    await upload.close()
    try:
        return upload.filename, data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput(f"{upload.filename} is not UTF-8 text.") from None


async def act(
    request: Request,
    services: Services,
    meeting_id: int,
    change: Callable[[Session, Meeting], str],
    back: str = "",
) -> Response:
    """Run one change in one transaction, signal the room, flash its message, redirect."""

    def write() -> str:
        with services.session() as session:
            return change(session, meetings.get_meeting(session, meeting_id))

    flash(request, await asyncio.to_thread(write))
    services.changed(meeting_id)
    return RedirectResponse(f"/console/{meeting_id}{back}", status_code=303)


def checked(form: FormData, name: str) -> bool:
    """Whether a checkbox (or a hidden true/false field) was ticked."""
    return form.get(name) in ("on", "true", "1", "yes")
