"""The console's voter tickets page (admission "tickets") and the printable card sheet.

Issue tickets, print them, check a ticket holder in with a keypad, approve or refuse a second
device, revoke or reissue a ticket (app/scrutiny/tickets.py has the rules). Facilitator only. The
page
names tickets by number and never shows a voter's pseudonym; the print sheet is the only page
that shows codes.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

import qrcode
import qrcode.image.svg
from fastapi import APIRouter, Request
from markupsafe import Markup
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from app.console.forms import act, confirm_first, facilitator_form, page
from app.core.errors import BadInput
from app.core.inputs import bounded_int
from app.core.messages import N_, Said, said
from app.core.vocab import ChannelPolicy
from app.scrutiny import tickets
from app.voting import meetings
from app.voting.models import Meeting
from app.web import auth
from app.web.deps import RowId, ServicesDep
from app.web.rendering import render
from app.web.services import Services

router = APIRouter(prefix="/console/{meeting_id}/tickets")

CARDS_PER_PAGE = 8  # 2 x 4 cards of 95 x 69 mm on an A4 page with 10 mm margins


def _context(services: Services, meeting_id: int) -> dict[str, Any]:
    with services.read_session() as session:
        meeting = meetings.get_meeting(session, meeting_id)
        rows = tickets.listing(session, meeting)
    return {
        "meeting": meeting,
        "uses_tickets": meeting.uses_tickets,
        "policy": meetings.voting_of(meeting).channel_policy,
        "rows": rows,
        "pending": [r for r in rows if r.pending_at is not None],
        "counts": {
            status: sum(r.status == status for r in rows)
            for status in ("unused", "used", "revoked")
        },
        "max_issue": tickets.MAX_ISSUE,
    }


@router.get("")
async def tickets_page(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    auth.require_facilitator(request)
    ctx = await asyncio.to_thread(_context, services, meeting_id)
    return page(request, "console/tickets.html", {"page": "tickets", **ctx})


def _number(value: object, what: str) -> int:
    return bounded_int(value, what)


@router.post("")
async def issue(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    form = await facilitator_form(request)
    count = _number(form.get("count", ""), "The number of tickets")

    def change(session: Session, meeting: Meeting) -> Said:
        made = tickets.issue(session, meeting, count)
        return said(
            N_("Issued tickets No. %(first)s to %(last)s. Print them next."),
            first=made[0].number,
            last=made[-1].number,
        )

    return await act(request, services, meeting_id, change, "/tickets")


@router.post("/checkin")
async def check_in(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    form = await facilitator_form(request)

    def change(session: Session, meeting: Meeting) -> Said:
        ticket, keypad = tickets.check_in(
            session,
            meeting,
            str(form.get("ticket", "")),
            str(form.get("keypad", "")),
            str(form.get("label", "")),
        )
        done = said(
            N_("Ticket No. %(number)s now votes with keypad %(keypad)s."),
            number=ticket.number,
            keypad=keypad.label,
        )
        if meeting.policy is ChannelPolicy.ONE_CHANNEL:
            return done + said(
                N_("Its phone ballots are refused from now on: one channel per voter.")
            )
        return done + said(N_("Its latest ballot on any channel counts."))

    return await act(request, services, meeting_id, change, "/tickets")


ACTIONS = {
    "approve": (
        tickets.approve,
        N_("Ticket No. %(n)s moved to the waiting device; the old one stops."),
    ),
    "refuse": (tickets.refuse, N_("Ticket No. %(n)s stays on its device; the request is refused.")),
    "revoke": (
        tickets.revoke,
        N_("Ticket No. %(n)s revoked: it no longer works and its voter's new ballots are refused."),
    ),
}


@router.post("/manage")
async def manage(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """The "Lost or misused ticket" form: a typed ticket number and the button pressed."""
    form = await facilitator_form(request)
    number = _number(form.get("number", ""), "The ticket number")
    return await _change(request, services, form, meeting_id, number, str(form.get("action", "")))


@router.post("/{number}/{action}")
async def ticket_action(
    request: Request, meeting_id: RowId, number: RowId, action: str, services: ServicesDep
) -> Response:
    form = await facilitator_form(request)
    return await _change(request, services, form, meeting_id, number, action)


# A revoked or replaced ticket never works again: these ask first (app/console/confirm.py).
IRREVERSIBLE = {"revoke": "revoke_ticket", "reissue": "reissue_ticket"}


async def _change(
    request: Request,
    services: Services,
    form: FormData,
    meeting_id: int,
    number: int,
    action: str,
) -> Response:
    if action in IRREVERSIBLE:
        asked = await confirm_first(
            request,
            services,
            form,
            IRREVERSIBLE[action],
            back="/tickets",
            meeting_id=meeting_id,
            n=number,
        )
        if asked is not None:
            return asked

    def change(session: Session, meeting: Meeting) -> Said:
        if action == "reissue":
            new = tickets.reissue(session, meeting, number)
            return said(
                N_(
                    "Ticket No. %(n)s replaced by ticket No. %(new)s, for the same voter. "
                    "Print No. %(new)s and hand it over; the old card no longer works."
                ),
                n=number,
                new=new.number,
            )
        if action not in ACTIONS:
            raise BadInput(f"Unknown ticket action {action!r}.")
        run, done = ACTIONS[action]
        run(session, meeting, number)
        return said(done, n=number)

    return await act(request, services, meeting_id, change, "/tickets")


def qr_svg(text: str) -> Markup:
    """`text` as a QR code, an inline <svg> element sized by CSS."""
    img = qrcode.make(
        text,
        image_factory=qrcode.image.svg.SvgPathFillImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=2,
    )
    buf = io.BytesIO()
    img.save(buf)
    svg = buf.getvalue().decode()
    svg = svg[svg.index("<svg") :]  # no XML declaration inside HTML
    return Markup(svg)  # made here from a URL the server built, never from input


def _optional_number(request: Request, name: str) -> int | None:
    value = request.query_params.get(name, "").strip()
    if not value:
        return None
    number = _number(value, f"'{name}'")
    if number < 1:
        raise BadInput(f"'{name}' must be a ticket number, 1 or more.")
    return number


@router.get("/print")
async def print_sheet(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """The cards as A4 sheets to cut out: `?from=1&to=40`, else every unused ticket."""
    auth.require_facilitator(request)
    first, last = _optional_number(request, "from"), _optional_number(request, "to")
    if first is not None and last is not None and first > last:
        raise BadInput(f"'from' ({first}) must not be after 'to' ({last}).")

    def read() -> dict[str, Any]:
        with services.read_session() as session:
            meeting = meetings.get_meeting(session, meeting_id)
            chosen = tickets.printable(session, meeting, first, last)
        cards = [
            {
                "number": t.number,
                "code": tickets.shown(t.code),
                "qr": qr_svg(f"{services.base_url}/t/{t.code}"),
            }
            for t in chosen
        ]
        return {
            "meeting": meeting,
            "pages": [cards[i : i + CARDS_PER_PAGE] for i in range(0, len(cards), CARDS_PER_PAGE)],
            "count": len(cards),
            "base_url": services.base_url,
            "first": first,
            "last": last,
        }

    return render(request, "print/tickets_print.html", await asyncio.to_thread(read))
