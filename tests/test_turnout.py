"""Electorate and turnout per channel, the snapshot taken when a round closes, the voting
settings (admission, channel policy), and the cross-channel rule itself."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable

import httpx
import pytest

from app.core.errors import Conflict
from app.voting.ballots import cross_channel_refusal
from tests.conftest import MEETING, LiveServer, Meeting, Phone, csrf_of


def test_turnout_is_counted_per_channel_and_frozen_when_the_round_closes(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone], facilitator: httpx.Client
) -> None:
    meeting.open_round()
    for _ in range(2):
        assert phones().vote({"library": "want"}).status_code == 200
    # A voter reaching the server over the internet (through a proxy on the laptop that
    # uvicorn trusts) is counted as voting online, not in the room.
    remote = server.browser()
    remote.headers["X-Forwarded-For"] = "81.2.69.142"
    assert Phone(remote, meeting.code).vote({"respite": "want"}).status_code == 200
    phones()  # present, not voting
    live = meeting.state()["turnout"]
    assert live["present"] == 4 and live["voted"] == 3 and live["registered"] is None
    assert live["by_channel"] == {"phone": 2, "remote": 1, "keypad": 0, "paper": 0}

    meeting.close_round(1)
    for _ in range(3):
        phones()  # latecomers do not change the closed round's turnout
    snapshot = meeting.state()["turnout"]
    assert snapshot["present"] == 4 and snapshot["voted"] == 3
    assert snapshot["by_channel"]["remote"] == 1
    page = facilitator.get(f"/console/{meeting.id}/rounds/1").text
    assert "Turnout when the round closed" in page
    csv_rows = facilitator.get(f"/console/{meeting.id}/export/ballots.csv").text.splitlines()
    # One remote voter (< m = 2) is not singled out in the public file: merged as "other".
    assert not any(",remote," in row for row in csv_rows)
    assert sum(",other," in row for row in csv_rows) == 3 * 3  # all three voters' rows


def test_the_console_shows_live_counts_per_channel(
    meeting: Meeting, phones: Callable[[], Phone], facilitator: httpx.Client
) -> None:
    meeting.open_round()
    assert phones().vote({"library": "want"}).status_code == 200
    page = facilitator.get(f"/console/{meeting.id}").text
    assert "1 of 1 present have voted" in page
    assert 'data-channel="phone">phones in the room <strong>1</strong>' in page


def test_voting_settings_are_saved_exported_and_fixed_once_voting_starts(
    meeting: Meeting, phones: Callable[[], Phone], facilitator: httpx.Client
) -> None:
    base = {"title": MEETING["title"], "ratio": "2", "group_min": "2"}
    meeting.post(
        "/settings", **base, admission="tickets", channel_policy="latest", show_channels="on"
    )
    exported = facilitator.get(f"/console/{meeting.id}/export/meeting.json").json()
    assert exported["voting"] == {
        "admission": "tickets",
        "channel_policy": "latest",
        "show_channels": True,
    }
    assert meeting.state()["show_channels"] is True

    meeting.post("/settings", **base, admission="open", channel_policy="one_channel")
    meeting.open_round()
    assert phones().vote({"library": "want"}).status_code == 200
    r = facilitator.post(
        f"/console/{meeting.id}/settings",
        data={"csrf": meeting.csrf, **base, "admission": "tickets"},
    )
    assert r.status_code == 409
    assert "Admission and the channel policy are fixed once voting has started." in r.text
    r = facilitator.post(
        f"/console/{meeting.id}/settings",
        data={"csrf": meeting.csrf, **base, "admission": "everyone"},
    )
    assert r.status_code == 400
    assert "Admission must be open or tickets" in r.text


def test_a_meeting_file_brings_its_voting_settings(facilitator: httpx.Client) -> None:
    spec = copy.deepcopy(MEETING)
    spec["voting"] = {"admission": "tickets"}
    m = Meeting(facilitator, spec)
    exported = facilitator.get(f"/console/{m.id}/export/meeting.json").json()
    assert exported["voting"]["admission"] == "tickets"
    assert m.state()["turnout"]["registered"] == 0  # no tickets issued yet
    spec["voting"] = {"admission": "lottery"}
    csrf = csrf_of(facilitator)
    r = facilitator.post(
        "/console/import",
        data={"csrf": csrf},
        files={"file": ("m.json", json.dumps(spec).encode(), "application/json")},
    )
    assert r.status_code == 400
    assert "voting.admission" in r.text


@pytest.mark.parametrize(
    ("policy", "channel", "keypad_bound", "previous", "refused"),
    [
        ("one_channel", "phone", False, None, None),
        ("one_channel", "phone", False, "phone", None),  # changing one's mind, same channel
        ("one_channel", "phone", True, None, "vote with your keypad"),
        ("one_channel", "keypad", True, "keypad", None),
        ("one_channel", "paper", False, "phone", "already voted by phone"),
        ("one_channel", "phone", False, "paper", "already voted on paper"),
        ("one_channel", "remote", False, "keypad", "already voted with a keypad"),
        ("latest", "phone", True, "keypad", None),
        ("latest", "paper", False, "remote", None),
    ],
)
def test_cross_channel_policy(
    policy: str, channel: str, keypad_bound: bool, previous: str | None, refused: str | None
) -> None:
    outcome = cross_channel_refusal(policy, channel, keypad_bound=keypad_bound, previous=previous)
    if refused is None:
        assert outcome is None
    else:
        assert isinstance(outcome, Conflict)
        assert refused in outcome.message
