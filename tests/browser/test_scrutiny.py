"""A ticketed meeting in a real browser, as the door, the phones and the clerk live it:
tickets printed and redeemed, a lost phone moved with the facilitator's approval, paper ballots
keyed twice and counted, the report. axe-core checks every new page on the way."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from tests.browser.conftest import WAIT_MS, Contexts, axe, open_phone, screenshot
from tests.conftest import FACILITATOR_KEY, MEETING, LiveServer, Meeting

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect
expect.set_options(timeout=WAIT_MS)


def tickets_meeting(live: LiveServer) -> Meeting:
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    spec = copy.deepcopy(MEETING)
    spec["voting"] = {"admission": "tickets", "show_channels": True}
    return Meeting(f, spec)


def tap_marks(page: Any, marks: dict[str, str]) -> None:
    for key, value in marks.items():
        page.locator(f"input[name='mark:{key}'][value='{value}']").tap()


def test_a_ticketed_meeting_with_a_lost_phone_and_paper_ballots(
    contexts: Contexts, live: LiveServer
) -> None:
    meeting = tickets_meeting(live)
    fac = contexts.facilitator()

    # At the door: issue and print tickets.
    fac.goto(f"/console/{meeting.id}/tickets")
    fac.fill("#issue-count", "4")
    fac.get_by_role("button", name="Issue tickets").click()
    expect(fac.locator("body")).to_contain_text("4")
    axe(fac, "console: tickets")
    fac.goto(f"/console/{meeting.id}/tickets/print")
    codes = fac.locator(".ticket-code").all_inner_texts()
    assert len(codes) == 4 and all(re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", c) for c in codes)
    axe(fac, "console: ticket cards to print")
    screenshot(fac, "tickets-print", full_page=True)

    # A phone without a ticket cannot vote; with one it can.
    first = contexts.phone()
    open_phone(first, f"/m/{meeting.code}")
    expect(first.locator("#ticket-code")).to_be_visible()
    axe(first, "phone: tickets meeting, no ticket yet")
    first.fill("#ticket-code", codes[0].lower().replace("-", " "))
    first.get_by_role("button", name="Vote with this ticket").click()
    confirm = first.get_by_role("button", name="Vote on this device")
    if confirm.count():
        confirm.click()
    meeting.open_round()
    expect(first.locator("#ballot-form")).to_be_visible()
    tap_marks(first, {"library": "want", "respite": "want"})
    expect(first.locator("#save-status")).to_have_text("Your ballot is saved")

    # The same ticket on a second phone (the first was lost): it waits for the facilitator.
    second = contexts.phone()
    second.goto(f"/t/{codes[0].replace('-', '')}")
    ask = second.get_by_role("button", name="Ask to vote on this device")
    if ask.count():
        ask.click()
    expect(second.locator("[data-ticket-state='waiting']")).to_be_visible()
    axe(second, "phone: waiting for the facilitator")
    fac.goto(f"/console/{meeting.id}/tickets")
    fac.get_by_role("button", name="Approve the new device for ticket No. 1").click()
    # The waiting page moves on by itself and the voter's ballot is there.
    expect(second.locator("#ballot-form")).to_be_visible()
    expect(second.locator("input[name='mark:library'][value='want']")).to_be_checked()
    tap_marks(second, {"library": "dont_want"})
    expect(second.locator("#save-status")).to_have_text("Your ballot is saved")
    # The lost phone can no longer vote, and says why.
    tap_marks(first, {"toilets": "want"})
    expect(first.locator("body")).to_contain_text("moved to another device")

    # Paper: ticket No. 2's holder votes on paper; two clerks key the sheet.
    base = f"/console/{meeting.id}/rounds/1/paper"
    fac.goto(f"{base}/print?from=1&count=1")
    axe(fac, "console: paper ballot to print")
    for keying in (1, 2):
        fac.goto(f"{base}/key/{keying}")
        fac.fill("#sheet", "1")
        fac.fill("#ticket", "2")
        fac.locator("input[name='mark:respite'][value='dont_want']").check()
        axe(fac, f"console: paper keying {keying}")
        fac.get_by_role("button", name=f"Save this sheet (keying {keying})").click()
        expect(fac.locator("body")).to_contain_text("Sheet 1 saved")
    fac.goto(base)
    axe(fac, "console: paper status")
    fac.get_by_role("button", name="Count 1 matching sheets").click()
    expect(fac.locator("body")).to_contain_text("1")

    meeting.close_round(1)
    meeting.reveal(1)
    projector = contexts.desktop(1920, 1080)
    projector.goto(f"/p/{meeting.code}")
    expect(projector.locator("#proj-turnout")).to_contain_text(
        "2 of 2 present voted: 1 by phone in the room, 0 online, 0 by keypad, 1 on paper"
    )

    fac.goto(f"/console/{meeting.id}/report.html")
    expect(fac.locator("body")).to_contain_text("SHA-256")
    axe(fac, "results report")
    screenshot(fac, "report", full_page=True)
