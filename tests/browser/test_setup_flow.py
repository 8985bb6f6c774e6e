"""Set-up from nothing in Chromium at a laptop's size (issue 13): one save per section (the
meeting with its rule and budget; all segments; all proposals), ids made from labels as they are
typed, Welsh typed beside the English and shown on a Welsh phone and the bilingual projector,
"Unsaved changes" flagged and never lost without a warning, problems shown next to their fields
with what was typed kept."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import WAIT_MS, Contexts, axe, open_about_you, open_phone
from tests.conftest import FACILITATOR_KEY, MEETING, LiveServer, Meeting

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect
expect.set_options(timeout=WAIT_MS)


def answer(dialog: Any, asked: list[str], *, accept: bool) -> None:
    """Note a browser dialog's question, then answer it."""
    asked.append(dialog.message)
    if accept:
        dialog.accept()
    else:
        dialog.dismiss()


def export(page: Any, meeting_id: int) -> dict[str, Any]:
    r = page.request.get(f"/console/{meeting_id}/export/meeting.json")
    assert r.ok
    return dict(r.json())


def test_a_meeting_set_up_from_nothing_with_one_save_per_section(contexts: Contexts) -> None:
    """Three saves make the whole meeting; the export has every field typed, Welsh included."""
    fac = contexts.facilitator()
    fac.get_by_label("Title").fill("Hall rehearsal")
    fac.get_by_role("button", name="Create", exact=True).click()
    expect(fac.get_by_role("heading", level=1)).to_contain_text("Hall rehearsal")
    meeting_id = int(fac.url.split("/")[4])
    saves = 0

    # 1. The meeting: Welsh title, m, the pot. Typed, the section says it has unsaved changes.
    meeting = fac.get_by_role("region", name="Meeting and rule")
    meeting.get_by_label("Title in Welsh (optional)").fill("Ymarfer y neuadd")
    expect(meeting.get_by_text("Unsaved changes")).to_be_visible()
    meeting.get_by_label("m: smallest group that can protect or object").fill("1")
    meeting.get_by_label("Pot to share (empty: no budget)").fill("20,000")
    meeting.get_by_label("Currency (e.g. £ or GBP)").fill("£")
    axe(fac, "console: set-up, a section with unsaved changes")
    meeting.get_by_role("button", name="Save the meeting settings").click()
    saves += 1
    expect(fac.get_by_role("status")).to_contain_text("Meeting settings saved")
    assert fac.url.endswith("/setup#meeting")
    expect(
        fac.get_by_role("region", name="Meeting and rule").get_by_text("Unsaved changes")
    ).to_be_hidden()

    # 2. All segments at once: ids follow the labels (unique), one typed by hand, a 4th row added.
    segs = fac.get_by_role("region", name="Segments attendees can declare")
    segs.get_by_label("Label of segment 1", exact=True).fill("Carer")
    segs.get_by_label("Welsh label of segment 1").fill("Gofalwr")
    expect(segs.get_by_label("Id of segment 1 (empty: made from the label)")).to_have_value("carer")
    segs.get_by_label("Label of segment 2", exact=True).fill("Area: North")
    expect(segs.get_by_label("Id of segment 2 (empty: made from the label)")).to_have_value(
        "area-north"
    )
    segs.get_by_label("Id of segment 2 (empty: made from the label)").fill("north")
    # The id typed by hand stays when the label changes.
    segs.get_by_label("Label of segment 2", exact=True).fill("Area: North (Riverside)")
    expect(segs.get_by_label("Id of segment 2 (empty: made from the label)")).to_have_value("north")
    segs.get_by_label("Label of segment 3", exact=True).fill("Carer")
    expect(segs.get_by_label("Id of segment 3 (empty: made from the label)")).to_have_value(
        "carer-2"
    )
    segs.get_by_label("Label of segment 3", exact=True).fill("Staff")
    segs.get_by_label("Segment 3 never protects").check()
    segs.get_by_role("button", name="Add another segment").click()
    segs.get_by_label("Label of segment 4", exact=True).fill("Young people")
    segs.get_by_label("Welsh label of segment 4").fill("Pobl ifanc")

    # Another section's save while these are unsaved asks first; "Cancel" keeps them.
    asked: list[str] = []
    fac.once("dialog", lambda d: answer(d, asked, accept=False))
    fac.get_by_role("button", name="Save the meeting settings").click()
    assert asked and "Segments attendees can declare" in asked[0]
    expect(segs.get_by_label("Label of segment 4", exact=True)).to_have_value("Young people")
    segs.get_by_role("button", name="Save the segments").click()
    saves += 1
    expect(fac.get_by_role("status")).to_contain_text("Segments saved")
    assert fac.url.endswith("/setup#segments")

    # 3. All proposals at once, affected groups ticked by their labels; a 3rd one added.
    props = fac.get_by_role("region", name="Proposals")
    first = props.get_by_role("group", name="New proposal 1")
    first.get_by_label("Title", exact=True).fill("Mobile library")
    first.get_by_label("Title in Welsh").fill("Llyfrgell deithiol")
    first.get_by_label("Description", exact=True).fill("The van that visits the villages.")
    first.get_by_label("Description in Welsh").fill("Y fan sy'n ymweld â'r pentrefi.")
    first.get_by_label("Saving if cut (optional)").fill("48000")
    first.get_by_role("group", name="Affected groups").get_by_label(
        "Area: North (Riverside)"
    ).check()
    expect(first.get_by_label("Id (empty: made from the title)")).to_have_value("mobile-library")
    second = props.get_by_role("group", name="New proposal 2")
    second.get_by_label("Title", exact=True).fill("Respite breaks")
    second.get_by_label("Fund: a new development (WANT = fund it)").check()
    second.get_by_label("Cost if funded (optional)").fill("£12,500")
    second.get_by_role("group", name="Affected groups").get_by_label("Carer").check()
    props.get_by_role("button", name="Add another proposal").click()
    third = props.get_by_role("group", name="New proposal 3")
    third.get_by_label("Title", exact=True).fill("Park toilets")
    third.get_by_label("Saving if cut (optional)").fill("22000")
    props.get_by_role("button", name="Save the proposals").click()
    saves += 1
    expect(fac.get_by_role("status")).to_contain_text("Proposals saved")
    assert saves == 3

    saved = export(fac, meeting_id)
    assert saved["title"] == "Hall rehearsal"
    assert saved["translations"] == {"cy": {"title": "Ymarfer y neuadd"}}
    assert saved["rule"]["group_min"] == 1
    assert (saved["budget"]["pot"], saved["budget"]["currency"]) == (20000, "£")
    assert [(s["id"], s["protects"]) for s in saved["segments"]] == [
        ("carer", True),
        ("north", True),
        ("staff", False),
        ("young-people", True),
    ]
    assert saved["segments"][0]["translations"] == {"cy": {"label": "Gofalwr"}}
    library, respite, toilets = saved["proposals"]
    assert (library["id"], library["saving"], library["affected_groups"]) == (
        "mobile-library",
        48000,
        ["north"],
    )
    assert library["translations"] == {
        "cy": {"title": "Llyfrgell deithiol", "description": "Y fan sy'n ymweld â'r pentrefi."}
    }
    assert (respite["id"], respite["kind"], respite["cost"]) == ("respite-breaks", "fund", 12500)
    assert respite["affected_groups"] == ["carer"]
    assert (toilets["id"], toilets["saving"]) == ("park-toilets", 22000)
    assert sorted(saved["tie_break"]) == ["mobile-library", "park-toilets", "respite-breaks"]
    # Still without Welsh: 2 segments' labels, 2 proposals' titles (empty descriptions need none).
    expect(fac.locator("#welsh-missing")).to_contain_text("Texts with no Welsh yet: 4.")


