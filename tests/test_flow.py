"""The room vote end to end over HTTP: set-up, join, vote, close, reveal."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.conftest import LiveServer, Meeting, Phone, Socket


def test_phones_vote_and_results_stay_hidden_until_revealed(
    meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Turnout is live, results appear in the public state only after the reveal."""
    meeting.open_round()
    a, b, c = phones(), phones(), phones()
    assert a.segments("carer").status_code == 200
    assert a.vote({"library": "want", "respite": "want"}).json()["saved"] is True
    assert b.vote({"library": "dont_want"}).status_code == 200
    state = meeting.state()
    assert state["turnout"] == {
        "voted": 2,
        "present": 3,
        "registered": None,  # an open meeting: anyone with the code may join
        "by_channel": {"phone": 2, "remote": 0, "keypad": 0, "paper": 0},
        "surge": None,  # no unnatural jump in "present" (app/live/surge.py)
    }
    assert state["results"] is None
    meeting.close_round(1)
    assert meeting.state()["results"] is None
    meeting.reveal(1)
    results = c.state()["results"]
    assert results is not None
    library = next(p for p in results["proposals"] if p["id"] == "library")
    assert (library["V"], library["W"], library["D"], library["N"]) == (2, 1, 1, 0)
    toilets = next(p for p in results["proposals"] if p["id"] == "toilets")
    assert (toilets["V"], toilets["N"]) == (2, 2)


def frames_for(ws: Socket, seconds: float) -> list[dict[str, Any]]:
    """Every frame the socket receives in the next `seconds`."""
    frames, deadline = [], time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            frames.append(ws.recv(left))
        except TimeoutError:
            break
    return frames


def test_hiding_or_revealing_a_closed_round_keeps_the_room_on_the_open_round(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Issue 11: Hide and Reveal on round 1 while round 2 is open: every snapshot the room gets
    (socket and API) still carries open round 2, its live turnout, and phones vote in it."""
    meeting.open_round()
    phone = phones()
    assert phone.vote({"library": "want"}).status_code == 200
    meeting.close_round(1)
    meeting.reveal(1)
    meeting.open_round("library", "toilets")
    with Socket(server, meeting.code, phone.c) as ws:
        ws.until(lambda m: m["type"] == "snapshot")
        for action in ("hide", "reveal", "hide"):
            r = meeting.post(f"/rounds/1/{action}")
            for frame in frames_for(ws, 1.0):  # (identical snapshots are not re-sent)
                if frame["type"] == "snapshot":
                    assert (frame["round"]["number"], frame["round"]["status"]) == (2, "open")
                    assert frame["results"] is None
            state = phone.state()
            assert (state["round"]["number"], state["round"]["status"]) == (2, "open")
            assert "the room stays on the open round" in meeting.f.get(r.headers["location"]).text
        assert phone.vote({"toilets": "dont_want"}, round_id=phone.round_id()).status_code == 200
        assert meeting.state()["turnout"]["voted"] == 1
    meeting.close_round(2)
    assert meeting.state()["round"]["number"] == 2  # the round just closed, not round 1
    meeting.reveal(1)
    assert meeting.state()["round"]["number"] == 1  # no round open: reveal shows it again
