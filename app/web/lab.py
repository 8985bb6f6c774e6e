"""The phone's Lab page (issue 16): suggest an idea for one of the meeting's challenges.

- GET  `/m/{code}/lab`   the notice not to include personal details, the form (challenge, the
                         idea, an optional description, its kind, "I would help make this
                         happen") and the ideas this phone sent, each with its status
- GET  `/p/{code}/wall`  the projector's idea wall: approved ideas by challenge and the idea
                         keypads rate now; `?part=1` the wall alone, which
                         static/projector/lab_wall.js fetches again after each snapshot of
                         the meeting's socket (every approval, merge or keypad step sends one;
                         ballots send turnout frames); the last `lab` round's opinion groups
                         and bridging ideas live (app/web/lab_live.py), `?groups=0` keeping
                         them off until the closed round is revealed
- GET  `/m/{code}/rate`  rate the ideas of the open `lab` round one at a time: the next one
                         this voter has not rated, fewest answers first
                         (rules.lab_order.next_ideas), with agree / disagree / pass and "I would
                         help make this happen"
- POST `/m/{code}/rate`  one rating, added to the voter's ballot through the ballot path
                         (Services.device_cast: the same checks, limits, audit and acks)
- POST `/m/{code}/pledge` "I would help make this happen" on an approved idea, with optional
                         hours a month (0-100), or `action=withdraw` to take it back; one
                         pledge per phone and idea, a second changes the hours (CSRF; a joined
                         voter; limited as ideas are: Limit.IDEAS_PER_VOTER); a refused one
                         comes back with its problem by the idea's hours field, nothing kept
- POST `/m/{code}/lab`   the form (CSRF; a joined voter only; limited per voter:
                         Limit.IDEAS_PER_VOTER, and lab.MAX_IDEAS_PER_VOTER in all); a refused
                         form comes back with every problem by its field and nothing kept, an
                         accepted one returns to the page, which says the idea is waiting for
                         the facilitator

The idea is pending until the facilitator approves it (app/voting/lab.py); its author is kept
only to list it on this phone and to count the phone's ideas.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from app.core.errors import BadInput, Conflict, CovoteError, InvalidForm, NotFound
from app.core.inputs import cut
from app.core.messages import N_
from app.core.vocab import LAB, RoundStatus
from app.rules import lab as rules
from app.rules import lab_order
from app.rules.lab import IDEA_DESCRIPTION_MAX, IDEA_TEXT_MAX, IdeaStatus
from app.rules.lab_pledges import HOURS_MAX
from app.voting import lab, lab_challenges, lab_helping, lab_kind, meetings, rounds
from app.voting.ballots import CastRequest
from app.voting.models import Voter
from app.web import auth, lab_live
from app.web.attendees import attendee
from app.web.deps import ServicesDep
from app.web.ratelimit import Limit
from app.web.rendering import form_problems, render
from app.web.services import Services

router = APIRouter()

NOT_JOINED = N_("Join the meeting first, then suggest your idea.")


def _context(request: Request, services: Services, code: str) -> dict[str, Any]:
    """The meeting, its challenges, this phone's ideas (None when the browser has not joined)."""
    with services.read_session() as session:
        meeting, voter = attendee(request, session, code)
        assert meeting.id is not None
        challenges = lab_challenges.challenges_of(session, meeting.id)
        mine = None if voter is None else lab.ideas_by(session, meeting.id, voter.id or 0)
        pledged = (
            {} if voter is None else lab_helping.pledges_by(session, meeting.id, voter.id or 0)
        )
        approved = lab.ideas_of(session, meeting.id, [IdeaStatus.APPROVED])
        session.expunge_all()
    return {
        "meeting": meeting,
        "joined": voter is not None,
        "challenges": challenges,
        "mine": mine or [],
        "kinds": lab.KIND_NAMES,
        "text_max": IDEA_TEXT_MAX,
        "description_max": IDEA_DESCRIPTION_MAX,
        "typed": {},
        "problems": [],
        "problem_at": {},
        "sent": request.query_params.get("sent") == "1",
        "approved": approved,
        "pledged": pledged,
        "hours_max": HOURS_MAX,
        "pledge_saved": request.query_params.get("pledged") == "1",
        "pledge_failed": False,
    }


