"""The survey in the results report (issue 15): the demo survey meeting's report, HTML and PDF,
in English and in Welsh, shows each chart with its data table, every service, the focus list,
the responses by channel and the suppression note, and no figure about fewer than m people."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest

from app.console import demo_survey
from app.core.shapes import SurveyResults, SurveyView, Turnout
from app.demo import survey as demo
from app.record import report, report_pdf, survey_charts
from app.rules import survey_tally
from app.rules.explain import english
from app.rules.survey_weights import Population
from app.voting import rounds
from app.voting.db import read_transaction
from app.web.rendering import TEMPLATES
from tests.conftest import FACILITATOR_KEY, LiveServer
from tests.test_report import pdf_text, text_of

# Few enough that some segments and areas fall under m (5) and are hidden; enough that
# every service is placed on the service map.
RESPONDENTS = 60
M = 5  # the demo's m (app/demo: RuleFile(group_min=5))


@dataclass
class Seeded:
    facilitator: httpx.Client
    meeting_id: int
    view: SurveyView  # the survey round's results view, as the report reads it


@pytest.fixture
def seeded(server: LiveServer) -> Iterator[Seeded]:
    """The demo survey meeting (a closed survey round of RESPONDENTS made-up answers)."""
    engine = server.app.state.services.engine
    with ThreadPoolExecutor(1) as pool:  # seed runs its own event loop
        meeting = pool.submit(demo_survey.seed, engine, RESPONDENTS).result()
    assert meeting.id is not None
    with read_transaction(engine) as session:
        view = rounds.results_view(session, meeting, rounds.get_round(session, meeting, 1))
    assert "survey" in view
    client = server.browser()
    assert client.get(f"/facilitator?key={FACILITATOR_KEY}").status_code in (200, 303)
    yield Seeded(client, meeting.id, view)  # type: ignore[arg-type]


def flat(text: str) -> str:
    """White space (a PDF's line breaks inside a wrapped title) collapsed to single spaces."""
    return " ".join(text.split())


def hidden_groups(view: SurveyView) -> list[str]:
    """The segments and areas the survey's figures hide (fewer than m answered), by name."""
    labels = view["labels"]
    segments = survey_charts.names_in(labels["segments"], "en")
    areas = survey_charts.names_in(labels["areas"], "en")
    figures = view["survey"]
    out = [segments.get(g["segment"], g["segment"]) for g in figures["segments"]]
    out = [name for name, g in zip(out, figures["segments"], strict=True) if not g["respondents"]]
    out += [areas.get(g["area"], g["area"]) for g in figures["areas"] if not g["respondents"]]
    return out


def test_the_pdf_shows_every_chart_service_and_the_focus_list(seeded: Seeded) -> None:
    """The PDF: "Community Survey", the five charts' titles (the area map's too), every
    service, the focus list in order, the responses by channel and the suppression note."""
    r = seeded.facilitator.get(f"/console/{seeded.meeting_id}/report.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = flat(pdf_text(r.content))
    assert "Community Survey" in text
    assert f"{RESPONDENTS} people answered. Responses by channel: Phone in the room 60." in text
    assert "A figure about fewer than 5 people is not shown" in text
    for title in (
        "The service map: value and satisfaction",
        "Need: how often people use each service",
        "Co-production: who would do more to help",
        "Need score (0-100) by area:",
    ):
        assert title in text, title
    for _key, name, _cy in demo.SERVICES:
        assert name in text, name
    focus = survey_tally.focus_list(seeded.view["survey"])
    assert focus, "the demo's made-up answers put some service on the focus list"
    names = {key: name for key, name, _cy in demo.SERVICES}
    after = text.index("The focus list")
    places = [text.index(f"{names[f.service]}:", after) for f in focus]
    assert places == sorted(places)  # in the focus list's order
    # Each chart is followed by its data table: the matrix's (its quadrant column), the need
    # ranking's (each score's n), the area map's (each area, by name).
    matrix = text.index("The service map: value and satisfaction")
    need = text.index("Need: how often people use each service")
    assert matrix < text.index("Quadrant", matrix) < need
    assert text.index("n = ", need) < text.index("Co-production: who would do more to help")
    area_map = text.index("Need score (0-100) by area:")
    assert text.index("Southfield", area_map) < text.index("The focus list")


def test_no_figure_about_fewer_than_m_people_is_printed(seeded: Seeded) -> None:
    """Every count the survey's tables print is at least m; a group with fewer than m is in
    the co-production table only as "fewer than m", in the HTML and in the PDF."""
    hidden = hidden_groups(seeded.view)
    assert hidden, "with 60 answers some segment or area has fewer than m"
    page = seeded.facilitator.get(f"/console/{seeded.meeting_id}/report.html").text
    survey = page[page.index('<section class="survey"') :]
    survey = survey[: survey.index("</section>")]
    pdf = flat(pdf_text(seeded.facilitator.get(f"/console/{seeded.meeting_id}/report.pdf").content))
    for text in (text_of(survey), pdf):
        counts = [int(n) for n in re.findall(r"\bn = (\d+)", text)]
        assert counts and min(counts) >= M, counts
    # The co-production table: a hidden group's column holds no figure, only the note.
    tables = re.findall(r"<table.*?</table>", survey, re.S)
    more = next(t for t in tables if "who would do more" in t)
    header = [text_of(h) for h in re.findall(r"<th scope=\"col\".*?</th>", more, re.S)]
    for row in re.findall(r"<tr>(.*?)</tr>", more, re.S)[1:]:
        cells = [text_of(c) for c in re.findall(r"<t[hd][^>]*>.*?</t[hd]>", row, re.S)]
        for name, cell in zip(header, cells, strict=True):
            if name in hidden:
                assert "fewer than 5" in cell and not re.search(r"\d+\.\d", cell), (name, cell)


def test_the_html_report_has_each_chart_as_an_image_with_its_table(seeded: Seeded) -> None:
    """The page: five charts (SVG images named by their titles), each with its table; the
    focus list as a list."""
    page = seeded.facilitator.get(f"/console/{seeded.meeting_id}/report.html").text
    survey = page[page.index('<section class="survey"') :]
    assert survey.count('<article class="survey-chart"') == 5
    assert survey.count('role="img"') == 5
    for article in re.findall(r'<article class="survey-chart".*?</article>', survey, re.S):
        assert "<svg" in article and "<table" in article
    text = text_of(survey)
    for _key, name, _cy in demo.SERVICES:
        assert name in text
    assert "The focus list" in text and "needed, with low satisfaction" in text


def test_the_welsh_report_speaks_welsh_with_the_services_welsh_names(seeded: Seeded) -> None:
    r = seeded.facilitator.get(f"/console/{seeded.meeting_id}/report.pdf?lang=cy")
    text = flat(pdf_text(r.content))
    assert "Arolwg Cymunedol" in text
    assert "Map y gwasanaethau: gwerth a bodlonrwydd" in text
    for _key, _name, welsh in demo.SERVICES:
        # the PDF's font has ŵ and ŷ; a name is printed whole
        assert welsh in text, welsh
    assert "Y rhestr ffocws" in text
    page = seeded.facilitator.get(f"/console/{seeded.meeting_id}/report.html?lang=cy").text
    assert "Arolwg Cymunedol" in text_of(page) and "Community Survey" not in page


def test_the_projector_shows_the_report_s_area_map_and_each_chart_s_table(
    server: LiveServer, seeded: Seeded
) -> None:
    """GET /p/CODE/charts (the revealed demo round): the four charts and the area map the
    report prints (the most needed service's need by area), each with its table."""
    page = seeded.facilitator.get(f"/console/{seeded.meeting_id}").text
    match = re.search(r'class="code">([A-Z0-9]{6})<', page)
    assert match is not None
    fragment = server.browser().get(f"/p/{match.group(1)}/charts").text
    cards = re.findall(r'<article class="result result-chart".*?</article>', fragment, re.S)
    assert len(cards) == 5  # the service map, need, would do more, hours, the area map
    assert all('class="visually-hidden chart-table"><table' in card for card in cards)
    top = seeded.view["survey"]["need_ranking"][0]
    name = {key: title for key, title, _cy in demo.SERVICES}[top]
    assert f"Need score (0-100) by area: {name}" in text_of(cards[-1])
    report_pdf_text = flat(
        pdf_text(seeded.facilitator.get(f"/console/{seeded.meeting_id}/report.pdf").content)
    )
    assert f"Need score (0-100) by area: {name}" in report_pdf_text


def test_the_weighted_figures_are_beside_the_figures_as_answered_in_both_renderings() -> None:
    """With a population (here: the areas in equal shares), the survey section has each
    service's value and need weighted and as answered; no server: `report.build` is pure."""
    survey = demo.survey()
    people = demo.answers(200, random.Random(7))
    responses = [survey_tally.SurveyResponse(p.segments, p.marks) for p in people]
    population = Population({a.key: 1 / len(survey.areas) for a in survey.areas}, {})
    figures = survey_tally.tabulate(survey, responses, M, population)
    assert figures["weighted"] is not None
    model = model_of(figures, {"phone": 150, "keypad": 30, "paper": 20})
    section = model.rounds[0].survey
    assert section is not None and section.weighted is not None
    assert model.rounds[0].items == ()  # the survey's figures stand for its answers' counts
    assert section.channels == "Responses by channel: Phone in the room 150, Keypad 30, Paper 20."
    weighted = {row[0]: row for row in section.weighted.rows}
    assert sorted(weighted) == sorted(name for _key, name, _cy in demo.SERVICES)
    library = weighted["Mobile library"]
    overall = {f["service"]: f for f in figures["overall"]["services"]}
    as_answered = overall["mobile-library"]["value"]
    assert as_answered is not None and as_answered["mean"] is not None
    assert library[2] == f"{as_answered['mean']:.2f}"  # value as answered, beside weighted
    page = text_of(TEMPLATES.env.get_template("record/report.html").render(report=model, _=english))
    pdf = flat(pdf_text(report_pdf.render(model)))
    for text in (page, pdf):
        assert "Weighted to the population" in text
        assert "Value, weighted" in text and "Need score, as answered" in text
        assert "Responses by channel: Phone in the room 150, Keypad 30, Paper 20." in text


def test_a_survey_too_few_answered_to_show_prints_its_charts_empty() -> None:
    """Three answers with m = 5: every figure is hidden, so the matrix and the need ranking
    have no rows and every co-production cell says "fewer than 5"; the PDF still renders,
    with the charts' titles and no count at all."""
    survey = demo.survey()
    people = demo.answers(3, random.Random(7))
    responses = [survey_tally.SurveyResponse(p.segments, p.marks) for p in people]
    figures = survey_tally.tabulate(survey, responses, M)
    model = model_of(figures, {"phone": 3})
    section = model.rounds[0].survey
    assert section is not None and section.charts[0].table.rows == ()
    text = flat(pdf_text(report_pdf.render(model)))
    assert "The service map: value and satisfaction" in text
    assert "n = " not in text and "No answers, or fewer than 5" in text
    assert "No service stands out" in text


def model_of(figures: SurveyResults, by_channel: dict[str, int]) -> report.Report:
    """The report of a meeting whose one round is a closed survey round with `figures`."""
    view: SurveyView = {
        "answers": [{"id": "q", "answered": sum(by_channel.values()), "counts": {}}],
        "items": [],
        "survey": figures,
        "labels": survey_charts.labels_of(demo.survey(), []),
    }
    at = datetime(2026, 12, 5, 19, 0, tzinfo=UTC)
    meeting = report.MeetingInfo("Riverside survey", 2, M, (), (), at)
    turnout: Turnout = {
        "registered": None,
        "present": sum(by_channel.values()),
        "voted": sum(by_channel.values()),
        "by_channel": {"phone": 0, "remote": 0, "keypad": 0, "paper": 0, **by_channel},
    }
    rnd = report.RoundInput(
        number=1, status="closed", revealed=True, opened_at=at, closed_at=at, results=view,
        turnout=turnout, turnout_at_close=True, view="charts",
    )  # fmt: skip
    record = report.RecordInput("a" * 64, "b" * 64, 1, "c" * 64)
    return report.build(meeting, [rnd], record, generated_at=at)
