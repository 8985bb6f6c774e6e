"""The Community Survey's definition: services, their standard questions, custom questions and
local areas, and the items (with their answer scales) a survey round asks.

Pure: plain frozen data, no database, web framework or clock. Everything else about a survey
builds on this module: the survey file (JSON import and export), the `survey` activity kind
whose round asks `items(survey)`, the tabulation (app/rules/survey_tally.py) and the charts.

A survey asks, for each service, any of the six standard questions (`Standard`), then the
custom questions, then the area question (when the survey has areas). Each question is one item
of the round, answered on its own scale and stored, like every answer, as one string per item
in `ballot.marks` (app/rules/scales.py):

========================  ==================  ===================================================
item key                  scale               stored answers
========================  ==================  ===================================================
``SERVICE.value``         1-5                 "1" .. "5"
``SERVICE.need``          choice              "never", "sometimes", "often" (keys 1-3)
``SERVICE.satisfaction``  choice              "1" .. "5", "dont_use" (keys 1-6)
``SERVICE.contributes``   multiple choice     "volunteer;neighbour;group" in that order, or "none"
``SERVICE.more``          multiple choice     as contributes: what they would do more of
``SERVICE.hours``         0-`MAX_HOURS`       hours a month they would give
``q.KEY``                 the question's own  single / multiple choice, 1-5, short text
``area``                  choice              an area's key (keypad keys when at most 9 areas)
========================  ==================  ===================================================

"none" is an answer of its own: with anything else it is refused (`MultiChoiceScale.alone`).
Item keys are at most 64 characters (the wire's and the ballot file's bound): a service key is
at most `MAX_SERVICE_KEY`, a custom question's at most `MAX_QUESTION_KEY`.

Respondents' segments are the meeting's (chosen when they join, as for votes); their area is
their answer to the `area` item, so one response carries everything the breakdowns read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from app.core.messages import N_
from app.rules.scales import (
    KEYPAD_KEYS,
    AnswerScale,
    Choice,
    ChoiceScale,
    MultiChoiceScale,
    RangeScale,
    TextScale,
)

MAX_SERVICES = 60  # x 6 standard questions, + custom + area: within one ballot's 500 answers
MAX_CUSTOM_QUESTIONS = 40
MAX_AREAS = 200  # wards or neighbourhoods of a council: a few dozen; 200 is generous
MAX_CHOICES = 20  # a custom question's choices
MAX_HOURS = 100  # hours a month one person offers: 100 is over three hours every day
MAX_SERVICE_KEY = 48  # + ".satisfaction" (13) stays within an item key's 64
MAX_QUESTION_KEY = 60  # + "q." (2)
MAX_TEXT = 200  # a title or a label, as for proposals (records.MAX_TITLE)

AREA_ITEM = "area"
CUSTOM_PREFIX = "q."
KEY = re.compile(r"[a-z0-9][a-z0-9_-]*")  # service, question, area and choice keys: ids


class Standard(StrEnum):
    """The standard questions about a service, in the order a respondent meets them. The value
    is the item key's suffix (`SERVICE.value`)."""

    VALUE = "value"
    NEED = "need"
    SATISFACTION = "satisfaction"
    CONTRIBUTES = "contributes"
    MORE = "more"
    HOURS = "hours"


class CustomType(StrEnum):
    """What a custom question asks for."""

    SINGLE = "single"  # one of its choices
    MULTIPLE = "multiple"  # one or more of its choices
    SCALE = "scale"  # 1-5
    TEXT = "text"  # a short text of at most `max_length` characters


# The standard questions' wording (msgids): {service} is the service's title, filled in when
# shown, so the question reads in the respondent's language around the service's own name.
QUESTION_TEXT: Mapping[Standard, str] = {
    Standard.VALUE: N_("How much do you value %(service)s?"),
    Standard.NEED: N_("How often do you or your household need or use %(service)s?"),
    Standard.SATISFACTION: N_("How satisfied are you with %(service)s?"),
    Standard.CONTRIBUTES: N_("What do you already do that helps %(service)s?"),
    Standard.MORE: N_("Would you do more to help %(service)s?"),
    Standard.HOURS: N_("How many hours a month could you give to %(service)s?"),
}