def test_a_refused_save_keeps_every_value_and_says_what_is_wrong(contexts: Contexts) -> None:
    """A cost that is not an amount: nothing is saved, the summary (focused) links to the
    field, the other typed values are still there; axe finds nothing serious."""
    fac = contexts.facilitator()
    fac.get_by_label("Title").fill("Errors")
    fac.get_by_role("button", name="Create", exact=True).click()
    meeting_id = int(fac.url.split("/")[4])
    first = fac.get_by_role("group", name="New proposal 1")
    first.get_by_label("Title", exact=True).fill("Bus shelter")
    first.get_by_label("Title in Welsh").fill("Cysgodfa bws")
    first.get_by_label("Fund: a new development (WANT = fund it)").check()
    first.get_by_label("Cost if funded (optional)").fill("lots")
    fac.get_by_role("button", name="Save the proposals").click()
    summary = fac.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("The cost must be an amount such as 35000, or empty.")
    again = fac.get_by_role("group", name="New proposal 1")
    expect(again.get_by_label("Title", exact=True)).to_have_value("Bus shelter")
    expect(again.get_by_label("Title in Welsh")).to_have_value("Cysgodfa bws")
    expect(again.get_by_label("Fund: a new development (WANT = fund it)")).to_be_checked()
    expect(again.get_by_label("Cost if funded (optional)")).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(
        fac.get_by_role("region", name="Proposals").get_by_text("Unsaved changes")
    ).to_be_visible()
    axe(fac, "console: set-up, a refused save with its problems")
    summary.get_by_role("link").click()
    expect(again.get_by_label("Cost if funded (optional)")).to_be_focused()
    assert export(fac, meeting_id)["proposals"] == []
    again.get_by_label("Cost if funded (optional)").fill("9500")
    fac.get_by_role("button", name="Save the proposals").click()
    expect(fac.get_by_role("status")).to_contain_text("Proposals saved")
    assert export(fac, meeting_id)["proposals"][0]["cost"] == 9500


