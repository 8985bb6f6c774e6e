"""A survey online for a set period (issue 15): scheduled from the Run page (now or at a given
time, until a given time, in the meeting's zone), refused when the dates are not sound, opened
by the server's CountdownCloser at its time and closed at its end (after a restart too), ballots
refused before and after, a respondent who stops half way and comes back (same browser, or by
typing the ticket again), extended, and ended early after a confirmation."""

from __future__ import annotations

import asyncio
import copy
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlmodel import Session, select

from app.config import Settings
from app.core import shapes
from app.record import chain
from app.rules import online as rule
from app.voting import countdowns, online
from app.voting.models import Round, utcnow
from tests.conftest import FACILITATOR_KEY, MEETING, LiveServer, Meeting, Phone, csrf_of
from tests.test_run_round import audit_kinds, stored_round, wait_for
from tests.test_shapes import Conformance
from tests.test_survey_round import import_survey, survey_text
from tests.test_tickets import codes, issue, redeem

LONDON = ZoneInfo("Europe/London")
# The first screen of the survey (the library service), as the phone's Next sends it.
FIRST = {"library.value": "4", "library.need": "often", "library.contributes": "neighbour"}
REST = {"parks.value": "3", "parks.satisfaction": "4", "q.travel": "bus", "area": "north"}


def local_fields(prefix: str, at: datetime) -> dict[str, str]:
    """The Run page's date and time fields for `at`, in the meeting's zone (Europe/London)."""
    here = at.astimezone(LONDON)
    return {f"{prefix}_date": f"{here:%Y-%m-%d}", f"{prefix}_time": f"{here:%H:%M}"}


def with_survey(meeting: Meeting) -> Meeting:
    assert import_survey(meeting, survey_text()).status_code == 303
    return meeting


def post_online(meeting: Meeting, **data: str) -> httpx.Response:
    return meeting.f.post(
        f"/console/{meeting.id}/rounds/online",
        data={"csrf": meeting.csrf, "kind": "survey", **data},
        follow_redirects=False,
    )


def open_online(meeting: Meeting, closes: datetime, opens: datetime | None = None) -> None:
    fields = local_fields("closes", closes)
    if opens is not None:
        fields |= {"opens": "at", **local_fields("opens", opens)}
    r = post_online(meeting, **fields)
    assert r.status_code == 303, r.text


def set_times(server: LiveServer, meeting: Meeting, number: int, **times: datetime) -> None:
    """Move round `number`'s `opens_at` / `closes_at` (what the clock reaching them does)."""
    with Session(server.app.state.services.engine) as session:
        rnd = session.exec(
            select(Round).where(Round.meeting_id == meeting.id, Round.number == number)
        ).one()
        for name, at in times.items():
            setattr(rnd, name, at)
        session.add(rnd)
        session.commit()


def wake_closer(server: LiveServer) -> None:
    services = server.app.state.services
    services.loop.call_soon_threadsafe(services.countdowns.wake)


def in_days(days: float) -> datetime:
    """A whole minute `days` from now (the form has minutes)."""
    return (utcnow() + timedelta(days=days)).replace(second=0, microsecond=0)


@pytest.fixture
def survey_meeting(meeting: Meeting) -> Meeting:
    return with_survey(meeting)


