"""Attendee and projector pages (server-rendered; they work before any JavaScript runs).

- `/`            type the short code shown on the screen
- `/m/{code}`    the phone page: segments and the ballot form; before this browser has joined, a
                 Join button (POST `/m/{code}/join`: opening a page never makes a voter); in a
                 tickets meeting it asks for the code on the voter's ticket instead
- `/t/{code}`    a voter ticket (its QR code opens this): use it on this device
(app/scrutiny/tickets.py)
- `/p/{code}`    the projector: join QR and code, turnout, results when revealed
The forms here post back to these pages; the phone's JavaScript saves over the WebSocket
instead and falls back to /api when the socket is down.
"""

from __future__ import annotations

import asyncio
import io
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, cast

import qrcode
import qrcode.image.svg
from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from app.core import bounds
from app.core.errors import BadInput, Conflict, CovoteError, NotFound, TooManyRequests
from app.core.messages import N_
from app.core.shapes import Snapshot, SurveyView
from app.live import protocol
from app.record import survey_charts
from app.record.figure import Chart
from app.scrutiny import tickets
from app.voting import charter_amendments, surveys
from app.voting.ballots import CastRequest
from app.voting.meetings import meeting_by_code, normalise_code
from app.voting.models import Voter
from app.voting.voters import declare_segments, you_view
from app.web import auth, i18n
from app.web.attendees import attendee, join_browser, not_joined
from app.web.deps import ServicesDep
from app.web.netinfo import channel_of, client_address
from app.web.ratelimit import Limit
from app.web.rendering import TEMPLATES, render, render_shared
from app.web.services import Services

router = APIRouter()


@router.get("/")
async def home(request: Request) -> Response:
    return render(request, "phone/join.html", {"code": ""})


@router.get("/join")
async def join_by_code(request: Request, services: ServicesDep, code: str = "") -> Response:
    code = normalise_code(code)
    if not code:
        error = N_("Type the code on the screen.")
        return render(request, "phone/join.html", {"code": "", "error": error})
    # A lookup per request, like the API's: a script trying meeting codes is limited alike.
    await services.limiter.hit(Limit.API_PER_ADDRESS, client_address(request))

    def meeting_page() -> str | None:
        with services.read_session() as session:
            try:
                return f"/m/{meeting_by_code(session, code).code}"
            except NotFound:
                return None

    target = await asyncio.to_thread(meeting_page)
    if target is None and tickets.looks_like_code(code):
        # A ticket's code typed here: on to the ticket's page without looking it up, so this
        # page never tells a real ticket code from a wrong one (/t/ answers both alike).
        target = f"/t/{tickets.normalise(code)}"
    if target is None:
        error = N_("No meeting has the code %(code)s. Check the code on the screen.")
        context = {"code": code, "error": error, "error_args": {"code": code}}
        return render(request, "phone/join.html", context, status_code=404)
    return RedirectResponse(target, status_code=303)


def _phone_context(
    request: Request, services: Services, code: str, *, ask_to_join: bool
) -> dict[str, Any]:
    """What the phone page shows. Reads only: a browser that has not joined gets the join
    form (`ask_to_join`) or, in a tickets meeting, the form for its ticket's code."""
    with services.read_session() as session:
        voter: Voter | None
        meeting, voter = attendee(request, session, code)
        if ask_to_join and voter is None:
            if meeting.uses_tickets:
                # No voter without a ticket: the page asks for its code instead.
                why = not_joined(request, session, meeting, tickets.NO_TICKET).msgid
                return {"ticket_entry": _entry_context(meeting.code, meeting.title, why)}
            return {"join": meeting}
        assert meeting.id is not None
        you = you_view(session, meeting.id, voter)
        amending = charter_amendments.is_open(session, meeting.id)
    state = services.phone_state(meeting.id)
    rnd = state["round"]
    ballot = you["ballot"]
    marks = ballot["marks"] if ballot and rnd and ballot["round"] == rnd["id"] else {}
    return {
        "state": state,
        "you": you,
        "marks": marks,
        "saved": bool(marks),
        "new_ballot_id": uuid.uuid4().hex,
        "revoked": voter is not None and bool(voter.disabled),  # its ticket was revoked
        "amending": amending,  # the facilitator takes amendments to the charter from phones
    }


