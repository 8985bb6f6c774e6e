"""The demo survey (app/demo/survey.py): a usable survey, and made-up answers that every scale
accepts and that show the patterns the demo is meant to show."""

from __future__ import annotations

import random
from statistics import mean

from app.demo import survey as demo
from app.record import survey_file
from app.rules import survey as sv
from app.rules.scales import Problem


def test_the_demo_survey_is_usable_and_bilingual() -> None:
    s = demo.survey()
    assert sv.problems(s) == []
    assert all(x.translations["cy"]["title"] for x in s.services)
    assert all(a.translations["cy"]["label"] for a in s.areas)
    assert survey_file.parse_survey(survey_file.dump_survey(s)) == s


def test_every_demo_answer_is_an_answer_on_its_item_s_scale() -> None:
    scales = {i.key: i.scale for i in sv.items(demo.survey())}
    for r in demo.answers(400, random.Random(1)):
        for key, value in r.marks.items():
            parsed = scales[key].parse(value)
            assert not isinstance(parsed, Problem), (key, value)
            assert parsed == value  # stored form


def test_the_answers_are_the_same_for_the_same_seed_and_differ_for_another() -> None:
    assert demo.answers(50, random.Random(1)) == demo.answers(50, random.Random(1))
    assert demo.answers(50, random.Random(1)) != demo.answers(50, random.Random(2))


def test_carers_value_respite_breaks_more_than_everyone_else() -> None:
    people = demo.answers(2000, random.Random(2026))

    def value(carer: bool) -> float:
        return mean(
            int(r.marks["respite-breaks.value"])
            for r in people
            if ("carer" in r.segments) == carer and "respite-breaks.value" in r.marks
        )

    assert value(True) > value(False) + 1


def test_some_respondents_stop_part_way() -> None:
    people = demo.answers(1000, random.Random(7))
    last = f"{demo.SERVICES[-1][0]}.value"
    stopped = sum(1 for r in people if last not in r.marks)
    assert 50 < stopped < 200
