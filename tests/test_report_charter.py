"""The results report of a meeting with charter consent rounds (issue 17): the charter's
adoption rule instead of the room vote's when it holds no room vote, each clause's decision with
every wording's answers per consent level, outcome, reasons and blocking groups (a group under
m without figures), in HTML and PDF, English and Welsh; the Welsh report titled and footed with
the meeting's Welsh title."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx

from app.core import shapes
from app.record import report, report_pdf
from app.web.i18n import gettext_for
from app.web.rendering import TEMPLATES
from tests.conftest import MEETING, LiveServer, Meeting, Phone
from tests.test_charter_room import CHARTER, upload
from tests.test_report import budget_results, pdf_text, text_of

AT = datetime(2026, 12, 5, 19, 30, tzinfo=UTC)
RESPITE = "Carers get a respite break every month."
RESPITE_CY = "Mae gofalwyr yn cael seibiant bob mis."
FORTNIGHT = "The mobile library visits every village each fortnight."


def _item(key: str, title: str, clause: str, cy: str = "") -> shapes.ItemView:
    return {
        "id": key,
        "title": title,
        "description": "",
        "translations": {"cy": {"title": cy}} if cy else {},
        "scale": {"type": "choice", "answers": []},
        "group": {"id": clause, "title": "Care", "translations": {}},
    }


def _wording(
    item: str,
    answers: list[int],
    category: str,
    reasons: list[str],
    groups: tuple[str, ...] = (),
    affected: tuple[shapes.ConsentGroupRecord, ...] = (),
) -> shapes.WordingRecord:
    return {
        "item": item,
        "V": sum(answers),
        "answers": answers,
        "category": category,
        "reasons": reasons,
        "groups": list(groups),
        "affected": list(affected),
    }


def charter_view() -> shapes.CharterView:
    """Respite blocked by its carers (2 of 2, m = 2) though the room supports it; the library
    clause needs a change and its amendment (clause 2's) is adopted; the one northern voter is
    too few to show."""
    carers: shapes.ConsentGroupRecord = {
        "group": "carer", "V": 2, "support": 0, "change": 0, "block": 2, "blocks": True,
        "suppressed": False,
    }  # fmt: skip
    north: shapes.ConsentGroupRecord = {
        "group": "north", "V": None, "support": None, "change": None, "block": None,
        "blocks": False, "suppressed": True,
    }  # fmt: skip
    return {
        "answers": [],
        "items": [
            _item("respite", RESPITE, "respite", RESPITE_CY),
            _item("library", "The mobile library visits every village each week.", "library"),
            _item("library-fortnight", FORTNIGHT, "library"),
        ],
        "charter": {
            "format": "covote-charter-results/1",
            "rule": {"block_percent": 25, "ratio": 2, "group_min": 2},
            "clauses": [
                {
                    "clause": "respite",
                    "decision": "SENT_BACK",
                    "adopted": None,
                    "wordings": [
                        _wording(
                            "respite", [6, 1, 0, 0, 2], "SENT_BACK", ["group-blocks"],
                            groups=("carer",), affected=(carers,),
                        ),
                    ],
                },
                {
                    "clause": "library",
                    "decision": "ADOPTED",
                    "adopted": "library-fortnight",
                    "wordings": [
                        _wording(
                            "library", [0, 0, 2, 6, 1], "SENT_BACK", ["needs-change"],
                            affected=(north,),
                        ),
                        _wording("library-fortnight", [8, 0, 0, 0, 0], "ADOPTED", ["full-support"]),
                    ],
                },
            ],
        },
    }  # fmt: skip


def _round(number: int, results: shapes.KindResults, view: str) -> report.RoundInput:
    return report.RoundInput(
        number=number, status="closed", revealed=True, opened_at=AT, closed_at=AT,
        results=results, view=view, turnout_at_close=True,
        turnout={"registered": None, "present": 9, "voted": 9, "by_channel": {"phone": 9}},
    )  # fmt: skip


def build(rounds: list[report.RoundInput], lang: str = "en") -> report.Report:
    meeting = report.MeetingInfo(
        title="Ashdown charter meeting",
        titles={"cy": "Cyfarfod siarter Ashdown"},
        ratio=2,
        group_min=2,
        segments=(
            report.SegmentInfo("carer", "Carer", True, {"cy": "Gofalwr"}),
            report.SegmentInfo("north", "Area: North", True),
        ),
        proposals=(),
        created_at=AT,
    )
    record = report.RecordInput("a" * 64, "b" * 64, 7, "c" * 64)
    return report.build(meeting, rounds, record, generated_at=AT, _=gettext_for(lang), lang=lang)


def html_of(model: report.Report) -> str:
    page = TEMPLATES.env.get_template("record/report.html").render(
        report=model, _=gettext_for(model.lang)
    )
    return text_of(page)


def test_a_charter_round_has_each_clauses_decision_and_every_wording_in_both_renderings() -> None:
    """Each clause's decision; each wording (the amendment named as clause 2's) with its
    outcome, whether it was the wording adopted, every reason with its numbers, the blocking
    group, its answers per consent level; the group under m without figures."""
    model = build([_round(1, charter_view(), "distribution")])
    section = model.rounds[0].charter
    assert section is not None and model.rounds[0].items == ()
    respite, library = section.clauses
    assert respite.heading == "Clause 1: SENT BACK" and library.heading == "Clause 2: ADOPTED"
    (w,) = respite.wordings
    assert w.place == "Clause 1" and w.text == RESPITE and w.outcome == "SENT BACK"
    assert w.blocking == "Blocking groups: Carer."
    assert w.reasons == (
        "The people it affects block it: Carer. At least 2 of them, more than half of those who "
        "answered, block it, at least 2 to 1 against those who support it.",
    )
    assert w.answers == (
        ("1 Fully support", "6"), ("2 Support with reservations", "1"),
        ("3 Can live with it", "0"), ("4 Need a change", "0"), ("5 Block", "2"),
    )  # fmt: skip
    assert w.groups[0].cells == ("2", "0", "0", "2") and w.groups[0].blocks == "yes"
    original, amendment = library.wordings
    assert original.chosen == "Not the wording adopted" and not original.amendment
    assert amendment.place == "Amendment to clause 2" and amendment.text == FORTNIGHT
    assert amendment.chosen == "The wording adopted" and amendment.outcome == "ADOPTED"
    (north,) = original.groups
    assert north.suppressed and north.cells == ()

    for text in (html_of(model), pdf_text(report_pdf.render(model))):
        flat = " ".join(text.split())
        assert "Clause 1: SENT BACK" in flat and "Clause 2: ADOPTED" in flat
        assert f"Amendment to clause 2: {FORTNIGHT}" in flat
        assert "The wording adopted" in flat and "Blocking groups: Carer." in flat
        assert "5 Block 2" in flat and "4 Need a change 6" in flat
        assert "Area: North fewer than 2 answered: not shown" in flat
        assert "2 support it, against 6 who need a change and 1 who block it" in flat


def test_a_meeting_of_charter_rounds_explains_the_charter_rule_not_the_room_votes() -> None:
    """Only charter rounds: the adoption rule with its block share, R and m, and no word of
    WANT / DON'T WANT; with a room vote as well, both rules."""
    model = build([_round(1, charter_view(), "distribution")])
    assert model.rule is None and model.charter_rule is not None
    page, pdf = html_of(model), " ".join(pdf_text(report_pdf.render(model)).split())
    for text in (page, pdf):
        assert "How the charter's clauses were decided" in text
        assert "more than 25% of those who answered block it" in text
        assert "How the votes were counted" not in text and "DON'T WANT" not in text
    both = build(
        [_round(1, charter_view(), "distribution"), _round(2, budget_results(), "room_vote")]
    )
    assert both.rule is not None and both.charter_rule is not None
    page = html_of(both)
    assert "How the votes were counted" in page and "How the charter's clauses were decided" in page
    room = build([_round(1, budget_results(), "room_vote")])
    assert room.rule is not None and room.charter_rule is None


