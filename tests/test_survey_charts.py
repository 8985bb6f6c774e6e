"""A survey's results drawn as charts (app/record/survey_charts.py): from the demo survey's
made-up answers, in English and in Welsh, and when too few answered to show anything."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET

from app.core.shapes import SurveyResults
from app.demo import survey as demo
from app.record import survey_charts
from app.rules import survey_tally
from app.web.i18n import gettext_for

SEGMENTS = [("carer", "Carer", {"cy": {"label": "Gofalwr"}}), ("north", "Area: North", {})]


def _results(n: int) -> SurveyResults:
    people = demo.answers(n, random.Random(5))
    return survey_tally.tabulate(
        demo.survey(), [survey_tally.SurveyResponse(p.segments, p.marks) for p in people], 5
    )


def test_the_demo_survey_draws_its_charts_with_every_service() -> None:
    labels = survey_charts.labels_of(demo.survey(), SEGMENTS)
    drawn = survey_charts.survey_charts(_results(400), labels, gettext_for("en"))
    for chart in drawn.all():
        ET.fromstring(chart.svg)  # well-formed
    titles = [t for _, t, _cy in demo.SERVICES]
    matrix_rows = [row[0] for row in drawn.matrix.table.rows]
    assert sorted(matrix_rows) == sorted(titles)
    assert drawn.need.table.rows[0][0] in titles
    header = drawn.more.table.header
    assert header[:2] == ("Service", "Everyone") and "Carer" in header
    assert "business" in header  # a segment without a label here keeps its id


def test_the_charts_speak_welsh_with_the_services_welsh_names() -> None:
    labels = survey_charts.labels_of(demo.survey(), SEGMENTS)
    drawn = survey_charts.survey_charts(_results(400), labels, gettext_for("cy"), "cy")
    assert drawn.matrix.figure.title == "Map y gwasanaethau: gwerth a bodlonrwydd"
    assert "Llyfrgell deithiol" in [row[0] for row in drawn.matrix.table.rows]
    assert "Gofalwr" in drawn.more.table.header


def test_too_few_answers_leave_the_map_empty_and_the_cells_hatched() -> None:
    labels = survey_charts.labels_of(demo.survey(), SEGMENTS)
    drawn = survey_charts.survey_charts(_results(3), labels, gettext_for("en"))
    assert drawn.matrix.table.rows == ()
    assert all(cell.startswith("No answers") for row in drawn.more.table.rows for cell in row[1:])


def test_the_hours_offered_are_summed_by_group_with_small_groups_hidden() -> None:
    """The co-production map's hours: each service's hours a month in all, for everyone and by
    group, equal to the tabulation's sums; a group under m is hatched, never a number."""
    results = _results(400)
    labels = survey_charts.labels_of(demo.survey(), SEGMENTS)
    drawn = survey_charts.survey_charts(results, labels, gettext_for("en"))
    assert drawn.hours is not None and drawn.hours in drawn.all()
    assert drawn.hours.figure.title == "Co-production: hours offered a month"
    titles = {key: title for key, title, _cy in demo.SERVICES}
    sums = {
        titles[f["service"]]: hours["sum"]
        for f in results["overall"]["services"]
        if (hours := f.get("hours"))
    }
    assert sums and all(total > 0 for total in sums.values())
    everyone = {row[0]: row[1] for row in drawn.hours.table.rows}
    assert {name: float(everyone[name].replace(",", "")) for name in sums} == {
        name: float(total) for name, total in sums.items()
    }
    few = survey_charts.survey_charts(_results(3), labels, gettext_for("en")).hours
    assert few is not None
    assert all(cell.startswith("No answers") for row in few.table.rows for cell in row[1:])


def test_a_survey_that_asks_no_hours_has_no_hours_chart() -> None:
    survey = demo.survey()
    results = _results(400)
    for f in results["overall"]["services"]:
        f.pop("hours", None)
    labels = survey_charts.labels_of(survey, SEGMENTS)
    drawn = survey_charts.survey_charts(results, labels, gettext_for("en"))
    assert drawn.hours is None and len(drawn.all()) == 3
