"""A charter review in the browser (issue 17): the Charter page of a signed charter starts a
review meeting (asked first in a dialog), the parties' reports are entered there, and in the
review round a phone sees each commitment on its own screen with the party's report first,
the projector's board shows the reports, and once revealed the projector pages through the
scorecard and its chart. axe-core on every page visited.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser.conftest import Contexts, api_state, axe, open_phone, wait_for
from tests.conftest import FACILITATOR_KEY, LiveServer, Meeting
from tests.test_charter_review_room import ITEMS, REVIEWED, existing
from tests.test_charter_room import upload
from tests.test_charter_sign import sign

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect

REPORT = "We funded 38 nights a month: two short of the promise."


def test_a_review_meeting_is_started_reported_rated_and_scored_in_the_browser(
    contexts: Contexts, live: LiveServer
) -> None:
    http = live.browser()
    http.get(f"/facilitator?key={FACILITATOR_KEY}")
    source = Meeting(http)
    assert upload(source, json.dumps(REVIEWED)).status_code == 303
    assert sign(source).status_code == 303

    console = contexts.facilitator()
    console.goto(f"/console/{source.id}/charter")
    axe(console, "console: charter page, reviewable")
    console.get_by_label("The review meeting's title").fill("Ashdown review 2027")
    console.get_by_role("button", name="Start a review meeting").click()
    dialog = console.get_by_role("dialog")
    expect(dialog).to_contain_text("Start a review meeting of this charter?")
    dialog.get_by_role("button", name="Yes, start the review meeting").click()
    # The review meeting's own Charter page (the source's is the page the dialog was on).
    console.wait_for_url(lambda url: url.endswith("/charter") and f"/{source.id}/" not in url)
    review_id = int(console.url.split("/")[4])
    expect(console.get_by_role("heading", name="The parties' reports")).to_be_visible()
    axe(console, "console: review meeting's charter page")
    console.locator('textarea[name="report:respite-fund"]').fill(REPORT)
    console.get_by_role("button", name="Save the reports").click()
    expect(console.locator(".notice")).to_contain_text("Reports saved: 1.")

    review = existing(http, review_id, source.csrf)
    review.post("/rounds", kind="charter_review", proposal=ITEMS)

    projector = contexts.desktop()
    projector.goto(f"/p/{review.code}")
    board = projector.locator('[data-proposal="respite-fund"]')
    expect(board).to_contain_text(REPORT)
    expect(board).to_contain_text("Ashdown Council")
    expect(projector.locator('[data-proposal="library-van"]')).to_contain_text(
        "No report from the party on this commitment."
    )

    answers = {"respite-fund": "Kept", "library-van": "Partly kept", "litter-picks": "Kept"}
    for n in range(2):
        phone = contexts.phone()
        open_phone(phone, f"/m/{review.code}")
        first = phone.locator("#survey-page-1")
        expect(first).to_be_visible()
        expect(phone.locator("#survey-page-2")).to_be_hidden()
        expect(first.locator(".review-report")).to_contain_text(REPORT)
        if n == 0:
            axe(phone, "phone: review screen 1")
        for i, key in enumerate(ITEMS if n == 0 else ITEMS[:2], 1):
            page = phone.locator(f"#survey-page-{i}")
            expect(page).to_be_visible()
            page.get_by_label(answers[key], exact=True).check()
            if i < len(ITEMS):
                phone.get_by_role("button", name="Next").click()

        def saved(p: Any = phone, n: int = n) -> bool:
            you = api_state(p, review.code)["you"]["ballot"]
            return bool(you) and len(you["marks"]) == (3 if n == 0 else 2)

        wait_for(saved, f"phone {n}'s ratings saved")
    review.close_round(1)
    review.reveal(1)
    card = projector.locator('[data-chart="scorecard"]')
    expect(card).to_contain_text("Scorecard", timeout=10_000)
    expect(card).to_contain_text("Fewer than 2 rated: not shown")
    axe(projector, "projector: review scorecard")
    console.goto(f"/console/{review.id}/rounds/1")
    expect(console.locator(".review-scorecard")).to_contain_text("Ashdown Council")
    axe(console, "console: review round page")
