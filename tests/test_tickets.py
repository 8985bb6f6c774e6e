"""Voter tickets (admission "tickets"): one ticket is one voter on whichever channel it is used,
a second device needs the facilitator's approval, revoked and replaced tickets stop working,
and a voter never gets a second ballot in a round, whatever the channel."""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import MEETING, LiveServer, Meeting, Phone, Socket
from tests.test_keypads import capture, eventually
from tests.test_keypads import status as status_of
from tests.test_paper import key_both

TICKETS = {**copy.deepcopy(MEETING), "voting": {"admission": "tickets"}}
PSEUDONYM = re.compile(r"\bv-[0-9a-f]{10}\b")
MOVED = "This ticket has moved to another device. Ask the facilitator."


@pytest.fixture
def tm(facilitator: httpx.Client) -> Meeting:
    """A meeting that admits voters by ticket."""
    return Meeting(facilitator, TICKETS)


def issue(m: Meeting, count: int) -> None:
    m.post("/tickets", count=str(count))


def codes(m: Meeting, query: str = "from=1") -> dict[int, str]:
    """Ticket number -> code ("ABCD-EFGH"), read off the print sheet."""
    sheet = m.f.get(f"/console/{m.id}/tickets/print?{query}")
    assert sheet.status_code == 200, sheet.text
    found = re.findall(
        r'Ticket No\. (\d+)</p>\s*<p class="ticket-code">([A-Z0-9]{4}-[A-Z0-9]{4})<', sheet.text
    )
    return {int(n): code for n, code in found}


def redeem(client: httpx.Client, code: str) -> httpx.Response:
    """Open the ticket's link (what its QR code does) and press the button on that page."""
    page = client.get(f"/t/{code}")
    if page.status_code != 200:
        return page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf, page.text
    return client.post(f"/t/{code}", data={"csrf": csrf.group(1)}, follow_redirects=False)


def holder(server: LiveServer, m: Meeting, code: str, **headers: str) -> Phone:
    """A new browser that has redeemed `code` and opened the phone page."""
    client = server.browser()
    client.headers.update(headers)
    r = redeem(client, code)
    assert r.status_code == 303 and r.headers["location"] == f"/m/{m.code}", r.text
    return Phone(client, m.code)


def present(m: Meeting) -> int:
    return int(m.state()["turnout"]["present"])


def ballot_rows(m: Meeting) -> list[dict[str, str]]:
    text = m.f.get(f"/console/{m.id}/export/ballots.csv").text
    return list(csv.DictReader(io.StringIO(text)))


def audit_links(m: Meeting) -> list[dict[str, Any]]:
    text = m.f.get(f"/console/{m.id}/export/audit.jsonl").text
    return [json.loads(line) for line in text.splitlines()]


def cast(ws: Socket, round_id: int, marks: dict[str, str], ballot_id: str = "") -> None:
    ballot = {"ballot_id": ballot_id or uuid.uuid4().hex, "round": round_id, "marks": marks}
    ws.send({"type": "cast", **ballot})


def error_of(r: httpx.Response) -> tuple[int, str, str]:
    body = r.json()["error"]
    return r.status_code, body["code"], body["message"]


def test_issued_tickets_print_as_cards_with_qr_codes_and_no_pseudonyms(
    server: LiveServer, tm: Meeting
) -> None:
    """Issue 5: the A4 sheet shows 5 distinct codes and QR codes; numbers carry on; no voter."""
    issue(tm, 5)
    sheet = tm.f.get(f"/console/{tm.id}/tickets/print").text
    cards = codes(tm, "")
    assert sorted(cards) == [1, 2, 3, 4, 5] and len(set(cards.values())) == 5
    assert sheet.count("<svg") == 5 and "@page" not in sheet  # the print CSS is a file
    assert f"open {server.url} and type {tm.code}, then this ticket code" in sheet
    assert "One ticket = one vote. Keep it private." in sheet
    assert "/static/print/tickets_print.js" in sheet and "<script>" not in sheet
    css = tm.f.get("/static/print/tickets_print.css").text
    assert "@page { size: A4; margin: 10mm; }" in css and "page-break-inside: avoid" in css

    holder(server, tm, cards[1])  # ticket 1 now has a voter
    issue(tm, 3)
    assert sorted(codes(tm, "")) == [2, 3, 4, 5, 6, 7, 8]  # by default: the unused ones
    assert sorted(codes(tm, "from=1&to=3")) == [1, 2, 3]
    for page in (f"/console/{tm.id}/tickets/print?from=1", f"/console/{tm.id}/tickets"):
        assert not PSEUDONYM.search(tm.f.get(page).text), page
    listing = tm.f.get(f"/console/{tm.id}/tickets").text
    assert "7 unused, 1 used, 0 revoked" in listing
    assert cards[1] not in listing  # codes are only on the print sheet

    for count in ("0", "501", "many"):
        r = tm.f.post(f"/console/{tm.id}/tickets", data={"csrf": tm.csrf, "count": count})
        assert r.status_code == 400, count
    r = tm.f.get(f"/console/{tm.id}/tickets/print?from=4&to=2")
    assert r.status_code == 400 and "must not be after" in r.text


