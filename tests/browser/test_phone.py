"""The phone while a round is open, at a phone's size (390 x 844), with and without scripts:
the open-round bar leads, the 'about you' box waits folded, the count of answered proposals
says what the others count as, "saved" appears only after the server's ack, and the Save button
is there only when it is needed (no JavaScript)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.browser.conftest import (
    PHONE,
    WAIT_MS,
    Contexts,
    api_state,
    axe,
    open_about_you,
    open_phone,
)
from tests.conftest import FACILITATOR_KEY, MEETING, LiveServer, Meeting

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect
expect.set_options(timeout=WAIT_MS)

SIX = ["library", "respite", "toilets", "pool", "lights", "bins"]


def six_proposal_meeting(live: LiveServer) -> Meeting:
    """The test meeting with three more proposals: six in all."""
    spec: dict[str, Any] = copy.deepcopy(MEETING)
    for key, title in (("pool", "Swimming pool"), ("lights", "Street lights"), ("bins", "Bins")):
        spec["proposals"].append(
            {"id": key, "title": title, "kind": "keep", "saving": 1000, "affected_groups": []}
        )
    spec["tie_break"] = SIX
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    meeting = Meeting(f, spec)
    meeting.open_round(*SIX)
    return meeting


def top(page: Any, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box, f"{selector} is not shown"
    return float(box["y"])


def test_joining_during_an_open_round_leads_with_the_vote(
    contexts: Contexts, live: LiveServer
) -> None:
    """Joined while round 1 is open: the first thing under the title is the bar "Round 1 is
    open: vote below"; the 'about you' box is folded, so the first proposal is on the screen;
    the bar's link goes to the ballot; the box opens with a tap."""
    meeting = six_proposal_meeting(live)
    page = contexts.phone()
    open_phone(page, f"/m/{meeting.code}")
    bar = page.get_by_role("link", name="Round 1 is open: vote below")
    expect(bar).to_be_visible()
    assert top(page, "#round-bar") < top(page, "#segments") < top(page, "#ballot")
    expect(page.get_by_role("checkbox", name="Carer")).to_be_hidden()
    assert top(page, "fieldset.proposal") < PHONE["viewport"]["height"]  # type: ignore[index]
    axe(page, "phone: joined during an open round")
    bar.tap()
    expect(page.get_by_role("heading", name="Round 1: your vote")).to_be_focused()
    open_about_you(page)
    expect(page.get_by_role("checkbox", name="Carer")).to_be_visible()


def test_one_tap_of_six_says_the_others_count_as_neutral(
    contexts: Contexts, live: LiveServer
) -> None:
    """One WANT of six: "1 of 6 answered; the others count as neutral" and, after the ack,
    "Your ballot is saved", both on the screen without scrolling; no Save button with scripts;
    a screen reader hears the count once the taps stop; the round closing opens the box."""
    meeting = six_proposal_meeting(live)
    page = contexts.phone()
    open_phone(page, f"/m/{meeting.code}")
    expect(page.locator("#conn")).to_have_text("Live")
    answered = page.locator("#answered")
    expect(answered).to_have_text("0 of 6 answered")
    expect(page.get_by_role("button", name="Save my vote")).to_have_count(0)
    expect(page.locator("#ballot-form button[type=submit]")).to_be_hidden()

    page.locator("input[name='mark:library'][value='want']").tap()
    expect(answered).to_have_text("1 of 6 answered; the others count as neutral")
    expect(page.locator("#save-status")).to_have_text("Your ballot is saved")
    expect(page.locator("#announce")).to_have_text("1 of 6 answered; the others count as neutral")
    assert api_state(page, meeting.code)["you"]["ballot"]["marks"] == {"library": "want"}
    # The count and the saved state stay in view at the first proposal (the bar is sticky).
    for selector in ("#answered", "#save-status"):
        box = page.locator(selector).bounding_box()
        assert box and box["y"] + box["height"] <= PHONE["viewport"]["height"]  # type: ignore[index]
    axe(page, "phone: one of six answered")

    # Changing a mark does not change the count: nothing more is read out for it.
    page.locator("input[name='mark:library'][value='dont_want']").tap()
    expect(page.locator("#save-status")).to_have_text("Your ballot is saved")
    page.locator("#announce").evaluate("el => { el.textContent = '' }")
    page.wait_for_timeout(2000)
    expect(page.locator("#announce")).to_have_text("")
    # Every proposal answered: no "others" any more.
    for key in SIX[1:]:
        page.locator(f"input[name='mark:{key}'][value='neutral']").tap()
    expect(answered).to_have_text("6 of 6 answered")
    expect(page.locator("#save-status")).to_have_text("Your ballot is saved")
    expect(page.locator("#announce")).to_have_text("6 of 6 answered")

    # A reload starts from the server's copy: the count of the saved ballot.
    page.reload()
    expect(answered).to_have_text("6 of 6 answered")
    meeting.close_round(1)
    expect(page.locator("#ballot .waiting")).to_have_text("Voting is closed")
    expect(page.locator("#round-bar")).to_be_hidden()
    expect(page.locator("#segments-box")).to_have_attribute("open", "")
    # The next round: the bar is back and the box folds again, without a reload.
    meeting.open_round("toilets", "bins")
    expect(page.get_by_role("link", name="Round 2 is open: vote below")).to_be_visible()
    expect(answered).to_have_text("0 of 2 answered")
    assert not page.locator("#segments-box").evaluate("d => d.open")


