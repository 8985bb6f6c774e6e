"""The survey file: a survey's definition as JSON, for import and export and as the codebook of
its public responses file (`covote survey tabulate ... --survey survey.json`).

Pure (strings in, strings out). `parse_survey` reads and checks a file and gives the
`app.rules.survey.Survey`, reporting every problem in one `RecordError`; `dump_survey` writes
the canonical text (indent 2, this module's key order, UTF-8, final newline), so a file written
here reads back to the same survey and is written again byte for byte.

    {
      "format": "covote-survey/1",
      "title": "Services in Ashdown",
      "translations": {"cy": {"title": "Gwasanaethau yn Ashdown"}},
      "services": [
        {"id": "library", "title": "Mobile library", "description": "",
         "questions": ["value", "need", "satisfaction", "contributes", "more", "hours"],
         "proposal": "library", "translations": {"cy": {"title": "Llyfrgell deithiol"}}}
      ],
      "questions": [
        {"id": "travel", "type": "single", "title": "How do you travel?",
         "choices": [{"id": "bus", "label": "Bus", "translations": {"cy": {"label": "Bws"}}}],
         "translations": {"cy": {"title": "Sut ydych chi'n teithio?"}}},
        {"id": "ideas", "type": "text", "title": "Any ideas?", "max_length": 200},
        {"id": "helps", "type": "multiple", "title": "What helps?", "choices": [...], "most": 2}
      ],
      "areas": [{"id": "north", "label": "North ward", "code": "E05000001",
                 "translations": {"cy": {"label": "Ward y Gogledd"}}}]
    }

`questions` of a service default to all six, in their standard order; `translations`,
`description`, `proposal`, `code`, `choices`, `most` (a multiple choice question's "at most
N" of its choices; none: any number) and `max_length` may be left out. Keys are
lowercase ids (`survey.KEY`); the limits are `app.rules.survey`'s.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from app.core.inputs import JsonInputError, clean_text, load_json
from app.record.records import (
    Description,
    Problems,
    ProposalTexts,
    RecordError,
    SegmentTexts,
    Title,
    describe_error,
)
from app.rules import survey as sv
from app.rules.scales import TEXT_MAX_LENGTH, Choice

FORMAT: Literal["covote-survey/1"] = "covote-survey/1"
MAX_CODE = 32  # an official area code (an ONS ward code is 9 characters)

TitleTexts = ProposalTexts  # {"cy": {"title": ..., "description": ...}}
LabelTexts = SegmentTexts  # {"cy": {"label": ...}}
# The enums' values as literals: the file is validated strictly (no "2" for 2), and a strict
# enum field would want the enum itself. tests/test_survey_file.py checks they stay equal.
StandardName = Literal["value", "need", "satisfaction", "contributes", "more", "hours"]
TypeName = Literal["single", "multiple", "scale", "text"]
STANDARD_NAMES: tuple[StandardName, ...] = get_args(StandardName)
TYPE_NAMES: tuple[str, ...] = get_args(TypeName)
Code = Annotated[str, AfterValidator(lambda v: clean_text(v).strip()), Field(max_length=MAX_CODE)]
Key = Annotated[str, Field(min_length=1, max_length=64)]  # checked by survey.problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceFile(_Strict):
    id: Key
    title: Title
    description: Description = ""
    questions: list[StandardName] = Field(
        default_factory=lambda: list(STANDARD_NAMES), max_length=len(STANDARD_NAMES)
    )
    proposal: Key | None = None
    translations: TitleTexts = Field(default_factory=dict)


class ChoiceFile(_Strict):
    id: Key
    label: Title
    translations: LabelTexts = Field(default_factory=dict)


class QuestionFile(_Strict):
    id: Key
    type: TypeName
    title: Title
    choices: list[ChoiceFile] = Field(default_factory=list, max_length=sv.MAX_CHOICES)
    most: int | None = Field(default=None, ge=1, le=sv.MAX_CHOICES)  # multiple: at most N
    max_length: int = Field(default=200, ge=1, le=TEXT_MAX_LENGTH)
    translations: TitleTexts = Field(default_factory=dict)


class AreaFile(_Strict):
    id: Key
    label: Title
    code: Code = ""
    translations: LabelTexts = Field(default_factory=dict)


class SurveyFile(_Strict):
    format: Literal["covote-survey/1"] = FORMAT
    title: Title
    translations: TitleTexts = Field(default_factory=dict)
    services: list[ServiceFile] = Field(default_factory=list, max_length=sv.MAX_SERVICES)
    questions: list[QuestionFile] = Field(default_factory=list, max_length=sv.MAX_CUSTOM_QUESTIONS)
    areas: list[AreaFile] = Field(default_factory=list, max_length=sv.MAX_AREAS)


def _question(q: QuestionFile) -> sv.CustomQuestion:
    texts: dict[str, dict[str, str]] = {lang: dict(t) for lang, t in q.translations.items()}
    for c in q.choices:
        for lang, t in c.translations.items():
            texts.setdefault(lang, {})[f"choice:{c.id}"] = t["label"]
    return sv.CustomQuestion(
        q.id,
        sv.CustomType(q.type),
        q.title,
        tuple(Choice(c.id, None, c.label) for c in q.choices),
        q.max_length,
        texts,
        q.most,
    )


def to_survey(f: SurveyFile) -> sv.Survey:
    """The survey a checked file describes (`survey.problems` not yet asked)."""
    return sv.Survey(
        f.title,
        tuple(
            sv.Service(
                s.id,
                s.title,
                tuple(sv.Standard(q) for q in s.questions),
                s.description,
                s.translations,
                s.proposal,
            )
            for s in f.services
        ),
        tuple(_question(q) for q in f.questions),
        tuple(sv.Area(a.id, a.label, a.code, a.translations) for a in f.areas),
        f.translations,
    )


def parse_survey(text: str, *, filename: str = "survey.json") -> sv.Survey:
    """Read a survey file.

    Raises:
        RecordError: every problem found, by field (`services[2].title: must not be empty`),
            JSON syntax errors with their line, then the survey's own (`survey.problems`).
    """
    try:
        data = load_json(text.removeprefix("\ufeff"))
    except JsonInputError as e:
        raise RecordError(filename, [(e.line, f"invalid JSON: {e.reason}")]) from None
    if not isinstance(data, dict):
        raise RecordError(filename, [(None, "must be a JSON object")])
    problems = Problems(filename)
    try:
        checked = SurveyFile.model_validate(data, strict=True)
    except ValidationError as e:
        for err in e.errors():
            problems.add(None, describe_error(err))
        problems.raise_if_any()
        raise AssertionError("unreachable") from None
    survey = to_survey(checked)
    for reason in sv.problems(survey):
        problems.add(None, reason)
    problems.raise_if_any()
    return survey


def _texts(t: sv.Translations, *names: str) -> dict[str, dict[str, str]]:
    """Translations of only `names` (a question's choices are written on the choices)."""
    out = {lang: {n: v for n, v in texts.items() if n in names} for lang, texts in t.items()}
    return {lang: texts for lang, texts in sorted(out.items()) if texts}


def survey_json(survey: sv.Survey) -> dict[str, object]:
    """The survey as the file's JSON object, leaving out what is at its default."""

    def lean(d: dict[str, object], **defaults: object) -> dict[str, object]:
        return {k: v for k, v in d.items() if k not in defaults or v != defaults[k]}

    services = [
        lean(
            {
                "id": s.key,
                "title": s.title,
                "description": s.description,
                "questions": [q.value for q in s.questions],
                "proposal": s.proposal,
                "translations": _texts(s.translations, "title", "description"),
            },
            description="",
            questions=[q.value for q in sv.Standard],
            proposal=None,
            translations={},
        )
        for s in survey.services
    ]
    questions = []
    for q in survey.custom:
        choices = [
            lean(
                {
                    "id": c.value,
                    "label": c.label,
                    "translations": {
                        lang: {"label": t[f"choice:{c.value}"]}
                        for lang, t in sorted(q.translations.items())
                        if f"choice:{c.value}" in t
                    },
                },
                translations={},
            )
            for c in q.choices
        ]
        questions.append(
            lean(
                {
                    "id": q.key,
                    "type": q.type.value,
                    "title": q.title,
                    "choices": choices,
                    "most": q.most,
                    "max_length": q.max_length,
                    "translations": _texts(q.translations, "title", "description"),
                },
                choices=[],
                most=None,
                max_length=200,
                translations={},
            )
        )
    areas = [
        lean(
            {
                "id": a.key,
                "label": a.label,
                "code": a.code,
                "translations": _texts(a.translations, "label"),
            },
            code="",
            translations={},
        )
        for a in survey.areas
    ]
    return lean(
        {
            "format": FORMAT,
            "title": survey.title,
            "translations": _texts(survey.translations, "title", "description"),
            "services": services,
            "questions": questions,
            "areas": areas,
        },
        translations={},
        questions=[],
        areas=[],
    )


def dump_survey(survey: sv.Survey) -> str:
    """The canonical text of a survey file."""
    return json.dumps(survey_json(survey), indent=2, ensure_ascii=False) + "\n"
