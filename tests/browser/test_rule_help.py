"""The help beside R and m on set-up, in Chromium: typing the expected attendance and m changes
the plain-words explanation and its warnings as they are typed, before anything is saved, in
the page's language; the page stays axe-clean with the warnings shown."""

from __future__ import annotations

import pytest

from tests.browser.conftest import WAIT_MS, Contexts, axe
from tests.conftest import FACILITATOR_KEY, MEETING, LiveServer, Meeting

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect
expect.set_options(timeout=WAIT_MS)


def test_typing_m_and_the_attendance_updates_the_help(contexts: Contexts, live: LiveServer) -> None:
    """The test meeting (R = 2, m = 2, two protecting segments): typing 60 people gives the
    room's numbers; typing m = 40 warns that m is beyond a typical group (30) and m = 61 that it
    is beyond the room; m = 1 warns that one person is a group; nothing is saved meanwhile."""
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    meeting = Meeting(f, {**MEETING, "title": "Rule help"})
    fac = contexts.facilitator()
    fac.goto(f"/console/{meeting.id}/setup")
    help_ = fac.locator("#rule-help")
    expect(help_).to_contain_text("more than half of those who vote say DON'T WANT")
    expect(help_.locator(".notice")).to_have_count(0)

    fac.get_by_label("Expected attendance").fill("60")
    expect(help_).to_contain_text("For an expected attendance of 60: if all 60 vote")
    expect(help_).to_contain_text("at least 31 of them say DON'T WANT")
    expect(help_).to_contain_text("at least 2 of its members WANT it")

    m = fac.get_by_label("m: smallest group that can protect or object")
    m.fill("40")
    expect(help_).to_contain_text("at least 40 of its members WANT it")
    expect(help_.locator(".notice")).to_have_text(
        [
            "m = 40 is more than a typical group is likely to be: 60 people shared among 2 "
            "segments that can protect makes about 30 per group. Most groups could never "
            "protect or object to anything."
        ]
    )
    axe(fac, "console: set-up, rule help with a warning")

    # Typed key by key (40 -> 4 -> 41): the help follows the last value, not a late answer.
    m.press("Backspace")
    m.press("1")
    expect(help_).to_contain_text("at least 41 of its members WANT it")
    m.fill("61")
    expect(help_.locator(".notice")).to_contain_text(["m = 61 is more than the 60 people"])
    m.fill("1")
    expect(help_.locator(".notice")).to_contain_text(["With m = 1 a single person"])
    m.fill("")  # not a value the form takes: the last help stays
    expect(help_.locator(".notice")).to_contain_text(["With m = 1 a single person"])

    # Nothing was saved by typing: a reload shows the saved m = 2 and no attendance.
    fac.reload()
    expect(m).to_have_value("2")
    expect(help_).not_to_contain_text("expected attendance")


def test_the_help_is_in_welsh_on_a_welsh_page(contexts: Contexts, live: LiveServer) -> None:
    """With Cymraeg chosen, the help fetched while typing is Welsh too."""
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    meeting = Meeting(f, {**MEETING, "title": "Cymorth rheol"})
    fac = contexts.facilitator()
    fac.goto(f"/console/{meeting.id}/setup?lang=cy")
    fac.locator("#s-expected").fill("60")
    expect(fac.locator("#rule-help")).to_contain_text("Ar gyfer presenoldeb disgwyliedig o 60")
    axe(fac, "console: set-up, rule help in Welsh")
