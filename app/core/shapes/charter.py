"""A Community Charter's consent round (public: `covote charter tabulate`, results.json).

`charter_files.results_json` builds `CharterResults` (every clause's wordings, their outcomes
and the affected groups' totals, null when suppressed); the round's record, recount entry and
view are the counting kind's with it under `charter`.
"""

from typing import Literal

from typing_extensions import TypedDict

from app.core.shapes.counting import AnswersRecord, AnswersRound, AnswersView


class CharterRuleRecord(TypedDict):
    block_percent: int  # P: more than this share of blocks sends a wording back
    ratio: int  # R
    group_min: int  # m


class ConsentGroupRecord(TypedDict):
    """An affected group's totals on a wording (true segments); all null when suppressed."""

    group: str
    V: int | None
    support: int | None  # S_g: answered 1, 2 or 3
    change: int | None  # C_g: answered 4
    block: int | None  # B_g: answered 5
    blocks: bool
    suppressed: bool


class WordingRecord(TypedDict):
    """One wording (a clause or an amendment) and its outcome (`charter.assess`)."""

    item: str
    V: int
    answers: list[int]  # how many answered 1..5
    category: str  # charter.Category's value
    reasons: list[str]  # charter.Reason's values, every one that applies
    groups: list[str]  # the affected groups that block it
    affected: list[ConsentGroupRecord]


class ClauseRecord(TypedDict):
    clause: str
    decision: str  # the adopted wording's category, or SENT_BACK
    adopted: str | None  # the adopted wording's item
    wordings: list[WordingRecord]  # the original first, then its amendments


class CharterResults(TypedDict):
    """A consent round's results JSON (`charter_files.results_json`)."""

    format: Literal["covote-charter-results/1"]
    rule: CharterRuleRecord
    clauses: list[ClauseRecord]


class CharterRecord(AnswersRecord):
    """A charter consent round in results.json (`charter_kind.CharterKind.record`): each
    answer's count per wording and the clauses' decisions (`charter_files.results_json`)."""

    charter: CharterResults  # defined below, with the charter file's shapes


class CharterRound(AnswersRound):
    """A charter consent round as `covote recount` prints it (`kind_rounds.charter_round`)."""

    charter: CharterResults


class CharterView(AnswersView):
    """A charter consent round's results as the screens show them: the counts, the round's
    items and the decisions (`CharterRecord`)."""

    charter: CharterResults  # defined below, with the charter file's shapes
