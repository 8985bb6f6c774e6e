"""A survey on paper in a real browser (issue 15): the printed questionnaire fits its A4 pages
with the sheet number on each; two people key two sheets on the console by keyboard alone,
one mismatch is found and fixed, the sheets are counted and the round's results show them;
axe-core on the keying page and the questionnaire."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser.conftest import WAIT_MS, Contexts, axe, screenshot
from tests.browser.e2e import key_sheet
from tests.conftest import FACILITATOR_KEY, LiveServer, Meeting
from tests.test_survey_round import SURVEY

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect
expect.set_options(timeout=WAIT_MS)

A4_CONTENT_PX = 267 / 25.4 * 96  # 297 mm less paper_print.html's @page margins (14 + 16 mm)
A4_WIDTH_PX = round(182 / 25.4 * 96)  # 210 mm less 2 x 14 mm

# Twelve services with every standard question, two custom questions and the areas: a
# council's full questionnaire.
SERVICES = [
    ("library", "Mobile library"),
    ("parks", "Parks and open spaces"),
    ("toilets", "Public toilets"),
    ("bins", "Bin collections and recycling"),
    ("roads", "Roads and pavements"),
    ("lights", "Street lighting"),
    ("youth", "Youth clubs"),
    ("care", "Day care for older people"),
    ("leisure", "Leisure centre"),
    ("buses", "Community buses"),
    ("advice", "Advice services"),
    ("museum", "Museum"),
]
FULL: dict[str, Any] = {
    **SURVEY,
    "services": [{"id": k, "title": t} for k, t in SERVICES],
    "questions": [
        *SURVEY["questions"],
        {"id": "ideas", "type": "text", "title": "One thing we should change?"},
    ],
}


def survey_meeting(live: LiveServer, spec: dict[str, Any]) -> Meeting:
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    meeting = Meeting(f)
    meeting.post("/survey/import", text=json.dumps(spec, ensure_ascii=False))
    meeting.post("/rounds", kind="survey")
    return meeting


@pytest.mark.parametrize("lang", ["en", "en+cy"])
def test_the_printed_questionnaire_fits_a4_with_the_sheet_number_on_every_page(
    contexts: Contexts, live: LiveServer, lang: str
) -> None:
    """Twelve services, in English and in English and Welsh: printed, each page of a sheet
    is no taller than A4's printable height (a service split between pages only when it
    cannot fit on one), every question is on it once, and every page names the sheet."""
    meeting = survey_meeting(live, FULL)
    page = contexts.desktop(A4_WIDTH_PX, 1000)
    page.goto(f"/facilitator?key={FACILITATOR_KEY}")
    page.goto(f"/console/{meeting.id}/rounds/1/paper/print?from=7&count=2&lang={lang}")
    axe(page, f"print: survey questionnaire ({lang})")
    page.emulate_media(media="print")
    sheet = page.locator("section.sheet").first
    pages = sheet.locator(".survey-page")
    count = pages.count()
    assert count >= 3  # 12 services do not fit on one or two pages
    top = sheet.bounding_box()["y"]
    for i in range(count):
        box = pages.nth(i).bounding_box()
        start = top if i == 0 else box["y"]  # the first page starts with the sheet's heading
        end = box["y"] + box["height"]
        if i == count - 1:  # the office-use line closes the last page
            office = sheet.locator(".office").bounding_box()
            end = office["y"] + office["height"]
        assert end - start <= A4_CONTENT_PX, f"page {i + 1} is {end - start:.0f}px tall"
        if i > 0:
            expect(pages.nth(i).locator(".page-head")).to_contain_text("Sheet 0007")
    for key, title in SERVICES:
        expect(sheet.locator(f'[data-group="{key}"] h2').first).to_contain_text(title)
    expect(sheet.locator("tr[data-proposal]")).to_have_count(12 * 6 + 2 + 1)
    if lang == "en":  # in one language a service always fits on a page: none is split
        expect(sheet.locator("[data-continued]")).to_have_count(0)
    screenshot(page, f"survey-paper-print-{lang}", full_page=True)


def test_two_keyings_by_keyboard_a_mismatch_fixed_and_counted(
    contexts: Contexts, live: LiveServer
) -> None:
    """Keying 1 and keying 2 each key sheets 1 and 2; one tick-all box differs on sheet 2 and
    is listed with both readings; keying 2 keys it again; Count stores two paper responses,
    which the round's results count."""
    meeting = survey_meeting(live, SURVEY)
    page = contexts.facilitator()
    base = f"/console/{meeting.id}/rounds/1/paper"
    one = [
        ("library.value", "4"),
        ("library.need", "often"),
        ("library.contributes", "volunteer;group"),
        ("library.hours", "6"),
        ("parks.satisfaction", "dont_use"),
        ("q.travel", "bus"),
        ("area", "north"),
    ]
    two = [("library.value", "2"), ("library.more", "neighbour"), ("area", "south")]
    page.goto(f"{base}/key/1")
    axe(page, "console: paper keying, survey")
    # A slip in the hours is caught before the sheet is posted, so nothing keyed is lost.
    page.locator("#sheet").fill("1")
    page.locator("input[name='mark:library.hours']").fill("150")
    page.get_by_role("button", name="Save this sheet (keying 1)").click()
    assert page.locator("input[name='mark:library.hours']").evaluate("e => !e.validity.valid")
    expect(page.locator("#keyed")).to_have_text("None yet.")
    page.goto(f"{base}/key/1")
    key_sheet(page, "1", one)
    key_sheet(page, "2", two)
    screenshot(page, "survey-paper-keying", full_page=True)
    page.goto(f"{base}/key/2")
    key_sheet(page, "1", one)
    key_sheet(page, "2", [*two[:1], ("library.more", "neighbour;group"), *two[2:]])

    page.goto(base)
    row = page.locator('#mismatches tr[data-sheet="2"]')
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Would you do more to help Mobile library?")
    expect(row.locator("td").nth(1)).to_have_text("Help a neighbour")
    expect(row.locator("td").nth(2)).to_have_text("Help a neighbour; Community group")
    axe(page, "console: paper status, survey mismatch")

    page.goto(f"{base}/key/2")
    key_sheet(page, "2", two)
    page.goto(base)
    expect(page.locator("#mismatches")).to_have_count(0)
    page.get_by_role("button", name="Count 2 matching sheets").click()
    expect(page.locator(".notice")).to_contain_text("Counted 2 sheet(s): 1\u20132.")

    state = meeting.state()
    assert state["turnout"]["by_channel"]["paper"] == 2
    meeting.close_round(1)
    page.goto(f"/console/{meeting.id}/rounds/1")
    value = page.locator('[data-item="library.value"]')
    expect(value.locator('[data-answer="4"] td')).to_have_text("1")
    expect(value.locator('[data-answer="2"] td')).to_have_text("1")
    expect(value.locator('[data-answer="5"] td')).to_have_text("0")
    expect(page.locator("[data-survey-respondents]")).to_have_attribute(
        "data-survey-respondents", "2"
    )
