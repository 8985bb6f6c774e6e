"""A survey's results from the counts kept as ballots arrive (app/voting/survey_counts.py,
issue 15): the console's and projector's results (`rounds.results_view`) are the same bytes as
the record's path over every response read (`survey_kind.public_files`: `public_responses`,
then `survey_tally.tabulate`; what `covote survey tabulate` reproduces) and the same answer
counts as `view_of` over the responses, on the demo survey and on seeded random surveys with
every kind of question, areas, segments stored in any order, respondents who answered
nothing or skipped the area, and a population to weight to; on SQLite and PostgreSQL. The counts
the ballot writer keeps equal a rebuild from the ballots after random sequences of ballots,
replacements, resends and segment changes, with concurrent writers on PostgreSQL; migration 0018
and `covote db survey-counts` count the rounds already stored."""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import insert, text
from sqlalchemy.engine import Engine

from app import cli
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
from app.rules.survey_rows import CountKey
from app.voting import activity, kinds, meetings, rounds, survey_counts, survey_kind, surveys
from app.voting import voters as voter_rows
from app.voting.ballots import BallotWriter, CastRequest
from app.voting.db import (
    alembic_config,
    head_revision,
    make_engine,
    read_transaction,
    transaction,
    upgrade,
)
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


def _seed(
    engine: Engine,
    survey: sv.Survey,
    people: People,
    population: str | None,
    *,
    rebuild: bool = True,
) -> int:
    """A meeting with `survey` and an open survey round holding `people`'s ballots, written in
    bulk as the bench does (the ballot path is tested below), then its counts rebuilt (unless
    not `rebuild`: a database before migration 0018); the meeting's id."""
    with transaction(engine) as session:
        meeting = meetings.create_meeting(session, demo_survey.sample())
        surveys.save_survey(session, meeting, survey)
        if population is not None:
            surveys.save_population(session, meeting, population, "population.csv")
        assert meeting.id is not None
        keys = [i.key for i in kinds.kind_named(SURVEY).available(session, meeting.id)]
        rnd = rounds.open_round(session, meeting, keys, kind=SURVEY)
        meeting_id, round_id = meeting.id, rnd.id
        assert round_id is not None
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
        if rebuild:  # written in bulk, not by the writer
            survey_counts.rebuild(session, round_id)
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


def _open_survey(engine: Engine, survey: sv.Survey, voters: int) -> tuple[int, int, list[int]]:
    """A meeting with `survey`, an open survey round and `voters` joined voters without
    segments or ballots: (meeting id, round id, voter ids)."""
    with transaction(engine) as session:
        meeting = meetings.create_meeting(session, demo_survey.sample())
        surveys.save_survey(session, meeting, survey)
        assert meeting.id is not None
        keys = [i.key for i in kinds.kind_named(SURVEY).available(session, meeting.id)]
        rnd = rounds.open_round(session, meeting, keys, kind=SURVEY)
        ids = []
        for _ in range(voters):
            voter = voter_rows.join(session, meeting)
            assert voter.id is not None
            ids.append(voter.id)
        assert rnd.id is not None
        return meeting.id, rnd.id, ids


def _kept_equals_rebuild(engine: Engine, round_id: int) -> Counter[CountKey]:
    with read_transaction(engine) as session:
        kept = survey_counts.kept(session, round_id)
        assert kept == survey_counts.recount(session, round_id)
        assert all(n > 0 for n in kept.values())
    return kept


def _move(engine: Engine, voter_id: int, segments: list[str]) -> None:
    with transaction(engine) as session:
        voter = session.get(Voter, voter_id)
        assert voter is not None
        survey_counts.set_segments(session, voter, segments)


@pytest.mark.parametrize("seed", [4, 5])
def test_the_writer_s_counts_equal_a_rebuild_after_any_writes(engine: Engine, seed: int) -> None:
    """A random sequence through the ballot writer: first ballots, replacements (several of one
    voter in one batch), resends, empty ballots, a voter's segments changed before and after
    voting. The counts kept equal a rebuild from the ballots after every step, and the screens'
    figures are the record's bytes."""
    rng = random.Random(seed)
    survey = _random_survey(rng)
    choices = {i.key: _answers(i.scale, rng) for i in sv.items(survey)}
    meeting_id, round_id, voter_ids = _open_survey(engine, survey, 30)
    groups = ("carers", "young", "over65", "north")
    last: dict[int, tuple[str, dict[str, str]]] = {}

    def request(voter_id: int) -> CastRequest:
        if voter_id in last and rng.random() < 0.2:  # a resend of the same ballot
            uid, marks = last[voter_id]
        else:
            uid = uuid.uuid4().hex
            marks = {k: rng.choice(v) for k, v in choices.items() if rng.random() < 0.7}
            marks = marks or {next(iter(choices)): next(iter(choices.values()))[0]}
        last[voter_id] = (uid, marks)
        return CastRequest(meeting_id, round_id, voter_id, uid, marks)

    async def run() -> None:
        writer = BallotWriter(engine)
        writer.start()
        try:
            for _ in range(40):
                if rng.random() < 0.25:
                    segments = [g for g in groups if rng.random() < 0.4]
                    rng.shuffle(segments)
                    _move(engine, rng.choice(voter_ids), segments)
                else:
                    batch = [request(rng.choice(voter_ids)) for _ in range(rng.randint(1, 8))]
                    await asyncio.gather(*(writer.cast(r) for r in batch))
                _kept_equals_rebuild(engine, round_id)
        finally:
            await writer.aclose()

    asyncio.run(run())
    kept = _kept_equals_rebuild(engine, round_id)
    respondents = sum(n for k, n in kept.items() if k[2] is None)
    assert respondents == len(last)
    _check_same(engine, meeting_id, len(last))


