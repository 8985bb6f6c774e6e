"""A survey's results counted in the database (app/voting/survey_counts.py, issue 15): the
console's and projector's results (`rounds.results_view`, counted in SQL) are the same bytes as
the record's path over every response read (`survey_kind.public_files`: `public_responses`,
then `survey_tally.tabulate`; what `covote survey tabulate` reproduces) and the same answer
counts as `view_of` over the responses, on the demo survey and on seeded random surveys with
every kind of question, areas, segments stored in any order, respondents who answered
nothing or skipped the area, and a population to weight to; on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlalchemy.engine import Engine

from app.console import demo_survey
from app.core.vocab import SURVEY
from app.demo import survey as demo
from app.record.survey_files import dumps_survey_results
from app.rules import answers
from app.rules import survey as sv
from app.rules.scales import (
    MULTI_SEPARATOR,
    Choice,
    ChoiceScale,
    MultiChoiceScale,
    RangeScale,
    TextScale,
)
from app.voting import activity, kinds, meetings, rounds, survey_counts, survey_kind, surveys
from app.voting.db import make_engine, read_transaction, transaction, upgrade
from app.voting.models import Ballot, Voter

People = list[tuple[list[str], dict[str, str]]]  # (segments as stored, marks)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database, once per backend (PostgreSQL skips with its reason if absent)."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path / 'covote.db'}"
    e = make_engine(url)
    upgrade(e)
    yield e
    e.dispose()


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    """A migrated PostgreSQL database (skips with its reason if absent)."""
    e = make_engine(postgres_url)
    upgrade(e)
    yield e
    e.dispose()


def _seed(engine: Engine, survey: sv.Survey, people: People, population: str | None) -> int:
    """A meeting with `survey` and an open survey round holding `people`'s ballots, written in
    bulk as the bench does (the ballot path is tested elsewhere); the meeting's id."""
    with transaction(engine) as session:
        meeting = meetings.create_meeting(session, demo_survey.sample())
        surveys.save_survey(session, meeting, survey)
        if population is not None:
            surveys.save_population(session, meeting, population, "population.csv")
        assert meeting.id is not None
        keys = [i.key for i in kinds.kind_named(SURVEY).available(session, meeting.id)]
        rnd = rounds.open_round(session, meeting, keys, kind=SURVEY)
        meeting_id, round_id = meeting.id, rnd.id
    with transaction(engine) as session:
        session.execute(
            insert(Voter),
            [
                {
                    "id": 1000 + i,
                    "meeting_id": meeting_id,
                    "pseudonym": f"p{i:08x}",
                    "segments": segments,
                    "channel": "online",
                }
                for i, (segments, _) in enumerate(people)
            ],
        )
        session.execute(
            insert(Ballot),
            [
                {
                    "round_id": round_id,
                    "voter_id": 1000 + i,
                    "ballot_uid": uuid.uuid4().hex,
                    "channel": "online",
                    "marks": marks,
                }
                for i, (_, marks) in enumerate(people)
            ],
        )
    return meeting_id


def _both_paths(engine: Engine, meeting_id: int) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The results the screens get (SQL counts), the answer counts `view_of` makes over the
    responses read, and the record's results JSON (every response read, in Python)."""
    with read_transaction(engine) as session:
        meeting = meetings.get_meeting(session, meeting_id)
        rnd = rounds.get_round(session, meeting, 1)
        screens = dict(rounds.results_view(session, meeting, rnd))
        kind = survey_kind.SurveyKind()
        given = activity.responses(session, rnd)
        read = dict(kind.view_of(session, meeting, rnd, given))
        # results.json's counts, also counted in SQL, are the counts of the responses read
        items = kind.items(session, meeting_id, rnd.proposal_keys)
        assert kind.result(session, meeting, rnd) == answers.count_answers(
            [(i.key, i.scale) for i in items], [r.marks for r in given]
        )
        files = survey_kind.public_files(session, meeting, rnd)
    assert files is not None
    return screens, read, files[1]


def _check_same(engine: Engine, meeting_id: int, respondents: int) -> dict[str, Any]:
    screens, read, record = _both_paths(engine, meeting_id)
    assert dumps_survey_results(screens["survey"]) == record
    assert screens["survey"]["overall"]["respondents"] == respondents
    survey_part = {k: screens[k] for k in ("survey", "labels")}
    assert {k: v for k, v in screens.items() if k not in survey_part} == read
    return screens


def test_the_demo_survey_counted_in_sql_is_the_record_s_bytes(engine: Engine) -> None:
    """The demo's survey (texts, multi-choice, hours, six wards, overlapping segments) with
    400 respondents: the screens' figures are the results.json the record publishes."""
    people = [(sorted(p.segments), dict(p.marks)) for p in demo.answers(400, random.Random(15))]
    meeting_id = _seed(engine, demo.survey(), people, None)
    screens = _check_same(engine, meeting_id, 400)
    assert screens["survey"]["overall"]["services"][0]["value"]["n"] > 300


