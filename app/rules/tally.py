"""The counting rule: pure functions from ballots to categories and a ranking.

Contract (../shared/voting-rule.md sections 1 and 2, copied into tests/vectors/rule.json):

* No I/O, no clock, no floats. Every comparison is an exact integer comparison, so the projector
  and an observer's offline recount get the same answer on any machine.
* `classify` applies the six steps of the minority-protection rule to one proposal's counts.
* `count_round` turns the final ballots of one round into counts, outcomes and a ranking.
  Active voters are the ballots with at least one mark (NEUTRAL included) on a proposal of the
  round; an active voter's unmarked proposal counts NEUTRAL.
* `result_to_json` is a public record format: the projector and the recount both emit it, and it
  must stay byte-identical between them (encode it with `results.dumps_result`).

Every function raises `ValueError` on inconsistent input instead of guessing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from app.core.shapes import ResultRecord


class Mark(StrEnum):
    """A voter's mark on one proposal (keypad 1 / 2 / 3)."""

    WANT = "want"
    DONT_WANT = "dont_want"
    NEUTRAL = "neutral"


class Category(StrEnum):
    """A proposal's outcome, best first: SUPPORTED > PROTECTED > CONTESTED > REJECTED."""

    SUPPORTED = "SUPPORTED"
    PROTECTED = "PROTECTED"
    CONTESTED = "CONTESTED"
    REJECTED = "REJECTED"

    @property
    def rank(self) -> int:
        """Order rank: higher is better (SUPPORTED 3 … REJECTED 0)."""
        return _CATEGORY_RANK[self]


_CATEGORY_RANK = {
    Category.SUPPORTED: 3,
    Category.PROTECTED: 2,
    Category.CONTESTED: 1,
    Category.REJECTED: 0,
}


class Reason(StrEnum):
    """Why a proposal got its category (shown on the projector as a one-line reason)."""

    MORE_WANT = "more-want"
    QUALIFIED_OPPOSITION = "qualified-opposition"
    AFFECTED_GROUP = "affected-group"
    AFFECTED_GROUP_OBJECTS = "affected-group-objects"
    NO_CLEAR_MAJORITY = "no-clear-majority"
    STRONG_MINORITY = "strong-minority"


@dataclass(frozen=True, slots=True)
class Rule:
    """Rule parameters: DON'T WANT must beat WANT `ratio` to 1; a group needs `group_min` marks."""

    ratio: int = 2
    group_min: int = 5

    def __post_init__(self) -> None:
        if self.ratio < 1:
            raise ValueError(f"rule ratio must be >= 1, not {self.ratio}")
        if self.group_min < 1:
            raise ValueError(f"rule group_min must be >= 1, not {self.group_min}")


@dataclass(frozen=True, slots=True)
class Counts:
    """Active voters `V`, WANT `W` and DON'T WANT `D` of a proposal (room or one group)."""

    V: int
    W: int
    D: int

    def __post_init__(self) -> None:
        if self.V < 0 or self.W < 0 or self.D < 0:
            raise ValueError(f"counts must not be negative: {self}")
        if self.W + self.D > self.V:
            raise ValueError(f"W + D must not exceed V: {self}")

    @property
    def N(self) -> int:
        """NEUTRAL marks, including proposals an active voter left unmarked."""
        return self.V - self.W - self.D


@dataclass(frozen=True, slots=True)
class Outcome:
    """A category, its reason code and the groups that caused it (sorted by name)."""

    category: Category
    reason: Reason
    groups: tuple[str, ...]


def protects(g: Counts, rule: Rule) -> bool:
    """True when an affected group wants the proposal strongly enough to shield it."""
    return g.W >= rule.group_min and 2 * g.W > g.V and g.W >= rule.ratio * g.D  # noqa: SIM300


def objects(g: Counts, rule: Rule) -> bool:
    """True when an affected group is against the proposal strongly enough to stop it."""
    return g.D >= rule.group_min and 2 * g.D > g.V and g.D >= rule.ratio * g.W  # noqa: SIM300


