"""A survey on paper (issue 15): the printed questionnaire, keyed twice on the console like a
paper ballot, and its matching sheets counted as survey responses with channel `paper` (one
response per person across channels, as for votes)."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
import zipfile
from typing import Any

import httpx
from sqlmodel import select

from app.core.vocab import Channel
from app.scrutiny import tickets
from app.voting.ballots import CastRequest
from app.voting.meetings import get_meeting
from app.voting.models import Ballot, Round
from tests.conftest import MEETING, LiveServer, Meeting
from tests.test_paper import (
    audit_links,
    count,
    flash_after,
    key,
    key_both,
    on_loop,
    services_of,
    status_page,
)
from tests.test_survey_round import import_survey, open_survey, survey_text

QUESTIONS = [
    "library.value",
    "library.need",
    "library.satisfaction",
    "library.contributes",
    "library.more",
    "library.hours",
    "parks.value",
    "parks.satisfaction",
    "q.travel",
    "area",
]
# One respondent's sheet, as the keying form posts it (a multiple choice: its boxes in order).
SHEET: dict[str, Any] = {
    "library.value": "4",
    "library.need": "often",
    "library.satisfaction": "dont_use",
    "library.contributes": ["volunteer", "group"],
    "library.hours": "6",
    "parks.value": "5",
    "q.travel": "bus",
    "area": "north",
}


def survey_round(meeting: Meeting) -> None:
    assert import_survey(meeting, survey_text()).status_code == 303
    open_survey(meeting)


def printed(meeting: Meeting, query: str = "") -> str:
    r = meeting.f.get(f"/console/{meeting.id}/rounds/1/paper/print?from=7&count=1{query}")
    assert r.status_code == 200, r.text
    return r.text


def keyed(meeting: Meeting, keying: int, sheet: int, marks: dict[str, Any], **kw: Any) -> str:
    """Key one sheet; the message the page shows after it."""
    return flash_after(meeting, key(meeting, keying, sheet, marks, **kw))


def responses_csv(meeting: Meeting) -> list[dict[str, str]]:
    """The survey's published responses (the bundle's survey-responses-round-1.csv)."""
    r = meeting.f.get(f"/console/{meeting.id}/export/bundle.zip")
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        name = next(n for n in z.namelist() if n.endswith("survey-responses-round-1.csv"))
        return list(csv.DictReader(io.StringIO(z.read(name).decode())))


def test_the_questionnaire_prints_every_service_and_question_in_english_and_welsh(
    meeting: Meeting,
) -> None:
    """Each service under its title with its questions' boxes, the custom question and the
    area; the hours as a box to write in; the sheet number on every page; in Welsh with
    ?lang=cy, and both languages side by side with ?lang=en+cy."""
    survey_round(meeting)
    html = printed(meeting)
    assert 'href="/static/print/survey_print.css"' in html
    assert "several A4 pages each, with the sheet number on every page" in html
    assert meeting.f.get("/static/print/survey_print.css").status_code == 200
    rows = re.findall(r'<tr data-proposal="([^"]+)">', html)
    assert rows == QUESTIONS  # every question once, in the sheet's order
    groups = re.findall(r'<section class="survey-group" data-group="([^"]*)"', html)
    assert groups == ["library", "parks", "q.", "area"]
    assert "<h2>Mobile library</h2>" in html and "How satisfied are you with Parks?" in html
    satisfaction = html.split('data-proposal="library.satisfaction"')[1].split("</tr>")[0]
    marks = re.findall(r'data-mark="([^"]+)"', satisfaction)
    assert marks == ["1", "2", "3", "4", "5", "dont_use"]
    more = html.split('data-proposal="library.more"')[1].split("</tr>")[0]
    assert "Tick all that apply." in more and 'data-mark="none"' in more
    hours = html.split('data-proposal="library.hours"')[1].split("</tr>")[0]
    assert 'class="numbox"' in hours and "a whole number from 0 to 100" in hours
    assert 'data-mark="bus"' in html and "North ward" in html
    assert "About you (tick any that apply)" in html  # the meeting's segments
    pages = html.split('<div class="survey-page"')[1:]
    assert len(pages) >= 1 and "Page 1 of" in pages[0]
    assert all("Sheet 0007" in p.split("</p>")[0] for p in pages[1:])

    welsh = printed(meeting, "&lang=cy")
    assert "<h2>Llyfrgell deithiol</h2>" in welsh and "Bws" in welsh and "Ward y Gogledd" in welsh
    assert "Faint ydych chi&#39;n gwerthfawrogi Llyfrgell deithiol?" in welsh
    assert "Mobile library" not in welsh.split('<div class="survey-sheet">')[1]
    both = printed(meeting, "&lang=en+cy")
    assert '<h2>Mobile library<span class="alt" lang="cy">Llyfrgell deithiol</span></h2>' in both
    assert 'Never <span class="alt-inline" lang="cy">Byth</span>' in both
    # The words around the questions too ("About you"), and the status page offers it.
    assert '<span class="alt" lang="cy">Amdanoch chi (ticiwch' in both
    status = meeting.f.get(f"/console/{meeting.id}/rounds/1/paper?lang=en").text
    assert '<option value="en+cy">English, with Welsh beside it</option>' in status


def test_the_keying_form_follows_the_sheet_with_blank_chosen(meeting: Meeting) -> None:
    """Grouped by service as printed; every single answer starts at "blank" (not answered);
    a multiple choice is checkboxes; the hours a number field."""
    survey_round(meeting)
    page = meeting.f.get(f"/console/{meeting.id}/rounds/1/paper/key/1").text
    headings = re.findall(r'<h2 class="key-group" data-group="([^"]*)">([^<]*)</h2>', page)
    assert headings == [
        ("library", "Mobile library"),
        ("parks", "Parks"),
        ("q.", "A few more questions"),
        ("area", "Where you live"),
    ]
    fields = re.findall(r'name="mark:([^"]+)"', page)
    assert list(dict.fromkeys(fields)) == QUESTIONS  # the tab order is the sheet's
    for q in ("library.value", "library.need", "q.travel", "area"):
        assert re.search(rf'name="mark:{re.escape(q)}" value="" checked', page), q
    assert page.count('type="checkbox" id="mark-4-') == 4  # contributes: its four boxes
    hours = re.search(r'<input type="number"[^>]*name="mark:library.hours"[^>]*>', page)
    assert hours and 'min="0" max="100" step="1"' in hours.group()  # the browser checks too
    assert "A whole number from 0 to 100; empty if blank" in page
    welsh = meeting.f.get(f"/console/{meeting.id}/rounds/1/paper/key/1?lang=cy").text
    assert ">Llyfrgell deithiol</h2>" in welsh


def test_two_agreeing_keyings_count_as_a_paper_response_in_the_results(meeting: Meeting) -> None:
    """Sheet 1 keyed the same twice is counted: a survey ballot with channel paper, its answers
    as keyed, in the turnout by channel, the responses CSV and the round's figures."""
    survey_round(meeting)
    key_both(meeting, 1, SHEET, segments=("carer",))
    key_both(meeting, 2, {"library.value": "2", "area": "north"}, segments=("carer",))
    assert "Count 2 matching sheets" in status_page(meeting)
    assert "Counted 2 sheet(s): 1\u20132." in flash_after(meeting, count(meeting))
    state = meeting.state()
    assert state["turnout"]["by_channel"]["paper"] == 2
    rows = responses_csv(meeting)
    hours = [r for r in rows if r["question"] == "library.hours"]
    assert [h["answer"] for h in hours] == ["6"]
    helps = [r["answer"] for r in rows if r["question"] == "library.contributes"]
    assert helps == ["volunteer;group"]
    meeting.close_round(1)
    page = meeting.f.get(f"/console/{meeting.id}/rounds/1").text
    assert 'data-survey-respondents="2"' in page
    value = page.split('data-item="library.value"')[1].split("</section>")[0]
    counts = dict(re.findall(r'<tr data-answer="(\d)">.*?<td>(\d+)</td>', value, re.S))
    assert counts == {"1": "0", "2": "1", "3": "0", "4": "1", "5": "0"}


