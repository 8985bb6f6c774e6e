"""The console's paper ballot pages for one round (app/scrutiny/paper.py and paper_keying.py
hold the rules).

    GET  .../paper                status: keyed once, mismatches, matched, counted; Count button
    GET  .../paper/print          printable sheets (?from=1&count=20[&lang=en+cy]), one A4 page
                                  each (a survey's questionnaire: several)
    GET  .../paper/key/{1|2}      the keying form of keying 1 or 2 (one sheet at a time)
    POST .../paper/key/{1|2}      save that keying's entry for a sheet
    POST .../paper/count          count the matched sheets (see paper.py, three steps)

Facilitator only; POSTs carry the CSRF token and end in a redirect. A keying page shows only
its own keying's sheet numbers, never the other keying's values.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.responses import Response

from app.console.forms import act, facilitator_form, page
from app.core.errors import BadInput, CovoteError, NotFound
from app.core.inputs import bounded_int
from app.core.messages import N_, Said, said
from app.core.shapes import ScaleView
from app.core.vocab import Channel
from app.live import protocol
from app.scrutiny import paper, paper_keying
from app.voting import kinds, meetings, rounds
from app.voting.ballots import CastRequest
from app.voting.models import Meeting
from app.web import auth, i18n
from app.web.deps import RowId, ServicesDep
from app.web.rendering import render
from app.web.services import Services

router = APIRouter(prefix="/console/{meeting_id}/rounds/{number}/paper")

MAX_PRINT = 500  # sheets per print job: a ream; more is several jobs


def _keying(value: str) -> int:
    if value not in ("1", "2"):
        raise NotFound("There are two keyings: .../paper/key/1 and .../paper/key/2.")
    return int(value)


def _context(session: Session, meeting_id: int, number: int) -> dict[str, Any]:
    meeting = meetings.get_meeting(session, meeting_id)
    rnd = rounds.get_round(session, meeting, number)
    kind = kinds.kind_of(rnd)
    items = kind.items(session, meeting_id, rnd.proposal_keys)
    return {
        "meeting": meeting,
        "round": rnd,
        # The round's items as its kind shows them, and each answer's label (a msgid) by item.
        "items": [kind.item_view(i) for i in items],
        "labels": {i.key: _answer_labels(i.scale.describe()) for i in items},
        "segments": meetings.segments_of(session, meeting_id),
        "tickets": meeting.uses_tickets,
        "ranges": paper_keying.sheet_ranges,
    }


def _answer_labels(scale: ScaleView) -> dict[str, str]:
    return {a["value"]: a["label"] for a in scale.get("answers", [])}


def _read(services: Services, meeting_id: int, number: int, keying: int | None = None) -> Any:
    """The page's context; with `keying`, that keying's sheets, else the round's status."""
    with services.read_session() as session:
        ctx = _context(session, meeting_id, number)
        if keying is None:
            ctx["status"] = paper.status(session, ctx["meeting"], ctx["round"])
        else:
            ctx["keyed"] = paper.keyed_sheets(session, ctx["round"], keying)
        return {**ctx, "keying": keying}


@router.get("")
async def paper_status(
    request: Request, meeting_id: RowId, number: RowId, services: ServicesDep
) -> Response:
    auth.require_facilitator(request)
    ctx = await asyncio.to_thread(_read, services, meeting_id, number)
    return page(request, "console/paper.html", ctx)


@router.get("/print")
async def paper_print(
    request: Request, meeting_id: RowId, number: RowId, services: ServicesDep
) -> Response:
    auth.require_facilitator(request)
    first = _query_number(request, "from", "1", "The first sheet (from)", paper_keying.MAX_SHEET)
    count = _query_number(request, "count", "20", "The number of sheets (count)", MAX_PRINT)
    if first + count - 1 > paper_keying.MAX_SHEET:
        raise BadInput(f"Sheet numbers stop at {paper_keying.MAX_SHEET}: print fewer sheets.")

    def read() -> dict[str, Any]:
        with services.read_session() as session:
            return _context(session, meeting_id, number)

    ctx = await asyncio.to_thread(read)
    # `?lang=en+cy` prints the sheets in English with Welsh beside it (where the kind's sheet
    # does: the survey's questionnaire); the page's own language is the first.
    second = next(iter(i18n.requested(request.query_params.get("lang"))[1:]), None)
    sheets = range(first, first + count)
    return render(request, "print/paper_print.html", {**ctx, "sheets": sheets, "second": second})


