"""A survey's public files (app/record/survey_files.py) and `covote survey tabulate`: the
responses CSV protects segments and areas and withholds texts, reads back to the same results,
reports every problem by line; the population CSV; the command reproduces the results JSON
byte for byte."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.cli import main as covote
from app.core.vocab import Quadrant
from app.record import anonymity
from app.record.records import RecordError
from app.record.survey_file import dump_survey
from app.record.survey_files import dumps_survey_results as dumps
from app.record.survey_files import (
    protected_cells,
    public_responses,
    read_population,
    read_responses_csv,
    tally_input,
    write_responses_csv,
)
from app.rules import survey as sv
from app.rules.scales import Choice
from app.rules.survey_tally import SurveyResponse, tabulate
from app.rules.survey_weights import Cell, Population

SURVEY = sv.Survey(
    "Services in Ashdown",
    (sv.Service("library", "Mobile library"), sv.Service("parks", "Parks", (sv.Standard.VALUE,))),
    (
        sv.CustomQuestion(
            "bus",
            sv.CustomType.SINGLE,
            "Bus?",
            (Choice("yes", None, "Yes"), Choice("no", None, "No")),
        ),
        sv.CustomQuestion("ideas", sv.CustomType.TEXT, "Any ideas?", max_length=80),
    ),
    (sv.Area("north", "North ward"), sv.Area("south", "South ward")),
)
SECRET = "s" * 64


def _sample(n: int = 40, seed: int = 7) -> list[tuple[str, SurveyResponse]]:
    """`n` respondents with pseudonyms, as the server would pass them."""
    rnd = random.Random(seed)
    out = []
    for voter in range(1, n + 1):
        marks = {
            "library.value": str(rnd.randint(1, 5)),
            "library.need": rnd.choice(["never", "sometimes", "often"]),
            "library.satisfaction": rnd.choice(["1", "3", "4", "5", "dont_use"]),
            "library.contributes": rnd.choice(["none", "volunteer", "volunteer;group"]),
            "library.more": rnd.choice(["none", "neighbour"]),
            "library.hours": str(rnd.choice([0, 2, 4, 10])),
            "parks.value": str(rnd.randint(1, 5)),
            "q.bus": rnd.choice(["yes", "no"]),
            "q.ideas": "=call Jo on 07700 900123",
        }
        if voter % 7:
            marks["area"] = rnd.choice(["north", "north", "south"])
        segments = frozenset(rnd.sample(["carer", "young"], rnd.randint(0, 1)))
        if voter == 1:
            segments = frozenset({"carer", "young", "veteran"})  # a rare combination
        out.append((anonymity.public_pseudonym(SECRET, 3, voter), SurveyResponse(segments, marks)))
    return out


def test_the_public_file_reads_back_to_the_same_results() -> None:
    """Tabulating the file read back gives the server's results, byte for byte."""
    public = public_responses(SURVEY, _sample(), 5)
    text = write_responses_csv(SURVEY, public)
    assert text.splitlines()[0] == "respondent,question,answer,segments,area"
    back = read_responses_csv(text, SURVEY)
    served = dumps(tabulate(SURVEY, tally_input(public), 5))
    assert dumps(tabulate(SURVEY, tally_input(back), 5)) == served
    assert served.endswith("}\n") and json.loads(served)["overall"]["respondents"] == 40


def test_texts_are_withheld_and_rare_combinations_coarsened() -> None:
    """A short text is only counted (it may name someone); nobody's segments and area are
    written unless at least m respondents share them; rows are by pseudonym only."""
    public = public_responses(SURVEY, _sample(), 5)
    text = write_responses_csv(SURVEY, public)
    assert "07700" not in text and "call" not in text
    assert "veteran" not in text  # one respondent: never written
    rows = [line.split(",") for line in text.splitlines()[1:]]
    assert {r[1] for r in rows if r[2] == ""} == {"q.ideas"}
    assert all(r[0].startswith("v-") for r in rows)
    held = Counter((p.response.marks.get("area"), p.response.segments) for p in public)
    assert min(held.values()) >= 5
    results = tabulate(SURVEY, tally_input(public), 5)
    assert results["overall"]["custom"][1] == {
        "question": "ideas",
        "type": "text",
        "figure": {"n": 40},
    }


def test_a_respondent_who_answered_only_the_area_keeps_a_row() -> None:
    """Someone who answered nothing else is still counted: one row, question and answer empty."""
    rows = [(f"v-{i}", SurveyResponse(frozenset(), {"area": "north"})) for i in range(3)]
    text = write_responses_csv(SURVEY, public_responses(SURVEY, rows, 3))
    assert text.splitlines()[1] == "v-0,,,,north"
    back = read_responses_csv(text, SURVEY)
    assert tabulate(SURVEY, tally_input(back), 3)["areas"][0]["respondents"] == 3


