"""The Community Charter's adoption rule: pure functions from consent answers to a decision.

Contract (README, "Running a charter", states the same rule in words; tests/test_charter_rules.py
holds its vectors):

* No I/O, no clock, no floats: every comparison is between integers, so the projector and an
  observer's recount of the consent CSV agree on any machine.
* Every voter answers each clause (and each amendment to it) on the consent scale: 1 fully
  support, 2 support with reservations, 3 can live with it, 4 need a change, 5 block. A clause
  a voter did not answer is not counted for them (V is the number who answered that wording).
* For one wording, with V answers, S supports (1, 2 or 3), C "need a change" (4), B blocks (5)
  and F "fully support" (1), and the meeting's block share P (percent), R and m, `assess` says:
    1. nobody answered (V = 0): SENT_BACK, `no-answers`;
    2. too many block (100·B > P·V): SENT_BACK, `block-share`;
    3. an affected group blocks (B_g ≥ m, 2·B_g > V_g and B_g ≥ R·S_g, counted among the
       group's members who answered; `tally.objects` with blocks for DON'T WANT and supports
       for WANT): SENT_BACK, `group-blocks`, naming the groups;
    4. not more support than objection (S ≤ C + B): SENT_BACK, `needs-change`;
    5. otherwise adopted: ADOPTED (`full-support`) when more than half fully support
       (2·F > V), else ADOPTED_WITH_RESERVATIONS (`reservations`).
  SENT_BACK lists every one of 2-4 that applies, so the drafters see all the reasons at once.
  "Need a change" never blocks on its own: it weighs against adoption in step 4 only, as a
  "not as worded" does.
* Amendments are voted in the same round as the clause they amend (each a wording the voters
  answer on the same scale). `decide` adopts the adopted wording with the highest net support
  S - C - B; a tie keeps the original, then the earlier amendment. No adopted wording: the
  clause goes back, with every wording's reasons.

* Groups are counted on the voters' true segments (the server's input, `count_charter`),
  never on the public record's coarsened ones: a small affected group whose members hold rare
  combinations of segments still blocks. The record publishes each group's totals (V_g, S_g,
  C_g, B_g) where V_g >= m, and `with_group_totals` recounts from them exactly.

The outcome is monotone: an answer moved towards "block" (or one more block) never improves a
wording's category, and answers' order never matters (tests check both with hypothesis).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from app.core.messages import N_
from app.rules.scales import Choice, ChoiceScale
from app.rules.tally import Rule

DEFAULT_BLOCK_PERCENT = 10  # a tenth of the room blocking stops a clause: the suggested default


class Consent(StrEnum):
    """An answer on the consent scale; its value is its keypad key and its stored text."""

    FULL = "1"
    RESERVATIONS = "2"
    LIVE_WITH = "3"
    CHANGE = "4"
    BLOCK = "5"


SUPPORTS = frozenset({Consent.FULL, Consent.RESERVATIONS, Consent.LIVE_WITH})

CONSENT_SCALE = ChoiceScale(
    (
        Choice(Consent.FULL.value, 1, N_("Fully support")),
        Choice(Consent.RESERVATIONS.value, 2, N_("Support with reservations")),
        Choice(Consent.LIVE_WITH.value, 3, N_("Can live with it")),
        Choice(Consent.CHANGE.value, 4, N_("Need a change")),
        Choice(Consent.BLOCK.value, 5, N_("Block")),
    )
)
"""Phones, keypads (keys 1-5) and paper answer each clause on this scale."""


class Category(StrEnum):
    """A wording's outcome, best first."""

    ADOPTED = "ADOPTED"
    ADOPTED_WITH_RESERVATIONS = "ADOPTED_WITH_RESERVATIONS"
    SENT_BACK = "SENT_BACK"

    @property
    def rank(self) -> int:
        """Higher is better: ADOPTED 2, ADOPTED_WITH_RESERVATIONS 1, SENT_BACK 0."""
        return {"ADOPTED": 2, "ADOPTED_WITH_RESERVATIONS": 1, "SENT_BACK": 0}[self.value]

    @property
    def adopted(self) -> bool:
        return self is not Category.SENT_BACK