def test_a_survey_opens_online_now_until_a_date_shown_as_a_date(
    survey_meeting: Meeting, server: LiveServer
) -> None:
    """Open now, close in ten days at a given time: the snapshot carries the dates and no
    seconds counter; the phone says "Open until <day> at <time>" in English and Welsh; the Run
    page shows the period and the responses so far by channel; the audit log has the schedule."""
    m = survey_meeting
    closes = in_days(10)
    open_online(m, closes)
    phone = Phone(server.browser(), m.code)
    rnd = phone.state()["round"]
    assert rnd["status"] == "open" and "closes_in" not in rnd
    assert rnd["online"]["closes_at"] == f"{closes:%Y-%m-%dT%H:%M:%SZ}"
    assert rnd["online"]["zone"] == "Europe/London"
    day = closes.astimezone(LONDON)
    shown = f"{day:%A} {day.day} {day:%B} at {day:%H:%M}"
    page = phone.c.get(f"/m/{m.code}").text
    assert f"Open until {shown}." in page
    countdown = page.split('id="countdown"')[1].split("</p>")[0]
    assert " hidden>" in countdown  # no seconds counter for a period of days
    assert '<span aria-hidden="true" id="countdown-text"></span>' in countdown
    welsh = phone.c.get(f"/m/{m.code}?lang=cy").text
    assert "Ar agor tan: Dydd" in welsh and f"am {day:%H:%M}" in welsh

    assert phone.vote(FIRST).status_code == 200
    home = server.browser()
    home.headers["X-Forwarded-For"] = "81.2.69.142"  # a home connection: channel "remote"
    assert Phone(home, m.code).vote(FIRST).status_code == 200
    run = m.f.get(f"/console/{m.id}").text
    assert 'data-step="online"' in run
    assert f"Round 1 is open online until {shown}." in run
    assert "Responses so far: 2" in run and "(online: 1)" in run
    assert "Start the countdown" not in run  # the countdown is not offered for a set period
    scheduled = [d for k, d in audit_kinds(m) if k == "round.online"]
    assert scheduled == [
        {
            "round": 1,
            "opens_at": scheduled[0]["opens_at"],
            "closes_at": f"{closes:%Y-%m-%dT%H:%M:%SZ}",
        }
    ]


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"closes_date": "", "closes_time": "17:00"}, "The closing needs a date and a time"),
        ({"closes_date": "2026-02-30", "closes_time": "17:00"}, "needs a date and a time"),
        ({"closes_date": "x" * 5000, "closes_time": "17:00"}, "needs a date and a time"),
        ({"closes_date": "2099-01-01", "closes_time": "25:00"}, "needs a date and a time"),
        ("past_opening", "The opening is in the past."),
        ("closing_first", "The closing must be after the opening."),
        ("too_long", "The period is at most 90 days long."),
    ],
)
def test_unsound_periods_are_refused_and_nothing_opens(
    survey_meeting: Meeting, fields: dict[str, str] | str, said: str
) -> None:
    m = survey_meeting
    named = {
        "past_opening": {"opens": "at", **local_fields("opens", in_days(-2))}
        | local_fields("closes", in_days(3)),
        "closing_first": {"opens": "at", **local_fields("opens", in_days(5))}
        | local_fields("closes", in_days(4)),
        "too_long": local_fields("closes", in_days(91)),
    }
    data = named[fields] if isinstance(fields, str) else fields
    r = post_online(m, **data)
    assert r.status_code == 400 and said in r.text
    assert m.state()["round"] is None
    assert "round.online" not in [k for k, _ in audit_kinds(m)]


def test_only_a_survey_runs_online(survey_meeting: Meeting) -> None:
    r = post_online(survey_meeting, kind="room_vote", **local_fields("closes", in_days(3)))
    assert r.status_code == 400 and "Only a survey round" in r.text
    assert survey_meeting.state()["round"] is None


def test_the_period_rules_in_the_meetings_zone() -> None:
    """Local date and time to UTC (summer time, a skipped hour), every bound at its edge."""
    assert rule.moment("2026-07-01", "17:00", LONDON) == datetime(2026, 7, 1, 16, 0, tzinfo=UTC)
    assert rule.moment("2026-12-18", "17:00", LONDON) == datetime(2026, 12, 18, 17, tzinfo=UTC)
    assert rule.moment("2027-03-28", "01:30", LONDON) is not None  # the hour the clocks skip
    assert rule.moment("2026-12-18", "17:00:00", LONDON) is None
    now = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    assert rule.period_problems(now - timedelta(seconds=59), now + timedelta(days=1), now) == []
    assert rule.period_problems(now - timedelta(seconds=61), now + timedelta(days=1), now)
    assert rule.period_problems(now, now + timedelta(days=90), now) == []
    assert rule.period_problems(now, now + timedelta(days=90, minutes=1), now)
    assert rule.period_problems(now, now, now)
    assert rule.extension_problems(now - timedelta(days=3), now, now)  # past: end early instead


