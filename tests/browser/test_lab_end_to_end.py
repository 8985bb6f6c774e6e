"""A Co-Production Lab run end to end in the browser (issue 16): the facilitator sets a
challenge; phones suggest ideas, one a duplicate the facilitator merges and one hidden; a flip
chart's ideas are keyed in the console; the rating round opens with keypads; four phones rate
one idea at a time while three keypads rate the idea on the projector through an emulated KPL/1
receiver, the Run page stepping through the ideas; the idea wall shows, live, the two opinion
groups and the bridging idea with each group's support; the round is closed and revealed; the
facilitator shortlists two ideas and makes them the proposals of a new budget meeting, which
then runs: a round opens, a phone votes, the round closes and its results show. axe-core on
every page visited.

Two camps of m = 2 or more: phones A and B and keypad 1 back the new services and reject the
cut; phones C and D and keypads 2 and 3 the other way round; everyone backs the volunteer
drivers, the bridging idea.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import pytest

from hardware.emulator import KplEmulator
from tests.browser import e2e
from tests.browser.conftest import WAIT_MS, Contexts, axe, open_phone
from tests.browser.e2e import Console
from tests.conftest import LiveServer, Meeting
from tests.test_keypads import eventually

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect
expect.set_options(timeout=WAIT_MS)

pytestmark = pytest.mark.slow

# The server with an emulated keypad receiver plugged in (replaces conftest's `live`).
emulator = e2e.emulator
live = e2e.live

DEMAND = "A bus on demand for the villages"
DUPLICATE = "Buses on demand to the villages"
HIDDEN = "Ring me on 07700 900123 about the bus"
SCHOOL = "Share the school minibus between school runs"
CUT = "Cut the evening buses after eight"
DRIVERS = "Volunteer drivers for the dial-a-ride"
CAMP_X = {DEMAND: "Agree", SCHOOL: "Agree", CUT: "Disagree", DRIVERS: "Agree"}
CAMP_Y = {DEMAND: "Disagree", SCHOOL: "Disagree", CUT: "Agree", DRIVERS: "Agree"}
PRESS = {"Agree": "1", "Disagree": "2", "Pass": "3"}
KEYPADS = {"0B0001": CAMP_X, "0B0002": CAMP_Y, "0B0003": CAMP_Y}
KEYPAD_CSV = "keypad,label,segments\n" + "".join(
    f"kpl:{k},{n},\n" for n, k in enumerate(KEYPADS, 1)
)


def suggest(phone: Any, code: str, text: str, kind: str) -> None:
    phone.goto(f"/m/{code}/lab")
    phone.get_by_label("Your idea, in a sentence").fill(text)
    phone.get_by_label(kind, exact=True).check()
    phone.get_by_role("button", name="Send my idea").click()
    expect(phone.get_by_role("status")).to_contain_text("Your idea is waiting for the facilitator")


def queued(fac: Any, text: str) -> Any:
    return fac.locator(".lab-queue > li").filter(
        has=fac.locator(".lab-idea-text", has_text=re.compile(f"^{re.escape(text)}$"))
    )


def rate_all(phone: Any, code: str, camp: dict[str, str]) -> None:
    """Rate every idea the phone shows, one at a time, as the camp does."""
    phone.goto(f"/m/{code}/rate")
    for _ in camp:
        title = phone.locator("#idea-h").inner_text().strip()
        phone.get_by_role("button", name=camp[title], exact=True).click()
    expect(phone.get_by_role("status")).to_contain_text("You have rated every idea")


def test_a_lab_runs_end_to_end_into_a_budget_meeting(
    contexts: Contexts, live: LiveServer, emulator: KplEmulator
) -> None:
    console = Console(contexts, live)
    http = console.http
    meeting = Meeting(http)
    console.id, console.code = meeting.id, meeting.code
    code = meeting.code
    r = http.post(
        f"/console/{meeting.id}/keypads/import",
        data={"csrf": meeting.csrf},
        files={"file": ("keypads.csv", KEYPAD_CSV.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:300]

    fac = console.page
    fac.goto(f"/console/{meeting.id}/lab")
    fac.get_by_label("New challenge").fill("Fewer empty buses, better service")
    fac.get_by_role("button", name="Add the challenge").click()
    expect(fac.get_by_role("status")).to_have_text("The challenge is added.")
    axe(fac, "console: the Lab page with a challenge")

    wall = contexts.desktop(1920, 1080)
    wall.goto(f"/p/{code}/wall")
    axe(wall, "projector: the idea wall, no idea yet")

    phones = [contexts.phone() for _ in range(4)]
    for phone in phones:
        open_phone(phone, f"/m/{code}")
    suggest(phones[0], code, DEMAND, "Redesign")
    axe(phones[0], "phone: the Lab form, an idea sent")
    suggest(phones[1], code, DUPLICATE, "Redesign")
    suggest(phones[2], code, HIDDEN, "Redesign")

    # Moderation: approve, merge the duplicate, hide the one with a phone number.
    fac.reload()
    queued(fac, DEMAND).get_by_role("button", name="Approve").click()
    expect(wall.locator(".lab-wall-ideas")).to_contain_text(DEMAND)
    duplicate = queued(fac, DUPLICATE)
    into = duplicate.get_by_label("Merge into")
    into.select_option(into.locator("option", has_text=DEMAND).first.get_attribute("value"))
    duplicate.get_by_role("button", name="Merge", exact=True).click()
    expect(fac.get_by_role("status")).to_contain_text("The ideas are merged")
    queued(fac, HIDDEN).get_by_role("button", name="Hide").click()
    # A flip chart's ideas.
    for n, (text, kind) in enumerate(
        ((SCHOOL, "redesign"), (CUT, "cut_cost"), (DRIVERS, "co_deliver")), 1
    ):
        fac.get_by_label(f"Idea {n}", exact=True).fill(text)
        fac.get_by_label(f"Kind of idea {n}").select_option(kind)
    fac.get_by_role("button", name="Put them on the wall").click()
    expect(fac.get_by_role("status")).to_have_text("3 ideas are on the wall.")
    expect(wall.locator(".lab-wall-ideas li")).to_have_count(4)
    expect(wall.locator(".lab-wall-ideas")).not_to_contain_text(HIDDEN)
    axe(fac, "console: the Lab page, ideas on the wall and one hidden")

    # The rating round, with keypads, from the Run page.
    fac.goto(f"/console/{meeting.id}")
    form = fac.locator('section[data-kind="lab"]')
    form.locator("input[name=keypads]").check()
    with fac.expect_navigation():
        form.get_by_role("button", name="Open the round").click()
    expect(fac.locator(".stepper")).to_be_visible()
    eventually(lambda: emulator.accepting)
    axe(fac, "console: run page, a Lab round open with keypads")
    expect(wall.locator(".lab-on-screen")).to_be_visible()
    axe(wall, "projector: the idea wall, an idea to rate by keypad")

    for phone, camp in zip(phones, (CAMP_X, CAMP_X, CAMP_Y, CAMP_Y), strict=True):
        rate_all(phone, code, camp)
    axe(phones[3], "phone: every idea rated")

    texts = {p["id"]: p["title"] for p in meeting.state()["round"]["proposals"]}
    for index in range(len(texts)):
        step = console.keypad_status()["step"]
        title = texts[step["proposal"]]
        expect(wall.locator(".lab-now-text")).to_have_text(title)
        for keypad, camp in KEYPADS.items():
            emulator.press(keypad, PRESS[camp[title]], seq=index + 1)
        eventually(functools.partial(console.keypads_counted, len(KEYPADS)))
        if index + 1 < len(texts):
            with fac.expect_navigation():
                fac.locator(".stepper").get_by_role("button", name="Next").click()
    assert meeting.state()["turnout"]["voted"] == 7

    # The wall, live while the round is still open: two groups of the camps' sizes and the
    # volunteer drivers backed by both.
    expect(wall.locator(".lab-group-sizes li")).to_have_count(2)
    expect(wall.locator(".lab-group-sizes")).to_contain_text("Group 1: 4 people")
    expect(wall.locator(".lab-group-sizes")).to_contain_text("Group 2: 3 people")
    bridging = wall.locator(".lab-bridging li")
    expect(bridging).to_have_count(1)
    expect(bridging).to_contain_text(DRIVERS)
    expect(bridging).to_contain_text("group 1: 100% agree")
    axe(wall, "projector: the idea wall with live opinion groups")

    meeting.close_round(1)
    meeting.reveal(1)
    fac.goto(f"/console/{meeting.id}/lab")
    results = fac.locator("table").filter(has_text="Lowest group's support")
    expect(results.get_by_role("row", name=re.compile(DRIVERS))).to_contain_text("Bridging")
    for text in (DRIVERS, DEMAND):
        fac.get_by_role("checkbox", name=text).check()
    fac.get_by_role("button", name="Save the shortlist").click()
    expect(fac.locator("#shortlist-h")).to_contain_text("(2)")
    axe(fac, "console: the Lab's results and shortlist")
    shortlist = fac.locator("section").filter(has=fac.locator("#shortlist-h"))
    for text, amount in ((DRIVERS, "4000"), (DEMAND, "25000")):
        item = shortlist.locator("li").filter(has_text=text)
        item.get_by_label("Its cost, or what cutting it saves (£, optional)").fill(amount)
    with fac.expect_navigation():
        fac.get_by_role("button", name="Make them proposals of a new budget meeting").click()

    # The new budget meeting runs: a round, a phone's vote, its results.
    new_id = int(fac.url.split("/console/")[1].split("/")[0].split("?")[0])
    fac.goto(f"/console/{new_id}")
    new_code = fac.locator(".code").first.inner_text().strip()
    voter = contexts.phone()
    open_phone(voter, f"/m/{new_code}")
    # The room vote's form comes first on the Run page, every proposal ticked.
    fac.get_by_role("button", name="Open the round").first.click()
    group = voter.get_by_role("group", name=f"Fund: {DRIVERS}")
    group.get_by_role("radio", name="WANT", exact=True).tap()
    expect(voter.locator("#save-status")).to_have_text("Your ballot is saved")
    axe(voter, "phone: a ballot of the Lab's proposals")
    fac.get_by_role("button", name="Close round 1").click()
    fac.get_by_role("dialog").get_by_role("button", name="Yes, close round 1").click()
    fac.get_by_role("button", name="Reveal on projector").click()
    fac.get_by_role("link", name="Results", exact=True).click()
    expect(fac.get_by_role("heading", level=1)).to_have_text("Round 1 results")
    expect(fac.locator("main")).to_contain_text(DRIVERS)
    axe(fac, "console: the Lab's budget meeting's results")
    assert http.get(f"/api/m/{new_code}").json()["turnout"]["voted"] == 1