class Reason(StrEnum):
    """Why a wording got its category (module doc, steps 1-5)."""

    NO_ANSWERS = "no-answers"
    BLOCK_SHARE = "block-share"
    GROUP_BLOCKS = "group-blocks"
    NEEDS_CHANGE = "needs-change"
    FULL_SUPPORT = "full-support"
    RESERVATIONS = "reservations"


class AmendmentStatus(StrEnum):
    """Where a proposed amendment stands: only ACCEPTED ones are put to the room."""

    PROPOSED = "proposed"
    ACCEPTED = "accepted"  # the moderator put it to the vote against the original
    DECLINED = "declined"  # the moderator did not (off topic, abusive, a duplicate)


@dataclass(frozen=True, slots=True)
class CharterRule:
    """The adoption rule's parameters: `block_percent` (P, 0-100) and the meeting's R and m."""

    block_percent: int = DEFAULT_BLOCK_PERCENT
    rule: Rule = field(default_factory=Rule)

    def __post_init__(self) -> None:
        if not 0 <= self.block_percent <= 100:
            raise ValueError(f"block_percent must be 0 to 100, not {self.block_percent}")


@dataclass(frozen=True, slots=True)
class ConsentCounts:
    """How many gave each answer (`by[k]` for answer k+1) on one wording, room or group."""

    by: tuple[int, int, int, int, int]

    def __post_init__(self) -> None:
        if len(self.by) != 5 or any(n < 0 for n in self.by):
            raise ValueError(f"consent counts are five numbers, none negative: {self.by}")

    @classmethod
    def of(cls, answers: Iterable[Consent]) -> ConsentCounts:
        by = [0] * 5
        for a in answers:
            by[int(Consent(a).value) - 1] += 1
        return cls((by[0], by[1], by[2], by[3], by[4]))

    @property
    def V(self) -> int:
        """Everyone who answered."""
        return sum(self.by)

    @property
    def F(self) -> int:
        """Fully support (1)."""
        return self.by[0]

    @property
    def S(self) -> int:
        """Support: 1, 2 or 3."""
        return self.by[0] + self.by[1] + self.by[2]

    @property
    def C(self) -> int:
        """Need a change (4)."""
        return self.by[3]

    @property
    def B(self) -> int:
        """Block (5)."""
        return self.by[4]


class Totals(Protocol):
    """What the rule reads of a group's answers on a wording (`ConsentCounts`, `GroupCounts`)."""

    @property
    def V(self) -> int: ...
    @property
    def S(self) -> int: ...
    @property
    def C(self) -> int: ...
    @property
    def B(self) -> int: ...


@dataclass(frozen=True, slots=True)
class GroupCounts:
    """An affected group's totals on one wording: V_g who answered, S_g support (1-3), C_g need
    a change, B_g block. All the rule reads of a group, and all the groups CSV publishes (the
    split of support into 1, 2 and 3 is not published for a group)."""

    V: int
    S: int
    C: int
    B: int

    def __post_init__(self) -> None:
        if min(self.V, self.S, self.C, self.B) < 0 or self.S + self.C + self.B != self.V:
            raise ValueError(f"group totals must be whole and add up (S + C + B = V): {self}")

    @classmethod
    def of(cls, c: Totals) -> GroupCounts:
        return cls(c.V, c.S, c.C, c.B)


_NONE = GroupCounts(0, 0, 0, 0)  # a suppressed group's line


@dataclass(frozen=True, slots=True)
class Outcome:
    """A category, every reason that applies (module doc order) and the blocking groups."""

    category: Category
    reasons: tuple[Reason, ...]
    groups: tuple[str, ...]


def group_blocks(g: Totals, rule: Rule) -> bool:
    """True when an affected group blocks: B_g ≥ m, 2·B_g > V_g, B_g ≥ R·S_g (`tally.objects`)."""
    return g.B >= rule.group_min and 2 * g.B > g.V and g.B >= rule.ratio * g.S  # noqa: SIM300


