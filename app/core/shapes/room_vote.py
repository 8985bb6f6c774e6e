"""The room vote's results: its public record (results.json, `covote recount`) and its view.

`tally.result_to_json` + `results.money_record` (app/rules, app/record) build the record
(`RoundRecord`, marked `MarkedRound`); `rounds.results_view` adds titles and labels
(`ResultsView`), which the projector, the console and the report read. The money keys
(`MoneyKeys`) are a budget's (`FundingKeys`) or a savings target's (`SavingsRecord`), each whole
or absent. See the package's docstring for why `typing_extensions.TypedDict` and no
`from __future__ import annotations`.
"""

from typing import Literal, NotRequired

from typing_extensions import TypedDict

from app.core.shapes.values import Amount


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


class RecountRecord(TypedDict):
    """results.json and what `covote recount` prints, for room votes (`results.recount`)."""

    rounds: list[RecountRound]


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
