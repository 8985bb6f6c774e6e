"""Accessibility in a real browser: axe-core on every page, touch targets, text at 200% on a
320 px screen, live regions for screen readers, and colour never the only signal."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import WAIT_MS, Contexts, api_state, axe, open_about_you, open_phone
from tests.conftest import FACILITATOR_KEY, LiveServer, Meeting, Phone
from tests.test_survey_round import import_survey, open_survey, survey_text
from tests.test_you_said import ANSWERS

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package").expect
expect.set_options(timeout=WAIT_MS)

MIN_TARGET = 44  # px, WCAG 2.5.5 (AAA) / Apple and Android guidance; 2.5.8 AA asks for 24


def new_meeting(live: LiveServer) -> Meeting:
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    return Meeting(f)


def vote_on(page: Any, marks: dict[str, str]) -> None:
    for key, value in marks.items():
        page.locator(f"input[name='mark:{key}'][value='{value}']").tap()
    expect(page.locator("#save-status")).to_have_text("Your ballot is saved")


def test_axe_finds_nothing_serious_on_any_page(contexts: Contexts, live: LiveServer) -> None:
    """Every page in the states people see it in; the summary is printed at the end of the run."""
    meeting = new_meeting(live)
    code = meeting.code
    fac = contexts.facilitator()
    phone = contexts.phone()
    projector = contexts.desktop(1920, 1080)

    axe(fac, "console: home")
    phone.goto("/")
    axe(phone, "join")
    phone.goto("/join?code=QQQQQQ")
    expect(phone.locator("#code-error")).to_be_visible()
    axe(phone, "join: unknown code")
    phone.goto("/no/such/page")
    axe(phone, "error page (404)")
    phone.goto(f"/m/{code}")
    axe(phone, "phone: join button")
    open_phone(phone, f"/m/{code}")
    axe(phone, "phone: waiting for a round")
    projector.goto(f"/p/{code}")
    axe(projector, "projector: waiting")

    meeting.open_round()
    expect(phone.locator("#ballot-form")).to_be_visible()
    axe(phone, "phone: round open")
    vote_on(phone, {"library": "want", "respite": "dont_want"})
    axe(phone, "phone: after voting")
    expect(projector.locator("#proj-turnout")).to_have_text("1 of 1 present have voted")
    axe(projector, "projector: round open")
    fac.goto(f"/console/{meeting.id}")
    axe(fac, "console: meeting, round open")
    fac.goto(f"/console/{meeting.id}/setup")
    axe(fac, "console: set-up")
    # The closing countdown (tests/browser/test_run_page.py follows it to the end).
    meeting.post("/rounds/1/countdown", seconds="60")
    expect(phone.locator("#countdown")).to_be_visible()
    axe(phone, "phone: closing countdown")
    expect(projector.locator("#countdown")).to_be_visible()
    axe(projector, "projector: closing countdown")
    fac.goto(f"/console/{meeting.id}")
    axe(fac, "console: run page, closing countdown")

    meeting.close_round(1)
    expect(phone.locator("#ballot .waiting")).to_be_visible()
    axe(phone, "phone: round closed")
    axe(projector, "projector: closed, results hidden")
    meeting.reveal(1)
    expect(projector.locator(".result")).to_have_count(3)
    axe(projector, "projector: results 1080p")
    projector.set_viewport_size({"width": 1024, "height": 768})
    axe(projector, "projector: results 4:3")
    fac.goto(f"/console/{meeting.id}/rounds/1")
    axe(fac, "console: round results")
    # The presenter view, and what it puts on the projector (tests/browser/test_presenter.py
    # drives every mode).
    projector.set_viewport_size({"width": 1920, "height": 1080})
    fac.goto(f"/console/{meeting.id}/present")
    expect(fac.locator("#page-now")).to_contain_text("Page 1 of ")
    axe(fac, "console: presenter view, results")
    fac.locator('.present-proposals li[data-proposal="respite"]').get_by_role(
        "button", name="Show on screen"
    ).click()
    expect(projector.locator('#focus [data-proposal="respite"]')).to_be_visible()
    axe(projector, "projector: one proposal (presenter)")
    fac.get_by_role("button", name="Show the ranking").click()
    expect(projector.locator("#focus .ranking li")).to_have_count(3)
    axe(projector, "projector: the ranking (presenter)")
    fac.get_by_role("button", name="Blank the screen").click()
    expect(projector.get_by_role("img", name="Screen blanked")).to_be_visible()
    axe(projector, "projector: blanked (presenter)")
    axe(fac, "console: presenter view, screen blanked")
    fac.get_by_role("button", name="Back to automatic").click()
    expect(projector.locator("#results")).to_be_visible()
    fac.goto(f"/console/{meeting.id}/report")
    axe(fac, "console: results report")
    fac.goto(f"/console/{meeting.id}")
    axe(fac, "console: run page, results revealed")
    meeting.post("/rounds/1/final")
    meeting.open_round()
    meeting.post("/rounds/2/void", confirm="yes", reason="Rehearsal")
    fac.goto(f"/console/{meeting.id}/rounds/2")
    axe(fac, "console: a voided round's results")
    # A meeting's life (tests/browser/test_lifecycle.py also checks the dialog, the archived
    # list and the confirmation page).
    fac.goto(f"/console/meetings/{meeting.id}/duplicate")
    axe(fac, "console: duplicate a meeting")
    fac.goto(f"/console/meetings/{meeting.id}/delete")
    axe(fac, "console: delete a meeting")

    # A form posted from a stale page: the error page a POST gets (no language switch there).
    phone.evaluate(
        """() => { const f = document.createElement('form');
                   f.method = 'post'; f.action = location.pathname + '/segments';
                   f.innerHTML = '<input name=csrf value=stale>';
                   document.body.appendChild(f); f.submit(); }"""
    )
    expect(phone.get_by_role("heading", level=1)).to_have_text("This page has expired")
    expect(phone.locator(".lang-switch")).to_have_count(0)
    axe(phone, "error page (403 after a form)")
    phone.goto("/no/such/page?lang=cy")
    expect(phone.locator("html")).to_have_attribute("lang", "cy")
    axe(phone, "error page (404), Welsh")


def test_set_up_sections_in_welsh_with_problems_and_unsaved_changes(
    contexts: Contexts, live: LiveServer
) -> None:
    """Set-up by section (issue 13) in Welsh: a section with unsaved changes, then a refused
    save with its summary and the problems next to their fields; axe finds nothing serious."""
    meeting = new_meeting(live)
    fac = contexts.facilitator()
    fac.goto(f"/console/{meeting.id}/setup?lang=cy")
    fac.locator("#prop-3-title").fill("Cysgodfa bws")
    fac.locator("#prop-3-cost").fill("llawer")
    expect(fac.locator("#proposals .dirty-flag")).to_be_visible()
    axe(fac, "console: set-up in Welsh, unsaved changes")
    fac.locator("#proposals button[type=submit]").click()
    expect(fac.locator("#error-summary")).to_be_focused()
    expect(fac.locator("#prop-3-cost-error")).to_be_visible()
    axe(fac, "console: set-up in Welsh, a refused save")


def test_touch_targets_are_at_least_44px(contexts: Contexts, live: LiveServer) -> None:
    """The phone's choices, buttons, checkboxes and links can be hit with a thumb."""
    meeting = new_meeting(live)
    meeting.open_round()
    for width in (390, 320):
        page = contexts.phone(viewport={"width": width, "height": 700})
        open_phone(page, f"/m/{meeting.code}")
        open_about_you(page)  # folded while the round is open: its summary is a target too
        targets = {
            "open-round bar": page.locator(".round-bar a"),
            "'about you' summary": page.locator(".about-you summary"),
            "choice": page.locator(".choice input"),
            "button": page.locator("button, .btn"),
            "checkbox row": page.locator(".check"),
            "language switch": page.locator(".lang-switch a, .lang-switch .lang-current"),
        }
        for what, locator in targets.items():
            boxes = [b for b in (el.bounding_box() for el in locator.all()) if b]
            assert boxes, f"no {what} on the phone page"
            small = [b for b in boxes if b["width"] < MIN_TARGET or b["height"] < MIN_TARGET]
            assert not small, f"{what} smaller than {MIN_TARGET}px at {width}px wide: {small}"
        # The tappable input covers its whole label.
        for choice in page.locator(".choice").all()[:3]:
            inp = choice.locator("input").bounding_box()
            label = choice.locator("label").bounding_box()
            assert inp and label and inp == label
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to main content").bounding_box()
        assert skip and skip["height"] >= MIN_TARGET


