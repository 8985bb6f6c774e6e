"""A Community Charter run end to end in the browser (issue 17): a budget meeting is run and
closed; in a second meeting the facilitator, on the console's Charter page, pastes the draft
charter (two sections, three clauses with their Welsh, three parties), drafts the council's
commitments from the budget meeting's funded and protected proposals, edits the exported
Markdown (a commitment's date and measure, a clause reworded in both languages) and pastes it
back, compares the versions and sets the block share; the facilitator takes amendments from
phones, a resident's phone proposes the library clause worded weekly (after a refused empty
form), and the facilitator accepts it on the Charter page with its Welsh added (asked first),
then stops taking amendments; the proposer's phone, in Welsh, says it was accepted; a consent
round opens from the Run page with keypads; five phones (one in Welsh, two carers, one the
proposer's) answer clause by clause while the projector shows one wording at a time and three
keypads answer it through an emulated KPL/1 receiver; two paper sheets are keyed twice by
keyboard, one mismatch keyed again, and counted; the round is closed and revealed (the
projector shows each wording's decision); the round's decisions are adopted as the next
version; three parties sign (one draws the signature with the mouse); the charter PDF is
downloaded and read, in English and in Welsh. Then the review meeting: started from the
Charter page (asked first), the parties' reports entered, a review round opened with keypads
and rated on three phones (one in Welsh, each commitment after its party's report) and three
keypads; closed and revealed; the scorecard on the projector, the round's console page and the
results report's PDF. axe-core on every page state visited.

The room (V = 10 on every wording: 5 phones, 3 keypads, 2 sheets), with R = 2, m = 2 and a
block share of 25%:
- respite: the two carers block it, everyone else supports it. 2 of 10 block (20%, under the
  share), but the carers are the clause's affected group: SENT BACK, the group blocks it;
- library: the original wording mostly "needs a change" (SENT BACK) while the phone's
  amendment (weekly, not fortnightly) is fully supported: the amendment wins, ADOPTED;
- review: fully supported, ADOPTED.
Versions: 1 pasted, 2 the budget's commitments, 3 the Markdown edit, 4 the amendment
accepted, 5 the round's decisions adopted (signed).

The review (m = 2, six raters): see RATINGS; the residents' one commitment is rated by a
single keypad, so it shows no figures anywhere and the residents have no score.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest

from hardware.emulator import KplEmulator
from tests.browser import e2e
from tests.browser.conftest import (
    WAIT_MS,
    Contexts,
    api_state,
    axe,
    open_about_you,
    open_phone,
    wait_for,
)
from tests.browser.e2e import Console, key_sheet
from tests.conftest import LiveServer, Meeting, Phone
from tests.test_budget_meeting import BUDGET_MEETING, vote_budget_round
from tests.test_charter_sign import pdf_text
from tests.test_keypads import eventually

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect
expect.set_options(timeout=WAIT_MS)

pytestmark = pytest.mark.slow

# The server with an emulated keypad receiver plugged in (replaces conftest's `live`).
emulator = e2e.emulator
live = e2e.live

MEETING: dict[str, Any] = {
    "title": "Ashdown charter evening",
    "translations": {"cy": {"title": "Noson siarter Ashdown"}},
    "rule": {"ratio": 2, "group_min": 2},
    "segments": [
        {"id": "carer", "label": "Carer", "protects": True,
         "translations": {"cy": {"label": "Gofalwr"}}},
        {"id": "staff", "label": "Council staff", "protects": False,
         "translations": {"cy": {"label": "Staff y cyngor"}}},
    ],
    "proposals": [],
}  # fmt: skip
RESPITE = "Carers get a respite break every month."
RESPITE_CY = "Mae gofalwyr yn cael seibiant bob mis."
FORTNIGHTLY = "The mobile library visits every village each fortnight."
WEEKLY = "The mobile library visits every village each week."
WEEKLY_CY = "Mae'r llyfrgell deithiol yn ymweld â phob pentref bob wythnos."
REVIEW = "The charter is reviewed every year in a public meeting."
REVIEW_CY = "Caiff y siarter ei hadolygu bob blwyddyn mewn cyfarfod cyhoeddus."
# The Markdown edit: the review clause made twice as often, in both languages.
REVIEW_EDIT = ("every year", "every six months")
REVIEW_EDIT_CY = ("bob blwyddyn", "bob chwe mis")
REVIEWED = REVIEW.replace(*REVIEW_EDIT)
REVIEWED_CY = REVIEW_CY.replace(*REVIEW_EDIT_CY)
CHARTER: dict[str, Any] = {
    "format": "covote-charter/1",
    "title": "Ashdown Community Charter",
    "title_cy": "Siarter Gymunedol Ashdown",
    "sections": [
        {
            "key": "services",
            "title": "Services",
            "title_cy": "Gwasanaethau",
            "clauses": [
                {"key": "respite", "text": RESPITE, "text_cy": RESPITE_CY,
                 "affected_groups": ["carer"]},
                {"key": "library", "text": FORTNIGHTLY,
                 "text_cy": "Mae'r llyfrgell deithiol yn ymweld â phob pentref bob pythefnos."},
            ],
        },
        {
            "key": "governance",
            "title": "How it is run",
            "title_cy": "Sut mae'n cael ei redeg",
            "clauses": [{"key": "review", "text": REVIEW, "text_cy": REVIEW_CY}],
        },
    ],
    "parties": [
        {"key": "council", "name": "Ashdown Council", "name_cy": "Cyngor Ashdown",
         "kind": "council"},
        {"key": "transport", "name": "Ashdown Community Transport",
         "name_cy": "Trafnidiaeth Gymunedol Ashdown", "kind": "provider"},
        {"key": "residents", "name": "Ashdown residents", "name_cy": "Trigolion Ashdown",
         "kind": "residents"},
    ],
    "commitments": [
        {"key": "drivers", "party": "transport", "what": "Run the library van on time.",
         "what_cy": "Rhedeg fan y llyfrgell ar amser.", "clause": "library",
         "measure": "Visits made as timetabled"},
        {"key": "hosts", "party": "residents", "what": "Host the library van in each village.",
         "what_cy": "Croesawu fan y llyfrgell ym mhob pentref.", "clause": "library"},
    ],
}  # fmt: skip
# The budget meeting's funded or protected proposals the council's commitments come from
# (tests/test_budget_meeting.py's plan funds these, among others).
FROM_BUDGET = ("Play park", "Cycle path", "Youth hub", "Respite breaks")
# The Markdown edit of the drafted commitment for the play park.
PARK_BY, PARK_MEASURE = "2027-09-30", "The park open every day"

# The round's four wordings by the story's names, in order: "weekly" is the amendment a phone
# proposes, whose key the server draws when it arrives ("am-" and six hex digits), so the steps
# after it take the keys as found (`Keys`: name -> the round's key).
WORDINGS = ("respite", "library", "weekly", "review")
Keys = dict[str, str]
# Every voter's answers (1 fully support ... 5 block) to the four wordings, in order.
PHONES: list[tuple[tuple[str, ...], str]] = [  # segments ticked, answers
    (("Carer",), "5411"),
    (("Carer",), "5421"),
    (("Council staff",), "2411"),
    ((), "1431"),
]
WELSH_PHONE = "1312"  # a fifth phone, in Welsh, naming no segment
KEYPADS: dict[str, str] = {"0C0001": "1411", "0C0002": "1321", "0C0003": "3411"}
KEYPAD_CSV = "keypad,label,segments\nkpl:0C0001,1,\nkpl:0C0002,2,staff\nkpl:0C0003,3,\n"
PAPER: dict[str, str] = {"1": "1411", "2": "2313"}
MISREAD = ("2", "review", "4")  # keying 2 reads sheet 2's "3" on the review clause as "4"
# What the round decides: each wording's answers (how many gave 1..5) and outcome.
COUNTS = {
    "respite": [5, 2, 1, 0, 2],
    "library": [0, 0, 3, 7, 0],
    "weekly": [7, 2, 1, 0, 0],
    "review": [8, 1, 1, 0, 0],
}
EXPECTED_CHANNELS = {"phone": len(PHONES) + 1, "keypad": len(KEYPADS), "paper": len(PAPER)}
ANSWER_NAMES = (
    "Fully support",
    "Support with reservations",
    "Can live with it",
    "Need a change",
    "Block",
)
SIGNATORIES = [
    # party, name, role, organisation, draws the signature
    ("council", "Cllr Megan Pritchard", "Leader", "Ashdown Council", True),
    ("transport", "Dev Okafor", "Operations manager", "Ashdown Community Transport", False),
    ("residents", "Siân Hughes", "Chair, residents' forum", "Ashdown Residents' Forum", False),
]


def answers_of(plan: str, keys: Keys) -> dict[str, str]:
    """A plan's answers by the round's keys."""
    return {keys[name]: answer for name, answer in zip(WORDINGS, plan, strict=True)}


def support(counts: list[int]) -> str:
    """A wording's answers as the PDF prints them."""
    return "; ".join(f"{name}: {n}" for name, n in zip(ANSWER_NAMES, counts, strict=True))


