"""The Content Security Policy in a real browser: the main pages run under script-src 'self'
with no violation reported in the console, and a phone still votes over its socket (Origin
and CSRF token accepted)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import WAIT_MS, Contexts, api_state, open_phone
from tests.conftest import FACILITATOR_KEY, LiveServer, Meeting

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect
expect.set_options(timeout=WAIT_MS)


def test_main_pages_run_without_csp_violations(contexts: Contexts, live: LiveServer) -> None:
    """Phone (joining and voting live), projector, console pages and the report report no CSP
    violation; an injected inline script is refused and reported (so the check can see one)."""
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    meeting = Meeting(f)
    meeting.open_round()
    code, mid = meeting.code, meeting.id
    fac = contexts.facilitator()
    projector = contexts.desktop(1920, 1080)
    projector.goto(f"/p/{code}")
    expect(projector.locator("#join-code")).to_have_text(code)
    phone = contexts.phone()
    open_phone(phone, f"/m/{code}")  # the join page, then Join (a POST)
    expect(phone.locator("#conn")).to_have_text("Live")
    phone.locator("input[name='mark:library'][value='want']").tap()
    expect(phone.locator("#save-status")).to_have_text("Your ballot is saved")
    assert api_state(phone, code)["you"]["ballot"]["marks"] == {"library": "want"}
    expect(projector.locator("#proj-turnout")).to_contain_text("1 of 1")
    for path in (
        "/console",
        "/console/sessions",
        f"/console/{mid}",
        f"/console/{mid}/setup",
        f"/console/{mid}/keypads",
        f"/console/{mid}/tickets",
        f"/console/{mid}/access",
        f"/console/{mid}/rounds/1/paper",
        f"/console/{mid}/rounds/1/paper/key/1",
    ):
        fac.goto(path)
        fac.wait_for_load_state("networkidle")
    meeting.close_round(1)
    for path in (f"/console/{mid}/rounds/1", f"/console/{mid}/report.html"):
        fac.goto(path)
        fac.wait_for_load_state("networkidle")
    assert contexts.csp_violations == [], contexts.csp_violations
    assert contexts.script_errors == [], contexts.script_errors

    fac.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = 1'; document.body.appendChild(s); }"
    )
    fac.wait_for_timeout(200)
    assert fac.evaluate("window.injected") is None
    assert any("script-src" in v for v in contexts.csp_violations), contexts.csp_violations
    contexts.csp_violations.clear()