@pytest.mark.parametrize(
    "path", ["/m/{code}", "/m/{code}?lang=cy", "/", "/join?code=QQQQQQ", "/no/such/page"]
)
def test_text_scales_to_200_percent_without_sideways_scrolling(
    contexts: Contexts, live: LiveServer, path: str
) -> None:
    """WCAG 1.4.4 and 1.4.10: a 320 px wide screen with text at twice the size still fits."""
    meeting = new_meeting(live)
    meeting.open_round()
    page = contexts.phone(viewport={"width": 320, "height": 640})
    open_phone(page, path.format(code=meeting.code))  # the phone page after pressing Join
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    width = page.evaluate("document.documentElement.clientWidth")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    too_wide = page.evaluate(
        """(w) => Array.from(document.querySelectorAll('main *, header *'))
             .filter(e => e.getBoundingClientRect().right > w + 1)
             .slice(0, 5).map(e => e.tagName + '.' + e.className)""",
        width,
    )
    assert scroll <= width, f"sideways scroll at 200% on {path}: {scroll} > {width}: {too_wide}"
    body = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert body >= 32  # the text really did scale (17 px at 100%)
    if path.startswith("/m/"):
        box = page.locator(".choice input").first.bounding_box()
        assert box and box["height"] >= 2 * MIN_TARGET


