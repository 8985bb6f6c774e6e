"""A Community Survey run end to end in the browser (issue 15): set up in the console (the
meeting file, the survey file with three services, the areas' boundaries, the keypads), opened
with keypads; a resident at home (an internet address: channel "remote") answers two services
and closes the page; six phones answer one service per screen; three keypads answer the keyed
questions through an emulated KPL/1 receiver while the Run page steps through them; two paper
sheets are keyed twice by keyboard, one mismatch found and keyed again, and counted; the
resident comes back to the screen they left and finishes; the Run page's counts by channel;
closed and revealed; the projector shows the service map (its SVG and its table) and the area
map; the console's results page; the report PDF downloaded and read, its responses by channel
among them. axe-core on every page visited.

The module is one story on one server, told by helpers (`set_up`, `start_online`,
`answer_by_phone`, `answer_by_keypads`, `answer_on_paper`, `finish_online`,
`close_and_reveal`, ...), so another channel is a helper and a line in the story, with its
count in `EXPECTED_CHANNELS`.

The online respondent answers the round the room answers, opened in the room: a survey round
opened online for a set period ("Open online") takes no keypads, and a resident following the
meeting from home reaches the same link; their browser's address makes them "remote", the
channel the report's "Responses by channel" names. The period's own dates are
tests/browser/test_survey_online.py's.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from hardware.emulator import KplEmulator
from tests.browser import e2e
from tests.browser.conftest import (
    WAIT_MS,
    Contexts,
    api_state,
    axe,
    open_about_you,
    open_phone,
    screenshot,
    wait_for,
)
from tests.browser.e2e import Console, key_sheet
from tests.conftest import LiveServer
from tests.test_keypads import eventually
from tests.test_report import pdf_text

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect
expect.set_options(timeout=WAIT_MS)

pytestmark = pytest.mark.slow

# The server with an emulated keypad receiver plugged in (replaces conftest's `live`).
emulator = e2e.emulator
live = e2e.live

# m = 2: a group of one is hidden, two are shown (the report's suppression is checked below).
MEETING: dict[str, Any] = {
    "title": "Brookfield services evening",
    "rule": {"ratio": 2, "group_min": 2},
    "segments": [
        {"id": "carer", "label": "Carer", "protects": True},
        {"id": "young", "label": "Under 25", "protects": False},
    ],
    "proposals": [{"id": "library", "title": "Mobile library", "kind": "keep", "saving": 1000}],
}
SURVEY: dict[str, Any] = {
    "format": "covote-survey/1",
    "title": "Services in Brookfield",
    "services": [
        {
            "id": "library",
            "title": "Mobile library",
            "questions": ["value", "need", "satisfaction", "more"],
            "translations": {"cy": {"title": "Llyfrgell deithiol"}},
        },
        {"id": "parks", "title": "Parks", "questions": ["value", "need", "satisfaction"]},
        {"id": "youth", "title": "Youth club", "questions": ["value", "need", "satisfaction"]},
    ],
    "areas": [
        {"id": "north", "label": "North ward", "code": "E05990101"},
        {"id": "south", "label": "South ward", "code": "E05990102"},
    ],
}
SERVICES = ("Mobile library", "Parks", "Youth club")
# The area map shows the most needed service's need score: all who answered for the youth
# club use it often (100); the library's users are mixed.
AREA_MAP_TITLE = "Need score (0-100) by area: Youth club"


def _square(key: str, code: str, x: float) -> dict[str, Any]:
    ring = [[x, 52.0], [x + 0.1, 52.0], [x + 0.1, 52.1], [x, 52.1], [x, 52.0]]
    return {
        "type": "Feature",
        "properties": {"name": key.title(), "code": code},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


# Named by official code (as a council's file would be), not by the survey's ids.
BOUNDARIES = {
    "type": "FeatureCollection",
    "features": [_square("north", "E05990101", -2.0), _square("south", "E05990102", -1.9)],
}
KEYPADS = "keypad,label,segments\nkpl:0A0001,1,carer\nkpl:0A0002,2,young\nkpl:0A0003,3,\n"

# What each phone answers: its segments, then the answers on each screen (item: value; a
# list: the ways ticked on a multiple choice). "area" is the last screen's.
PHONES: list[tuple[tuple[str, ...], dict[str, str | list[str]]]] = [
    (("Carer",), {"library.value": "5", "library.need": "often", "library.satisfaction": "2",
                  "library.more": ["group"], "parks.value": "3", "youth.value": "2",
                  "youth.satisfaction": "2", "area": "north"}),
    (("Carer",), {"library.value": "4", "library.need": "often", "library.satisfaction": "1",
                  "parks.value": "4", "parks.need": "sometimes", "parks.satisfaction": "2",
                  "area": "north"}),
    (("Under 25",), {"library.value": "3", "library.need": "sometimes",
                     "library.satisfaction": "3", "library.more": ["volunteer"],
                     "youth.value": "5", "youth.need": "often", "youth.satisfaction": "4",
                     "area": "south"}),
    (("Under 25",), {"library.value": "4", "library.need": "never", "youth.value": "4",
                     "youth.need": "often", "youth.satisfaction": "3", "area": "south"}),
    ((), {"library.value": "2", "parks.value": "5", "parks.satisfaction": "5", "area": "north"}),
    ((), {"library.value": "5", "library.need": "often", "library.satisfaction": "2",
          "parks.value": "2", "youth.value": "3"}),
]  # fmt: skip
# What the keypads press at each keyed question they answer (keypad id -> key); the Run page
# steps over the others. The area's keys are its areas in order: 1 North, 2 South.
KEYPAD_PRESSES: dict[str, dict[str, str]] = {
    "library.value": {"0A0001": "4", "0A0002": "5", "0A0003": "3"},
    "library.need": {"0A0001": "3", "0A0002": "3", "0A0003": "2"},
    "area": {"0A0001": "1", "0A0002": "2", "0A0003": "2"},
}
# The paper sheets (sheet number: item, value; "a;b" ticks both boxes), keyed twice. Keying 2
# first misreads sheet 2's `MISREAD` (PAPER_SLIP), which the paper page lists; keyed again,
# the sheets match and are counted.
PAPER: dict[str, list[tuple[str, str]]] = {
    "1": [("library.value", "5"), ("library.more", "volunteer;group"), ("parks.value", "3"),
          ("youth.need", "often"), ("area", "north")],
    "2": [("library.value", "3"), ("parks.value", "4"), ("parks.satisfaction", "4"),
          ("area", "south")],
}  # fmt: skip
MISREAD = ("parks.satisfaction", "4", "2")  # the item, its value on the sheet, keying 2's slip
# The resident online: two services, then (coming back) the third and the area.
ONLINE_FIRST = {"library.value": "4", "library.satisfaction": "3", "parks.value": "5"}
ONLINE_REST = {"youth.value": "5", "youth.need": "often", "area": "south"}
HOME_ADDRESS = "81.2.69.142"  # a public address: the server sees it through X-Forwarded-For
# Each channel's respondents, in the order the report and the console list them.
EXPECTED_CHANNELS = {"phone": len(PHONES), "remote": 1, "keypad": 3, "paper": len(PAPER)}
CONSOLE_COLUMNS = {
    "phone": "Phones in the room",
    "remote": "Online",
    "keypad": "Keypads",
    "paper": "Paper",
}
REPORT_CHANNEL_NAMES = {
    "phone": "Phone in the room",
    "remote": "Remote",
    "keypad": "Keypad",
    "paper": "Paper",
}


# --- the story's steps ---------------------------------------------------------------------------


def set_up(console: Console) -> None:
    """The meeting imported from its file, then in Set-up the survey, the areas' boundaries,
    and under Keypads the three keypads."""
    page = console.page
    console.import_meeting(json.dumps(MEETING))
    page.goto(f"/console/{console.id}/setup#survey")
    console.upload(
        f'form[action="/console/{console.id}/survey/import"]', "#survey-file", "survey.json",
        json.dumps(SURVEY), "application/json",
    )  # fmt: skip
    expect(page.locator("#survey-summary")).to_contain_text("Services in Brookfield")
    console.upload(
        f'form[action="/console/{console.id}/survey/boundaries"]', "#survey-boundaries",
        "brookfield.geojson", json.dumps(BOUNDARIES), "application/geo+json",
    )  # fmt: skip
    expect(page.get_by_text("The area map is saved: all 2 areas drawn.")).to_be_visible()
    axe(page, "console: set-up with a survey and its area map")
    page.goto(f"/console/{console.id}/keypads")
    console.upload(
        f'form[action="/console/{console.id}/keypads/import"]', "#kp-csv", "keypads.csv",
        KEYPADS, "text/csv",
    )  # fmt: skip


def open_with_keypads(console: Console, emulator: KplEmulator) -> None:
    """The Run page's "Open a round: Community survey", keypads answering too."""
    page = console.page
    page.goto(f"/console/{console.id}")
    form = page.locator('section[data-kind="survey"]')
    form.locator("input[name=keypads]").check()
    with page.expect_navigation():
        form.get_by_role("button", name="Open the round").click()
    expect(page.locator(".stepper")).to_be_visible()
    eventually(lambda: console.keypad_status()["receivers"][0]["state"] == "connected")
    eventually(lambda: emulator.accepting)
    axe(page, "console: run page, a survey open with keypads")


