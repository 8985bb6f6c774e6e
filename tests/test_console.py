"""The facilitator console: access, CSRF, set-up edits, rounds, exports."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import unescape

import httpx

from tests.conftest import MEETING, LiveServer, Meeting, Phone, csrf_of


def test_the_console_needs_the_facilitator_link(server: LiveServer) -> None:
    """Without the key, or with a wrong one, the console is refused with an explanation."""
    stranger = server.browser()
    r = stranger.get("/console")
    assert r.status_code == 403
    assert "facilitator link" in r.text
    r = stranger.get("/facilitator?key=wrong", follow_redirects=False)
    assert r.status_code == 403
    assert stranger.get("/console").status_code == 403


def test_console_changes_need_the_csrf_token(facilitator: httpx.Client, meeting: Meeting) -> None:
    """A POST with the facilitator's cookie but without the page's token changes nothing."""
    r = facilitator.post(f"/console/{meeting.id}/rounds", data={"proposal": ["library"]})
    assert r.status_code == 403
    assert meeting.state()["round"] is None


def test_attendees_cannot_open_rounds(meeting: Meeting, phones: Callable[[], Phone]) -> None:
    """A phone's session (with its own CSRF token) is not the facilitator's."""
    phone = phones()
    r = phone.c.post(f"/console/{meeting.id}/rounds", data={"csrf": phone.csrf, "proposal": "x"})
    assert r.status_code == 403


def test_meeting_json_round_trips_through_import_and_export(
    facilitator: httpx.Client, meeting: Meeting
) -> None:
    """Exported meeting JSON has the imported content, including the tie-break order."""
    exported = facilitator.get(f"/console/{meeting.id}/export/meeting.json").json()
    assert exported["title"] == MEETING["title"]
    assert exported["rule"] == MEETING["rule"]
    assert exported["segments"] == MEETING["segments"]
    assert [p["id"] for p in exported["proposals"]] == ["library", "respite", "toilets"]
    assert exported["proposals"][0]["saving"] == 48000
    assert exported["tie_break"] == MEETING["tie_break"]
    again = Meeting(facilitator, exported)
    assert again.code != meeting.code
    re_exported = facilitator.get(f"/console/{again.id}/export/meeting.json").json()
    assert re_exported == exported


def test_a_new_meeting_draws_a_tie_break_order(facilitator: httpx.Client) -> None:
    """A file without tie_break gets a drawn permutation of its proposals, stored."""
    spec = {k: v for k, v in MEETING.items() if k != "tie_break"}
    m = Meeting(facilitator, spec)
    order = facilitator.get(f"/console/{m.id}/export/meeting.json").json()["tie_break"]
    assert sorted(order) == ["library", "respite", "toilets"]


def test_importing_a_bad_meeting_file_shows_what_is_wrong(facilitator: httpx.Client) -> None:
    """The error page names the file and the field; nothing is created."""
    csrf = csrf_of(facilitator)
    bad = dict(MEETING, proposals=[dict(MEETING["proposals"][0], kind="maybe")])
    r = facilitator.post(
        "/console/import",
        data={"csrf": csrf},
        files={"file": ("council.json", json.dumps(bad).encode(), "application/json")},
    )
    assert r.status_code == 400
    assert "council.json" in r.text and "kind" in r.text
    assert "Test budget" not in facilitator.get("/console").text


def test_segments_and_proposals_are_edited_in_the_console(
    facilitator: httpx.Client, meeting: Meeting
) -> None:
    """Add a segment and a proposal naming it; edit the proposal; remove it again."""
    meeting.post("/segments", key="south", label="Area: South")
    meeting.post(
        "/proposals",
        key="youth",
        title="Youth club",
        kind="keep",
        saving="35,000",
        affected_groups=["south"],
        description="Saturdays",
    )
    exported = facilitator.get(f"/console/{meeting.id}/export/meeting.json").json()
    youth = exported["proposals"][-1]
    assert (youth["id"], youth["saving"], youth["affected_groups"]) == ("youth", 35000, ["south"])
    assert "youth" in exported["tie_break"]
    meeting.post("/proposals", key="youth", title="Youth club (Saturdays)", kind="keep")
    exported = facilitator.get(f"/console/{meeting.id}/export/meeting.json").json()
    assert exported["proposals"][-1]["title"] == "Youth club (Saturdays)"
    meeting.post("/proposals/youth/delete", confirm="yes")
    exported = facilitator.get(f"/console/{meeting.id}/export/meeting.json").json()
    assert "youth" not in [p["id"] for p in exported["proposals"]]
    assert "youth" not in exported["tie_break"]


def test_bad_form_input_shows_a_readable_error_page(
    facilitator: httpx.Client, meeting: Meeting
) -> None:
    """A proposal with an unknown kind or affected group is refused with the reason."""
    r = facilitator.post(
        f"/console/{meeting.id}/proposals",
        data={"csrf": meeting.csrf, "key": "x", "title": "X", "kind": "sell"},
    )
    assert r.status_code == 400 and "kind" in r.text
    r = facilitator.post(
        f"/console/{meeting.id}/proposals",
        data={
            "csrf": meeting.csrf,
            "key": "x",
            "title": "X",
            "kind": "fund",
            "affected_groups": "pirates",
        },
    )
    assert r.status_code == 400 and "pirates" in r.text
    r = facilitator.post(
        f"/console/{meeting.id}/settings",
        data={"csrf": meeting.csrf, "title": "T", "ratio": "two", "group_min": "5"},
    )
    assert r.status_code == 400 and "R must be a whole number" in r.text


def test_the_rule_and_voted_proposals_are_fixed_once_voting_starts(
    facilitator: httpx.Client, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Changing R, deleting a voted proposal or its affected groups is refused after votes."""
    meeting.open_round("library")
    phones().vote({"library": "want"})
    r = facilitator.post(
        f"/console/{meeting.id}/settings",
        data={"csrf": meeting.csrf, "title": "T", "ratio": "3", "group_min": "2"},
    )
    assert r.status_code == 409 and "fixed" in r.text
    r = facilitator.post(
        f"/console/{meeting.id}/proposals/library/delete",
        data={"csrf": meeting.csrf, "confirm": "yes"},
    )
    assert r.status_code == 409
    r = facilitator.post(
        f"/console/{meeting.id}/proposals",
        data={
            "csrf": meeting.csrf,
            "key": "library",
            "title": "Mobile library",
            "kind": "fund",
            "affected_groups": "north",
        },
    )
    assert r.status_code == 409
    r = facilitator.post(
        f"/console/{meeting.id}/segments/carer/delete",
        data={"csrf": meeting.csrf, "confirm": "yes"},
    )
    assert r.status_code == 409  # respite names it as an affected group


