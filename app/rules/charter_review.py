"""The Community Charter's review: the room rates each commitment kept, partly kept or not kept;
a scorecard per party, and its history across reviews.

Pure, exact (fractions, no floats). The score of a set of ratings is the mean of kept = 1,
partly kept = ½, not kept = 0: (2·K + P) / (2·n) over the n ratings. A commitment rated by
fewer than m people is shown without figures (small counts could identify people) and is left
out of its party's score; a party's score is the mean over the ratings of its commitments that
are shown, with their n, so no hidden figure can be worked out from the ones published.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from app.core.messages import N_
from app.rules.charter_doc import Charter
from app.rules.scales import Choice, ChoiceScale


class Rating(StrEnum):
    KEPT = "kept"
    PARTLY = "partly"
    NOT_KEPT = "not"


RATING_SCALE = ChoiceScale(
    (
        Choice(Rating.KEPT.value, 1, N_("Kept")),
        Choice(Rating.PARTLY.value, 2, N_("Partly kept")),
        Choice(Rating.NOT_KEPT.value, 3, N_("Not kept")),
    )
)
"""A review's answers: keypad 1 kept, 2 partly kept, 3 not kept."""


@dataclass(frozen=True, slots=True)
class Tally:
    """How many rated kept, partly kept and not kept."""

    kept: int = 0
    partly: int = 0
    not_kept: int = 0

    @property
    def n(self) -> int:
        return self.kept + self.partly + self.not_kept

    @property
    def score(self) -> Fraction | None:
        """(2·kept + partly) / (2·n), or None when nobody rated."""
        return Fraction(2 * self.kept + self.partly, 2 * self.n) if self.n else None

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.kept + other.kept, self.partly + other.partly, self.not_kept + other.not_kept
        )


def tally(ratings: Iterable[Rating]) -> Tally:
    rs = [Rating(r) for r in ratings]
    return Tally(rs.count(Rating.KEPT), rs.count(Rating.PARTLY), rs.count(Rating.NOT_KEPT))


@dataclass(frozen=True, slots=True)
class CommitmentLine:
    """A commitment's ratings; `suppressed` (fewer than m) means no figures are shown."""

    key: str
    tally: Tally
    suppressed: bool


@dataclass(frozen=True, slots=True)
class PartyLine:
    """A party's score over its shown commitments (None: none shown), their ratings' tally."""

    party: str
    tally: Tally
    commitments: tuple[CommitmentLine, ...]

    @property
    def score(self) -> Fraction | None:
        return self.tally.score


def percent(score: Fraction) -> int:
    """A score as a whole percentage, halves rounded up (exact: no float)."""
    return int((score * 200 + 1) // 2)


def scorecard(
    charter: Charter, ratings: Mapping[str, Sequence[Rating]], group_min: int
) -> tuple[PartyLine, ...]:
    """One line per party (the charter's order) from each commitment's ratings.

    Raises:
        ValueError: ratings for a commitment the charter does not have.
    """
    known = {c.key for c in charter.commitments}
    if unknown := sorted(set(ratings) - known):
        raise ValueError(f"ratings for commitments the charter does not have: {unknown}")
    out = []
    for party in charter.parties:
        lines = []
        total = Tally()
        for c in charter.commitments:
            if c.party != party.key:
                continue
            t = tally(ratings.get(c.key, ()))
            hidden = t.n < group_min
            lines.append(CommitmentLine(c.key, Tally() if hidden else t, hidden))
            if not hidden:
                total = total + t
        out.append(PartyLine(party.key, total, tuple(lines)))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    review: str
    score: Fraction | None
    n: int
    change: Fraction | None  # since the party's previous scored review (None: no earlier score)


def history(
    reviews: Sequence[tuple[str, Sequence[PartyLine]]],
) -> dict[str, tuple[HistoryPoint, ...]]:
    """Each party's score across reviews, oldest first (parties in order of first appearance);
    a review where the party had no shown score keeps its place with `score` None."""
    parties: list[str] = []
    for _, lines in reviews:
        parties += [line.party for line in lines if line.party not in parties]
    out: dict[str, tuple[HistoryPoint, ...]] = {}
    for party in parties:
        points = []
        last: Fraction | None = None
        for name, lines in reviews:
            line = next((x for x in lines if x.party == party), None)
            score = line.score if line else None
            n = line.tally.n if line else 0
            change = score - last if score is not None and last is not None else None
            points.append(HistoryPoint(name, score, n, change))
            last = score if score is not None else last
        out[party] = tuple(points)
    return out
