"""The Run page in a browser: a state machine with the next step first (laptop), and the
closing countdown on the phone and the projector until the server closes the round."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import WAIT_MS, Contexts, axe, open_phone, screenshot
from tests.conftest import FACILITATOR_KEY, LiveServer, Meeting

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect
expect.set_options(timeout=WAIT_MS)


def new_meeting(live: LiveServer) -> Meeting:
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    return Meeting(f)


def next_step(fac: Any) -> Any:
    return fac.locator("#next")


def primary(fac: Any) -> Any:
    """The one big button (or link) of the next step."""
    return fac.locator("#next .btn-next")


def confirm(fac: Any, yes: str) -> None:
    dialog = fac.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=yes).click()


def test_the_run_page_leads_with_the_next_step(contexts: Contexts, live: LiveServer) -> None:
    """Open round 1 → Close voting → Preview results → Reveal → Open the next round; after a
    close the open-round form is folded below, nothing ticked; void, reopen and mark final
    ask first where they cannot be undone."""
    meeting = new_meeting(live)
    fac = contexts.facilitator()  # a laptop
    fac.goto(f"/console/{meeting.id}")
    expect(next_step(fac)).to_have_attribute("data-step", "first")
    expect(primary(fac)).to_have_text("Open the round")
    axe(fac, "run page: first round")
    primary(fac).click()

    expect(next_step(fac)).to_have_attribute("data-step", "open")
    expect(primary(fac)).to_have_text("Close round 1")
    answers = fac.locator("#answers-so-far")
    expect(answers).not_to_have_attribute("open", "")  # hidden unless asked
    answers.locator("summary").click()
    expect(answers.get_by_role("table")).to_be_visible()
    axe(fac, "run page: round open")

    fac.get_by_label("Or close with a countdown of").select_option("60")
    fac.get_by_role("button", name="Start the countdown").click()
    expect(next_step(fac)).to_have_attribute("data-step", "closing")
    expect(fac.locator("#countdown")).to_have_text(re.compile(r"Voting closes in \d+ s"))
    axe(fac, "run page: closing countdown")
    fac.get_by_role("button", name="Cancel the countdown").click()
    expect(next_step(fac)).to_have_attribute("data-step", "open")
    expect(fac.locator("#countdown")).to_be_hidden()

    primary(fac).click()
    confirm(fac, "Yes, close round 1")
    expect(next_step(fac)).to_have_attribute("data-step", "closed")
    expect(primary(fac)).to_have_text("Preview results")
    # Never a pre-ticked "open a round" form above Reveal: it is folded below, unticked.
    folded = fac.locator("#open-later")
    expect(folded).not_to_have_attribute("open", "")
    assert folded.locator("input[name=proposal]:checked").count() == 0
    assert fac.locator("#next input[name=proposal]").count() == 0
    axe(fac, "run page: closed, not previewed")

    primary(fac).click()
    expect(fac.get_by_role("heading", level=1)).to_have_text("Round 1 results")
    fac.goto(f"/console/{meeting.id}")
    expect(next_step(fac)).to_have_attribute("data-step", "previewed")
    expect(primary(fac)).to_have_text("Reveal on projector")
    axe(fac, "run page: previewed")
    primary(fac).click()

    expect(next_step(fac)).to_have_attribute("data-step", "revealed")
    expect(primary(fac)).to_have_text("Open the round")
    fac.get_by_role("button", name="Mark round 1 final").click()
    expect(fac.locator("tr[data-round='1'] .final-tag")).to_have_text("final")
    axe(fac, "run page: revealed, final")
    primary(fac).click()  # round 2: a rehearsal, voided while open

    expect(next_step(fac)).to_have_attribute("data-step", "open")
    fac.get_by_label("Reason for voiding (optional)").fill("Rehearsal")
    fac.get_by_role("button", name="Void round 2").click()
    confirm(fac, "Yes, void round 2")
    expect(fac.locator("tr[data-round='2']")).to_contain_text("Voided — did not count: Rehearsal")
    # Voided rounds are skipped: the page is back where it was after round 1.
    expect(next_step(fac)).to_have_attribute("data-step", "revealed")
    axe(fac, "run page: a round voided")

    primary(fac).click()  # round 3, closed, then reopened (it was never revealed)
    primary(fac).click()
    confirm(fac, "Yes, close round 3")
    fac.get_by_role("button", name="Reopen round 3").click()
    confirm(fac, "Yes, reopen round 3")
    expect(next_step(fac)).to_have_attribute("data-step", "open")
    expect(primary(fac)).to_have_text("Close round 3")


def test_the_countdown_shows_on_phones_and_the_projector_then_voting_closes(
    contexts: Contexts, live: LiveServer
) -> None:
    """ "Close in 10 s": the phone and the projector count down (said once to screen readers,
    not every second); the server closes the round at the end and every screen follows."""
    meeting = new_meeting(live)
    phone = contexts.phone()
    open_phone(phone, f"/m/{meeting.code}")
    projector = contexts.desktop(1920, 1080)
    projector.goto(f"/p/{meeting.code}")
    bilingual = contexts.desktop(1920, 1080)
    bilingual.goto(f"/p/{meeting.code}?lang=cy+en")
    fac = contexts.facilitator()
    fac.goto(f"/console/{meeting.id}")
    primary(fac).click()
    expect(phone.locator("#ballot-form")).to_be_visible()
    expect(phone.locator("#countdown")).to_be_hidden()

    fac.get_by_label("Or close with a countdown of").select_option("10")
    fac.get_by_role("button", name="Start the countdown").click()
    counting = re.compile(r"Voting closes in \d+ s")
    expect(phone.locator("#countdown")).to_have_text(counting)
    expect(projector.locator("#countdown")).to_have_text(counting)
    expect(bilingual.locator("#countdown")).to_have_text(
        re.compile(r"Mae'r pleidleisio'n cau ymhen \d+ e · Voting closes in \d+ s")
    )
    expect(phone.locator("#countdown-live")).to_have_attribute("aria-live", "polite")
    expect(phone.locator("#countdown-live")).to_have_text(
        re.compile(r"Voting closes in (10|9|8|7|6|5|4|3|2|1) seconds")
    )
    axe(phone, "phone: closing countdown")
    axe(projector, "projector: closing countdown")
    screenshot(phone, "phone-countdown")
    big = projector.evaluate(
        "parseFloat(getComputedStyle(document.getElementById('countdown')).fontSize)"
    )
    assert big >= 40  # px: readable from the back of a hall

    # The server closes the round when the countdown ends (no one presses anything).
    ends = {"timeout": WAIT_MS + 15_000}
    expect(phone.locator("#ballot .waiting")).to_have_text("Voting is closed", **ends)
    expect(projector.locator("#proj-round")).to_have_text("Round 1 — voting closed", **ends)
    expect(phone.locator("#countdown")).to_be_hidden()
    expect(projector.locator("#countdown")).to_be_hidden()
    expect(next_step(fac)).to_have_attribute("data-step", "closed", **ends)  # reloaded by itself


def test_voiding_an_open_rehearsal_round_takes_it_off_every_screen(
    contexts: Contexts, live: LiveServer
) -> None:
    """Round 1 revealed, round 2 opened by mistake and voided: phones stop showing its ballot
    and the projector goes back to round 1's results; round 2's are never shown."""
    meeting = new_meeting(live)
    meeting.open_round()
    meeting.close_round(1)
    meeting.reveal(1)
    phone = contexts.phone()
    open_phone(phone, f"/m/{meeting.code}")
    projector = contexts.desktop(1920, 1080)
    projector.goto(f"/p/{meeting.code}")
    meeting.open_round("library")
    expect(phone.locator("#ballot-form")).to_be_visible()
    expect(projector.locator("#proj-round")).to_have_text("Round 2 — voting open")
    meeting.post("/rounds/2/void", confirm="yes", reason="Opened by mistake")
    expect(phone.locator("#ballot-form")).to_have_count(0)
    expect(projector.locator("#proj-round")).to_have_text("Round 1 — results")
    axe(phone, "phone: after a round was voided")
    state = meeting.state()
    assert state["round"]["number"] == 1