def test_the_welsh_report_has_the_welsh_title_and_the_groups_welsh_names() -> None:
    """A Welsh report is titled and footed with the meeting's Welsh title (the English one when
    it has none), each clause in its Welsh and the blocking group by its Welsh label."""
    model = build([_round(1, charter_view(), "distribution")], lang="cy")
    assert model.title == "Cyfarfod siarter Ashdown"
    assert "Cyfarfod siarter Ashdown" in model.footer and "Ashdown charter" not in model.footer
    assert model.details[0].value == "Cyfarfod siarter Ashdown"
    section = model.rounds[0].charter
    assert section is not None
    (w,) = section.clauses[0].wordings
    assert w.text == RESPITE_CY and "Gofalwr" in w.blocking
    assert w.outcome == "ANFONWYD YN ÔL"
    page = html_of(model)
    assert "Sut y penderfynwyd ar gymalau'r siarter" in page
    english = build([_round(1, charter_view(), "distribution")])
    assert (
        english.title == "Ashdown charter meeting" and "Ashdown charter meeting" in english.footer
    )


def test_the_consoles_report_of_a_charter_meeting(
    server: LiveServer, facilitator: httpx.Client
) -> None:
    """Over HTTP: a charter round answered by phones; the report (HTML, PDF) shows the charter
    rule and the decisions, the amendment named by its clause; the Welsh report's footer the
    meeting's Welsh title."""
    spec = {
        **MEETING,
        "title": "Ashdown charter meeting",
        "translations": {"cy": {"title": "Cyfarfod siarter Ashdown"}},
    }
    meeting = Meeting(facilitator, spec)
    assert upload(meeting, json.dumps(CHARTER)).status_code == 303
    meeting.post("/rounds", kind="charter", proposal=["respite", "library", "library-fortnight"])
    for segment, marks in (
        ("carer", {"respite": "5", "library": "3", "library-fortnight": "1"}),
        ("carer", {"respite": "5", "library": "3", "library-fortnight": "1"}),
        (None, {"respite": "1", "library": "4", "library-fortnight": "2"}),
        (None, {"respite": "1", "library": "4", "library-fortnight": "2"}),
    ):
        phone = Phone(server.browser(), meeting.code)
        if segment:
            assert phone.segments(segment).status_code == 200
        assert phone.vote(marks).status_code == 200
    meeting.close_round(1)

    page = text_of(facilitator.get(f"/console/{meeting.id}/report.html").text)
    assert "How the charter's clauses were decided" in page
    assert "How the votes were counted" not in page
    assert "Clause 1: SENT BACK" in page and "Blocking groups: Carer." in page
    assert f"Amendment to clause 2: {FORTNIGHT}" in page
    pdf = " ".join(pdf_text(facilitator.get(f"/console/{meeting.id}/report.pdf").content).split())
    assert "Clause 1: SENT BACK" in pdf and "Amendment to clause 2" in pdf
    welsh = facilitator.get(f"/console/{meeting.id}/report.html", params={"lang": "cy"}).text
    footer = welsh[welsh.index("<footer") :]
    assert "Cyfarfod siarter Ashdown" in footer and "Ashdown charter meeting" not in footer
    assert RESPITE_CY in welsh


def test_a_review_meeting_explains_no_room_vote_rule() -> None:
    """A meeting holding only a charter review round: its scorecard explains itself; the
    report does not explain WANT / DON'T WANT (a meeting without rounds still does)."""
    review: shapes.ReviewView = {
        "answers": [],
        "items": [],
        "review": {"format": "covote-review-results/1", "group_min": 2, "parties": []},
        "parties": {},
        "commitments": {},
        "history": {"reviews": [], "parties": [], "points": {}},
    }
    model = build([_round(1, review, "distribution")])
    assert model.rule is None and model.charter_rule is None
    assert "How the votes were counted" not in html_of(model)
    assert build([]).rule is not None