def classify(counts: Counts, groups: Mapping[str, Counts], rule: Rule) -> Outcome:
    """Apply the six steps of the minority-protection rule to one proposal.

    Args:
        counts: the room's counts for the proposal.
        groups: the proposal's affected groups that may protect or object, with their counts
            (the caller has already dropped segments marked "never protects").
        rule: the meeting's parameters.
    """
    protecting = tuple(sorted(name for name, g in groups.items() if protects(g, rule)))
    objecting = tuple(sorted(name for name, g in groups.items() if objects(g, rule)))
    W, D, V, R = counts.W, counts.D, counts.V, rule.ratio
    if W > D:
        if objecting:
            return Outcome(Category.CONTESTED, Reason.AFFECTED_GROUP_OBJECTS, objecting)
        return Outcome(Category.SUPPORTED, Reason.MORE_WANT, ())
    if D >= R * W and 2 * D > V and not protecting:
        return Outcome(Category.REJECTED, Reason.QUALIFIED_OPPOSITION, ())
    if objecting:
        return Outcome(Category.CONTESTED, Reason.AFFECTED_GROUP_OBJECTS, objecting)
    if protecting:
        return Outcome(Category.PROTECTED, Reason.AFFECTED_GROUP, protecting)
    if D >= R * W:
        return Outcome(Category.CONTESTED, Reason.NO_CLEAR_MAJORITY, ())
    return Outcome(Category.PROTECTED, Reason.STRONG_MINORITY, ())


@dataclass(frozen=True, slots=True)
class ProposalSpec:
    """A proposal of the round and the segments named as its affected groups."""

    id: str
    affected_groups: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VoterBallot:
    """One voter's final ballot in a round: their declared segments and marks by proposal id."""

    voter: str
    segments: frozenset[str]
    marks: Mapping[str, Mark]


@dataclass(frozen=True, slots=True)
class GroupLine:
    """One affected group's counts; `suppressed` means the display must hide them (V < m)."""

    group: str
    counts: Counts
    protects: bool
    objects: bool
    suppressed: bool


@dataclass(frozen=True, slots=True)
class ProposalResult:
    """A proposal's room counts, outcome and one line per affected group (sorted by group)."""

    id: str
    counts: Counts
    outcome: Outcome
    group_lines: tuple[GroupLine, ...]


@dataclass(frozen=True, slots=True)
class RoundResult:
    """Results in the round's proposal order, and the proposal ids best first."""

    proposals: tuple[ProposalResult, ...]
    ranking: tuple[str, ...]


class _Tally:
    """Mutable W / D / V counters, used only while counting."""

    __slots__ = ("D", "V", "W")

    def __init__(self) -> None:
        self.V = 0
        self.W = 0
        self.D = 0

    def add(self, mark: Mark) -> None:
        self.V += 1
        if mark is Mark.WANT:
            self.W += 1
        elif mark is Mark.DONT_WANT:
            self.D += 1

    def freeze(self) -> Counts:
        return Counts(V=self.V, W=self.W, D=self.D)


def count_round(
    proposals: Sequence[ProposalSpec],
    ballots: Iterable[VoterBallot],
    rule: Rule,
    *,
    protecting: frozenset[str] | None = None,
    tie_break: Sequence[str] = (),
) -> RoundResult:
    """Count the final ballots of one round.

    Args:
        proposals: the round's proposals, in display order.
        ballots: one final ballot per voter; order does not matter.
        rule: the meeting's parameters.
        protecting: segment ids allowed to protect or object (None = all). Affected groups
            outside it are ignored by the rule and get no `GroupLine`.
        tie_break: the drawn order; ids it does not name rank after it, in `proposals` order.

    Raises:
        ValueError: duplicate proposal or voter ids, or a mark for a proposal not in the round.
    """
    ids = [p.id for p in proposals]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate proposal id in round: {ids}")
    groups_of = {
        p.id: tuple(sorted({g for g in p.affected_groups if protecting is None or g in protecting}))
        for p in proposals
    }
    room = {pid: _Tally() for pid in ids}
    by_group = {pid: {g: _Tally() for g in groups_of[pid]} for pid in ids}
    seen: set[str] = set()
    for ballot in ballots:
        if ballot.voter in seen:
            raise ValueError(f"voter {ballot.voter!r} has more than one ballot in the round")
        seen.add(ballot.voter)
        unknown = sorted(set(ballot.marks) - room.keys())
        if unknown:
            raise ValueError(f"voter {ballot.voter!r} marked proposals not in the round: {unknown}")
        if not ballot.marks:
            continue  # not active: cast no mark in this round
        for pid in ids:
            mark = Mark(ballot.marks.get(pid, Mark.NEUTRAL))
            room[pid].add(mark)
            for g, tally in by_group[pid].items():
                if g in ballot.segments:
                    tally.add(mark)
    results = []
    for pid in ids:
        group_counts = {g: t.freeze() for g, t in by_group[pid].items()}
        counts = room[pid].freeze()
        lines = tuple(
            GroupLine(
                group=g,
                counts=c,
                protects=protects(c, rule),
                objects=objects(c, rule),
                suppressed=c.V < rule.group_min,  # noqa: SIM300
            )
            for g, c in group_counts.items()
        )
        outcome = classify(counts, group_counts, rule)
        results.append(ProposalResult(id=pid, counts=counts, outcome=outcome, group_lines=lines))
    return RoundResult(proposals=tuple(results), ranking=rank(results, tie_break))


