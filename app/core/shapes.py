"""The typed shapes of what crosses layers: the results record, turnout, the live snapshot.

Each shape is defined once, here, and both the code that builds it and the code that reads it
import it, so `mypy --strict` checks that what the hub sends is what the pages and the report
read:

    results   `tally.result_to_json` + `results.money_record` (app/rules, app/record) build the
              public record (`RoundRecord`); `rounds.results_view` adds titles and labels
              (`ResultsView`), which the projector, the console and the report read. A round
              of a counting activity kind has `AnswersRecord` / `AnswersView` instead
              (`KindRecord`, `KindResults`)
    turnout   `turnout.counts` (app/voting), stored on `Round.turnout` when a round closes
    snapshot  `rounds.room_state` (`RoomState`) -> `Services.room_state` (`Snapshot`, app/web)
              -> the hub (app/live) adds `connected` and `seq` and sends it on every socket

They live in core because core is the one package every one of those layers may import
(tests/test_layers.py). They describe JSON as it is sent or stored, nothing else: key order is not
part of a TypedDict, so the producers keep their order (the public records and the frames are
compared byte for byte), and tests/test_shapes.py checks a live meeting's frames against these
types key by key. A key is `NotRequired` only where the JSON really goes without it; the comment
says when.

`typing_extensions.TypedDict`, not `typing.TypedDict`: pydantic reads `Round.turnout`'s type and
refuses the `typing` one before Python 3.12. And no `from __future__ import annotations`: a
TypedDict finds `NotRequired` in its annotations when the class is made, and Python 3.11 does not
look inside string annotations, so every key would count as required (`__required_keys__`).
"""

from typing import Literal, NotRequired

from typing_extensions import TypedDict

Amount = int | str
"""An exact amount as the records write it (`budget.amount_to_json`): 12, "12.5" or "100/3"."""

Translations = dict[str, dict[str, str]]
"""Per language, per field, the text in that language (`{"cy": {"title": "..."}}`)."""


# --- the results record (public: results.json, `covote recount`) ----------------------------


class RoomCounts(TypedDict):
    """The room's counts on a proposal: V active voters, W WANT, D DON'T WANT."""

    V: int
    W: int
    D: int


class ProposalCounts(RoomCounts):
    """A proposal's counts and outcome, as the record and the view both carry them."""

    id: str
    N: int
    category: str  # tally.Category's value
    reason: str  # tally.Reason's value
    groups: list[str]  # the groups the outcome names


class AffectedRecord(TypedDict):
    """One affected group that may protect, on one proposal. A suppressed group (fewer than m
    active voters) has V, W and D None: its counts are never published."""

    group: str
    V: int | None
    W: int | None
    D: int | None
    protects: bool
    objects: bool
    suppressed: bool


class ProposalRecord(ProposalCounts):
    affected: list[AffectedRecord]  # sorted by group id


class ResultRecord(TypedDict):
    """`tally.result_to_json`: a round's counts, outcomes and ranking."""

    proposals: list[ProposalRecord]
    ranking: list[str]  # proposal ids, best first


class PaidRecord(TypedDict):
    amount: Amount
    voters: int


class FundingRecord(TypedDict):
    """One funded proposal: who paid for it (MES), or funded from what was left (greedy)."""

    id: str
    cost: Amount
    supporters: int
    by: Literal["mes", "greedy"]
    paid: list[PaidRecord]


class BudgetRecord(TypedDict):
    """`budget.budget_to_json`: MES on a budget (the per-proposal list under `proposals`)."""

    budget: Amount
    completion: str  # budget.Completion
    voters: int
    share: Amount
    funded: list[str]  # selection order
    greedy: list[str]  # what "most WANTs first" would fund
    spent: Amount
    left: Amount
    proposals: list[FundingRecord]


class FundingKeys(TypedDict):
    """A budget round's keys in a round record and `covote recount --pb`: `BudgetRecord` with
    its per-proposal list under `funding` (`budget.funding_keys`)."""

    budget: Amount
    completion: str
    voters: int
    share: Amount
    funded: list[str]
    greedy: list[str]
    spent: Amount
    left: Amount
    funding: list[FundingRecord]


class SavingsRecord(TypedDict):
    """`budget.savings_to_json`: the cuts a savings target takes."""

    target: Amount
    cuts: list[str]  # in order
    accepted: list[str]
    savings: dict[str, Amount]  # of every accepted proposal
    total: Amount
    shortfall: Amount


