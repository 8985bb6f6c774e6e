"""The typed shapes of what crosses layers: the results record, turnout, the live snapshot.

Each shape is defined once, in a module of this package by what it describes, and both the code
that builds it and the code that reads it import it (as `shapes.X`, from here), so
`mypy --strict` checks that what the hub sends is what the pages and the report read:

    values     `Amount`, `Translations`: the scalars the others share
    room_vote  `tally.result_to_json` + `results.money_record` (app/rules, app/record) build the
               public record (`RoundRecord`); `rounds.results_view` adds titles and labels
               (`ResultsView`), which the projector, the console and the report read
    counting   a round of a counting activity kind: `AnswersRecord` / `AnswersView`
    survey     the survey's results JSON (`SurveyResults`) and a survey round's `SurveyView`
    charter    a Community Charter's consent round (`CharterResults`, `CharterView`)
    review     a charter review round's scorecard (`ReviewResults`, `ReviewView`)
    kinds      a round's record and view by its kind (`KindRecord`, `KindResults`)
    live       `turnout.counts` (app/voting), stored on `Round.turnout` when a round closes;
               `rounds.room_state` (`RoomState`) -> `Services.room_state` (`Snapshot`, app/web)
               -> the hub (app/live) adds `connected` and `seq` and sends it on every socket

This package's namespace is the one the callers use: it re-exports every shape (`__all__`), so a
shape may move between its modules without touching them. The modules import each other only
downwards (values <- room_vote, counting <- survey, charter, review <- kinds, live).

They live in core because core is the one package every one of those layers may import
(tests/test_layers.py). They describe JSON as it is sent or stored, nothing else: key order is not
part of a TypedDict, so the producers keep their order (the public records and the frames are
compared byte for byte), and tests/test_shapes.py checks a live meeting's frames against these
types key by key. A key is `NotRequired` only where the JSON really goes without it; the comment
says when.

`typing_extensions.TypedDict`, not `typing.TypedDict`: pydantic reads `Round.turnout`'s type and
refuses the `typing` one before Python 3.12. And no `from __future__ import annotations` in any
of these modules: a TypedDict finds `NotRequired` in its annotations when the class is made, and
Python 3.11 does not look inside string annotations, so every key would count as required
(`__required_keys__`).
"""

from app.core.shapes.charter import (
    CharterRecord,
    CharterResults,
    CharterRound,
    CharterRuleRecord,
    CharterView,
    ClauseRecord,
    ConsentGroupRecord,
    WordingRecord,
)
from app.core.shapes.counting import (
    AnswerRecord,
    AnswersRecord,
    AnswersRound,
    AnswersView,
    AnswerView,
    GroupView,
    ItemView,
    ScaleView,
)
from app.core.shapes.kinds import (
    KindRecord,
    KindResults,
    KindsRecountRecord,
)
from app.core.shapes.live import (
    BallotView,
    KeypadPrompt,
    LiveTurnout,
    MeetingState,
    MeetingView,
    OnlineView,
    ProposalItem,
    RoomState,
    RoundView,
    RuleView,
    ScreenView,
    SegmentView,
    Snapshot,
    Surge,
    Turnout,
    YouView,
)
from app.core.shapes.review import (
    ReviewCommitmentRecord,
    ReviewHistory,
    ReviewPartyRecord,
    ReviewPoint,
    ReviewRecord,
    ReviewResults,
    ReviewRound,
    ReviewView,
)
from app.core.shapes.room_vote import (
    AffectedRecord,
    AffectedView,
    AmountsView,
    BudgetRecord,
    FundingKeys,
    FundingRecord,
    MarkedRound,
    MoneyKeys,
    PaidRecord,
    ProposalCounts,
    ProposalRecord,
    ProposalView,
    RecountRecord,
    RecountRound,
    ResultRecord,
    ResultsView,
    RoomCounts,
    RoundRecord,
    SavingsRecord,
)
from app.core.shapes.survey import (
    AreaFigures,
    Axes,
    CountFigure,
    CustomFigures,
    Distribution,
    GroupFigures,
    HelpFigure,
    HoursFigure,
    MeanFigure,
    NeedFigure,
    SatisfactionFigure,
    SegmentFigures,
    ServiceFigures,
    SurveyLabels,
    SurveyResults,
    SurveyView,
    WeightedResults,
)
from app.core.shapes.values import (
    Amount,
    Translations,
)

__all__ = [
    "AffectedRecord",
    "AffectedView",
    "Amount",
    "AmountsView",
    "AnswerRecord",
    "AnswerView",
    "AnswersRecord",
    "AnswersRound",
    "AnswersView",
    "AreaFigures",
    "Axes",
    "BallotView",
    "BudgetRecord",
    "CharterRecord",
    "CharterResults",
    "CharterRound",
    "CharterRuleRecord",
    "CharterView",
    "ClauseRecord",
    "ConsentGroupRecord",
    "CountFigure",
    "CustomFigures",
    "Distribution",
    "FundingKeys",
    "FundingRecord",
    "GroupFigures",
    "GroupView",
    "HelpFigure",
    "HoursFigure",
    "ItemView",
    "KeypadPrompt",
    "KindRecord",
    "KindResults",
    "KindsRecountRecord",
    "LiveTurnout",
    "MarkedRound",
    "MeanFigure",
    "MeetingState",
    "MeetingView",
    "MoneyKeys",
    "NeedFigure",
    "OnlineView",
    "PaidRecord",
    "ProposalCounts",
    "ProposalItem",
    "ProposalRecord",
    "ProposalView",
    "RecountRecord",
    "RecountRound",
    "ResultRecord",
    "ResultsView",
    "ReviewCommitmentRecord",
    "ReviewHistory",
    "ReviewPartyRecord",
    "ReviewPoint",
    "ReviewRecord",
    "ReviewResults",
    "ReviewRound",
    "ReviewView",
    "RoomCounts",
    "RoomState",
    "RoundRecord",
    "RoundView",
    "RuleView",
    "SatisfactionFigure",
    "SavingsRecord",
    "ScaleView",
    "ScreenView",
    "SegmentFigures",
    "SegmentView",
    "ServiceFigures",
    "Snapshot",
    "Surge",
    "SurveyLabels",
    "SurveyResults",
    "SurveyView",
    "Translations",
    "Turnout",
    "WeightedResults",
    "WordingRecord",
    "YouView",
]