NEED_NEVER, NEED_SOMETIMES, NEED_OFTEN = "never", "sometimes", "often"
DONT_USE = "dont_use"
NONE = "none"
# Ways of helping (contributes / more), in their stored order.
HELP_WAYS: tuple[Choice, ...] = (
    Choice("volunteer", None, N_("Volunteer")),
    Choice("neighbour", None, N_("Help a neighbour")),
    Choice("group", None, N_("Community group")),
    Choice(NONE, None, N_("None of these")),
)

VALUE_SCALE = RangeScale(1, 5, {1: N_("Not at all"), 5: N_("Very much")})
NEED_SCALE = ChoiceScale(
    (
        Choice(NEED_NEVER, 1, N_("Never")),
        Choice(NEED_SOMETIMES, 2, N_("Sometimes")),
        Choice(NEED_OFTEN, 3, N_("Often")),
    )
)
SATISFACTION_SCALE = ChoiceScale(
    (
        Choice("1", 1, N_("1 Very dissatisfied")),
        Choice("2", 2, N_("2")),
        Choice("3", 3, N_("3")),
        Choice("4", 4, N_("4")),
        Choice("5", 5, N_("5 Very satisfied")),
        Choice(DONT_USE, 6, N_("I don't use it")),
    )
)
HELP_SCALE = MultiChoiceScale(HELP_WAYS, alone=frozenset({NONE}))
HOURS_SCALE = RangeScale(0, MAX_HOURS)
SCALE_5 = RangeScale(1, 5)

STANDARD_SCALES: Mapping[Standard, AnswerScale] = {
    Standard.VALUE: VALUE_SCALE,
    Standard.NEED: NEED_SCALE,
    Standard.SATISFACTION: SATISFACTION_SCALE,
    Standard.CONTRIBUTES: HELP_SCALE,
    Standard.MORE: HELP_SCALE,
    Standard.HOURS: HOURS_SCALE,
}

Translations = Mapping[str, Mapping[str, str]]  # {"cy": {"title": "..."}}, as for proposals


@dataclass(frozen=True, slots=True)
class Service:
    """A service the survey asks about, and which standard questions it asks (all by
    default). `proposal` names the meeting's proposal it was taken from, if any."""

    key: str
    title: str
    questions: tuple[Standard, ...] = tuple(Standard)
    description: str = ""
    translations: Translations = field(default_factory=dict)
    proposal: str | None = None


@dataclass(frozen=True, slots=True)
class CustomQuestion:
    """A question of the facilitator's own, asked once (not per service)."""

    key: str
    type: CustomType
    title: str
    choices: tuple[Choice, ...] = ()  # SINGLE and MULTIPLE: keys 1-9 given by position
    max_length: int = 200  # TEXT
    translations: Translations = field(default_factory=dict)  # title and "choice:VALUE"
    most: int | None = None  # MULTIPLE: at most this many of its choices (None: any number)


@dataclass(frozen=True, slots=True)
class Area:
    """A local area of the council (a ward, a neighbourhood). `code` is an official code (an
    ONS ward code, say) that a GeoJSON feature or census table may use to name it."""

    key: str
    label: str
    code: str = ""
    translations: Translations = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Survey:
    """A meeting's survey: what it asks, of which areas. Checked by `problems`."""

    title: str
    services: tuple[Service, ...]
    custom: tuple[CustomQuestion, ...] = ()
    areas: tuple[Area, ...] = ()
    translations: Translations = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SurveyItem:
    """One question as a round asks it: `key` is the item key (`SERVICE.value`, `q.KEY`,
    `area`), `service` the service's key or None, `standard` the standard question or None."""

    key: str
    scale: AnswerScale
    service: str | None = None
    standard: Standard | None = None
    custom: CustomQuestion | None = None


def item_key(service: str, question: Standard) -> str:
    return f"{service}.{question.value}"


def custom_scale(q: CustomQuestion) -> AnswerScale:
    """A custom question's scale. Raises ValueError for an impossible question (no choices)."""
    if q.type is CustomType.SCALE:
        return SCALE_5
    if q.type is CustomType.TEXT:
        return TextScale(q.max_length)
    keyed = len(q.choices) <= KEYPAD_KEYS and q.type is CustomType.SINGLE
    choices = tuple(
        Choice(c.value, i if keyed else None, c.label) for i, c in enumerate(q.choices, 1)
    )
    if q.type is CustomType.SINGLE:
        return ChoiceScale(choices)
    return MultiChoiceScale(choices, most=q.most)