def with_group_counts(
    result: RoundResult,
    groups: Mapping[str, Mapping[str, Counts]],
    rule: Rule,
    *,
    tie_break: Sequence[str] = (),
) -> RoundResult:
    """The round's result with its affected groups' counts taken from published totals.

    The public ballots carry no segments (README, Anonymity): `result` counts the room from
    them, and `groups[proposal][group]` gives each affected group with at least m active voters.
    A group it does not give had fewer than m, so it is suppressed and can neither protect nor
    object (both need W or D >= m): the outcome is exactly the one its members' segments give.

    Raises:
        ValueError: counts for a proposal or group the result has no line for, fewer than m
            voters, or a group with more voters, WANTs or DON'T WANTs than the room.
    """
    lines_of = {p.id: {line.group for line in p.group_lines} for p in result.proposals}
    for pid, given in groups.items():
        if pid not in lines_of:
            raise ValueError(f"group counts for {pid!r}, which is not in the round")
        if unknown := sorted(set(given) - lines_of[pid]):
            raise ValueError(f"{pid!r} has no affected group(s) {unknown} that may protect")
    out = []
    for p in result.proposals:
        given = groups.get(p.id, {})
        for g, c in given.items():
            if rule.group_min > c.V:
                raise ValueError(f"group {g!r} on {p.id!r} has fewer than m voters ({c.V})")
            if c.V > p.counts.V or c.W > p.counts.W or c.D > p.counts.D:
                raise ValueError(f"group {g!r} on {p.id!r} has more votes than the room")
        lines = tuple(
            GroupLine(
                group=line.group,
                counts=given.get(line.group, Counts(0, 0, 0)),
                protects=line.group in given and protects(given[line.group], rule),
                objects=line.group in given and objects(given[line.group], rule),
                suppressed=line.group not in given,
            )
            for line in p.group_lines
        )
        outcome = classify(p.counts, given, rule)
        out.append(ProposalResult(id=p.id, counts=p.counts, outcome=outcome, group_lines=lines))
    return RoundResult(proposals=tuple(out), ranking=rank(out, tie_break))


def rank(results: Sequence[ProposalResult], tie_break: Sequence[str]) -> tuple[str, ...]:
    """Proposal ids best first.

    Order: category (SUPPORTED first), then W - D descending, W descending, D ascending, then
    position in `tie_break`; ids `tie_break` does not name come last, in `results` order.
    """
    drawn: dict[str, int] = {}
    for position, pid in enumerate(tie_break):
        drawn.setdefault(pid, position)

    def key(item: tuple[int, ProposalResult]) -> tuple[int, int, int, int, int, int]:
        index, r = item
        c = r.counts
        undrawn = (1, index) if r.id not in drawn else (0, drawn[r.id])
        return (-r.outcome.category.rank, -(c.W - c.D), -c.W, c.D, *undrawn)

    return tuple(r.id for _, r in sorted(enumerate(results), key=key))


def result_to_json(r: RoundResult) -> ResultRecord:
    """The public record of a round's result (see the module docstring).

    Shape (`shapes.ResultRecord`, keys in this order): `{"proposals": [{"id", "V", "W", "D",
    "N", "category", "reason", "groups", "affected": [{"group", "V", "W", "D", "protects",
    "objects", "suppressed"}]}], "ranking": [id, ...]}`. `groups` are the groups named by the
    outcome; `affected` lists every affected group that may protect, sorted by group id; a
    suppressed group (fewer than m active voters) has V, W and D null: its counts are never
    published.
    """
    return {
        "proposals": [
            {
                "id": p.id,
                "V": p.counts.V,
                "W": p.counts.W,
                "D": p.counts.D,
                "N": p.counts.N,
                "category": p.outcome.category.value,
                "reason": p.outcome.reason.value,
                "groups": list(p.outcome.groups),
                "affected": [
                    {
                        "group": line.group,
                        # A suppressed group's counts are not public (README, Anonymity).
                        "V": None if line.suppressed else line.counts.V,
                        "W": None if line.suppressed else line.counts.W,
                        "D": None if line.suppressed else line.counts.D,
                        "protects": line.protects,
                        "objects": line.objects,
                        "suppressed": line.suppressed,
                    }
                    for line in p.group_lines
                ],
            }
            for p in r.proposals
        ],
        "ranking": list(r.ranking),
    }
