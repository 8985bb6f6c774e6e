"""The Co-Production Lab's vocabulary and shapes: what an idea, a rating and a result are.

Pure: no I/O, no clock. What an idea proposes (`IdeaKind`), where it is in moderation
(`IdeaStatus`), a voter's answer (`Rating`, on `RATING_SCALE`), the bounds of the texts, and
the typed values the Lab's statistics take and give. The statistics themselves, each in its
own module (issue 16; the figures the projector shows are the figures `covote lab tabulate`
prints from the public files):

* `lab_tally`: `tabulate` (support, opinion groups' and segments' figures, bridging, rejection
  by affected segments), `group_totals` and `withheld_segments`;
* `lab_groups`: the opinion groups (PCA and seeded k-means, as Polis finds them);
* `lab_json`: the results as a public record (`dumps_lab_results`);
* `lab_order`: the order in which a phone shows the ideas to rate (`next_ideas`);
* `lab_duplicates`: ideas whose texts are alike (`likely_duplicates`).

Nothing here imports numpy or scikit-learn: the vocabulary is on the server's start-up path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

from app.core.messages import N_
from app.rules import scales, tally

# Text bounds; LAB-ROOM enforces them where ideas are typed in, the files' reader here.
IDEA_TEXT_MAX = 280  # a phone screen and a projector line: a tweet's length
IDEA_DESCRIPTION_MAX = 1000
CHALLENGE_MAX = 300

SEED_MAX = 2**32 - 1  # the largest random_state scikit-learn takes
SCORE_PLACES = 4  # decimals of a float written in the results JSON (and of a likeness score)


class IdeaKind(StrEnum):
    """What an idea proposes to do about the challenge."""

    CUT_COST = "cut_cost"
    REDESIGN = "redesign"
    CO_DELIVER = "co_deliver"


class IdeaStatus(StrEnum):
    """Where an idea is in moderation: only APPROVED ideas are rated."""

    PENDING = "pending"
    APPROVED = "approved"
    HIDDEN = "hidden"
    MERGED = "merged"


class Rating(StrEnum):
    """A voter's answer to one idea (keypad 1 / 2 / 3)."""

    AGREE = "agree"
    DISAGREE = "disagree"
    PASS = "pass"


RATING_SCALE = scales.ChoiceScale(
    (
        scales.Choice(Rating.AGREE.value, 1, N_("Agree")),
        scales.Choice(Rating.DISAGREE.value, 2, N_("Disagree")),
        scales.Choice(Rating.PASS.value, 3, N_("Pass")),
    )
)
"""The Lab's rating scale: keypad 1 agree, 2 disagree, 3 pass; stored as `Rating`."""


@dataclass(frozen=True)
class LabIdea:
    """An approved idea: its key, its challenge and the segments it affects (may be empty)."""

    key: str
    challenge: str
    affected: tuple[str, ...] = ()


@dataclass(frozen=True)
class LabVoter:
    """A voter: their pseudonym, declared segments and ratings by idea key."""

    pseudonym: str
    segments: tuple[str, ...]
    ratings: Mapping[str, Rating]


Figures = tuple[int, int, int]
"""(agree, disagree, passes) of one idea among some voters."""

GroupTotals = Mapping[str, Mapping[str, tally.Counts]]
"""Idea key -> withheld segment (`withheld_segments`) -> (V raters, W agree, D disagree) on the
voters' true segments: the published group totals (only segments with at least m raters)."""


@dataclass(frozen=True)
class OpinionGroup:
    """An opinion group: its id (1, 2, ...: largest first) and how many voters are in it."""

    id: int
    size: int


@dataclass(frozen=True)
class IdeaResult:
    """One idea's figures (`lab_tally`'s module doc). `by_group` and `by_segment` omit every
    group or segment in which fewer than m voters rated the idea."""

    key: str
    agree: int
    disagree: int
    passes: int
    support: Fraction | None
    by_group: Mapping[int, Figures]
    by_segment: Mapping[str, Figures]
    bridging: Fraction | None
    is_bridging: bool
    rejected_by: tuple[str, ...]
    affected_totals: Mapping[str, tally.Counts] = field(default_factory=dict)
    """The idea's affected segments that may object -> (V raters, W agree, D disagree) on the
    voters' true segments, for those with at least m raters: `rejected_by` is decided on these."""

    @property
    def raters(self) -> int:
        """Everyone who rated the idea, passes included."""
        return self.agree + self.disagree + self.passes


@dataclass(frozen=True)
class LabResult:
    """The Lab's results: opinion groups by id, ideas best first (bridging, then support, then
    key), how many voters rated anything, and the parameters that reproduce them."""

    groups: tuple[OpinionGroup, ...]
    ideas: tuple[IdeaResult, ...]
    voters_rated: int
    m: int = 5
    ratio: int = 2
    seed: int = 0
    clustered: int = 0  # voters placed in a group (those with at least MIN_RATINGS ratings)
    membership: Mapping[str, int] = field(default_factory=dict, repr=False, compare=False)
    """Pseudonym -> group id, for the screens only (never in the results JSON)."""
