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

from tests.conftest import LiveServer, Meeting, Phone
from tests.test_charter_room import CHARTER, text_of, upload
from tests.test_charter_sign import chain, sign

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
    for key, (en, cy) in reports.items():
        data[f"report:{key}"], data[f"report_cy:{key}"] = en, cy
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
