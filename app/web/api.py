"""JSON API for attendees' devices (the phone page uses it when the WebSocket is down).

Errors are `{"error": {"code", "message"}}` with the status of errors.py. Changes need the
`X-Covote-CSRF` header from the phone page and `Content-Type: application/json`.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, Response

from app.core.errors import BadInput
from app.core.shapes import MeetingState
from app.live import protocol
from app.voting.ballots import CastRequest
from app.voting.voters import declare_segments, device_handle, you_view
from app.web import auth
from app.web.attendees import attendee, join_browser, not_joined
from app.web.deps import ServicesDep
from app.web.netinfo import client_address
from app.web.ratelimit import Limit
from app.web.services import Services


async def _per_address(request: Request) -> None:
    """Every attendee API request counts against its address's limit (a script repeating a
    state read or a segments save gets a 429 with Retry-After, not the database's time)."""
    services: Services = request.app.state.services
    await services.limiter.hit(Limit.API_PER_ADDRESS, client_address(request))


router = APIRouter(prefix="/api", dependencies=[Depends(_per_address)])


class SegmentsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    segments: list[Annotated[str, Field(max_length=64)]] = Field(max_length=100)


CsrfHeader = Annotated[str | None, Header(alias=auth.CSRF_HEADER)]


def _require_json(request: Request) -> None:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise BadInput("Send the body as JSON (Content-Type: application/json).")


# The snapshot goes out as built: as the response model, `MeetingState` would put its keys in
# declaration order and drop any it does not declare, so the API would not send what the socket
# sends.
@router.get("/m/{code}", response_model=dict[str, Any])
async def meeting_state(request: Request, code: str, services: ServicesDep) -> Response:
    """The live snapshot plus this browser's voter and latest ballot (`MeetingState`)."""

    # Encoded in the worker thread too, as FastAPI would encode it: not on the event loop,
    # where it held up ballots' acks (scripts/bench, reads).
    def read() -> Response:
        with services.read_session() as session:
            meeting, voter = attendee(request, session, code)
            assert meeting.id is not None
            you = you_view(session, meeting.id, voter)
        # A facilitator's read is exact (Services.page_state): they act on what it shows.
        exact = auth.grant_of(request) is not None
        shared = services.page_state(meeting.id, voter.id if voter else None, exact=exact)
        state: MeetingState = {**shared, "you": you}
        return JSONResponse(state)

    return await services.in_page_thread(read)


@router.post("/m/{code}/join")
async def join_meeting(
    request: Request, code: str, services: ServicesDep, csrf: CsrfHeader = None
) -> dict[str, Any]:
    auth.check_csrf(request, csrf)
    await join_browser(request, services, code)

    def read() -> dict[str, Any]:
        with services.read_session() as session:
            meeting, voter = attendee(request, session, code)
            assert voter is not None
            # Not a pseudonym: a device never learns its row in the public ballots.
            return {"voter": device_handle(meeting, voter), "segments": voter.segments}

    return await asyncio.to_thread(read)


@router.post("/m/{code}/segments")
async def set_segments(
    request: Request, code: str, body: SegmentsIn, services: ServicesDep, csrf: CsrfHeader = None
) -> dict[str, Any]:
    _require_json(request)
    auth.check_csrf(request, csrf)

    def write() -> list[str]:
        with services.session() as session:
            meeting, voter = attendee(request, session, code)
            if voter is None:
                raise not_joined(request, session, meeting, "Join the meeting first.")
            declare_segments(session, meeting, voter, body.segments)
            return voter.segments

    return {"segments": await asyncio.to_thread(write)}


@router.post("/m/{code}/ballot")
async def cast_ballot(
    request: Request,
    code: str,
    services: ServicesDep,
    body: Annotated[protocol.BallotBody, Body()],
    csrf: CsrfHeader = None,
) -> dict[str, Any]:
    """Store a ballot; 200 means it is durably stored."""
    _require_json(request)
    auth.check_csrf(request, csrf)

    def who() -> tuple[int, int]:
        with services.session() as session:
            meeting, voter = attendee(request, session, code)
            if voter is None or voter.id is None or meeting.id is None:
                raise not_joined(
                    request,
                    session,
                    meeting,
                    "Open the meeting's join link on this device before voting.",
                )
            return meeting.id, voter.id

    meeting_id, voter_id = await asyncio.to_thread(who)
    receipt = await services.device_cast(
        CastRequest(
            meeting_id,
            body.round,
            voter_id,
            body.ballot_id,
            dict(body.marks),
            device_key=auth.device_key(request),
        )
    )
    return {"saved": True, "ballot_id": receipt.ballot_uid, "round": receipt.round_id}