def test_live_regions_announce_what_changes(contexts: Contexts, live: LiveServer) -> None:
    """A screen reader hears the round open and close and the ballot saved, in live regions."""
    meeting = new_meeting(live)
    phone = contexts.phone()
    projector = contexts.desktop(1280, 720)
    open_phone(phone, f"/m/{meeting.code}")
    projector.goto(f"/p/{meeting.code}")
    announce = phone.locator("#announce")
    expect(announce).to_have_attribute("aria-live", "polite")
    expect(phone.locator("#alert")).to_have_attribute("role", "alert")
    expect(phone.locator("#conn")).to_have_text("Live")

    meeting.open_round("library", "toilets")
    expect(announce).to_have_text("Round 1 is open — you can vote now")
    status = phone.locator("#save-status")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_text("Not saved yet")
    phone.locator("input[name='mark:library'][value='want']").tap()
    expect(status).to_have_text("Your ballot is saved")
    assert api_state(phone, meeting.code)["you"]["ballot"]["marks"] == {"library": "want"}

    meeting.close_round(1)
    expect(announce).to_have_text("Voting is closed")
    expect(projector.locator("#announce")).to_have_text("Round 1 — voting closed")
    meeting.reveal(1)
    expect(announce).to_have_text("The results are on the big screen")
    expect(projector.locator("#announce")).to_have_text("Results for round 1 are on the screen")
    # The segments form reports its own saving in a status region too.
    expect(phone.locator("#segments-body")).to_contain_text("These are fixed once you have voted.")