def test_a_mismatch_in_one_contribution_box_is_listed_and_not_counted(meeting: Meeting) -> None:
    """Keying 2 missed one "helps" box: the sheet is listed with the question and both
    readings, by their labels; Count has nothing to count until it is keyed again."""
    survey_round(meeting)
    keyed(meeting, 1, 1, SHEET)
    keyed(meeting, 2, 1, {**SHEET, "library.contributes": ["volunteer"]})
    page = status_page(meeting)
    assert '<dd data-count="mismatched">1</dd>' in page
    rows = re.findall(r'<tr data-sheet="1" data-field="([^"]+)">(.*?)</tr>', page, re.S)
    assert [field for field, _ in rows] == ["mark:library.contributes"]
    cells = re.findall(r"<td>(.*?)</td>", rows[0][1], re.S)
    assert cells == [
        "What do you already do that helps Mobile library?",
        "Volunteer; Community group",
        "Volunteer",
    ]
    assert "There are no matching sheets" in flash_after(meeting, count(meeting))
    assert meeting.state()["turnout"]["voted"] == 0
    # Keyed again as the sheet is marked: it matches and counts.
    assert "It replaces this keying" in keyed(meeting, 2, 1, SHEET)
    assert "Counted 1 sheet(s): 1." in flash_after(meeting, count(meeting))


