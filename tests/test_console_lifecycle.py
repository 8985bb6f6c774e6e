"""The console's meeting list, duplicate, archive and delete (app/console/lifecycle.py), and the
confirmation every irreversible action asks first (app/console/confirm.py), over HTTP."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import MEETING, LiveServer, Meeting, Phone, Socket, join
from tests.test_sessions import _helper_link
from tests.test_tickets import TICKETS, codes, issue

FORM = re.compile(r'<form method="post" action="([^"]+)">(.*?)</form>', re.S)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def post(m: Meeting, path: str, **data: Any) -> httpx.Response:
    return m.f.post(path, data={"csrf": m.csrf, **data}, follow_redirects=False)


def flash(m: Meeting, r: httpx.Response) -> str:
    """The message the page after a redirect shows."""
    assert r.status_code == 303, r.text
    page = m.f.get(r.headers["location"]).text
    found = re.search(r'<p class="notice" role="status">(.*?)</p>', page, re.S)
    assert found, "no message"
    return html.unescape(found.group(1))


def exported(m: Meeting, meeting_id: int | None = None) -> dict[str, Any]:
    r = m.f.get(f"/console/{meeting_id or m.id}/export/meeting.json")
    assert r.status_code == 200
    return dict(r.json())


def rows_of(page: str) -> list[str]:
    """The meeting list's titles, in order."""
    return [
        html.unescape(t) for t in re.findall(r'<th scope="row"><a href="[^"]+">(.*?)</a>', page)
    ]


# --- the list ----------------------------------------------------------------------------------


def test_the_list_shows_newest_first_with_status_counts_and_an_archived_toggle(
    server: LiveServer, facilitator: httpx.Client
) -> None:
    """Each row: title, code, "Today, hh:mm", status and counts; archived ones appear only
    behind "Show archived (N)", a plain link."""
    first = Meeting(facilitator, {**MEETING, "title": "First"})
    second = Meeting(facilitator, {**MEETING, "title": "Second"})
    third = Meeting(facilitator, {**MEETING, "title": "Third"})
    second.open_round("library")
    Phone(server.browser(), second.code)
    assert post(third, f"/console/meetings/{third.id}/archive", back="list").status_code == 303
    page = facilitator.get("/console").text
    assert rows_of(page) == ["Second", "First"]
    row = page[page.index(">Second<") : page.index(">First<")]
    assert second.code in row and "Voting open: round 1" in row
    assert re.search(r"<td>Today, \d\d:\d\d</td>|>Today, \d\d:\d\d</time>", row)
    assert re.findall(r"<td>(\d+)</td>", row) == ["1", "1"]  # rounds, voters
    assert "Set-up" in page[page.index(">First<") :]
    assert '<a href="/console?archived=1">Show archived (1)</a>' in page
    archived = facilitator.get("/console?archived=1").text
    assert rows_of(archived) == ["Second", "First", "Third"]
    assert "Archived meetings" in archived and "Hide archived" in archived
    welsh = facilitator.get("/console?archived=1&lang=cy").text
    assert "Heddiw" in welsh  # "Today" in the page's language
    assert first.code in page


# --- duplicate ---------------------------------------------------------------------------------