def test_colour_is_never_the_only_signal(contexts: Contexts, live: LiveServer) -> None:
    """WANT / DON'T WANT / NEUTRAL differ in words and icon; a chosen mark shows ● and a double
    border; result categories differ in words, icon and border style."""
    meeting = new_meeting(live)
    meeting.open_round()
    page = contexts.phone()
    open_phone(page, f"/m/{meeting.code}")
    choices = page.locator(".proposal").first.locator(".choice label")
    words = [c.locator(".word").inner_text() for c in choices.all()]
    icons = [c.locator(".icon").inner_text() for c in choices.all()]
    assert words == ["WANT", "DON'T WANT", "NEUTRAL"]
    assert len(set(icons)) == 3 and icons[0] == "✓" and icons[1] == "✗"

    def look(label: Any) -> dict[str, str]:
        result: dict[str, str] = label.evaluate(
            """l => ({pick: getComputedStyle(l.querySelector('.pick'), '::before').content,
                     border: getComputedStyle(l).borderTopStyle})"""
        )
        return result

    before = look(choices.nth(0))
    page.locator("input[name='mark:library'][value='want']").tap()
    expect(page.locator("#save-status")).to_have_text("Your ballot is saved")
    after = look(choices.nth(0))
    assert before["pick"] != after["pick"] and "●" in after["pick"]
    assert after["border"] == "double" and before["border"] == "solid"
    # The saved status has its own icon, not only its green.
    status_icon = page.evaluate(
        "getComputedStyle(document.querySelector('#save-status'), '::before').content"
    )
    assert "✓" in status_icon

    vote_on(page, {"respite": "dont_want", "toilets": "neutral"})
    meeting.close_round(1)
    meeting.reveal(1)
    projector = contexts.desktop(1920, 1080)
    projector.goto(f"/p/{meeting.code}")
    badges = projector.locator(".result .badge")
    expect(badges).to_have_count(3)
    seen = {}
    for badge in badges.all():
        style = badge.evaluate(
            "b => [b.querySelector('.b-icon').textContent, b.querySelector('.b-text').textContent,"
            " getComputedStyle(b).borderTopStyle]"
        )
        seen[style[1]] = style
    assert len({s[0] for s in seen.values()}) == len(seen)  # one icon per category
    legend = projector.locator(".result .bar-legend").first.inner_text()
    assert "WANT" in legend and "NEUTRAL" in legend and "DON'T WANT" in legend


def test_survey_questions_form_and_the_you_said_page(contexts: Contexts, live: LiveServer) -> None:
    """The Survey section's questions (a refused save with its problems by field), the round
    page's "We did" form, and the public "You said" page before and after the reveal, in
    English and Welsh: axe finds nothing serious."""
    meeting = new_meeting(live)
    assert import_survey(meeting, survey_text()).status_code == 303
    fac = contexts.facilitator()
    fac.goto(f"/console/{meeting.id}/setup#survey-questions")
    axe(fac, "console: set-up, survey questions")
    fac.locator("#cq-0-title").fill("")
    fac.locator("#cq-1-title").fill("Pick some")
    fac.locator("#cq-1-type").select_option("multiple")
    fac.locator("#survey-questions button.btn-primary").first.click()
    expect(fac.locator("#error-summary")).to_be_focused()
    expect(fac.locator("#cq-0-title-error")).to_be_visible()
    axe(fac, "console: set-up, survey questions refused")

    open_survey(meeting)
    for marks in ANSWERS:
        assert Phone(live.browser(), meeting.code).vote(marks).status_code == 200
    meeting.close_round(1)
    public = contexts.phone()
    public.goto(f"/m/{meeting.code}/you-said")
    expect(public.locator("#not-published")).to_be_visible()
    axe(public, "you said: not published yet")
    meeting.reveal(1)
    meeting.post("/rounds/1/we-did", **{"wd-overall-en": "We kept it.", "wd-overall-cy": "Do."})
    fac.goto(f"/console/{meeting.id}/rounds/1#we-did")
    axe(fac, "console: survey round with We did")
    public.goto(f"/m/{meeting.code}/you-said")
    expect(public.locator("#we-did")).to_be_visible()
    axe(public, "you said: published")
    public.goto(f"/m/{meeting.code}/you-said?lang=cy")
    expect(public.locator("html")).to_have_attribute("lang", "cy")
    axe(public, "you said: published, Welsh")


