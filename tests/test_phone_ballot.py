"""The phone page while a round is open, as the server renders it (the no-JavaScript page and
the fragment the script swaps in): the open-round bar leads, the 'about you' box is collapsed,
and under the items a count of the answered ones in the round's kind's words, with the Save
button the no-JavaScript page needs. The script's side: tests/browser/test_phone.py."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator

import pytest

from app.voting import kinds
from tests.conftest import Meeting, Phone
from tests.test_activity_kinds import RATING, Rating


def text_of(page: str, element_id: str) -> str:
    """The text of the element with this id (one line, no markup), or "" when absent."""
    m = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", m.group(2))).strip() if m else ""


def segments_open(page: str) -> bool:
    m = re.search(r'<details id="segments-box"[^>]*>', page)
    assert m, "no 'about you' box on the page"
    return " open" in m.group(0)


@pytest.fixture
def rating_kind() -> Iterator[Rating]:
    kinds.register(RATING)
    yield RATING
    kinds.unregister(RATING.key)


def test_an_open_round_leads_the_page_and_the_about_you_box_folds(
    meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """No round: no bar, the 'about you' box open and first. A round open: the bar "Round 1 is
    open: vote below" comes before the box, which is collapsed; closed again: the box opens."""
    phone = phones()
    page = phone.c.get(f"/m/{meeting.code}").text
    assert text_of(page, "round-bar") == "" and segments_open(page)
    assert page.index('id="segments"') < page.index('id="ballot"')

    meeting.open_round()
    page = phone.c.get(f"/m/{meeting.code}").text
    assert text_of(page, "round-bar") == "Round 1 is open: vote below"
    assert 'href="#ballot-heading"' in page
    assert page.index('id="round-bar"') < page.index('id="segments"') < page.index('id="ballot"')
    assert not segments_open(page)
    # The fragment the script swaps in carries the bar with the ballot.
    fragment = phone.c.get(f"/m/{meeting.code}/ballot").text
    assert text_of(fragment, "round-bar") == "Round 1 is open: vote below"
    assert fragment.index('id="round-bar"') < fragment.index('id="ballot"')

    meeting.close_round(1)
    page = phone.c.get(f"/m/{meeting.code}").text
    assert text_of(page, "round-bar") == "" and segments_open(page)
    assert text_of(phone.c.get(f"/m/{meeting.code}/ballot").text, "round-bar") == ""


def test_the_no_javascript_ballot_counts_what_is_answered(
    meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Before any answer "0 of 3 answered"; one answer saved by the form: "1 of 3 answered; the
    others count as neutral" and the saved state; all three: "3 of 3 answered". The Save button
    is there (without scripts it is the only way to vote)."""
    meeting.open_round()
    phone = phones()
    page = phone.c.get(f"/m/{meeting.code}").text
    assert text_of(page, "answered") == "0 of 3 answered"
    assert text_of(page, "save-status") == "Not saved yet"
    assert re.search(r'<button class="[^"]*\bbtn-save\b[^"]*" type="submit">Save my vote<', page)
    # The wordings the script recounts with, on the element itself (they follow the kind).
    assert 'data-total="3"' in page
    assert 'data-some="%(answered)s of %(total)s answered; the others count as neutral"' in page
    assert 'data-all="%(answered)s of %(total)s answered"' in page

    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    r = phone.c.post(
        f"/m/{meeting.code}/ballot", data={**form, "mark:library": "want"}, follow_redirects=False
    )
    assert r.status_code == 303
    page = phone.c.get(r.headers["location"]).text
    assert text_of(page, "answered") == "1 of 3 answered; the others count as neutral"
    assert text_of(page, "save-status") == "Your ballot is saved"

    marks = {"library": "want", "respite": "neutral", "toilets": "dont_want"}
    assert phone.vote(marks).status_code == 200
    page = phone.c.get(f"/m/{meeting.code}").text
    assert text_of(page, "answered") == "3 of 3 answered"


def test_a_kind_without_a_default_says_the_others_are_not_answered(
    rating_kind: Rating, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """A rating writes nothing for an item left: its count says so, in its own words (Views),
    counted over the round's items; in Welsh too."""
    meeting.post("/rounds", kind="rating", proposal=["library", "toilets"])
    phone = phones()
    assert phone.vote({"library": "4"}).status_code == 200
    page = phone.c.get(f"/m/{meeting.code}").text
    assert text_of(page, "answered") == "1 of 2 answered; the others are not answered"
    assert "count as neutral" not in page
    assert text_of(page, "round-bar") == "Round 1 is open: vote below"
    welsh = phone.c.get(f"/m/{meeting.code}", params={"lang": "cy"}).text
    assert text_of(welsh, "answered") == "1 o 2 wedi'u hateb; nid yw'r lleill wedi'u hateb"
    assert text_of(welsh, "round-bar") == "Mae rownd 1 ar agor: pleidleisiwch isod"
