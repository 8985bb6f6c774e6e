"""The people list in a real browser: a phone reads the privacy notice and leaves its details in
Welsh (a refused form first), and the facilitator sees and deletes them; axe on every page."""

from __future__ import annotations

import pytest

from tests.browser.conftest import WAIT_MS, Contexts, axe, screenshot
from tests.conftest import FACILITATOR_KEY, LiveServer, Meeting

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect
expect.set_options(timeout=WAIT_MS)


def test_a_phone_leaves_its_details_in_welsh_and_the_facilitator_deletes_them(
    contexts: Contexts, live: LiveServer
) -> None:
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    meeting = Meeting(f)
    page = contexts.phone()
    page.goto(f"/m/{meeting.code}/helping?lang=cy")
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    notice = page.get_by_role("heading", name="Eich manylion a'ch preifatrwydd")
    form = page.get_by_role("heading", name="Eich manylion", exact=True)
    expect(notice).to_be_visible()
    assert notice.bounding_box()["y"] < form.bounding_box()["y"]  # the notice comes first
    axe(page, "people form: Welsh")

    page.get_by_label("Eich enw").fill("Siân Prydderch")
    page.get_by_label("Cyfeiriad e-bost (dewisol)").fill("sian@example")
    page.get_by_role("button", name="Anfon fy manylion").tap()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Gwiriwch eich cyfeiriad e-bost")
    expect(summary).to_contain_text("Ticiwch y blwch")
    expect(page.get_by_label("Eich enw")).to_have_value("Siân Prydderch")
    expect(page.get_by_label("Cyfeiriad e-bost (dewisol)")).to_have_attribute(
        "aria-invalid", "true"
    )
    axe(page, "people form: Welsh, refused")

    page.get_by_label("Cyfeiriad e-bost (dewisol)").fill("sian@example.org")
    page.get_by_role("checkbox", name="Mobile library").check()
    page.get_by_role("checkbox", name="Rwy'n cytuno i gael fy nghysylltu").check()
    page.get_by_role("button", name="Anfon fy manylion").tap()
    expect(page.get_by_role("heading", name="Diolch")).to_be_visible()
    expect(page.locator("main")).to_contain_text(meeting.code)
    screenshot(page, "people-thanks-cymraeg")
    axe(page, "people thanks: Welsh")

    console = contexts.facilitator()
    console.goto(f"/console/{meeting.id}/people")
    row = console.get_by_role("row", name="Siân Prydderch")
    expect(row).to_contain_text("sian@example.org")
    expect(row).to_contain_text("Mobile library")
    axe(console, "console: people")
    row.get_by_role("button", name="Delete the details of Siân Prydderch").click()
    dialog = console.get_by_role("dialog")
    expect(dialog).to_contain_text("Delete the details of Siân Prydderch?")
    dialog.get_by_role("button", name="Yes, delete their details").click()
    expect(console.get_by_text("Nobody has left their details yet.")).to_be_visible()
    expect(console.get_by_role("status")).to_have_text("One person's details are deleted.")