def test_a_ticket_votes_by_phone_and_a_browser_without_one_never_becomes_a_voter(
    server: LiveServer, tm: Meeting
) -> None:
    """No voter without a ticket (page, API, socket); a redeemed ticket votes, from home too."""
    issue(tm, 3)
    cards = codes(tm)
    tm.open_round()
    stranger = Phone(server.browser(), tm.code)
    page = stranger.c.get(f"/m/{tm.code}").text
    assert "Type the code on your ticket" in page and "This meeting uses tickets" in page
    refused = stranger.vote({"library": "want"})
    assert error_of(refused)[:2] == (403, "not_joined") and "ticket" in error_of(refused)[2]
    joined = stranger.c.post(f"/api/m/{tm.code}/join", headers={"X-Covote-CSRF": stranger.csrf})
    assert error_of(joined)[:2] == (403, "not_joined")
    with Socket(server, tm.code, stranger.c) as ws:
        ws.until(lambda m: m["type"] == "snapshot")
        cast(ws, stranger.round_id(), {"library": "want"})
        frame = ws.until(lambda m: m["type"] == "error")
        assert frame["code"] == "not_joined" and "ticket" in frame["message"]
    assert present(tm) == 0

    phone = holder(server, tm, cards[1])
    assert present(tm) == 1
    assert phone.vote({"library": "want"}).status_code == 200
    again = phone.c.get(f"/t/{cards[1]}", follow_redirects=False)  # the same phone again
    assert again.status_code == 303 and again.headers["location"] == f"/m/{tm.code}"

    # Typed by hand, in lower case with a space, from a computer at home.
    home = server.browser()
    home.headers["X-Forwarded-For"] = "81.2.69.142"
    form_page = home.get(f"/m/{tm.code}").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form_page)
    assert csrf
    typed = cards[2].lower().replace("-", " ")
    r = home.post("/t", data={"csrf": csrf.group(1), "code": typed}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/m/{tm.code}"
    assert Phone(home, tm.code).vote({"respite": "dont_want"}).status_code == 200
    assert present(tm) == 2
    assert {(row["proposal"], row["mark"]) for row in ballot_rows(tm)} >= {
        ("library", "want"),
        ("respite", "dont_want"),
    }
    # One voter per channel (< m) is merged in the public file (README, Anonymity); the turnout
    # keeps the totals per channel.
    by_channel = tm.state()["turnout"]["by_channel"]
    assert (by_channel.get("phone"), by_channel.get("remote")) == (1, 1)
    listing = tm.f.get(f"/console/{tm.id}/tickets").text
    assert "1 unused, 2 used" in listing and "<td>online</td>" in listing


def test_a_second_device_waits_for_approval_then_takes_the_voter_over(
    server: LiveServer, tm: Meeting
) -> None:
    """The ticket on a second phone: no new voter, a waiting page; once approved the second
    phone votes for the same voter and the first one (page, API, open socket) is refused."""
    issue(tm, 2)
    code = codes(tm)[1]
    tm.open_round()
    first = holder(server, tm, code)
    assert first.vote({"library": "want"}).status_code == 200

    second = Phone(server.browser(), tm.code)
    offer = second.c.get(f"/t/{code}").text
    assert "already in use on another device" in offer
    r = redeem(second.c, code)
    assert r.status_code == 303 and r.headers["location"] == f"/t/{code.replace('-', '')}"
    waiting = second.c.get(r.headers["location"])
    assert waiting.status_code == 200
    assert (
        "Show this screen to the facilitator: ticket No. 1 is waiting for approval." in waiting.text
    )
    # It moves on by itself: quietly with JavaScript, by reloading without.
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in waiting.text
    assert '<script src="/static/phone/ticket.js" defer></script>' in waiting.text
    check = re.search(r'<strong class="code">([A-Z0-9]{4})</strong>', waiting.text)
    assert check
    assert present(tm) == 1
    assert error_of(second.vote({"library": "dont_want"}))[:2] == (403, "not_joined")
    console = tm.f.get(f"/console/{tm.id}/tickets").text
    assert "Waiting for your approval" in console and check.group(1) in console

    with Socket(server, tm.code, first.c) as old_socket:
        old_socket.until(lambda m: m["type"] == "snapshot")
        tm.post("/tickets/1/approve")
        moved = second.c.get(f"/t/{code}", follow_redirects=False)
        assert moved.status_code == 303 and moved.headers["location"] == f"/m/{tm.code}"
        second = Phone(second.c, tm.code)
        assert second.vote({"library": "dont_want"}).status_code == 200
        cast(old_socket, second.round_id(), {"library": "want"})
        frame = old_socket.until(lambda m: m["type"] == "error")
        assert (frame["code"], frame["message"]) == ("not_joined", MOVED)
    assert error_of(first.vote({"library": "want"})) == (403, "not_joined", MOVED)
    assert MOVED in first.c.get(f"/m/{tm.code}").text
    assert present(tm) == 1
    rows = ballot_rows(tm)
    assert len({row["voter"] for row in rows}) == 1
    assert [row["mark"] for row in rows if row["proposal"] == "library"] == ["dont_want"]
    r = tm.f.post(f"/console/{tm.id}/tickets/1/approve", data={"csrf": tm.csrf})
    assert r.status_code == 409 and "No device is waiting for ticket No. 1" in r.text


def test_a_keypad_or_paper_voters_ticket_typed_on_a_phone_waits_for_approval(
    server: LiveServer, tm: Meeting
) -> None:
    """Issue 11: the card of a voter on a keypad or on paper, typed on a phone, only asks to take
    the voter over: a waiting page, no ballot and no sign-in until the facilitator approves."""
    issue(tm, 3)
    cards = codes(tm)
    tm.post("/tickets/checkin", ticket="1", keypad="wedge:7", label="K7")
    tm.open_round()
    key_both(tm, 1, {"library": "want"}, ticket=2)
    tm.post("/rounds/1/paper/count")
    eventually(lambda: present(tm) == 2)
    for number in (1, 2):
        code = cards[number]
        assert "already in use" in server.browser().get(f"/t/{code}").text
        thief = server.browser()
        r = redeem(thief, code)
        assert r.status_code == 303 and r.headers["location"] == f"/t/{code.replace('-', '')}"
        waiting = thief.get(r.headers["location"], follow_redirects=False)
        assert waiting.status_code == 200 and "waiting for approval" in waiting.text
        phone = Phone(thief, tm.code)
        assert error_of(phone.vote({"respite": "want"}))[:2] == (403, "not_joined")
        assert f"/m/{tm.code}" not in thief.get(f"/t/{code}", follow_redirects=False).headers.get(
            "location", ""
        )
        assert present(tm) == 2
        console = tm.f.get(f"/console/{tm.id}/tickets").text
        assert "Waiting for your approval" in console
        tm.post(f"/tickets/{number}/approve")
        moved = thief.get(f"/t/{code}", follow_redirects=False)
        assert moved.status_code == 303 and moved.headers["location"] == f"/m/{tm.code}"
    assert present(tm) == 2
    assert [link["data"] for link in audit_links(tm) if link["kind"] == "ticket.device_moved"] == [
        {"number": 1},
        {"number": 2},
    ]


def test_a_refused_device_is_told_and_stays_out(server: LiveServer, tm: Meeting) -> None:
    """Refusing the request leaves the ticket where it was; the second browser is told."""
    issue(tm, 1)
    code = codes(tm)[1]
    tm.open_round()
    first = holder(server, tm, code)
    second = server.browser()
    redeem(second, code)
    tm.post("/tickets/1/refuse")
    page = second.get(f"/t/{code}").text
    assert "The facilitator did not move this ticket to this device." in page
    assert "waiting for approval" not in page
    assert error_of(Phone(second, tm.code).vote({"library": "want"}))[:2] == (403, "not_joined")
    assert first.vote({"library": "want"}).status_code == 200
    assert present(tm) == 1
    assert not any(link["kind"] == "ticket.device_moved" for link in audit_links(tm))


def test_a_revoked_ticket_stops_working_on_every_channel(server: LiveServer, tm: Meeting) -> None:
    """Revoked: its voter's ballots are refused and nobody can redeem it; nothing is created."""
    issue(tm, 2)
    cards = codes(tm)
    tm.open_round()
    phone = holder(server, tm, cards[1])
    assert phone.vote({"library": "want"}).status_code == 200
    tm.post("/tickets/1/revoke", confirm="yes")
    tm.post("/tickets/manage", number="2", action="revoke", confirm="yes")  # never used
    status, code, message = error_of(phone.vote({"library": "dont_want"}))
    assert (status, code) == (403, "not_joined") and "revoked" in message
    assert "This ticket was revoked; ask the facilitator." in phone.c.get(f"/m/{tm.code}").text
    for number in (1, 2):  # answered exactly like a wrong code: no oracle for real codes
        r = redeem(server.browser(), cards[number])
        assert r.status_code == 404
        assert f"No usable ticket has the code {cards[number]}." in r.text
    assert present(tm) == 0
    r = tm.f.post(
        f"/console/{tm.id}/tickets/checkin",
        data={"csrf": tm.csrf, "ticket": "2", "keypad": "wedge:9", "label": "K9"},
    )
    assert r.status_code == 409 and "revoked" in r.text
    r = tm.f.post(f"/console/{tm.id}/tickets/1/revoke", data={"csrf": tm.csrf, "confirm": "yes"})
    assert r.status_code == 409 and "already revoked" in r.text
    assert tm.state()["turnout"]["registered"] == 0


def test_a_reissued_ticket_takes_over_the_same_voter_and_the_audit_log_names_numbers_only(
    server: LiveServer, tm: Meeting
) -> None:
    """A lost phone: the new ticket votes for the same voter (one ballot in ballots.csv), the
    old card and the old phone stop; the audit log has the changes but no code or pseudonym."""
    issue(tm, 3)
    cards = codes(tm)
    tm.open_round()
    lost = holder(server, tm, cards[2])
    assert lost.vote({"library": "want", "toilets": "want"}).status_code == 200
    tm.post("/tickets/2/reissue", confirm="yes")
    new_code = codes(tm, "from=4&to=4")[4]
    assert error_of(lost.vote({"library": "want"})) == (403, "not_joined", MOVED)
    assert redeem(server.browser(), cards[2]).status_code == 404
    found = holder(server, tm, new_code)
    assert found.vote({"library": "dont_want"}).status_code == 200
    assert present(tm) == 1
    rows = ballot_rows(tm)
    assert len({row["voter"] for row in rows}) == 1
    assert {row["proposal"]: row["mark"] for row in rows}["library"] == "dont_want"
    listing = tm.f.get(f"/console/{tm.id}/tickets").text
    assert "<td>No. 4</td>" in listing and "<td>No. 2</td>" in listing  # replaced by / replaces
    r = tm.f.post(f"/console/{tm.id}/tickets/2/reissue", data={"csrf": tm.csrf, "confirm": "yes"})
    assert r.status_code == 409 and "cannot be reissued" in r.text
    tm.post("/tickets/3/revoke", confirm="yes")
    assert tm.state()["turnout"]["registered"] == 2  # tickets 1 and 4

    links = audit_links(tm)
    ticket_links = [link for link in links if link["kind"].startswith("ticket")]
    assert [(link["kind"], link["data"]) for link in ticket_links] == [
        ("tickets.issued", {"from": 1, "to": 3}),
        ("ticket.reissued", {"old": 2, "new": 4}),
        ("ticket.revoked", {"number": 3}),
    ]
    text = "\n".join(json.dumps(link) for link in links)
    for code in [*cards.values(), new_code]:
        assert code not in text and code.replace("-", "") not in text
    for link in links:
        numbered = {"number", "from", "to", "old", "new"} & set(link["data"])
        assert not (numbered and PSEUDONYM.search(json.dumps(link["data"]))), link


def test_a_keypad_checked_in_ticket_votes_only_by_keypad(server: LiveServer, tm: Meeting) -> None:
    """Check-in binds a keypad to the ticket's voter: under one_channel its phone ballots are
    refused, saying so, and its keypad presses count; an unused ticket gets a keypad voter."""
    issue(tm, 3)
    cards = codes(tm)
    phone = holder(server, tm, cards[1])
    r = tm.post("/tickets/checkin", ticket=cards[1].lower(), keypad="wedge:7", label="K7")
    page = tm.f.get(r.headers["location"]).text
    assert "Ticket No. 1 now votes with keypad K7" in page and "phone ballots are refused" in page
    assert "keypad K7" in page.split("All tickets")[1]
    tm.post("/tickets/checkin", ticket="2", keypad="wedge:8", label="K8")
    assert present(tm) == 2

    tm.post("/rounds", proposal=["library"], keypads="on")
    status, code, message = error_of(phone.vote({"library": "want"}))
    assert (status, code) == (409, "conflict") and "keypad" in message
    capture(tm, "7 2")
    capture(tm, "8 1")
    eventually(lambda: tm.state()["turnout"]["voted"] == 2)
    rows = ballot_rows(tm)
    assert sorted((row["channel"], row["mark"]) for row in rows) == [
        ("keypad", "dont_want"),
        ("keypad", "want"),
    ]

    for data, status_code, words in (
        ({"ticket": "99", "keypad": "wedge:5", "label": "K5"}, 404, "no ticket No. 99"),
        ({"ticket": "3", "keypad": "wedge:7", "label": "K5"}, 409, "already registered"),
        ({"ticket": "1", "keypad": "wedge:5", "label": "K5"}, 409, "already holds keypad K7"),
        ({"ticket": "ZZZ", "keypad": "wedge:5", "label": "K5"}, 400, "not a ticket code"),
    ):
        r = tm.f.post(f"/console/{tm.id}/tickets/checkin", data={"csrf": tm.csrf, **data})
        assert r.status_code == status_code and words in r.text, (data, r.text)


def test_under_the_latest_policy_a_later_channel_replaces_the_ballot(
    server: LiveServer, facilitator: httpx.Client
) -> None:
    """channel_policy "latest": the keypad press replaces the phone ballot; still one row."""
    spec = {
        **copy.deepcopy(MEETING),
        "voting": {"admission": "tickets", "channel_policy": "latest"},
    }
    m = Meeting(facilitator, spec)
    issue(m, 1)
    code = codes(m)[1]
    phone = holder(server, m, code)
    m.post("/tickets/checkin", ticket="1", keypad="wedge:3", label="K3")
    m.post("/rounds", proposal=["library"], keypads="on")
    assert phone.vote({"library": "want"}).status_code == 200
    capture(m, "3 2")
    eventually(lambda: m.state()["turnout"]["by_channel"].get("keypad") == 1)
    assert [r["mark"] for r in ballot_rows(m)] == ["dont_want"]
    assert m.state()["turnout"]["by_channel"].get("phone", 0) == 0
    assert m.state()["turnout"]["voted"] == 1


def test_wrong_ticket_codes_get_clear_errors(server: LiveServer, tm: Meeting) -> None:
    """Unknown, malformed and empty codes say what is wrong; a ticket typed as a meeting code
    on the join page leads to the ticket."""
    issue(tm, 1)
    code = codes(tm)[1]
    browser = server.browser()
    r = browser.get("/t/ACDE-FG34")
    assert r.status_code == 404 and "No usable ticket has the code ACDE-FG34" in r.text
    r = browser.get("/t/hello")
    assert r.status_code == 400 and "hello is not a ticket code" in r.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', r.text)
    assert csrf  # the error page asks for the code again
    r = browser.post("/t", data={"csrf": csrf.group(1), "code": "  "})
    assert r.status_code == 400 and "Type the code on your ticket." in r.text
    r = browser.post("/t", data={"code": code})
    assert r.status_code == 403  # no CSRF token
    r = browser.get(f"/join?code={code}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/t/{code.replace('-', '')}"
    assert present(tm) == 0


def test_tickets_need_a_tickets_meeting_and_the_facilitator(
    server: LiveServer, meeting: Meeting, tm: Meeting
) -> None:
    """An open meeting refuses to issue tickets; console ticket routes are facilitator-only
    and their forms carry the CSRF token."""
    r = meeting.f.post(f"/console/{meeting.id}/tickets", data={"csrf": meeting.csrf, "count": "5"})
    assert r.status_code == 409 and "Switch admission to tickets in Set-up first" in r.text
    stranger = server.browser()
    for path in ("", "/print"):
        assert stranger.get(f"/console/{tm.id}/tickets{path}").status_code == 403
    for path in ("", "/checkin", "/1/revoke", "/1/approve"):
        assert stranger.post(f"/console/{tm.id}/tickets{path}", data={}).status_code == 403
    r = tm.f.post(f"/console/{tm.id}/tickets", data={"count": "5"})
    assert r.status_code == 403 and "csrf_failed" in r.text
    r = tm.f.post(f"/console/{tm.id}/tickets/1/frobnicate", data={"csrf": tm.csrf})
    assert r.status_code == 400 and "Unknown ticket action" in r.text
    r = tm.f.post(f"/console/{tm.id}/tickets/manage", data={"csrf": tm.csrf, "action": "revoke"})
    assert r.status_code == 400 and "ticket number must be a whole number" in r.text
    assert codes(tm) == {}


def test_a_ballot_through_the_ticket_holders_socket_counts_once(
    server: LiveServer, tm: Meeting
) -> None:
    """The phone's socket votes for the ticket's voter; a resend changes nothing."""
    issue(tm, 1)
    tm.open_round()
    phone = holder(server, tm, codes(tm)[1])
    with Socket(server, tm.code, phone.c) as ws:
        snap = ws.until(lambda m: m["type"] == "snapshot")
        ballot_id = uuid.uuid4().hex
        for _ in range(2):
            cast(ws, snap["round"]["id"], {"toilets": "want"}, ballot_id)
            ws.until(lambda m: m["type"] == "ack")
    assert tm.state()["turnout"]["voted"] == 1


def test_in_a_tickets_meeting_a_keypad_votes_only_through_a_ticket(
    server: LiveServer, tm: Meeting
) -> None:
    """Issue 11: register, CSV import, roll call and auto-enrol are refused in a tickets meeting
    (each saying to check the keypad in with a ticket); check-in still works."""
    console = f"/console/{tm.id}/keypads"
    for path, data, files in (
        ("/register", {"keypad": "wedge:5", "label": "K5"}, None),
        ("/import", {}, {"file": ("kp.csv", b"keypad,label,segments\nwedge:5,K5,\n", "text/csv")}),
        ("/rollcall", {"label": "Seat 5"}, None),
        ("/auto-enrol", {"on": "on"}, None),
    ):
        r = tm.f.post(console + path, data={"csrf": tm.csrf, **data}, files=files)
        assert r.status_code == 409 and "admits voters by ticket" in r.text, (path, r.text)
    page = tm.f.get(console).text  # the page offers no way round the tickets
    assert "Check each keypad in with its holder&#39;s ticket on the Tickets page" in page
    for form in ("register", "import", "rollcall", "auto-enrol"):
        assert f'action="/console/{tm.id}/keypads/{form}"' not in page, form
    tm.post("/rounds", proposal=["library"], keypads="on")
    capture(tm, "5 1")
    eventually(lambda: any(a["kind"] == "unknown_keypad" for a in status_of(tm)["alerts"]))
    assert present(tm) == 0 and tm.state()["turnout"]["registered"] == 0
    issue(tm, 1)
    tm.post("/tickets/checkin", ticket="1", keypad="wedge:5", label="K5")
    capture(tm, "5 1")
    eventually(lambda: tm.state()["turnout"]["voted"] == 1)


def test_auto_enrol_set_before_a_switch_to_tickets_is_ignored_by_the_desk(
    server: LiveServer, facilitator: httpx.Client
) -> None:
    """Auto-enrol switched on while open, then admission switched to tickets: an unknown
    keypad's presses make no voter and count nothing."""
    m = Meeting(facilitator, MEETING)
    m.post("/keypads/auto-enrol", on="on")
    base = {"title": MEETING["title"], "ratio": "2", "group_min": "2"}
    m.post("/settings", **base, admission="tickets", channel_policy="one_channel")
    m.post("/rounds", proposal=["library"], keypads="on")
    capture(m, "99 1")
    eventually(lambda: any(a["kind"] == "unknown_keypad" for a in status_of(m)["alerts"]))
    assert m.state()["turnout"]["registered"] == 0 and m.state()["turnout"]["voted"] == 0