def tick(screen: Any, answers: Mapping[str, Any]) -> None:
    """Check, on one screen of the phone's survey, every answer of `answers` it asks (a list:
    each box of a multiple choice)."""
    for key, value in answers.items():
        for v in value if isinstance(value, list) else [value]:
            box = screen.locator(f'input[name="mark:{key}"][value="{v}"]')
            if box.count():
                box.check()


def saved_marks(page: Any, code: str) -> dict[str, str]:
    """The answers the server holds for the page's browser (none yet: empty)."""
    ballot = api_state(page, code)["you"]["ballot"]
    return dict(ballot["marks"]) if ballot else {}


def start_online(contexts: Contexts, code: str) -> Any:
    """A resident at home (a public address, so the server counts them "remote") opens the
    meeting's link, answers the first two services' screens, reaches the third and closes the
    page there. Returns their browser (its cookies and stored screen) to come back with."""
    page = contexts.phone(extra_http_headers={"X-Forwarded-For": HOME_ADDRESS})
    open_phone(page, f"/m/{code}")
    for n in (1, 2):
        screen = page.locator(f"#survey-page-{n}")
        expect(screen).to_be_visible()
        tick(screen, ONLINE_FIRST)
        page.get_by_role("button", name="Next").click()
    expect(page.locator("#survey-page-3")).to_be_visible()
    wait_for(lambda: saved_marks(page, code) == ONLINE_FIRST, "the first two services saved")
    expect(page.locator("#survey-progress")).to_have_text("2 of 3 services answered")
    context = page.context
    page.close()
    return context