def test_welsh_typed_in_set_up_shows_on_the_welsh_phone_and_the_bilingual_projector(
    contexts: Contexts,
) -> None:
    """What set-up stores in Welsh is what a phone in Welsh and the cy+en projector show."""
    fac = contexts.facilitator()
    fac.get_by_label("Title").fill("Budget 2027")
    fac.get_by_role("button", name="Create", exact=True).click()
    fac.get_by_label("Title in Welsh (optional)").fill("Cyllideb 2027")
    fac.get_by_role("button", name="Save the meeting settings").click()
    expect(fac.get_by_role("status")).to_contain_text("Meeting settings saved")
    fac.get_by_label("Label of segment 1", exact=True).fill("Carer")
    fac.get_by_label("Welsh label of segment 1").fill("Gofalwr")
    fac.get_by_role("button", name="Save the segments").click()
    expect(fac.get_by_role("status")).to_contain_text("Segments saved")
    first = fac.get_by_role("group", name="New proposal 1")
    first.get_by_label("Title", exact=True).fill("Mobile library")
    first.get_by_label("Title in Welsh").fill("Llyfrgell deithiol")
    fac.get_by_role("button", name="Save the proposals").click()
    expect(fac.get_by_role("status")).to_contain_text("Proposals saved")

    fac.get_by_role("link", name="Run the vote").click()
    code = fac.locator(".lead .code").inner_text().strip()
    fac.get_by_role("button", name="Open the round").click()
    phone = contexts.phone()
    open_phone(phone, f"/m/{code}?lang=cy")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Cyllideb 2027")
    expect(phone.get_by_role("group", name="Cadw: Llyfrgell deithiol")).to_be_visible()
    open_about_you(phone)
    expect(phone.get_by_role("checkbox", name="Gofalwr")).to_be_visible()
    projector = contexts.desktop(1920, 1080)
    projector.goto(f"/p/{code}?lang=cy+en")
    expect(projector.locator("#proj-title .bi-part")).to_have_text(["Cyllideb 2027", "Budget 2027"])
    expect(projector.get_by_text("Llyfrgell deithiol").first).to_be_visible()


def test_ticking_remove_asks_first_and_a_refusal_names_the_reason(
    contexts: Contexts, live: LiveServer
) -> None:
    """A remove box ticked: the save asks in the dialog, naming what goes. A segment still an
    affected group is refused next to its box; an unused proposal goes once confirmed."""
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    meeting = Meeting(f, {**MEETING, "title": "Removals"})
    fac = contexts.facilitator()
    fac.goto(f"/console/{meeting.id}/setup")
    segs = fac.get_by_role("region", name="Segments attendees can declare")
    segs.get_by_label("Remove segment Staff").check()
    segs.get_by_role("button", name="Save the segments").click()
    dialog = fac.get_by_role("dialog")
    expect(dialog).to_contain_text("Save and remove “Staff”?")
    dialog.get_by_role("button", name="Yes, save and remove").click()
    expect(fac.locator("#error-summary")).to_contain_text(
        "“Staff” is an affected group of “Respite breaks”; untick it there first."
    )
    expect(fac.locator("#seg-2-remove")).to_be_checked()
    props = fac.get_by_role("region", name="Proposals")
    props.get_by_role("group", name="Proposal 3: Park toilets").get_by_label(
        "Remove this proposal"
    ).check()
    asked: list[str] = []
    fac.once("dialog", lambda d: answer(d, asked, accept=True))
    props.get_by_role("button", name="Save the proposals").click()  # the segments are unsaved
    assert asked and "Segments attendees can declare" in asked[0]
    expect(dialog).to_contain_text("Save and remove “Park toilets”?")
    dialog.get_by_role("button", name="Yes, save and remove").click()
    expect(fac.get_by_role("status")).to_contain_text("Proposals saved")
    ids = [p["id"] for p in export(fac, meeting.id)["proposals"]]
    assert ids == ["library", "respite"]
    assert len(export(fac, meeting.id)["segments"]) == 3
