"""A charter review round (issue 17; public: results.json's `review`).

`review_files.results_json` builds the scorecard (`ReviewResults`: per party, the ratings of
its commitments rated by at least m, the others without figures); `charter_reviews.history_view`
builds `ReviewHistory`. The round's record, recount entry and view are the counting kind's with
the scorecard under `review`.
"""

from typing import Literal

from typing_extensions import TypedDict

from app.core.shapes.counting import AnswersRecord, AnswersRound, AnswersView


class ReviewCommitmentRecord(TypedDict):
    """One commitment's ratings; all null when fewer than m rated it (`suppressed`)."""

    commitment: str
    n: int | None
    kept: int | None
    partly: int | None
    not_kept: int | None
    score: int | None  # kept 1, partly ½, not 0, a whole percentage
    suppressed: bool


class ReviewPartyRecord(TypedDict):
    """A party's scorecard: the ratings of its commitments rated by at least m, and their score
    (kept 1, partly ½, not 0) as a whole percentage (null: none shown)."""

    party: str
    n: int
    kept: int
    partly: int
    not_kept: int
    score: int | None
    commitments: list[ReviewCommitmentRecord]


class ReviewResults(TypedDict):
    """A review round's scorecard (`review_files.results_json`)."""

    format: Literal["covote-review-results/1"]
    group_min: int  # m: a commitment rated by fewer is shown without figures
    parties: list[ReviewPartyRecord]


class ReviewPoint(TypedDict):
    score: int | None  # the party's score in that review, a whole percentage (null: none shown)
    n: int  # the ratings it is over
    change: int | None  # percentage points since the party's previous scored review


class ReviewHistory(TypedDict):
    """Each party's score across the reviews of one charter, oldest first."""

    reviews: list[str]  # each review's name (its meeting's title and date)
    parties: list[str]  # party keys, in order of first appearance
    points: dict[str, list[ReviewPoint]]  # party key -> a point per review


class ReviewRecord(AnswersRecord):
    """A charter review round in results.json (`review_kind.ReviewKind.record`): each answer's
    count per commitment rated by at least m, and the scorecard per party
    (`review_files.results_json`)."""

    review: ReviewResults  # defined below, with the charter's shapes


class ReviewRound(AnswersRound):
    """A charter review round as `covote recount` prints it (`kind_rounds.OfflineRound`)."""

    review: ReviewResults


class ReviewView(AnswersView):
    """A charter review round's results as the screens show them: the counts and items of the
    commitments rated by at least m, the scorecard (`ReviewRecord`), the parties' names and the
    history across the reviews of the same charter (`charter_reviews.history_view`)."""

    review: ReviewResults
    parties: dict[str, dict[str, str]]  # party key -> its name by language ("en" always)
    commitments: dict[str, dict[str, str]]  # commitment key -> its text by language
    history: ReviewHistory
