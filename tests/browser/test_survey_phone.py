"""A survey round on a phone in Welsh (issue 15): one service per screen with Nesaf / Yn ôl,
"1 o 2 gwasanaeth wedi'u hateb", answers saved as they are given, and a reload coming back to
the same screen with the answers shown; axe-core on the survey's screens."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser.conftest import (
    WAIT_MS,
    Contexts,
    api_state,
    axe,
    open_phone,
    screenshot,
    wait_for,
)
from tests.conftest import FACILITATOR_KEY, LiveServer, Meeting, Phone
from tests.test_survey_round import SURVEY

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect
expect.set_options(timeout=WAIT_MS)


def survey_meeting(live: LiveServer) -> Meeting:
    """The test meeting with the Ashdown survey, its survey round open."""
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    meeting = Meeting(f)
    meeting.post("/survey/import", text=json.dumps(SURVEY, ensure_ascii=False))
    meeting.post("/rounds", kind="survey")
    return meeting


def marks(page: Any, code: str) -> dict[str, str]:
    ballot = api_state(page, code)["you"]["ballot"]
    return dict(ballot["marks"]) if ballot else {}


def test_a_phone_answers_two_services_in_welsh_and_comes_back(
    contexts: Contexts, live: LiveServer
) -> None:
    """Screen 1 (the mobile library) in Welsh; its answers are saved as they are given; Next
    shows the parks alone; a reload comes back to the parks with the answers; Back shows the
    library's answers; the hours hide while "would do more" is "none of these"."""
    meeting = survey_meeting(live)
    page = contexts.phone(locale="cy-GB")
    open_phone(page, f"/m/{meeting.code}?lang=cy")
    first = page.locator("#survey-page-1")
    expect(first).to_be_visible()
    expect(page.locator("#survey-page-2")).to_be_hidden()
    expect(first.locator("legend").first).to_contain_text("Llyfrgell deithiol")
    expect(page.locator("#survey-progress")).to_have_text("0 o 2 gwasanaeth wedi'u hateb")
    axe(page, "phone: survey screen 1 (Cymraeg)")

    value = first.get_by_role("group", name="Faint ydych chi'n gwerthfawrogi Llyfrgell deithiol?")
    value.get_by_label("4", exact=True).check()
    first.get_by_label("Yn aml", exact=True).check()
    expect(page.locator("#save-status")).to_have_text("Mae eich pleidlais wedi'i chadw")
    wait_for(lambda: marks(page, meeting.code).get("library.need") == "often", "need saved")
    expect(page.locator("#survey-progress")).to_have_text("1 o 2 gwasanaeth wedi'u hateb")
    hours = first.locator('[data-item="library.hours"]')
    expect(hours).to_be_visible()
    more = first.get_by_role("group", name="A fyddech chi'n gwneud mwy i helpu Llyfrgell deithiol?")
    more.get_by_label("Dim un o'r rhain", exact=True).check()
    expect(hours).to_be_hidden()

    page.get_by_role("button", name="Nesaf").click()
    second = page.locator("#survey-page-2")
    expect(second).to_be_visible()
    expect(second).to_be_focused()
    expect(first).to_be_hidden()
    expect(second.locator("legend").first).to_contain_text("Parciau")
    second.get_by_role("group", name="Faint ydych chi'n gwerthfawrogi Parciau?").get_by_label(
        "Yn fawr iawn", exact=True
    ).check()
    wait_for(lambda: marks(page, meeting.code).get("parks.value") == "5", "parks saved")
    expect(page.locator("#survey-progress")).to_have_text("2 o 2 gwasanaeth wedi'u hateb")
    axe(page, "phone: survey screen 2 (Cymraeg)")
    assert marks(page, meeting.code) == {
        "library.value": "4",
        "library.need": "often",
        "library.more": "none",
        "parks.value": "5",
    }

    # Later: the phone comes back to the same screen, its answers there.
    page.reload()
    expect(page.locator("#survey-page-2")).to_be_visible()
    expect(page.locator("#survey-page-1")).to_be_hidden()
    expect(page.locator('input[name="mark:parks.value"][value="5"]')).to_be_checked()
    page.get_by_role("button", name="Yn ôl").click()
    expect(page.locator("#survey-page-1")).to_be_visible()
    expect(page.locator('input[name="mark:library.value"][value="4"]')).to_be_checked()
    expect(page.locator('input[name="mark:library.need"][value="often"]')).to_be_checked()
    expect(page.locator('[data-item="library.hours"]')).to_be_hidden()
    # The last screen (the area) says the answers are kept; the area's Welsh label shows.
    for _ in range(3):
        page.get_by_role("button", name="Nesaf").click()
    expect(page.locator("#survey-page-4")).to_be_visible()
    expect(page.get_by_text("Ward y Gogledd")).to_be_visible()
    expect(page.get_by_role("button", name="Nesaf")).to_be_hidden()
    axe(page, "phone: survey last screen (Cymraeg)")