def assess(counts: ConsentCounts, groups: Mapping[str, Totals], rule: CharterRule) -> Outcome:
    """Apply the adoption rule (module doc, steps 1-5) to one wording.

    Args:
        counts: the room's answers on the wording.
        groups: its affected groups that may block, with their members' answers counted on
            the voters' true segments (the caller has dropped segments marked "never
            protects"); a group with fewer than m answers may be left out, as it cannot block.
        rule: the meeting's parameters.
    """
    if counts.V == 0:
        return Outcome(Category.SENT_BACK, (Reason.NO_ANSWERS,), ())
    blocking = tuple(sorted(name for name, g in groups.items() if group_blocks(g, rule.rule)))
    reasons: list[Reason] = []
    if 100 * counts.B > rule.block_percent * counts.V:  # noqa: SIM300
        reasons.append(Reason.BLOCK_SHARE)
    if blocking:
        reasons.append(Reason.GROUP_BLOCKS)
    if counts.S <= counts.C + counts.B:
        reasons.append(Reason.NEEDS_CHANGE)
    if reasons:
        return Outcome(Category.SENT_BACK, tuple(reasons), blocking)
    if 2 * counts.F > counts.V:
        return Outcome(Category.ADOPTED, (Reason.FULL_SUPPORT,), ())
    return Outcome(Category.ADOPTED_WITH_RESERVATIONS, (Reason.RESERVATIONS,), ())


def net_support(c: ConsentCounts) -> int:
    """S - C - B: how amendments and the original are compared once adopted."""
    return c.S - c.C - c.B


# --- counting a round -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClauseVote:
    """A clause put to the room: its item id, the amendments' item ids (moderated, in the order
    proposed) and the segments named as its affected groups."""

    clause: str
    amendments: tuple[str, ...] = ()
    affected_groups: tuple[str, ...] = ()

    @property
    def items(self) -> tuple[str, ...]:
        """The wordings answered: the original first."""
        return (self.clause, *self.amendments)


@dataclass(frozen=True, slots=True)
class ConsentBallot:
    """One voter's final answers in a round: their segments and an answer per item id."""

    voter: str
    segments: frozenset[str]
    answers: Mapping[str, Consent]


@dataclass(frozen=True, slots=True)
class GroupLine:
    """An affected group's totals on a wording; `suppressed`: fewer than m answered, and then
    the counts are zeros (never the group's) and `blocks` is False (it could not block)."""

    group: str
    counts: GroupCounts
    blocks: bool
    suppressed: bool


@dataclass(frozen=True, slots=True)
class WordingResult:
    """One wording (the original or an amendment): its answers, outcome and group lines."""

    item: str
    counts: ConsentCounts
    outcome: Outcome
    group_lines: tuple[GroupLine, ...]


@dataclass(frozen=True, slots=True)
class ClauseDecision:
    """A clause's decision: the wording adopted (None: sent back) and every wording's result,
    the original first."""

    clause: str
    adopted: str | None
    wordings: tuple[WordingResult, ...]

    @property
    def category(self) -> Category:
        """The adopted wording's category, or SENT_BACK."""
        for w in self.wordings:
            if w.item == self.adopted:
                return w.outcome.category
        return Category.SENT_BACK


def decide(clause: str, wordings: Sequence[WordingResult]) -> ClauseDecision:
    """Which wording is adopted (module doc): the adopted one with the highest S - C - B, a
    tie going to the earlier (the original is first); none adopted sends the clause back."""
    best: WordingResult | None = None
    for w in wordings:
        if w.outcome.category.adopted and (
            best is None or net_support(w.counts) > net_support(best.counts)
        ):
            best = w
    return ClauseDecision(clause, best.item if best else None, tuple(wordings))


