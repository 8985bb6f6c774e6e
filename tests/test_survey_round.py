"""A Community Survey inside a meeting (issue 15): set up on the console (import, export, from
the proposals, edited), asked in a round of kind `survey` on phones and keypads through the
shared ballot path, and counted on the console (SQLite and PostgreSQL, over HTTP and sockets)."""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli import main as covote
from app.record.survey_file import dump_survey, parse_survey
from tests.conftest import LiveServer, Meeting, Phone, Socket, csrf_of
from tests.test_keypads import capture, eventually, import_keypads

SURVEY: dict[str, Any] = {
    "format": "covote-survey/1",
    "title": "Services in Ashdown",
    "translations": {"cy": {"title": "Gwasanaethau yn Ashdown"}},
    "services": [
        {
            "id": "library",
            "title": "Mobile library",
            "translations": {"cy": {"title": "Llyfrgell deithiol"}},
        },
        {
            "id": "parks",
            "title": "Parks",
            "questions": ["value", "satisfaction"],
            "translations": {"cy": {"title": "Parciau"}},
        },
    ],
    "questions": [
        {
            "id": "travel",
            "type": "single",
            "title": "How do you travel?",
            "choices": [
                {"id": "bus", "label": "Bus", "translations": {"cy": {"label": "Bws"}}},
                {"id": "car", "label": "Car"},
            ],
            "translations": {"cy": {"title": "Sut ydych chi'n teithio?"}},
        }
    ],
    "areas": [
        {"id": "north", "label": "North ward", "translations": {"cy": {"label": "Ward y Gogledd"}}},
        {"id": "south", "label": "South ward", "code": "W05000002"},
    ],
}


def survey_text(spec: dict[str, Any] = SURVEY) -> str:
    return json.dumps(spec, ensure_ascii=False)


def import_survey(meeting: Meeting, text: str, **extra: str) -> httpx.Response:
    """Upload a survey file on the set-up page."""
    return meeting.f.post(
        f"/console/{meeting.id}/survey/import",
        data={"csrf": meeting.csrf, **extra},
        files={"file": ("ashdown.json", text.encode(), "application/json")},
        follow_redirects=False,
    )


def open_survey(meeting: Meeting, **extra: str) -> None:
    meeting.post("/rounds", kind="survey", **extra)


def test_a_survey_file_is_imported_and_exported_byte_for_byte(meeting: Meeting) -> None:
    """The set-up page imports a file; the export is its canonical text, named after the
    meeting, and importing that again changes nothing (no second audit link)."""
    assert import_survey(meeting, survey_text()).status_code == 303
    page = meeting.f.get(f"/console/{meeting.id}/setup").text
    assert "Services in Ashdown" in page and "Llyfrgell deithiol" in page
    r = meeting.f.get(f"/console/{meeting.id}/export/survey.json")
    assert r.status_code == 200
    assert 'filename="test-budget-' in r.headers["content-disposition"]
    assert r.headers["content-disposition"].endswith('-survey.json"')
    assert r.text == dump_survey(parse_survey(survey_text()))
    # Pasted back, the same file: stored as it was, nothing logged again.
    meeting.post("/survey/import", text=r.text)
    assert meeting.f.get(f"/console/{meeting.id}/export/survey.json").text == r.text
    audit = meeting.f.get(f"/console/{meeting.id}/export/audit.jsonl").text.splitlines()
    saved = [json.loads(line) for line in audit if '"survey.saved"' in line]
    assert len(saved) == 1 and saved[0]["data"]["title"] == "Services in Ashdown"
    assert saved[0]["data"]["items"] == 6 + 2 + 1 + 1


def test_a_bad_survey_file_is_refused_with_every_problem(meeting: Meeting) -> None:
    """Nothing is stored; the set-up page lists each problem of the file."""
    bad = json.loads(survey_text())
    bad["services"][0]["title"] = ""
    bad["services"][1]["questions"] = ["value", "loudness"]
    r = import_survey(meeting, json.dumps(bad))
    assert r.status_code == 400 and "Nothing was saved" in r.text
    summary = r.text.split('id="error-summary"')[1].split("</div>")[0]
    assert "ashdown.json: services[0].title: must not be empty" in summary
    assert "ashdown.json: services[1].questions[1]: must be" in summary
    # The survey's own checks, every one of them too.
    bad = json.loads(survey_text())
    bad["areas"][1]["id"] = "North Ward!"
    bad["services"][1]["id"] = "library"
    r = import_survey(meeting, json.dumps(bad))
    assert r.status_code == 400
    summary = r.text.split('id="error-summary"')[1].split("</div>")[0]
    assert "service keys repeat" in summary and "area key &#39;North Ward!&#39;" in summary
    assert meeting.f.get(f"/console/{meeting.id}/export/survey.json").status_code == 404
    r = import_survey(meeting, "{ not json")
    assert r.status_code == 400 and "invalid JSON" in r.text