def test_axe_on_a_survey_online_for_a_set_period(contexts: Contexts, live: LiveServer) -> None:
    """A survey online for a set period (tests/browser/test_survey_online.py has it open): the
    phone before its opening and after it ended, the Run page while it waits, in both languages."""
    from datetime import timedelta

    from app.voting.models import utcnow
    from tests.test_survey_online import local_fields
    from tests.test_survey_round import survey_text

    meeting = new_meeting(live)
    meeting.post("/survey/import", text=survey_text())
    opens, closes = utcnow() + timedelta(days=2), utcnow() + timedelta(days=9)
    meeting.post(
        "/rounds/online",
        kind="survey",
        opens="at",
        **local_fields("opens", opens),
        **local_fields("closes", closes),
    )
    phone = contexts.phone()
    open_phone(phone, f"/m/{meeting.code}")
    expect(phone.locator("#online-when")).to_contain_text("This survey opens on")
    axe(phone, "phone: survey online, before it opens")
    phone.goto(f"/m/{meeting.code}?lang=cy")
    expect(phone.locator("#online-when")).to_contain_text("Mae'r arolwg hwn yn agor")
    axe(phone, "phone: survey online, before it opens (Cymraeg)")
    fac = contexts.facilitator()
    fac.goto(f"/console/{meeting.id}")
    expect(fac.locator("#online-period")).to_contain_text("opens online on")
    axe(fac, "console: run page, survey scheduled online")
    meeting.post("/rounds/1/end", confirm="yes")
    phone.goto(f"/m/{meeting.code}?lang=en")
    expect(phone.locator("#online-when")).to_contain_text("This survey closed on")
    axe(phone, "phone: survey online, closed")