def count_charter(
    clauses: Sequence[ClauseVote],
    ballots: Iterable[ConsentBallot],
    rule: CharterRule,
    *,
    protecting: frozenset[str] | None = None,
) -> tuple[ClauseDecision, ...]:
    """Count a consent round: one decision per clause, in the clauses' order.

    The groups are counted on each ballot's `segments` as given: the server passes the voters'
    true segments, so minority protection never depends on how the public record coarsens
    them; a recount passes ballots without segments and then `with_group_totals`.

    Args:
        clauses: the clauses put to the room, with their accepted amendments.
        ballots: one final ballot per voter; order does not matter.
        rule: the meeting's parameters.
        protecting: segment ids that may block (None = all); other affected groups are ignored.

    Raises:
        ValueError: a repeated item or voter, or an answer to an item not in the round.
    """
    items = [i for c in clauses for i in c.items]
    if len(set(items)) != len(items):
        raise ValueError(f"an item id repeats in the round: {items}")
    groups_of = {
        c.clause: tuple(
            sorted({g for g in c.affected_groups if protecting is None or g in protecting})
        )
        for c in clauses
    }
    answers: dict[str, list[Consent]] = {i: [] for i in items}
    by_group: dict[tuple[str, str], list[Consent]] = {}
    seen: set[str] = set()
    for ballot in ballots:
        if ballot.voter in seen:
            raise ValueError(f"voter {ballot.voter!r} has more than one ballot in the round")
        seen.add(ballot.voter)
        if unknown := sorted(set(ballot.answers) - answers.keys()):
            raise ValueError(f"voter {ballot.voter!r} answered items not in the round: {unknown}")
        for c in clauses:
            for item in c.items:
                if item not in ballot.answers:
                    continue
                answer = Consent(ballot.answers[item])
                answers[item].append(answer)
                for g in groups_of[c.clause]:
                    if g in ballot.segments:
                        by_group.setdefault((item, g), []).append(answer)
    decisions = []
    for c in clauses:
        wordings = []
        for item in c.items:
            group_counts = {
                g: GroupCounts.of(ConsentCounts.of(by_group.get((item, g), ())))
                for g in groups_of[c.clause]
            }
            # A line under m keeps no counts (nobody may read them), so the decisions equal
            # the recount's from published totals (`with_group_totals`), value for value.
            lines = tuple(
                GroupLine(g, gc, group_blocks(gc, rule.rule), False)
                if rule.rule.group_min <= gc.V
                else GroupLine(g, _NONE, False, True)
                for g, gc in group_counts.items()
            )
            counts = ConsentCounts.of(answers[item])
            wordings.append(WordingResult(item, counts, assess(counts, group_counts, rule), lines))
        decisions.append(decide(c.clause, wordings))
    return tuple(decisions)


def with_group_totals(
    decisions: Sequence[ClauseDecision],
    totals: Mapping[str, Mapping[str, GroupCounts]],
    rule: CharterRule,
) -> tuple[ClauseDecision, ...]:
    """The decisions with their affected groups' counts taken from published totals.

    `decisions` counts the room from ballots without segments (the consent CSV); `totals[item]
    [group]` gives each affected group with at least m answers on that wording (the groups
    CSV). A group it does not give had fewer than m, so it is suppressed and cannot block
    (B_g >= m is needed): every outcome is exactly the one the voters' true segments give.

    Raises:
        ValueError: totals for an item or group the decisions have no line for, fewer than m
            answers, or more answers, supports, changes or blocks than the room's.
    """
    lines_of = {
        w.item: {line.group for line in w.group_lines} for d in decisions for w in d.wordings
    }
    for item, given in totals.items():
        if item not in lines_of:
            raise ValueError(f"group totals for {item!r}, which is not answered in the round")
        if unknown := sorted(set(given) - lines_of[item]):
            raise ValueError(f"{item!r} has no affected group(s) {unknown} that may block")
    out = []
    for d in decisions:
        wordings = []
        for w in d.wordings:
            given = totals.get(w.item, {})
            for g, gc in given.items():
                if rule.rule.group_min > gc.V:
                    raise ValueError(f"group {g!r} on {w.item!r} has fewer than m answers")
                room = w.counts
                if gc.V > room.V or gc.S > room.S or gc.C > room.C or gc.B > room.B:
                    raise ValueError(f"group {g!r} on {w.item!r} has more answers than the room")
            lines = tuple(
                GroupLine(
                    line.group,
                    given.get(line.group, _NONE),
                    line.group in given and group_blocks(given[line.group], rule.rule),
                    line.group not in given,
                )
                for line in w.group_lines
            )
            outcome = assess(w.counts, given, rule)
            wordings.append(WordingResult(w.item, w.counts, outcome, lines))
        out.append(decide(d.clause, wordings))
    return tuple(out)
