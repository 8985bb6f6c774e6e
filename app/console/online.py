"""The Run page's survey online for a set period (issue 15): "Open online" (now or at a given
time, until a given time, in the meeting's zone), and the online round's actions, "extend" (a
new closing) and "end" (close it now, asked first), which app/console/run.py's `round_action`
hands here. The rounds themselves: app/voting/online.py; the dates' rules: app/rules/online.py.
Facilitator only; every change is a POST with the CSRF token, ending in a redirect (`act`).
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from app.console.forms import act, facilitator_form
from app.core import localtime
from app.core.errors import BadInput, Conflict, InvalidForm
from app.core.messages import N_, Said, said
from app.rules import online as online_rule
from app.voting import meetings, online, rounds
from app.voting.models import Meeting, utcnow
from app.web.deps import RowId, ServicesDep

router = APIRouter()


def online_defaults(meeting: Meeting, now: datetime) -> dict[str, str]:
    """The "Open online" form's starting values, in the meeting's zone: opening at the next
    whole hour today, closing two weeks later at 17:00."""
    local = localtime.local(now, meetings.zone_of(meeting))
    opens = (local + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    closes = local.date() + timedelta(days=14)
    return {
        "opens_date": f"{opens:%Y-%m-%d}",
        "opens_time": f"{opens:%H:%M}",
        "closes_date": f"{closes:%Y-%m-%d}",
        "closes_time": "17:00",
    }


def _when(form: FormData, prefix: str, tz: tzinfo) -> datetime:
    """The UTC time of the form's `{prefix}_date` and `{prefix}_time` fields ("opens" or
    "closes"), in the meeting's zone `tz` (bounded where parsed).

    Raises:
        InvalidForm: either is missing or malformed (the field `online-{prefix}-date`).
    """
    day, clock = str(form.get(f"{prefix}_date", ""))[:40], str(form.get(f"{prefix}_time", ""))[:40]
    at = online_rule.moment(day, clock, tz)
    if at is None:
        problem = BadInput(MISSING_TIME[prefix])
        raise InvalidForm([(f"online-{prefix}-date", problem)])
    return at


ONLINE_ACTIONS = ("extend", "end")


def online_action(
    session: Session, meeting: Meeting, number: int, action: str, form: FormData, receiving: bool
) -> Said:
    """A round online for a set period: "extend" (a new closing, from the form) or "end" (close
    it now; asked first, CONFIRMED_ROUND_ACTIONS)."""
    if action == "extend":
        closes = _when(form, "closes", meetings.zone_of(meeting))
        online.extend(session, meeting, number, closes, now=utcnow())
        return said(N_("Round %(n)s's online period is changed."), n=number)
    if not online.running(session, meeting, number):
        raise Conflict(f"Round {number} is not running online.")
    rounds.close_round(session, meeting, number, receiver_open=receiving)
    return said(ENDED_ONLINE, n=number)


ENDED_ONLINE = N_("Round %(n)s's online period is ended. Results are hidden until you reveal them.")
MISSING_TIME = {
    "opens": N_("The opening needs a date and a time (HH:MM)."),
    "closes": N_("The closing needs a date and a time (HH:MM)."),
}


@router.post("/console/{meeting_id}/rounds/online")
async def open_online(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """ "Open online": a survey round online from now or a given time until a given time, in
    the meeting's zone. Bad dates are refused with every problem, and nothing opens."""
    form = await facilitator_form(request)
    keys = [str(k) for k in form.getlist("proposal")]
    kind = str(form.get("kind") or "")[:40]
    now_opening = str(form.get("opens", "now")) == "now"

    def change(session: Session, meeting: Meeting) -> Said:
        tz = meetings.zone_of(meeting)
        closes = _when(form, "closes", tz)
        opens = None if now_opening else _when(form, "opens", tz)
        now = utcnow()
        rnd = online.open_online(
            session, meeting, keys, kind=kind, opens_at=opens, closes_at=closes, now=now
        )
        if online.not_yet_open(rnd, now):
            return said(N_("Round %(n)s is scheduled to open online."), n=rnd.number)
        return said(N_("Round %(n)s is open online."), n=rnd.number)

    response = await act(request, services, meeting_id, change)
    services.countdowns.wake()
    return response