# --- the budget meeting --------------------------------------------------------------------------


def run_budget_meeting(live: LiveServer, console: Console) -> None:
    """Made, voted by ten phones and closed over HTTP (the Lab's story runs one in the browser):
    the charter drafts from its last closed round."""
    budget = Meeting(console.http, BUDGET_MEETING)
    vote_budget_round(budget, lambda: Phone(live.browser(), budget.code))


# --- drafting on the Charter page ---------------------------------------------------------------


def charter_page(console: Console, query: str = "") -> Any:
    page = console.page
    page.goto(f"/console/{console.id}/charter{query}")
    return page


def import_draft(console: Console, text: str, status: str) -> None:
    """Paste a charter (JSON or Markdown) into the import form and import it."""
    page = charter_page(console)
    page.get_by_label("Or paste the charter here").fill(text)
    page.get_by_role("button", name="Import the charter").click()
    expect(page.get_by_role("status")).to_have_text(status)


def draft(console: Console) -> None:
    """Version 1 pasted; version 2 the council's commitments from the budget meeting;
    version 3 the Markdown export edited and pasted back; the difference between 2 and 3;
    the block share set to 25%."""
    page = charter_page(console)
    axe(page, "console: charter, none yet")
    import_draft(console, json.dumps(CHARTER, ensure_ascii=False),
                 "The charter is imported as version 1.")  # fmt: skip
    current = page.locator("section").filter(has=page.locator("#current-h"))
    expect(current).to_contain_text("version 1 · 3 clauses · 3 parties · 2 commitments")
    expect(current).not_to_contain_text("Amendment")
    axe(page, "console: charter, version 1 imported")

    page.get_by_label("Budget meeting").select_option(label="Budget night · round 1")
    page.get_by_label("Whose commitments").first.select_option("council")
    page.get_by_role("button", name="Draft commitments from this meeting").click()
    expect(page.get_by_role("status")).to_contain_text("from “Budget night” are a new version.")
    said = re.search(r"(\d+) draft", page.get_by_role("status").inner_text())
    assert said is not None
    drafted = int(said.group(1))
    assert drafted >= len(FROM_BUDGET)
    expect(current).to_contain_text(f"version 2 · 3 clauses · 3 parties · {2 + drafted}")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export as Markdown").click()
    markdown = Path(download.value.path()).read_text(encoding="utf-8")
    for title in FROM_BUDGET:
        assert f"- **{title}** {{#budget-" in markdown, title
    park = re.search(r"^- \*\*Play park\*\* \{#budget-park\}\n", markdown, re.M)
    assert park is not None
    edited = (
        markdown[: park.end()]
        + f"  > by: {PARK_BY}\n  > measure: {PARK_MEASURE}\n"
        + markdown[park.end() :]
    )
    edited = edited.replace(REVIEW, REVIEWED).replace(REVIEW_CY, REVIEWED_CY)
    assert REVIEWED in edited and REVIEWED_CY in edited
    import_draft(console, edited, "The charter is imported as version 3.")
    expect(current).to_contain_text(REVIEWED)

    # The versions, and what changed from 2 to 3, word by word.
    page.get_by_label("From version").select_option("2")
    page.get_by_label("To version").select_option("3")
    page.get_by_role("button", name="Show the changes").click()
    changes = page.locator(".charter-diff")
    expect(changes).to_contain_text("Clause review: reworded")
    expect(changes.locator("del").first).to_contain_text("year")
    expect(changes.locator("ins").first).to_contain_text("six")
    expect(changes).to_contain_text("Commitment budget-park: changed")
    axe(page, "console: charter, the changes from version 2 to 3")
    charter_page(console, "?from=2&to=3&lang=cy")
    expect(page.locator("#diff-h")).to_be_visible()
    expect(page.locator(".charter-diff del[lang=cy]").first).to_contain_text("blwyddyn")
    axe(page, "console: charter, the changes from version 2 to 3 (Welsh)")

    page = charter_page(console, "?lang=en")
    page.get_by_label(re.compile("^Block share")).fill("25")
    page.get_by_role("button", name="Save the block share").click()
    expect(page.get_by_role("status")).to_have_text("The block share is 25%.")
    axe(page, "console: charter, version 3 and the adoption rule")


