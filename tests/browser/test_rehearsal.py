"""The rehearsal run of issue 13, end to end in Chromium, as a council officer would do it: a
meeting created and set up in the console from nothing (one save per section, Welsh beside the
English), a projector at 1920x1080, the presenter view on a laptop and three phones (one in
Welsh); round 1 is the rehearsal (a countdown closes it; preview, reveal, the presenter drives
the projector; then it is voided), round 2 is the real vote (closed now, previewed, revealed,
marked final); the report in the console and the downloaded files say which round decided.

Every step uses the Run page's one "next step" button where the flow offers it, and every
claim is read from the pages (or the downloaded files), not assumed."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import (
    WAIT_MS,
    Contexts,
    axe,
    open_about_you,
    open_phone,
    screenshot,
    wait_for,
)
from tests.browser.test_presenter import PROJECTOR, press, screen_of
from tests.browser.test_run_page import confirm, next_step, primary
from tests.conftest import LiveServer

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect
expect.set_options(timeout=WAIT_MS)

TITLE = "Riverside rehearsal"
# (title, Welsh title, keep|fund, amount, affected group's label, Welsh description)
PROPOSALS = (
    ("Mobile library", "Llyfrgell deithiol", "keep", "48000", "Area: North", "Y fan lyfrau."),
    ("Respite breaks", "Seibiant i ofalwyr", "fund", "12,500", "Carer", "Seibiant byr."),
    ("Park toilets", "Toiledau'r parc", "keep", "22000", "", "Toiledau ger y llyn."),
    ("Youth club", "Clwb ieuenctid", "fund", "8000", "Young people", "Clwb yn yr hen orsaf."),
)
SEGMENTS = (("Carer", "Gofalwr"), ("Area: North", "Ardal: Gogledd"), ("Young people", "Pobl ifanc"))
# Each phone's segment and its ballot, by proposal title (the Welsh phone taps Welsh words).
BALLOTS: dict[str, tuple[str, dict[str, str]]] = {
    "A": ("Carer", {"Respite breaks": "WANT", "Park toilets": "DON'T WANT"}),
    "B": ("Area: North", {"Mobile library": "WANT", "Park toilets": "DON'T WANT"}),
    "C": ("Pobl ifanc", {"Clwb ieuenctid": "EISIAU", "Toiledau'r parc": "NIWTRAL"}),
}
# The ids set-up makes from the titles (nobody types an id).
IDS = {title: re.sub(r"[^a-z]+", "-", title.lower()) for title, *_ in PROPOSALS}
KIND_WORD = {("en", "keep"): "Keep", ("en", "fund"): "Fund", ("cy", "keep"): "Cadw"}
KIND_WORD[("cy", "fund")] = "Ariannu"


def set_up_in_three_saves(fac: Any) -> int:
    """From the console home: create the meeting, then one save for the meeting and its rule,
    one for the segments, one for the proposals. Returns the meeting's id."""
    fac.get_by_label("Title").fill(TITLE)
    fac.get_by_role("button", name="Create", exact=True).click()
    expect(fac.get_by_role("heading", level=1)).to_contain_text(TITLE)
    meeting_id = int(fac.url.split("/")[4])

    meeting = fac.get_by_role("region", name="Meeting and rule")
    meeting.get_by_label("Title in Welsh (optional)").fill("Ymarfer Glan yr Afon")
    meeting.get_by_label("Venue (optional, for the report)").fill("Neuadd y Dref")
    meeting.get_by_label("Chair (optional, for the report)").fill("Cllr Siân Evans")
    meeting.get_by_label("R: how many DON'T WANT per WANT it takes to reject").fill("2")
    # Three phones in the room: a group of one can protect, or the rehearsal never shows it.
    meeting.get_by_label("m: smallest group that can protect or object").fill("1")
    meeting.get_by_label("Expected attendance (optional, for the help below)").fill("3")
    meeting.get_by_label("Pot to share (empty: no budget)").fill("20,000")
    meeting.get_by_label("Currency (e.g. £ or GBP)").fill("£")
    meeting.get_by_role("button", name="Save the meeting settings").click()
    expect(fac.get_by_role("status")).to_contain_text("Meeting settings saved")

    segs = fac.get_by_role("region", name="Segments attendees can declare")
    for n, (label, welsh) in enumerate(SEGMENTS, start=1):
        segs.get_by_label(f"Label of segment {n}", exact=True).fill(label)
        segs.get_by_label(f"Welsh label of segment {n}").fill(welsh)
    segs.get_by_role("button", name="Save the segments").click()
    expect(fac.get_by_role("status")).to_contain_text("Segments saved")

    props = fac.get_by_role("region", name="Proposals")
    for n, (title, welsh, kind, amount, group, welsh_description) in enumerate(PROPOSALS, 1):
        if not props.get_by_role("group", name=f"New proposal {n}").count():
            props.get_by_role("button", name="Add another proposal").click()
        form = props.get_by_role("group", name=f"New proposal {n}")
        form.get_by_label("Title", exact=True).fill(title)
        form.get_by_label("Title in Welsh").fill(welsh)
        form.get_by_label("Description", exact=True).fill(f"{title}, as in the budget book.")
        form.get_by_label("Description in Welsh").fill(welsh_description)
        if kind == "fund":
            form.get_by_label("Fund: a new development (WANT = fund it)").check()
            form.get_by_label("Cost if funded (optional)").fill(amount)
        else:
            form.get_by_label("Keep: a service that could be cut (WANT = keep it)").check()
            form.get_by_label("Saving if cut (optional)").fill(amount)
        if group:
            form.get_by_role("group", name="Affected groups").get_by_label(group).check()
    props.get_by_role("button", name="Save the proposals").click()
    expect(fac.get_by_role("status")).to_contain_text("Proposals saved")
    expect(fac.locator("#welsh-missing")).to_be_hidden()
    return meeting_id