@router.get("/m/{code}")
async def phone(request: Request, code: str, services: ServicesDep) -> Response:
    # Read and drawn in a page thread, as are the projector page and the ballot section:
    # on the event loop, drawing (~2.5-3 ms a page) held up every ballot's ack behind it
    # (scripts/bench, reads: ack p99 x9 while 200 pages/s were viewed).
    def page() -> Response:
        ctx = _phone_context(request, services, code, ask_to_join=True)
        if "ticket_entry" in ctx:
            return render(request, "phone/ticket.html", ctx["ticket_entry"])
        if "join" in ctx:
            return render(request, "phone/phone_join.html", {"meeting": ctx["join"]})
        return render(request, "phone/phone.html", ctx)

    return await services.in_page_thread(page)


@router.post("/m/{code}/join")
async def phone_join(request: Request, code: str, services: ServicesDep) -> Response:
    """The join button: this browser becomes a voter of the meeting (rate-limited)."""
    form = await request.form()
    auth.check_csrf(request, form.get("csrf"))
    _, meeting_code = await join_browser(request, services, code)
    return RedirectResponse(f"/m/{meeting_code}", status_code=303)


@router.get("/m/{code}/ballot")
async def phone_ballot_fragment(request: Request, code: str, services: ServicesDep) -> Response:
    """The open-round bar and the ballot section, for the phone's script to swap in when a
    round opens or closes."""

    def section() -> Response:
        ctx = _phone_context(request, services, code, ask_to_join=False)
        return render(request, "phone/ballot_fragment.html", ctx)

    return await services.in_page_thread(section)


def ballot_section(state: Snapshot, locale: str) -> str:
    """The open-round bar and the ballot section for `state` in `locale`, as the hub sends them
    to every phone in its snapshots (blocking: the hub calls it in a worker thread). The same
    template as GET /m/{code}/ballot, drawn for no one in particular: no marks, no CSRF token,
    no ballot id; the phone's script fills in its own (phone.js)."""
    context = {
        "_": i18n.gettext_for(locale),
        "locale": locale,
        "csrf": "",
        "state": state,
        "marks": {},
        "saved": False,
        "new_ballot_id": "",
    }
    return TEMPLATES.env.get_template("phone/ballot_fragment.html").render(context)


@router.post("/m/{code}/segments")
async def phone_segments(request: Request, code: str, services: ServicesDep) -> Response:
    form = await request.form()
    auth.check_csrf(request, form.get("csrf"))
    await services.limiter.hit(Limit.API_PER_ADDRESS, client_address(request))  # like the API's
    keys = [str(v) for v in form.getlist("segment")]

    def write() -> str:
        with services.session() as session:
            meeting, voter = attendee(request, session, code)
            if voter is None:
                raise not_joined(
                    request, session, meeting, N_("Open the meeting's join link again to join.")
                )
            declare_segments(session, meeting, voter, keys)
            return meeting.code

    return RedirectResponse(f"/m/{await asyncio.to_thread(write)}", status_code=303)


@router.post("/m/{code}/ballot")
async def phone_ballot(request: Request, code: str, services: ServicesDep) -> Response:
    """The no-JavaScript way to vote: the whole ballot as a form."""
    form = await request.form()
    auth.check_csrf(request, form.get("csrf"))
    round_id = bounds.db_id(str(form.get("round", "")))
    if round_id is None:
        raise BadInput(N_("The form is missing its round; reload the page."))
    # The answers as posted; the ballot path checks each with its item's scale.
    marks = protocol.form_marks(form.multi_items())

    def who() -> tuple[int, int, str]:
        with services.session() as session:
            meeting, voter = attendee(request, session, code)
            if voter is None or voter.id is None or meeting.id is None:
                raise not_joined(
                    request, session, meeting, N_("Open the meeting's join link again to join.")
                )
            return meeting.id, voter.id, meeting.code

    meeting_id, voter_id, mcode = await asyncio.to_thread(who)
    ballot_uid = str(form.get("ballot_id") or uuid.uuid4().hex)
    await services.device_cast(
        CastRequest(
            meeting_id, round_id, voter_id, ballot_uid, marks, device_key=auth.device_key(request)
        )
    )
    return RedirectResponse(f"/m/{mcode}?saved=1#ballot", status_code=303)


