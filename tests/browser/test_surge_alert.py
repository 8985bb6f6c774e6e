"""The facilitator's console raises an alert, live, when "present" jumps unnaturally."""

from __future__ import annotations

import pytest

from tests.browser.conftest import WAIT_MS, Contexts, axe
from tests.conftest import FACILITATOR_KEY, LiveServer, Meeting, join

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect
expect.set_options(timeout=WAIT_MS)


@pytest.mark.parametrize(
    ("lang", "text"),
    [("en", "60 phones joined in the last minute"), ("cy", "Ymunodd 60 ffôn yn y funud")],
)
def test_a_burst_of_joins_shows_an_alert_on_the_open_console(
    contexts: Contexts, live: LiveServer, lang: str, text: str
) -> None:
    """60 phones join while the console is open: its role=alert region says so, in the
    console's language, without a reload."""
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    meeting = Meeting(f)
    console = contexts.facilitator()
    console.goto(f"/console/{meeting.id}?lang={lang}")
    alert = console.locator("#surge[role=alert]")
    expect(alert).to_be_empty()
    for _ in range(60):
        join(live.browser(), meeting.code)
    expect(alert).to_contain_text(text)
    axe(console, f"console: surge alert ({lang})")