def test_the_lab_pages(contexts: Contexts, live: LiveServer) -> None:
    """The Co-Production Lab (issue 16): the phone's idea form (empty, refused, sent; Welsh),
    rating one idea at a time, the console's Lab page (queue with a likely duplicate, the wall,
    results with a rejected idea, the shortlist), the projector's idea wall and the results
    report's Lab section."""
    meeting = new_meeting(live)
    code = meeting.code
    meeting.post("/lab/challenges", title="Fewer empty buses", title_cy="Llai o fysiau gwag")
    fac = contexts.facilitator()
    phone = contexts.phone()
    wall = contexts.desktop(1920, 1080)
    open_phone(phone, f"/m/{code}")
    phone.goto(f"/m/{code}/lab")
    axe(phone, "phone: suggest an idea")
    phone.get_by_role("button", name="Send my idea").click()
    expect(phone.locator("#error-summary")).to_be_visible()
    axe(phone, "phone: suggest an idea, refused")
    for text in ("Share the school bus with the village", "Share the school bus with villages"):
        phone.get_by_label("Your idea, in a sentence").fill(text)
        phone.get_by_label("Redesign", exact=True).check()
        phone.get_by_role("button", name="Send my idea").click()
        expect(phone.get_by_role("status")).to_contain_text("waiting for the facilitator")
    axe(phone, "phone: idea sent")
    phone.goto(f"/m/{code}/lab?lang=cy")
    axe(phone, "phone: suggest an idea, Welsh")
    fac.goto(f"/console/{meeting.id}/lab")
    expect(fac.locator(".lab-queue > li").first).to_contain_text("Likely the same as:")
    axe(fac, "console: Lab, queue with a likely duplicate")
    for _ in range(2):
        fac.locator(".lab-queue > li").first.get_by_role("button", name="Approve").click()
        expect(fac.get_by_role("status")).to_contain_text("approved")
    # Pledging on an approved idea: the hours field, refused out of bounds, then saved.
    phone.goto(f"/m/{code}/lab?lang=en")
    help_with = phone.locator("#help-ideas form").first
    help_with.get_by_label("Hours a month (optional)").fill("500")
    help_with.get_by_role("button", name="I would help make this happen").click()
    expect(phone.locator("#error-summary")).to_contain_text("Hours a month are a whole number")
    axe(phone, "phone: a pledge refused")
    phone.locator("#help-ideas form").first.get_by_label("Hours a month (optional)").fill("6")
    phone.locator("#help-ideas form").first.get_by_role("button").first.click()
    expect(phone.locator("#help-ideas").get_by_role("status")).to_contain_text("Saved")
    axe(phone, "phone: ideas to help with, one pledged")
    phone.goto(f"/m/{code}/lab?lang=cy")
    axe(phone, "phone: ideas to help with, Welsh")
    fac.locator("#wall-h ~ ul li").first.get_by_label("Carer").check()
    fac.locator("#wall-h ~ ul li").first.get_by_role("button", name="Save the groups").click()
    meeting.post("/rounds", kind="lab", keypads="on")
    wall.goto(f"/p/{code}/wall")
    expect(wall.get_by_role("heading", name="Rate this idea")).to_be_visible()
    axe(wall, "projector: idea wall, keypads rating")
    phone.goto(f"/m/{code}/rate?lang=en")
    axe(phone, "phone: rate one idea at a time")
    phone.get_by_role("button", name="Disagree", exact=True).click()
    phone.get_by_role("button", name="Disagree", exact=True).click()
    expect(phone.get_by_role("status")).to_contain_text("You have rated every idea")
    axe(phone, "phone: every idea rated")
    meeting.close_round(1)
    meeting.reveal(1)
    fac.goto(f"/console/{meeting.id}/lab")
    expect(fac.locator("#results-h")).to_be_visible()
    fac.locator("input[name='idea']").first.check()
    fac.get_by_role("button", name="Save the shortlist").click()
    expect(fac.locator("#shortlist-h")).to_be_visible()
    axe(fac, "console: Lab, results and shortlist")
    fac.goto(f"/console/{meeting.id}/lab?lang=cy")
    axe(fac, "console: Lab, Welsh")
    wall.goto(f"/p/{code}/wall?lang=cy")
    axe(wall, "projector: idea wall, Welsh")
    fac.goto(f"/console/{meeting.id}/report?lang=en")
    expect(fac.get_by_role("heading", name="Co-Production Lab")).to_be_visible()
    axe(fac, "console: results report with a Lab section")
    fac.goto(f"/console/{meeting.id}/report.html?lang=cy")
    axe(fac, "results report with a Lab section, Welsh")


