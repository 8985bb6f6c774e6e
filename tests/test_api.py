"""The attendees' JSON API: joining, segments, ballots, and every way a request can be wrong."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import LiveServer, Meeting, Phone


def test_a_voter_can_change_their_ballot_until_the_round_closes(
    meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """The last ballot before the close counts; there is still one ballot per voter."""
    meeting.open_round()
    phone = phones()
    assert phone.vote({"library": "want"}).status_code == 200
    assert phone.vote({"library": "dont_want", "toilets": "want"}).status_code == 200
    assert meeting.state()["turnout"]["voted"] == 1
    assert phone.state()["you"]["ballot"]["marks"] == {"library": "dont_want", "toilets": "want"}
    meeting.close_round(1)
    r = phone.vote({"library": "want"})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "round_closed"
    meeting.reveal(1)
    library = phone.state()["results"]["proposals"][0]
    assert (library["id"], library["W"], library["D"]) == ("library", 0, 1)


def test_reloading_the_page_keeps_the_same_voter(
    meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """The signed voter cookie restores the attendee: no second voter, ballot intact."""
    meeting.open_round()
    phone = phones()
    phone.vote({"respite": "want"})
    before = phone.state()["you"]
    Phone(phone.c, meeting.code)  # open the join link again in the same browser
    after = phone.state()["you"]
    assert after["voter"] == before["voter"]
    assert after["ballot"]["marks"] == {"respite": "want"}
    assert meeting.state()["turnout"]["present"] == 1


def test_segments_are_fixed_once_the_voter_has_voted(
    meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Declaring segments works before voting; changing them afterwards is refused."""
    meeting.open_round()
    phone = phones()
    assert phone.segments("carer", "north").json() == {"segments": ["carer", "north"]}
    phone.vote({"library": "want"})
    r = phone.segments("carer")
    assert r.status_code == 409
    assert "fixed" in r.json()["error"]["message"]
    assert phone.state()["you"]["segments"] == ["carer", "north"]


def test_unknown_segment_is_refused(meeting: Meeting, phones: Callable[[], Phone]) -> None:
    """A segment the meeting does not have is a 400 naming it."""
    r = phones().segments("martians")
    assert r.status_code == 400
    assert "martians" in r.json()["error"]["message"]


@pytest.mark.parametrize(
    ("marks", "status", "code"),
    [
        ({"nope": "want"}, 400, "bad_input"),
        ({"library": "maybe"}, 400, "bad_input"),
        ({}, 400, "bad_input"),
    ],
)
def test_bad_ballots_are_refused_with_a_reason(
    meeting: Meeting, phones: Callable[[], Phone], marks: dict[str, str], status: int, code: str
) -> None:
    """Unknown proposal, bad mark or empty ballot: a JSON error and nothing stored."""
    meeting.open_round()
    r = phones().vote(marks)
    assert r.status_code == status
    assert r.json()["error"]["code"] == code and r.json()["error"]["message"]
    assert meeting.state()["turnout"]["voted"] == 0


def test_ballot_for_an_unknown_round_is_not_found(
    meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """A round id that is not this meeting's is a 404."""
    meeting.open_round()
    r = phones().vote({"library": "want"}, round_id=999)
    assert r.status_code == 404


def test_malformed_json_body_is_a_400(meeting: Meeting, phones: Callable[[], Phone]) -> None:
    """A body that is not JSON gets a JSON error, not a crash."""
    phone = phones()
    r = phone.c.post(
        f"/api/m/{meeting.code}/ballot",
        content=b"{not json",
        headers={"X-Covote-CSRF": phone.csrf, "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "bad_input"


def test_changes_without_the_csrf_header_are_refused(
    meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """A cross-site page cannot cast a ballot with the voter's cookie."""
    meeting.open_round()
    phone = phones()
    r = phone.c.post(
        f"/api/m/{meeting.code}/ballot",
        json={"ballot_id": "abcdefgh12", "round": phone.round_id(), "marks": {"library": "want"}},
    )
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "csrf_failed"


def test_a_ballot_from_a_browser_that_never_joined_is_refused(
    server: LiveServer, meeting: Meeting
) -> None:
    """Without the voter cookie there is no voter, whatever the body says."""
    meeting.open_round()
    stranger = server.browser()
    stranger.get("/")  # gets a session and CSRF token but never opens the join link
    html = stranger.get("/").text
    import re

    token = re.search(r'name="csrf" value="([^"]+)"', html)
    headers = {"X-Covote-CSRF": token.group(1)} if token else {}
    r = stranger.post(
        f"/api/m/{meeting.code}/ballot",
        json={"ballot_id": "abcdefgh12", "round": 1, "marks": {"library": "want"}},
        headers=headers,
    )
    assert r.status_code == 403


def test_oversized_body_is_refused_with_413(server: LiveServer, meeting: Meeting) -> None:
    """A body over the limit is refused before the app parses it."""
    client = server.browser()
    limit = server.app.state.services.settings.max_body_bytes
    r = client.post(
        f"/api/m/{meeting.code}/ballot",
        content=b"x" * (limit + 1),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"


def test_unknown_meeting_code_is_a_404_with_a_message(server: LiveServer) -> None:
    """Both the API and the phone page explain an unknown code."""
    client = server.browser()
    r = client.get("/api/m/ZZZZZZ")
    assert r.status_code == 404
    assert "ZZZZZZ" in r.json()["error"]["message"]
    page = client.get("/m/ZZZZZZ")
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]
    assert "ZZZZZZ" in page.text


def test_join_by_typed_code_is_forgiving_about_case_and_spaces(
    server: LiveServer, meeting: Meeting
) -> None:
    """'ab c123' typed on a phone finds meeting ABC123."""
    client = server.browser()
    typed = f" {meeting.code[:3].lower()} {meeting.code[3:].lower()} "
    r = client.get("/join", params={"code": typed}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/m/{meeting.code}"
