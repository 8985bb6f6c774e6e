"""A whole meeting in real browsers: the facilitator sets it up in the console, three phones join
and vote by tapping, the projector follows live, a phone loses its connection and comes back,
the results are revealed. Also: voting with the keyboard alone."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import WAIT_MS, Contexts, api_state, axe, open_phone, screenshot
from tests.conftest import FACILITATOR_KEY, LiveServer, Meeting

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect
expect.set_options(timeout=WAIT_MS)

PROPOSALS = [
    # key, title, description, kind, amount, affected group labels
    (
        "library",
        "Mobile library",
        "The van that visits the villages each week.",
        "keep",
        "48000",
        ["Area: North"],
    ),
    ("respite", "Respite breaks", "Short breaks for unpaid carers.", "fund", "80000", ["Carer"]),
    ("toilets", "Park toilets", "", "keep", "22,000", []),
    ("shelter", "Bus shelter on Mill Lane", "", "fund", "£9,500", []),
]
# phone -> the segments it declares and its marks ("" = left unmarked)
PHONES: dict[str, tuple[list[str], dict[str, str]]] = {
    "A": (
        ["Carer"],
        {"library": "WANT", "respite": "WANT", "toilets": "DON'T WANT", "shelter": "DON'T WANT"},
    ),
    "B": (
        ["Area: North"],
        {"library": "WANT", "respite": "DON'T WANT", "toilets": "DON'T WANT", "shelter": "NEUTRAL"},
    ),
    "C": ([], {"library": "DON'T WANT", "respite": "DON'T WANT", "toilets": "WANT", "shelter": ""}),
}
# With m = 1 and R = 2: library 2 WANT to 1; respite opposed 2 to 1 but its one carer wants it;
# toilets opposed by all three once phone C changes its mind offline; shelter 1 DON'T WANT,
# 2 neutral: no clear majority.
EXPECTED = {
    "library": "SUPPORTED",
    "respite": "PROTECTED",
    "toilets": "REJECTED",
    "shelter": "CONTESTED",
}
MARK = {"WANT": "want", "DON'T WANT": "dont_want", "NEUTRAL": "neutral"}


def proposal_group(page: Any, key: str) -> Any:
    title = next(p[1] for p in PROPOSALS if p[0] == key)
    kind = next(p[3] for p in PROPOSALS if p[0] == key)
    return page.get_by_role("group", name=f"{'Keep' if kind == 'keep' else 'Fund'}: {title}")


def choice(page: Any, key: str, word: str) -> Any:
    return proposal_group(page, key).get_by_role("radio", name=word, exact=True)


def set_up_meeting_in_console(fac: Any) -> tuple[int, str]:
    """Create the meeting by typing into the console's forms, as a facilitator would: one save
    for the meeting's settings, one for the segments, one for the proposals."""
    fac.get_by_label("Title").fill("Riverside test budget")
    fac.get_by_role("button", name="Create", exact=True).click()
    expect(fac.get_by_role("heading", level=1)).to_contain_text("Riverside test budget")
    meeting_id = int(fac.url.split("/")[4])

    fac.locator("#s-m").fill("1")
    fac.get_by_role("button", name="Save the meeting settings").click()
    expect(fac.get_by_role("status")).to_contain_text("Meeting settings saved")

    for i, (key, label) in enumerate((("carer", "Carer"), ("north", "Area: North"))):
        fac.locator(f"#seg-{i}-label").fill(label)
        fac.locator(f"#seg-{i}-key").fill(key)
    fac.get_by_role("button", name="Save the segments").click()
    expect(fac.get_by_role("status")).to_contain_text("Segments saved")

    for i, (key, title, desc, kind, amount, groups) in enumerate(PROPOSALS):
        if i >= 2:
            fac.get_by_role("button", name="Add another proposal").click()
        form = fac.locator(f"#prop-{i}")
        form.locator(f"#prop-{i}-key").fill(key)
        form.locator(f"#prop-{i}-title").fill(title)
        form.locator(f"#prop-{i}-description").fill(desc)
        form.locator(f"#prop-{i}-{kind}").check()
        form.locator(f"#prop-{i}-saving" if kind == "keep" else f"#prop-{i}-cost").fill(amount)
        for label in groups:
            form.get_by_role("checkbox", name=label, exact=True).check()
    fac.get_by_role("button", name="Save the proposals").click()
    expect(fac.get_by_role("status")).to_contain_text("Proposals saved")
    expect(fac.get_by_role("group", name=re.compile(r"^Proposal \d+: "))).to_have_count(
        len(PROPOSALS)
    )

    fac.get_by_role("link", name="Run the vote").click()
    code = fac.locator(".lead .code").inner_text().strip()
    assert len(code) == 6
    return meeting_id, code