def finish_online(context: Any, code: str) -> None:
    """The resident comes back later in the same browser: the survey opens at the screen
    they left, with their progress; they answer the rest and the one response is complete."""
    page = context.new_page()
    page.goto(f"/m/{code}")
    expect(page.locator("#survey-progress")).to_have_text("2 of 3 services answered")
    expect(page.locator("#survey-page-3")).to_be_visible()
    expect(page.locator("#survey-page-1")).to_be_hidden()
    axe(page, "phone: an online respondent back at the screen they left")
    tick(page.locator("#survey-page-3"), ONLINE_REST)
    page.get_by_role("button", name="Next").click()
    area = page.locator("#survey-page-4")
    expect(area).to_be_visible()
    tick(area, ONLINE_REST)
    expect(page.locator("#survey-progress")).to_have_text("3 of 3 services answered")
    want = {**ONLINE_FIRST, **ONLINE_REST}
    wait_for(lambda: saved_marks(page, code) == want, "the online response finished")


def answer_by_phone(
    contexts: Contexts, code: str, segments: tuple[str, ...], answers: Mapping[str, Any]
) -> Any:
    """One phone (its own browser context): join, say who they are, then each service's
    screen in turn (Next), the area on the last; every answer saved as it is given."""
    page = contexts.phone()
    open_phone(page, f"/m/{code}")
    if segments:
        open_about_you(page)
        for name in segments:
            page.get_by_role("checkbox", name=name).check()
        expect(page.locator("#segments-status")).to_have_text("Your answers are saved")
    screens = page.locator("[id^=survey-page-]")
    for n in range(1, screens.count() + 1):
        screen = page.locator(f"#survey-page-{n}")
        expect(screen).to_be_visible()
        tick(screen, answers)
        if n < screens.count():
            page.get_by_role("button", name="Next").click()
    want = {k: (",".join(v) if isinstance(v, list) else v) for k, v in answers.items()}
    wait_for(lambda: saved_marks(page, code) == want, "the phone's answers saved")
    return page