# --- an amendment from a phone -------------------------------------------------------------------


def propose_amendment(contexts: Contexts, console: Console) -> Any:
    """The facilitator takes amendments from phones; a resident's phone follows the phone
    page's link to the amendments page, sends the form empty first (every problem listed),
    then the library clause worded weekly, in English only; the page says it waits. Returns
    the phone (it answers the round later)."""
    page = charter_page(console, "?lang=en")
    expect(page.get_by_text("Phones cannot propose amendments now.")).to_be_visible()
    page.get_by_role("button", name="Take amendments from phones").click()
    expect(page.get_by_role("status")).to_have_text("Phones can propose amendments now.")

    phone = contexts.phone()
    open_phone(phone, f"/m/{console.code}?lang=en")
    phone.get_by_role("link", name="Propose an amendment to the charter").click()
    expect(phone).to_have_url(re.compile(f"/m/{console.code}/amend$"))
    expect(phone.get_by_role("radio")).to_have_count(3)  # the three clauses of version 3
    expect(phone.get_by_role("radio", name=re.compile("^Clause 3:"))).to_have_accessible_name(
        f"Clause 3: {REVIEWED}"
    )
    axe(phone, "phone: propose an amendment")
    phone.get_by_role("button", name="Send my amendment").click()
    summary = phone.locator("#error-summary")
    expect(summary.locator("li")).to_have_text(
        ["Choose the clause to amend.", "Write the clause as you would have it."]
    )
    expect(phone.locator("#amend-text")).to_have_attribute("aria-invalid", "true")
    axe(phone, "phone: an amendment refused, every problem listed")
    phone.get_by_role("radio", name=re.compile("^Clause 2:")).check()
    phone.get_by_label("The clause as you would have it").fill(WEEKLY)
    phone.get_by_role("button", name="Send my amendment").click()
    expect(phone.get_by_role("status")).to_contain_text("Your amendment is waiting")
    mine = phone.locator(".amend-mine li")
    expect(mine).to_have_count(1)
    expect(mine).to_have_attribute("data-status", "proposed")
    expect(mine).to_contain_text(f"Amendment to clause 2: {WEEKLY} — waiting for the facilitator")
    axe(phone, "phone: an amendment sent, waiting")
    return phone


