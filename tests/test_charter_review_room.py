"""The charter's review meetings (issue 17): started from the Charter page of a signed or
adopted charter (asked first), the parties' reports entered before rating and shown first on
phones and the projector, the review round (kind `charter_review`) rated by phones, keypads
and paper, its scorecard per party on the console, the projector and the report with nothing
about fewer than m people, and the history across reviews of the same charter.

Over HTTP on SQLite and PostgreSQL (the `settings` fixture)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx

from app.core import shapes
from tests.conftest import LiveServer, Meeting, Phone
from tests.test_charter_room import CHARTER, text_of, upload
from tests.test_charter_sign import chain, pdf_text, sign
from tests.test_keypads import capture, eventually, import_keypads
from tests.test_paper import key
from tests.test_shapes import Conformance

REVIEWED: dict[str, Any] = {
    **CHARTER,
    "commitments": [
        {
            "key": "respite-fund",
            "party": "council",
            "what": "Fund 40 respite nights a month.",
            "what_cy": "Ariannu 40 noson o seibiant y mis.",
        },
        {"key": "library-van", "party": "council", "what": "Keep the library van on the road."},
        {"key": "litter-picks", "party": "residents", "what": "A litter pick every month."},
    ],
}
ITEMS = ["respite-fund", "library-van", "litter-picks"]


def existing(facilitator: httpx.Client, meeting_id: int, csrf: str) -> Meeting:
    """A `Meeting` handle on a meeting the console made (not imported by the test)."""
    m = Meeting.__new__(Meeting)
    m.f, m.id, m.csrf = facilitator, meeting_id, csrf
    page = facilitator.get(f"/console/{meeting_id}").text
    found = re.search(r'class="code">([A-Z0-9]{6})<', page)
    assert found
    m.code = found.group(1)
    return m


def start_review(source: Meeting, title: str = "Ashdown charter review") -> Meeting:
    r = source.f.post(
        f"/console/{source.id}/charter/review",
        data={"csrf": source.csrf, "title": title, "confirm": "yes"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    new_id = int(r.headers["location"].split("/")[2])
    return existing(source.f, new_id, source.csrf)


def signed_source(meeting: Meeting) -> None:
    assert upload(meeting, json.dumps(REVIEWED)).status_code == 303
    assert sign(meeting).status_code == 303


def save_reports(meeting: Meeting, **reports: tuple[str, str]) -> httpx.Response:
    data: dict[str, str] = {"csrf": meeting.csrf}
    for commitment, (en, cy) in reports.items():
        data[f"report:{commitment}"], data[f"report_cy:{commitment}"] = en, cy
    return meeting.f.post(
        f"/console/{meeting.id}/charter/reports", data=data, follow_redirects=False
    )


def rate(review: Meeting, phone: Callable[[], Phone], votes: list[dict[str, str]]) -> None:
    for marks in votes:
        assert phone().vote(marks).status_code == 200


def test_a_review_meeting_is_started_only_from_a_signed_charter_and_asked_first(
    meeting: Meeting,
) -> None:
    """No review before the charter is signed or adopted; the first POST asks; the review holds
    the charter, links to its source, and its chain says so."""
    assert upload(meeting, json.dumps(REVIEWED)).status_code == 303
    page = meeting.f.get(f"/console/{meeting.id}/charter").text
    assert "/charter/review" not in page
    r = meeting.f.post(
        f"/console/{meeting.id}/charter/review",
        data={"csrf": meeting.csrf, "title": "Too soon", "confirm": "yes"},
        follow_redirects=False,
    )
    assert r.status_code == 409 and "signed or adopted" in r.text
    assert sign(meeting).status_code == 303
    page = meeting.f.get(f"/console/{meeting.id}/charter").text
    assert "Start a review meeting" in page and "Ashdown" in page
    asked = meeting.f.post(
        f"/console/{meeting.id}/charter/review",
        data={"csrf": meeting.csrf, "title": "Review one"},
        follow_redirects=False,
    )
    assert asked.status_code == 200 and "Start a review meeting of this charter?" in asked.text
    r = meeting.f.post(
        f"/console/{meeting.id}/charter/review",
        data={"csrf": meeting.csrf, "title": "  ", "confirm": "yes"},
        follow_redirects=False,
    )
    assert r.status_code == 400  # a title is needed; nothing is made
    review = start_review(meeting, "Review one")
    assert review.id != meeting.id
    page = review.f.get(f"/console/{review.id}/charter").text
    assert "The parties&#39; reports" in page and "Fund 40 respite nights a month." in page
    assert chain(review)[0]["data"]["review_of"] == meeting.code
    # The source lists its review; a review of the review names the same first meeting.
    assert "Review one" in meeting.f.get(f"/console/{meeting.id}/charter").text
    second = start_review(review, "Review two")
    assert chain(second)[0]["data"]["review_of"] == meeting.code
    listed = meeting.f.get(f"/console/{meeting.id}/charter").text
    assert "Review one" in listed and "Review two" in listed


def test_reports_are_bounded_and_refused_while_a_review_round_is_open(
    meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Reports save English and Welsh, all or none; too long, unknown or while open: refused."""
    signed_source(meeting)
    review = start_review(meeting)
    assert save_reports(review, **{"respite-fund": ("x" * 2001, "")}).status_code == 400
    assert save_reports(review, nobody=("Done", "")).status_code == 400
    r = save_reports(review, **{"respite-fund": ("We funded 38 nights.", "Ariannwyd 38 noson.")})
    assert r.status_code == 303
    assert chain(review)[-1]["kind"] == "charter.reports"
    page = review.f.get(f"/console/{review.id}/charter").text
    assert "We funded 38 nights." in page and "Ariannwyd 38 noson." in page
    # A report on the source (not a review) is refused.
    assert save_reports(meeting, **{"respite-fund": ("No", "")}).status_code == 404
    review.post("/rounds", kind="charter_review", proposal=ITEMS)
    r = save_reports(review, **{"respite-fund": ("Changed", "")})
    assert r.status_code == 409 and "review round is open" in r.text


