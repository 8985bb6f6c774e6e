"""The Run page's round actions over HTTP: close with a countdown (the server closes the round,
ballots at or after `closes_at` are refused, start-up closes overdue countdowns), cancel, void,
reopen and mark final, each with its refusals; the audit chain still verifies."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from app.config import Settings
from app.voting.models import Round, utcnow
from tests.conftest import FACILITATOR_KEY, TIME_FACTOR, LiveServer, Meeting, Phone
from tests.test_audit import exports_verify, links_of


def refused(meeting: Meeting, path: str, status: int, **data: Any) -> str:
    """POST a round action that must be refused with `status`; the page's text."""
    r = meeting.f.post(
        f"/console/{meeting.id}{path}",
        data={"csrf": meeting.csrf, "confirm": "yes", **data},
        follow_redirects=False,
    )
    assert r.status_code == status, r.text
    return r.text


def stored_round(server: LiveServer, meeting: Meeting, number: int) -> Round:
    with Session(server.app.state.services.engine) as session:
        rnd = session.exec(
            select(Round).where(Round.meeting_id == meeting.id, Round.number == number)
        ).one()
        session.expunge(rnd)
        return rnd


def set_closes_at(server: LiveServer, meeting: Meeting, number: int, seconds: float) -> None:
    """Move round `number`'s countdown end to `seconds` from now (negative: already past)."""
    with Session(server.app.state.services.engine) as session:
        rnd = session.exec(
            select(Round).where(Round.meeting_id == meeting.id, Round.number == number)
        ).one()
        rnd.closes_at = utcnow() + timedelta(seconds=seconds)
        session.add(rnd)
        session.commit()


def wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 15 * TIME_FACTOR
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never: {what}")
        time.sleep(0.05)


def audit_kinds(meeting: Meeting) -> list[tuple[str, dict[str, Any]]]:
    text = meeting.f.get(f"/console/{meeting.id}/export/audit.jsonl").text
    return [(link["kind"], link["data"]) for link in links_of(text)]