def test_without_javascript_the_save_button_votes(contexts: Contexts, live: LiveServer) -> None:
    """Scripts off: the Save button is there and is how the ballot is sent; the page that comes
    back says it is saved and counts "1 of 6 answered; the others count as neutral"."""
    meeting = six_proposal_meeting(live)
    page = contexts.new(**PHONE, java_script_enabled=False).new_page()
    open_phone(page, f"/m/{meeting.code}")
    expect(page.get_by_role("link", name="Round 1 is open: vote below")).to_be_visible()
    expect(page.locator("#answered")).to_have_text("0 of 6 answered")
    page.locator("input[name='mark:toilets'][value='want']").tap()
    save = page.get_by_role("button", name="Save my vote")
    expect(save).to_be_visible()
    save.tap()
    expect(page.locator("#save-status")).to_have_text("Your ballot is saved")
    expect(page.locator("#answered")).to_have_text("1 of 6 answered; the others count as neutral")
    assert api_state(page, meeting.code)["you"]["ballot"]["marks"] == {"toilets": "want"}
    # axe needs scripts of its own: the same voter's page with the page's scripts refused.
    plain = page.context.browser.new_context(
        **PHONE, base_url=live.url, storage_state=page.context.storage_state()
    )
    try:
        scriptless = plain.new_page()
        scriptless.route("**/*.js", lambda route: route.abort())
        scriptless.goto(f"/m/{meeting.code}")
        expect(scriptless.get_by_role("button", name="Save my vote")).to_be_visible()
        expect(scriptless.locator("#save-status")).to_have_text("Your ballot is saved")
        axe(scriptless, "phone: no JavaScript, saved")
    finally:
        plain.close()


def test_round_changes_arrive_over_the_socket_without_fetching_the_ballot(
    contexts: Contexts, live: LiveServer
) -> None:
    """The round opening, closing and being revealed reach the phone in the socket's frames:
    the page shows each (and says so to screen readers) without one request for the ballot
    section, and fills in this voter's own: the saved ballot after the round closes, the
    marks of a stored ballot after a reload and reconnect, and the CSRF token the no-script
    form would need."""
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    meeting = Meeting(f, copy.deepcopy(MEETING))
    page = contexts.phone()
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if "/ballot" in r.url else None)
    open_phone(page, f"/m/{meeting.code}")
    expect(page.locator("#conn")).to_have_text("Live")
    expect(page.locator("#ballot .waiting")).to_have_text(
        "Waiting for the facilitator to open a vote"
    )

    meeting.open_round("library", "respite")
    expect(page.get_by_role("heading", name="Round 1: your vote")).to_be_visible()
    expect(page.get_by_role("link", name="Round 1 is open: vote below")).to_be_visible()
    expect(page.locator("#announce")).to_have_text("Round 1 is open — you can vote now")
    csrf = page.locator("#ballot-form input[name=csrf]").input_value()
    assert csrf and csrf in page.content()  # the page's own token, not the empty one
    page.locator("input[name='mark:library'][value='want']").tap()
    expect(page.locator("#save-status")).to_have_text("Your ballot is saved")

    # Reload mid-round, then the round changes under the reconnected page.
    page.reload()
    expect(page.locator("#conn")).to_have_text("Live")
    meeting.close_round(1)
    expect(page.locator("#ballot .waiting")).to_have_text("Voting is closed")
    expect(page.get_by_text("Your ballot for this round was saved.")).to_be_visible()
    expect(page.locator("#announce")).to_have_text("Voting is closed")
    meeting.reveal(1)
    expect(page.get_by_role("link", name="See the results on this phone")).to_be_visible()
    expect(page.locator("#announce")).to_have_text("The results are on the big screen")
    axe(page, "phone: results revealed, pushed over the socket")

    meeting.open_round("toilets")
    expect(page.get_by_role("heading", name="Round 2: your vote")).to_be_visible()
    expect(page.locator("#answered")).to_have_text("0 of 1 answered")
    expect(page.locator("#save-status")).to_have_text("Not saved yet")
    assert [u for u in fetched if "/m/" in u and u.endswith("/ballot")] == [], fetched