def test_a_review_round_is_rated_by_phone_keypad_and_paper_and_scored_with_nothing_under_m(
    server: LiveServer, meeting: Meeting
) -> None:
    """m = 2. The report comes first on the phone and the projector; respite is rated kept 3,
    partly 1 (88%), the library van partly, not and kept on paper (50%), the council 71% over
    their 7 ratings; the litter pick, rated once, shows no figures anywhere (console, projector,
    results.json, the report and its PDF) and the residents have no score."""
    signed_source(meeting)
    review = start_review(meeting)

    def phone() -> Phone:
        return Phone(server.browser(), review.code)

    report = ("We funded 38 nights a month.", "Ariannwyd 38 noson y mis.")
    assert save_reports(review, **{"respite-fund": report}).status_code == 303
    assert import_keypads(review, "keypad,label,segments\nwedge:7,K7,\n").status_code == 303
    run = review.f.get(f"/console/{review.id}").text
    assert 'name="kind" value="charter_review"' in run
    review.post("/rounds", kind="charter_review", proposal=ITEMS, keypads="on")
    rnd = review.state()["round"]
    assert rnd["kind"] == "charter_review" and [p["id"] for p in rnd["proposals"]] == ITEMS
    respite = rnd["proposals"][0]
    assert respite["description"] == report[0]
    assert respite["translations"]["cy"] == {
        "title": "Ariannu 40 noson o seibiant y mis.",
        "description": report[1],
    }
    assert respite["group"]["title"] == "Ashdown Council"
    assert [a["key"] for a in respite["scale"]["answers"]] == [1, 2, 3]
    # The phone's screen: the party's report before the commitment it rates, in Welsh too.
    first = phone()
    page = first.c.get(f"/m/{review.code}").text
    assert page.index(report[0]) < page.index("Fund 40 respite nights a month.")
    assert "The party gave no report on this commitment." in page
    cy = first.c.get(f"/m/{review.code}", params={"lang": "cy"}).text
    assert report[1] in cy
    # The charter cannot change while the round is open.
    assert upload(review, json.dumps({**REVIEWED, "title": "Changed"})).status_code == 409

    votes = [
        {"respite-fund": "kept", "library-van": "partly", "litter-picks": "kept"},
        {"respite-fund": "kept", "library-van": "not"},
        {"respite-fund": "partly"},
    ]
    assert first.vote(votes[0]).status_code == 200
    rate(review, phone, votes[1:])
    assert phone().vote({"respite-fund": "maybe"}).status_code == 400
    assert capture(review, "7 1").json()["accepted"] is True  # keypad 1: kept (respite)
    # Paper: the generic sheet and keying, counted as a paper ballot.
    sheet = review.f.get(f"/console/{review.id}/rounds/1/paper/print?from=1&count=1").text
    assert "Partly kept" in sheet and "Keep the library van on the road." in sheet
    for keying in (1, 2):
        assert key(review, keying, 1, {"library-van": "kept"}).status_code == 303
    review.post("/rounds/1/paper/count")
    eventually(lambda: review.state()["turnout"]["voted"] == 5)
    review.close_round(1)
    review.reveal(1)

    state = review.state()
    shape = Conformance()
    shape.check(state, shapes.MeetingState, "review revealed")
    assert shape.problems == []
    results = state["results"]
    assert [a["id"] for a in results["answers"]] == ["respite-fund", "library-van"]
    assert [i["id"] for i in results["items"]] == ["respite-fund", "library-van"]
    council, residents = results["review"]["parties"]
    assert (council["score"], council["n"], council["kept"], council["partly"]) == (71, 7, 4, 2)
    assert [c["score"] for c in council["commitments"]] == [88, 50]
    assert residents["score"] is None and residents["n"] == 0
    (litter,) = residents["commitments"]
    assert litter == {
        "commitment": "litter-picks",
        "n": None,
        "kept": None,
        "partly": None,
        "not_kept": None,
        "score": None,
        "suppressed": True,
    }
    record = review.f.get(f"/console/{review.id}/export/results.json").json()["rounds"][0]
    assert record["review"] == results["review"]
    assert "litter-picks" not in json.dumps(record["answers"])

    console = text_of(review.f.get(f"/console/{review.id}/rounds/1").text)
    assert "Scorecard" in console and "Ashdown Council 71%" in console
    assert "A litter pick every month. Fewer than 2 rated: not shown" in console
    charts = review.f.get(f"/p/{review.code}/charts").text
    assert "71%" in charts and "Fewer than 2 rated: not shown" in charts
    assert "<svg" in charts and "The scorecard across reviews" in charts

    html = text_of(review.f.get(f"/console/{review.id}/report.html").text)
    assert "Charter review: scorecard" in html and "Ashdown Council 71% 7 4 2 1" in html
    assert "A litter pick every month. \u2013 Fewer than 2 rated: not shown" in html
    pdf = pdf_text(review.f.get(f"/console/{review.id}/report.pdf").content)
    assert "Charter review: scorecard" in pdf and "71%" in pdf and "88%" in pdf
    assert "A litter pick every month. \u2013 Fewer than 2 rated: not shown" in pdf
    welsh = review.f.get(f"/console/{review.id}/report.html", params={"lang": "cy"}).text
    assert "Ariannu 40 noson o seibiant y mis." in welsh


