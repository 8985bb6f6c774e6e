"""A counting activity kind's round: its items, their scales, and each answer's count.

`activity.CountingKind` builds the record (`AnswersRecord`, per round `AnswersRound` in
`covote recount`) and the view (`AnswersView`: the record and its `ItemView`s, in the round's
order); the survey, the charter and the review extend both (app/core/shapes/survey.py,
charter.py, review.py).
"""

from typing import NotRequired

from typing_extensions import TypedDict

from app.core.shapes.values import Translations


class AnswerRecord(TypedDict):
    """One item's answers (`answers.answers_to_json`): each answer's count, in the scale's order
    (a text's: most frequent first)."""

    id: str
    answered: int  # ballots that answered the item
    counts: dict[str, int]
    mean: NotRequired[str]  # a range's mean, two decimals ("3.50"); only for a range


class AnswersRecord(TypedDict):
    """A counting kind's round in results.json (`activity.CountingKind.record`)."""

    answers: list[AnswerRecord]


class AnswersRound(AnswersRecord):
    """A counting kind's round as `covote recount` prints it (`kind_rounds.OfflineRound`)."""

    round: str  # the round's number as the ballot file names it


class AnswerView(TypedDict):
    """One answer of a scale (`scales.Choice`, a number of a range)."""

    value: str  # as stored in ballot.marks
    key: int | None  # the keypad key that gives it; None: keypads cannot
    label: str  # an English msgid: the screens translate it


class ScaleView(TypedDict):
    """An item's answer scale as the screens draw it (`scales.AnswerScale.describe`)."""

    type: str  # "choice" | "range" | "multi" | "text"
    answers: NotRequired[list[AnswerView]]  # every type but "text"
    low: NotRequired[int]  # "range"
    high: NotRequired[int]  # "range"
    most: NotRequired[int | None]  # "multi": the most choices one answer may pick
    alone: NotRequired[list[str]]  # "multi": answers that exclude every other ("none")
    max_length: NotRequired[int]  # "text"


class GroupView(TypedDict):
    """The screen a survey's item is asked on (its service, the custom questions or the area):
    the phone shows one group at a time."""

    id: str
    title: str
    translations: Translations


class ItemView(TypedDict):
    """An item of an activity of another kind than the room vote, as phones and the projector
    show it (`activity.ActivityKind.item_view`): it carries its scale."""

    id: str
    title: str
    description: str
    translations: Translations
    scale: ScaleView
    group: NotRequired[GroupView]  # only a kind that asks its items in groups (the survey)


class AnswersView(AnswersRecord):
    """A counting kind's results as the screens show them (`CountingKind.results_view`): the
    record and its items, in the round's order (projector renderer "distribution")."""

    items: list[ItemView]