@router.get("/m/{code}/lab")
async def lab_page(request: Request, code: str, services: ServicesDep) -> Response:
    ctx = await asyncio.to_thread(_context, request, services, code)
    return render(request, "phone/lab.html", ctx)


def _typed(form: FormData) -> dict[str, Any]:
    """The form's fields, each cut short before anything reads it (lab.parse_idea checks)."""

    def text(name: str, limit: int) -> str:
        return cut(form.get(name), limit)

    return {
        "challenge": text("challenge", 64),
        "text": text("text", IDEA_TEXT_MAX),
        "description": text("description", IDEA_DESCRIPTION_MAX),
        "kind": text("kind", 16),
        "help": form.get("help") in ("on", "yes", "1", "true"),
        "hours": text("hours", 8),
    }


def _voter_key(request: Request, services: Services, code: str) -> str:
    """The rate limit's key: this browser's voter in the meeting. Raises NotFound, Conflict."""
    with services.read_session() as session:
        meeting, voter = attendee(request, session, code)
        if voter is None:
            raise Conflict(NOT_JOINED)
        return f"{meeting.id}:{voter.id}"


def _store(request: Request, services: Services, code: str, typed: dict[str, Any]) -> str:
    """Check and store the idea in one transaction; returns the meeting's code."""
    with services.session() as session:
        meeting, voter = attendee(request, session, code)
        if voter is None:
            raise Conflict(NOT_JOINED)
        assert meeting.id is not None
        keys = [c.key for c in lab_challenges.challenges_of(session, meeting.id)]
        draft = lab.parse_idea(
            keys,
            challenge=typed["challenge"],
            text=typed["text"],
            description=typed["description"],
            kind=typed["kind"],
        )
        hours = lab_helping.parse_hours(typed["hours"], "idea-hours")
        lab.submit(session, meeting, voter, draft, would_help=typed["help"], hours=hours)
        return meeting.code


@router.post("/m/{code}/lab")
async def lab_sent(request: Request, code: str, services: ServicesDep) -> Response:
    """Store the idea (pending), then the page again saying it waits for the facilitator; or
    the form with every problem, nothing kept (400; 409 not joined, archived or full; 429)."""
    form = await request.form()
    auth.check_csrf(request, form.get("csrf"))
    typed = _typed(form)
    try:
        key = await asyncio.to_thread(_voter_key, request, services, code)
        # Counted before anything is written: a refused request changes nothing (429).
        await services.limiter.hit(Limit.IDEAS_PER_VOTER, key)
        meeting_code = await asyncio.to_thread(_store, request, services, code, typed)
    except InvalidForm as e:
        return await _again(request, services, code, typed, e.problems, e.status_code)
    except Conflict as e:
        return await _again(request, services, code, typed, [("", e)], e.status_code)
    # A pending idea is on no screen: nothing to signal until the facilitator approves it.
    return RedirectResponse(f"/m/{meeting_code}/lab?sent=1#your-ideas", status_code=303)


def _store_pledge(
    request: Request, services: Services, code: str, idea_key: str, raw_hours: str, action: str
) -> str:
    """Pledge, change the hours of, or withdraw this phone's pledge on an approved idea, in
    one transaction; returns the meeting's code. Raises InvalidForm (`hours-KEY`), Conflict,
    NotFound."""
    with services.session() as session:
        meeting, voter = attendee(request, session, code)
        if voter is None:
            raise Conflict(NOT_JOINED)
        assert meeting.id is not None
        meetings.require_active(meeting)
        row = lab.idea(session, meeting.id, idea_key)
        if action == "withdraw":
            lab_helping.withdraw(session, row, voter)
        else:
            lab_helping.pledge(
                session, row, voter, lab_helping.parse_hours(raw_hours, f"hours-{row.key}")
            )
        return meeting.code