def test_axe_on_the_charter_pages_and_the_projectors_decision_line(
    contexts: Contexts, live: LiveServer
) -> None:
    """The Charter page (its versions, a diff, a refused import) and a consent round's results
    on the console and the projector, in English and Welsh: axe finds nothing serious; the
    projector says each wording's outcome in words beside its icon."""
    import json

    from tests.test_charter_room import CHARTER, upload

    meeting = new_meeting(live)
    fac = contexts.facilitator()
    fac.goto(f"/console/{meeting.id}/charter")
    axe(fac, "console: charter, none yet")
    assert upload(meeting, json.dumps(CHARTER)).status_code == 303
    two = json.loads(json.dumps(CHARTER))
    two["sections"][0]["clauses"][0]["text"] = "Carers get a respite break every fortnight."
    two["sections"][0]["clauses"][0]["text_cy"] = "Mae gofalwyr yn cael seibiant bob pythefnos."
    assert upload(meeting, json.dumps(two)).status_code == 303
    for lang in ("en", "cy"):
        fac.goto(f"/console/{meeting.id}/charter?from=1&to=2&lang={lang}")
        expect(fac.locator("#diff-h")).to_be_visible()
        axe(fac, f"console: charter with a diff ({lang})")
    fac.locator("#charter-text").fill('{"format": "covote-charter/1", "title": ""}')
    fac.locator("form[action$='/charter/import'] button").click()
    expect(fac.locator("#error-summary")).to_be_visible()
    axe(fac, "console: charter import refused")

    meeting.post("/rounds", kind="charter", proposal=["respite", "library", "library-fortnight"])
    # The phone: one clause at a time, its amendment on the same screen; Next saves.
    phone = contexts.phone()
    open_phone(phone, f"/m/{meeting.code}?lang=cy")
    first, second = phone.locator("#survey-page-1"), phone.locator("#survey-page-2")
    expect(first).to_be_visible()
    expect(second).to_be_hidden()
    expect(first).to_contain_text("Mae gofalwyr yn cael seibiant bob pythefnos.")  # version 2
    axe(phone, "phone: charter round, first clause (Welsh)")
    phone.locator("input[name='mark:respite'][value='3']").tap()
    phone.locator("[data-survey='next']").tap()
    expect(second).to_be_visible()
    expect(first).to_be_hidden()
    expect(second.locator("input[name='mark:library-fortnight']").first).to_be_visible()
    expect(phone.locator("#survey-progress")).to_contain_text("1 o 2")
    axe(phone, "phone: charter round, a clause with its amendment (Welsh)")
    for marks in ({"respite": "5", "library": "1"}, {"respite": "1", "library-fortnight": "2"}):
        assert Phone(live.browser(), meeting.code).vote(marks).status_code == 200
    meeting.close_round(1)
    meeting.reveal(1)
    for lang in ("en", "cy"):
        fac.goto(f"/console/{meeting.id}/rounds/1?lang={lang}")
        expect(fac.locator(".charter-decision").first).to_be_visible()
        axe(fac, f"console: charter round results ({lang})")
    projector = contexts.desktop(1920, 1080)
    projector.goto(f"/p/{meeting.code}")
    line = projector.locator("[data-proposal='respite'] .charter-decision")
    expect(line).to_contain_text("SENT BACK")
    expect(line).to_contain_text("\u21a9")
    axe(projector, "projector: charter results")
    projector.goto(f"/p/{meeting.code}?lang=cy")
    expect(projector.locator("[data-proposal='respite'] .charter-decision")).to_contain_text(
        "ANFONWYD YN ÔL"
    )


def test_axe_on_the_charter_sign_off_and_a_drawn_signature(
    contexts: Contexts, live: LiveServer
) -> None:
    """The Charter page's sign-off (the form, its pad and who has signed), in English and
    Welsh: axe finds nothing serious; a signature drawn with the mouse is sent and stored."""
    import json

    from tests.test_charter_room import CHARTER, upload

    meeting = new_meeting(live)
    assert upload(meeting, json.dumps(CHARTER)).status_code == 303
    fac = contexts.facilitator()
    fac.goto(f"/console/{meeting.id}/charter?lang=en")
    pad = fac.locator("canvas.signature-pad")
    expect(pad).to_be_visible()
    axe(fac, "console: charter sign-off form")
    fac.locator("#sign-name").fill("Cllr Megan Pritchard")
    fac.locator("#sign-role").fill("Leader")
    fac.locator("#sign-organisation").fill("Ashdown Council")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    fac.mouse.move(box["x"] + 20, box["y"] + 20)
    fac.mouse.down()
    for i in range(1, 10):
        fac.mouse.move(box["x"] + 20 + 30 * i, box["y"] + 20 + (i % 2) * 40)
    fac.mouse.up()
    assert fac.locator("input[name=drawing]").input_value().startswith("M ")
    fac.locator("#sign-form button[type=submit]").click()
    expect(fac.locator("[data-signature]")).to_contain_text("drawn signature")
    for lang in ("en", "cy"):
        fac.goto(f"/console/{meeting.id}/charter?lang={lang}")
        expect(fac.locator("#signoff-h")).to_be_visible()
        axe(fac, f"console: charter signed ({lang})")


