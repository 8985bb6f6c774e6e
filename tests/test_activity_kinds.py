"""Activity kinds (app/voting/activity.py, kinds.py): a second kind, registered here, runs end
to end through the machinery every kind shares, and the room vote stays what it was.

The kind is a 1-5 rating of the meeting's proposals. It states only its key, its items with
their scale and that its result is each answer's count (activity.CountingKind): the ballot
path, keypads, paper, turnout, close, reveal, the audit log and the exports are the room
vote's own code.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.core import shapes
from app.core.errors import Conflict
from app.core.messages import N_
from app.rules import answers
from app.rules.scales import RangeScale
from app.voting import kinds
from app.voting.activity import CountingKind, Item
from app.voting.db import transaction
from app.voting.meetings import proposals_of
from app.voting.models import Ballot, Round
from app.web.services import Services
from tests.conftest import LiveServer, Meeting, Phone, Socket, csrf_of
from tests.test_keypads import capture, eventually, import_keypads
from tests.test_paper import key
from tests.test_shapes import Conformance

RATING_SCALE = RangeScale(1, 5, {1: N_("Very poor"), 5: N_("Very good")})


class Rating(CountingKind):
    """Rate proposals of the meeting from 1 (very poor) to 5 (very good)."""

    key: ClassVar[str] = "rating"
    label: ClassVar[str] = N_("Rating")
    answer_scales: ClassVar[tuple[RangeScale, ...]] = (RATING_SCALE,)

    def available(self, session: Session, meeting_id: int) -> list[Item]:
        return [
            Item(p.key, p.title, RATING_SCALE, p.description, p.translations or {})
            for p in proposals_of(session, meeting_id)
        ]


RATING = Rating()


@pytest.fixture(autouse=True)
def rating_kind() -> Iterator[Rating]:
    kinds.register(RATING)
    yield RATING
    kinds.unregister(RATING.key)


def services_of(server: LiveServer) -> Services:
    services: Services = server.app.state.services
    return services


def audit_links(meeting: Meeting) -> list[dict[str, Any]]:
    text = meeting.f.get(f"/console/{meeting.id}/export/audit.jsonl").text
    return [json.loads(line) for line in text.splitlines()]


def ballot_links(meeting: Meeting) -> int:
    return sum(link["kind"] == "ballot" for link in audit_links(meeting))


def error_of(r: Any) -> tuple[int, str, str]:
    err = r.json()["error"]
    return r.status_code, err["code"], err["message"]


def cast_frame(
    round_id: int, marks: dict[str, Any], ballot_id: str | None = None
) -> dict[str, Any]:
    return {
        "type": "cast",
        "ballot_id": ballot_id or uuid.uuid4().hex,
        "round": round_id,
        "marks": marks,
    }


def test_a_second_kind_runs_end_to_end_through_the_shared_path(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Open a rating, answer it by socket, API, form and keypad; refuse what is not a rating;
    one response per voter; audit, turnout, close, reveal, exports and the result agree."""
    assert import_keypads(meeting, "keypad,label,segments\nwedge:7,K7,\n").status_code == 303
    # The console offers the registered kind its own form; it opens a round of it.
    assert 'name="kind" value="rating"' in meeting.f.get(f"/console/{meeting.id}").text
    meeting.post("/rounds", kind="rating", proposal=["toilets", "library"], keypads="on")
    state = meeting.state()
    shape = Conformance()  # the snapshot of another kind matches the shapes too, key for key
    shape.check(state, shapes.MeetingState, "rating open")
    rnd = state["round"]
    assert (rnd["kind"], rnd["view"], rnd["keypad_step"]) == ("rating", "distribution", 0)
    assert [p["id"] for p in rnd["proposals"]] == ["library", "toilets"]  # the kind's order
    assert rnd["proposals"][0]["scale"]["answers"][4] == {
        "value": "5",
        "key": 5,
        "label": "Very good",
    }
    opened = [link for link in audit_links(meeting) if link["kind"] == "round.opened"]
    assert opened[-1]["data"] == {
        "kind": "rating",
        "keypads": True,
        "proposals": ["library", "toilets"],
        "round": 1,
    }

    # A phone over the socket: acked after commit; the same ballot again changes nothing.
    a, b, c = phones(), phones(), phones()
    rid = a.round_id()
    with Socket(server, meeting.code, a.c) as ws:
        ws.until(lambda m: m["type"] == "snapshot")
        frame = cast_frame(rid, {"library": "4", "toilets": "5"}, "rating-ballot-a1")
        for _ in range(2):
            ws.send(frame)
            assert ws.until(lambda m: m["type"] in ("ack", "error"))["type"] == "ack"
        assert ballot_links(meeting) == 1
        # Out of scale: refused with the reason, and the stored ballot stands.
        ws.send(cast_frame(rid, {"library": "0"}))
        err = ws.until(lambda m: m["type"] == "error")
        assert err["code"] == "bad_input"
        assert err["message"] == (
            "An answer on library must be a whole number from 1 to 5, not '0'."
        )
    assert a.state()["you"]["ballot"]["marks"] == {"library": "4", "toilets": "5"}

    # A phone over the HTTP API, and the same refusals there.
    assert b.vote({"library": "2"}).status_code == 200
    for bad in ("6", "want", "04", " 3", "3.0"):
        status, code, message = error_of(b.vote({"library": bad}))
        assert (status, code) == (400, "bad_input") and f"not {bad!r}" in message
    status, code, message = error_of(b.vote({"library": "3", "respite": "3"}))
    assert (status, code, message) == (400, "bad_input", "Item(s) not in round 1: respite.")
    assert b.state()["you"]["ballot"]["marks"] == {"library": "2"}
    number: dict[str, Any] = {"library": 3}  # a JSON number is not an answer: "3" is
    assert b.vote(number).status_code == 400

    # The no-JavaScript form: the phone page draws the rating from its scale.
    page = c.c.get(f"/m/{meeting.code}").text
    assert 'name="mark:library" value="5"' in page and "Very good" in page
    r = c.c.post(
        f"/m/{meeting.code}/ballot",
        data={
            "csrf": c.csrf,
            "round": str(rid),
            "ballot_id": uuid.uuid4().hex,
            "mark:library": "3",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text

    # A keypad: key 4 on the item on screen (library) is the rating 4.
    assert capture(meeting, "7 4").json()["accepted"] is True
    eventually(lambda: meeting.state()["turnout"]["voted"] == 4)
    projector = meeting.f.get(f"/p/{meeting.code}").text
    assert '"keypad_item"' in projector and '"label:Very good"' in projector

    # One response per voter: a new ballot replaces the voter's last one...
    assert a.vote({"library": "1", "toilets": "5"}).status_code == 200
    assert meeting.state()["turnout"]["voted"] == 4
    # ...and the database itself refuses a second row for the same voter in the round.
    services = services_of(server)
    with pytest.raises(IntegrityError), transaction(services.engine) as session:
        stored = session.exec(select(Ballot).where(Ballot.round_id == rid)).first()
        assert stored is not None
        session.add(Ballot(round_id=rid, voter_id=stored.voter_id, ballot_uid="x" * 8, marks={}))
        session.flush()

    # Audited: each stored version appended one `ballot` link (not the resend, not a refusal).
    assert ballot_links(meeting) == 5
    turnout = meeting.state()["turnout"]
    assert (turnout["voted"], turnout["by_channel"]["keypad"]) == (4, 1)

    meeting.close_round(1)
    assert meeting.state()["results"] is None  # hidden until revealed, like any round
    meeting.reveal(1)
    revealed = meeting.state()
    shape.check(revealed, shapes.MeetingState, "rating revealed")
    assert shape.problems == []
    results = revealed["results"]
    library, toilets = results["answers"]
    assert library == {
        "id": "library",
        "answered": 4,
        "counts": {"1": 1, "2": 1, "3": 1, "4": 1, "5": 0},
        "mean": "2.50",
    }
    assert toilets == {
        "id": "toilets",
        "answered": 1,
        "counts": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1},
        "mean": "5.00",
    }
    assert [i["id"] for i in results["items"]] == ["library", "toilets"]
    closed = [link for link in audit_links(meeting) if link["kind"] == "round.closed"]
    assert closed[-1]["data"]["ballots"] == 4

    # Exports: the round's ballots (an item a voter left has no row) and its results, which
    # the kind's pure function gives again from the exported ballots alone.
    base = f"/console/{meeting.id}/rounds/1/export"
    rows = list(csv.DictReader(io.StringIO(meeting.f.get(f"{base}/ballots.csv").text)))
    assert sorted((r["proposal"], r["mark"]) for r in rows) == [
        ("library", "1"),
        ("library", "2"),
        ("library", "3"),
        ("library", "4"),
        ("toilets", "5"),
    ]
    assert (
        meeting.f.get(f"{base}/groups.csv").text == "round,group,proposal,voters,want,dont_want\n"
    )
    exported = json.loads(meeting.f.get(f"{base}/results.json").text)["rounds"][0]
    by_voter: dict[str, dict[str, str]] = {}
    for row in rows:
        by_voter.setdefault(row["voter"], {})[row["proposal"]] = row["mark"]
    items = [("library", RATING_SCALE), ("toilets", RATING_SCALE)]
    recounted = answers.answers_to_json(answers.count_answers(items, by_voter.values()))
    assert exported == {"round": "1", **recounted}
    assert {k: v for k, v in results.items() if k != "items"} == recounted
    page = meeting.f.get(f"/console/{meeting.id}/rounds/1").text
    assert "Mean 2.50." in page and "Very good" in page
    # The results report (HTML and PDF) and the bundle hold the round like any other.
    report = meeting.f.get(f"/console/{meeting.id}/report.html").text
    assert "4 answered · mean 2.50" in report and "Very good" in report
    assert meeting.f.get(f"/console/{meeting.id}/report.pdf").content.startswith(b"%PDF")
    bundle = meeting.f.get(f"/console/{meeting.id}/export/bundle.zip")
    assert bundle.status_code == 200 and bundle.content.startswith(b"PK")


def test_paper_sheets_of_another_kind_are_printed_keyed_and_counted_from_its_scale(
    server: LiveServer, meeting: Meeting
) -> None:
    """The sheet shows each item's answers; a keying outside the scale is refused; matched
    sheets count as paper ballots of the rating."""
    meeting.post("/rounds", kind="rating", proposal=["library"])
    printed = meeting.f.get(f"/console/{meeting.id}/rounds/1/paper/print?from=1&count=1").text
    assert 'data-mark="5"' in printed and "Very good" in printed
    form = meeting.f.get(f"/console/{meeting.id}/rounds/1/paper/key/1").text
    assert 'name="mark:library" value="5"' in form and 'name="mark:library" value=""' in form
    r = key(meeting, 1, 1, {"library": "9"})
    assert r.status_code == 400 and "from 1 to 5, not &#39;9&#39;" in r.text
    for keying in (1, 2):
        assert key(meeting, keying, 1, {"library": "5"}).status_code == 303
    meeting.post("/rounds/1/paper/count")
    eventually(lambda: meeting.state()["turnout"]["voted"] == 1)
    meeting.close_round(1)
    meeting.reveal(1)
    assert meeting.state()["results"]["answers"][0]["counts"]["5"] == 1


def test_a_round_stored_without_a_kind_is_a_room_vote(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """round.kind NULL (every round before migration 0004) reads as the room vote."""
    meeting.open_round()
    with transaction(services_of(server).engine) as session:
        session.execute(sa.update(Round).values(kind=None))
    services_of(server).changed(meeting.id)
    assert phones().vote({"library": "want"}).status_code == 200
    eventually(lambda: meeting.state()["round"]["kind"] == "room_vote")
    opened = [link for link in audit_links(meeting) if link["kind"] == "round.opened"]
    assert "kind" not in opened[0]["data"]  # a room vote's link is as it always was


def test_a_round_of_a_kind_this_version_lacks_refuses_ballots_clearly(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """A kind that is not registered (a newer version's database) is a 409, nothing stored."""
    meeting.open_round()
    phone = phones()
    rid = phone.round_id()
    with transaction(services_of(server).engine) as session:
        session.execute(sa.update(Round).values(kind="hustings"))
    services_of(server).changed(meeting.id)
    eventually(lambda: meeting.state()["round"]["kind"] == "hustings")
    assert meeting.state()["round"]["proposals"] == []  # the room sees the round, no items
    assert phone.c.get(f"/m/{meeting.code}").status_code == 200
    status, code, message = error_of(phone.vote({"library": "want"}, round_id=rid))
    assert (status, code) == (409, "conflict")
    assert (
        message == "This round is a hustings activity, which this version of Covote does not know."
    )
    with transaction(services_of(server).engine) as session:
        assert session.exec(select(Ballot)).first() is None


def test_opening_a_kind_checks_its_items_and_keypads(meeting: Meeting) -> None:
    """Unknown kinds and items are refused; keypads only where every item's scale has keys."""
    url = f"/console/{meeting.id}/rounds"
    for data, says in [
        ({"kind": "poll", "proposal": "library"}, "Unknown activity kind &#39;poll&#39;"),
        ({"kind": "rating", "proposal": "castle"}, "Unknown item(s): castle."),
        ({"kind": "rating"}, "Choose at least one item for the round."),
    ]:
        r = meeting.f.post(url, data={"csrf": csrf_of(meeting.f), **data})
        assert r.status_code == 400 and says in r.text, r.text


def test_the_registry_is_explicit() -> None:
    """A key is registered once; the room vote cannot be removed; an odd key is refused."""
    with pytest.raises(ValueError, match="another activity kind"):
        kinds.register(Rating())
    kinds.register(RATING)  # the same kind again: no change
    with pytest.raises(ValueError, match="cannot be unregistered"):
        kinds.unregister("room_vote")

    class Odd(Rating):
        key: ClassVar[str] = "Not A Key"

    with pytest.raises(ValueError, match="short lowercase id"):
        kinds.register(Odd())
    assert list(kinds.kinds()) == [
        "room_vote",
        "survey",
        "lab",
        "charter",
        "charter_review",
        "rating",
    ]
    assert kinds.kind_named(None).key == "room_vote"
    with pytest.raises(Conflict):
        kinds.kind_named("hustings")


@pytest.mark.parametrize(
    ("ballots", "counts", "mean"),
    [
        ([], {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}, None),
        ([{"q": "5"}, {"q": "4"}, {}], {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}, "4.50"),
        ([{"q": "1"}, {"q": "1"}, {"q": "2"}], {"1": 2, "2": 1, "3": 0, "4": 0, "5": 0}, "1.33"),
    ],
)
def test_count_answers_counts_every_answer_of_the_scale(
    ballots: list[dict[str, str]], counts: dict[str, int], mean: str | None
) -> None:
    """Each answer in the scale's order (zeros too), who answered, the mean half to even."""
    (item,) = answers.answers_to_json(answers.count_answers([("q", RATING_SCALE)], ballots))[
        "answers"
    ]
    assert item["counts"] == counts and item.get("mean") == mean
    assert item["answered"] == sum(1 for b in ballots if b)


def test_count_answers_refuses_what_no_ballot_could_hold() -> None:
    """An unknown item or an answer outside its scale is a ValueError, never a guess."""
    with pytest.raises(ValueError, match="not an item"):
        answers.count_answers([("q", RATING_SCALE)], [{"r": "1"}])
    with pytest.raises(ValueError, match="not an answer"):
        answers.count_answers([("q", RATING_SCALE)], [{"q": "7"}])
