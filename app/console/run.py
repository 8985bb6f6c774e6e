"""The console's Run page: one meeting's rounds as they happen. Opening a round, its actions
(step, close, countdown, cancel, reveal, hide, void, reopen, final, unfinal), a round's results
before the room sees them, and the page's context (the next step, turnout, the keypads alert).
Facilitator only; every change is a POST carrying the CSRF token, and ends in a redirect
(app/console/forms.py). Set-up (sections, segments, proposals) is app/console/setup.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, cast

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.responses import Response

from app.console.forms import act, checked, confirm_first, facilitator_form, int_field, page
from app.console.online import ONLINE_ACTIONS, online_action, online_defaults
from app.core.bounds import COUNTDOWN_SECONDS, VOID_REASON_MAX
from app.core.errors import BadInput
from app.core.messages import N_, Said, said
from app.core.shapes import SurveyView
from app.core.vocab import ROOM_VOTE, SURVEY, RoundStatus
from app.keypads import remembered
from app.record import survey_charts
from app.rules import online as online_rule
from app.rules.run import RoundFacts, latest_counted, run_step
from app.voting import countdowns, kinds, meetings, rounds, surveys, turnout
from app.voting.models import Meeting, Round, utcnow
from app.web import auth, i18n
from app.web.deps import RowId, ServicesDep
from app.web.services import Services

router = APIRouter()


# The console session remembers this many previewed rounds (the Run page's next step).
PREVIEWED_KEPT = 20


def _previewed(request: Request) -> set[int]:
    """The round ids whose results this facilitator has looked at in the console."""
    kept = auth.session_of(request).get("previewed", [])
    return {i for i in kept if isinstance(i, int)} if isinstance(kept, list) else set()


def _run_facts(all_rounds: Sequence[Round], previewed: set[int]) -> list[RoundFacts]:
    return [
        RoundFacts(
            number=r.number,
            status=r.status,
            revealed=r.revealed,
            counting_down=r.closes_at is not None,
            previewed=r.id in previewed,
            online=bool(r.online) and r.closes_at is not None,
        )
        for r in all_rounds
    ]


def meeting_context(
    services: Services, meeting_id: int, previewed: set[int] | None = None
) -> dict[str, Any]:
    """The Run page's context; the Set-up page (app/console/setup.py) starts from it too."""
    receiving = services.desk.receiving(meeting_id)
    with services.read_session() as session:
        meeting = meetings.get_meeting(session, meeting_id)
        all_rounds = rounds.rounds_of(session, meeting_id)
        open_round = next((r for r in all_rounds if r.status == RoundStatus.OPEN), None)
        facts = _run_facts(all_rounds, previewed or set())
        latest = latest_counted(facts)
        present = turnout.present_count(session, meeting_id)
        # The other registered kinds, each with the items a round of it may take.
        others = [
            (kind, kind.available(session, meeting_id))
            for key, kind in kinds.kinds().items()
            if key != ROOM_VOTE
        ]
        return {
            # The Run page's state machine (app/rules/run.py): the next step comes first.
            "step": run_step(facts),
            "latest": next((r for r in all_rounds if latest and r.number == latest.number), None),
            "countdown_seconds": COUNTDOWN_SECONDS,
            "void_reason_max": VOID_REASON_MAX,
            # The countdown as the snapshot's round has it (templates/_countdown.html).
            "room": {"status": "open", "closes_in": left}
            if open_round is not None
            and not open_round.online
            and (left := rounds.seconds_left(open_round, utcnow())) is not None
            else None,
            # A survey online for a set period (app/voting/online.py): its dates, and the
            # form's starting values (in the meeting's zone).
            "online_defaults": online_defaults(meeting, utcnow()),
            "online_max_days": online_rule.MAX_DAYS,
            "answers_so_far": rounds.results_view(session, meeting, open_round)
            if open_round is not None
            else None,
            "keypads_idle": keypads_idle(session, meeting, open_round, receiving),
            # The items keypads answer in the open round (its keypad stepper's Previous, Next).
            "keypad_steps": rounds.keypad_steps(session, meeting, open_round)
            if open_round is not None and open_round.keypad_step is not None
            else [],
            "other_kinds": others,
            "surge": services.surge(session, meeting_id, present),
            "meeting": meeting,
            "proposals": meetings.proposals_of(session, meeting_id),
            "segments": meetings.segments_of(session, meeting_id),
            "rounds": all_rounds,
            "open_round": open_round,
            "turnout": turnout.counts(session, meeting, open_round, receiver_open=receiving),
            "voting_started": meetings.voting_started(session, meeting_id),
            "join_url": services.join_url(meeting.code),
        }