def vote(phone: Any, lang: str, ballot: dict[str, str]) -> None:
    """Tap each answer (by the proposal's title in the phone's language), then see it saved."""
    kinds = {t: k for t, _, k, *_ in PROPOSALS} | {cy: k for _, cy, k, *_ in PROPOSALS}
    for title, word in ballot.items():
        group = phone.get_by_role("group", name=f"{KIND_WORD[(lang, kinds[title])]}: {title}")
        group.get_by_role("radio", name=word, exact=True).tap()
    saved = "Mae eich pleidlais wedi'i chadw" if lang == "cy" else "Your ballot is saved"
    expect(phone.locator("#save-status")).to_have_text(saved)


def preview_counting(presenter: Any) -> bool:
    """The presenter's preview of the projector shows the closing countdown."""
    frame = presenter.frame(url=lambda url: "preview=1" in url)
    return bool(frame and frame.locator("#countdown").is_visible())


def projector_outcomes(projector: Any) -> dict[str, str]:
    """Each proposal's outcome as the projector's result cards say it."""
    cards = projector.locator("#results article.result[data-proposal]")
    expect(cards).to_have_count(len(PROPOSALS))
    return {
        str(card.get_attribute("data-proposal")): str(card.get_attribute("data-category"))
        for card in cards.all()
    }


def console_outcomes(fac: Any) -> dict[str, str]:
    """The same from the console's results page of a round (the facilitator's preview)."""
    rows = fac.locator("tbody tr:has([data-category])")
    out: dict[str, str] = {}
    for row in rows.all():
        title = next(t for t, *_ in PROPOSALS if t in row.inner_text())
        out[title] = str(row.locator("[data-category]").first.get_attribute("data-category"))
    return out


