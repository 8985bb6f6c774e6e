"""A survey online for a set period (issue 15) in a real browser: the phone says until when it
is open; a respondent answers two services, closes the page, comes back later in the same
browser to the screen they were on with "2 of 3 services answered", and finishes. The Run
page's "Open online" form and its online step pass axe-core."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.voting.models import utcnow
from tests.browser.conftest import WAIT_MS, Contexts, api_state, axe, open_phone, wait_for
from tests.conftest import FACILITATOR_KEY, LiveServer, Meeting
from tests.test_survey_online import local_fields, set_times, wake_closer
from tests.test_survey_round import SURVEY, survey_text

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect
expect.set_options(timeout=WAIT_MS)

# The Ashdown survey with a third service, so two answered is not all of them.
THREE: dict[str, Any] = copy.deepcopy(SURVEY)
THREE["services"].append({"id": "toilets", "title": "Park toilets", "questions": ["value"]})


def online_meeting(live: LiveServer, days: int = 21) -> Meeting:
    """A meeting with the three-service survey, online from now for `days` days."""
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    meeting = Meeting(f)
    meeting.post("/survey/import", text=survey_text(THREE))
    closes = (utcnow() + timedelta(days=days)).replace(second=0, microsecond=0)
    meeting.post("/rounds/online", kind="survey", **local_fields("closes", closes))
    return meeting


def marks(page: Any, code: str) -> dict[str, str]:
    ballot = api_state(page, code)["you"]["ballot"]
    return dict(ballot["marks"]) if ballot else {}


def test_a_respondent_answers_two_services_leaves_and_comes_back_to_finish(
    contexts: Contexts, live: LiveServer
) -> None:
    meeting = online_meeting(live)
    page = contexts.phone()
    open_phone(page, f"/m/{meeting.code}")
    expect(page.locator("#online-when")).to_contain_text("Open until")
    closes = api_state(page, meeting.code)["round"]["online"]["closes_at"]
    assert closes.endswith("Z")
    expect(page.locator("#online-when")).to_contain_text(" at ")
    expect(page.locator("#countdown")).to_be_hidden()
    axe(page, "phone: survey online, screen 1")

    page.locator('input[name="mark:library.value"][value="4"]').check()
    wait_for(lambda: marks(page, meeting.code).get("library.value") == "4", "library saved")
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#survey-page-2")).to_be_visible()
    page.locator('input[name="mark:parks.value"][value="5"]').check()
    wait_for(lambda: marks(page, meeting.code).get("parks.value") == "5", "parks saved")
    expect(page.locator("#survey-progress")).to_have_text("2 of 3 services answered")
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#survey-page-3")).to_be_visible()

    # The respondent closes the page; days later the same browser opens the link again.
    context = page.context
    page.close()
    later = context.new_page()
    later.goto(f"/m/{meeting.code}")
    expect(later.locator("#survey-progress")).to_have_text("2 of 3 services answered")
    expect(later.locator("#survey-page-3")).to_be_visible()
    expect(later.locator("#survey-page-1")).to_be_hidden()
    later.locator('input[name="mark:toilets.value"][value="2"]').check()
    wait_for(lambda: marks(later, meeting.code).get("toilets.value") == "2", "toilets saved")
    expect(later.locator("#survey-progress")).to_have_text("3 of 3 services answered")
    got = marks(later, meeting.code)
    assert (got["library.value"], got["parks.value"], got["toilets.value"]) == ("4", "5", "2")
    state = api_state(later, meeting.code)
    assert state["turnout"]["voted"] == 1  # one response, continued


def test_the_run_pages_open_online_form_and_online_step_pass_axe(
    contexts: Contexts, live: LiveServer
) -> None:
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    meeting = Meeting(f)
    meeting.post("/survey/import", text=survey_text(THREE))
    page = contexts.facilitator()
    page.goto(f"/console/{meeting.id}")
    form = page.locator("#open-online")
    expect(form).to_be_visible()
    expect(page.get_by_label("Closing date")).to_have_attribute("type", "date")
    axe(page, "console: Run page, Open online")

    page.get_by_label("At the date and time below").check()
    page.get_by_label("Opening date").fill("2000-01-01")  # in the past: refused, said so
    form.get_by_role("button", name="Open online").click()
    expect(page.locator("body")).to_contain_text("The opening is in the past.")

    page.goto(f"/console/{meeting.id}")
    tomorrow = f"{datetime.now(ZoneInfo('Europe/London')) + timedelta(days=1):%Y-%m-%d}"
    page.get_by_label("At the date and time below").check()
    page.get_by_label("Opening date").fill(tomorrow)
    page.locator("#open-online").get_by_role("button", name="Open online").click()
    expect(page.locator("#online-period")).to_contain_text("opens online on")
    axe(page, "console: Run page, online step")


def test_a_waiting_phone_gets_the_survey_when_the_server_opens_it(
    contexts: Contexts, live: LiveServer
) -> None:
    """A phone left on "This survey opens on …" gets the first screen by itself when the
    server's task opens the round (the clock moved by moving `opens_at`), no reload."""
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    meeting = Meeting(f)
    meeting.post("/survey/import", text=survey_text(THREE))
    opens, closes = utcnow() + timedelta(days=1), utcnow() + timedelta(days=8)
    fields = {"opens": "at", **local_fields("opens", opens), **local_fields("closes", closes)}
    meeting.post("/rounds/online", kind="survey", **fields)
    page = contexts.phone()
    open_phone(page, f"/m/{meeting.code}")
    expect(page.locator("#online-when")).to_contain_text("This survey opens on")
    expect(page.locator("#ballot-form")).to_have_count(0)

    set_times(live, meeting, 1, opens_at=utcnow() - timedelta(seconds=1))
    wake_closer(live)
    expect(page.locator("#survey-page-1")).to_be_visible()
    expect(page.locator("#online-when")).to_contain_text("Open until")
    page.locator('input[name="mark:library.value"][value="3"]').check()
    wait_for(lambda: marks(page, meeting.code).get("library.value") == "3", "answer saved")