def accept_amendment(console: Console, proposer: Any) -> Keys:
    """On the Charter page the facilitator finds the phone's amendment waiting under its
    clause, adds its Welsh and accepts it (asked first): version 4 has it beside the clause;
    amendments from phones stop. The proposer's phone, in Welsh, says it was accepted.
    Returns the round's keys, the amendment's as drawn."""
    page = charter_page(console, "?lang=en")
    expect(page.locator("#amendments-h")).to_have_text("Amendments · 1 waiting")
    expect(page.locator("#amend-library")).to_contain_text(f"Clause 2: {FORTNIGHTLY}")
    waiting = page.locator('.amendment-queue li[data-status="proposed"]')
    expect(waiting).to_have_count(1)
    key = waiting.get_attribute("data-amendment")
    assert key is not None and re.fullmatch(r"am-[0-9a-f]{6}", key), key
    expect(waiting).to_contain_text(f"{key} · waiting · from a phone")
    axe(page, "console: charter, an amendment from a phone waiting")
    waiting.get_by_label("Its Welsh (optional)").fill(WEEKLY_CY)
    waiting.get_by_role("button", name=re.compile("^Accept: put it to the vote")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Put amendment {key} to the vote?")
    dialog.get_by_role("button", name="Yes, accept it").click()
    expect(page.get_by_role("status")).to_have_text(
        f"Amendment {key} is accepted: version 4 puts it to the vote."
    )
    current = page.locator("section").filter(has=page.locator("#current-h"))
    expect(current).to_contain_text(f"Amendment {key} (accepted): {WEEKLY}")
    accepted = page.locator(f'.amendment-queue li[data-amendment="{key}"]')
    expect(accepted).to_have_attribute("data-status", "accepted")
    expect(accepted).to_contain_text("In version 4.")
    axe(page, "console: charter, the amendment accepted with its Welsh")
    page.get_by_role("button", name="Stop taking amendments from phones").click()
    expect(page.get_by_role("status")).to_have_text("Phones can no longer propose amendments.")

    proposer.goto(f"/m/{console.code}/amend?lang=cy")
    expect(proposer.locator("html")).to_have_attribute("lang", "cy")
    expect(proposer.get_by_role("heading", level=1)).to_have_text("Cynnig gwelliant")
    mine = proposer.locator(".amend-mine li")
    expect(mine).to_have_attribute("data-status", "accepted")
    expect(mine.locator("[lang=cy]")).to_have_text(WEEKLY_CY)  # as the room answers it
    expect(proposer.locator("#form-h")).to_have_count(0)  # amendments closed: no form
    axe(proposer, "phone: amendments page, the amendment accepted (Welsh)")
    return {"respite": "respite", "library": "library", "weekly": key, "review": "review"}


# --- the consent round ---------------------------------------------------------------------------


def open_round(console: Console, emulator: KplEmulator, keys: Keys) -> None:
    """The Run page's "Open a round: Charter: consent to the clauses", every wording ticked,
    keypads answering too."""
    page = console.page
    page.goto(f"/console/{console.id}/keypads")
    console.upload(f'form[action="/console/{console.id}/keypads/import"]', "#kp-csv",
                   "keypads.csv", KEYPAD_CSV, "text/csv")  # fmt: skip
    page.goto(f"/console/{console.id}")
    form = page.locator('section[data-kind="charter"]')
    for name in WORDINGS:
        expect(form.locator(f'input[name=proposal][value="{keys[name]}"]')).to_be_checked()
    form.get_by_label(re.compile("^Keypads answer too")).check()
    with page.expect_navigation():
        form.get_by_role("button", name="Open the round").click()
    expect(page.locator(".stepper")).to_be_visible()
    eventually(lambda: console.keypad_status()["receivers"][0]["state"] == "connected")
    eventually(lambda: emulator.accepting)
    axe(page, "console: run page, a charter round open with keypads")


def saved_marks(page: Any, code: str) -> dict[str, str]:
    ballot = api_state(page, code)["you"]["ballot"]
    return dict(ballot["marks"]) if ballot else {}


def paged(page: Any) -> None:
    """Wait for the phone's script to lay the screens out one at a time: until then every
    screen shows, and an answer given before it runs would make it open on the next screen."""
    expect(page.locator("#survey.survey-paged")).to_have_count(1)
    expect(page.locator("#survey-page-2")).to_be_hidden()


def answer_by_phone(
    contexts: Contexts, code: str, segments: tuple[str, ...], plan: str, keys: Keys, page: Any
) -> Any:
    """One phone (`page`, or a new one when None): join, say who they are, then a screen per
    clause (the library's amendment beside it), Next after each; every answer saved."""
    page = page or contexts.phone()
    open_phone(page, f"/m/{code}?lang=en")
    if segments:
        open_about_you(page)
        for name in segments:
            page.get_by_role("checkbox", name=name).check()
        expect(page.locator("#segments-status")).to_have_text("Your answers are saved")
    answers = answers_of(plan, keys)
    screens = page.locator("[id^=survey-page-]")
    expect(screens).to_have_count(3)  # respite; library with its amendment; review
    paged(page)
    for n in range(1, 4):
        screen = page.locator(f"#survey-page-{n}")
        expect(screen).to_be_visible()
        for key, value in answers.items():
            box = screen.locator(f'input[name="mark:{key}"][value="{value}"]')
            if box.count():
                box.check()
        if n < 3:
            page.locator("[data-survey=next]").click()
    wait_for(lambda: saved_marks(page, code) == answers, "the phone's answers saved")
    return page


def answer_in_welsh(contexts: Contexts, code: str, plan: str, keys: Keys) -> None:
    """The Welsh phone: the clauses in their own Welsh, the interface's words in Welsh; axe
    on a clause, on the clause with its amendment and on the last screen."""
    page = contexts.phone()
    open_phone(page, f"/m/{code}?lang=cy")
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    paged(page)
    first = page.locator("#survey-page-1")
    expect(first).to_contain_text(RESPITE_CY)
    expect(first).to_contain_text("Cymal 1 o 3")
    expect(page.locator("#survey-progress")).to_have_text("0 o 3 cymal wedi'u hateb")
    axe(page, "phone: charter round, the first clause (Welsh)")
    answers = answers_of(plan, keys)
    for n in (1, 2, 3):
        screen = page.locator(f"#survey-page-{n}")
        expect(screen).to_be_visible()
        for key, value in answers.items():
            box = screen.locator(f'input[name="mark:{key}"][value="{value}"]')
            if box.count():
                box.check()
        if n == 2:
            expect(screen).to_contain_text(WEEKLY_CY)
            # Four wordings on three screens: the save bar counts wordings, and says so.
            expect(page.locator("#answered")).to_have_text(
                "3 o 4 wedi'u hateb (cymalau a gwelliannau); nid yw'r lleill wedi'u hateb"
            )
            axe(page, "phone: charter round, a clause with its amendment (Welsh)")
        if n < 3:
            page.get_by_role("button", name="Nesaf").click()
    expect(page.locator("#survey-page-3")).to_contain_text(REVIEWED_CY)
    wait_for(lambda: saved_marks(page, code) == answers, "the Welsh phone's answers saved")
    expect(page.locator("#survey-progress")).to_have_text("3 o 3 cymal wedi'u hateb")
    axe(page, "phone: charter round, every clause answered (Welsh)")


def answer_by_keypads(console: Console, emulator: KplEmulator, projector: Any, keys: Keys) -> None:
    """The projector shows one wording at a time for the keypads; they answer it, the Run
    page counts their answers on the consent scale and steps on (Next) to the following one."""
    page = console.page
    for index, key in enumerate(keys[name] for name in WORDINGS):
        step = console.keypad_status()["step"]
        assert step["proposal"] == key
        line = projector.locator("#proj-keypad")
        expect(line).to_contain_text(f"Keypads: {index + 1} of {len(WORDINGS)}")
        expect(line).to_contain_text("Press 1 Fully support, 2 Support with reservations")
        if index == 0:
            # The clause as written, its own full stop ending the sentence (not "month..").
            expect(line).to_contain_text(f"{RESPITE} Press 1 Fully support")
            axe(projector, "projector: a clause for the keypads")
        for keypad, plan in KEYPADS.items():
            emulator.press(keypad, answers_of(plan, keys)[key], seq=index + 1)
        eventually(functools.partial(console.keypads_counted, len(KEYPADS)))
        expect(page.locator("#step-h")).to_have_text(f"Keypads: item {index + 1} of 4")
        if index == 0:
            expect(page.locator("#step-count")).to_have_text(
                "Keypad answers on this one: 3. 1 Fully support: 2; 2 Support with "
                "reservations: 0; 3 Can live with it: 1; 4 Need a change: 0; 5 Block: 0"
            )
        if index + 1 < len(WORDINGS):
            with page.expect_navigation():
                page.locator(".stepper").get_by_role("button", name="Next").click()


def answer_on_paper(console: Console, keys: Keys) -> None:
    """The two sheets keyed twice by keyboard, keying 2 misreading one answer; the paper page
    lists the mismatch with both readings; keying 2 keys the sheet again; Count."""
    page = console.page
    base = f"/console/{console.id}/rounds/1/paper"
    sheet_of_slip, name, slip = MISREAD
    page.goto(f"{base}/key/1")
    axe(page, "console: paper keying, a charter round")
    for sheet, plan in PAPER.items():
        key_sheet(page, sheet, list(answers_of(plan, keys).items()))
    page.goto(f"{base}/key/2")
    for sheet, plan in PAPER.items():
        marks = answers_of(plan, keys)
        if sheet == sheet_of_slip:
            marks[keys[name]] = slip
        key_sheet(page, sheet, list(marks.items()))

    page.goto(base)
    rows = page.locator("#mismatches tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-sheet", sheet_of_slip)
    expect(rows.first.locator("td").nth(0)).to_have_text(REVIEWED)
    expect(rows.first.locator("td").nth(1)).to_contain_text("Can live with it")
    expect(rows.first.locator("td").nth(2)).to_contain_text("Need a change")
    axe(page, "console: paper status, a charter sheet mismatched")

    page.goto(f"{base}/key/2")
    key_sheet(page, sheet_of_slip, list(answers_of(PAPER[sheet_of_slip], keys).items()))
    page.goto(base)
    expect(page.locator("#mismatches")).to_have_count(0)
    page.get_by_role("button", name=f"Count {len(PAPER)} matching sheets").click()
    expect(page.locator(".notice")).to_contain_text(f"Counted {len(PAPER)} sheet(s): 1\u20132.")


def close_and_reveal(console: Console) -> None:
    """From the Run page: Close (asked first), then Reveal on projector."""
    page = console.page
    page.goto(f"/console/{console.id}")
    for channel, n in EXPECTED_CHANNELS.items():
        expect(page.locator(f'#channels [data-channel="{channel}"] strong')).to_have_text(str(n))
    # The facilitator's own glance before closing: the decisions as they stand.
    page.get_by_text("Show answers so far").click()
    so_far = page.locator("#answers-so-far")
    expect(so_far.locator('.charter-decision[data-clause="respite"]')).to_have_attribute(
        "data-decision", "SENT_BACK"
    )
    axe(page, "console: run page, a charter round's answers so far")
    close_round_1(page)


def close_round_1(page: Any) -> None:
    """The Run page's Close round 1 (asked first), then Reveal on projector."""
    page.get_by_role("button", name="Close round 1").click()
    page.get_by_role("dialog").get_by_role("button", name="Yes, close round 1").click()
    page.get_by_role("button", name="Reveal on projector").click()
    expect(page.locator(".step-says")).to_contain_text("Round 1's results are on the projector")


def check_projector(projector: Any, keys: Keys) -> None:
    """Each wording's decision in words beside its icon, once revealed."""
    decisions = {
        "respite": "SENT BACK",
        "library": "SENT BACK",
        "weekly": "ADOPTED",
        "review": "ADOPTED",
    }
    for name, words in decisions.items():
        line = projector.locator(f"[data-proposal='{keys[name]}'] .charter-decision")
        expect(line).to_contain_text(words)
    expect(projector.locator("#proj-keypad")).to_be_hidden()
    axe(projector, "projector: a charter round's decisions")
    projector.goto(f"{projector.url.split('?')[0]}?lang=cy")
    respite = projector.locator("[data-proposal='respite']")
    expect(respite.locator("h3")).to_have_text(RESPITE_CY)
    expect(respite.locator(".charter-decision")).to_contain_text("ANFONWYD YN ÔL")
    weekly = projector.locator(f"[data-proposal='{keys['weekly']}'] .charter-decision")
    expect(weekly).to_contain_text("MABWYSIADWYD")
    axe(projector, "projector: a charter round's decisions (Welsh)")


def check_round_page(console: Console, keys: Keys) -> None:
    """The console's round page: each clause's decision with its reasons, in English and in
    Welsh."""
    page = console.page
    page.goto(f"/console/{console.id}/rounds/1?lang=en")
    respite = page.locator('.charter-decision[data-clause="respite"]')
    expect(respite).to_have_attribute("data-decision", "SENT_BACK")
    expect(respite).to_contain_text("The people it affects block it: Carer.")
    expect(respite).to_contain_text("Blocking groups: Carer.")
    expect(respite.locator("tbody th", has_text="Carer")).to_have_count(1)
    expect(respite).not_to_contain_text("more than 25%")  # 20% block: under the share
    library = page.locator('.charter-decision[data-clause="library"]')
    expect(library).to_have_attribute("data-decision", "ADOPTED")
    expect(library).to_contain_text(f"Adopted as amended by {keys['weekly']}.")
    review = page.locator('.charter-decision[data-clause="review"]')
    expect(review).to_have_attribute("data-decision", "ADOPTED")
    for name, counts in COUNTS.items():
        caption = page.locator("caption", has_text=re.compile(f"^Answers to {keys[name]}$"))
        cells = caption.locator("xpath=..").locator("tbody td")
        expect(cells).to_have_text([str(n) for n in counts])
    axe(page, "console: a charter round's results")
    page.goto(f"/console/{console.id}/rounds/1?lang=cy")
    respite = page.locator('.charter-decision[data-clause="respite"]')
    expect(respite).to_contain_text("ANFONWYD YN ÔL")
    # The group by its Welsh label, as the meeting file gives it.
    expect(respite).to_contain_text("Mae'r bobl y mae'n effeithio arnynt yn ei rwystro: Gofalwr.")
    axe(page, "console: a charter round's results (Welsh)")


def check_report(console: Console) -> None:
    """The results report has the round's answers to each wording; in Welsh, each clause in
    its own Welsh."""
    page = console.page
    page.goto(f"/console/{console.id}/report?lang=en")
    expect(page.locator("article.proposal h3", has_text=RESPITE)).to_have_count(1)
    axe(page, "console: the results report of a charter round")
    page.goto(f"/console/{console.id}/report?lang=cy")
    for text in (RESPITE_CY, WEEKLY_CY, REVIEWED_CY):
        expect(page.locator("article.proposal h3", has_text=text)).to_have_count(1)
    axe(page, "console: the results report of a charter round (Welsh)")


# --- adoption and sign-off -----------------------------------------------------------------------


def adopt(console: Console) -> None:
    """Round 1's decisions become version 5 (asked first): the library clause takes the
    amendment's wording; the respite clause, sent back, keeps its own."""
    page = charter_page(console, "?lang=en")
    page.get_by_role("button", name="Adopt round 1's decisions as version 5").click()
    page.get_by_role("dialog").get_by_role("button", name="Yes, adopt them").click()
    expect(page.get_by_role("status")).to_have_text("Round 1's decisions are adopted as version 5.")
    current = page.locator("section").filter(has=page.locator("#current-h"))
    expect(current).to_contain_text(WEEKLY)
    expect(current).not_to_contain_text(FORTNIGHTLY)
    expect(current).to_contain_text(RESPITE)
    expect(page.locator("#adopt-h")).to_have_count(0)  # nothing left to adopt
    axe(page, "console: charter, round 1's decisions adopted")


def draw_signature(page: Any) -> None:
    """A zig-zag drawn on the pad with the mouse, as a finger would."""
    pad = page.locator("canvas.signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + 20)
    page.mouse.down()
    for i in range(1, 12):
        page.mouse.move(box["x"] + 20 + 25 * i, box["y"] + 20 + (i % 2) * 40)
    page.mouse.up()
    assert page.locator("input[name=drawing]").input_value().startswith("M ")


def sign(console: Console) -> None:
    """Each party's representative signs version 5; the council's draws the signature."""
    page = charter_page(console, "?lang=en")
    expect(page.locator("canvas.signature-pad")).to_be_visible()
    axe(page, "console: charter sign-off, nobody signed yet")
    for party, name, role, organisation, draws in SIGNATORIES:
        page.get_by_label("Party", exact=True).select_option(party)
        page.get_by_label("Name of the representative").fill(name)
        page.get_by_label("Role").fill(role)
        page.get_by_label("Organisation").fill(organisation)
        if draws:
            draw_signature(page)
        page.get_by_role("button", name="Sign the charter").click()
        expect(page.get_by_role("status")).to_have_text(
            f"{name} has signed version 5 of the charter."
        )
    signed = page.locator("[data-signature]")
    expect(signed).to_have_count(3)
    expect(signed.filter(has_text="Cllr Megan Pritchard")).to_contain_text("drawn signature")
    axe(page, "console: charter signed by three parties")
    charter_page(console, "?lang=cy")
    expect(page.locator("#signoff-h")).to_be_visible()
    axe(page, "console: charter signed by three parties (Welsh)")


def audit_head(console: Console) -> tuple[int, str]:
    lines = console.get(f"/console/{console.id}/export/audit.jsonl").text.splitlines()
    last = json.loads(lines[-1])
    return int(last["seq"]), str(last["hash"])


def download_pdf(console: Console, lang: str) -> str:
    """The Charter page's "The charter as PDF", downloaded in `lang`, as text."""
    page = charter_page(console, f"?lang={lang}")
    with page.expect_download() as download:
        page.locator(f'a[href="/console/{console.id}/charter.pdf"]').click()
    assert download.value.suggested_filename.endswith("charter-v5.pdf")
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"%PDF")
    return pdf_text(data)


def check_pdf(console: Console) -> None:
    """The PDF: every clause in both languages with its decision and support, the amendment
    and the first wording's fate, the commitments per party (the budget's and the edit's),
    the three signatures, the audit head hash; then the Welsh PDF's words."""
    seq, head = audit_head(console)
    text = download_pdf(console, "en")
    assert "Ashdown Community Charter" in text and "Siarter Gymunedol Ashdown" in text
    assert "Community Charter, version 5, printed" in text
    assert f"respite. {RESPITE}" in text and RESPITE_CY in text
    assert "Decision: SENT BACK in round 1" in text
    assert f"Support: {support(COUNTS['respite'])}" in text
    assert f"library. {WEEKLY}" in text and WEEKLY_CY in text
    assert "Decision: ADOPTED in round 1" in text
    assert f"Support: {support(COUNTS['weekly'])}" in text
    assert f"library (as first worded: SENT BACK): {FORTNIGHTLY}" in text
    assert f"Support: {support(COUNTS['library'])}" in text
    assert f"review. {REVIEWED}" in text and REVIEWED_CY in text
    assert f"Support: {support(COUNTS['review'])}" in text
    assert "Commitments" in text
    for title in (*FROM_BUDGET, "Run the library van on time.", "Rhedeg fan y llyfrgell"):
        assert title in text, title
    assert f"By: {PARK_BY}; Measured by: {PARK_MEASURE}" in text
    assert "Measured by: Visits made as timetabled" in text
    for party, name, role, organisation, _ in SIGNATORIES:
        assert f"Signed by: {name}, {role}, {organisation}" in text, party
    assert text.count("version 5, signed") == 3
    assert f"Audit log at printing: {seq} links" in text
    assert head in text.replace(" ", "")

    assert "Party: Ashdown Council Cyngor Ashdown" in text  # the signing party in both

    cy = download_pdf(console, "cy")
    assert "Llofnodwyd gan: Cllr Megan Pritchard" in cy
    assert "Parti: Ashdown Community Transport Trafnidiaeth Gymunedol Ashdown" in cy
    assert RESPITE_CY in cy and REVIEWED_CY in cy
    assert "Fully support" not in cy  # the consent scale's words are Welsh too


# --- the review meeting -------------------------------------------------------------------------

REVIEW_TITLE = "Ashdown charter review 2027"
# The parties' own reports (English, Welsh); the residents give none on hosting the van.
REPORTS: dict[str, tuple[str, str]] = {
    "budget-park": ("The play park opened in September and is open every day.",
                    "Agorodd y parc chwarae ym mis Medi ac mae ar agor bob dydd."),
    "drivers": ("91 of the 100 visits ran on time; the van was off the road for a week.", ""),
}  # fmt: skip
# Each commitment's ratings, in the round's order (the charter's: the two imported, then the
# five drafted from the budget meeting) by two phones in English, one in Welsh, then the three
# keypads (k kept, p partly kept, n not kept, - not rated). The residents' hosting is rated by
# one keypad alone: fewer than m = 2, so it shows no figures and the residents have no score.
RATINGS: dict[str, str] = {
    "drivers": "pnpkn-",  # transport: 1 kept, 2 partly, 2 not: (2 + 2) / 10 = 40%
    "hosts": "-----k",  # residents: 1 rating, not shown
    "budget-cycle": "kkkkkk",  # council: 100%
    "budget-park": "kkpkpk",  # (8 + 2) / 12 = 83%
    "budget-youth": "kpnkpn",  # (4 + 2) / 12 = 50%
    "budget-respite": "kkkkkp",  # (10 + 1) / 12 = 92%
    "budget-baskets": "nnpnn-",  # 1 / 10 = 10%
}
# Each party's score: the council's 17 kept, 6 partly, 6 not: (34 + 6) / 58 = 69%.
SCORES = {"council": "69%", "transport": "40%", "residents": "no score"}
PARK_ROW = ["83%", "6", "4", "2", "0"]  # the play park's score, ratings, kept, partly, not
RATED = {"k": "kept", "p": "partly", "n": "not"}
PRESSED = {"k": "1", "p": "2", "n": "3"}
REVIEW_SEQ = 10  # the keypads' sequence numbers go on from the consent round's (1 to 4)


def ratings_of(at: int) -> dict[str, str]:
    """The rater `at`'s ratings (0-2 phones, 3-5 keypads) by commitment, unrated left out."""
    return {key: plan[at] for key, plan in RATINGS.items() if plan[at] != "-"}


def start_review(console: Console) -> Console:
    """After signing, the Charter page starts a review meeting of the charter (asked first);
    the browser goes to the new meeting's Charter page. Returns the console on it."""
    page = charter_page(console, "?lang=en")
    page.get_by_label("The review meeting's title").fill(REVIEW_TITLE)
    page.get_by_role("button", name="Start a review meeting").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Start a review meeting of this charter?")
    dialog.get_by_role("button", name="Yes, start the review meeting").click()
    expect(page.get_by_role("heading", name="The parties' reports")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(
        f"“{REVIEW_TITLE}” is a review meeting of this charter"
    )
    review = copy.copy(console)
    review.id = int(page.url.split("/console/")[1].split("/")[0])
    assert review.id != console.id
    expect(page.locator("section").filter(has=page.locator("#reports-h"))).to_contain_text(
        f"This meeting reviews the charter of “{MEETING['title']}”."
    )
    axe(page, "console: the review meeting's charter page")
    return review


def enter_reports(review: Console) -> None:
    """The parties' reports typed into their commitments' fields, saved at once."""
    page = review.page
    for key, (text, text_cy) in REPORTS.items():
        page.locator(f'textarea[name="report:{key}"]').fill(text)
        if text_cy:
            page.locator(f'textarea[name="report_cy:{key}"]').fill(text_cy)
    page.get_by_role("button", name="Save the reports").click()
    expect(page.locator(".notice")).to_contain_text(f"Reports saved: {len(REPORTS)}.")
    expect(page.locator('textarea[name="report:budget-park"]')).to_have_value(
        REPORTS["budget-park"][0]
    )
    axe(page, "console: the review meeting's charter page, reports saved")


def open_review_round(review: Console, emulator: KplEmulator) -> None:
    """The review meeting's keypads imported; the Run page's "Open a round: Charter review",
    every commitment ticked, keypads answering too. Notes the meeting's code."""
    page = review.page
    page.goto(f"/console/{review.id}")
    review.code = page.locator(".code").first.inner_text().strip()
    page.goto(f"/console/{review.id}/keypads")
    review.upload(f'form[action="/console/{review.id}/keypads/import"]', "#kp-csv",
                  "keypads.csv", KEYPAD_CSV, "text/csv")  # fmt: skip
    page.goto(f"/console/{review.id}")
    form = page.locator('section[data-kind="charter_review"]')
    boxes = form.locator("input[name=proposal]")
    assert boxes.evaluate_all("bs => bs.map(b => b.value)") == list(RATINGS)
    for i in range(boxes.count()):
        boxes.nth(i).check()
    form.get_by_label(re.compile("^Keypads answer too")).check()
    with page.expect_navigation():
        form.get_by_role("button", name="Open the round").click()
    expect(page.locator(".stepper")).to_be_visible()
    eventually(lambda: emulator.accepting)
    axe(page, "console: run page, a review round open with keypads")


def rate_by_phone(contexts: Contexts, code: str, at: int, lang: str) -> Any:
    """Phone `at` rates each commitment after its party's report (the unrated left blank),
    Next after each; every rating saved."""
    page = contexts.phone()
    open_phone(page, f"/m/{code}?lang={lang}")
    paged(page)
    ratings = {key: RATED[r] for key, r in ratings_of(at).items()}
    screens = page.locator("[id^=survey-page-]")
    expect(screens).to_have_count(len(RATINGS))
    for n, key in enumerate(RATINGS, 1):
        screen = page.locator(f"#survey-page-{n}")
        expect(screen).to_be_visible()
        report = screen.locator(".review-report")
        if key in REPORTS:
            text, text_cy = REPORTS[key]
            expect(report).to_contain_text(text_cy if lang == "cy" and text_cy else text)
        if key == "budget-park" and lang == "cy":
            expect(screen).to_contain_text("Cyngor Ashdown")
            axe(page, "phone: a review round, a commitment after its report (Welsh)")
        if key == "hosts" and lang == "en":
            expect(report).to_contain_text("The party gave no report on this commitment.")
            axe(page, "phone: a review round, a commitment without a report")
        if key in ratings:
            screen.locator(f'input[name="mark:{key}"][value="{ratings[key]}"]').check()
        if n < len(RATINGS):
            page.locator("[data-survey=next]").click()
    wait_for(lambda: saved_marks(page, code) == ratings, f"phone {at}'s ratings saved")
    return page


def rate_by_keypads(review: Console, emulator: KplEmulator, projector: Any) -> None:
    """The projector shows one commitment at a time for the keypads; those that rate it press
    1, 2 or 3; the Run page counts them and steps on."""
    page = review.page
    page.goto(f"/console/{review.id}")
    for index, key in enumerate(RATINGS):
        assert review.keypad_status()["step"]["proposal"] == key
        line = projector.locator("#proj-keypad")
        expect(line).to_contain_text(f"Keypads: {index + 1} of {len(RATINGS)}")
        expect(line).to_contain_text("Press 1 Kept, 2 Partly kept, 3 Not kept")
        pressed = 0
        for at, keypad in enumerate(KEYPADS, 3):
            rating = RATINGS[key][at]
            if rating != "-":
                emulator.press(keypad, PRESSED[rating], seq=REVIEW_SEQ + index)
                pressed += 1
        eventually(functools.partial(review.keypads_counted, pressed))
        if index + 1 < len(RATINGS):
            with page.expect_navigation():
                page.locator(".stepper").get_by_role("button", name="Next").click()


def check_scorecard_projector(projector: Any) -> None:
    """Once revealed, the projector's scorecard: each party's score, the commitment rated by
    fewer than m without figures."""
    card = projector.locator('[data-chart="scorecard"]')
    expect(card).to_contain_text("Scorecard")
    for party, score in SCORES.items():
        expect(card.locator(f'tbody[data-party="{party}"] tr.review-party')).to_contain_text(score)
    hosts = card.locator('tr[data-commitment="hosts"]')
    expect(hosts).to_contain_text("Fewer than 2 rated: not shown")
    axe(projector, "projector: a review round's scorecard")


def check_scorecard_console(review: Console) -> None:
    """The review round's page on the console: the scorecard, with every party's ratings."""
    page = review.page
    page.goto(f"/console/{review.id}/rounds/1?lang=en")
    card = page.locator(".review-scorecard")
    for party, score in SCORES.items():
        expect(card.locator(f'tbody[data-party="{party}"] tr.review-party')).to_contain_text(score)
    expect(card.locator('tr[data-commitment="hosts"]')).to_contain_text(
        "Fewer than 2 rated: not shown"
    )
    park = card.locator('tr[data-commitment="budget-park"]')
    expect(park.locator("th")).to_have_text("Commitment: Play park")  # the prefix is hidden
    expect(park.locator("td")).to_have_text(PARK_ROW)
    axe(page, "console: a review round's scorecard")


def check_review_report(review: Console) -> None:
    """The review meeting's results report, and its PDF downloaded and read, in English and
    in Welsh (the parties and the imported commitments in their Welsh)."""
    page = review.page
    page.goto(f"/console/{review.id}/report?lang=en")
    expect(page.locator("section.review")).to_contain_text("Charter review: scorecard")
    axe(page, "console: the results report of a review round")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert "Charter review: scorecard" in text
    assert "Voted: Keypad Voted: Paper 6 6 3 0 3 0" in text  # 3 phones and 3 keypads
    # Each party's row, its score and ratings (shown ones: kept, partly, not), its
    # commitments' under it; the residents' hosting, rated once, without figures.
    for line in (
        "Ashdown Council 69% 29 17 6 6",
        " ".join(["Play park", *PARK_ROW]),
        "Ashdown Community Transport 40% 5 1 2 2",
        "Run the library van on time. 40% 5 1 2 2",
        "Host the library van in each village. \u2013 Fewer than 2 rated: not shown",
        "Ashdown residents No score",  # the chart's
    ):
        assert line in text, line
    page.goto(f"/console/{review.id}/report?lang=cy")
    axe(page, "console: the results report of a review round (Welsh)")
    with page.expect_download() as download:
        page.get_by_role("link", name="Lawrlwytho PDF").click()
    cy = pdf_text(Path(download.value.path()).read_bytes())
    assert "Adolygu'r siarter: cerdyn sgorio" in cy
    for line in (
        "Cyngor Ashdown 69% 29 17 6 6",
        "Trafnidiaeth Gymunedol Ashdown 40% 5 1 2 2",
        "Croesawu fan y llyfrgell ym mhob pentref. \u2013 Llai na 2 wedi barnu: heb eu dangos",
        "Trigolion Ashdown Dim sgôr",
    ):
        assert line in cy, line


# --- the story -----------------------------------------------------------------------------------


def test_a_charter_is_drafted_agreed_clause_by_clause_and_signed(
    contexts: Contexts, live: LiveServer, emulator: KplEmulator
) -> None:
    console = Console(contexts, live)
    run_budget_meeting(live, console)
    console.import_meeting(json.dumps(MEETING, ensure_ascii=False))
    draft(console)

    proposer = propose_amendment(contexts, console)
    keys = accept_amendment(console, proposer)

    projector = contexts.desktop(1920, 1080)
    projector.goto(f"/p/{console.code}")
    open_round(console, emulator, keys)
    # The last phone is the one that proposed the amendment.
    pages = [None] * (len(PHONES) - 1) + [proposer]
    phones = [
        answer_by_phone(contexts, console.code, s, plan, keys, page)
        for (s, plan), page in zip(PHONES, pages, strict=True)
    ]
    axe(phones[0], "phone: charter round, the last clause")
    answer_in_welsh(contexts, console.code, WELSH_PHONE, keys)
    answer_by_keypads(console, emulator, projector, keys)
    answer_on_paper(console, keys)
    voters = sum(EXPECTED_CHANNELS.values())
    wait_for(lambda: console.turnout()["voted"] == voters, "every voter counted")
    assert console.turnout()["by_channel"] == {**EXPECTED_CHANNELS, "remote": 0}
    close_and_reveal(console)
    check_projector(projector, keys)
    check_round_page(console, keys)
    check_report(console)

    adopt(console)
    sign(console)
    check_pdf(console)

    # Months later, the review meeting of the signed charter.
    review = start_review(console)
    enter_reports(review)
    open_review_round(review, emulator)
    projector.goto(f"/p/{review.code}?lang=en")
    expect(projector.locator('[data-proposal="budget-park"]')).to_contain_text(
        REPORTS["budget-park"][0]
    )
    for at, lang in enumerate(("en", "en", "cy")):
        rate_by_phone(contexts, review.code, at, lang)
    rate_by_keypads(review, emulator, projector)
    wait_for(lambda: review.turnout()["voted"] == 6, "every rater counted")
    close_round_1(review.page)
    check_scorecard_projector(projector)
    check_scorecard_console(review)
    check_review_report(review)
