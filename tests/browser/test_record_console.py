"""Issue 13 in a real browser: the results report opens inside the console (and prints without
it); the Run page's "registered keypads are not counting" alert appears and clears live."""

from __future__ import annotations

import pytest

from tests.browser.conftest import WAIT_MS, Contexts, axe, screenshot
from tests.conftest import FACILITATOR_KEY, MEETING, LiveServer, Meeting
from tests.test_keypads import KEYPAD_CSV, import_keypads

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect
expect.set_options(timeout=WAIT_MS)


def new_meeting(live: LiveServer, **fields: str) -> Meeting:
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    return Meeting(f, {**MEETING, **fields})


@pytest.mark.parametrize("lang", ["en", "cy"])
def test_the_report_opens_inside_the_console_and_prints_without_it(
    contexts: Contexts, live: LiveServer, lang: str
) -> None:
    """Run page → Results report: the console page (navigation, back link, Download PDF, Print,
    Open on its own) with the report's blocks; Print calls window.print and the print style
    leaves the console out."""
    meeting = new_meeting(live, venue="Neuadd y Dref", chair="Cllr Siân")
    meeting.open_round()
    meeting.close_round(1)
    page = contexts.facilitator()
    page.goto(f"/console/{meeting.id}?lang={lang}")
    page.locator(f"a[href='/console/{meeting.id}/report']").click()
    expect(page).to_have_url(f"{page.url.split('/console')[0]}/console/{meeting.id}/report")
    nav = page.locator(".console-nav")
    expect(nav).to_be_visible()
    expect(page.locator(".report-doc h1")).to_have_text(MEETING["title"])
    expect(page.locator(".report-doc .details")).to_contain_text("Neuadd y Dref")
    expect(page.locator(".report-doc .details")).to_contain_text("Cllr Siân")
    expect(page.locator("#approval dt")).to_have_count(4)
    expect(page.locator(f".report-tools a[href='/console/{meeting.id}']")).to_be_visible()
    expect(page.locator(".report-tools a[href$='report.pdf?download=1']")).to_be_visible()
    expect(page.locator(".report-tools a[href$='report.html']")).to_have_attribute(
        "target", "_blank"
    )
    axe(page, f"console: results report ({lang})")
    if lang == "en":
        screenshot(page, "console-report")

    printing = page.locator("#report-print")
    expect(printing).to_be_visible()  # shown once the script runs
    page.evaluate("() => { window.print = () => { window.__printed = true; }; }")
    printing.click()
    assert page.evaluate("() => window.__printed === true")
    page.emulate_media(media="print")
    expect(nav).to_be_hidden()
    expect(page.locator(".report-tools")).to_be_hidden()
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".report-doc h1")).to_be_visible()
    page.emulate_media(media="screen")
    assert contexts.script_errors == [] and contexts.csp_violations == []


def test_the_keypad_alert_appears_and_clears_without_a_reload(
    contexts: Contexts, live: LiveServer
) -> None:
    """The Run page is open; keypads are registered elsewhere (no receiver open): the assertive
    alert appears by itself; a phone-only round changes its words; closing it keeps the no-
    receiver warning."""
    meeting = new_meeting(live)
    page = contexts.facilitator()
    page.goto(f"/console/{meeting.id}")
    alert = page.locator("#keypads-idle[role=alert]")
    expect(alert).to_be_empty()
    assert import_keypads(meeting, KEYPAD_CSV).status_code == 303
    expect(alert).to_contain_text("Registered keypads are not counting: 3.")
    expect(alert).to_contain_text("No keypad receiver is open")
    expect(alert.locator(f"a[href='/console/{meeting.id}/keypads']")).to_be_visible()
    axe(page, "console: run page, keypads not counting")
    meeting.open_round("library")
    expect(alert).to_contain_text("Round 1 was opened without keypads")
    meeting.f.post(
        f"/console/{meeting.id}/keypads/revoke",
        data={"csrf": meeting.csrf, "keypad": "kpl:0A0001", "confirm": "yes"},
    )
    expect(alert).to_contain_text("not counting: 2.")
    assert contexts.script_errors == []