def test_a_meeting_from_set_up_to_results(contexts: Contexts, live: LiveServer) -> None:
    fac = contexts.facilitator()
    meeting_id, code = set_up_meeting_in_console(fac)

    projector = contexts.desktop(1920, 1080)
    projector.goto(f"/p/{code}")
    expect(projector.locator("#join-code")).to_have_text(code)
    expect(projector.locator("#proj-round")).to_have_text("Waiting for the first vote")
    join_url = projector.locator("#join-url").inner_text().strip()
    assert join_url == f"{live.url}/m/{code}"

    # The first phone types the code on the join page; the others open the join URL (the QR).
    phones: dict[str, Any] = {}
    phones["A"] = contexts.phone()
    phones["A"].goto("/")
    phones["A"].get_by_label("Meeting code").fill(code.lower())
    phones["A"].get_by_role("button", name="Join", exact=True).tap()
    expect(phones["A"].get_by_role("heading", level=1)).to_have_text("Riverside test budget")
    phones["A"].get_by_role("button", name="Join", exact=True).tap()  # opening never joins
    phones["A"].wait_for_selector("#ballot")
    for name in ("B", "C"):
        phones[name] = contexts.phone()
        open_phone(phones[name], join_url)
    for name, page in phones.items():
        for label in PHONES[name][0]:
            page.get_by_role("checkbox", name=label).tap()
            expect(page.locator("#segments-status")).to_have_text("Your answers are saved")
        expect(page.locator("#conn")).to_have_text("Live")
    expect(projector.locator("#proj-turnout")).to_have_text("Joined so far: 3")

    fac.get_by_role("button", name="Open the round").click()
    expect(fac.locator("#turnout")).to_have_text("0 of 3 present have voted")
    expect(projector.locator("#proj-round")).to_have_text("Round 1 — voting open")
    expect(projector.locator("#proj-turnout")).to_have_text("0 of 3 present have voted")
    screenshot(projector, "projector-open")

    # Each phone's ballot appears by itself (the round opened while the page was open).
    for name, page in phones.items():
        expect(page.get_by_role("heading", name="Round 1: your vote")).to_be_visible()
        for key, word in PHONES[name][1].items():
            if word:
                choice(page, key, word).tap()
                if name == "A" and key == "respite":
                    screenshot(page, "phone-voting")
        expect(page.locator("#save-status")).to_have_text("Your ballot is saved")
        you = api_state(page, code)["you"]
        assert you["segments"] == sorted(
            {"Carer": "carer", "Area: North": "north"}[s] for s in PHONES[name][0]
        )
        assert you["ballot"]["marks"] == {k: MARK[w] for k, w in PHONES[name][1].items() if w}
    page = phones["A"]
    page.locator("#save-status").scroll_into_view_if_needed()
    screenshot(page, "phone-saved")
    expect(projector.locator("#proj-turnout")).to_have_text("3 of 3 present have voted")
    expect(fac.locator("#turnout")).to_have_text("3 of 3 present have voted")

    # Phone C loses its connection, changes its mind, and the page says it is not saved.
    c = phones["C"]
    before = api_state(c, code)["you"]
    c.context.set_offline(True)
    expect(c.locator("#conn")).to_have_text("Reconnecting…")
    choice(c, "toilets", "DON'T WANT").tap()
    expect(c.locator("#save-status")).to_contain_text("Not saved yet")
    expect(c.locator("#save-status")).to_have_class(re.compile(r"\bis-offline\b"))
    c.wait_for_timeout(300)
    assert api_state(c, code)["you"]["ballot"]["marks"]["toilets"] == "want"  # the truth
    expect(c.locator("#save-status")).to_contain_text("Not saved yet")
    c.context.set_offline(False)
    expect(c.locator("#save-status")).to_have_text("Your ballot is saved")
    expect(c.locator("#conn")).to_have_text("Live")
    after = api_state(c, code)["you"]
    assert after["voter"] == before["voter"]
    assert after["ballot"]["marks"] == {
        "library": "dont_want",
        "respite": "dont_want",
        "toilets": "dont_want",
    }

    # A reload keeps the voter and shows its marks.
    c.reload()
    expect(c.locator("#save-status")).to_have_text("Your ballot is saved")
    expect(choice(c, "toilets", "DON'T WANT")).to_be_checked()
    expect(choice(c, "library", "DON'T WANT")).to_be_checked()
    expect(choice(c, "shelter", "WANT")).not_to_be_checked()
    assert api_state(c, code)["you"]["voter"] == before["voter"]
    expect(projector.locator("#proj-turnout")).to_have_text("3 of 3 present have voted")
    fac.reload()
    screenshot(fac, "console-meeting", full_page=True)

    # Close (it asks first: closing cannot be undone): the phones say so; results stay hidden
    # until the facilitator reveals them.
    fac.get_by_role("button", name="Close round 1").click()
    fac.get_by_role("dialog").get_by_role("button", name="Yes, close round 1").click()
    for page in phones.values():
        expect(page.locator("#ballot .waiting")).to_have_text("Voting is closed")
    expect(projector.locator("#proj-round")).to_have_text("Round 1 — voting closed")
    expect(projector.locator("#results")).to_be_hidden()
    fac.get_by_role("button", name="Reveal on projector").click()
    expect(projector.locator("#proj-round")).to_have_text("Round 1 — results")
    for key, category in EXPECTED.items():
        card = projector.locator(f"article.result[data-proposal='{key}']")
        expect(card).to_have_attribute("data-category", category)
        expect(card.locator(".badge .b-text")).to_have_text(category)
    expect(projector.locator("article[data-proposal='respite'] .reason")).to_have_text(
        "Protected by the people it affects: Carer"
    )
    # A fund proposal its affected group protects means what the report says it means.
    expect(projector.locator("article[data-proposal='respite'] .meaning")).to_have_text(
        "Backed by the people it affects: not rejected."
    )
    ranking = projector.locator(".ranking li")
    expect(ranking).to_have_count(4)
    assert [li.get_attribute("data-proposal") for li in ranking.all()] == [
        "library",
        "respite",
        "shelter",
        "toilets",
    ]
    expect(phones["B"].get_by_role("link", name="See the results on this phone")).to_be_visible()
    screenshot(projector, "projector-results-1080p")
    projector.set_viewport_size({"width": 1024, "height": 768})
    projector.wait_for_timeout(200)
    screenshot(projector, "projector-results-4x3")

    fac.get_by_role("link", name="Results", exact=True).click()
    expect(fac.get_by_role("heading", level=1)).to_have_text("Round 1 results")
    for key, category in EXPECTED.items():
        row = fac.locator("tbody tr").filter(has_text=next(p[1] for p in PROPOSALS if p[0] == key))
        expect(row.locator("[data-category]")).to_have_attribute("data-category", category)
    screenshot(fac, "console-round-results", full_page=True)
    fac.goto(f"/console/{meeting_id}/setup")
    screenshot(fac, "console-setup", full_page=True)


