"""A Community Survey run end to end in the browser (issue 15): set up in the console (the
meeting file, the survey file with three services, the areas' boundaries, the keypads), opened
with keypads; six phones answer one service per screen; three keypads answer the keyed
questions through an emulated KPL/1 receiver while the Run page steps through them; closed and
revealed; the projector shows the service map (its SVG and its table) and the area map; the
console's results page; the report PDF downloaded and read. axe-core on every page visited.

The module is one story on one server, told by helpers (`set_up`, `answer_by_phone`,
`answer_by_keypads`, `close_and_reveal`, ...), so another channel is a helper and a line in
the story: paper (`answer_on_paper`: the sheets keyed twice) goes after the keypads, online
(`answer_online`: a respondent who stops half-way and comes back) beside the phones, each
adding its count to `EXPECTED_CHANNELS`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from hardware.emulator import KplEmulator
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
from tests.conftest import FACILITATOR_KEY, LiveServer, make_settings
from tests.test_keypads import eventually
from tests.test_report import pdf_text

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect
expect.set_options(timeout=WAIT_MS)

pytestmark = pytest.mark.slow

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
# The area map shows the most needed service's need score: both who answered for the youth
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
EXPECTED_CHANNELS = {"Phone in the room": len(PHONES), "Keypad": 3}


# --- the server: one emulated receiver plugged in from the start --------------------------------


@pytest.fixture(scope="module")
def emulator() -> Iterator[KplEmulator]:
    with KplEmulator(heartbeat_s=0.5) as emu:
        yield emu


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, browser: Any, emulator: KplEmulator
) -> Iterator[LiveServer]:
    """The app on SQLite with the emulated receiver (the module's `browser` starts first)."""
    settings = make_settings(tmp_path_factory.mktemp("survey-e2e"), keypad_urls=[emulator.url])
    with LiveServer(settings) as server:
        yield server


# --- the story's steps ---------------------------------------------------------------------------


class Console:
    """The facilitator: a browser page on the console, and the same role over HTTP for what
    the test reads without a page (the keypads' status)."""

    def __init__(self, contexts: Contexts, live: LiveServer) -> None:
        self.page = contexts.facilitator()
        self.http = live.browser()
        self.http.get(f"/facilitator?key={FACILITATOR_KEY}")
        self.id = 0
        self.code = ""

    def upload(self, form: str, field: str, name: str, text: str, mime: str) -> None:
        """Choose a file in `field` and submit its form (the page redirects back)."""
        self.page.set_input_files(
            field, files=[{"name": name, "mimeType": mime, "buffer": text.encode()}]
        )
        with self.page.expect_navigation():
            self.page.locator(form).locator("button[type=submit]").click()

    def turnout(self) -> dict[str, Any]:
        return dict(self.http.get(f"/api/m/{self.code}").json()["turnout"])

    def keypad_status(self) -> dict[str, Any]:
        return dict(self.http.get(f"/console/{self.id}/keypads/status.json").json())

    def post(self, path: str, **data: str) -> None:
        """A console form the story does not look at (close, reveal), posted as the page
        would: the CSRF token from the Run page."""
        page = self.http.get(f"/console/{self.id}").text
        csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        r = self.http.post(
            f"/console/{self.id}{path}", data={"csrf": csrf, **data}, follow_redirects=False
        )
        assert r.status_code == 303, r.text


def set_up(console: Console) -> None:
    """The meeting imported from its file, then in Set-up the survey, the areas' boundaries,
    and under Keypads the three keypads."""
    page = console.page
    page.goto("/console")
    console.upload(
        'form[action="/console/import"]', "#file", "meeting.json", json.dumps(MEETING),
        "application/json",
    )  # fmt: skip
    console.id = int(page.url.split("/console/")[1].split("/")[0].split("?")[0])
    page.goto(f"/console/{console.id}")
    console.code = page.locator(".code").first.inner_text().strip()
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
        for key, value in answers.items():
            for v in value if isinstance(value, list) else [value]:
                box = screen.locator(f'input[name="mark:{key}"][value="{v}"]')
                if box.count():
                    box.check()
        if n < screens.count():
            page.get_by_role("button", name="Next").click()
    want = {k: (",".join(v) if isinstance(v, list) else v) for k, v in answers.items()}

    def saved() -> bool:
        ballot = api_state(page, code)["you"]["ballot"]
        return bool(ballot) and dict(ballot["marks"]) == want

    wait_for(saved, "the phone's answers saved")
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
            eventually(functools.partial(all_counted, console, len(KEYPAD_PRESSES[key])))
            pressed.add(key)
        if pressed == set(KEYPAD_PRESSES):
            return
        following = page.locator(".stepper").get_by_role("button", name="Next")
        assert following.count(), f"the Run page has no next keyed question after {key}"
        with page.expect_navigation():
            following.click()
        expect(page.locator("#step-h")).not_to_contain_text(f" {step['index'] + 1} of ")


def all_counted(console: Console, presses: int) -> bool:
    """The keypad step shows `presses` answers."""
    counts: dict[str, int] = console.keypad_status()["step"]["counts"]
    return sum(counts.values()) == presses


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
    respondents = len(PHONES) + len(KEYPAD_PRESSES["area"])
    expect(page.locator("[data-survey-respondents]")).to_have_attribute(
        "data-survey-respondents", str(respondents)
    )
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
    channels = ", ".join(f"{c} {n}" for c, n in EXPECTED_CHANNELS.items())
    assert f"Responses by channel: {channels}." in text
    assert "The focus list" in text
    # m = 2: the one keypad without a segment (3) answered no segment question, so no figure
    # names a group of one; every n the tables print is at least m.
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
    phones = [answer_by_phone(contexts, console.code, s, a) for s, a in PHONES]
    axe(phones[0], "phone: the survey's last screen")
    answer_by_keypads(console, emulator)
    # answer_on_paper / answer_online go here, adding to EXPECTED_CHANNELS.
    wait_for(
        lambda: console.turnout()["voted"] == sum(EXPECTED_CHANNELS.values()),
        "every respondent counted",
    )
    close_and_reveal(console)
    check_projector(projector)
    check_console_results(console)
    check_report(console)
