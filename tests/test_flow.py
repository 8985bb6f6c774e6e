"""The room vote end to end over HTTP: set-up, join, vote, close, reveal."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import Meeting, Phone


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
        "surge": None,  # no unnatural jump in "present" (app/surge.py)
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
