"""The WebSocket flow: snapshots on connect and on change, casting with acks, errors, limits."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import LiveServer, Meeting, Phone, Socket
from tests.test_audit import exports_verify


def is_snapshot(msg: dict[str, object]) -> bool:
    return msg["type"] == "snapshot"


def test_projector_gets_a_snapshot_at_once_and_another_after_a_phone_votes(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """A ballot cast on a phone's socket changes the projector's turnout; seq increases."""
    meeting.open_round()
    phone = phones()
    with Socket(server, meeting.code) as projector, Socket(server, meeting.code, phone.c) as ws:
        first = projector.until(is_snapshot)
        assert first["round"]["status"] == "open"
        ws.send({"type": "hello", "last_seq": None})
        you = ws.until(lambda m: m["type"] == "you")
        assert you["voter"] and you["ballot"] is None
        ballot_id = uuid.uuid4().hex
        ws.send(
            {
                "type": "cast",
                "ballot_id": ballot_id,
                "round": first["round"]["id"],
                "marks": {"library": "want"},
            }
        )
        ack = ws.until(lambda m: m["type"] == "ack")
        assert ack == {"type": "ack", "ballot_id": ballot_id, "round": first["round"]["id"]}
        later = projector.until(lambda m: m["type"] == "turnout" and m["turnout"]["voted"] == 1)
        assert later["seq"] > first["seq"]
        assert set(later) == {"type", "seq", "turnout"}  # no results: hidden until revealed


def test_a_ballot_s_turnout_frame_is_the_turnout_a_whole_snapshot_gives(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Ballots reach screens as turnout read on its own (`Services.turnout_state`): it equals
    the whole snapshot's turnout (GET /api/m/CODE), and a screen that connects afterwards gets
    a snapshot with it."""
    meeting.open_round()
    with Socket(server, meeting.code) as projector:
        projector.until(is_snapshot)
        for _ in range(3):
            assert phones().vote({"library": "want"}).status_code == 200
        frame = projector.until(lambda m: m["type"] == "turnout" and m["turnout"]["voted"] == 3)
        whole = meeting.state()["turnout"]
        assert {k: v for k, v in frame["turnout"].items() if k != "connected"} == whole
        assert frame["turnout"]["by_channel"]["phone"] == 3
        with Socket(server, meeting.code) as late:
            first = late.until(is_snapshot)
            assert first["turnout"]["voted"] == 3 and first["seq"] >= frame["seq"]