def test_the_history_follows_the_charter_across_two_reviews(
    server: LiveServer, meeting: Meeting
) -> None:
    """The second review's results show both reviews' scores for each party, oldest first, on
    the projector and in the report; a review of the source's other review is not its past."""
    signed_source(meeting)
    first = start_review(meeting, "Review 2026")
    first.post("/rounds", kind="charter_review", proposal=ITEMS)
    rate(
        first,
        lambda: Phone(server.browser(), first.code),
        [
            {"respite-fund": "not", "litter-picks": "kept"},
            {"respite-fund": "partly", "litter-picks": "kept"},
        ],
    )
    first.close_round(1)
    second = start_review(first, "Review 2027")
    second.post("/rounds", kind="charter_review", proposal=ITEMS)
    rate(
        second,
        lambda: Phone(server.browser(), second.code),
        [{"respite-fund": "kept", "litter-picks": "partly"}, {"respite-fund": "kept"}],
    )
    second.close_round(1)
    second.reveal(1)
    history = second.state()["results"]["history"]
    assert [r.split(" (")[0] for r in history["reviews"]] == ["Review 2026", "Review 2027"]
    assert history["parties"] == ["council", "residents"]
    assert [p["score"] for p in history["points"]["council"]] == [25, 100]
    assert history["points"]["council"][1]["change"] == 75
    # Residents: 100% in 2026; one rating in 2027 (under m = 2): no score, no change.
    assert history["points"]["residents"] == [
        {"score": 100, "n": 2, "change": None},
        {"score": None, "n": 0, "change": None},
    ]
    charts = second.f.get(f"/p/{second.code}/charts").text
    assert "The scorecard across reviews" in charts and "Review 2026" in charts
    html = text_of(second.f.get(f"/console/{second.id}/report.html").text)
    assert "The scorecard across reviews" in html and "Review 2027" in html
    # The first review's own history stops at itself.
    first.reveal(1)
    assert len(first.state()["results"]["history"]["reviews"]) == 1