@router.get("/p/{code}")
async def projector(request: Request, code: str, services: ServicesDep) -> Response:
    def page() -> Response:
        with services.read_session() as session:
            meeting = meeting_by_code(session, code)
            assert meeting.id is not None
        state = services.page_state(meeting.id, exact=auth.grant_of(request) is not None)
        # The same for every viewer: drawn once per state and language (scripts/bench, reads).
        return render_shared(request, "projector/projector.html", {"state": state}, state)

    return await services.in_page_thread(page)


@router.get("/p/{code}/charts")
async def projector_charts(request: Request, code: str, services: ServicesDep) -> Response:
    """The charts of the round the projector shows, once its results are shown (a survey's:
    service map, need, co-production; a charter review's: the scorecard and the history), drawn
    on the server in the page's language as a
    fragment the projector pages through (projector.js `renderCharts`). The same for every
    viewer, drawn once per state and language.

    Raises:
        NotFound: no such meeting, or its results are not shown or have no charts.
    """

    def page() -> Response:
        with services.read_session() as session:
            meeting = meeting_by_code(session, code)
            assert meeting.id is not None
        state = services.page_state(meeting.id)
        results = state["results"]
        if results is not None and "review" in results:  # a charter review's scorecard
            review = {"results": results}
            return render_shared(request, "projector/review_charts.html", review, state)
        if results is None or "survey" not in results:
            raise NotFound(N_("This meeting shows no charts now."))
        view = cast(SurveyView, results)
        meeting_id = meeting.id

        def area_map() -> Chart | None:
            """Drawn only when the page is (render_shared serves it as drawn until the state
            changes): the survey's boundaries are read then."""
            with services.read_session() as session:
                drawn = surveys.boundaries_of(session, meeting_id)
            if drawn is None:
                return None
            _ = i18n.gettext_for(i18n.choose_locale(request))
            return survey_charts.default_area_map(
                view["survey"],
                view["labels"],
                drawn.areas,
                drawn.key_property,
                drawn.match,
                _,
                _.locale,
            )

        context = {"results": results, "area_map": area_map}
        return render_shared(request, "projector/charts.html", context, state)

    return await asyncio.to_thread(page)


@router.get("/m/{code}/qr.svg")
async def join_qr(code: str, services: ServicesDep) -> Response:
    code = normalise_code(code)

    def make() -> bytes:
        with services.read_session() as session:
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


# --- voter tickets (admission "tickets", app/scrutiny/tickets.py) ---------------------------------

# The waiting page reloads itself this often (seconds) until the facilitator decides.
WAITING_REFRESH_S = 5


def _entry_context(
    meeting_code: str = "", meeting_title: str = "", notice: str | None = None
) -> dict[str, Any]:
    """ticket.html asking for a ticket's code (on a tickets meeting's phone page, or again
    after a wrong code)."""
    return {
        "state": "enter",
        "meeting_code": meeting_code,
        "meeting_title": meeting_title,
        "notice": notice,
        "typed": "",
    }


async def _redeem(request: Request, services: Services, text: str) -> Response:
    """Use the ticket on this browser: to the phone page, or to the waiting page."""
    device = auth.device_token(request)
    device_key = auth.device_key(request)
    assert device and device_key is not None
    channel = channel_of(request.client.host if request.client else None)

    def write() -> tickets.Redeemed:
        with services.session() as session:
            return tickets.redeem(session, text, device_key, channel)

    done = await asyncio.to_thread(write)
    if done.new_voter:
        services.changed(done.meeting_id)
    if done.voter_id is None:
        auth.session_of(request)["asked"] = tickets.normalise(text)
        return RedirectResponse(f"/t/{tickets.normalise(text)}", status_code=303)
    auth.remember_voter(request, done.meeting_id, done.meeting_code, done.voter_id)
    return RedirectResponse(f"/m/{done.meeting_code}", status_code=303)