def test_hours_out_of_range_and_bad_answers_are_refused_clearly(meeting: Meeting) -> None:
    """An hours figure the scale does not take, "none of these" with another box, or an
    answer not on the sheet: refused with the reason, nothing saved."""
    survey_round(meeting)
    r = key(meeting, 1, 3, {**SHEET, "library.hours": "101"})
    assert r.status_code == 400
    assert "must be a whole number from 0 to 100, not &#39;101&#39;" in r.text
    assert "library.hours" in r.text
    r = key(meeting, 1, 3, {**SHEET, "library.hours": "-1"})
    assert r.status_code == 400
    alone: dict[str, Any] = {**SHEET, "library.more": ["volunteer", "none"]}
    r = key(meeting, 1, 3, alone)
    assert r.status_code == 400 and "cannot pick" in r.text
    r = key(meeting, 1, 3, {**SHEET, "library.need": "daily"})
    assert r.status_code == 400
    keying = meeting.f.get(f"/console/{meeting.id}/rounds/1/paper/key/1").text
    assert '<p id="keyed">None yet.</p>' in keying


def test_counting_twice_makes_no_second_response(server: LiveServer, meeting: Meeting) -> None:
    """The second Count finds nothing to count: still one paper ballot for the sheet."""
    survey_round(meeting)
    key_both(meeting, 5, SHEET)
    assert "Counted 1 sheet(s): 5." in flash_after(meeting, count(meeting))
    assert "There are no matching sheets" in flash_after(meeting, count(meeting))
    with services_of(server).session() as session:
        stored = session.exec(select(Ballot).where(Ballot.channel == Channel.PAPER)).all()
    assert [b.ballot_uid for b in stored] == ["paper:r1:s5"]
    assert stored[0].marks["library.contributes"] == "volunteer;group"
    assert meeting.state()["turnout"]["by_channel"]["paper"] == 1
    counted = [x["data"] for x in audit_links(meeting) if x["kind"] == "paper.counted"]
    assert counted == [{"round": 1, "sheets": [5], "refused": []}]