def answer_by_keypads(console: Console, emulator: KplEmulator) -> None:
    """The Run page steps through the keyed questions (Next); at each one KEYPAD_PRESSES
    names, the keypads press and the step's count shows them."""
    page = console.page
    seq = 0
    pressed: set[str] = set()
    while True:
        step = console.keypad_status()["step"]
        key = step["proposal"]
        if key in KEYPAD_PRESSES and key not in pressed:
            seq += 1
            eventually(lambda: emulator.accepting)
            for keypad, press in KEYPAD_PRESSES[key].items():
                emulator.press(keypad, press, seq=seq)
            eventually(functools.partial(console.keypads_counted, len(KEYPAD_PRESSES[key])))
            pressed.add(key)
        if pressed == set(KEYPAD_PRESSES):
            return
        following = page.locator(".stepper").get_by_role("button", name="Next")
        assert following.count(), f"the Run page has no next keyed question after {key}"
        with page.expect_navigation():
            following.click()
        expect(page.locator("#step-h")).not_to_contain_text(f" {step['index'] + 1} of ")


def answer_on_paper(console: Console) -> None:
    """The paper sheets keyed twice on the console by keyboard (tests/browser/e2e.py's
    `key_sheet`), keying 2 slipping on one answer; the paper page lists
    the mismatch with both readings; keying 2 keys that sheet again, and Count stores the
    matching sheets as paper responses in the round the phones and keypads answer."""
    page = console.page
    base = f"/console/{console.id}/rounds/1/paper"
    item, right, slip = MISREAD
    page.goto(f"{base}/key/1")
    axe(page, "console: paper keying, the round open with phones and keypads")
    for sheet, answers in PAPER.items():
        key_sheet(page, sheet, answers)
    page.goto(f"{base}/key/2")
    for sheet, answers in PAPER.items():
        key_sheet(page, sheet, [(k, slip if (sheet, k) == ("2", item) else v) for k, v in answers])

    page.goto(base)
    rows = page.locator("#mismatches tbody tr")
    expect(rows).to_have_count(1)
    row = rows.first
    expect(row).to_have_attribute("data-sheet", "2")
    expect(row.locator("td").nth(0)).to_have_text("How satisfied are you with Parks?")
    expect(row.locator("td").nth(1)).to_have_text(right)  # the scale's labels: "4", "2"
    expect(row.locator("td").nth(2)).to_have_text(slip)
    axe(page, "console: paper status, a survey sheet mismatched")

    page.goto(f"{base}/key/2")
    key_sheet(page, "2", PAPER["2"])
    page.goto(base)
    expect(page.locator("#mismatches")).to_have_count(0)
    page.get_by_role("button", name=f"Count {len(PAPER)} matching sheets").click()
    expect(page.locator(".notice")).to_contain_text(f"Counted {len(PAPER)} sheet(s): 1\u20132.")


def check_channels_on_console(console: Console) -> None:
    """The Run page's "By channel:" line counts each channel's respondents."""
    page = console.page
    page.goto(f"/console/{console.id}")
    for channel, n in EXPECTED_CHANNELS.items():
        expect(page.locator(f'#channels [data-channel="{channel}"] strong')).to_have_text(str(n))


def close_and_reveal(console: Console) -> None:
    console.post("/rounds/1/close", confirm="yes")
    console.post("/rounds/1/reveal")


