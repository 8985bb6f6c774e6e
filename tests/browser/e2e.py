"""What the end-to-end browser stories share (test_survey_end_to_end.py, test_lab_end_to_end.py,
test_charter_end_to_end.py): one emulated KPL/1 receiver plugged in from the start, the server
that reads it, the facilitator as a console page and over HTTP, the keypads' step count, and
keying a paper sheet by keyboard.

A story module takes the fixtures by importing them (`from tests.browser.e2e import emulator,
live`): `live` then replaces conftest's plain server for that module.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hardware.emulator import KplEmulator
from tests.browser.conftest import WAIT_MS, Contexts
from tests.conftest import FACILITATOR_KEY, LiveServer, make_settings

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect
expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="module")
def emulator() -> Iterator[KplEmulator]:
    """A KPL/1 receiver on a pseudo-terminal, heartbeating twice a second."""
    with KplEmulator(heartbeat_s=0.5) as emu:
        yield emu


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    browser: Any,
    emulator: KplEmulator,
) -> Iterator[LiveServer]:
    """The app on SQLite with the emulated receiver (the module's `browser` starts first)."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    settings = make_settings(tmp_path_factory.mktemp(name), keypad_urls=[emulator.url])
    with LiveServer(settings) as server:
        yield server


class Console:
    """The facilitator: a browser page on the console, and the same role over HTTP for what
    the test reads without a page (the turnout, the keypads' status)."""

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

    def import_meeting(self, text: str) -> None:
        """The console's "Import a meeting" with a meeting file: the new meeting's Run page,
        its id and code noted."""
        page = self.page
        page.goto("/console")
        self.upload('form[action="/console/import"]', "#file", "meeting.json", text,
                    "application/json")  # fmt: skip
        self.id = int(page.url.split("/console/")[1].split("/")[0].split("?")[0])
        page.goto(f"/console/{self.id}")
        self.code = page.locator(".code").first.inner_text().strip()

    def get(self, url: str) -> httpx.Response:
        try:
            return self.http.get(url)
        except httpx.RemoteProtocolError:
            # The client sat idle through the browser's steps, and the server may close an
            # idle kept-alive connection just as a request goes out on it: a GET, so ask again.
            return self.http.get(url)

    def turnout(self) -> dict[str, Any]:
        return dict(self.get(f"/api/m/{self.code}").json()["turnout"])

    def keypad_status(self) -> dict[str, Any]:
        return dict(self.get(f"/console/{self.id}/keypads/status.json").json())

    def keypads_counted(self, presses: int) -> bool:
        """The Run page's keypad step shows `presses` answers."""
        counts: dict[str, int] = self.keypad_status()["step"]["counts"]
        return sum(counts.values()) == presses

    def post(self, path: str, **data: str) -> None:
        """A console form the story does not look at (close, reveal), posted as the page
        would: the CSRF token from the Run page."""
        page = self.get(f"/console/{self.id}").text
        csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        r = self.http.post(
            f"/console/{self.id}{path}", data={"csrf": csrf, **data}, follow_redirects=False
        )
        assert r.status_code == 303, r.text


def key_sheet(page: Any, sheet: str, answers: list[tuple[str, str]]) -> None:
    """Key a paper sheet on the console's keying page by keyboard only: type the sheet number,
    then Tab through the form, choosing each answer as a keyer would (arrow keys from the
    ticked radio button, "blank" wherever the form puts it, onto the answer; Space on a
    tick-all box; digits in the hours), then Tab on to the Save button and Enter."""
    page.locator("#sheet").focus()
    page.keyboard.type(sheet)
    for name, value in answers:
        target = page.locator(f"input[name='mark:{name}']")
        kind = target.first.get_attribute("type")
        # Tab until the question's first field has the focus (the form's order is the sheet's).
        for _ in range(200):
            page.keyboard.press("Tab")
            focused = page.evaluate("document.activeElement && document.activeElement.name")
            if focused == f"mark:{name}":
                break
        else:
            raise AssertionError(f"Tab never reached {name}")
        if kind == "radio":
            values = [target.nth(i).get_attribute("value") for i in range(target.count())]
            # Tab lands on the checked button ("blank"); arrows wrap round the group.
            at = page.evaluate("document.activeElement.value")
            for _ in range((values.index(value) - values.index(at)) % len(values)):
                page.keyboard.press("ArrowRight")
            assert page.evaluate("document.activeElement.value") == value, name
        elif kind == "checkbox":
            values = [target.nth(i).get_attribute("value") for i in range(target.count())]
            for picked in value.split(";"):
                while page.evaluate("document.activeElement.value") != picked:
                    page.keyboard.press("Tab")
                page.keyboard.press("Space")
            assert values  # a tick-all question has its boxes
        else:
            page.keyboard.type(value)
    # On to the Save button (past the questions left blank), and press it.
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "submit":
            break
    page.keyboard.press("Enter")
    expect(page.locator(".notice")).to_contain_text(f"Sheet {sheet} saved")