def test_in_a_tickets_meeting_a_sheet_answers_as_its_tickets_voter(
    server: LiveServer, facilitator: httpx.Client
) -> None:
    """Sheet 1 (ticket No. 1, unused) counts as that ticket's voter; sheet 2 names the ticket
    whose holder already answered on a phone, and is refused: one response per person."""
    meeting = Meeting(facilitator, {**MEETING, "voting": {"admission": "tickets"}})
    survey_round(meeting)
    services = services_of(server)
    with services.session() as session:
        m = get_meeting(session, meeting.id)
        rnd = session.exec(select(Round).where(Round.meeting_id == meeting.id)).one()
        issued = tickets.issue(session, m, 2)
        holder = tickets.redeem(session, issued[1].code, "d" * 64, "phone")
        holder_id, round_id = holder.voter_id, rnd.id
    assert holder_id is not None and round_id is not None
    request = CastRequest(
        meeting.id, round_id, holder_id, uuid.uuid4().hex, {"area": "south"}, device_key="d" * 64
    )
    on_loop(services, services.cast(request))
    printed_sheet = printed(meeting)
    assert "data-ticket-box" in printed_sheet
    key_both(meeting, 1, SHEET, ticket=1)
    key_both(meeting, 2, {"library.value": "1"}, ticket=2)
    message = flash_after(meeting, count(meeting))
    assert "Counted 1 sheet(s): 1." in message and "Sheet 2 refused: Ticket No. 2" in message
    with services.session() as session:
        ticket = tickets.by_number(session, get_meeting(session, meeting.id), 1)
        paper_ballot = session.exec(select(Ballot).where(Ballot.channel == Channel.PAPER)).one()
        phone_ballot = session.exec(select(Ballot).where(Ballot.voter_id == holder_id)).one()
    assert ticket.voter_id is not None and paper_ballot.voter_id == ticket.voter_id
    assert phone_ballot.marks == {"area": "south"}  # the phone's response stands, unchanged
    turnout = meeting.state()["turnout"]
    assert turnout["voted"] == 2 and turnout["by_channel"]["paper"] == 1


CUSTOM: dict[str, Any] = {
    **json.loads(survey_text()),
    "services": [{"id": "parks", "title": "Parks", "questions": ["value"]}],
    "questions": [
        {
            "id": "meet",
            "type": "multiple",
            "title": "Where could we meet you?",
            "choices": [
                {
                    "id": "hall",
                    "label": "Village hall",
                    "translations": {"cy": {"label": "Neuadd"}},
                },
                {"id": "online", "label": "Online"},
            ],
        },
        {"id": "trust", "type": "scale", "title": "How far do you trust the council?"},
        {"id": "ideas", "type": "text", "title": "Any ideas?", "max_length": 40},
    ],
}


def test_custom_questions_print_key_and_compare_by_their_own_answers(meeting: Meeting) -> None:
    """A custom multiple choice prints as tick-all boxes with its own (Welsh) labels, a 1-5
    scale as five boxes, a short text as lines; keyed, a text compares as cleaned (spaces
    around it do not make a mismatch, a different word does), a multiple choice by its set."""
    assert import_survey(meeting, json.dumps(CUSTOM)).status_code == 303
    open_survey(meeting)
    html = printed(meeting)
    meet = html.split('data-proposal="q.meet"')[1].split("</tr>")[0]
    assert "Tick all that apply." in meet and re.findall(r'data-mark="(\w+)"', meet) == [
        "hall",
        "online",
    ]
    trust = html.split('data-proposal="q.trust"')[1].split("</tr>")[0]
    assert re.findall(r'data-mark="(\w+)"', trust) == ["1", "2", "3", "4", "5"]
    ideas = html.split('data-proposal="q.ideas"')[1].split("</tr>")[0]
    assert ideas.count('class="write-line"') == 2 and "data-mark" not in ideas
    assert "Neuadd" in printed(meeting, "&lang=cy")
    page = meeting.f.get(f"/console/{meeting.id}/rounds/1/paper/key/1?lang=en").text
    assert re.search(r'type="text" id="mark-\d+-text" name="mark:q.ideas" maxlength="40"', page)

    sheet: dict[str, Any] = {"q.meet": ["hall", "online"], "q.trust": "2", "q.ideas": "A cafe"}
    keyed(meeting, 1, 1, sheet)
    keyed(meeting, 2, 1, {**sheet, "q.ideas": "  A cafe \u200b"})
    keyed(meeting, 1, 2, sheet)
    keyed(meeting, 2, 2, {**sheet, "q.ideas": "A caff"})
    page = status_page(meeting)
    rows = re.findall(r'<tr data-sheet="(\d)" data-field="([^"]+)">(.*?)</tr>', page, re.S)
    assert [(s, f) for s, f, _ in rows] == [("2", "mark:q.ideas")]
    assert re.findall(r"<td>(.*?)</td>", rows[0][2]) == ["Any ideas?", "A cafe", "A caff"]
    assert "Counted 1 sheet(s): 1." in flash_after(meeting, count(meeting))
    answers = {r["question"]: r["answer"] for r in responses_csv(meeting)}
    assert answers["q.meet"] == "hall;online" and answers["q.trust"] == "2"