def check_projector(projector: Any) -> None:
    """The service map first, as an image named by its title with its table beside it for
    screen readers; the pages turn (→) to the area map."""
    chart = projector.locator(".result-chart").first
    expect(chart.locator("svg[role=img]")).to_be_visible()
    expect(chart.locator("h3")).to_have_text("The service map: value and satisfaction")
    table = chart.locator(".chart-table table")
    expect(table.locator("tbody tr")).to_have_count(len(SERVICES))
    for name in SERVICES:
        expect(table).to_contain_text(name)
    # The pager counts pages, not "Proposals 1-1 of 4": a chart is not a proposal.
    pager = projector.locator(".proj-pager")
    expect(pager).to_contain_text("Page 1 of ")
    expect(pager).not_to_contain_text("Proposals")
    axe(projector, "projector: the survey's service map")
    screenshot(projector, "projector-survey-matrix")
    area_map = projector.locator(".result-chart", has_text="by area")
    expect(area_map).to_have_count(1)
    for _ in range(4):
        if area_map.is_visible():
            break
        projector.keyboard.press("ArrowRight")
    expect(area_map.locator("svg[role=img]")).to_be_visible()
    expect(area_map.locator("h3")).to_have_text(AREA_MAP_TITLE)
    axe(projector, "projector: the survey's area map")
    screenshot(projector, "projector-survey-area-map")


def check_console_results(console: Console) -> None:
    page = console.page
    page.goto(f"/console/{console.id}/rounds/1")
    respondents = sum(EXPECTED_CHANNELS.values())
    expect(page.locator("[data-survey-respondents]")).to_have_attribute(
        "data-survey-respondents", str(respondents)
    )
    # The turnout table: a column per channel, the respondents each one brought.
    table = page.locator(".turnout-table")
    expect(table.locator("caption")).to_have_text("Turnout when the round closed")
    heads = table.locator("thead th").all_inner_texts()
    cells = table.locator("tbody td").all_inner_texts()
    columns = dict(zip(heads, cells, strict=True))
    assert {c: int(columns[CONSOLE_COLUMNS[c]]) for c in EXPECTED_CHANNELS} == EXPECTED_CHANNELS
    expect(page.locator(".survey-chart svg[role=img]")).to_have_count(4)
    expect(page.locator("#survey-focus-h")).to_be_visible()
    axe(page, "console: the survey's results")


def check_report(console: Console) -> None:
    """The report in the console (axe-core), then its PDF downloaded: the survey's section,
    each chart's title, every service, the area map, the responses by channel."""
    page = console.page
    page.goto(f"/console/{console.id}/report")
    survey = page.locator("section.survey")
    expect(survey.locator("svg[role=img]")).to_have_count(4)
    axe(page, "console: the report with the survey")
    survey.scroll_into_view_if_needed()
    screenshot(page, "report-survey")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"%PDF")
    text = " ".join(pdf_text(data).split())
    assert "Community Survey" in text
    for title in (
        "The service map: value and satisfaction",
        "Need: how often people use each service",
        "Co-production: who would do more to help",
        AREA_MAP_TITLE,
    ):
        assert title in text, title
    for name in SERVICES:
        assert name in text, name
    channels = ", ".join(f"{REPORT_CHANNEL_NAMES[c]} {n}" for c, n in EXPECTED_CHANNELS.items())
    assert f"Responses by channel: {channels}." in text
    assert "The focus list" in text
    # m = 2: the one keypad without a segment (3) answered no segment question, so no figure
    # names a group of one; every n the tables print is at least m (the paper sheets and the
    # online respondent name no segment either).
    counts = [int(n) for n in text.split("n = ")[1:] for n in [n.split()[0]] if n.isdigit()]
    assert counts and min(counts) >= 2


# --- the story ---------------------------------------------------------------------------------


def test_a_survey_runs_end_to_end(
    contexts: Contexts, live: LiveServer, emulator: KplEmulator
) -> None:
    console = Console(contexts, live)
    set_up(console)
    projector = contexts.desktop(1920, 1080)
    open_with_keypads(console, emulator)
    projector.goto(f"/p/{console.code}")
    at_home = start_online(contexts, console.code)
    phones = [answer_by_phone(contexts, console.code, s, a) for s, a in PHONES]
    axe(phones[0], "phone: the survey's last screen")
    answer_by_keypads(console, emulator)
    answer_on_paper(console)
    finish_online(at_home, console.code)
    wait_for(
        lambda: console.turnout()["by_channel"] == EXPECTED_CHANNELS, "every respondent counted"
    )
    check_channels_on_console(console)
    close_and_reveal(console)
    check_projector(projector)
    check_console_results(console)
    check_report(console)
