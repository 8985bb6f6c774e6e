"""The big screen with 6, 12 and 40 proposals, on a 1080p and a 4:3 screen, in English and in
Welsh and English side by side: while a round is open every proposal's title is on the screen
(inside the viewport, not clipped) with the turnout; after the reveal every proposal's outcome
is on some page the keyboard reaches, the legend of the outcomes is there, the keys work (←/→,
Home, Space, F) and axe finds nothing serious. Everything is read from the page, not assumed."""

from __future__ import annotations

from typing import Any

import pytest

from app.rules import explain
from tests.browser.conftest import WAIT_MS, Contexts, axe
from tests.conftest import FACILITATOR_KEY, LiveServer, Meeting, Phone

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect
expect.set_options(timeout=WAIT_MS)

SCREENS = ({"width": 1920, "height": 1080}, {"width": 1024, "height": 768})
LANGS = ("", "?lang=cy+en")
VOTERS = 6
# Six ballots per proposal, by its number mod 4: one pattern per outcome (R = 2, m = 2, and no
# affected group, so the room alone decides).
PATTERNS: dict[int, tuple[str, ...]] = {
    0: ("want",) * 4 + ("dont_want",) * 2,  # SUPPORTED: more WANT
    1: ("dont_want",) * 5 + ("neutral",),  # REJECTED: more than half DON'T WANT, 2 to 1
    2: ("dont_want",) * 2 + ("want",) + ("neutral",) * 3,  # CONTESTED: 2 to 1, not half
    3: ("want",) * 2 + ("dont_want",) * 3 + ("neutral",),  # PROTECTED: a strong minority
}
EXPECTED = {0: "SUPPORTED", 1: "REJECTED", 2: "CONTESTED", 3: "PROTECTED"}
# Titles as long as a council's: the layout must hold real ones, not "P1".
WORDS = (
    "Community transport for the outlying villages",
    "Library opening hours",
    "Youth club in the old fire station",
    "Street lighting after midnight",
    "Grants for the food bank",
    "Park toilets",
)


def spec(n: int) -> dict[str, Any]:
    proposals = []
    for i in range(n):
        keep = i % 3 != 2
        p: dict[str, Any] = {
            "id": f"p{i + 1:02d}",
            "title": f"{WORDS[i % len(WORDS)]} ({i + 1})",
            "kind": "keep" if keep else "fund",
            "affected_groups": [],
        }
        p["saving" if keep else "cost"] = 1000 * (i + 7)
        proposals.append(p)
    return {
        "title": f"Budget night with {n} proposals",
        "rule": {"ratio": 2, "group_min": 2},
        "segments": [{"id": "resident", "label": "Resident", "protects": True}],
        "proposals": proposals,
        "tie_break": [p["id"] for p in proposals],
    }


def new_meeting(live: LiveServer, n: int) -> Meeting:
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    return Meeting(f, spec(n))


def vote(live: LiveServer, meeting: Meeting, n: int) -> None:
    for v in range(VOTERS):
        phone = Phone(live.browser(), meeting.code)
        marks = {f"p{i + 1:02d}": PATTERNS[i % 4][v] for i in range(n)}
        assert phone.vote(marks).status_code == 200


# What is on the screen, measured in the page: each element's box against the viewport and the
# boxes of the elements that could clip it (anything between it and the page that hides or
# scrolls its overflow).
SEEN_JS = """
([selector, viewport]) => {
  const out = [];
  for (const node of document.querySelectorAll(selector)) {
    const r = node.getBoundingClientRect();
    let visible = r.width > 0 && r.height > 0 && !!node.offsetParent;
    let why = visible ? '' : 'not displayed';
    if (visible && (r.left < -1 || r.top < -1 || r.right > viewport.width + 1 ||
                    r.bottom > viewport.height + 1)) {
      visible = false; why = 'outside the viewport ' + JSON.stringify(r);
    }
    for (let a = node.parentElement; visible && a; a = a.parentElement) {
      const style = getComputedStyle(a);
      if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
      const b = a.getBoundingClientRect();
      if (r.top < b.top - 1 || r.bottom > b.bottom + 1 || r.left < b.left - 1 ||
          r.right > b.right + 1) {
        visible = false; why = 'clipped by ' + a.className;
      }
    }
    if (visible && (node.scrollHeight > node.clientHeight + 1 ||
                    node.scrollWidth > node.clientWidth + 1)) {
      visible = false; why = 'its text overflows';
    }
    out.push({id: node.closest('[data-proposal]')?.getAttribute('data-proposal') || '',
              category: node.closest('[data-category]')?.getAttribute('data-category') || '',
              text: node.innerText, visible, why,
              px: parseFloat(getComputedStyle(node).fontSize)});
  }
  return out;
}
"""