class MoneyKeys(TypedDict, total=False):
    """`results.money_record`: `FundingKeys`'s keys when the round has a budget and a `fund`
    proposal with a cost, `SavingsRecord`'s when it has a savings target and a `keep` proposal
    with a saving; each set is there whole or not at all (tests/test_shapes.py keeps these
    declarations equal to those two)."""

    budget: Amount
    completion: str
    voters: int
    share: Amount
    funded: list[str]
    greedy: list[str]
    spent: Amount
    left: Amount
    funding: list[FundingRecord]
    target: Amount
    cuts: list[str]
    accepted: list[str]
    savings: dict[str, Amount]
    total: Amount
    shortfall: Amount


class RoundRecord(ResultRecord, MoneyKeys):
    """A round's results in the public recount format (`rounds.round_record`)."""


class RecountRound(RoundRecord):
    round: str  # the round's number as the ballot file names it


class MarkedRound(RecountRound):
    """A round of results.json once marked (`results.with_marks`): the decision's marks come
    after the counts, only where they apply, so a meeting with no final and no voided round
    exports exactly as before they existed."""

    final: NotRequired[bool]  # true: this round is (part of) the meeting's decision
    voided: NotRequired[bool]  # true: voided, it did not count
    void_reason: NotRequired[str]  # why, when the facilitator said


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


class CharterRecord(AnswersRecord):
    """A charter consent round in results.json (`charter_kind.CharterKind.record`): each
    answer's count per wording and the clauses' decisions (`charter_files.results_json`)."""

    charter: "CharterResults"  # defined below, with the charter file's shapes


class ReviewRecord(AnswersRecord):
    """A charter review round in results.json (`review_kind.ReviewKind.record`): each answer's
    count per commitment rated by at least m, and the scorecard per party
    (`review_files.results_json`)."""

    review: "ReviewResults"  # defined below, with the charter's shapes


KindRecord = RoundRecord | AnswersRecord | CharterRecord | ReviewRecord
"""A round's entry in results.json, by its kind: the room vote's or a counting kind's."""


class AnswersRound(AnswersRecord):
    """A counting kind's round as `covote recount` prints it (`kind_rounds.OfflineRound`)."""

    round: str  # the round's number as the ballot file names it


class CharterRound(AnswersRound):
    """A charter consent round as `covote recount` prints it (`kind_rounds.charter_round`)."""

    charter: "CharterResults"


class ReviewRound(AnswersRound):
    """A charter review round as `covote recount` prints it (`kind_rounds.OfflineRound`)."""

    review: "ReviewResults"


class RecountRecord(TypedDict):
    """results.json and what `covote recount` prints, for room votes (`results.recount`)."""

    rounds: list[RecountRound]


class KindsRecountRecord(TypedDict):
    """results.json and what `covote recount` prints when rounds may be of other kinds
    (`results.recount_kinds`): each round as its kind counts it."""

    rounds: list[RecountRound | AnswersRound | CharterRound | ReviewRound]


# --- the survey's results (public: the survey's results JSON, `covote survey tabulate`) ------
# Built by `app.rules.survey_tally.tabulate`. A figure is null when it is suppressed: the group
# it is computed from has fewer than m respondents, or showing it would let a smaller group be
# worked out from the other figures (complementary suppression). A standard question a service
# does not ask has no key at all. Means, shares and scores are rounded for display once
# (`survey_tally.ROUND_TO` decimals); counts are whole numbers.


class MeanFigure(TypedDict):
    """A mean on a 1-5 scale with its 95 % confidence interval (t-based, within the scale;
    null with fewer than 2 answers)."""

    n: int  # answers the mean is taken over
    mean: float | None
    ci: list[float] | None  # [low, high]


class SatisfactionFigure(TypedDict):
    """Satisfaction with a service: its mean over those who use it, and who does not."""

    n: int  # answered, "don't use" included
    dont_use: int
    dont_use_share: float
    users: MeanFigure | None  # over the n - dont_use users; null when they are suppressed


class Distribution(TypedDict):
    """Each answer's count and share of n, in the scale's order (a multiple choice: each
    choice's, so shares may add up to more than 1)."""

    n: int
    counts: dict[str, int]
    shares: dict[str, float]


class NeedFigure(Distribution):
    score: float  # 0 (all "never") to 100 (all "often"): never 0, sometimes 50, often 100


class HelpFigure(Distribution):
    any: int  # helps (or would help) in at least one way: n minus "none"
    any_share: float


class HoursFigure(TypedDict):
    n: int  # who gave a number of hours (0 included)
    sum: int
    median: float


class ServiceFigures(TypedDict):
    """One service's figures within one group of respondents."""

    service: str
    quadrant: str | None  # vocab.Quadrant; null without both means (or not asked)
    value: NotRequired[MeanFigure | None]
    need: NotRequired[NeedFigure | None]
    satisfaction: NotRequired[SatisfactionFigure | None]
    contributes: NotRequired[HelpFigure | None]
    more: NotRequired[HelpFigure | None]
    hours: NotRequired[HoursFigure | None]  # never weighted: offers of real people


