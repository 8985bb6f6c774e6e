"""The Charter page's amendments (issue 17): the switch, proposing, moderating.

`/console/{id}/charter/amendments/...` (app/voting/charter_amendments.py holds the rules):
- `open`: phones may propose amendments (`open=1`) or not (`open=0`)
- `propose`: an amendment the facilitator types (from the floor), into the queue
- `{key}/accept`: put it to the vote (asked first), its text corrected and its Welsh added
  if need be: a new charter version; refused while a charter round is open
- `{key}/decline`: not put to the vote, with a reason its phone shows (asked first)
- `{key}/merge`: a duplicate merged `into` another proposal to the same clause (asked first)

Every change is a POST with the CSRF token, one transaction, a redirect to the page's
amendments (`forms.act`); a refusal shows the Charter page again with the problem, nothing
changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.responses import Response

from app.console.charter import PAGE, _context
from app.console.forms import act, confirm_first, facilitator_form, page
from app.core.errors import BadInput, Conflict, CovoteError, InvalidForm, NotFound
from app.core.messages import N_, Said, said
from app.rules.charter_amend import MAX_REASON, MAX_TEXT
from app.voting import charter_amendments as ca
from app.voting.models import Meeting
from app.web import i18n
from app.web.deps import RowId, ServicesDep
from app.web.services import Services

router = APIRouter()
AMENDMENTS = PAGE + "/amendments"
BACK = "/charter#amendments-h"
KEY_MAX = 32  # charter_doc.KEY


def _field(form_value: object, most: int) -> str:
    """A text field cut to a little past `most`: over the bound still reads as too long."""
    return form_value[: most * 2 + 16] if isinstance(form_value, str) else ""


async def _refused(
    request: Request, services: Services, meeting_id: int, problems: list[CovoteError], status: int
) -> Response:
    """The Charter page again with the refusal listed (its status), nothing changed."""
    ctx = await asyncio.to_thread(_context, request, services, meeting_id, None, None)
    translate = i18n.gettext_for(i18n.choose_locale(request))
    ctx["problems"] = [translate(e.msgid, **e.params) for e in problems]
    return page(request, "console/charter.html", ctx, status_code=status)


async def _acting(
    request: Request,
    services: Services,
    meeting_id: int,
    change: Callable[[Session, Meeting], Said],
) -> Response:
    """`forms.act` for `change`, or the page with its refusal."""
    try:
        return await act(request, services, meeting_id, change, BACK)
    except InvalidForm as e:
        return await _refused(
            request, services, meeting_id, [p for _, p in e.problems], e.status_code
        )
    except (BadInput, Conflict, NotFound) as e:
        return await _refused(request, services, meeting_id, [e], e.status_code)


@router.post(AMENDMENTS + "/open")
async def set_open(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """Open (`open=1`) or close (`open=0`) amendments from phones."""
    form = await facilitator_form(request)
    is_on = form.get("open") == "1"

    def change(session: Session, meeting: Meeting) -> Said:
        ca.set_open(session, meeting, is_on)
        if is_on:
            return said(N_("Phones can propose amendments now."))
        return said(N_("Phones can no longer propose amendments."))

    return await _acting(request, services, meeting_id, change)


@router.post(AMENDMENTS + "/propose")
async def propose(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """An amendment typed in the console: the clause, the wording and, optionally, its Welsh."""
    form = await facilitator_form(request)
    clause = _field(form.get("clause"), KEY_MAX)
    text = _field(form.get("text"), MAX_TEXT)
    text_cy = _field(form.get("text_cy"), MAX_TEXT)

    def change(session: Session, meeting: Meeting) -> Said:
        assert meeting.id is not None
        charter = ca.current(session, meeting.id)
        draft = ca.parse_draft(charter, clause=clause, text=text, text_cy=text_cy, prefix="new-")
        row = ca.propose_console(session, meeting, draft)
        return said(N_("Amendment %(key)s is in the queue."), key=row.key)

    return await _acting(request, services, meeting_id, change)


@router.post(AMENDMENTS + "/{key}/accept")
async def accept(request: Request, meeting_id: RowId, key: str, services: ServicesDep) -> Response:
    """Put a proposal to the vote (asked first): a new version with it beside its clause."""
    form = await facilitator_form(request)
    key = key[:KEY_MAX]
    text = _field(form.get("text"), MAX_TEXT)
    text_cy = _field(form.get("text_cy"), MAX_TEXT)
    asked = await confirm_first(
        request, services, form, "accept_amendment", back=BACK, meeting_id=meeting_id, key=key
    )
    if asked is not None:
        return asked

    def change(session: Session, meeting: Meeting) -> Said:
        saved = ca.accept(session, meeting, key, text, text_cy)
        return said(
            N_("Amendment %(key)s is accepted: version %(n)s puts it to the vote."),
            key=key,
            n=saved.number,
        )

    return await _acting(request, services, meeting_id, change)


@router.post(AMENDMENTS + "/{key}/decline")
async def decline(request: Request, meeting_id: RowId, key: str, services: ServicesDep) -> Response:
    """Decline a proposal with a reason (asked first)."""
    form = await facilitator_form(request)
    key = key[:KEY_MAX]
    raw = _field(form.get("reason"), MAX_REASON)
    try:
        reason = ca.parse_reason(raw)
    except InvalidForm as e:
        return await _refused(
            request, services, meeting_id, [p for _, p in e.problems], e.status_code
        )
    asked = await confirm_first(
        request, services, form, "decline_amendment", back=BACK, meeting_id=meeting_id, key=key
    )
    if asked is not None:
        return asked

    def change(session: Session, meeting: Meeting) -> Said:
        ca.decline(session, meeting, key, reason)
        return said(N_("Amendment %(key)s is declined."), key=key)

    return await _acting(request, services, meeting_id, change)


@router.post(AMENDMENTS + "/{key}/merge")
async def merge(request: Request, meeting_id: RowId, key: str, services: ServicesDep) -> Response:
    """Merge a duplicate into another proposal to the same clause (asked first)."""
    form = await facilitator_form(request)
    key = key[:KEY_MAX]
    into = _field(form.get("into"), KEY_MAX)[:KEY_MAX]
    asked = await confirm_first(
        request,
        services,
        form,
        "merge_amendment",
        back=BACK,
        meeting_id=meeting_id,
        key=key,
        into=into,
    )
    if asked is not None:
        return asked

    def change(session: Session, meeting: Meeting) -> Said:
        target = ca.merge(session, meeting, key, into)
        return said(N_("Amendment %(key)s is merged into %(into)s."), key=key, into=target.key)

    return await _acting(request, services, meeting_id, change)