def seen(page: Any, selector: str) -> list[dict[str, Any]]:
    return list(page.evaluate(SEEN_JS, [selector, page.viewport_size]))


def page_signature(page: Any) -> str:
    return str(page.evaluate("document.querySelector('.result-page:not([hidden])')?.innerText"))


def outcomes_by_keyboard(page: Any) -> dict[str, set[str]]:
    """Every page, reached with → from the first (Home): the outcome each proposal is shown
    with, where the proposal and its outcome are fully on the screen."""
    page.keyboard.press("Home")
    first = page_signature(page)
    shown: dict[str, set[str]] = {}
    for _turn in range(60):
        # On this page: the proposals whose title is readable, and the outcome shown with it.
        readable = {
            t["id"]
            for t in seen(page, ".ranking li[data-proposal] .rank-title, article.result h3")
            if t["visible"]
        }
        for item in seen(page, ".ranking li[data-proposal] .badge, article.result .badge"):
            if item["visible"] and item["id"] in readable:
                shown.setdefault(item["id"], set()).add(item["category"])
        page.keyboard.press("ArrowRight")
        if page_signature(page) == first:
            break
    else:
        raise AssertionError("→ never came back to the first page")
    return shown


@pytest.mark.parametrize("n", [6, 12, 40])
def test_every_proposal_while_voting_and_every_outcome_after(
    contexts: Contexts, live: LiveServer, n: int
) -> None:
    """6, 12 or 40 proposals at 1920x1080 and 1024x768, in English and bilingual: the open
    round's titles and turnout are all on screen; every outcome is reachable by keyboard."""
    meeting = new_meeting(live, n)
    ids = [f"p{i + 1:02d}" for i in range(n)]
    meeting.open_round(*ids)
    vote(live, meeting, n)
    views = []
    for lang in LANGS:
        page = contexts.desktop(1920, 1080)
        page.goto(f"/p/{meeting.code}{lang}")
        views.append((lang, page))
    for lang, page in views:
        for screen in SCREENS:
            page.set_viewport_size(screen)
            expect(page.locator("#proj-turnout")).to_contain_text(f"{VOTERS} of {VOTERS}")
            page.wait_for_timeout(300)  # the resize is debounced, then the tiles are fitted
            turnout = seen(page, "#proj-turnout")
            assert turnout[0]["visible"], turnout
            titles = seen(page, ".board-item .board-title")
            assert sorted(t["id"] for t in titles) == ids
            hidden = [t for t in titles if not t["visible"]]
            assert not hidden, f"{n} proposals at {screen} {lang}: {hidden[:3]}"
            assert min(t["px"] for t in titles) >= 9, "titles too small to read"
            # Each says Keep or Fund and its saving or cost, and what WANT means is said.
            board = page.locator("#board").inner_text()
            assert "WANT means keep the service" in board
            if n >= 3:
                assert "WANT means fund it" in board and "costs" in board and "saves" in board
            if lang:
                expect(page.locator(".board-hint .bi-part").first).to_have_attribute("lang", "cy")
        axe(page, f"projector: open round, {n} proposals{' bilingual' if lang else ''}")

    meeting.close_round(1)
    meeting.reveal(1)
    expected = {pid: EXPECTED[i % 4] for i, pid in enumerate(ids)}
    legend_words = explain.live_strings(explain.english)
    for lang, page in views:
        expect(page.locator("#proj-round")).to_contain_text("results")
        expect(page.locator(".ranking li")).to_have_count(n)
        for screen in SCREENS:
            page.set_viewport_size(screen)
            page.wait_for_timeout(300)
            shown = outcomes_by_keyboard(page)
            missing = sorted(set(ids) - set(shown))
            assert not missing, f"{n} proposals at {screen} {lang}: never shown {missing}"
            assert {pid: cats.pop() for pid, cats in shown.items()} == expected
            legend = seen(page, ".outcome-legend")
            assert legend[0]["visible"], legend
            for c in ("PROTECTED", "CONTESTED"):
                assert legend_words[f"legend_{c}"] in legend[0]["text"]
            if lang:
                parts = page.locator(".outcome-legend .legend-entry .bi-part")
                expect(parts).to_have_count(8)  # each outcome in Welsh, then in English
                expect(parts.first).to_have_attribute("lang", "cy")
                assert "WEDI'I DDIOGELU" in legend[0]["text"]
            # The overview holds every proposal on one page.
            page.keyboard.press("Home")
            overview = seen(page, ".ranking li[data-proposal] .badge")
            if not lang or n <= 12:
                assert all(o["visible"] for o in overview), [
                    o for o in overview if not o["visible"]
                ][:3]
        axe(page, f"projector: results, {n} proposals{' bilingual' if lang else ''}")


