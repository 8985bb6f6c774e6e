"""What every console page shares: the facilitator's form, the flash message, the change.

Every change in the console is a POST from the facilitator carrying the CSRF token
(`facilitator_form`), made in one transaction and ending in a redirect (`act`), so a reload
never repeats it; the message it flashes (a `Said`, app/core/messages.py) is shown once, on the
next page, in that page's language (`page`). A change to
an archived meeting is refused there, before it runs (`act`; app/voting/lifecycle.py). An
irreversible change first asks (`confirm_first`; the words: app/console/confirm.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi import Request
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile
from starlette.responses import RedirectResponse, Response

from app.console.confirm import CONFIRMATIONS
from app.core.errors import BadInput
from app.core.inputs import bounded_int
from app.core.messages import Said
from app.voting import meetings
from app.voting.models import Meeting
from app.web import auth, i18n
from app.web.rendering import render
from app.web.services import Services

# A flashed message lives in the (signed, base64) session cookie until the next page, and a
# browser keeps no cookie over 4 kB: bounded, so a long list (a paper count refusing many
# sheets) cannot outgrow it. The sentences past the budget are left out.
FLASH_TEXT_MAX = 200  # characters of one value
FLASH_SIZE_MAX = 1500  # characters of the msgids and values together


def flash(request: Request, message: Said) -> None:
    """Keep `message` in the session for the next page `page` renders (shown once, in the
    language of that page): its msgids and values as JSON, each string value cut to
    FLASH_TEXT_MAX, and only the sentences that fit in FLASH_SIZE_MAX (the first always)."""
    stored: list[list[object]] = []
    size = 0
    for msgid, params in message.parts:
        values = {k: v if isinstance(v, int) else v[:FLASH_TEXT_MAX] for k, v in params.items()}
        size += len(msgid) + sum(len(str(v)) for v in values.values())
        if stored and size > FLASH_SIZE_MAX:
            break
        stored.append([msgid, values])
    auth.session_of(request)["flash"] = stored


def flashed(request: Request) -> str | None:
    """The flashed message, if any, translated for this request (and forgotten)."""
    stored = auth.session_of(request).pop("flash", None)
    if isinstance(stored, str):  # flashed before messages were kept untranslated
        return stored
    if not isinstance(stored, list):
        return None
    _ = i18n.gettext_for(i18n.choose_locale(request))
    sentences: list[str] = []
    for part in stored:
        match part:
            case [str(msgid), dict(params)]:
                values = {str(k): v for k, v in params.items() if isinstance(v, int | str)}
                try:
                    sentences.append(_(msgid, **values))
                except (KeyError, TypeError, ValueError):  # a catalogue's placeholders drifted
                    sentences.append(msgid % values if values else msgid)
    return " ".join(sentences) or None


def page(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """Render a console template with the flashed message, if any (and forget it), and the
    confirmations its irreversible actions ask (console/_confirm.html)."""
    ctx = {"flash": flashed(request), "confirmations": CONFIRMATIONS, **context}
    return render(request, template, ctx, status_code=status_code)


async def confirm_first(
    request: Request,
    services: Services,
    form: FormData,
    action: str,
    *,
    back: str,
    meeting_id: int | None = None,
    describe: Callable[[Session, Meeting], dict[str, object]] | None = None,
    **params: object,
) -> Response | None:
    """None once the facilitator has confirmed `action` (the form carries `confirm`); until
    then the page that asks `CONFIRMATIONS[action]` with `params` and what `describe` reads
    of the meeting (status 200, nothing changed): its "Yes" posts the same fields to the same
    address with `confirm=yes`, its Cancel goes to `back` (like `act`'s: after
    /console/{meeting_id} when a meeting is given). With JavaScript the console asks in a
    dialog instead (app/static/console/confirm.js) and this page is never sent."""
    if checked(form, "confirm"):
        return None
    meeting = None
    if meeting_id is not None:

        def read() -> Meeting:
            with services.read_session() as session:
                found = meetings.get_meeting(session, meeting_id)
                if describe is not None:
                    params.update(describe(session, found))
                return found

        meeting = await asyncio.to_thread(read)
        back = f"/console/{meeting_id}{back}"
    fields = [
        (name, value)
        for name, value in form.multi_items()
        if isinstance(value, str) and name not in ("csrf", "confirm")
    ]
    return page(
        request,
        "console/confirm.html",
        {
            "meeting": meeting,
            "confirmation": CONFIRMATIONS[action],
            "params": params,
            "action": request.url.path,
            "fields": fields,
            "back": back,
        },
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
    change: Callable[[Session, Meeting], Said],
    back: str = "",
    *,
    archived_ok: bool = False,
) -> Response:
    """Run one change in one transaction, signal the room, flash its message, redirect.

    Raises:
        Conflict: the meeting is archived (read-only), unless `archived_ok` (a change that
            leaves the meeting's record alone: unarchiving, helpers' sign-in links).
    """

    def write() -> Said:
        with services.session() as session:
            meeting = meetings.get_meeting(session, meeting_id)
            if not archived_ok:
                meetings.require_active(meeting)
            return change(session, meeting)

    flash(request, await asyncio.to_thread(write))
    services.changed(meeting_id)
    return RedirectResponse(f"/console/{meeting_id}{back}", status_code=303)


def int_field(form: FormData, name: str, label: str) -> int:
    """A whole-number field, bounded where parsed (app/core/inputs.py); BadInput names `label`."""
    return bounded_int(form.get(name, ""), label)


def checked(form: FormData, name: str) -> bool:
    """Whether a checkbox (or a hidden true/false field) was ticked."""
    return form.get(name) in ("on", "true", "1", "yes")