@router.post("/m/{code}/pledge")
async def pledge(request: Request, code: str, services: ServicesDep) -> Response:
    """Pledge to help with an approved idea (hours optional), change the hours, or withdraw;
    back to the Lab page. A refused one: the page with the problem, nothing kept (400 bad
    hours; 404 no such idea; 409 not joined, archived, or the idea not approved; 429)."""
    form = await request.form()
    auth.check_csrf(request, form.get("csrf"))
    idea_key = str(form.get("idea", ""))[:64]
    raw = form.get("hours")
    raw_hours = raw[:16] if isinstance(raw, str) else ""
    action = "withdraw" if form.get("action") == "withdraw" else "help"
    try:
        key = await asyncio.to_thread(_voter_key, request, services, code)
        await services.limiter.hit(Limit.IDEAS_PER_VOTER, key)
        meeting_code = await asyncio.to_thread(
            _store_pledge, request, services, code, idea_key, raw_hours, action
        )
    except InvalidForm as e:
        return await _again(request, services, code, {}, e.problems, e.status_code, True)
    except (Conflict, NotFound, BadInput) as e:
        return await _again(request, services, code, {}, [("", e)], e.status_code, True)
    # Not signalled: the wall's summary follows at its next snapshot (an approval, a merge, a
    # keypad step), so a room of phones pledging does not resend every phone's page.
    return RedirectResponse(f"/m/{meeting_code}/lab?pledged=1#help-ideas", status_code=303)


async def _again(
    request: Request,
    services: Services,
    code: str,
    typed: dict[str, Any],
    problems: list[tuple[str, CovoteError]],
    status: int,
    pledging: bool = False,
) -> Response:
    """The form again with what was typed and every problem, each by its field."""
    ctx = await asyncio.to_thread(_context, request, services, code)
    ctx.update(form_problems(request, problems))
    ctx.update(
        typed=typed,
        sent=False,
        pledge_failed=pledging,
        pledge_saved=False,
    )
    return render(request, "phone/lab.html", ctx, status_code=status)


def _wall(services: Services, code: str, live: bool) -> dict[str, Any]:
    """What the wall shows: the challenges with their approved ideas (helpers counted), the
    idea keypads rate now in an open `lab` round, and the opinion groups and bridging ideas of
    the last `lab` round (lab_live): live while it runs and after, or (`live` off: the
    facilitator's ?groups=0) only once it is closed and revealed."""
    with services.read_session() as session:
        meeting = meetings.meeting_by_code(session, code)
        assert meeting.id is not None
        challenges = lab_challenges.challenges_of(session, meeting.id)
        rows = lab.ideas_of(session, meeting.id, [IdeaStatus.APPROVED])
        pledges = lab_helping.pledge_summaries(session, meeting)
        segments = {s.key: s for s in meetings.segments_of(session, meeting.id)}
        lab_rounds = [r for r in rounds.rounds_of(session, meeting.id) if r.kind == LAB]
        rating = lab_rounds[-1] if lab_rounds else None
        on_screen = None
        figures: lab_live.Live[lab_live.WallGroups] | None = None
        if rating is not None and rating.status == RoundStatus.OPEN:
            step = rating.keypad_step
            if step is not None and 0 <= step < len(rating.proposal_keys):
                on_screen = rating.proposal_keys[step]
        opened = rating is not None and rating.status == RoundStatus.OPEN
        closed = rating is not None and rating.status == RoundStatus.CLOSED
        if rating is not None and ((live and (opened or closed)) or (closed and rating.revealed)):
            figures = lab_live.live_groups(session, meeting, rating)
        session.expunge_all()
    texts = {r.idea.key: r.idea.text for r in rows}
    groups = figures.figures if figures is not None else None
    return {
        "meeting": meeting,
        "challenges": challenges,
        "rows": rows,
        "pledges": pledges,
        "segment_by_key": segments,
        "texts": texts,
        "rating": opened,
        "on_screen": on_screen if on_screen in texts else None,
        "live": figures is not None,
        "groups": groups.groups if groups else (),
        "bridging": [b for b in groups.bridging if b.key in texts] if groups else [],
        "voters_rated": groups.voters_rated if groups else 0,
        # Figures older than the ratings: lab_wall.js asks again after this many milliseconds.
        "retry_ms": None
        if figures is None or figures.retry_s is None
        else int(figures.retry_s * 1000),
    }