class CountFigure(TypedDict):
    n: int  # a text question's answers: counted, never tabulated


class CustomFigures(TypedDict):
    """A custom question's figures: a Distribution (single, multiple), a MeanFigure (scale)
    or a CountFigure (text); null when suppressed."""

    question: str
    type: str  # survey.CustomType's value
    figure: Distribution | MeanFigure | CountFigure | None


class GroupFigures(TypedDict):
    """Every figure of one group of respondents: everyone, a segment or an area."""

    respondents: int | None
    services: list[ServiceFigures]
    custom: list[CustomFigures]


class SegmentFigures(GroupFigures):
    segment: str


class AreaFigures(GroupFigures):
    area: str


class Axes(TypedDict):
    """Where the priority matrix splits value and satisfaction: the median of the services'
    means (`basis` "median") or the scale's midpoint 3 ("midpoint")."""

    basis: Literal["median", "midpoint"]
    value: float
    satisfaction: float


class WeightedResults(TypedDict):
    """The overall figures weighted to the population's shares (raking): counts and n stay
    the respondents'; means, intervals, shares, scores and quadrants are weighted."""

    margins: list[str]  # "area", "segment:ID": the margins the weights match
    skipped: list[str]  # margins left out: nobody (or everybody) in the sample is in them
    effective_n: float  # Kish: (sum w)^2 / sum w^2
    iterations: int
    converged: bool
    axes: Axes
    overall: GroupFigures
    need_ranking: list[str]


class SurveyResults(TypedDict):
    """A survey's results JSON: what `covote survey tabulate` prints."""

    format: Literal["covote-survey-results/1"]
    m: int
    axes: Axes
    overall: GroupFigures  # its respondents is always shown (turnout, as for a round)
    need_ranking: list[str]  # services by need score, highest first (suppressed ones left out)
    segments: list[SegmentFigures]  # in order of segment id
    areas: list[AreaFigures]  # in the survey's order
    weighted: WeightedResults | None


# --- the results view (projector, console, report) -------------------------------------------


class AffectedView(AffectedRecord):
    label: str  # the segment's label (its id when the meeting has no such segment)


class ProposalView(ProposalCounts):
    affected: list[AffectedView]
    title: str
    kind: str  # "keep" | "fund"
    description: str
    group_labels: list[str]  # `groups`, as labels


class AmountsView(TypedDict):
    cost: Amount | None
    saving: Amount | None


class ResultsView(MoneyKeys):
    """`rounds.results_view`: the round record with titles and labels, for display."""

    proposals: list[ProposalView]
    ranking: list[str]
    # Both with the budget or the savings keys, never without: the currency (e.g. "GBP") and
    # every proposal's cost and saving, by proposal id.
    currency: NotRequired[str]
    amounts: NotRequired[dict[str, AmountsView]]


# --- turnout -----------------------------------------------------------------------------------


class Turnout(TypedDict):
    """`turnout.counts`, and `Round.turnout` (the same, taken when the round closed)."""

    registered: int | None  # tickets issued and not revoked; None in an open meeting
    present: int
    voted: int
    by_channel: dict[str, int]  # every channel (vocab.Channel order first), 0 where none


class Surge(TypedDict):
    """The console's alert (app/live/surge.py)."""

    joined: int  # new phone voters in the last minute
    refused: int  # join attempts the limiter refused in the last minute


class LiveTurnout(Turnout):
    surge: Surge | None
    # The connections to the meeting, over every process (app/live/presence.py): the hub adds
    # it to every frame it sends on a socket; the snapshot of a page or of GET /api/m/CODE has
    # none.
    connected: NotRequired[int]


# --- the live snapshot -------------------------------------------------------------------------


class RuleView(TypedDict):
    ratio: int  # R
    group_min: int  # m


class SegmentView(TypedDict):
    id: str
    label: str
    translations: Translations


class MeetingView(TypedDict):
    id: int
    title: str
    code: str
    join_url: str
    rule: RuleView
    segments: list[SegmentView]
    translations: Translations
    currency: str  # of costs and savings: the budget's, else "GBP" (as ResultsView's)


class ProposalItem(TypedDict):
    """A proposal of the round as phones and the projector show it."""

    id: str
    title: str
    description: str
    kind: str  # "keep" | "fund"
    cost: float | None
    saving: float | None
    translations: Translations


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


