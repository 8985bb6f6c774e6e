"""The presenter view drives the big screen (issue 13): two browsers, the console on a laptop
(/console/ID/present) and the projector at 1920x1080 (/p/CODE). Pause stops the pages
turning, Next and Previous turn them, "Show on screen" shows one proposal's card, then the
ranking, the join code, a blank screen and back; the preview shows what the projector shows;
with 40 proposals, in English and in Welsh and English, driving through the pages from the
presenter view shows every proposal's outcome on the projector (read from the projector's page)
and the ranking shows all 40; the keys work; axe finds nothing serious."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import Contexts, axe, screenshot, wait_for
from tests.browser.test_projector_screens import EXPECTED, new_meeting, seen, vote
from tests.conftest import LiveServer, Meeting

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect

PROJECTOR = (1920, 1080)


def revealed_meeting(live: LiveServer, n: int) -> tuple[Meeting, list[str]]:
    meeting = new_meeting(live, n)
    ids = [f"p{i + 1:02d}" for i in range(n)]
    meeting.open_round(*ids)
    vote(live, meeting, n)
    meeting.close_round(1)
    meeting.reveal(1)
    return meeting, ids


def screen_of(page: Any) -> dict[str, str]:
    """What the projector page says it shows (#proj's data-*: projector.js markScreen)."""
    return dict(
        page.evaluate(
            """() => { const p = document.getElementById('proj');
              return {mode: p.dataset.mode, page: p.dataset.page, pages: p.dataset.pages,
                      paused: p.dataset.paused}; }"""
        )
    )


def preview_of(presenter: Any) -> Any:
    frame = presenter.frame_locator("#preview")
    return frame


def preview_screen(presenter: Any) -> dict[str, str]:
    """The same, read from the presenter view's preview frame."""
    frame = presenter.frame(url=lambda url: "preview=1" in url)
    assert frame is not None
    return screen_of(frame)


def visible_page_text(page_or_frame: Any) -> str:
    return str(
        page_or_frame.evaluate(
            "document.querySelector('.result-page:not([hidden])')?.innerText || ''"
        )
    )


def all_black(png: bytes) -> bool:
    """Every pixel of the screenshot is black: nothing on the screen to read."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        return all(band == (0, 0) for band in image.convert("RGB").getextrema())


def open_presenter(contexts: Contexts, meeting: Meeting, query: str = "") -> Any:
    presenter = contexts.facilitator()  # a laptop, 1280x900
    presenter.goto(f"/console/{meeting.id}/present{query}")
    expect(presenter.locator("#page-now")).to_contain_text("Page 1 of ")
    return presenter


def press(presenter: Any, text: str) -> None:
    presenter.get_by_role("button", name=text, exact=True).click()


def test_the_presenter_drives_the_projector(contexts: Contexts, live: LiveServer) -> None:
    """Pause, Next, Previous, a proposal, the ranking, the join code, blank and back, from the
    presenter view; the projector follows each, and the preview shows the same as it."""
    n = 12
    meeting, ids = revealed_meeting(live, n)
    projector = contexts.desktop(*PROJECTOR)
    projector.clock.install()
    projector.goto(f"/p/{meeting.code}")
    expect(projector.locator(".proj-pager")).to_contain_text("Page 1 of ")
    presenter = open_presenter(contexts, meeting)
    total = int(screen_of(projector)["pages"])
    assert total >= 3
    expect(presenter.locator("#page-now")).to_have_text(f"Page 1 of {total}")

    # Pause: the projector stays on its page however long it waits.
    press(presenter, "Pause")
    expect(projector.locator(".proj-pager")).to_contain_text("Paused")
    projector.clock.run_for(120_000)
    assert screen_of(projector)["page"] == "1"
    expect(presenter.get_by_role("button", name="Resume", exact=True)).to_be_visible()
    expect(presenter.locator("#screen-now")).to_have_text("On the screen: results page 1, paused.")

    # Next and Previous turn the projector's pages, and the preview shows the same page.
    press(presenter, "Next")
    expect(projector.locator("#proj")).to_have_attribute("data-page", "2")
    expect(projector.locator(".page-details").first).to_be_visible()
    wait_for(lambda: preview_screen(presenter)["page"] == "2", "the preview on page 2")
    assert visible_page_text(projector) == visible_page_text(
        presenter.frame(url=lambda url: "preview=1" in url)
    )
    expect(presenter.locator("#page-now")).to_have_text(f"Page 2 of {total}")
    press(presenter, "Next")
    expect(projector.locator("#proj")).to_have_attribute("data-page", "3")
    press(presenter, "Previous")
    expect(projector.locator("#proj")).to_have_attribute("data-page", "2")
    press(presenter, "Previous")
    press(presenter, "Previous")  # from the first page round to the last, like the keys
    expect(projector.locator("#proj")).to_have_attribute("data-page", str(total))
    projector.clock.run_for(60_000)
    assert screen_of(projector)["page"] == str(total)  # still paused

    # Resume: the pages turn by themselves again.
    press(presenter, "Resume")
    expect(projector.locator(".proj-pager")).not_to_contain_text("Paused")
    projector.clock.run_for(16_000)
    expect(projector.locator("#proj")).to_have_attribute("data-page", "1")

    # One proposal's card, large, on the projector and in the preview.
    target = ids[4]
    row = presenter.locator(f'.present-proposals li[data-proposal="{target}"]')
    row.get_by_role("button", name="Show on screen").click()
    card = projector.locator(f'#focus article.result[data-proposal="{target}"]')
    expect(card).to_be_visible()
    expect(card).to_have_attribute("data-category", EXPECTED[4 % 4])
    expect(projector.locator("#results")).to_be_hidden()
    expect(preview_of(presenter).locator(f'#focus [data-proposal="{target}"]')).to_be_visible()
    expect(presenter.locator("#screen-now")).to_contain_text("On the screen: the result of")
    expect(row).to_have_attribute("aria-current", "true")
    assert seen(projector, "#focus article.result h3")[0]["visible"]
    axe(projector, "projector: one proposal from the presenter view")

    # The ranking: every proposal, in order.
    press(presenter, "Show the ranking")
    expect(projector.locator("#focus .ranking li")).to_have_count(n)
    shown = seen(projector, "#focus .ranking li .badge")
    assert all(s["visible"] for s in shown), [s for s in shown if not s["visible"]][:3]
    expect(presenter.locator("#screen-now")).to_have_text("On the screen: the ranking.")

    # The join code, large, while results are revealed.
    press(presenter, "Show the join code")
    expect(projector.locator("#proj")).to_have_attribute("data-mode", "join")
    expect(projector.locator("#join-code")).to_have_text(meeting.code)
    expect(projector.locator("#results")).to_be_hidden()
    expect(projector.locator("#proj-title")).to_be_visible()
    assert seen(projector, "#join-code")[0]["visible"]
    assert seen(projector, ".proj-join .qr")[0]["visible"]
    axe(projector, "projector: the join code from the presenter view")
    screenshot(projector, "projector-join-code")

    # Blank: black, nothing readable, and it says so to assistive technology. Unblank: back.
    press(presenter, "Blank the screen")
    blank = projector.get_by_role("img", name="Screen blanked")
    expect(blank).to_be_visible()
    expect(projector.locator("#proj")).to_be_hidden()
    assert all_black(projector.screenshot(animations="disabled"))
    expect(presenter.locator("#screen-now")).to_have_text("The screen is blank.")
    axe(projector, "projector: blanked")
    press(presenter, "Unblank")
    expect(projector.locator("#proj")).to_have_attribute("data-mode", "join")
    expect(projector.locator("#join-code")).to_be_visible()
    expect(projector.locator("#results")).to_be_hidden()

    # Back to automatic: today's screen, turning by itself.
    press(presenter, "Back to automatic")
    expect(projector.locator("#proj")).to_have_attribute("data-mode", "auto")
    expect(projector.locator("#results")).to_be_visible()
    axe(presenter, "presenter view: results revealed")

    # The keys of the presenter view, also right after a click on a button (it has the focus).
    expect(presenter.get_by_role("button", name="Back to automatic")).to_be_focused()
    presenter.keyboard.press("b")
    expect(blank).to_be_visible()
    presenter.keyboard.press("b")
    expect(blank).to_be_hidden()
    presenter.keyboard.press("j")
    expect(projector.locator("#proj")).to_have_class(re.compile("screen-join"))
    presenter.keyboard.press("a")
    expect(projector.locator("#proj")).to_have_attribute("data-mode", "auto")
    # Space pauses on the page the preview shows (each screen turns on its own timer until
    # then), and the projector goes to that page. On a focused button Space presses it.
    presenter.locator("h1").click()
    presenter.keyboard.press(" ")
    expect(projector.locator("#proj")).to_have_attribute("data-paused", "true")
    wait_for(lambda: preview_screen(presenter)["paused"] == "true", "the preview paused")
    here = int(preview_screen(presenter)["page"])
    expect(projector.locator("#proj")).to_have_attribute("data-page", str(here))
    presenter.keyboard.press("ArrowRight")
    after = here % total + 1
    expect(projector.locator("#proj")).to_have_attribute("data-page", str(after))

    # The projector's own keys still work, until the presenter's next change overrides them.
    projector.keyboard.press("ArrowRight")
    expect(projector.locator("#proj")).to_have_attribute("data-page", str(after % total + 1))
    wait_for(lambda: preview_screen(presenter)["page"] == str(after), "the preview follows")
    presenter.keyboard.press("ArrowLeft")  # from the page the preview shows, untouched
    expect(projector.locator("#proj")).to_have_attribute("data-page", str(here))
    wait_for(lambda: preview_screen(presenter)["page"] == str(here), "the preview follows")
    screenshot(presenter, "presenter-view")  # blurs the focus: last


def test_before_the_reveal_only_join_and_blank_change_the_screen(
    contexts: Contexts, live: LiveServer
) -> None:
    """While a round is open: a proposal or the ranking leaves the board as it is; the join
    code and blank work; axe on the presenter view during voting."""
    n = 6
    meeting = new_meeting(live, n)
    meeting.open_round(*[f"p{i + 1:02d}" for i in range(n)])
    projector = contexts.desktop(*PROJECTOR)
    projector.goto(f"/p/{meeting.code}")
    presenter = contexts.facilitator()
    presenter.goto(f"/console/{meeting.id}/present")
    expect(presenter.locator("#not-revealed")).to_be_visible()
    press(presenter, "Show the ranking")
    presenter.locator('.present-proposals li[data-proposal="p02"]').get_by_role(
        "button", name="Show on screen"
    ).click()
    wait_for(lambda: meeting.state()["screen"]["version"] == 2, "both commands stored")
    expect(projector.locator("#board")).to_be_visible()
    expect(projector.locator("#proj")).to_have_attribute("data-mode", "auto")
    press(presenter, "Show the join code")
    expect(projector.locator("#board")).to_be_hidden()
    expect(projector.locator("#join-code")).to_be_visible()
    press(presenter, "Blank the screen")
    expect(projector.get_by_role("img", name="Screen blanked")).to_be_visible()
    axe(presenter, "presenter view: round open, screen blanked")


@pytest.mark.parametrize("lang", ["", "?lang=cy+en"])
def test_forty_proposals_every_outcome_through_the_presenter(
    contexts: Contexts, live: LiveServer, lang: str
) -> None:
    """40 proposals at 1920x1080, in English and in Welsh and English: Next from the
    presenter view through every page shows every proposal's outcome on the projector (read
    from its page), and the ranking shows all 40, paged when they do not fit."""
    n = 40
    meeting, ids = revealed_meeting(live, n)
    projector = contexts.desktop(*PROJECTOR)
    projector.clock.install()
    projector.goto(f"/p/{meeting.code}{lang}")
    expect(projector.locator(".ranking li")).to_have_count(n)
    presenter = open_presenter(contexts, meeting, "?bilingual=1" if lang else "")
    if lang:
        expect(preview_of(presenter).locator(".outcome-legend .bi-part").first).to_have_attribute(
            "lang", "cy"
        )
    press(presenter, "Pause")
    expect(projector.locator("#proj")).to_have_attribute("data-paused", "true")
    total = int(screen_of(projector)["pages"])
    expected = {pid: EXPECTED[i % 4] for i, pid in enumerate(ids)}
    shown: dict[str, set[str]] = {}
    for i in range(total):
        expect(projector.locator("#proj")).to_have_attribute("data-page", str(i + 1))
        readable = {
            t["id"]
            for t in seen(projector, ".ranking li[data-proposal] .rank-title, article.result h3")
            if t["visible"]
        }
        for item in seen(projector, ".ranking li[data-proposal] .badge, article.result .badge"):
            if item["visible"] and item["id"] in readable:
                shown.setdefault(item["id"], set()).add(item["category"])
        press(presenter, "Next")
    expect(projector.locator("#proj")).to_have_attribute("data-page", "1")
    assert sorted(shown) == ids, sorted(set(ids) - set(shown))
    assert {pid: cats.pop() for pid, cats in shown.items()} == expected

    # The ranking: every proposal on some ranking page, all of them readable.
    press(presenter, "Show the ranking")
    expect(projector.locator("#proj")).to_have_attribute("data-mode", "ranking")
    ranked: set[str] = set()
    pages = int(screen_of(projector)["pages"])
    for _ in range(pages):
        ranked |= {
            t["id"]
            for t in seen(projector, "#focus .ranking li[data-proposal] .badge")
            if t["visible"]
        }
        projector.clock.run_for(15_100)
    assert ranked == set(ids), sorted(set(ids) - ranked)

    # On a 4:3 screen the ranking takes more pages (two, in two languages); the projector's own
    # keys turn them, and every proposal is on one of them.
    projector.set_viewport_size({"width": 1024, "height": 768})
    projector.clock.run_for(500)  # the resize is debounced, then the ranking is drawn again
    wait_for(lambda: ranking_fits(projector), "the ranking redrawn for 4:3")
    pages = int(screen_of(projector)["pages"])
    if lang:
        assert pages >= 2
        expect(projector.locator("#focus .proj-pager")).to_have_attribute(
            "data-text", f"Tudalen 1 o {pages} / Page 1 of {pages}"
        )
    ranked = set()
    for _ in range(pages):
        ranked |= {
            t["id"]
            for t in seen(projector, "#focus .ranking li[data-proposal] .badge")
            if t["visible"]
        }
        projector.keyboard.press("ArrowRight")
    assert ranked == set(ids), sorted(set(ids) - ranked)
    axe(projector, f"projector: the ranking at 4:3, 40 proposals{' bilingual' if lang else ''}")
    axe(presenter, f"presenter view: 40 proposals{' bilingual' if lang else ''}")


def ranking_fits(page: Any) -> bool:
    """The ranking page shown fits the screen (drawn for the screen's size)."""
    shown = seen(page, "#focus .result-page:not([hidden]) .ranking li .badge")
    return bool(shown) and all(s["visible"] for s in shown)
