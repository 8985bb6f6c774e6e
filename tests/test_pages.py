"""The attendee and projector pages, without JavaScript: join, declare, vote by form, QR."""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.conftest import LiveServer, Meeting, Phone


def form_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def test_voting_works_with_plain_forms(meeting: Meeting, phones: Callable[[], Phone]) -> None:
    """No JavaScript: tick segments, choose marks, submit; the page then says it is saved."""
    meeting.open_round()
    phone = phones()
    page = phone.c.get(f"/m/{meeting.code}").text
    assert "Keep: Mobile library" in page and "Fund: Respite breaks" in page
    r = phone.c.post(
        f"/m/{meeting.code}/segments",
        data={"csrf": phone.csrf, "segment": ["carer", "north"]},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = phone.c.get(f"/m/{meeting.code}").text
    hidden = form_fields(page.split('action="/m/' + meeting.code + '/ballot"')[1])
    r = phone.c.post(
        f"/m/{meeting.code}/ballot",
        data={**hidden, "mark:library": "want", "mark:respite": "dont_want"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "saved=1" in r.headers["location"]
    you = phone.state()["you"]
    assert you["segments"] == ["carer", "north"]
    assert you["ballot"]["marks"] == {"library": "want", "respite": "dont_want"}
    page = phone.c.get(r.headers["location"]).text
    assert re.search(r'value="want"[^>]*checked|checked[^>]*value="want"', page)


def test_a_form_ballot_with_a_bad_mark_shows_an_error_page(
    meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """A tampered form value is refused with a readable page, nothing stored."""
    meeting.open_round()
    phone = phones()
    r = phone.c.post(
        f"/m/{meeting.code}/ballot",
        data={"csrf": phone.csrf, "round": str(phone.round_id()), "mark:library": "maybe"},
    )
    assert r.status_code == 400
    assert "text/html" in r.headers["content-type"] and "maybe" in r.text
    r = phone.c.post(f"/m/{meeting.code}/ballot", data={"csrf": phone.csrf, "mark:library": "want"})
    assert r.status_code == 400 and "round" in r.text
    assert meeting.state()["turnout"]["voted"] == 0


def test_the_ballot_fragment_follows_the_round(
    meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """The section the phone's script swaps in shows the open round, then the closed state."""
    phone = phones()
    assert "Mobile library" not in phone.c.get(f"/m/{meeting.code}/ballot").text
    meeting.open_round("library")
    fragment = phone.c.get(f"/m/{meeting.code}/ballot").text
    assert "Mobile library" in fragment and "Park toilets" not in fragment
    meeting.close_round(1)
    assert 'name="mark:library"' not in phone.c.get(f"/m/{meeting.code}/ballot").text


def test_projector_page_shows_the_code_the_join_link_and_the_qr(
    server: LiveServer, meeting: Meeting
) -> None:
    """The projector carries the short code and join URL; the QR encodes the join URL."""
    client = server.browser()
    page = client.get(f"/p/{meeting.code}").text
    assert meeting.code in page
    assert f"{server.url}/m/{meeting.code}" in page
    qr = client.get(f"/m/{meeting.code}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml"
    assert qr.text.lstrip().startswith("<?xml") or "<svg" in qr.text[:200]
    assert client.get("/m/ZZZZZZ/qr.svg").status_code == 404


def test_join_page_explains_an_empty_or_unknown_code(server: LiveServer) -> None:
    """Typing nothing or a wrong code gets a message, not a blank page."""
    client = server.browser()
    assert "Type the code" in client.get("/join", params={"code": "  "}).text
    r = client.get("/join", params={"code": "QQQQQQ"})
    assert r.status_code == 404 and "QQQQQQ" in r.text


def test_the_projector_page_follows_the_meeting_though_it_is_drawn_once_per_state(
    server: LiveServer, meeting: Meeting
) -> None:
    """The projector page is drawn once per state and language and shared by every viewer:
    each viewer still sees the round as it is now, in their language, and gets a session."""
    import httpx

    with httpx.Client(base_url=server.url) as a, httpx.Client(base_url=server.url) as b:
        first = a.get(f"/p/{meeting.code}")
        assert first.status_code == 200 and "covote" in first.cookies
        assert b.get(f"/p/{meeting.code}").text == first.text
        meeting.open_round()
        opened = b.get(f"/p/{meeting.code}").text
        assert opened != first.text and "Round 1" in opened
        assert a.get(f"/p/{meeting.code}").text == opened
        welsh = a.get(f"/p/{meeting.code}?lang=cy")
        assert welsh.text != opened and welsh.cookies.get("lang") == "cy"
