"""Browser tests: Debian's Chromium driven by Playwright, against a real server in a thread.

One browser and one server per test module (starting Chromium takes most of a second). Every
test makes its own browser contexts: a context is a fresh profile (cookies, storage), so each
phone is a separate attendee. Without a usable Chromium the tests skip with the reason
(`scripts/test` installs Debian's `chromium` when it runs as root with apt-get).

    COVOTE_SCREENSHOTS=1 scripts/test -k browser    also write docs/screenshots/*.png
    COVOTE_CHROMIUM=/path/to/chrome                 another Chromium build

axe-core (tests/browser/vendor/axe.min.js, MPL-2.0) checks every page the tests visit; its
findings are summarised at the end of the test output ("axe-core accessibility summary").
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.axe_plugin import AXE_JS, FAIL_IMPACTS, AxeReport, record
from tests.conftest import FACILITATOR_KEY, TIME_FACTOR, LiveServer, make_settings

CHROMIUM = Path(os.environ.get("COVOTE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
TAKE_SCREENSHOTS = os.environ.get("COVOTE_SCREENSHOTS", "") not in ("", "0")
# Playwright waits (ms) for things the server pushes: a tick is 20 ms here, so this is generous.
WAIT_MS = int(10_000 * TIME_FACTOR)

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def _browser_unavailable() -> str | None:
    if not CHROMIUM.exists():
        return (
            f"no Chromium at {CHROMIUM}: scripts/test installs Debian's chromium when run as root "
            "with apt-get; otherwise install it (apt-get install chromium) or set COVOTE_CHROMIUM"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as e:  # pragma: no cover - the test extras install it
        return f"the playwright package is not installed ({e}): run scripts/install test"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium, once per module; skips the module's browser tests with the reason if absent."""
    reason = _browser_unavailable()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000 * TIME_FACTOR
        )
    except Exception as e:
        pw.stop()
        pytest.skip(f"Playwright could not start {CHROMIUM}: {str(e).splitlines()[0]}")
    try:
        yield chromium
    finally:
        chromium.close()
        pw.stop()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[LiveServer]:
    """The app under uvicorn on SQLite, shared by a module's tests (each makes its own meeting)."""
    with LiveServer(make_settings(tmp_path_factory.mktemp("browser"))) as server:
        yield server


class Contexts:
    """Browser contexts for one test, closed at its end; uncaught script errors fail the test."""

    def __init__(self, browser: Any, live: LiveServer) -> None:
        self.browser = browser
        self.live = live
        self.opened: list[Any] = []
        self.script_errors: list[str] = []
        self.csp_violations: list[str] = []

    def new(self, **options: Any) -> Any:
        ctx = self.browser.new_context(base_url=self.live.url, **options)
        ctx.set_default_timeout(WAIT_MS)
        ctx.on("weberror", self._script_error)
        ctx.on("console", self._console)
        self.opened.append(ctx)
        return ctx

    def _script_error(self, error: Any) -> None:
        self.script_errors.append(f"{error.page and error.page.url}: {error.error}")

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.csp_violations.append(f"{message.page and message.page.url}: {message.text}")

    def phone(self, **options: Any) -> Any:
        """A phone-sized touch screen: its own cookies, so its own attendee."""
        return self.new(**{**PHONE, **options}).new_page()

    def desktop(self, width: int = 1280, height: int = 900) -> Any:
        return self.new(viewport={"width": width, "height": height}).new_page()

    def facilitator(self) -> Any:
        page = self.desktop()
        page.goto(f"/facilitator?key={FACILITATOR_KEY}")
        assert page.url.endswith("/console")
        return page

    def close(self) -> None:
        for ctx in self.opened:
            ctx.close()


@pytest.fixture
def contexts(browser: Any, live: LiveServer) -> Iterator[Contexts]:
    c = Contexts(browser, live)
    try:
        yield c
    finally:
        c.close()
    assert not c.csp_violations, "Content Security Policy violations:\n" + "\n".join(
        c.csp_violations
    )
    errors = "\n".join(c.script_errors)
    assert not errors, f"uncaught errors in the pages' scripts:\n{errors}"


def screenshot(page: Any, name: str, *, full_page: bool = False) -> None:
    """docs/screenshots/<name>.png, only when COVOTE_SCREENSHOTS is set (keeps the tree clean)."""
    if not TAKE_SCREENSHOTS:
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.screenshot(
        path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page, animations="disabled"
    )


# ---- axe-core -------------------------------------------------------------------------------


def axe(page: Any, name: str) -> AxeReport:
    """Run axe-core on the page as it is now; fail on any serious or critical violation."""
    if not page.evaluate("typeof window.axe === 'object'"):
        # Evaluated, not added as a <script>: the pages' CSP (script-src 'self') refuses inline
        # script tags, and DevTools evaluation is the test's own, outside the page's policy.
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    raw = page.evaluate(
        """async () => {
          const r = await axe.run(document, {resultTypes: ['violations']});
          return {
            passes: r.passes.length,
            violations: r.violations.map(v => ({
              id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.map(n => ({target: n.target.join(' '),
                                       summary: n.failureSummary}))}))
          };
        }"""
    )
    report = AxeReport(name, page.url, raw["passes"], raw["violations"])
    record(report)
    print(f"axe {report.line()}")
    bad = [v for v in report.violations if v["impact"] in FAIL_IMPACTS]
    assert not bad, f"axe on {name} ({page.url}):\n" + json.dumps(bad, indent=1)[:6000]
    return report


# ---- page helpers ---------------------------------------------------------------------------


def api_state(page: Any, code: str) -> dict[str, Any]:
    """GET /api/m/{code} as the page's browser (its cookies), but outside the browser: it works
    while the browser is offline, so a test can see what the server really holds."""
    import httpx

    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    base = page.url.split("/", 3)
    with httpx.Client(base_url=f"{base[0]}//{base[2]}", cookies=cookies, timeout=10) as client:
        r = client.get(f"/api/m/{code}")
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def wait_for(predicate: Callable[[], bool], what: str, timeout_s: float = WAIT_MS / 1000) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def open_phone(page: Any, path: str) -> None:
    """Open a meeting's phone page and press Join if this browser has not joined (opening the
    link never makes a voter)."""
    page.goto(path)
    join = page.locator("#join-form button")
    if join.count():
        join.click()
        page.wait_for_selector("#ballot, #join-form, .error", timeout=WAIT_MS)


def open_about_you(page: Any) -> None:
    """Open the phone's 'about you' box (collapsed while a round is open) as a voter would:
    a tap on its summary; nothing when it is open already."""
    box = page.locator("#segments-box")
    if not box.evaluate("d => d.open"):
        box.locator("summary").click()
        page.wait_for_function("document.getElementById('segments-box').open")