def test_axe_on_charter_amendments_and_the_projector_names_them(
    contexts: Contexts, live: LiveServer
) -> None:
    """A phone proposes an amendment (its form, a refusal, its status; English and Welsh); the
    facilitator accepts it in the confirmation dialog; the projector names it "Amendment to
    clause 1" against its clause while the round runs, and marks the wording adopted after."""
    import json

    from tests.test_charter_room import CHARTER, upload

    meeting = new_meeting(live)
    spec = json.loads(json.dumps(CHARTER))
    spec["sections"][0]["clauses"][1]["amendments"] = []
    assert upload(meeting, json.dumps(spec)).status_code == 303
    meeting.post("/charter/amendments/open", open="1")
    phone = contexts.phone()
    open_phone(phone, f"/m/{meeting.code}?lang=en")
    phone.locator("#amend-link a").tap()
    expect(phone.locator("#amend-privacy")).to_contain_text("Do not include personal details")
    axe(phone, "phone: propose an amendment")
    phone.locator("button[type=submit]").tap()
    expect(phone.locator("#error-summary")).to_be_visible()
    expect(phone.locator("#amend-text")).to_have_attribute("aria-invalid", "true")
    axe(phone, "phone: an amendment refused")
    phone.locator("input[name=clause][value=respite]").check()
    phone.locator("#amend-text").fill("Carers get a respite break every fortnight.")
    phone.locator("button[type=submit]").tap()
    expect(phone.locator("#your-amendments")).to_contain_text("waiting for the facilitator")
    phone.goto(f"/m/{meeting.code}/amend?lang=cy")
    expect(phone.locator("#your-amendments")).to_contain_text("Gwelliant i gymal 1")
    axe(phone, "phone: amendments, Welsh")

    fac = contexts.facilitator()
    fac.goto(f"/console/{meeting.id}/charter?lang=en")
    queue = fac.locator(".amendment-queue li").first
    expect(queue).to_contain_text("from a phone")
    axe(fac, "console: charter amendments queue")
    queue.locator("textarea[name=text_cy]").fill("Mae gofalwyr yn cael seibiant bob pythefnos.")
    queue.locator("form[action$='/accept'] button").click()
    dialog = fac.get_by_role("dialog")
    expect(dialog.get_by_role("heading")).to_contain_text("to the vote?")
    dialog.get_by_role("button", name="Yes, accept it").click()
    expect(fac.locator(".amendment-queue li").first).to_have_attribute("data-status", "accepted")
    fac.goto(f"/console/{meeting.id}/charter?lang=cy")
    axe(fac, "console: charter amendments, Welsh")

    key = fac.locator(".amendment-queue li").first.get_attribute("data-amendment")
    meeting.post("/rounds", kind="charter", proposal=["respite", key, "library"])
    projector = contexts.desktop(1920, 1080)
    projector.goto(f"/p/{meeting.code}")
    expect(projector.locator(f"[data-proposal='{key}'] .board-place")).to_have_text(
        "Amendment to clause 1"
    )
    expect(projector.locator("[data-proposal='library'] .board-place")).to_have_text("Clause 2")
    axe(projector, "projector: a charter round with an amendment")
    for respite in ("3", "3", "4"):  # the original: net support 1; the amendment: 3
        voter = Phone(live.browser(), meeting.code)
        assert voter.vote({"respite": respite, key: "1", "library": "1"}).status_code == 200
    meeting.close_round(1)
    meeting.reveal(1)
    projector.goto(f"/p/{meeting.code}")
    chosen = projector.locator(f"[data-proposal='{key}'] .charter-chosen")
    expect(chosen).to_have_text("The wording adopted")
    expect(projector.locator("[data-proposal='respite'] .charter-chosen")).to_have_text(
        "Not the wording adopted"
    )
    expect(projector.locator(f"[data-proposal='{key}'] .charter-place")).to_have_text(
        "Amendment to clause 1"
    )
    axe(projector, "projector: charter results with an amendment")