def test_voting_with_the_keyboard_alone(contexts: Contexts, live: LiveServer) -> None:
    """Tab to the folded 'about you' box and open it with Enter, Space and the arrow keys to
    choose (each choice is saved: with scripts there is no Save button to reach); the
    facilitator's buttons work from the keyboard too."""
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    meeting = Meeting(f)
    fac = contexts.facilitator()
    fac.goto(f"/console/{meeting.id}")
    fac.get_by_role("button", name="Open the round").focus()
    fac.keyboard.press("Enter")
    expect(fac.get_by_role("button", name="Close round 1")).to_be_visible()

    page = contexts.phone(has_touch=False, is_mobile=False)
    open_phone(page, f"/m/{meeting.code}")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    def focused() -> dict[str, Any]:
        result: dict[str, Any] = page.evaluate(
            "({name: document.activeElement.name || '', value: document.activeElement.value || '',"
            " text: document.activeElement.textContent.trim(),"
            " checked: !!document.activeElement.checked})"
        )
        return result

    def tab_until(predicate: Any, limit: int = 30) -> dict[str, Any]:
        for _ in range(limit):
            page.keyboard.press("Tab")
            now = focused()
            if predicate(now):
                return now
        raise AssertionError("the keyboard never reached it")

    # The round is open: the 'about you' box is folded; Enter opens it, Space declares a
    # segment, then on to the first proposal's choices.
    tab_until(lambda f: f["text"] == "Tell us about yourself (optional)")
    page.keyboard.press("Enter")
    now = tab_until(lambda f: f["name"] == "segment" and f["value"] == "carer")
    page.keyboard.press("Space")
    expect(page.locator("#segments-status")).to_have_text("Your answers are saved")
    now = tab_until(lambda f: f["name"] == "mark:library")
    assert now["value"] == "want" and not now["checked"]
    # The focused choice shows a focus ring (on its label, the visible part).
    ring = page.evaluate("getComputedStyle(document.activeElement.nextElementSibling).outlineStyle")
    assert ring == "solid"
    page.keyboard.press("Space")
    expect(page.locator("#save-status")).to_have_text("Your ballot is saved")
    page.keyboard.press("ArrowRight")  # moves to DON'T WANT and chooses it
    assert focused() == {"name": "mark:library", "value": "dont_want", "text": "", "checked": True}
    page.keyboard.press("Tab")  # the next proposal
    assert focused()["name"] == "mark:respite"
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert focused()["name"] == "mark:toilets"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # NEUTRAL
    assert focused()["value"] == "neutral" and focused()["checked"]
    expect(page.locator("#save-status")).to_have_text("Your ballot is saved")
    expect(page.locator("#answered")).to_have_text("3 of 3 answered")
    expect(page.get_by_role("button", name="Save my vote")).to_have_count(0)
    you = api_state(page, meeting.code)["you"]
    assert you["segments"] == ["carer"]
    assert you["ballot"]["marks"] == {
        "library": "dont_want",
        "respite": "want",
        "toilets": "neutral",
    }

    # The facilitator closes and reveals from the keyboard; the phone follows. Closing asks
    # first, with the focus on Cancel; Shift+Tab reaches "Yes".
    fac.get_by_role("button", name="Close round 1").focus()
    fac.keyboard.press("Enter")
    expect(fac.get_by_role("dialog")).to_be_visible()
    expect(fac.get_by_role("button", name="Cancel")).to_be_focused()
    fac.keyboard.press("Shift+Tab")
    expect(fac.get_by_role("button", name="Yes, close round 1")).to_be_focused()
    fac.keyboard.press("Enter")
    fac.get_by_role("button", name="Reveal on projector").focus()
    fac.keyboard.press("Space")
    expect(fac.get_by_role("button", name="Hide results")).to_be_visible()
    expect(page.get_by_role("link", name="See the results on this phone")).to_be_visible()
    axe(page, "phone: results revealed")
