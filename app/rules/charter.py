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
  answer on the same scale). `charter_count.decide` adopts the adopted wording with the
  highest net support S - C - B; a tie keeps the original, then the earlier amendment. No
  adopted wording: the clause goes back, with every wording's reasons.
* Groups are counted on the voters' true segments (the server's input,
  `charter_count.count_charter`), never on the public record's coarsened ones: a small
  affected group whose members hold rare combinations of segments still blocks. The record
  publishes each group's totals (V_g, S_g, C_g, B_g) where V_g >= m, and
  `charter_count.with_group_totals` recounts from them exactly.

The outcome is monotone: an answer moved towards "block" (or one more block) never improves a
wording's category, and answers' order never matters (tests check both with hypothesis).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