def test_duplicating_copies_the_set_up_under_a_title_the_facilitator_edits(
    facilitator: httpx.Client, meeting: Meeting
) -> None:
    """The page suggests "<title> (copy)" and says what is and is not copied; the copy has
    the same meeting JSON but its title and tie-break order, and a new code."""
    meeting.open_round("library")
    meeting.close_round(1)
    page = facilitator.get(f"/console/meetings/{meeting.id}/duplicate").text
    assert 'value="Test budget (copy)"' in page
    assert "No voters, ballots, rounds, tickets, keypads" in page
    r = post(meeting, f"/console/meetings/{meeting.id}/duplicate", title="Real vote")
    new_id = int(r.headers["location"].split("/")[2])
    assert r.headers["location"] == f"/console/{new_id}/setup"
    said = flash(meeting, r)
    assert "“Real vote” made from the set-up of “Test budget”" in said
    copy, source = exported(meeting, new_id), exported(meeting)
    assert copy["title"] == "Real vote"
    assert sorted(copy["tie_break"]) == sorted(source["tie_break"])
    strip = ("title", "tie_break")
    assert {k: v for k, v in copy.items() if k not in strip} == {
        k: v for k, v in source.items() if k not in strip
    }
    run = facilitator.get(f"/console/{new_id}").text
    assert "No rounds yet." in run and meeting.code not in run
    audit = facilitator.get(f"/console/{new_id}/export/audit.jsonl").text.splitlines()
    assert len(audit) == 1 and json.loads(audit[0])["data"]["duplicated_from"] == meeting.code
    r = post(meeting, f"/console/meetings/{meeting.id}/duplicate", title="")
    assert r.status_code == 400


# --- archive -----------------------------------------------------------------------------------


def test_an_archived_meeting_is_read_only_but_exports_and_can_be_unarchived(
    server: LiveServer, facilitator: httpx.Client, meeting: Meeting
) -> None:
    """Archive needs the round closed; then the console refuses rounds and set-up changes with
    the reason, a phone cannot join, every export still works; unarchive undoes it."""
    meeting.open_round("library")
    r = post(meeting, f"/console/meetings/{meeting.id}/archive")
    assert r.status_code == 409 and "Close round 1 before archiving" in r.text
    meeting.close_round(1)
    r = post(meeting, f"/console/meetings/{meeting.id}/archive")
    assert r.headers["location"] == f"/console/{meeting.id}"
    assert "is archived: read-only" in flash(meeting, r)
    run = facilitator.get(f"/console/{meeting.id}").text
    assert "This meeting is archived" in run and "Open a round" not in run
    r = post(meeting, f"/console/{meeting.id}/rounds", proposal="library")
    assert r.status_code == 409 and "is archived" in r.text and "Unarchive it first" in r.text
    r = post(meeting, f"/console/{meeting.id}/segments", key="x", label="X")
    assert r.status_code == 409
    stranger = server.browser()
    page = stranger.get(f"/m/{meeting.code}").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    r = stranger.post(f"/m/{meeting.code}/join", data={"csrf": token.group(1)})
    assert r.status_code == 409 and "has ended and is archived" in r.text
    for what in ("meeting.json", "ballots.csv", "results.json", "audit.jsonl", "bundle.zip"):
        assert facilitator.get(f"/console/{meeting.id}/export/{what}").status_code == 200, what
    assert facilitator.get(f"/console/{meeting.id}/report.html").status_code == 200
    r = post(meeting, f"/console/meetings/{meeting.id}/unarchive")
    assert "no longer archived" in flash(meeting, r)
    meeting.open_round("library")
    kinds = [
        json.loads(line)["kind"]
        for line in facilitator.get(f"/console/{meeting.id}/export/audit.jsonl").text.splitlines()
    ]
    assert kinds[-3:] == ["meeting.archived", "meeting.unarchived", "round.opened"]


# --- delete ------------------------------------------------------------------------------------