class SurveyLabels(TypedDict):
    """The names of what a survey's results count, by key, in every language they have ("en"
    always): its services, its areas and the meeting's segments."""

    services: dict[str, dict[str, str]]
    areas: dict[str, dict[str, str]]
    segments: dict[str, dict[str, str]]


class SurveyView(AnswersView):
    """A survey round's results as the screens show them: each answer's count, and the
    survey's own figures (`survey_tally.tabulate` over the published responses) with the names
    its charts need (app/record/survey_charts.py)."""

    survey: SurveyResults
    labels: SurveyLabels


class CharterView(AnswersView):
    """A charter consent round's results as the screens show them: the counts, the round's
    items and the decisions (`CharterRecord`)."""

    charter: "CharterResults"  # defined below, with the charter file's shapes


class ReviewView(AnswersView):
    """A charter review round's results as the screens show them: the counts and items of the
    commitments rated by at least m, the scorecard (`ReviewRecord`), the parties' names and the
    history across the reviews of the same charter (`charter_reviews.history_view`)."""

    review: "ReviewResults"
    parties: dict[str, dict[str, str]]  # party key -> its name by language ("en" always)
    commitments: dict[str, dict[str, str]]  # commitment key -> its text by language
    history: "ReviewHistory"


KindResults = ResultsView | AnswersView | SurveyView | CharterView | ReviewView
"""A round's results view, by its kind (`rounds.results_view`)."""


class OnlineView(TypedDict):
    """A round online for a set period (app/voting/online.py), as screens show it: in the
    meeting's zone (`zone`, an IANA name), as dates, not a countdown."""

    opens_at: str  # ISO, UTC: when it opened or opens
    closes_at: str  # ISO, UTC: when it closes, or (closed) when it did
    zone: str


class RoundView(TypedDict):
    id: int
    number: int
    status: str  # vocab.RoundStatus
    revealed: bool  # results are visible (rounds.results_visible)
    keypad_step: int | None  # while a keypad round is open, the item keypads answer now
    # The activity's items: a room vote's proposals, or another kind's items with their scales.
    proposals: list[ProposalItem | ItemView]
    kind: str  # the activity kind (app/voting/kinds.py), "room_vote" for a room vote
    view: str | None  # its results renderer (Views.projector); None: a kind this version lacks
    # Only while a closing countdown runs (the Run page's "Close in 30 s"): when the server
    # closes the round (ISO, UTC) and the whole seconds left when the snapshot was made.
    closes_at: NotRequired[str]
    closes_in: NotRequired[int]
    # A round online for a set period: its dates (no `closes_in`: screens show the date). While
    # it waits for its scheduled opening, `status` is "scheduled" (the database's is "open").
    online: NotRequired[OnlineView]


class _Room(TypedDict):
    type: Literal["snapshot"]
    meeting: MeetingView
    round: RoundView | None  # None before the first round
    show_channels: bool
    # None until the round's results are visible; a counting kind's are `AnswersView`, a
    # survey's `SurveyView`, a charter round's `CharterView`.
    results: ResultsView | AnswersView | SurveyView | CharterView | ReviewView | None


class RoomState(_Room):
    """`rounds.room_state`: what the database says about the room."""

    turnout: Turnout  # live while the round is open; the stored one once it has closed


class KeypadPrompt(TypedDict):
    ask_segment: str  # the segment the keypad desk asks keypads to declare


class ScreenView(TypedDict):
    """What the presenter view has put on the big screen (app/live/screen.py `Screen.view`)."""

    mode: str  # vocab.ScreenMode
    page: int  # mode "page": the results page shown, from 0 (clamped to the projector's pages)
    proposal: str | None  # mode "proposal": the proposal whose card is shown
    paused: bool  # the results pages do not turn by themselves
    version: int  # goes up with every change: a projector applies each new one once


class Snapshot(_Room):
    """`Services.room_state`: everything the projector, phones and console show live (no
    personal data). The hub sends it with `seq` (app/live/protocol.py `SnapshotFrame`)."""

    turnout: LiveTurnout
    keypad_prompt: KeypadPrompt | None
    screen: ScreenView


class BallotView(TypedDict):
    round: int  # the round's id
    ballot_id: str
    marks: dict[str, str]  # proposal id -> tally.Mark's value


class YouView(TypedDict):
    """`voters.you_view`: what a device shows about its own voter (never a pseudonym)."""

    voter: str | None  # the device handle; None before joining
    segments: list[str]
    ballot: BallotView | None  # the latest ballot in the room's round


class MeetingState(Snapshot):
    """GET /api/m/CODE: the snapshot and this browser's voter."""

    you: YouView


# --- a Community Charter's consent round (public: `covote charter tabulate`) ------------------


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


# --- a charter review round (issue 17; public: results.json's `review`) --------------------------


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
