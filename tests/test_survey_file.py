"""The survey file (app/record/survey_file.py): what a facilitator imports and exports, and the
codebook of a survey's public responses."""

from __future__ import annotations

import json

import pytest

from app.record import survey_file
from app.record.records import RecordError
from app.rules import survey as sv

FILE = {
    "format": "covote-survey/1",
    "title": "Services in Ashdown",
    "translations": {"cy": {"title": "Gwasanaethau yn Ashdown"}},
    "services": [
        {
            "id": "library",
            "title": "Mobile library",
            "proposal": "library",
            "translations": {"cy": {"title": "Llyfrgell deithiol"}},
        },
        {"id": "respite", "title": "Respite care", "questions": ["value", "need"]},
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
        },
        {"id": "ideas", "type": "text", "title": "Any ideas?", "max_length": 80},
    ],
    "areas": [
        {"id": "north", "label": "North ward", "code": "E05000001"},
        {"id": "south", "label": "South ward", "translations": {"cy": {"label": "Ward y De"}}},
    ],
}


def test_a_file_reads_to_its_survey_and_writes_back_byte_for_byte() -> None:
    text = json.dumps(FILE, indent=2, ensure_ascii=False) + "\n"
    survey = survey_file.parse_survey(text)
    assert [s.key for s in survey.services] == ["library", "respite"]
    assert survey.services[0].questions == tuple(sv.Standard)  # all six by default
    assert survey.services[1].questions == (sv.Standard.VALUE, sv.Standard.NEED)
    assert survey.custom[0].translations["cy"] == {
        "title": "Sut ydych chi'n teithio?",
        "choice:bus": "Bws",
    }
    assert survey.areas[0].code == "E05000001"
    assert survey_file.dump_survey(survey) == text
    assert survey_file.parse_survey(survey_file.dump_survey(survey)) == survey


def test_every_problem_is_reported_at_once() -> None:
    bad = {
        **FILE,
        "services": [{"id": "library", "title": "", "questions": ["value", "price"]}],
        "questions": [{"id": "n", "type": "scale", "title": "N", "max_length": "80"}],
    }
    with pytest.raises(RecordError) as caught:
        survey_file.parse_survey(json.dumps(bad))
    text = str(caught.value)
    assert "services[0].title" in text
    assert "services[0].questions[1]" in text
    assert "questions[0].max_length" in text  # strict: "80" is not a number


def test_the_survey_s_own_problems_are_reported() -> None:
    bad = {**FILE, "areas": [{"id": "North Ward", "label": "North"}]}
    with pytest.raises(RecordError, match="area key 'North Ward' must be a lowercase id"):
        survey_file.parse_survey(json.dumps(bad))


def test_hostile_files_are_refused_with_a_reason() -> None:
    with pytest.raises(RecordError, match="invalid JSON"):
        survey_file.parse_survey("{" * 10_000)
    with pytest.raises(RecordError, match="must be a JSON object"):
        survey_file.parse_survey("[]")
    many = {**FILE, "areas": [{"id": f"a{i}", "label": "A"} for i in range(sv.MAX_AREAS + 1)]}
    with pytest.raises(RecordError, match="areas"):
        survey_file.parse_survey(json.dumps(many))
    with pytest.raises(RecordError, match="owner: Extra inputs are not permitted"):
        survey_file.parse_survey(json.dumps({**FILE, "owner": "x"}))


def test_the_file_s_names_are_the_definition_s() -> None:
    assert tuple(q.value for q in sv.Standard) == survey_file.STANDARD_NAMES
    assert tuple(t.value for t in sv.CustomType) == survey_file.TYPE_NAMES