def area_scale(areas: tuple[Area, ...]) -> ChoiceScale:
    """The area question's scale: keypads answer it when there are at most 9 areas."""
    keyed = len(areas) <= KEYPAD_KEYS
    return ChoiceScale(
        tuple(Choice(a.key, i if keyed else None, a.label) for i, a in enumerate(areas, 1))
    )


def items(survey: Survey) -> list[SurveyItem]:
    """Every item the survey's round asks, in the order a respondent meets them: each service's
    standard questions, the custom questions, then the area."""
    out = [
        SurveyItem(item_key(s.key, q), STANDARD_SCALES[q], service=s.key, standard=q)
        for s in survey.services
        for q in s.questions
    ]
    out += [SurveyItem(CUSTOM_PREFIX + q.key, custom_scale(q), custom=q) for q in survey.custom]
    if survey.areas:
        out.append(SurveyItem(AREA_ITEM, area_scale(survey.areas)))
    return out


def _custom_problems(q: CustomQuestion) -> list[str]:
    found: list[str] = []
    if not q.title.strip() or len(q.title) > MAX_TEXT:
        found.append(f"question {q.key!r}: the title must be 1-{MAX_TEXT} characters")
    if q.type in (CustomType.SINGLE, CustomType.MULTIPLE):
        if not 1 <= len(q.choices) <= MAX_CHOICES:
            found.append(f"question {q.key!r} needs 1-{MAX_CHOICES} choices")
            return found
    elif q.choices:
        found.append(f"question {q.key!r} is a {q.type.value} question: it has no choices")
    if q.most is not None and q.type is not CustomType.MULTIPLE:
        found.append(f"question {q.key!r}: only a multiple choice question has at most N")
    try:
        custom_scale(q)
    except ValueError as e:
        found.append(f"question {q.key!r}: {e}")
    return found


def problems(survey: Survey) -> list[str]:
    """Everything wrong with a survey, in English, one line each (empty: it can be used).

    Checks the bounds above, that keys are ids and unique in their list, that every service
    asks at least one question, that choice questions have 1-`MAX_CHOICES` distinct choices,
    and that there is something to ask."""
    found: list[str] = []

    def check_keys(what: str, keys: list[str], most: int) -> None:
        for k in keys:
            if not KEY.fullmatch(k) or len(k) > most:
                found.append(
                    f"{what} key {k!r} must be a lowercase id of at most {most} characters"
                )
        if len(set(keys)) != len(keys):
            found.append(f"{what} keys repeat")

    if not survey.title.strip() or len(survey.title) > MAX_TEXT:
        found.append(f"the title must be 1-{MAX_TEXT} characters")
    if not survey.services and not survey.custom:
        found.append("the survey asks nothing: add a service or a question")
    if len(survey.services) > MAX_SERVICES:
        found.append(f"at most {MAX_SERVICES} services")
    if len(survey.custom) > MAX_CUSTOM_QUESTIONS:
        found.append(f"at most {MAX_CUSTOM_QUESTIONS} custom questions")
    if len(survey.areas) > MAX_AREAS:
        found.append(f"at most {MAX_AREAS} areas")
    check_keys("service", [s.key for s in survey.services], MAX_SERVICE_KEY)
    check_keys("question", [q.key for q in survey.custom], MAX_QUESTION_KEY)
    check_keys("area", [a.key for a in survey.areas], MAX_SERVICE_KEY)
    for s in survey.services:
        if not s.questions or len(set(s.questions)) != len(s.questions):
            found.append(f"service {s.key!r} must ask each of its questions once, at least one")
        if not s.title.strip() or len(s.title) > MAX_TEXT:
            found.append(f"service {s.key!r}: the title must be 1-{MAX_TEXT} characters")
    for q in survey.custom:
        found += _custom_problems(q)
    for a in survey.areas:
        if not a.label.strip() or len(a.label) > MAX_TEXT:
            found.append(f"area {a.key!r}: the label must be 1-{MAX_TEXT} characters")
    return found