@st.composite
def cells(draw: st.DrawFn) -> dict[Cell, int]:
    keys = draw(
        st.lists(
            st.tuples(
                st.sampled_from([None, "a", "b", "c"]),
                st.frozensets(st.sampled_from(["x", "y", "z"])),
            ),
            unique=True,
            max_size=12,
        )
    )
    return {k: draw(st.integers(1, 6)) for k in keys}


@settings(max_examples=200, deadline=None)
@given(cells(), st.integers(1, 6))
def test_every_written_combination_holds_at_least_m(sizes: dict[Cell, int], m: int) -> None:
    """Written cells hold m or more respondents (all of them, when fewer than m took part),
    and each is a coarsening of the true one: fewer segments, the area or none."""
    out = protected_cells(sizes, m)
    held: Counter[Cell] = Counter()
    for cell, n in sizes.items():
        written = out[cell]
        assert written[1] <= cell[1] and written[0] in (cell[0], None)
        held[written] += n
    total = sum(sizes.values())
    assert all(n >= m for n in held.values()) or (total < m and len(held) == 1)


def test_the_reader_reports_every_problem_by_line() -> None:
    """Unknown question, off-scale answer, unknown area, bad segment, changed segments, a
    repeated answer and a row without a question beside others: each on its line."""
    text = (
        "respondent,question,answer,segments,area\n"
        "v-1,library.value,4,carer,north\n"
        "v-1,library.vlaue,4,carer,north\n"
        "v-2,library.value,9,,south\n"
        "v-3,library.need,often,,east\n"
        "v-4,library.need,often,a;a,\n"
        "v-1,parks.value,2,young,north\n"
        "v-1,library.value,3,carer,north\n"
        "v-5,library.need,often,,\n"
        "v-5,,,,\n"
        "v-6,q.ideas,,,\n"
    )
    with pytest.raises(RecordError) as e:
        read_responses_csv(text, SURVEY)
    lines = [line for line, _ in e.value.errors]
    assert lines == [3, 4, 5, 6, 7, 8, 10], e.value.errors
    reasons = " ".join(reason for _, reason in e.value.errors)
    for word in ("vlaue", "'9'", "east", "listed twice", "other segments", "on line 2"):
        assert word in reasons.replace('"', "'")


def test_the_reader_wants_its_header() -> None:
    """A file with another header is refused on line 1."""
    with pytest.raises(RecordError) as e:
        read_responses_csv("round,voter,channel,segments,proposal,mark\n", SURVEY)
    assert e.value.line == 1


def test_population_by_share_and_by_count() -> None:
    """Shares are taken as given; counts become shares of the areas' total or of `total`."""
    shares = read_population(
        "kind,id,share\narea,north,0.6\narea,south,.4\nsegment,carer,0.1\n", SURVEY
    )
    assert shares == Population({"north": 0.6, "south": 0.4}, {"carer": 0.1})
    counts = read_population(
        "kind,id,count\narea,north,300\narea,south,100\nsegment,carer,40\n", SURVEY
    )
    assert counts == Population({"north": 0.75, "south": 0.25}, {"carer": 0.1})
    total = read_population("kind,id,count\ntotal,,1000\nsegment,carer,40\n", SURVEY)
    assert total == Population({}, {"carer": 0.04})


@pytest.mark.parametrize(
    ("text", "line", "word"),
    [
        ("kind,id,share\narea,east,0.5\n", 2, "not an area"),
        ("kind,id,share\nward,north,0.5\n", 2, "kind"),
        ("kind,id,share\narea,north,1.5\n", 2, "share"),
        ("kind,id,share\narea,north,0\n", 2, "share"),
        ("kind,id,share\narea,north,1e-3\n", 2, "share"),
        ("kind,id,share\nsegment,carer,1\n", 2, "less than the whole"),
        ("kind,id,share\narea,north,0.5\narea,north,0.5\n", 3, "already on line 2"),
        ("kind,id,share\ntotal,,5\n", 2, "total"),
        ("kind,id,count\narea,north,-4\n", 2, "whole number"),
        ("kind,id,count\narea,north," + "9" * 30 + "\n", 2, "whole number"),
        ("kind,id,count\nsegment,carer,4\n", None, "need a total"),
        ("kind,id,share\narea,north,0.7\narea,south,0.7\n", None, "more than 1"),
        ("kind,id,people\n", 1, "expected"),
    ],
)
def test_population_problems_are_reported(text: str, line: int | None, word: str) -> None:
    """Each bad population file is refused with the line and a reason."""
    with pytest.raises(RecordError) as e:
        read_population(text, SURVEY)
    assert e.value.line == line and word in e.value.reason, e.value.errors