def test_deleting_says_what_is_lost_and_needs_the_code_typed_and_the_vote_archived(
    server: LiveServer, facilitator: httpx.Client, meeting: Meeting
) -> None:
    """The page counts ballots and voters and links the export bundle; a wrong code shows the
    page again with the reason; ballots need archiving first; then the meeting is gone."""
    meeting.open_round("library")
    Phone(server.browser(), meeting.code).vote({"library": "want"})
    page = facilitator.get(f"/console/meetings/{meeting.id}/delete").text
    assert "Round 1 is open. Close it before deleting" in page
    meeting.close_round(1)
    page = facilitator.get(f"/console/meetings/{meeting.id}/delete").text
    assert "Ballots: 1" in page and "Voters: 1" in page
    assert f'href="/console/{meeting.id}/export/bundle.zip"' in page
    assert "Archive it first" in page and 'name="code" required' in page and " disabled" in page
    r = post(meeting, f"/console/meetings/{meeting.id}/delete", code=meeting.code)
    assert r.status_code == 409 and "archive it first" in r.text
    r = post(meeting, f"/console/meetings/{meeting.id}/archive", back="delete")
    assert r.headers["location"] == f"/console/meetings/{meeting.id}/delete"
    r = post(meeting, f"/console/meetings/{meeting.id}/delete", code="WRONG9")
    assert r.status_code == 400
    assert f"Type the meeting's code, {meeting.code}" in html.unescape(r.text)
    assert 'aria-invalid="true"' in r.text
    assert facilitator.get(f"/console/{meeting.id}").status_code == 200
    r = post(meeting, f"/console/meetings/{meeting.id}/delete", code=meeting.code.lower())
    assert r.headers["location"] == "/console"
    assert "is deleted, with its ballots and audit log" in flash(meeting, r)
    assert facilitator.get(f"/console/{meeting.id}").status_code == 404
    assert server.browser().get(f"/m/{meeting.code}").status_code == 404


def test_deleting_signs_out_its_helpers_and_closes_its_screens(
    server: LiveServer, facilitator: httpx.Client, meeting: Meeting
) -> None:
    """A helper's browser for the meeting is signed out, and a connected phone or projector is
    told the meeting is gone (close code 4404, no reconnect)."""
    helper = server.browser()
    helper.get(f"/facilitator?key={_helper_link(meeting, 'meeting')}")
    assert helper.get(f"/console/{meeting.id}").status_code == 200
    with Socket(server, meeting.code) as projector:
        projector.until(lambda m: m.get("type") == "snapshot")
        r = post(meeting, f"/console/meetings/{meeting.id}/delete", code=meeting.code)
        assert r.status_code == 303
        with pytest.raises(ConnectionClosed) as closed:
            projector.until(lambda m: False)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404
    assert helper.get(f"/console/{meeting.id}").status_code == 403


def test_a_browser_of_a_deleted_meeting_is_no_voter_of_a_new_one_with_its_id(
    server: LiveServer, facilitator: httpx.Client, settings: Any
) -> None:
    """SQLite gives a new meeting the id of the newest one deleted, and its voters the deleted
    voters' ids: a phone that joined the deleted meeting must join the new one afresh."""
    old = Meeting(facilitator, {**MEETING, "title": "Rehearsal"})
    phone = server.browser()
    join(phone, old.code)
    r = post(old, f"/console/meetings/{old.id}/delete", code=old.code)
    assert r.status_code == 303
    new = Meeting(facilitator, {**MEETING, "title": "Real"})
    Phone(server.browser(), new.code)  # the new meeting's first voter
    if settings.database_url is None:  # SQLite: the reuse this test is about does happen
        assert new.id == old.id
    page = phone.get(f"/m/{new.code}").text
    assert 'id="join-form"' in page  # not taken for the new meeting's voter
    assert phone.get(f"/api/m/{new.code}").json()["you"]["voter"] is None


def test_only_the_facilitator_duplicates_archives_and_deletes(
    server: LiveServer, meeting: Meeting
) -> None:
    """A whole-meeting helper runs the meeting but cannot copy, archive or delete it, and does
    not see the buttons."""
    helper = server.browser()
    helper.get(f"/facilitator?key={_helper_link(meeting, 'meeting')}")
    assert "This meeting" not in helper.get(f"/console/{meeting.id}/setup").text
    token = re.search(r'name="csrf" value="([^"]+)"', helper.get(f"/console/{meeting.id}").text)
    assert token
    for action in ("duplicate", "archive", "delete"):
        path = f"/console/meetings/{meeting.id}/{action}"
        assert (
            helper.post(path, data={"csrf": token.group(1), "code": meeting.code}).status_code
            == 403
        )
    assert helper.get(f"/console/meetings/{meeting.id}/delete").status_code == 403
    assert meeting.f.get(f"/console/{meeting.id}").status_code == 200