def test_a_scheduled_opening_refuses_ballots_until_the_server_opens_it(
    survey_meeting: Meeting, server: LiveServer
) -> None:
    """Scheduled for the day after tomorrow: phones are told when; ballots are refused; the
    CountdownCloser opens it when its time comes (the clock moved by moving `opens_at`), logs
    `round.online_opened`, and phones can answer."""
    m = survey_meeting
    opens, closes = in_days(2), in_days(9)
    open_online(m, closes, opens)
    phone = Phone(server.browser(), m.code)
    state = phone.state()
    shape = Conformance()
    shape.check(state, shapes.MeetingState, "GET /api/m/CODE, scheduled online")
    assert shape.problems == [] and "RoundView.online" not in shape.never_sent()
    rnd = state["round"]
    assert rnd["status"] == "scheduled"
    day = opens.astimezone(LONDON)
    page = phone.c.get(f"/m/{m.code}").text
    assert f"This survey opens on {day:%A} {day.day} {day:%B} at {day:%H:%M}." in page
    assert 'id="ballot-form"' not in page
    refused = phone.vote(FIRST)
    assert refused.status_code == 409 and "not open yet" in refused.json()["error"]["message"]
    run = m.f.get(f"/console/{m.id}").text
    assert "Round 1 opens online on" in run
    assert "Round 1 — not open yet" in server.browser().get(f"/p/{m.code}").text

    # The closer's pass at a given time (the injected clock): not before, then at it.
    engine = server.app.state.services.engine
    with Session(engine) as session:
        assert online.open_due(session, opens - timedelta(seconds=1)) == []
        assert online.next_open(session) == opens
        session.rollback()

    set_times(server, m, 1, opens_at=utcnow() - timedelta(seconds=1))
    wake_closer(server)
    wait_for(lambda: phone.state()["round"]["status"] == "open", "the scheduled opening")
    assert stored_round(server, m, 1).opens_at is None
    assert phone.vote(FIRST).status_code == 200
    kinds = [k for k, _ in audit_kinds(m)]
    assert kinds.index("round.online") < kinds.index("round.online_opened") < kinds.index("ballot")
    assert chain.verify(m.f.get(f"/console/{m.id}/export/audit.jsonl").text).problems == []


def test_the_server_closes_it_at_its_end_and_ballots_after_are_refused(
    survey_meeting: Meeting, server: LiveServer
) -> None:
    m = survey_meeting
    open_online(m, in_days(3))
    phone = Phone(server.browser(), m.code)
    assert phone.vote(FIRST).status_code == 200
    set_times(server, m, 1, closes_at=utcnow() - timedelta(seconds=1))
    late = phone.vote({**FIRST, **REST})  # the ballot writer reads the clock itself
    assert late.status_code == 409
    wake_closer(server)
    wait_for(lambda: stored_round(server, m, 1).status == "closed", "the close at its end")
    page = phone.c.get(f"/m/{m.code}").text
    assert "This survey closed on" in page
    assert phone.state()["you"]["ballot"]["marks"] == FIRST


def test_a_respondent_stops_half_way_and_comes_back_to_finish(
    survey_meeting: Meeting, server: LiveServer
) -> None:
    """The first screen today; the cookie is kept for longer than any period; weeks later the
    same browser gets its answers and progress back and finishes (one response, replaced)."""
    m = survey_meeting
    open_online(m, in_days(30))
    client = server.browser()
    # The session cookie is set when the session changes (here, its first page): it is kept
    # for longer than the longest period, so a respondent who starts on its first day can
    # still come back on its last.
    cookie = client.get(f"/m/{m.code}").headers["set-cookie"]
    max_age = int(re.search(r"Max-Age=(\d+)", cookie, re.I).group(1))  # type: ignore[union-attr]
    assert max_age >= rule.MAX_DAYS * 24 * 3600
    phone = Phone(client, m.code)
    assert phone.vote(FIRST).status_code == 200

    back = client.get(f"/m/{m.code}").text
    assert "1 of 2 services answered" in back
    assert re.search(r'name="mark:library.need" value="often"[^>]*checked', back)
    assert phone.vote({**FIRST, **REST}).status_code == 200
    assert "2 of 2 services answered" in client.get(f"/m/{m.code}").text
    rows = m.f.get(f"/console/{m.id}/export/ballots.csv").text
    assert m.state()["turnout"]["voted"] == 1 and "parks.value" in rows


def test_a_ticket_typed_again_continues_the_same_response(
    facilitator: httpx.Client, server: LiveServer
) -> None:
    """Tickets posted to households: a respondent types the code at home, answers the first
    screen, comes back another day and types it again: the same response continues."""
    spec = {**copy.deepcopy(MEETING), "voting": {"admission": "tickets"}}
    m = with_survey(Meeting(facilitator, spec))
    issue(m, 2)
    code = codes(m)[1]
    open_online(m, in_days(14))
    home = server.browser()
    home.headers["X-Forwarded-For"] = "81.2.69.142"
    assert redeem(home, code).status_code == 303
    assert Phone(home, m.code).vote(FIRST).status_code == 200

    # Days later, the code typed by hand (lower case, a space) in the same browser.
    typed = code.lower().replace("-", " ")
    again = home.post(
        "/t", data={"csrf": csrf_of(home, f"/m/{m.code}"), "code": typed}, follow_redirects=False
    )
    assert again.status_code == 303 and again.headers["location"] == f"/m/{m.code}"
    phone = Phone(home, m.code)
    assert phone.state()["you"]["ballot"]["marks"] == FIRST
    assert "1 of 2 services answered" in home.get(f"/m/{m.code}").text
    assert phone.vote({**FIRST, **REST}).status_code == 200
    turnout = m.state()["turnout"]
    assert turnout["voted"] == 1 and turnout["by_channel"]["remote"] == 1
    assert "online: 1" in m.f.get(f"/console/{m.id}").text