def _answers(scale: Any, rng: random.Random) -> list[str]:
    """Answers a scale takes (a sample of them for the wide ones)."""
    if isinstance(scale, RangeScale):
        return scale.values()
    if isinstance(scale, ChoiceScale):
        return [c.value for c in scale.choices]
    if isinstance(scale, MultiChoiceScale):
        values = [c.value for c in scale.choices]
        combos = [
            MULTI_SEPARATOR.join(c) for r in (1, 2, 3) for c in itertools.combinations(values, r)
        ]
        return [v for v in combos if scale.parse(v) == v]
    assert isinstance(scale, TextScale)
    return ["Open on Sundays", "=1+1", "Open on Sundays", "Mwy o fysiau", 'a, "quoted" idea']


def _random_survey(rng: random.Random) -> sv.Survey:
    services = tuple(
        sv.Service(
            f"s{i}",
            f"Service {i}",
            tuple(q for q in sv.Standard if rng.random() < 0.7) or (sv.Standard.VALUE,),
        )
        for i in range(rng.randint(1, 4))
    )
    choices = tuple(Choice(c, None, c.upper()) for c in "abcd")
    custom = (
        sv.CustomQuestion("one", sv.CustomType.SINGLE, "One?", choices[:3]),
        sv.CustomQuestion("many", sv.CustomType.MULTIPLE, "Many?", choices),
        sv.CustomQuestion("rate", sv.CustomType.SCALE, "Rate?"),
        sv.CustomQuestion("idea", sv.CustomType.TEXT, "Idea?", max_length=80),
    )
    areas = tuple(sv.Area(f"w{i}", f"Ward {i}") for i in range(rng.randint(2, 4)))
    return sv.Survey("Random", services, custom[: rng.randint(0, 4)], areas)


def _random_people(survey: sv.Survey, n: int, rng: random.Random) -> People:
    answers = {i.key: _answers(i.scale, rng) for i in sv.items(survey)}
    out: People = []
    for _ in range(n):
        marks = {k: rng.choice(v) for k, v in answers.items() if rng.random() < 0.8}
        if rng.random() < 0.05:
            marks = {}  # opened the survey, answered nothing yet
        segments = [s for s in ("carers", "young", "over65", "north") if rng.random() < 0.3]
        rng.shuffle(segments)  # stored in any order: one cell all the same
        out.append((segments, marks))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_surveys_counted_in_sql_are_the_record_s_bytes(engine: Engine, seed: int) -> None:
    """Seeded random surveys (every question type, 2-4 wards, segments in any order, empty
    ballots, some rare combinations the protection coarsens), m from 2 to 6, weighted in one
    case: SQL counts and the record's path give the same bytes."""
    rng = random.Random(seed)
    survey = _random_survey(rng)
    people = _random_people(survey, rng.randint(60, 250), rng)
    population = None
    if seed == 2:
        shares = [f"area,{a.key},{1 / len(survey.areas):.4f}" for a in survey.areas]
        population = "\n".join(["kind,id,share", *shares, "segment,young,0.2", ""])
    meeting_id = _seed(engine, survey, people, population)
    with transaction(engine) as session:
        meeting = meetings.get_meeting(session, meeting_id)
        meeting.group_min = rng.randint(2, 6)
        session.add(meeting)
    screens = _check_same(engine, meeting_id, len(people))
    assert (screens["survey"]["weighted"] is not None) == (population is not None)


@pytest.mark.postgres
def test_kept_counts_follow_every_change_to_ballots_and_voters(pg_engine: Engine) -> None:
    """On PostgreSQL a round's counts are kept while its ballots and voters are unchanged (the
    same object comes back), and never outlive a change: a changed answer, a voter's changed
    segments and a deleted ballot each give the record's bytes again."""
    e = pg_engine
    rng = random.Random(9)
    survey = _random_survey(rng)
    people = _random_people(survey, 80, rng)
    meeting_id = _seed(e, survey, people, None)

    def counted() -> survey_counts.StoredCounts:
        with read_transaction(e) as session:
            meeting = meetings.get_meeting(session, meeting_id)
            return survey_counts.stored_counts(session, rounds.get_round(session, meeting, 1))

    first = counted()
    assert counted() is first
    key = next(i.key for i in sv.items(survey) if i.key != sv.AREA_ITEM)
    answer = _answers(next(i.scale for i in sv.items(survey) if i.key == key), rng)[0]
    changes = [
        f'UPDATE ballot SET marks = \'{{"{key}": "{answer}"}}\' WHERE voter_id = 1000',
        'UPDATE voter SET segments = \'["young", "carers"]\' WHERE id = 1001',
        "DELETE FROM ballot WHERE voter_id = 1002",
    ]
    for change in changes:
        before = counted()
        with transaction(e) as session:
            session.execute(text(change))
        after = counted()
        assert after is not before and after != before, change
        _check_same(e, meeting_id, len(people) - ("DELETE" in change))
