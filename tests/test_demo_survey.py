"""The demo survey (app/demo/survey.py): a usable survey, and made-up answers that every scale
accepts and that show the patterns the demo is meant to show."""

from __future__ import annotations

import random
from pathlib import Path
from statistics import mean

from app.console import demo_survey as demo_survey_meeting
from app.core.vocab import RoundStatus
from app.demo import survey as demo
from app.record import chain, survey_file
from app.rules import survey as sv
from app.rules.scales import Problem
from app.voting import audit, rounds, surveys
from app.voting.db import make_engine, read_transaction, upgrade


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


def test_the_demo_survey_meeting_has_its_answers_in_through_the_ballot_path(
    tmp_path: Path,
) -> None:
    """`covote demo`'s survey meeting: the survey stored, a closed and revealed survey round
    whose ballots went through the ballot writer (so the audit chain verifies), and results
    that place the services on the map."""
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    upgrade(engine, backup_dir=tmp_path / "backups")
    meeting = demo_survey_meeting.seed(engine, respondents=60)
    assert meeting.id is not None
    with read_transaction(engine) as session:
        rnd = rounds.get_round(session, meeting, 1)
        assert rnd.status == RoundStatus.CLOSED and rnd.revealed and rnd.kind == "survey"
        assert rnd.turnout is not None and rnd.turnout["voted"] == 60
        chain.verify(audit.export_lines(session, meeting.id))
        view = rounds.results_view(session, meeting, rnd)
        drawn = surveys.boundaries_of(session, meeting.id)
    assert drawn is not None and not drawn.match.missing  # every ward on the map
    assert "survey" in view
    assert view["survey"]["overall"]["respondents"] == 60  # type: ignore[typeddict-item]
    engine.dispose()