def _ticket_error(request: Request, error: CovoteError, context: dict[str, Any]) -> Response:
    """A wrong, unknown or revoked ticket: say why, and ask for the code again."""
    ctx = {**context, "error": error.msgid, "error_args": error.params}
    response = render(request, "phone/ticket.html", ctx, status_code=error.status_code)
    if isinstance(error, TooManyRequests):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


# Every refused ticket code is answered no sooner than this after the request arrived, so a
# real-but-unusable code and a wrong one take the same time (their lookups differ by well under
# a millisecond to tens of milliseconds); it also slows guessing down.
TICKET_REFUSAL_S = 0.25


async def _guarded(
    request: Request,
    services: Services,
    attempt: Callable[[], Awaitable[Response]],
    context: dict[str, Any],
) -> Response:
    """Try a ticket code from this address: refused at once while the address is locked out;
    a wrong or unusable code counts towards the lockout (it grows: see
    Settings.limit_ticket_failures_per_address) and is answered after TICKET_REFUSAL_S."""
    started = time.monotonic()
    address = client_address(request)
    limiter = services.limiter
    try:
        await limiter.check(Limit.TICKET_FAILURES_PER_ADDRESS, address)
        return await attempt()
    except TooManyRequests as e:
        return _ticket_error(request, e, context)
    except (BadInput, NotFound, Conflict) as e:
        error: CovoteError = e
        try:
            await limiter.hit(Limit.TICKET_FAILURES_PER_ADDRESS, address)
        except TooManyRequests as locked:
            error = locked
        await asyncio.sleep(max(0.0, TICKET_REFUSAL_S - (time.monotonic() - started)))
        return _ticket_error(request, error, context)


@router.post("/t")
async def ticket_typed(request: Request, services: ServicesDep) -> Response:
    """The typed code of a ticket (phone page of a tickets meeting, or the join page)."""
    form = await request.form()
    auth.check_csrf(request, form.get("csrf"))
    typed = str(form.get("code", ""))[:64]
    context = {
        **_entry_context(str(form.get("meeting", ""))[:12], str(form.get("title", ""))[:200]),
        "typed": typed,
    }
    return await _guarded(request, services, lambda: _redeem(request, services, typed), context)


@router.get("/t/{code}")
async def ticket(request: Request, code: str, services: ServicesDep) -> Response:
    """What a ticket's QR code opens: use it here, wait for approval, or on to the phone page."""
    context = {**_entry_context(), "typed": code[:24]}
    return await _guarded(request, services, lambda: _show_ticket(request, services, code), context)


async def _show_ticket(request: Request, services: Services, code: str) -> Response:
    device_key = auth.device_key(request)

    def read() -> tickets.TicketView:
        with services.read_session() as session:
            return tickets.look(session, code, device_key)

    view = await asyncio.to_thread(read)
    session = auth.session_of(request)
    if view.state == "mine" and view.voter_id is not None:
        session.pop("asked", None)
        auth.remember_voter(request, view.meeting_id, view.meeting_code, view.voter_id)
        return RedirectResponse(f"/m/{view.meeting_code}", status_code=303)
    # This browser asked for the ticket and it is still elsewhere: the request was refused.
    refused = view.state == "elsewhere" and session.get("asked") == tickets.normalise(code)
    context = {
        "state": view.state,
        "ticket": view,
        "meeting_code": view.meeting_code,
        "meeting_title": view.meeting_title,
        "refused": refused,
        "refresh_s": WAITING_REFRESH_S,
    }
    return render(request, "phone/ticket.html", context)


@router.post("/t/{code}")
async def ticket_use(request: Request, code: str, services: ServicesDep) -> Response:
    """Use the ticket on this browser (the button on GET /t/{code})."""
    form = await request.form()
    auth.check_csrf(request, form.get("csrf"))
    context = {**_entry_context(), "typed": code[:24]}
    return await _guarded(request, services, lambda: _redeem(request, services, code), context)