def test_the_set_up_pages_survey_section_and_the_run_pages_survey_form_pass_axe(
    contexts: Contexts, live: LiveServer
) -> None:
    """The Survey section (summary, import, from proposals, services and areas tables) and the
    Run page's "Open a round: Community survey" are accessible; the export link downloads."""
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    meeting = Meeting(f)
    meeting.post("/survey/import", text=json.dumps(SURVEY, ensure_ascii=False))
    page = contexts.facilitator()
    page.goto(f"/console/{meeting.id}/setup#survey")
    expect(page.locator("#survey-summary")).to_contain_text("Services in Ashdown")
    expect(page.get_by_label("Welsh title of service 1")).to_have_value("Llyfrgell deithiol")
    axe(page, "console: set-up with a survey")
    page.goto(f"/console/{meeting.id}")
    form = page.locator('section[data-kind="survey"]')
    expect(form).to_contain_text("It asks all 10 questions.")
    axe(page, "console: run page with a survey")
    form.get_by_role("button", name="Open the round").click()
    expect(page.locator("#next")).to_have_attribute("data-step", "open")


def test_a_survey_round_opening_while_the_phone_waits_shows_its_first_screen(
    contexts: Contexts, live: LiveServer
) -> None:
    """The section the server pushes when the round opens is laid out as screens too."""
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    meeting = Meeting(f)
    meeting.post("/survey/import", text=json.dumps(SURVEY, ensure_ascii=False))
    page = contexts.phone()
    open_phone(page, f"/m/{meeting.code}")
    expect(page.locator("#ballot")).to_have_attribute("data-round-status", "none")
    meeting.post("/rounds", kind="survey")
    expect(page.locator("#survey-page-1")).to_be_visible()
    expect(page.locator("#survey-page-2")).to_be_hidden()
    expect(page.get_by_role("button", name="Next")).to_be_visible()
    expect(page.locator("#survey-progress")).to_have_text("0 of 2 services answered")


def test_the_projector_shows_the_survey_s_charts_once_revealed(
    contexts: Contexts, live: LiveServer
) -> None:
    """A projector that is showing the round gets the service map and the other charts as
    pages once the results are revealed (drawn on the server, in its language); axe-core."""
    meeting = survey_meeting(live)
    for value in ("5", "4", "3"):
        p = Phone(live.browser(), meeting.code)
        assert p.vote({"library.value": value, "library.satisfaction": "2"}).status_code == 200
    projector = contexts.desktop(1920, 1080)
    projector.goto(f"/p/{meeting.code}?lang=cy")
    meeting.close_round(1)
    meeting.reveal(1)
    chart = projector.locator(".result-chart svg[role=img]").first
    expect(chart).to_be_visible()
    expect(projector.locator(".result-chart h3").first).to_have_text(
        "Map y gwasanaethau: gwerth a bodlonrwydd"
    )
    axe(projector, "projector: survey charts (Cymraeg)")
    screenshot(projector, "projector-survey-charts")


def test_the_demo_survey_s_results_page_passes_axe(contexts: Contexts, live: LiveServer) -> None:
    """The console's page for the demo survey's round: the service map, need, co-production and
    the area map with their tables, in English and Welsh; axe-core on both."""
    from concurrent.futures import ThreadPoolExecutor

    from app.console import demo_survey

    with ThreadPoolExecutor(1) as pool:  # seed runs its own event loop; Playwright's is here
        engine = live.app.state.services.engine
        meeting = pool.submit(demo_survey.seed, engine, 200).result()
    page = contexts.desktop(1280, 900)
    page.goto(f"/facilitator?key={FACILITATOR_KEY}")
    page.goto(f"/console/{meeting.id}/rounds/1")
    expect(page.locator("#area-map svg[role=img]")).to_be_visible()
    charts = page.locator(".survey-chart svg[role=img]")
    expect(charts).to_have_count(5)  # four charts and the area map
    axe(page, "console: survey results with the area map")
    screenshot(page, "console-survey-results", full_page=True)
    page.goto(f"/console/{meeting.id}/rounds/1?lang=cy&map_figure=value")
    expect(page.locator("#survey-map-h")).to_contain_text("fesul ardal")
    axe(page, "console: survey results (Cymraeg)")