@router.get("/p/{code}/wall")
async def wall(
    request: Request, code: str, services: ServicesDep, part: int = 0, groups: int = 1
) -> Response:
    """The wall (`?part=1` its live part alone; `?groups=0` keeps the opinion groups off the
    screen until the facilitator reveals the closed round)."""
    ctx = await asyncio.to_thread(_wall, services, code, groups != 0)
    template = "projector/_lab_wall.html" if part == 1 else "projector/lab_wall.html"
    return render(request, template, ctx)


NO_RATING = N_("No rating round is open. The facilitator opens one when the ideas are ready.")


def _rating(
    request: Request, services: Services, code: str
) -> tuple[dict[str, Any], tuple[int, int, int, dict[str, str]] | None]:
    """The rate page's context, and (meeting id, round id, voter id, the voter's ratings so
    far) when a `lab` round is open and this browser has joined."""
    with services.read_session() as session:
        meeting, voter = attendee(request, session, code)
        assert meeting.id is not None
        ctx: dict[str, Any] = {"meeting": meeting, "joined": voter is not None, "idea": None}
        rnd = rounds.current_round(session, meeting)
        if voter is None or rnd is None or rnd.kind != LAB or rnd.status != RoundStatus.OPEN:
            return ctx, None
        assert voter.id is not None and rnd.id is not None
        items = lab_kind.LabKind().items(session, meeting.id, rnd.proposal_keys)
        mine = lab.ratings_of(session, rnd.id, voter.id)
        order = lab_order.next_ideas(
            [i.key for i in items], set(mine), lab_kind.answer_counts(session, rnd), voter.pseudonym
        )
        by_key = {i.key: i for i in items}
        ctx.update(
            round=rnd,
            idea=by_key[order[0]] if order else None,
            rated=sum(1 for i in items if i.key in mine),
            total=len(items),
            answers=rules.RATING_SCALE.describe()["answers"],
            hours_max=HOURS_MAX,
        )
        return ctx, (meeting.id, rnd.id, voter.id, mine)


@router.get("/m/{code}/rate")
async def rate_page(request: Request, code: str, services: ServicesDep) -> Response:
    ctx, _ = await asyncio.to_thread(_rating, request, services, code)
    ctx["no_rating"] = NO_RATING
    return render(request, "phone/lab_rate.html", ctx)


@router.post("/m/{code}/rate")
async def rate(request: Request, code: str, services: ServicesDep) -> Response:
    """Add one rating to this voter's ballot of the open `lab` round (an idea no longer in
    the round, or an answer off the scale, is refused by the ballot path: 400)."""
    form = await request.form()
    auth.check_csrf(request, form.get("csrf"))
    idea_key = str(form.get("idea", ""))[:64]
    rating = str(form.get("rating", ""))[:16]
    helping = form.get("help") in ("on", "yes", "1", "true")
    # Checked before the rating is cast: bad hours change nothing (400).
    hours = lab_helping.parse_hours(form.get("hours"), "rate-hours") if helping else None
    ctx, open_round = await asyncio.to_thread(_rating, request, services, code)
    if open_round is None:
        raise Conflict(NOT_JOINED if not ctx["joined"] else NO_RATING)
    meeting_id, round_id, voter_id, mine = open_round
    await services.device_cast(
        CastRequest(
            meeting_id,
            round_id,
            voter_id,
            uuid.uuid4().hex,
            {**mine, idea_key: rating},
            device_key=auth.device_key(request),
        )
    )
    if helping:
        await asyncio.to_thread(_pledge, services, meeting_id, voter_id, idea_key, hours)
    return RedirectResponse(f"/m/{ctx['meeting'].code}/rate", status_code=303)


def _pledge(
    services: Services, meeting_id: int, voter_id: int, idea_key: str, hours: int | None
) -> None:
    with services.session() as session:
        row = lab.idea(session, meeting_id, idea_key)
        voter = session.get(Voter, voter_id)
        assert voter is not None
        lab_helping.pledge(session, row, voter, hours)