# --- confirmations -----------------------------------------------------------------------------


def confirm_page(r: httpx.Response) -> tuple[str, dict[str, list[str]]]:
    """The confirmation page's form: its address and its fields (nothing changed yet)."""
    assert r.status_code == 200, r.text
    action, body = next((a, b) for a, b in FORM.findall(r.text) if "confirm" in b)
    fields: dict[str, list[str]] = {}
    for name, value in HIDDEN.findall(body):
        fields.setdefault(name, []).append(html.unescape(value))
    return action, fields


def test_every_irreversible_action_asks_first_and_its_page_does_it(
    server: LiveServer, facilitator: httpx.Client
) -> None:
    """Close, remove, revoke, reissue: without `confirm` the answer is a page that asks (with
    the names and numbers involved) and changes nothing; its form, sent, does the action."""
    tm = Meeting(facilitator, TICKETS)
    issue(tm, 3)
    assert len(codes(tm)) == 3
    assert _helper_link(tm, "paper")
    tm.post("/segments", key="youth", label="Young people")
    tm.post("/proposals", key="bench", title="New benches", kind="fund")
    tm.post("/tickets/checkin", ticket="1", keypad="kpl:0A0009", label="K9")
    tm.open_round("library")
    access = tm.f.get(f"/console/{tm.id}/access").text
    link = re.search(rf"/console/{tm.id}/access/(\d+)/revoke", access)
    assert link

    def keypads() -> str:
        return tm.f.get(f"/console/{tm.id}/keypads").text

    cases: list[tuple[str, dict[str, str], str, Callable[[], bool]]] = [
        (
            "/rounds/1/close",
            {},
            "Close round 1?",
            lambda: tm.state()["round"]["status"] == "closed",
        ),
        (
            "/segments/youth/delete",
            {},
            "Remove the segment “Young people”?",
            lambda: "youth" not in [s["id"] for s in exported(tm)["segments"]],
        ),
        (
            "/proposals/bench/delete",
            {},
            "Remove the proposal “New benches”?",
            lambda: "bench" not in exported(tm)["tie_break"],
        ),
        (
            "/keypads/revoke",
            {"keypad": "kpl:0A0009"},
            "Revoke keypad K9?",
            lambda: "(revoked)" in keypads(),
        ),
        (
            "/tickets/manage",
            {"number": "2", "action": "reissue"},
            "Reissue ticket No. 2?",
            lambda: 4 in codes(tm, "from=4&to=4"),
        ),
        (
            "/tickets/3/revoke",
            {},
            "Revoke ticket No. 3?",
            lambda: (
                '<tr class="muted" id="ticket-3">' in tm.f.get(f"/console/{tm.id}/tickets").text
            ),
        ),
        (
            f"/access/{link.group(1)}/revoke",
            {},
            "Revoke the sign-in link “paper desk”?",
            lambda: (
                f"/access/{link.group(1)}/revoke" not in tm.f.get(f"/console/{tm.id}/access").text
            ),
        ),
    ]
    for path, data, question, done in cases:
        r = post(tm, f"/console/{tm.id}{path}", **data)
        action, fields = confirm_page(r)
        assert f"<h1>{question}</h1>" in html.unescape(r.text), path
        assert not done(), f"{path} acted before it was confirmed"
        assert action == f"/console/{tm.id}{path}" and fields["confirm"] == ["yes"]
        assert {k: v[0] for k, v in fields.items() if k not in ("csrf", "confirm")} == data
        sent = tm.f.post(action, data=fields, follow_redirects=False)
        assert sent.status_code == 303, sent.text
        assert done(), path