def test_the_rehearsal_from_nothing_to_the_exported_decision(
    contexts: Contexts, live: LiveServer
) -> None:
    fac = contexts.facilitator()  # a laptop, on the console's home page
    meeting_id = set_up_in_three_saves(fac)
    fac.get_by_role("link", name="Run the vote").click()
    code = fac.locator(".lead .code").inner_text().strip()
    expect(next_step(fac)).to_have_attribute("data-step", "first")

    projector = contexts.desktop(*PROJECTOR)
    projector.goto(f"/p/{code}")
    expect(projector.locator("#join-code")).to_have_text(code)
    presenter = contexts.facilitator()
    presenter.goto(f"/console/{meeting_id}")
    presenter.get_by_role("link", name="Presenter view: see and drive the big screen").click()
    expect(presenter.locator("#not-revealed")).to_be_visible()

    phones: dict[str, tuple[Any, str]] = {}
    for name, (segment, _) in BALLOTS.items():
        lang = "cy" if name == "C" else "en"
        phone = contexts.phone()
        open_phone(phone, f"/m/{code}" + ("?lang=cy" if lang == "cy" else ""))
        open_about_you(phone)
        phone.get_by_role("checkbox", name=segment).tap()
        phones[name] = (phone, lang)
    expect(phones["C"][0].get_by_role("heading", level=1)).to_have_text("Ymarfer Glan yr Afon")
    expect(projector.locator("#proj-turnout")).to_have_text("Joined so far: 3")
    # The room's screens: three phones and the projector; not this console, nor the preview.
    expect(fac.locator("#connected")).to_have_text("4 screens and phones connected")

    # ---- Round 1: the rehearsal ----------------------------------------------------------
    expect(primary(fac)).to_have_text("Open the round")
    primary(fac).click()
    expect(next_step(fac)).to_have_attribute("data-step", "open")
    expect(projector.locator("#proj-round")).to_have_text("Round 1 — voting open")
    # The big screen shows what is being voted on, not only the turnout.
    for title, *_ in PROPOSALS:
        expect(projector.locator("#board").get_by_text(title, exact=True)).to_be_visible()
    for name, (phone, lang) in phones.items():
        vote(phone, lang, BALLOTS[name][1])
    expect(projector.locator("#proj-turnout")).to_have_text("3 of 3 present have voted")
    expect(fac.locator("#turnout")).to_have_text("3 of 3 present have voted")
    fac.reload()  # the answers so far are as of the page's loading
    screenshot(fac, "console-run-open", full_page=True)

    fac.get_by_label("Or close with a countdown of").select_option("10")
    fac.get_by_role("button", name="Start the countdown").click()
    expect(next_step(fac)).to_have_attribute("data-step", "closing")
    counting = re.compile(r"Voting closes in \d+ s")
    expect(projector.locator("#countdown")).to_have_text(counting)
    expect(phones["A"][0].locator("#countdown")).to_have_text(counting)
    expect(phones["C"][0].locator("#countdown")).to_have_text(
        re.compile(r"Mae'r pleidleisio'n cau ymhen \d+ e")
    )
    screenshot(projector, "projector-countdown")
    expect(presenter.locator("#preview-frame")).to_be_visible()
    wait_for(lambda: preview_counting(presenter), "the countdown in the presenter's preview")
    expect(presenter.locator("#screen-now")).to_have_text(
        "On the screen: the round as the room usually sees it; no results yet."
    )
    axe(presenter, "presenter view: closing countdown")
    axe(phones["C"][0], "phone in Welsh: closing countdown")
    screenshot(presenter, "presenter-view-voting")
    ends = {"timeout": WAIT_MS + 15_000}
    expect(next_step(fac)).to_have_attribute("data-step", "closed", **ends)  # by itself
    expect(projector.locator("#proj-round")).to_have_text("Round 1 — voting closed")
    expect(projector.locator("#results")).to_be_hidden()
    for phone, _lang in phones.values():
        expect(phone.locator("#countdown")).to_be_hidden()

    expect(primary(fac)).to_have_text("Preview results")
    screenshot(fac, "console-run-closed", full_page=True)
    primary(fac).click()
    expect(fac.get_by_role("heading", level=1)).to_have_text("Round 1 results")
    previewed = console_outcomes(fac)
    assert sorted(previewed) == sorted(t for t, *_ in PROPOSALS)
    fac.get_by_role("link", name="Run the vote").click()
    expect(next_step(fac)).to_have_attribute("data-step", "previewed")
    expect(primary(fac)).to_have_text("Reveal on projector")
    primary(fac).click()
    expect(next_step(fac)).to_have_attribute("data-step", "revealed")
    expect(projector.locator("#proj-round")).to_have_text("Round 1 — results")
    expect(phones["A"][0].get_by_role("link", name="See the results on this phone")).to_be_visible()
    # What the room sees is what the facilitator previewed.
    shown = projector_outcomes(projector)
    assert shown == {IDS[title]: category for title, category in previewed.items()}

    # The presenter drives the projector: pause, next, one proposal, the ranking, blank, back.
    # The presenter view, open since before the vote, follows the reveal by itself.
    expect(presenter.locator("#not-revealed")).to_be_hidden()
    expect(presenter.locator("#page-now")).to_contain_text("Page 1 of ")
    press(presenter, "Pause")
    expect(projector.locator("#proj")).to_have_attribute("data-paused", "true")
    expect(projector.locator(".proj-pager")).to_contain_text("Paused")
    pages = int(screen_of(projector)["pages"])
    page = int(screen_of(projector)["page"])
    press(presenter, "Next")
    expect(projector.locator("#proj")).to_have_attribute("data-page", str(page % pages + 1))
    library = IDS["Mobile library"]
    row = presenter.locator(f'.present-proposals li[data-proposal="{library}"]')
    row.get_by_role("button", name="Show on screen").click()
    card = projector.locator(f'#focus article.result[data-proposal="{library}"]')
    expect(card).to_be_visible()
    expect(card).to_have_attribute("data-category", previewed["Mobile library"])
    expect(projector.locator("#results")).to_be_hidden()
    press(presenter, "Show the ranking")
    expect(projector.locator("#proj")).to_have_attribute("data-mode", "ranking")
    expect(projector.locator("#focus .ranking li")).to_have_count(len(PROPOSALS))
    press(presenter, "Blank the screen")
    expect(projector.get_by_role("img", name="Screen blanked")).to_be_visible()
    expect(projector.locator("#proj")).to_be_hidden()
    press(presenter, "Unblank")
    expect(projector.get_by_role("img", name="Screen blanked")).to_be_hidden()
    press(presenter, "Back to automatic")
    expect(projector.locator("#proj")).to_have_attribute("data-mode", "auto")
    expect(projector.locator("#results")).to_be_visible()
    expect(presenter.locator("#screen-now")).to_have_text(
        "On the screen: the usual course; results pages turn by themselves."
    )

    # The rehearsal must not count: void it, with the reason.
    fac.get_by_label("Reason for voiding (optional)").fill("Rehearsal")
    fac.get_by_role("button", name="Void round 1").click()
    confirm(fac, "Yes, void round 1")
    expect(fac.locator("tr[data-round='1']")).to_contain_text("Voided — did not count: Rehearsal")
    expect(next_step(fac)).to_have_attribute("data-step", "first")
    # Every screen forgets the rehearsal's results: it is as if no round had been held.
    expect(projector.locator("#results")).to_be_hidden()
    expect(projector.locator("#proj-round")).to_have_text("Waiting for the first vote")
    for phone, lang in phones.values():
        see = (
            "Gweld y canlyniadau ar y ffôn hwn" if lang == "cy" else "See the results on this phone"
        )
        expect(phone.get_by_role("link", name=see)).to_have_count(0)
    axe(projector, "projector: the only round voided")
    axe(fac, "run page: the rehearsal round voided")

    # ---- Round 2: the real vote ----------------------------------------------------------
    expect(primary(fac)).to_have_text("Open the round")
    primary(fac).click()
    expect(next_step(fac)).to_have_attribute("data-step", "open")
    expect(projector.locator("#proj-round")).to_have_text("Round 2 — voting open")
    expect(presenter.locator("#not-revealed")).to_be_visible()  # round 2's are not, yet
    for name, (phone, lang) in phones.items():
        expect(phone.locator("#ballot-form")).to_be_visible()
        vote(phone, lang, BALLOTS[name][1])
    expect(fac.locator("#turnout")).to_have_text("3 of 3 present have voted")
    expect(primary(fac)).to_have_text("Close round 2")
    primary(fac).click()
    confirm(fac, "Yes, close round 2")
    expect(next_step(fac)).to_have_attribute("data-step", "closed")
    for phone, lang in phones.values():
        closed = "Mae'r pleidleisio wedi cau" if lang == "cy" else "Voting is closed"
        expect(phone.locator("#ballot .waiting")).to_have_text(closed)
    primary(fac).click()
    expect(fac.get_by_role("heading", level=1)).to_have_text("Round 2 results")
    assert console_outcomes(fac) == previewed  # the same ballots: the same outcomes
    fac.get_by_role("link", name="Run the vote").click()
    expect(primary(fac)).to_have_text("Reveal on projector")
    primary(fac).click()
    expect(projector.locator("#proj-round")).to_have_text("Round 2 — results")
    assert projector_outcomes(projector) == shown
    fac.get_by_role("button", name="Mark round 2 final").click()
    expect(fac.locator("tr[data-round='2'] .final-tag")).to_have_text("final")

    # ---- The record ----------------------------------------------------------------------
    fac.get_by_role("link", name="Results report", exact=True).click()
    expect(fac.locator(".console-nav")).to_be_visible()  # still inside the console
    doc = fac.locator(".report-doc")
    expect(doc.locator("h1")).to_have_text(TITLE)
    expect(doc.locator(".details")).to_contain_text("Neuadd y Dref")
    expect(doc.locator(".details")).to_contain_text("Cllr Siân Evans")
    decision = doc.locator("section#decision")
    expect(decision.locator("h2").first).to_have_text("The decision")
    expect(decision.locator("section.round")).to_have_count(1)
    expect(decision.locator("section#round-2")).to_be_visible()
    voided = doc.locator("section#voided")
    expect(voided.locator("h2").first).to_have_text("Voided rounds")
    expect(voided.locator("section#round-1")).to_be_visible()
    expect(voided).to_contain_text("Rehearsal")
    assert doc.locator("section#round-1").count() == 1  # once, under voided rounds only
    axe(fac, "console: report with a decision and a voided round")

    day = datetime.now(ZoneInfo("Europe/London")).date().isoformat()
    stem = f"riverside-rehearsal-{day}"
    with fac.expect_download() as got:
        fac.locator(".report-tools a[href$='report.pdf?download=1']").click()
    pdf = got.value
    assert pdf.suggested_filename == f"{stem}-report.pdf"
    assert pdf.path().read_bytes()[:5] == b"%PDF-"

    fac.get_by_role("link", name="Run the vote").click()
    with fac.expect_download() as got:
        fac.get_by_role("link", name="Export bundle (zip)").click()
    bundle = got.value
    assert bundle.suggested_filename == f"{stem}-bundle.zip"
    with zipfile.ZipFile(io.BytesIO(bundle.path().read_bytes())) as z:
        results = json.loads(z.read("results.json"))
        assert z.read("report.pdf")[:5] == b"%PDF-"
    rounds = {str(r["round"]): r for r in results["rounds"]}
    assert rounds["2"].get("final") is True and "voided" not in rounds["2"]
    assert rounds["1"].get("voided") is True and "final" not in rounds["1"]
    assert rounds["1"]["void_reason"] == "Rehearsal"