def test_covote_survey_tabulate_prints_the_results_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command on the exported files prints byte for byte what the server computes from
    the same responses (protected) and population."""
    public = public_responses(SURVEY, _sample(60, seed=3), 4)
    population_text = "kind,id,count\narea,north,5200\narea,south,4800\nsegment,carer,900\n"
    served = dumps(
        tabulate(SURVEY, tally_input(public), 4, read_population(population_text, SURVEY))
    )
    (tmp_path / "survey.json").write_text(dump_survey(SURVEY), encoding="utf-8")
    (tmp_path / "responses.csv").write_text(write_responses_csv(SURVEY, public), encoding="utf-8")
    (tmp_path / "population.csv").write_text(population_text, encoding="utf-8")
    args = ["survey", "tabulate", str(tmp_path / "responses.csv")]
    args += ["--survey", str(tmp_path / "survey.json"), "--m", "4"]
    assert covote([*args, "--population", str(tmp_path / "population.csv")]) == 0
    out = capsys.readouterr().out
    assert out == served
    assert json.loads(out)["weighted"]["margins"] == ["area", "segment:carer"]
    assert covote(args) == 0
    assert capsys.readouterr().out == dumps(tabulate(SURVEY, tally_input(public), 4))


def test_covote_survey_tabulate_reports_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed responses file is `file:line: reason` with exit 2; so is an m out of range."""
    (tmp_path / "survey.json").write_text(dump_survey(SURVEY), encoding="utf-8")
    bad = tmp_path / "responses.csv"
    bad.write_text("respondent,question,answer,segments,area\nv-1,library.value,6,,\n")
    assert covote(["survey", "tabulate", str(bad), "--survey", str(tmp_path / "survey.json")]) == 2
    assert "responses.csv:2: answer" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        covote(["survey", "tabulate", str(bad), "--survey", "x.json", "--m", "0"])
    assert e.value.code == 2
    missing = ["survey", "tabulate", str(tmp_path / "nope.csv"), "--survey", "x.json"]
    assert covote(missing) == 2


ANSWERS = {
    "library.value": ["1", "5"],
    "library.satisfaction": ["2", "dont_use"],
    "library.contributes": ["none", "volunteer;group"],
    "library.hours": ["0", "7"],
    "parks.value": ["3", "4"],
    "q.bus": ["yes", "no"],
    "q.ideas": ["a, b", "=1+1"],
    "area": ["north", "south"],
}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.frozensets(st.sampled_from(["carer", "young"])),
            st.dictionaries(st.sampled_from(sorted(ANSWERS)), st.sampled_from(["0", "1"])),
        ),
        max_size=20,
    ),
    st.integers(1, 4),
)
def test_any_responses_survive_the_file(
    drawn: list[tuple[frozenset[str], dict[str, str]]], m: int
) -> None:
    """Whatever was answered, the file read back tabulates to the same results JSON."""
    rows = [
        (f"v-{i:03d}", SurveyResponse(segs, {k: ANSWERS[k][int(c)] for k, c in picks.items()}))
        for i, (segs, picks) in enumerate(drawn)
    ]
    public = public_responses(SURVEY, rows, m)
    back = read_responses_csv(write_responses_csv(SURVEY, public), SURVEY)
    assert [r.respondent for r in back] == [r.respondent for r in public]
    assert dumps(tabulate(SURVEY, tally_input(back), m)) == dumps(
        tabulate(SURVEY, tally_input(public), m)
    )


def test_the_demo_survey_tabulates_with_every_service_placed() -> None:
    """The sample council's made-up answers, through the public file: every service is on
    the matrix and in the need ranking, every ward's respondents are shown, ideas counted."""
    from app.demo import survey as demo

    survey = demo.survey()
    made_up = demo.answers(300, random.Random(1))
    rows = [(f"v-{i:04d}", SurveyResponse(a.segments, a.marks)) for i, a in enumerate(made_up)]
    public = public_responses(survey, rows, 5)
    back = read_responses_csv(write_responses_csv(survey, public), survey)
    results = tabulate(survey, tally_input(back), 5)
    assert results["axes"]["basis"] == "median"
    assert all(f["quadrant"] in {q.value for q in Quadrant} for f in results["overall"]["services"])
    assert sorted(results["need_ranking"]) == sorted(s.key for s in survey.services)
    assert all(g["respondents"] is not None for g in results["areas"])
    ideas = next(c for c in results["overall"]["custom"] if c["type"] == "text")
    assert ideas["figure"] is not None and ideas["figure"]["n"] > 0