@pytest.mark.postgres
def test_concurrent_writers_keep_the_counts_exact_on_postgres(pg_engine: Engine) -> None:
    """Two ballot writers (two processes' worth: their own engines) storing batches of the same
    voters' ballots at once, and a third changing their segments: the round's advisory lock
    orders them, so the counts kept equal a rebuild (without it, a writer that read a ballot
    before the other replaced it subtracts the wrong answers)."""
    rng = random.Random(21)
    survey = _random_survey(rng)
    choices = {i.key: _answers(i.scale, rng) for i in sv.items(survey)}
    meeting_id, round_id, voter_ids = _open_survey(pg_engine, survey, 12)
    engines = [make_engine(pg_engine.url.render_as_string(hide_password=False)) for _ in range(3)]
    errors: list[BaseException] = []

    def write(e: Engine, seed: int) -> None:
        r = random.Random(seed)
        writer = BallotWriter(e)
        try:
            for _ in range(25):
                batch = [
                    CastRequest(
                        meeting_id,
                        round_id,
                        r.choice(voter_ids),
                        uuid.uuid4().hex,
                        {k: r.choice(v) for k, v in choices.items()},
                    )
                    for _ in range(r.randint(1, 6))
                ]
                outcomes = writer._commit(batch)
                assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    def move(e: Engine) -> None:
        r = random.Random(3)
        try:
            for _ in range(15):
                _move(e, r.choice(voter_ids), [g for g in ("young", "north") if r.random() < 0.5])
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=write, args=(engines[0], 1)),
        threading.Thread(target=write, args=(engines[1], 2)),
        threading.Thread(target=move, args=(engines[2],)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for e in engines:
        e.dispose()
    assert not errors, errors
    _kept_equals_rebuild(pg_engine, round_id)


def test_migration_0018_counts_the_survey_rounds_already_there(engine: Engine) -> None:
    """A database with a survey round's ballots from before the counts table: migrating to
    0018 counts them, so the screens show the record's bytes and the writer starts right.

    Only 0018 runs (alembic to "0018", then stamped back at head): the later revisions' tables
    are already there, as the models made them."""
    with engine.begin() as conn:  # the survey's tables as they were at 0017
        conn.execute(text("DROP TABLE survey_count"))
    rng = random.Random(6)
    survey = _random_survey(rng)
    people = _random_people(survey, 70, rng)
    meeting_id = _seed(engine, survey, people, None, rebuild=False)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.stamp(config, "0017")
        command.upgrade(config, "0018")
        command.stamp(config, head_revision())
    with read_transaction(engine) as session:
        round_id = rounds.get_round(session, meetings.get_meeting(session, meeting_id), 1).id
    assert round_id is not None
    assert _kept_equals_rebuild(engine, round_id)
    _check_same(engine, meeting_id, len(people))


def test_covote_db_survey_counts_rebuilds_counts_gone_wrong(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Counts changed behind the writer's back (a bulk load, a hand edit) are counted again
    from the ballots by `covote db survey-counts`."""
    rng = random.Random(8)
    survey = _random_survey(rng)
    meeting_id = _seed(engine, survey, _random_people(survey, 50, rng), None)
    with transaction(engine) as session:
        session.execute(text("UPDATE survey_count SET n = n + 3"))
        assert session.execute(text("SELECT min(n) FROM survey_count")).scalar_one() > 3
    url = engine.url.render_as_string(hide_password=False)
    assert cli.main(["db", "survey-counts", "--data", str(tmp_path), "--database-url", url]) == 0
    assert capsys.readouterr().out.startswith("1 survey round(s) counted again")
    with read_transaction(engine) as session:
        round_id = rounds.get_round(session, meetings.get_meeting(session, meeting_id), 1).id
    assert round_id is not None
    _kept_equals_rebuild(engine, round_id)
    _check_same(engine, meeting_id, 50)
