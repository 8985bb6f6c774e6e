"""A round's results by its activity kind: the unions of the per-kind records and views.

The room vote's shapes (app/core/shapes/room_vote.py) or a counting kind's (counting.py, and the
survey's, the charter's and the review's, which extend it).
"""

from typing_extensions import TypedDict

from app.core.shapes.charter import CharterRecord, CharterRound, CharterView
from app.core.shapes.counting import AnswersRecord, AnswersRound, AnswersView
from app.core.shapes.review import ReviewRecord, ReviewRound, ReviewView
from app.core.shapes.room_vote import RecountRound, ResultsView, RoundRecord
from app.core.shapes.survey import SurveyView

KindRecord = RoundRecord | AnswersRecord | CharterRecord | ReviewRecord
"""A round's entry in results.json, by its kind: the room vote's or a counting kind's."""


class KindsRecountRecord(TypedDict):
    """results.json and what `covote recount` prints when rounds may be of other kinds
    (`results.recount_kinds`): each round as its kind counts it."""

    rounds: list[RecountRound | AnswersRound | CharterRound | ReviewRound]


KindResults = ResultsView | AnswersView | SurveyView | CharterView | ReviewView
"""A round's results view, by its kind (`rounds.results_view`)."""