def test_the_closing_is_extended_and_the_period_ended_early_after_asking(
    survey_meeting: Meeting, server: LiveServer
) -> None:
    m = survey_meeting
    open_online(m, in_days(3))
    later = in_days(20)
    m.post("/rounds/1/extend", **local_fields("closes", later))
    assert stored_round(server, m, 1).closes_at is not None
    assert Phone(server.browser(), m.code).state()["round"]["online"]["closes_at"] == (
        f"{later:%Y-%m-%dT%H:%M:%SZ}"
    )
    extended = [d for k, d in audit_kinds(m) if k == "round.online_extended"]
    assert extended == [{"round": 1, "closes_at": f"{later:%Y-%m-%dT%H:%M:%SZ}"}]
    for bad in (in_days(-1), in_days(95)):
        r = m.f.post(
            f"/console/{m.id}/rounds/1/extend",
            data={"csrf": m.csrf, **local_fields("closes", bad)},
            follow_redirects=False,
        )
        assert r.status_code == 400
    assert [k for k, _ in audit_kinds(m)].count("round.online_extended") == 1

    # The countdown's Cancel would leave it open without an end: refused, as is a countdown.
    for action, extra in (("cancel", {}), ("countdown", {"seconds": "30"})):
        r = m.f.post(
            f"/console/{m.id}/rounds/1/{action}",
            data={"csrf": m.csrf, **extra},
            follow_redirects=False,
        )
        assert r.status_code == 409
    assert stored_round(server, m, 1).closes_at is not None

    asked = m.f.post(f"/console/{m.id}/rounds/1/end", data={"csrf": m.csrf}, follow_redirects=False)
    assert asked.status_code == 200 and "End round 1&#39;s online period now?" in asked.text
    assert stored_round(server, m, 1).status == "open"
    m.post("/rounds/1/end", confirm="yes")
    assert stored_round(server, m, 1).status == "closed"
    r = m.f.post(
        f"/console/{m.id}/rounds/1/extend",
        data={"csrf": m.csrf, **local_fields("closes", in_days(5))},
        follow_redirects=False,
    )
    assert r.status_code == 409


def test_a_restart_opens_and_closes_what_came_due_while_stopped(
    settings: Settings, tmp_path: Path
) -> None:
    """Nothing in memory: the next start opens a scheduled round whose time has come and
    closes one whose period ended while the server was down."""
    with LiveServer(settings) as first:
        f = first.browser()
        f.get(f"/facilitator?key={FACILITATOR_KEY}")
        m = with_survey(Meeting(f))
        open_online(m, in_days(9), in_days(1))
        set_times(first, m, 1, opens_at=utcnow() - timedelta(minutes=5))
    with LiveServer(settings) as second:
        rnd = stored_round(second, m, 1)  # read before any request: start-up did it
        assert rnd.status == "open" and rnd.opens_at is None
        set_times(second, m, 1, closes_at=utcnow() - timedelta(seconds=1))
    with LiveServer(settings) as third:
        rnd = stored_round(third, m, 1)
        assert rnd.status == "closed" and rnd.turnout is not None


def test_the_closers_pass_opens_and_closes_a_period_that_passed_entirely(
    survey_meeting: Meeting, server: LiveServer
) -> None:
    """Both due in one pass (a server down for the whole period): opened, then closed."""
    m = survey_meeting
    services = server.app.state.services
    # The server's own task stopped, so this pass is the one that does it.
    asyncio.run_coroutine_threadsafe(services.countdowns.aclose(), services.loop).result()
    open_online(m, in_days(4), in_days(1))
    set_times(
        server,
        m,
        1,
        opens_at=utcnow() - timedelta(days=2),
        closes_at=utcnow() - timedelta(days=1),
    )
    changed, _ = countdowns.close_due_now(services.engine, lambda _: False)
    assert changed == [m.id]
    kinds = [k for k, _ in audit_kinds(m)]
    assert kinds.index("round.online_opened") < kinds.index("round.closed")