def keypads_idle(
    session: Session, meeting: Meeting, open_round: Round | None, receiving: bool
) -> dict[str, Any] | None:
    """Why registered keypads are not counting now, for the Run page's alert, or None.

    `phones_only`: the open round was opened without keypads; `no_receiver`: no receiver is
    connected and serving this meeting (none added, unplugged, or serving another meeting).
    An archived meeting counts nothing, so it warns of nothing. The Run page shows it and
    refreshes it from keypads/status.json's `idle` (console_keypads.js)."""
    assert meeting.id is not None
    if meeting.archived_at is not None:
        return None
    n = turnout.registered_keypads(session, meeting.id)
    if not n:
        return None
    if open_round is not None and not turnout.keypads_may_vote(open_round):
        return {"why": "phones_only", "n": n, "round": open_round.number}
    if not receiving:
        return {"why": "no_receiver", "n": n}
    return None


@router.get("/console/{meeting_id}")
async def console_meeting(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    auth.require_facilitator(request)
    ctx = await asyncio.to_thread(meeting_context, services, meeting_id, _previewed(request))
    return page(request, "console/meeting.html", ctx)


@router.post("/console/{meeting_id}/rounds")
async def open_round(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    form = await facilitator_form(request)
    keys = [str(k) for k in form.getlist("proposal")]
    with_keypads = checked(form, "keypads")
    kind = str(form.get("kind") or ROOM_VOTE)

    def change(session: Session, meeting: Meeting) -> Said:
        rnd = rounds.open_round(session, meeting, keys, keypads=with_keypads, kind=kind)
        if with_keypads:  # the receivers serve this meeting, after a restart too
            assert meeting.id is not None
            remembered.serve(session, meeting.id)
        opened, how = OPENED.get(kinds.kind_of(rnd).noun, OPENED["item"])
        message = said(opened, n=rnd.number, count=len(rnd.proposal_keys))
        return message + said(how) if with_keypads else message

    response = await act(request, services, meeting_id, change)
    if with_keypads:
        services.desk.serve(meeting_id)
    return response


# What opening a round says, by what its activity votes on (activity.py's `noun`).
OPENED = {
    "proposal": (
        N_("Round %(n)s is open on %(count)s proposal(s)."),
        N_("Keypads vote one proposal at a time."),
    ),
    "item": (
        N_("Round %(n)s is open on %(count)s item(s)."),
        N_("Keypads vote one item at a time."),
    ),
}

# Round actions that cannot be undone ask first (app/console/confirm.py).
CONFIRMED_ROUND_ACTIONS = {
    "close": "close_round",
    "void": "void_round",
    "reopen": "reopen_round",
    "end": "end_online",
}


@router.post("/console/{meeting_id}/rounds/{number}/{action}")
async def round_action(
    request: Request, meeting_id: RowId, number: RowId, action: str, services: ServicesDep
) -> Response:
    """The Run page's round actions: step (keypads), close, countdown, cancel, reveal, hide,
    void, reopen, final, unfinal. Close, void and reopen ask first; bad values change nothing."""
    form = await facilitator_form(request)
    # The snapshot a close stores counts keypads present only while a receiver serves them.
    receiving = services.desk.receiving(meeting_id)
    reason = str(form.get("reason", ""))
    if len(reason) > VOID_REASON_MAX:  # bounded where parsed: refused before anything asks
        raise BadInput(f"The reason is at most {VOID_REASON_MAX} characters.")
    seconds = int_field(form, "seconds", "The countdown") if action == "countdown" else 0
    if action in CONFIRMED_ROUND_ACTIONS:
        asked = await confirm_first(
            request,
            services,
            form,
            CONFIRMED_ROUND_ACTIONS[action],
            back="",
            meeting_id=meeting_id,
            n=number,
        )
        if asked is not None:
            return asked

    def change(session: Session, meeting: Meeting) -> Said:
        if action == "step":
            index = int_field(form, "index", "The proposal number") - 1
            rnd = rounds.step_keypads(session, meeting, number, index)
            return said(
                N_("Keypads now vote on proposal %(i)s of %(count)s."),
                i=index + 1,
                count=len(rnd.proposal_keys),
            )
        if action == "close":
            rounds.close_round(session, meeting, number, receiver_open=receiving)
            return said(
                N_("Round %(n)s is closed. Results are hidden until you reveal them."), n=number
            )
        if action == "countdown":
            countdowns.start_countdown(session, meeting, number, seconds, now=utcnow())
            return said(N_("Round %(n)s closes in %(seconds)s seconds."), n=number, seconds=seconds)
        if action in ONLINE_ACTIONS:
            return online_action(session, meeting, number, action, form, receiving)
        if action == "cancel":
            countdowns.cancel_countdown(session, meeting, number, now=utcnow())
            return said(N_("The countdown is cancelled: round %(n)s stays open."), n=number)
        if action == "void":
            rounds.void_round(session, meeting, number, reason, receiver_open=receiving)
            return said(N_("Round %(n)s is voided: it did not count."), n=number)
        if action == "reopen":
            rounds.reopen_round(session, meeting, number)
            return said(N_("Round %(n)s is open again; its ballots are kept."), n=number)
        if action in ("final", "unfinal"):
            rounds.set_final(session, meeting, number, action == "final")
            if action == "final":
                return said(
                    N_("Round %(n)s is marked final: the report shows it as the decision."),
                    n=number,
                )
            return said(N_("Round %(n)s is no longer marked final."), n=number)
        if action in ("reveal", "hide"):
            rnd = rounds.set_revealed(session, meeting, number, action == "reveal")
            if meeting.current_round_id != rnd.id:  # another round is open: the room stays there
                if action == "reveal":
                    return said(
                        N_("Round %(n)s results are revealed; the room stays on the open round."),
                        n=number,
                    )
                return said(
                    N_("Round %(n)s results are hidden; the room stays on the open round."),
                    n=number,
                )
            if action == "reveal":
                return said(N_("Round %(n)s results are on the projector."), n=number)
            return said(N_("Round %(n)s results are off the projector."), n=number)
        raise BadInput(f"Unknown round action {action[:40]!r}.")

    response = await act(request, services, meeting_id, change)
    if action in ("countdown", "cancel", *ONLINE_ACTIONS):
        services.countdowns.wake()
    return response


def _survey_map(
    session: Session,
    meeting_id: int,
    results: object,
    _: i18n.Translator,
    asked: Mapping[str, str],
) -> dict[str, Any] | None:
    """A survey round's area map (when its survey has boundaries): the service and figure
    asked for (`?map_service=&map_figure=`), the chart, and the choices for its form."""
    if not isinstance(results, dict) or "survey" not in results:
        return None
    drawn = surveys.boundaries_of(session, meeting_id)
    if drawn is None:
        return None
    view = cast(SurveyView, results)
    service = str(asked.get("map_service", ""))[:64]
    figure = str(asked.get("map_figure", "more"))[:16]
    chart = survey_charts.survey_area_map(
        view["survey"],
        view["labels"],
        drawn.areas,
        drawn.key_property,
        drawn.match,
        _,
        _.locale,
        service=service,
        figure=figure,
    )
    services = [f["service"] for f in view["survey"]["overall"]["services"]]
    names = survey_charts.names_in(view["labels"]["services"], _.locale)
    return {
        "chart": chart,
        "service": service if service in services else (services[0] if services else ""),
        "figure": figure if figure in survey_charts.MAP_FIGURES else "more",
        "services": [(k, names.get(k, k)) for k in services],
        "figures": list(survey_charts.MAP_FIGURES.items()),
    }


@router.get("/console/{meeting_id}/rounds/{number}")
async def round_results(
    request: Request, meeting_id: RowId, number: RowId, services: ServicesDep
) -> Response:
    """Results for the facilitator, visible before they are revealed to the room."""
    auth.require_facilitator(request)

    _ = i18n.gettext_for(i18n.choose_locale(request))
    asked = request.query_params

    def read() -> dict[str, Any]:
        receiving = services.desk.receiving(meeting_id)
        with services.read_session() as session:
            meeting = meetings.get_meeting(session, meeting_id)
            rnd = rounds.get_round(session, meeting, number)
            results = rounds.results_view(session, meeting, rnd)
            return {
                "meeting": meeting,
                "round": rnd,
                "results": results,
                "segments": meetings.segments_of(session, meeting_id),
                "survey_map": _survey_map(session, meeting_id, results, _, asked),
                "we_did": surveys.we_did_of(session, meeting_id) if rnd.kind == SURVEY else None,
                "turnout": rnd.turnout
                or turnout.counts(
                    session,
                    meeting,
                    rnd,
                    receiver_open=receiving and rnd.status == RoundStatus.OPEN,
                ),
            }

    ctx = await asyncio.to_thread(read)
    rnd: Round = ctx["round"]
    if rnd.status == RoundStatus.CLOSED and rnd.id is not None:
        # Previewed: the Run page's next step becomes Reveal (kept in this console session).
        seen = [i for i in _previewed(request) if i != rnd.id][-(PREVIEWED_KEPT - 1) :]
        auth.session_of(request)["previewed"] = [*seen, rnd.id]
    return page(request, "console/round.html", ctx)
