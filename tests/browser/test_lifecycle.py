"""A meeting's life in the console, in Chromium: rehearse, duplicate for the real vote, archive
and delete the rehearsal, answering every confirmation; and the same confirmations without
JavaScript. axe-core checks each new page and the dialog."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import WAIT_MS, Contexts, axe, open_phone
from tests.conftest import FACILITATOR_KEY, MEETING, LiveServer, Meeting

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect
expect.set_options(timeout=WAIT_MS)


def row(page: Any, title: str) -> Any:
    """The meeting list's row for a title."""
    return page.locator("table.meeting-list tbody tr").filter(
        has=page.get_by_role("rowheader", name=title, exact=True)
    )


def test_rehearse_duplicate_archive_and_delete_with_every_confirmation(
    contexts: Contexts, live: LiveServer
) -> None:
    """A rehearsal is voted on and closed (confirmed in the dialog; Cancel first changes
    nothing), duplicated under a new title, archived from the list, then deleted after typing
    its code; the real meeting is untouched and has the same set-up."""
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    rehearsal = Meeting(f, {**MEETING, "title": "Budget rehearsal"})
    rehearsal.open_round()
    phone = contexts.phone()
    open_phone(phone, f"/m/{rehearsal.code}")
    phone.locator("input[name='mark:library'][value='want']").tap()
    expect(phone.locator("#save-status")).to_have_text("Your ballot is saved")

    fac = contexts.facilitator()
    fac.goto(f"/console/{rehearsal.id}")
    fac.get_by_role("button", name="Close round 1").click()
    dialog = fac.get_by_role("dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Close round 1?")
    axe(fac, "console: confirmation dialog")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(fac.locator("#next")).to_contain_text("Round 1 is open.")
    fac.get_by_role("button", name="Close round 1").click()
    fac.keyboard.press("Escape")  # Escape cancels too
    expect(dialog).to_be_hidden()
    fac.get_by_role("button", name="Close round 1").click()
    dialog.get_by_role("button", name="Yes, close round 1").click()
    expect(phone.locator("#ballot .waiting")).to_have_text("Voting is closed")

    # The list: newest first, with status and counts.
    fac.goto("/console")
    listed = row(fac, "Budget rehearsal")
    expect(listed).to_contain_text("Rounds closed")
    expect(listed).to_contain_text(rehearsal.code)
    axe(fac, "console: meeting list")

    # Duplicate for the real vote.
    listed.get_by_role("link", name="Duplicate Budget rehearsal").click()
    expect(fac.get_by_label("Title of the new meeting")).to_have_value("Budget rehearsal (copy)")
    axe(fac, "console: duplicate")
    fac.get_by_label("Title of the new meeting").fill("Budget 2027")
    fac.get_by_role("button", name="Make the copy").click()
    expect(fac.get_by_role("heading", level=1)).to_have_text("Set-up: Budget 2027")
    expect(fac.locator(".notice[role=status]")).to_contain_text("made from the set-up of")
    real_id = int(re.findall(r"/console/(\d+)/setup", fac.url)[0])
    assert real_id != rehearsal.id

    # Delete asks for the vote to be archived first; archive it from the list.
    fac.goto("/console")
    expect(fac.get_by_role("rowheader")).to_have_text(["Budget 2027", "Budget rehearsal"])
    row(fac, "Budget rehearsal").get_by_role("link", name="Delete Budget rehearsal").click()
    expect(fac.get_by_role("button", name="Delete this meeting")).to_be_disabled()
    axe(fac, "console: delete, archive first")
    fac.get_by_role("button", name="Archive it").click()
    expect(fac.get_by_role("button", name="Delete this meeting")).to_be_enabled()
    expect(fac.locator(".archived-notice")).to_contain_text("This meeting is archived")
    axe(fac, "console: delete")
    fac.get_by_label(re.compile("type the meeting's code")).fill("NOTIT3")
    fac.get_by_role("button", name="Delete this meeting").click()
    expect(fac.locator("#delete-error")).to_contain_text("Nothing was deleted")
    fac.get_by_label(re.compile("type the meeting's code")).fill(rehearsal.code.lower())
    fac.get_by_role("button", name="Delete this meeting").click()
    expect(fac.locator(".notice[role=status]")).to_contain_text("is deleted")
    expect(fac.get_by_role("rowheader")).to_have_text(["Budget 2027"])
    expect(fac.get_by_role("link", name=re.compile("Show archived"))).to_have_count(0)

    real = f.get(f"/console/{real_id}/export/meeting.json").json()
    assert real["title"] == "Budget 2027"
    assert [p["id"] for p in real["proposals"]] == [p["id"] for p in MEETING["proposals"]]
    assert f.get(f"/console/{rehearsal.id}").status_code == 404


def test_the_archived_list_and_an_archived_meeting(contexts: Contexts, live: LiveServer) -> None:
    """ "Show archived (N)" opens the archived meetings; an archived meeting says so on every
    page and can be unarchived there."""
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    old = Meeting(f, {**MEETING, "title": "Last year's budget"})
    fac = contexts.facilitator()
    row(fac, "Last year's budget").get_by_role("button", name="Archive Last year's budget").click()
    expect(fac.locator(".notice[role=status]")).to_contain_text("is archived")
    fac.get_by_role("link", name=re.compile(r"Show archived \(\d+\)")).click()
    archived = fac.get_by_role("region", name="Archived meetings")
    expect(archived.get_by_role("rowheader", name="Last year's budget")).to_be_visible()
    axe(fac, "console: archived meetings shown")
    fac.goto(f"/console/{old.id}/setup")
    expect(fac.locator(".archived-notice")).to_be_visible()
    axe(fac, "console: archived meeting's set-up")
    fac.get_by_role("button", name="Unarchive").first.click()
    expect(fac.locator(".archived-notice")).to_have_count(0)


def test_without_javascript_irreversible_actions_ask_on_a_page(
    contexts: Contexts, live: LiveServer
) -> None:
    """With scripts off the same question comes as a page; Cancel leaves the round open, "Yes"
    closes it."""
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    meeting = Meeting(f)
    meeting.open_round()
    page = contexts.new(java_script_enabled=False).new_page()
    page.goto(f"/facilitator?key={FACILITATOR_KEY}")
    page.goto(f"/console/{meeting.id}")
    page.get_by_role("button", name="Close round 1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Close round 1?")
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator("#next")).to_contain_text("Round 1 is open.")
    page.get_by_role("button", name="Close round 1").click()
    page.get_by_role("button", name="Yes, close round 1").click()
    expect(page.locator(".notice[role=status]")).to_contain_text("Round 1 is closed")
    assert meeting.state()["round"]["status"] == "closed"


def test_the_confirmation_page_passes_axe(contexts: Contexts, live: LiveServer) -> None:
    """The page a browser without JavaScript gets (axe needs scripts, so this browser has them
    and sends the form past the dialog, as form.submit() does)."""
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    meeting = Meeting(f)
    meeting.open_round()
    fac = contexts.facilitator()
    fac.goto(f"/console/{meeting.id}")
    fac.evaluate("() => document.querySelector('#next form[data-confirm]').submit()")
    expect(fac.get_by_role("heading", level=1)).to_have_text("Close round 1?")
    axe(fac, "console: confirmation page (no JavaScript)")
    assert meeting.state()["round"]["status"] == "open"