def test_a_survey_starts_from_the_proposals_with_their_welsh_titles(meeting: Meeting) -> None:
    """One service per proposal, every standard question, `proposal` set, Welsh carried; the
    edit form then changes a service's questions and adds areas."""
    meeting.post(
        "/setup/proposals",
        **{
            "prop-0-was": "library",
            "prop-0-key": "library",
            "prop-0-title": "Mobile library",
            "prop-0-title_cy": "Llyfrgell deithiol",
            "prop-0-kind": "keep",
            "prop-0-saving": "48000",
            "prop-0-groups": "north",
            "prop-1-was": "respite",
            "prop-1-key": "respite",
            "prop-1-title": "Respite breaks",
            "prop-1-kind": "fund",
            "prop-1-cost": "80000",
            "prop-1-groups": ["carer", "staff"],
            "prop-2-was": "toilets",
            "prop-2-key": "toilets",
            "prop-2-title": "Park toilets",
            "prop-2-kind": "keep",
            "prop-2-saving": "22000",
        },
    )
    meeting.post("/survey/from-proposals")
    survey = json.loads(meeting.f.get(f"/console/{meeting.id}/export/survey.json").text)
    assert [(s["id"], s.get("proposal")) for s in survey["services"]] == [
        ("library", "library"),
        ("respite", "respite"),
        ("toilets", "toilets"),
    ]
    assert survey["services"][0]["translations"] == {"cy": {"title": "Llyfrgell deithiol"}}
    assert "questions" not in survey["services"][0]  # all six, the default
    # The edit form: parks asks two questions, toilets goes, a new service and two areas.
    meeting.post(
        "/survey/services",
        survey_title="Our services",
        **{
            "svc-0-was": "library",
            "svc-0-key": "library",
            "svc-0-title": "Mobile library",
            "svc-0-title_cy": "Llyfrgell deithiol",
            "svc-0-q": ["value", "need"],
            "svc-1-was": "respite",
            "svc-1-key": "respite",
            "svc-1-title": "Respite breaks",
            "svc-1-q": ["value", "need", "satisfaction", "contributes", "more", "hours"],
            "svc-2-was": "toilets",
            "svc-2-key": "toilets",
            "svc-2-title": "Park toilets",
            "svc-2-remove": "on",
            "svc-3-was": "",
            "svc-3-title": "Street lights",
            "svc-3-title_cy": "Goleuadau stryd",
            "svc-3-q": "satisfaction",
        },
    )
    # A refused edit (two services with one id): nothing saved, what was typed shown again.
    r = meeting.f.post(
        f"/console/{meeting.id}/survey/services",
        data={
            "csrf": meeting.csrf,
            "svc-0-was": "library",
            "svc-0-key": "library",
            "svc-0-title": "Mobile library, renamed",
            "svc-0-q": "value",
            "svc-1-was": "",
            "svc-1-key": "library",
            "svc-1-title": "Another library",
            "svc-1-q": "need",
        },
        follow_redirects=False,
    )
    assert r.status_code == 400 and "service keys repeat" in r.text
    assert 'value="Mobile library, renamed"' in r.text and 'value="Another library"' in r.text
    r = meeting.f.post(
        f"/console/{meeting.id}/survey/areas.csv",
        data={"csrf": meeting.csrf},
        files={"file": ("areas.csv", b"key,label,label_cy,code\n,North ward,Gogledd,E1\n")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    survey = json.loads(meeting.f.get(f"/console/{meeting.id}/export/survey.json").text)
    assert survey["title"] == "Our services"
    assert [(s["id"], s.get("questions")) for s in survey["services"]] == [
        ("library", ["value", "need"]),
        ("respite", None),
        ("street-lights", ["satisfaction"]),
    ]
    assert survey["services"][0]["proposal"] == "library"  # kept from the stored survey
    assert survey["areas"] == [
        {
            "id": "north-ward",
            "label": "North ward",
            "code": "E1",
            "translations": {"cy": {"label": "Gogledd"}},
        }
    ]
    # A bad areas file: every line's problem, nothing changed.
    r = meeting.f.post(
        f"/console/{meeting.id}/survey/areas.csv",
        data={"csrf": meeting.csrf},
        files={"file": ("areas.csv", b"key,label,label_cy,code\nBad Key,,x,\nok,Ok,,\nok,Ok,,\n")},
        follow_redirects=False,
    )
    assert r.status_code == 400
    assert "areas.csv:2: label" in r.text and "areas.csv:4: key" in r.text


def test_a_survey_round_saves_answers_partly_and_resumes(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """The round asks every question; a phone's answers are saved as given (a resend
    replaces), the page shows them again, one service per screen, and a wrong answer is
    refused with its reason."""
    assert import_survey(meeting, survey_text()).status_code == 303
    page = meeting.f.get(f"/console/{meeting.id}").text
    assert 'name="kind" value="survey"' in page and "It asks all 10 questions." in page
    open_survey(meeting)
    rnd = meeting.state()["round"]
    keys = [p["id"] for p in rnd["proposals"]]
    assert keys == [
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
    assert rnd["proposals"][0]["title"] == "How much do you value Mobile library?"
    assert rnd["proposals"][0]["group"]["title"] == "Mobile library"
    welsh = rnd["proposals"][6]["translations"]["cy"]["title"]
    assert "Parciau" in welsh and "Parks" not in welsh

    phone = phones()
    rid = phone.round_id()
    # The first screen, sent as the phone's Next does: everything so far.
    first = {"library.value": "4", "library.need": "often", "library.contributes": "neighbour"}
    assert phone.vote(first).status_code == 200
    # A wrong answer: "none of these" with another is refused, and what was saved stands.
    r = phone.vote({**first, "library.more": "none;volunteer"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_input"
    assert phone.vote({**first, "library.hours": "101"}).status_code == 400
    assert phone.state()["you"]["ballot"]["marks"] == first
    # Back on the phone page later: the answers are there, one screen per service.
    html = phone.c.get(f"/m/{meeting.code}").text
    assert re.search(r'name="mark:library.value" value="4" checked', html)
    assert re.search(r'name="mark:library.need" value="often" checked', html)
    assert html.count('class="survey-page"') == 4  # 2 services, the questions, the area
    assert "1 of 2 services answered" in html
    assert 'type="number"' in html and 'name="mark:library.hours"' in html
    # The second screen over the socket: the ballot with every answer replaces the first.
    more = {**first, "library.more": "volunteer;group", "library.hours": "6", "parks.value": "5"}
    with Socket(server, meeting.code, phone.c) as ws:
        ws.until(lambda m: m["type"] == "snapshot")
        ws.send({"type": "cast", "ballot_id": uuid.uuid4().hex, "round": rid, "marks": more})
        assert ws.until(lambda m: m["type"] in ("ack", "error"))["type"] == "ack"
    assert phone.state()["you"]["ballot"]["marks"] == more
    assert "2 of 2 services answered" in phone.c.get(f"/m/{meeting.code}").text
    assert meeting.state()["turnout"]["voted"] == 1
    # Without JavaScript: the plain form posts every question at once (empty ones unanswered).
    plain = phones()
    r = plain.c.post(
        f"/m/{meeting.code}/ballot",
        data={
            "csrf": plain.csrf,
            "round": str(rid),
            "ballot_id": uuid.uuid4().hex,
            "mark:library.value": "2",
            "mark:library.contributes": ["volunteer", "group"],
            "mark:library.hours": "",
            "mark:area": "south",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert plain.state()["you"]["ballot"]["marks"] == {
        "library.value": "2",
        "library.contributes": "volunteer;group",
        "area": "south",
    }
    # In Welsh: the services' own Welsh titles inside the Welsh questions.
    cy = phone.c.get(f"/m/{meeting.code}?lang=cy").text
    assert "Llyfrgell deithiol" in cy and "Bws" in cy and "Ward y Gogledd" in cy

    meeting.close_round(1)
    # The console's round page: the counts per question.
    page = meeting.f.get(f"/console/{meeting.id}/rounds/1").text
    assert "How much do you value Mobile library?" in page
    hours = page.split('data-item="library.hours"')[1].split("</section>")[0]
    assert 'data-answer="6"' in hours and 'data-answer="7"' not in hours  # only those given
    assert 'data-answer="dont_use"' in page  # a short scale lists every answer, zeros too
    rows = meeting.f.get(f"/console/{meeting.id}/rounds/1/export/ballots.csv").text
    assert rows.count("\n") == 1 + 6 + 3  # a row per answered question only, none for the rest


def test_keypads_answer_the_surveys_keyed_questions_one_at_a_time(meeting: Meeting) -> None:
    """A survey round with keypads starts on the first keyed question; the steps skip the
    questions keypads cannot answer; key 4 on a 1-5 question is the answer 4."""
    assert import_keypads(meeting, "keypad,label,segments\nwedge:7,K7,\n").status_code == 303
    assert import_survey(meeting, survey_text()).status_code == 303
    open_survey(meeting, keypads="on")
    assert meeting.state()["round"]["keypad_step"] == 0  # library.value, 1-5
    assert capture(meeting, "7 4").json()["accepted"] is True
    eventually(lambda: meeting.state()["turnout"]["voted"] == 1)
    run = meeting.f.get(f"/console/{meeting.id}").text
    assert 'name="index" value="2"' in run  # Next: library.need
    meeting.post("/rounds/1/step", index="3")  # library.satisfaction: key 6 "don't use"
    assert capture(meeting, "7 6").json()["accepted"] is True
    # library.contributes (a multiple choice) has no keys: keypads cannot be put on it.
    r = meeting.f.post(
        f"/console/{meeting.id}/rounds/1/step",
        data={"csrf": csrf_of(meeting.f), "index": "4"},
    )
    assert r.status_code == 400 and "Keypads cannot answer library.contributes" in r.text
    run = meeting.f.get(f"/console/{meeting.id}").text
    assert 'name="index" value="7"' in run  # Next skips contributes, more and hours
    projector = meeting.f.get(f"/p/{meeting.code}").text
    assert '"keypad_item"' in projector
    meeting.close_round(1)
    page = meeting.f.get(f"/console/{meeting.id}/rounds/1").text
    assert "I don&#39;t use it" in page or "I don't use it" in page
    ballots = meeting.f.get(f"/console/{meeting.id}/rounds/1/export/ballots.csv").text
    assert ",library.value,4" in ballots and ",library.satisfaction,dont_use" in ballots


def test_a_survey_with_answers_asks_before_it_is_replaced(
    meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Changing an answered survey asks first; a survey round that is open refuses it."""
    assert import_survey(meeting, survey_text()).status_code == 303
    open_survey(meeting)
    assert phones().vote({"parks.value": "3"}).status_code == 200
    changed = {**SURVEY, "title": "Services in Ashdown, again"}
    r = meeting.f.post(
        f"/console/{meeting.id}/survey/import",
        data={"csrf": meeting.csrf, "text": survey_text(changed)},
        follow_redirects=False,
    )
    assert r.status_code == 200 and "Change the survey people have answered?" in r.text
    r = meeting.f.post(
        f"/console/{meeting.id}/survey/import",
        data={"csrf": meeting.csrf, "text": survey_text(changed), "confirm": "yes"},
        follow_redirects=False,
    )
    assert r.status_code == 409 and "close it before changing the survey" in r.text
    meeting.close_round(1)
    meeting.post("/survey/import", text=survey_text(changed), confirm="yes")
    assert "again" in meeting.f.get(f"/console/{meeting.id}/export/survey.json").text


def test_the_console_shows_the_survey_s_charts_with_their_tables(
    meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """After a survey round closes, its page draws the service map, the need ranking and the
    co-production map (inline SVG, each with its table) from the survey's own figures, in the
    console's language; no figure about fewer than m (2) respondents can be read off it."""
    assert import_survey(meeting, survey_text()).status_code == 303
    open_survey(meeting)
    answers = [
        {"library.value": "5", "library.need": "often", "library.satisfaction": "2",
         "library.more": "volunteer", "parks.value": "3", "parks.satisfaction": "4",
         "area": "north"},
        {"library.value": "4", "library.need": "sometimes", "library.satisfaction": "1",
         "library.more": "none", "parks.value": "2", "parks.satisfaction": "5",
         "area": "north"},
        {"library.value": "5", "library.need": "often", "library.satisfaction": "3",
         "library.more": "group", "parks.value": "2", "parks.satisfaction": "4",
         "area": "south"},
    ]  # fmt: skip
    for marks in answers:
        assert phones().vote(marks).status_code == 200
    meeting.close_round(1)
    page = meeting.f.get(f"/console/{meeting.id}/rounds/1").text
    assert 'data-survey-respondents="3"' in page
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg"') == 4  # hours offered too
    tables = re.findall(r"<table.*?</table>", page, re.S)
    matrix = next(t for t in tables if "The service map" in t)
    # Library: valued (4.7) but its users are not satisfied (2.0): fix first.
    assert re.search(r"<th scope=\"row\">Mobile library</th>.*?Fix first", matrix, re.S)
    assert re.search(r"<th scope=\"row\">Parks</th>.*?Savings may be accepted", matrix, re.S)
    more = next(t for t in tables if "Co-production" in t)
    # Everyone: 2 of 3 would do more. South has one respondent, so north (two) is hidden too:
    # everyone minus north would give the south's one answer away.
    cells = re.findall(r"<td>(.*?)</td>", more.split("Mobile library</th>")[1])
    assert cells == ["66.7", "No answers, or fewer than 2", "No answers, or fewer than 2"]
    welsh = meeting.f.get(f"/console/{meeting.id}/rounds/1?lang=cy").text
    assert "Llyfrgell deithiol" in welsh and "Mobile library</th>" not in welsh


def test_the_projector_gets_the_survey_s_charts_once_revealed(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """GET /p/CODE/charts (what the projector pages through) has nothing before the results
    are revealed, then a card per chart in the language asked for."""
    assert import_survey(meeting, survey_text()).status_code == 303
    open_survey(meeting)
    for value in ("5", "4", "2"):
        marks = {"library.value": value, "library.satisfaction": "3", "library.more": "group"}
        assert phones().vote(marks).status_code == 200
    meeting.close_round(1)
    projector = server.browser()
    assert projector.get(f"/p/{meeting.code}/charts").status_code == 404
    meeting.reveal(1)
    assert meeting.state()["round"]["view"] == "charts"
    english = projector.get(f"/p/{meeting.code}/charts")
    assert english.status_code == 200
    assert english.text.count('<article class="result result-chart"') == 4
    assert "The service map: value and satisfaction" in english.text
    welsh = projector.get(f"/p/{meeting.code}/charts?lang=cy").text
    assert "Map y gwasanaethau" in welsh and "Llyfrgell deithiol" in welsh


def test_the_bundle_carries_the_survey_s_record_and_the_cli_reproduces_its_results(
    meeting: Meeting,
    phones: Callable[[], Phone],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The export bundle holds survey.json, the round's responses (protected) and its results;
    `covote survey tabulate` on those files prints the results byte for byte, and README.txt
    gives the command."""
    assert import_survey(meeting, survey_text()).status_code == 303
    open_survey(meeting)
    for value, area in (("5", "north"), ("4", "north"), ("2", "south"), ("3", "south")):
        marks = {"library.value": value, "library.need": "often", "area": area}
        assert phones().vote(marks).status_code == 200
    meeting.close_round(1)
    r = meeting.f.get(f"/console/{meeting.id}/export/bundle.zip")
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        names = z.namelist()
        for name in ("survey.json", "survey-responses-round-1.csv", "survey-results-round-1.json"):
            assert name in names
            (tmp_path / name).write_bytes(z.read(name))
        readme = z.read("README.txt").decode()
    assert "--survey survey.json --m 2" in readme
    args = ["survey", "tabulate", str(tmp_path / "survey-responses-round-1.csv")]
    assert covote([*args, "--survey", str(tmp_path / "survey.json"), "--m", "2"]) == 0
    assert capsys.readouterr().out == (tmp_path / "survey-results-round-1.json").read_text()
    assert (
        json.loads((tmp_path / "survey-results-round-1.json").read_text())["overall"]["respondents"]
        == 4
    )


def _square(key: str, x: float) -> dict[str, Any]:
    ring = [[x, 52.0], [x + 0.1, 52.0], [x + 0.1, 52.1], [x, 52.1], [x, 52.0]]
    return {
        "type": "Feature",
        "properties": {"ward": key},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


BOUNDARIES = json.dumps(
    {"type": "FeatureCollection", "features": [_square("north", -3.0), _square("W05000002", -2.9)]}
)


def upload(meeting: Meeting, what: str, name: str, text: str) -> httpx.Response:
    return meeting.f.post(
        f"/console/{meeting.id}/survey/{what}",
        data={"csrf": meeting.csrf},
        files={"file": (name, text.encode(), "application/octet-stream")},
        follow_redirects=False,
    )


def test_boundaries_draw_an_area_map_and_a_population_weights_the_results(
    meeting: Meeting,
    phones: Callable[[], Phone],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """GeoJSON boundaries (one area named by its id, one by its official code) give the round
    page an area map of the figure asked for; a broken file is refused with its problems; a
    population CSV adds weighted figures, which the bundle's command reproduces."""
    assert import_survey(meeting, survey_text()).status_code == 303
    bad = upload(meeting, "boundaries", "wards.geojson", '{"type": "FeatureCollection"}')
    assert bad.status_code == 400 and "wards.geojson" in bad.text
    assert upload(meeting, "boundaries", "wards.geojson", BOUNDARIES).status_code == 303
    setup = meeting.f.get(f"/console/{meeting.id}/setup").text
    assert "2 of 2 areas drawn" in setup
    population = "kind,id,share\narea,north,0.75\narea,south,0.25\n"
    assert upload(meeting, "population", "pop.csv", population).status_code == 303
    open_survey(meeting)
    for value, area in (("5", "north"), ("4", "north"), ("2", "south"), ("1", "south")):
        marks = {"library.value": value, "library.more": "group", "area": area}
        assert phones().vote(marks).status_code == 200
    meeting.close_round(1)
    page = meeting.f.get(
        f"/console/{meeting.id}/rounds/1?map_service=library&map_figure=value"
    ).text
    assert 'id="area-map"' in page and "Value (mean, 1-5) by area: Mobile library" in page
    table = next(t for t in re.findall(r"<table.*?</table>", page, re.S) if "by area" in t)
    assert re.search(r"North ward</th><td>4\.5", table), table
    assert "Weighted to the population" in page
    # Weighted to 3:1 north, the value's mean moves towards the north's 4.5 from the plain 3.
    r = meeting.f.get(f"/console/{meeting.id}/export/bundle.zip")
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        for name in ("survey.json", "survey-population.csv", "survey-responses-round-1.csv"):
            (tmp_path / name).write_bytes(z.read(name))
        results = z.read("survey-results-round-1.json").decode()
        assert "--population survey-population.csv" in z.read("README.txt").decode()
    weighted = json.loads(results)["weighted"]["overall"]["services"][0]["value"]["mean"]
    assert 3.0 < weighted < 4.5
    args = ["survey", "tabulate", str(tmp_path / "survey-responses-round-1.csv")]
    args += ["--survey", str(tmp_path / "survey.json"), "--m", "2"]
    assert covote([*args, "--population", str(tmp_path / "survey-population.csv")]) == 0
    assert capsys.readouterr().out == results


def test_the_focus_list_becomes_a_budget_meeting_in_one_action(
    meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """The round's page lists the focus list (the library: needed, users unsatisfied; the
    parks: valued less); one button makes them the proposals of a new budget meeting with this
    meeting's segments and the services' Welsh titles."""
    assert import_survey(meeting, survey_text()).status_code == 303
    open_survey(meeting)
    answers = [
        {"library.value": "5", "library.need": "often", "library.satisfaction": "2",
         "parks.value": "3", "parks.satisfaction": "4"},
        {"library.value": "4", "library.need": "sometimes", "library.satisfaction": "1",
         "parks.value": "2", "parks.satisfaction": "5"},
        {"library.value": "5", "library.need": "often", "library.satisfaction": "3",
         "parks.value": "2", "parks.satisfaction": "4"},
    ]  # fmt: skip
    for marks in answers:
        assert phones().vote(marks).status_code == 200
    page = meeting.f.get(f"/console/{meeting.id}").text  # the Run page while it is open
    assert "Make them the proposals" not in page
    meeting.close_round(1)
    page = meeting.f.get(f"/console/{meeting.id}/rounds/1").text
    focus = page.split('id="survey-focus-h"')[1].split("</section>")[0]
    assert "Mobile library:\n      needed, with low satisfaction" in focus
    assert "Parks:\n      valued less than most" in focus
    r = meeting.f.post(
        f"/console/{meeting.id}/rounds/1/focus-budget",
        data={"csrf": meeting.csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].endswith("/setup")
    new_id = int(r.headers["location"].split("/")[2])
    made = meeting.f.get(f"/console/{new_id}/export/meeting.json").json()
    assert made["title"] == "Test budget: the focus list"
    assert [(p["id"], p["kind"]) for p in made["proposals"]] == [
        ("library", "keep"),
        ("parks", "keep"),
    ]
    assert made["proposals"][0]["translations"]["cy"]["title"] == "Llyfrgell deithiol"
    assert [s["id"] for s in made["segments"]] == ["carer", "north", "staff"]
    r = meeting.f.post(  # an open or other round has no focus list: refused, nothing made
        f"/console/{meeting.id}/rounds/9/focus-budget", data={"csrf": meeting.csrf}
    )
    assert r.status_code == 404