def test_keys_turn_pause_and_go_full_screen(contexts: Contexts, live: LiveServer) -> None:
    """→/← turn the results' pages and say which page is shown; the pages turn by themselves
    every 15 s until Space pauses them; F and the button enter and leave full screen."""
    n = 12
    meeting = new_meeting(live, n)
    meeting.open_round(*[f"p{i + 1:02d}" for i in range(n)])
    vote(live, meeting, n)
    meeting.close_round(1)
    meeting.reveal(1)
    page = contexts.new(viewport={"width": 1024, "height": 768}).new_page()
    page.clock.install()
    page.goto(f"/p/{meeting.code}")
    pager = page.locator(".proj-pager")
    expect(pager).to_contain_text("Page 1 of ")
    total = int(pager.inner_text().split(" of ")[1].split(" ")[0])
    assert total >= 2
    expect(page.locator(".page-overview")).to_be_visible()
    page.keyboard.press("ArrowRight")
    expect(pager).to_contain_text("Page 2 of ")
    expect(page.locator(".page-overview")).to_be_hidden()
    expect(page.locator(".page-details").first).to_be_visible()
    page.keyboard.press("ArrowLeft")
    expect(pager).to_contain_text("Page 1 of ")
    page.keyboard.press("ArrowLeft")  # from the first page, back to the last
    expect(pager).to_contain_text(f"Page {total} of {total}")
    page.keyboard.press("Home")
    expect(pager).to_contain_text("Page 1 of ")

    # By itself: a page every 15 s once a key has not been pressed for 30 s.
    page.clock.run_for(46_000)
    expect(pager).to_contain_text("Page 2 of ")
    page.keyboard.press(" ")
    expect(pager).to_contain_text("Paused")
    page.clock.run_for(120_000)
    expect(pager).to_contain_text("Page 2 of ")
    page.keyboard.press(" ")
    expect(pager).not_to_contain_text("Paused")
    page.clock.run_for(16_000)
    expect(pager).to_contain_text("Page 3 of " if total > 2 else "Page 1 of ")

    button = page.locator("#proj-fullscreen")
    expect(button).to_have_text("Full screen (F)")
    page.keyboard.press("f")
    page.wait_for_function("document.fullscreenElement !== null")
    expect(button).to_have_text("Leave full screen (F)")
    expect(button).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("f")
    page.wait_for_function("document.fullscreenElement === null")
    button.click()
    page.wait_for_function("document.fullscreenElement !== null")
    axe(page, "projector: results, full screen")


def test_the_budget_page_says_the_equal_shares_step_plainly(
    contexts: Contexts, live: LiveServer
) -> None:
    """A budget round's first page is the pot: a plain sentence for the equal-shares step, and
    amounts in whole pounds or pence, never '≈'."""
    from tests.test_budget_meeting import BUDGET_MEETING, vote_budget_round

    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    meeting = Meeting(f, BUDGET_MEETING)
    vote_budget_round(meeting, lambda: Phone(live.browser(), meeting.code))
    page = contexts.desktop(1920, 1080)
    page.goto(f"/p/{meeting.code}")
    panel = page.locator(".budget-panel")
    expect(panel).to_be_visible()
    expect(panel.locator(".budget-how")).to_have_text(
        "The pot was split equally between the voters. Proposals were funded one at a time, "
        "the one that cost its supporters least each first, and each supporter paid an equal "
        "part of its cost."
    )
    assert "≈" not in page.locator("#results").inner_text()
    page.keyboard.press("ArrowRight")
    expect(page.locator(".page-overview")).to_be_visible()
    expect(page.locator(".outcome-legend")).to_be_visible()