def _query_number(request: Request, name: str, default: str, what: str, most: int) -> int:
    return bounded_int(request.query_params.get(name, default), what, low=1, high=most)


@router.get("/key/{keying}")
async def keying_page(
    request: Request, meeting_id: RowId, number: RowId, keying: str, services: ServicesDep
) -> Response:
    auth.require_facilitator(request)
    ctx = await asyncio.to_thread(_read, services, meeting_id, number, _keying(keying))
    return page(request, "console/paper.html", ctx)


@router.post("/key/{keying}")
async def key_sheet(
    request: Request, meeting_id: RowId, number: RowId, keying: str, services: ServicesDep
) -> Response:
    form = await facilitator_form(request)
    which = _keying(keying)
    sheet_form = paper_keying.SheetForm(
        sheet=str(form.get("sheet", "")),
        ticket=str(form.get("ticket", "")),
        segments=tuple(str(s) for s in form.getlist("segment")),
        marks=protocol.form_marks(form.multi_items()),
    )

    def change(session: Session, meeting: Meeting) -> Said:
        entry, replaced = paper.key(session, meeting, number, which, sheet_form)
        saved = said(
            N_("Sheet %(sheet)s saved (keying %(which)s)."), sheet=entry.sheet, which=which
        )
        if replaced:
            return saved + said(N_("It replaces this keying's earlier entry for that sheet."))
        return saved

    return await act(request, services, meeting_id, change, f"/rounds/{number}/paper/key/{which}")


@router.post("/count")
async def count(
    request: Request, meeting_id: RowId, number: RowId, services: ServicesDep
) -> Response:
    """Count the matched sheets: assign voters and commit, cast each sheet's ballot, then log."""
    await facilitator_form(request)

    def assign() -> tuple[list[paper.SheetBallot], list[paper.Refusal], int]:
        with services.session() as session:
            meeting = meetings.get_meeting(session, meeting_id)
            casts, refused = paper.assign_voters(session, meeting, number)
            return casts, refused, rounds.get_round(session, meeting, number).id or 0

    casts, refused, round_id = await asyncio.to_thread(assign)
    cast: list[int] = []
    for sheet in casts:
        try:
            await services.cast(
                CastRequest(
                    meeting_id,
                    round_id,
                    sheet.voter_id,
                    paper.ballot_uid(number, sheet.sheet),
                    sheet.marks,
                    channel=Channel.PAPER,
                )
            )
        except CovoteError as e:
            refused.append(paper.Refusal(sheet.sheet, e.message))
        else:
            cast.append(sheet.sheet)

    def change(session: Session, meeting: Meeting) -> Said:
        counted = paper.record_counted(session, meeting, number, cast, [r.sheet for r in refused])
        if not counted and not refused:
            return said(N_("There are no matching sheets waiting to be counted."))
        if counted:
            done = said(
                N_("Counted %(n)s sheet(s): %(sheets)s."),
                n=len(counted),
                sheets=paper_keying.sheet_ranges(counted),
            )
        else:
            done = said(N_("Counted %(n)s sheet(s)."), n=len(counted))
        for r in sorted(refused, key=lambda r: r.sheet):
            # The reason is the scrutiny's English (also on the paper status page).
            done += said(N_("Sheet %(sheet)s refused: %(reason)s"), sheet=r.sheet, reason=r.reason)
        return done

    return await act(request, services, meeting_id, change, f"/rounds/{number}/paper")