def test_phones_get_no_frames_for_turnout_and_a_snapshot_when_the_round_changes(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Ten ballots reach the projector as turnout frames; a phone only hears the round close."""
    meeting.open_round()
    phone = phones()
    with Socket(server, meeting.code, phone.c) as ws:
        ws.until(is_snapshot)
        for _ in range(10):
            assert phones().vote({"library": "want"}).status_code == 200
        meeting.close_round(1)
        frame = ws.until(lambda m: True)
        assert frame["type"] == "snapshot" and frame["round"]["status"] == "closed"


def test_reconnect_resyncs_with_the_current_state_and_the_voters_ballot(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """After a dropped connection the phone gets the newest snapshot and its stored ballot."""
    meeting.open_round()
    phone = phones()
    with Socket(server, meeting.code, phone.c) as ws:
        snap = ws.until(is_snapshot)
        ws.send(
            {
                "type": "cast",
                "ballot_id": "b" * 16,
                "round": snap["round"]["id"],
                "marks": {"respite": "dont_want"},
            }
        )
        ws.until(lambda m: m["type"] == "ack")
    meeting.close_round(1)  # changes while the phone is away
    with Socket(server, meeting.code, phone.c) as ws:
        snap = ws.until(is_snapshot)
        assert snap["round"]["status"] == "closed"
        ws.send({"type": "hello", "last_seq": 1})
        you = ws.until(lambda m: m["type"] == "you")
        assert you["ballot"]["marks"] == {"respite": "dont_want"}
        assert you["ballot"]["ballot_id"] == "b" * 16


def test_resending_an_unacknowledged_ballot_does_not_duplicate_it(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """The same ballot_id sent twice (reconnect before the ack) stores one ballot."""
    meeting.open_round()
    phone = phones()
    with Socket(server, meeting.code, phone.c) as ws:
        rid = ws.until(is_snapshot)["round"]["id"]
        for _ in range(2):
            ws.send(
                {
                    "type": "cast",
                    "ballot_id": "same-ballot-1",
                    "round": rid,
                    "marks": {"library": "want"},
                }
            )
            ws.until(lambda m: m["type"] == "ack")
    assert meeting.state()["turnout"]["voted"] == 1


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("not json", "bad_input"),
        (json.dumps({"type": "cast", "ballot_id": "x", "round": 1, "marks": {}}), "bad_input"),
        (
            json.dumps(
                {"type": "cast", "ballot_id": "abcdefgh", "round": 1, "marks": {"library": "maybe"}}
            ),
            "bad_input",
        ),
        (json.dumps({"type": "launch"}), "bad_input"),
    ],
)
def test_malformed_messages_get_an_error_frame_and_the_socket_stays_open(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone], message: str, code: str
) -> None:
    """A bad frame is answered with an error; the next good frame still works."""
    # Round 1 exists and is open: a mark its scale refuses is refused for itself (the round's
    # kind checks answers, so a cast for a round that does not exist is a not_found first).
    meeting.open_round()
    phone = phones()
    with Socket(server, meeting.code, phone.c) as ws:
        ws.until(is_snapshot)
        ws.ws.send(message)
        err = ws.until(lambda m: m["type"] == "error")
        assert err["code"] == code and err["message"]
        ws.send({"type": "ping"})
        assert ws.until(lambda m: m["type"] != "snapshot") == {"type": "pong"}


def test_ballot_errors_name_the_ballot_and_store_nothing(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Unknown proposal, closed round and unknown round are refused with the ballot's id."""
    meeting.open_round("library")
    phone = phones()
    with Socket(server, meeting.code, phone.c) as ws:
        rid = ws.until(is_snapshot)["round"]["id"]
        ws.send(
            {
                "type": "cast",
                "ballot_id": "unknown-prop",
                "round": rid,
                "marks": {"toilets": "want"},
            }
        )
        err = ws.until(lambda m: m["type"] == "error")
        assert (err["code"], err["ballot_id"]) == ("bad_input", "unknown-prop")
        assert "toilets" in err["message"]
        ws.send(
            {
                "type": "cast",
                "ballot_id": "unknown-round",
                "round": rid + 99,
                "marks": {"library": "want"},
            }
        )
        assert ws.until(lambda m: m["type"] == "error")["code"] == "not_found"
        meeting.close_round(1)
        ws.send(
            {"type": "cast", "ballot_id": "too-late-1", "round": rid, "marks": {"library": "want"}}
        )
        err = ws.until(lambda m: m["type"] == "error")
        assert (err["code"], err["ballot_id"]) == ("round_closed", "too-late-1")
    assert meeting.state()["turnout"]["voted"] == 0


def test_a_browser_that_has_not_joined_cannot_cast(server: LiveServer, meeting: Meeting) -> None:
    """The projector's socket (no voter cookie) is read-only."""
    meeting.open_round()
    with Socket(server, meeting.code) as ws:
        rid = ws.until(is_snapshot)["round"]["id"]
        ws.send(
            {"type": "cast", "ballot_id": "no-voter-1", "round": rid, "marks": {"library": "want"}}
        )
        assert ws.until(lambda m: m["type"] == "error")["code"] == "not_joined"


def test_an_oversized_message_closes_the_socket_with_1009(
    server: LiveServer, meeting: Meeting
) -> None:
    """Messages over the limit are refused by the server, not parsed."""
    with Socket(server, meeting.code) as ws:
        ws.until(is_snapshot)
        ws.ws.send("x" * (server.app.state.services.settings.ws_max_message_bytes + 10))
        with pytest.raises(ConnectionClosed) as info:
            ws.until(lambda m: False)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1009


def test_unknown_meeting_code_closes_with_4404(server: LiveServer) -> None:
    """A socket to a meeting that does not exist is closed with a clear code."""
    from websockets.sync.client import connect

    with connect(server.ws_url("ZZZZZZ")) as ws, pytest.raises(ConnectionClosed) as info:
        ws.recv(timeout=5)
    assert info.value.rcvd is not None and info.value.rcvd.code == 4404


@pytest.mark.parametrize(
    ("path", "round_id"), [("ws", 2**63), ("api", 2**63), ("form", -(2**63) - 1), ("ws", 2**31)]
)
def test_an_out_of_range_round_is_refused_and_everyone_else_still_votes(
    server: LiveServer,
    meeting: Meeting,
    phones: Callable[[], Phone],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    path: str,
    round_id: int,
) -> None:
    """A round id no database holds, sent over the socket, the API or the no-JS form, gets a
    clear error; another voter's ballot is then stored and acked, and the exports verify."""
    meeting.open_round()
    attacker, honest = phones(), phones()
    marks = {"library": "want"}
    if path == "ws":
        with Socket(server, meeting.code, attacker.c) as ws:
            ws.until(is_snapshot)
            ws.send({"type": "cast", "ballot_id": "x" * 12, "round": round_id, "marks": marks})
            err = ws.until(lambda m: m["type"] == "error")
            assert err["code"] == "bad_input" and "round" in err["message"]
    elif path == "api":
        r = attacker.vote(marks, round_id=round_id)
        assert r.status_code == 400, r.text
        assert "round" in r.text
    else:
        r = attacker.c.post(
            f"/m/{meeting.code}/ballot",
            data={"csrf": attacker.csrf, "round": str(round_id), "mark:library": "want"},
        )
        assert r.status_code == 400 and "round" in r.text
    with Socket(server, meeting.code, honest.c) as ws:
        rid = ws.until(is_snapshot)["round"]["id"]
        ws.send({"type": "cast", "ballot_id": "honest-after", "round": rid, "marks": marks})
        assert ws.until(lambda m: m["type"] in ("ack", "error"), timeout=10)["type"] == "ack"
    assert attacker.vote(marks).status_code == 200  # the attacker may still vote honestly
    assert meeting.state()["turnout"]["voted"] == 2
    meeting.close_round(1)
    assert exports_verify(meeting, tmp_path, capsys) == 0


def test_a_round_change_reaches_a_phone_with_its_ballot_in_the_frame(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """The phone page's socket (view=phone) gets the ballot section inside the snapshot: the
    round opening (the form for its proposals), closing and being revealed each arrive with
    what the phone shows, so no phone fetches a page when the round changes. The section
    is the same for everyone: no marks, no CSRF token (the voter's own come from `you`)."""
    phone = phones()
    with (
        Socket(server, meeting.code, phone.c, query="view=phone&lang=en") as ws,
        Socket(server, meeting.code) as projector,
    ):
        first = ws.until(is_snapshot)
        assert "Waiting for the facilitator to open a vote" in first["ballot_html"]
        assert "ballot_html" not in projector.until(is_snapshot)
        meeting.open_round()
        opened = ws.until(lambda m: is_snapshot(m) and m["round"] is not None)
        html = opened["ballot_html"]
        assert f'data-round-id="{opened["round"]["id"]}"' in html
        assert 'data-round-status="open"' in html and 'id="ballot-form"' in html
        for key in ("library", "respite", "toilets"):
            assert f'name="mark:{key}"' in html
        assert "Round 1 is open: vote below" in html  # the open-round bar comes with it
        assert 'name="csrf" value=""' in html and " checked" not in html
        ws.send({"type": "hello", "last_seq": opened["seq"]})
        ws.until(lambda m: m["type"] == "you")
        ws.send(
            {
                "type": "cast",
                "ballot_id": uuid.uuid4().hex,
                "round": opened["round"]["id"],
                "marks": {"library": "want"},
            }
        )
        ws.until(lambda m: m["type"] == "ack")
        meeting.close_round(1)
        closed = ws.until(lambda m: is_snapshot(m) and m["round"]["status"] == "closed")
        assert "Voting is closed" in closed["ballot_html"]
        assert '<p id="ballot-saved" hidden>' in closed["ballot_html"]  # nobody's ballot
        meeting.reveal(1)
        revealed = ws.until(lambda m: is_snapshot(m) and m["round"]["revealed"])
        assert "See the results on this phone" in revealed["ballot_html"]
        assert "ballot_html" not in projector.until(lambda m: is_snapshot(m) and m["results"])


def test_the_ballot_in_the_frame_is_in_the_phone_pages_language(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """A Welsh phone page gets its ballot section in Welsh; an English one beside it in English."""
    meeting.open_round()
    cy, en = phones(), phones()
    with (
        Socket(server, meeting.code, cy.c, query="view=phone&lang=cy") as ws_cy,
        Socket(server, meeting.code, en.c, query="view=phone") as ws_en,
    ):
        assert "Rownd 1: eich pleidlais" in ws_cy.until(is_snapshot)["ballot_html"]
        assert "Round 1: your vote" in ws_en.until(is_snapshot)["ballot_html"]