def test_a_countdown_is_in_the_snapshot_with_the_seconds_left(
    meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """ "Close in 30 s": phones get the time and the seconds left, counted by the server."""
    meeting.open_round()
    phone = phones()
    meeting.post("/rounds/1/countdown", seconds="30")
    rnd = phone.state()["round"]
    assert rnd["status"] == "open"
    assert 25 <= rnd["closes_in"] <= 30
    assert rnd["closes_at"].endswith("Z")
    assert phone.vote({"library": "want"}).status_code == 200  # still open until then
    page = phone.c.get(f"/m/{meeting.code}").text
    assert 'id="countdown"' in page and "Voting closes in" in page
    assert ("round.countdown", {"round": 1, "seconds": 30, "closes_at": rnd["closes_at"]}) in (
        audit_kinds(meeting)
    )


def test_a_ballot_at_or_after_closes_at_is_refused_and_the_server_closes_the_round(
    server: LiveServer,
    meeting: Meeting,
    phones: Callable[[], Phone],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Once the countdown has ended a ballot is refused with the usual "round closed", even
    before the close itself; the server then closes the round (sealed, logged with the end)."""
    meeting.open_round()
    phone = phones()
    round_id = phone.round_id()
    assert phone.vote({"library": "want"}).status_code == 200
    meeting.post("/rounds/1/countdown", seconds="60")
    set_closes_at(server, meeting, 1, -1)
    r = phone.vote({"library": "dont_want"}, round_id=round_id)
    assert r.status_code == 409 and r.json()["error"]["code"] == "round_closed"
    wait_for(lambda: meeting.state()["round"]["status"] == "closed", "the round closed")
    assert "closes_in" not in meeting.state()["round"]
    closed = [d for k, d in audit_kinds(meeting) if k == "round.closed"]
    assert len(closed) == 1 and "countdown_ended" in closed[0] and closed[0]["ballots"] == 1
    exports_verify(meeting, tmp_path, capsys)


def test_start_up_closes_a_countdown_that_ended_while_stopped(
    settings: Settings, tmp_path: Path
) -> None:
    """A countdown survives nothing in memory: the next start closes the overdue round."""
    with LiveServer(settings) as first:
        f = first.browser()
        f.get(f"/facilitator?key={FACILITATOR_KEY}")
        meeting = Meeting(f)
        meeting.open_round()
        meeting.post("/rounds/1/countdown", seconds="60")
        set_closes_at(first, meeting, 1, -5)
        meeting_id = meeting.id
    with LiveServer(settings) as second:
        rnd = stored_round(second, meeting, 1)  # read before any request: start-up did it
        assert rnd.status == "closed" and rnd.closes_at is None and rnd.turnout is not None
        assert meeting_id == rnd.meeting_id


def test_a_countdown_can_be_cancelled_and_bad_ones_are_refused(
    server: LiveServer, meeting: Meeting
) -> None:
    """Cancel until it ends; a countdown of another length, twice, or on a closed round is
    refused and changes nothing."""
    meeting.open_round()
    assert "10, 30, 60" in refused(meeting, "/rounds/1/countdown", 400, seconds="5")
    refused(meeting, "/rounds/1/countdown", 400, seconds="x" * 30)
    assert stored_round(server, meeting, 1).closes_at is None
    meeting.post("/rounds/1/countdown", seconds="10")
    refused(meeting, "/rounds/1/countdown", 409, seconds="10")
    meeting.post("/rounds/1/cancel")
    assert "closes_in" not in meeting.state()["round"]
    assert meeting.state()["round"]["status"] == "open"
    refused(meeting, "/rounds/1/cancel", 409)
    meeting.close_round(1)
    refused(meeting, "/rounds/1/countdown", 409, seconds="10")
    kinds = [k for k, _ in audit_kinds(meeting)]
    assert kinds.count("round.countdown") == 1 and "round.countdown_cancelled" in kinds


def test_closing_voiding_and_reopening_ask_first(server: LiveServer, meeting: Meeting) -> None:
    """Without `confirm` each answers with the question and changes nothing."""
    meeting.open_round()
    for action, question in (("close", "Close round 1?"), ("void", "Void round 1?")):
        r = meeting.f.post(
            f"/console/{meeting.id}/rounds/1/{action}", data={"csrf": meeting.csrf, "reason": "x"}
        )
        assert r.status_code == 200 and question in r.text
        assert 'name="reason" value="x"' in r.text or action == "close"
    assert stored_round(server, meeting, 1).status == "open"
    meeting.close_round(1)
    r = meeting.f.post(f"/console/{meeting.id}/rounds/1/reopen", data={"csrf": meeting.csrf})
    assert r.status_code == 200 and "Reopen round 1?" in r.text
    assert stored_round(server, meeting, 1).status == "closed"


def test_a_voided_round_stays_in_the_record_but_never_shows_or_decides(
    server: LiveServer,
    meeting: Meeting,
    phones: Callable[[], Phone],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Voiding an open rehearsal round closes it first; its ballots stay; it cannot be
    revealed or made final; the audit chain verifies with it."""
    meeting.open_round()
    phone = phones()
    assert phone.vote({"library": "want"}).status_code == 200
    too_long = "x" * 201
    assert "at most 200" in refused(meeting, "/rounds/1/void", 400, reason=too_long)
    assert stored_round(server, meeting, 1).status == "open"
    meeting.post("/rounds/1/void", confirm="yes", reason="Rehearsal")
    rnd = stored_round(server, meeting, 1)
    assert rnd.status == "voided" and rnd.void_reason == "Rehearsal" and rnd.voided_at
    assert "Rehearsal" in meeting.f.get(f"/console/{meeting.id}").text
    assert meeting.state()["round"] is None and meeting.state()["results"] is None
    assert "voided" in refused(meeting, "/rounds/1/reveal", 409)
    assert "voided" in refused(meeting, "/rounds/1/final", 409)
    refused(meeting, "/rounds/1/void", 409)
    refused(meeting, "/rounds/1/reopen", 409)
    assert meeting.state()["results"] is None
    csv = meeting.f.get(f"/console/{meeting.id}/export/ballots.csv").text
    assert "library" in csv  # its ballots stay in the record
    kinds = [(k, d) for k, d in audit_kinds(meeting) if k.startswith("round.")]
    assert [k for k, _ in kinds] == ["round.opened", "round.closed", "round.voided"]
    assert kinds[-1][1] == {"round": 1, "reason": "Rehearsal"}
    exports_verify(meeting, tmp_path, capsys)
    # The next round is round 2 and the Run page starts over: open a round first.
    page = meeting.f.get(f"/console/{meeting.id}").text
    assert 'data-step="first"' in page and "Open round 2" in page


def test_reopen_keeps_ballots_and_is_refused_after_reveal_or_a_later_round(
    server: LiveServer,
    meeting: Meeting,
    phones: Callable[[], Phone],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A closed, unrevealed last round opens again with its ballots; closing seals it again;
    once revealed, or once a later round exists, it cannot be reopened."""
    meeting.open_round()
    first, second = phones(), phones()
    assert first.vote({"library": "want"}).status_code == 200
    meeting.close_round(1)
    meeting.post("/rounds/1/reopen", confirm="yes")
    assert meeting.state()["round"]["status"] == "open"
    assert second.vote({"library": "dont_want"}).status_code == 200
    # Open again, its first seal no longer binds it: the exports verify (the round is noted
    # as open, not checked against a seal its new ballots would break).
    exports_verify(meeting, tmp_path, capsys)
    meeting.close_round(1)
    assert stored_round(server, meeting, 1).turnout["voted"] == 2  # type: ignore[index]
    exports_verify(meeting, tmp_path, capsys)
    meeting.reveal(1)
    assert "revealed" in refused(meeting, "/rounds/1/reopen", 409)
    meeting.post("/rounds/1/hide")
    meeting.open_round("library")
    meeting.close_round(2)
    assert "later round" in refused(meeting, "/rounds/1/reopen", 409)
    assert ("round.reopened", {"round": 1}) in audit_kinds(meeting)


def test_final_rounds_are_marked_and_unmarked(server: LiveServer, meeting: Meeting) -> None:
    """Only a closed round can be final; the mark comes off again; both are logged."""
    meeting.open_round()
    assert "Close round 1" in refused(meeting, "/rounds/1/final", 409)
    meeting.close_round(1)
    meeting.post("/rounds/1/final")
    assert stored_round(server, meeting, 1).final
    meeting.post("/rounds/1/unfinal")
    assert not stored_round(server, meeting, 1).final
    finals = [d for k, d in audit_kinds(meeting) if k == "round.final"]
    assert finals == [{"round": 1, "final": True}, {"round": 1, "final": False}]


def test_the_run_page_puts_the_next_step_first(meeting: Meeting, facilitator: httpx.Client) -> None:
    """Open → Close → Preview → Reveal → Open the next round; after a close the open-round
    form is folded below, nothing ticked."""

    def step() -> str:
        page = facilitator.get(f"/console/{meeting.id}").text
        return page.split('data-step="', 1)[1].split('"', 1)[0]

    assert step() == "first"
    meeting.open_round()
    assert step() == "open"
    meeting.post("/rounds/1/countdown", seconds="60")
    assert step() == "closing"
    meeting.post("/rounds/1/cancel")
    meeting.close_round(1)
    assert step() == "closed"
    page = facilitator.get(f"/console/{meeting.id}").text
    folded = page.split('id="open-later"', 1)[1]
    assert 'name="proposal"' in folded and " checked" not in folded.split("</details>")[0]
    assert page.index("Preview results") < page.index('id="open-later"')
    assert facilitator.get(f"/console/{meeting.id}/rounds/1").status_code == 200
    assert step() == "previewed"
    meeting.reveal(1)
    assert step() == "revealed"
