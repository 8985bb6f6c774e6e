#!/usr/bin/env python3
"""Time a big online survey's results: 100,000 respondents x 30 questions on PostgreSQL.

    .venv/bin/python scripts/bench_survey.py                  100,000 respondents, 3 timings
    .venv/bin/python scripts/bench_survey.py --respondents 20000 --repeat 5
    .venv/bin/python scripts/bench_survey.py --pg-url postgresql://postgres@127.0.0.1/test

Makes a fresh PostgreSQL database beside `--pg-url` (default: COVOTE_TEST_PG or the tests'
`test` database; dropped afterwards), a meeting with a survey of five of the demo's services
(6 standard questions each: 30 questions) and its six wards, and a survey round holding
`--respondents` made-up answers (app/demo/survey.py, seeded), written in bulk (the ballot path
is timed elsewhere: `scripts/bench --only survey`), then its counts rebuilt from the ballots as
for a bulk load (`survey_counts.rebuild`, `survey_rebuild_s`). Then times what the console and
the projector do to show the results: `rounds.results_view` in a fresh read transaction (the
counts the ballot writer keeps read, `survey_counts.stored_counts`; protected as published and
tabulated, `survey_files.public_counts`, `survey_tally.tabulate_counts`), `--repeat` times, and
reports the median as `survey_100k_s` (for the default size: the first view) beside
`survey_results_kept_s` (the same view again, nothing changed) and its parts,
`survey_count_read_s` (reading the kept counts) and `survey_figures_s` (protection and figures
from the counts), and the paths before for comparison: `survey_count_sql_s` (the ballots
counted in SQL, `survey_counts.recount`), `survey_read_s` (every ballot read),
`survey_tabulate_s` (the pure tabulation over them) and their sum `survey_python_s`. Prints one
JSON object. Not part of the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_PG = os.environ.get("COVOTE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
TARGET_S = 1.0  # the "results in about a second"


def _survey() -> Any:
    from app.demo import survey as demo
    from app.rules import survey as sv

    full = demo.survey()
    return sv.Survey(full.title, full.services[:5], (), full.areas, full.translations)


def run(respondents: int, repeat: int, pg_url: str) -> dict[str, Any]:
    import psycopg
    from sqlalchemy import insert

    from app.console import demo_survey
    from app.core.vocab import SURVEY
    from app.demo import survey as demo
    from app.record import survey_files
    from app.rules import survey as sv
    from app.rules import survey_tally
    from app.voting import activity, kinds, meetings, rounds, survey_counts, surveys
    from app.voting.db import make_engine, read_transaction, transaction, upgrade
    from app.voting.models import Ballot, Voter

    name = f"covote_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = pg_url.rsplit("/", 1)[0] + "/" + name
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = make_engine(url)
    try:
        upgrade(engine)
        survey = _survey()
        keys = {i.key for i in sv.items(survey)}
        people = demo.answers(respondents, random.Random(2026))
        began = time.perf_counter()
        with transaction(engine) as session:
            meeting = meetings.create_meeting(session, demo_survey.sample())
            surveys.save_survey(session, meeting, survey)
            assert meeting.id is not None
            items = [i.key for i in kinds.kind_named(SURVEY).available(session, meeting.id)]
            rnd = rounds.open_round(session, meeting, items, kind=SURVEY)
            meeting_id, round_id = meeting.id, rnd.id
            assert round_id is not None
        with transaction(engine) as session:
            for start in range(0, respondents, 10_000):
                chunk = people[start : start + 10_000]
                session.execute(
                    insert(Voter),
                    [
                        {
                            "id": start + i + 1,
                            "meeting_id": meeting_id,
                            "pseudonym": f"v-{start + i:09x}",
                            "segments": sorted(p.segments),
                            "channel": "online",
                        }
                        for i, p in enumerate(chunk)
                    ],
                )
                session.execute(
                    insert(Ballot),
                    [
                        {
                            "round_id": round_id,
                            "voter_id": start + i + 1,
                            "ballot_uid": uuid.uuid4().hex,
                            "channel": "online",
                            "marks": {k: v for k, v in p.marks.items() if k in keys},
                        }
                        for i, p in enumerate(chunk)
                    ],
                )
        load_s = time.perf_counter() - began
        began = time.perf_counter()
        with transaction(engine) as session:
            survey_counts.rebuild(session, round_id)
        rebuild_s = time.perf_counter() - began
        answers = sum(len([k for k in p.marks if k in keys]) for p in people)

        def timed(fn: Any) -> tuple[float, Any]:
            t = time.perf_counter()
            out = fn()
            return time.perf_counter() - t, out

        views, warm, counts, figures, sql, reads, tabulations = [], [], [], [], [], [], []
        survey_tally.tabulate(survey, [], 5)  # imports scipy's quantiles once, as a server has
        for _ in range(repeat):

            def view() -> Any:
                with read_transaction(engine) as session:
                    meeting = meetings.get_meeting(session, meeting_id)
                    rnd = rounds.get_round(session, meeting, 1)
                    return rounds.results_view(session, meeting, rnd)

            def count() -> Any:
                with read_transaction(engine) as session:
                    meeting = meetings.get_meeting(session, meeting_id)
                    rnd = rounds.get_round(session, meeting, 1)
                    return survey_counts.stored_counts(session, rnd)

            def recount() -> Any:
                with read_transaction(engine) as session:
                    return survey_counts.recount(session, round_id)

            def figures_of(counted: Any) -> Any:
                people, given = survey_files.public_counts(
                    survey, counted.people, counted.answers, 5
                )
                table = survey_tally.count_table(survey, given)
                return survey_tally.tabulate_counts(survey, people, table, 5)

            def read() -> Any:
                with read_transaction(engine) as session:
                    meeting = meetings.get_meeting(session, meeting_id)
                    rnd = rounds.get_round(session, meeting, 1)
                    return activity.responses(session, rnd)

            s, result = timed(view)
            views.append(s)
            s, _ = timed(view)  # again, nothing changed
            warm.append(s)
            s, counted = timed(count)
            counts.append(s)
            s, _ = timed(lambda counted=counted: figures_of(counted))
            figures.append(s)
            s, _ = timed(recount)  # the count before issue 15's kept counts: every ballot
            sql.append(s)
            # The path before issue 15's SQL counts, for comparison: every ballot read, then
            # counted in Python (what the record's files still do, once, when published).
            s, stored = timed(read)
            reads.append(s)
            given = [survey_tally.SurveyResponse(r.segments, r.marks) for r in stored]
            s, _ = timed(lambda given=given: survey_tally.tabulate(survey, given, 5))
            tabulations.append(s)
        assert result["survey"]["overall"]["respondents"] == respondents
        out: dict[str, Any] = {
            "respondents": respondents,
            "questions": len(keys),
            "answers": answers,
            "load_s": round(load_s, 2),
            "survey_rebuild_s": round(rebuild_s, 2),
            "survey_results_s": round(statistics.median(views), 3),
            "survey_results_kept_s": round(statistics.median(warm), 3),
            "survey_count_read_s": round(statistics.median(counts), 3),
            "survey_count_sql_s": round(statistics.median(sql), 3),
            "survey_figures_s": round(statistics.median(figures), 3),
            "survey_read_s": round(statistics.median(reads), 3),
            "survey_tabulate_s": round(statistics.median(tabulations), 3),
            "survey_python_s": round(statistics.median(reads) + statistics.median(tabulations), 3),
            "target_s": TARGET_S,
        }
        if respondents == 100_000:
            out["survey_100k_s"] = out["survey_results_s"]
        return out
    finally:
        engine.dispose()
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--respondents", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pg-url", default=DEFAULT_PG)
    args = ap.parse_args()
    if not 10 <= args.respondents <= 1_000_000 or not 1 <= args.repeat <= 20:
        ap.error("--respondents is 10 to 1,000,000 and --repeat 1 to 20")
    print(json.dumps(run(args.respondents, args.repeat, args.pg_url), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
