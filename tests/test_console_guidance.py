"""The console's help choosing R and m (app/rules/guidance.py): the expected attendance on
set-up, the help rendered beside R and m without JavaScript, and guidance.json, which the
set-up page's script asks for the values being typed. The test meeting (tests/conftest.py
MEETING) has R = 2, m = 2 and two segments that can protect (carer, north) besides staff."""

from __future__ import annotations

import html
from collections.abc import Callable

import httpx

from tests.conftest import LiveServer, Meeting, Phone


def save(facilitator: httpx.Client, meeting: Meeting, **fields: str) -> httpx.Response:
    data = {"csrf": meeting.csrf, "title": "Test budget", "ratio": "2", "group_min": "2"}
    return facilitator.post(f"/console/{meeting.id}/settings", data={**data, **fields})


def setup_text(facilitator: httpx.Client, meeting: Meeting) -> str:
    return html.unescape(facilitator.get(f"/console/{meeting.id}/setup").text)


def test_the_expected_attendance_is_saved_and_the_help_uses_it(
    facilitator: httpx.Client, meeting: Meeting
) -> None:
    """Saved with 5 people and m = 5, the set-up page (no JavaScript needed) says what a
    rejection takes for 5 voters and warns that m is beyond a typical group (5 people in 2
    protecting segments); emptied again, the help is general and the warning goes."""
    page = setup_text(facilitator, meeting)
    assert 'name="expected_attendance"' in page
    assert "more than half of those who vote say DON'T WANT" in page
    assert "typical group" not in page

    r = save(facilitator, meeting, group_min="5", expected_attendance="5")
    assert r.status_code == 303, r.text[:300]
    page = setup_text(facilitator, meeting)
    assert 'id="s-expected" name="expected_attendance" type="number" min="1"' in page
    assert 'value="5" aria-describedby="rule-help"' in page
    assert "For an expected attendance of 5: if all 5 vote" in page
    assert "at least 3 of them say DON'T WANT" in page
    assert "m = 5 is more than a typical group is likely to be" in page
    assert "5 people shared among 2 segments that can protect" in page

    save(facilitator, meeting, group_min="5", expected_attendance="")
    page = setup_text(facilitator, meeting)
    assert "For an expected attendance" not in page and "typical group" not in page


def test_a_form_without_the_field_leaves_the_attendance_as_it_was(
    facilitator: httpx.Client, meeting: Meeting
) -> None:
    """An older page's form (no expected_attendance field) changes R and m, not the attendance."""
    save(facilitator, meeting, expected_attendance="60")
    save(facilitator, meeting, group_min="3")
    assert "For an expected attendance of 60" in setup_text(facilitator, meeting)


def test_a_bad_attendance_is_refused_with_a_reason(
    facilitator: httpx.Client, meeting: Meeting
) -> None:
    """0, a fraction or a word is a 400 naming the field and its range; nothing is saved."""
    for bad in ("0", "2.5", "many", "1000001"):
        r = save(facilitator, meeting, expected_attendance=bad)
        assert r.status_code == 400, bad
        assert "The expected attendance must be a whole number from 1 to 1000000" in r.text
    assert "For an expected attendance" not in setup_text(facilitator, meeting)


def test_the_attendance_may_change_after_voting_starts(
    facilitator: httpx.Client, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """The attendance only feeds the help, not the count: it can still be saved once voting
    has started (the rule itself stays fixed), and the help is still shown."""
    meeting.open_round("library")
    phones().vote({"library": "want"})
    r = save(facilitator, meeting, expected_attendance="40")
    assert r.status_code == 303, r.text[:300]
    page = setup_text(facilitator, meeting)
    assert "For an expected attendance of 40" in page
    assert 'aria-describedby="rule-help rule-fixed"' in page


def test_guidance_json_answers_for_the_typed_values(
    facilitator: httpx.Client, meeting: Meeting
) -> None:
    """The typed R, m and attendance, not the saved ones: 60 people, R = 3, m = 31 in 2
    protecting segments (30 each) warns; a field left out is the saved value."""
    url = f"/console/{meeting.id}/setup/guidance.json"
    r = facilitator.get(url, params={"ratio": "3", "group_min": "31", "expected_attendance": "60"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"explanation", "warnings"}
    assert "at least 31 of them say DON'T WANT" in body["explanation"][0]
    assert "at least 3 DON'T WANTs for every WANT" in body["explanation"][0]
    assert "at least 31 of its members WANT it" in body["explanation"][1]
    assert len(body["warnings"]) == 1 and "about 30 per group" in body["warnings"][0]

    body = facilitator.get(url, params={"group_min": "1", "expected_attendance": ""}).json()
    assert "at least 2 DON'T WANTs for every WANT" in body["explanation"][0]  # the saved R
    assert [w[:14] for w in body["warnings"]] == ["With m = 1 a s"]


def test_guidance_json_speaks_welsh_and_refuses_bad_values(
    facilitator: httpx.Client, meeting: Meeting
) -> None:
    """The browser's language chooses the words; a value the form would refuse is a 400."""
    url = f"/console/{meeting.id}/setup/guidance.json"
    body = facilitator.get(url, params={"expected_attendance": "60", "lang": "cy"}).json()
    assert body["explanation"][0].startswith("Ar gyfer presenoldeb disgwyliedig o 60")
    for bad in ({"ratio": "0"}, {"group_min": "x"}, {"expected_attendance": "-3"}):
        assert facilitator.get(url, params={**bad, "lang": "en"}).status_code == 400, bad


def test_guidance_json_is_the_facilitator_s_only(server: LiveServer, meeting: Meeting) -> None:
    """A browser without the facilitator link gets no help (403), like the set-up page."""
    r = server.browser().get(f"/console/{meeting.id}/setup/guidance.json")
    assert r.status_code == 403