def test_only_one_round_is_open_at_a_time_and_rounds_are_numbered(
    facilitator: httpx.Client, meeting: Meeting
) -> None:
    """Opening a second round while one is open is refused; the next one is round 2."""
    meeting.open_round("library")
    r = facilitator.post(
        f"/console/{meeting.id}/rounds", data={"csrf": meeting.csrf, "proposal": "toilets"}
    )
    assert r.status_code == 409
    meeting.close_round(1)
    r = facilitator.post(
        f"/console/{meeting.id}/rounds/1/close", data={"csrf": meeting.csrf, "confirm": "yes"}
    )
    assert r.status_code == 409
    meeting.open_round("library", "toilets")
    state = meeting.state()
    assert state["round"]["number"] == 2
    assert [p["id"] for p in state["round"]["proposals"]] == ["library", "toilets"]


def test_reveal_needs_a_closed_round_and_hide_takes_results_off(
    facilitator: httpx.Client, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Results cannot be revealed mid-vote; hiding removes them from the public state."""
    meeting.open_round()
    phones().vote({"library": "want"})
    r = facilitator.post(f"/console/{meeting.id}/rounds/1/reveal", data={"csrf": meeting.csrf})
    assert r.status_code == 409
    meeting.close_round(1)
    meeting.reveal(1)
    assert meeting.state()["results"] is not None
    meeting.post("/rounds/1/hide")
    assert meeting.state()["results"] is None


def test_a_proposal_can_be_voted_again_in_a_later_round_with_its_own_results(
    facilitator: httpx.Client, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Round 2 on the same proposal has separate ballots and results."""
    phone = phones()
    meeting.open_round("library")
    phone.vote({"library": "want"})
    meeting.close_round(1)
    meeting.open_round("library")
    phone.vote({"library": "dont_want"})
    meeting.close_round(2)
    results = facilitator.get(f"/console/{meeting.id}/export/results.json").json()
    by_round = {r["round"]: r["proposals"][0] for r in results["rounds"]}
    assert (by_round["1"]["W"], by_round["1"]["D"]) == (1, 0)
    assert (by_round["2"]["W"], by_round["2"]["D"]) == (0, 1)


def test_console_pages_render(
    facilitator: httpx.Client, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Home, run, set-up and round results pages render for the facilitator."""
    meeting.open_round()
    phones().vote({"library": "want"})
    meeting.close_round(1)
    for path in (
        "/console",
        f"/console/{meeting.id}",
        f"/console/{meeting.id}/setup",
        f"/console/{meeting.id}/setup?edit=library",
        f"/console/{meeting.id}/rounds/1",
    ):
        r = facilitator.get(path)
        assert r.status_code == 200, path
    assert (
        "Only you can see these results" in facilitator.get(f"/console/{meeting.id}/rounds/1").text
    )


def test_proposals_csv_round_trips(facilitator: httpx.Client, meeting: Meeting) -> None:
    """Exported proposals CSV imports into another meeting with the same proposals."""
    text = facilitator.get(f"/console/{meeting.id}/export/proposals.csv").text
    assert text.splitlines()[0] == "id,title,description,kind,cost,saving,affected_groups"
    other = Meeting(facilitator, dict(MEETING, proposals=[], tie_break=[]))
    r = facilitator.post(
        f"/console/{other.id}/proposals.csv",
        data={"csrf": other.csrf},
        files={"file": ("p.csv", text.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    a = facilitator.get(f"/console/{meeting.id}/export/meeting.json").json()["proposals"]
    b = facilitator.get(f"/console/{other.id}/export/meeting.json").json()["proposals"]
    assert a == b


def test_a_bad_proposals_csv_names_the_line(facilitator: httpx.Client, meeting: Meeting) -> None:
    """Line numbers and reasons come back; no proposal from the file is added."""
    text = "id,title,description,kind,cost,saving,affected_groups\na,A,,keep,,,\nb,B,,sell,,,\n"
    r = facilitator.post(
        f"/console/{meeting.id}/proposals.csv",
        data={"csrf": meeting.csrf},
        files={"file": ("plan.csv", text.encode(), "text/csv")},
    )
    assert r.status_code == 400
    assert "plan.csv:3" in r.text
    ids = [
        p["id"]
        for p in facilitator.get(f"/console/{meeting.id}/export/meeting.json").json()["proposals"]
    ]
    assert "a" not in ids


def _notice(client: httpx.Client, response: httpx.Response, lang: str | None = None) -> str:
    """The status message the page a change redirected to shows (in `lang`, if given)."""
    assert response.status_code == 303, response.text
    params = {"lang": lang} if lang else {}
    html = client.get(response.headers["location"], params=params).text
    m = re.search(r'<p class="notice" role="status">(.*?)</p>', html, re.S)
    assert m, "no status message on the page"
    return unescape(m.group(1))


def test_status_messages_are_in_the_language_of_the_console(meeting: Meeting) -> None:
    """A facilitator using the console in Welsh reads the message after each change in Welsh,
    with its numbers filled in; the message takes the language of the page that shows it."""
    meeting.f.get("/console", params={"lang": "cy"})  # the language switch: remembered
    opened = meeting.post("/rounds", proposal=["library", "respite"])
    assert _notice(meeting.f, opened) == "Mae rownd 1 ar agor ar 2 cynnig."
    closed = meeting.post("/rounds/1/close", confirm="yes")
    assert _notice(meeting.f, closed) == (
        "Mae rownd 1 wedi cau. Mae'r canlyniadau'n gudd nes i chi eu datgelu."
    )
    # Made in Welsh, shown in English: switched between the change and the page.
    revealed = meeting.post("/rounds/1/reveal")
    assert _notice(meeting.f, revealed, lang="en") == "Round 1 results are on the projector."


def test_status_messages_keep_their_english_wording(meeting: Meeting) -> None:
    """In English the messages read as they always have, sentence after sentence."""
    opened = meeting.post("/rounds", proposal=["library"], keypads="on")
    assert _notice(meeting.f, opened) == (
        "Round 1 is open on 1 proposal(s). Keypads vote one proposal at a time."
    )
    closed = meeting.post("/rounds/1/close", confirm="yes")
    assert _notice(meeting.f, closed) == (
        "Round 1 is closed. Results are hidden until you reveal them."
    )


def test_a_flashed_message_is_bounded_in_the_session() -> None:
    """However long, a status message kept for the next page stays small enough for the
    session cookie: the first sentences within FLASH_SIZE_MAX, values cut to FLASH_TEXT_MAX."""
    from types import SimpleNamespace
    from typing import cast

    from fastapi import Request

    from app.console.forms import FLASH_SIZE_MAX, FLASH_TEXT_MAX, flash
    from app.core.messages import said

    request = cast(Request, SimpleNamespace(session={}))
    message = said("Counted %(n)s sheet(s).", n=50)
    for sheet in range(50):
        message += said("Sheet %(sheet)s refused: %(reason)s", sheet=sheet, reason="x" * 5000)
    flash(request, message)
    stored = request.session["flash"]
    assert stored[0] == ["Counted %(n)s sheet(s).", {"n": 50}]
    assert stored[1] == ["Sheet %(sheet)s refused: %(reason)s", {"sheet": 0, "reason": "x" * 200}]
    assert 2 < len(stored) < 50 and all(len(v["reason"]) == FLASH_TEXT_MAX for _, v in stored[1:])
    assert len(json.dumps(stored)) < 1.5 * FLASH_SIZE_MAX
