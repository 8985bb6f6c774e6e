"""The projector drives keypads: it shows the proposal keypads vote on, and segment questions."""

from __future__ import annotations

import pytest

from tests.browser.conftest import WAIT_MS, Contexts, axe
from tests.conftest import FACILITATOR_KEY, LiveServer, Meeting

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect
expect.set_options(timeout=WAIT_MS)


def test_the_projector_shows_the_keypad_step_and_follows_the_stepper(
    contexts: Contexts, live: LiveServer
) -> None:
    """'Proposal 1 of 2 — Keep: Mobile library. Press 1 WANT…', then proposal 2 after Next."""
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    meeting = Meeting(f)
    projector = contexts.desktop(1920, 1080)
    projector.goto(f"/p/{meeting.code}")
    keypad = projector.locator("#proj-keypad")
    expect(keypad).to_be_hidden()
    meeting.post("/rounds", proposal=["library", "respite"], keypads="on")
    expect(keypad).to_contain_text("proposal 1 of 2 — Keep: Mobile library")
    expect(keypad).to_contain_text("Press 1 WANT, 2 DON'T WANT, 3 NEUTRAL")
    meeting.post("/rounds/1/step", index="2")
    expect(keypad).to_contain_text("proposal 2 of 2 — Fund: Respite breaks")
    axe(projector, "projector: keypad round")
    meeting.close_round(1)
    expect(keypad).to_be_hidden()
    meeting.post("/keypads/ask", segment="carer")
    expect(keypad).to_contain_text("press 1 if you are Carer, 2 if not")


def test_the_keypad_line_names_the_clause_an_amendment_amends(
    contexts: Contexts, live: LiveServer
) -> None:
    """A charter round for keypads: the line names each wording's place, 'Clause 1: ...' and,
    for the amendment keypads answer on its own, 'Amendment to clause 2: ...' (in Welsh
    too), as the board does."""
    import json

    from tests.test_charter_room import CHARTER, upload

    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    meeting = Meeting(f)
    assert upload(meeting, json.dumps(CHARTER)).status_code == 303
    meeting.post(
        "/rounds",
        kind="charter",
        proposal=["respite", "library", "library-fortnight"],
        keypads="on",
    )
    projector = contexts.desktop(1920, 1080)
    projector.goto(f"/p/{meeting.code}")
    keypad = projector.locator("#proj-keypad")
    expect(keypad).to_contain_text("1 of 3 — Clause 1: Carers get a respite break every month.")
    meeting.post("/rounds/1/step", index="3")
    expect(keypad).to_contain_text(
        "3 of 3 — Amendment to clause 2: The mobile library visits every village each fortnight."
    )
    axe(projector, "projector: an amendment for the keypads")
    projector.goto(f"/p/{meeting.code}?lang=cy")
    expect(keypad).to_contain_text("Gwelliant i gymal 2:")
