"""The Co-Production Lab in a real browser (issue 16): two phones suggest ideas from the form,
the facilitator adds a challenge and keys a flip chart's ideas in the console, approves,
sees the likely duplicate and merges it; the projector's wall shows approved ideas live
(no reload) under their challenge; two phones rate the ideas one at a time."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Contexts, open_phone
from tests.conftest import FACILITATOR_KEY, LiveServer, Meeting

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect


def suggest(phone: Any, code: str, text: str, kind: str, *, help: bool = False) -> None:
    phone.goto(f"/m/{code}/lab")
    phone.get_by_label("Your idea, in a sentence").fill(text)
    phone.get_by_label(kind, exact=True).check()
    if help:
        phone.get_by_label("I would help make this happen").check()
    phone.get_by_role("button", name="Send my idea").click()
    expect(phone.get_by_role("status")).to_contain_text("Your idea is waiting for the facilitator")
    expect(phone.locator("#your-ideas")).to_contain_text(text)


def test_ideas_from_phones_and_flip_charts_are_moderated_shown_live_and_rated(
    contexts: Contexts, live: LiveServer
) -> None:
    """Phones and the console feed the queue; approve, merge; the wall follows; phones rate."""
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    meeting = Meeting(f)
    code = meeting.code
    fac = contexts.facilitator()
    fac.goto(f"/console/{meeting.id}/lab")
    fac.get_by_label("New challenge").fill("Fewer empty buses")
    fac.get_by_label("In Welsh (optional)").last.fill("Llai o fysiau gwag")
    fac.get_by_role("button", name="Add the challenge").click()
    expect(fac.get_by_role("status")).to_have_text("The challenge is added.")

    wall = contexts.desktop(1920, 1080)
    wall.goto(f"/p/{code}/wall")
    expect(wall.get_by_role("heading", name="Fewer empty buses")).to_be_visible()

    first, second = contexts.phone(), contexts.phone()
    for phone in (first, second):
        open_phone(phone, f"/m/{code}")
    suggest(first, code, "Share the school bus with the village", "Co-deliver", help=True)
    suggest(second, code, "Share the school bus with villages", "Redesign", help=True)

    fac.reload()
    queue = fac.locator(".lab-queue > li")
    expect(queue).to_have_count(2)
    expect(queue.first).to_contain_text("Likely the same as:")
    queue.first.get_by_role("button", name="Approve").click()
    # The wall shows it without a reload: the approval's snapshot makes it fetch itself again.
    expect(wall.locator(".lab-wall-ideas li")).to_have_count(1)
    expect(wall.locator(".lab-wall-ideas")).to_contain_text("with the village")
    # The other one is merged into it: its helper moves with it.
    pending = fac.locator(".lab-queue > li").first
    pending.get_by_label("Merge into").select_option(index=0)
    pending.get_by_role("button", name="Merge", exact=True).click()
    expect(fac.get_by_role("status")).to_contain_text("The ideas are merged")
    expect(wall.locator(".lab-wall-ideas")).to_contain_text("would help: 2")

    # A flip chart's ideas, two rows at once.
    fac.get_by_label("Idea 1", exact=True).fill("A bus on demand")
    fac.get_by_label("Idea 2", exact=True).fill("Volunteer drivers")
    fac.get_by_label("Kind of idea 2").select_option("co_deliver")
    fac.get_by_role("button", name="Put them on the wall").click()
    expect(fac.get_by_role("status")).to_have_text("2 ideas are on the wall.")
    expect(wall.locator(".lab-wall-ideas li")).to_have_count(3)

    # The rating round; each phone rates one idea at a time.
    meeting.post("/rounds", kind="lab")
    for phone, answer in ((first, "Agree"), (second, "Disagree")):
        phone.goto(f"/m/{code}/rate")
        for _ in range(3):
            phone.get_by_role("button", name=answer, exact=True).click()
        expect(phone.get_by_role("status")).to_contain_text("You have rated every idea")
    state = meeting.state()
    assert state["turnout"]["voted"] == 2
    # In Welsh, the wall shows the challenge in Welsh.
    wall.goto(f"/p/{code}/wall?lang=cy")
    expect(wall.get_by_role("heading", name="Llai o fysiau gwag")).to_be_visible()
