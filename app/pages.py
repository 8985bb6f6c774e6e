"""Attendee and projector pages (server-rendered; they work before any JavaScript runs).

- `/`            type the short code shown on the screen
- `/m/{code}`    the phone page: joins this browser as a voter, segments, the ballot form
- `/p/{code}`    the projector: join QR and code, turnout, results when revealed
The forms here post back to these pages; the phone's JavaScript saves over the WebSocket
instead and falls back to /api when the socket is down.
"""

from __future__ import annotations

import asyncio
import io
import uuid
from typing import Any

import qrcode
import qrcode.image.svg
from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from app import auth
from app.ballots import CastRequest
from app.deps import Services, ServicesDep, attendee, join_attendee, render
from app.errors import BadInput, NotFound, NotJoined
from app.i18n import N_
from app.meetings import meeting_by_code, normalise_code
from app.models import Voter
from app.tally import Mark
from app.voters import declare_segments, you_view

router = APIRouter()


@router.get("/")
async def home(request: Request) -> Response:
    return render(request, "join.html", {"code": ""})


@router.get("/join")
async def join_by_code(request: Request, services: ServicesDep, code: str = "") -> Response:
    code = normalise_code(code)
    if not code:
        error = N_("Type the code on the screen.")
        return render(request, "join.html", {"code": "", "error": error})

    def exists() -> bool:
        with services.session() as session:
            try:
                meeting_by_code(session, code)
            except NotFound:
                return False
            return True

    if not await asyncio.to_thread(exists):
        error = N_("No meeting has the code %(code)s. Check the code on the screen.")
        context = {"code": code, "error": error, "error_args": {"code": code}}
        return render(request, "join.html", context, status_code=404)
    return RedirectResponse(f"/m/{code}", status_code=303)


def _phone_context(
    request: Request, services: Services, code: str, *, join_if_new: bool
) -> dict[str, Any]:
    with services.session() as session:
        voter: Voter | None
        if join_if_new:
            meeting, voter, joined = join_attendee(request, session, code)
        else:
            (meeting, voter), joined = attendee(request, session, code), False
        assert meeting.id is not None
        you = you_view(session, meeting.id, voter)
    state = services.room_state(meeting.id)
    if joined:  # only a new voter changes what the room sees (the present count)
        services.changed(meeting.id)
    rnd = state["round"]
    ballot = you["ballot"]
    marks = ballot["marks"] if ballot and rnd and ballot["round"] == rnd["id"] else {}
    return {
        "state": state,
        "you": you,
        "marks": marks,
        "saved": bool(marks),
        "new_ballot_id": uuid.uuid4().hex,
    }


@router.get("/m/{code}")
async def phone(request: Request, code: str, services: ServicesDep) -> Response:
    ctx = await asyncio.to_thread(_phone_context, request, services, code, join_if_new=True)
    return render(request, "phone.html", ctx)


@router.get("/m/{code}/ballot")
async def phone_ballot_fragment(request: Request, code: str, services: ServicesDep) -> Response:
    """The ballot section alone, for the phone's script to swap in when a round opens/closes."""
    ctx = await asyncio.to_thread(_phone_context, request, services, code, join_if_new=False)
    return render(request, "_ballot.html", ctx)


@router.post("/m/{code}/segments")
async def phone_segments(request: Request, code: str, services: ServicesDep) -> Response:
    form = await request.form()
    auth.check_csrf(request, form.get("csrf"))
    keys = [str(v) for v in form.getlist("segment")]

    def write() -> str:
        with services.session() as session:
            meeting, voter = attendee(request, session, code)
            if voter is None:
                raise NotJoined(N_("Open the meeting's join link again to join."))
            declare_segments(session, meeting, voter, keys)
            return meeting.code

    return RedirectResponse(f"/m/{await asyncio.to_thread(write)}", status_code=303)


@router.post("/m/{code}/ballot")
async def phone_ballot(request: Request, code: str, services: ServicesDep) -> Response:
    """The no-JavaScript way to vote: the whole ballot as a form."""
    form = await request.form()
    auth.check_csrf(request, form.get("csrf"))
    try:
        round_id = int(str(form.get("round", "")))
    except ValueError:
        raise BadInput(N_("The form is missing its round; reload the page.")) from None
    marks: dict[str, Mark] = {}
    for name, value in form.multi_items():
        if name.startswith("mark:") and value:
            try:
                marks[name[5:]] = Mark(str(value))
            except ValueError:
                raise BadInput(
                    N_("%(value)s is not a mark (want, dont_want or neutral)."), value=repr(value)
                ) from None

    def who() -> tuple[int, int, str]:
        with services.session() as session:
            meeting, voter = attendee(request, session, code)
            if voter is None or voter.id is None or meeting.id is None:
                raise NotJoined(N_("Open the meeting's join link again to join."))
            return meeting.id, voter.id, meeting.code

    meeting_id, voter_id, mcode = await asyncio.to_thread(who)
    ballot_uid = str(form.get("ballot_id") or uuid.uuid4().hex)
    await services.cast(CastRequest(meeting_id, round_id, voter_id, ballot_uid, marks))
    return RedirectResponse(f"/m/{mcode}?saved=1#ballot", status_code=303)


@router.get("/p/{code}")
async def projector(request: Request, code: str, services: ServicesDep) -> Response:
    def read() -> dict[str, Any]:
        with services.session() as session:
            meeting = meeting_by_code(session, code)
            assert meeting.id is not None
        return services.room_state(meeting.id)

    state = await asyncio.to_thread(read)
    return render(request, "projector.html", {"state": state})


@router.get("/m/{code}/qr.svg")
async def join_qr(code: str, services: ServicesDep) -> Response:
    code = normalise_code(code)

    def make() -> bytes:
        with services.session() as session:
            meeting_by_code(session, code)
        img = qrcode.make(
            services.join_url(code),
            image_factory=qrcode.image.svg.SvgPathFillImage,
            error_correction=qrcode.constants.ERROR_CORRECT_M,
            border=2,
        )
        buf = io.BytesIO()
        img.save(buf)
        return buf.getvalue()

    svg = await asyncio.to_thread(make)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "max-age=300"})
