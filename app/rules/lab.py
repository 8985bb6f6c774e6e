"""The Co-Production Lab's statistics: rating order, opinion groups, support and bridging.

Pure: no I/O, no clock, no randomness but the seeded kind (`seed` goes to scikit-learn as its
`random_state`), so the projector and `covote lab tabulate` on the public files get the same
figures (issue 16).

* **Ratings.** A phone shows approved ideas one at a time; the voter answers agree (+1),
  disagree (-1) or pass (0). `next_ideas` orders the ideas a phone has not answered: fewest
  answers first, so every idea gets enough.
* **Opinion groups**, as Polis finds them: the voter x idea matrix (agree +1, disagree -1, pass
  or unrated 0) of the voters with at least `MIN_RATINGS` ratings is projected on its first two
  principal components; k-means (k from 2 to `MAX_GROUPS`) splits the points, and the k with
  the best silhouette wins, among the k whose every group has at least m voters. With fewer
  than 2m such voters, or no split that qualifies, everyone clustered is one group. Group ids
  run 1, 2, ... by size (largest first), then by the smallest pseudonym in the group.
* **Support** of an idea: agree / (agree + disagree), an exact fraction (passes count as
  ratings, not as support). Figures by opinion group and by declared segment are given only
  where at least m voters rated the idea (README, Anonymity): a smaller one is omitted.
* **Bridging**: an idea is bridging when there are at least two opinion groups and, in every
  one of them, at least m voters rated it and more than half of those who rated it agree.
  `bridging` is the lowest group support among the groups with published figures. Bridging
  ideas come first in the results.
* **Rejected by affected segments**: each affected segment that may object (`protecting`)
  objects by `tally.objects` with agree as W, disagree as D and everyone in it who rated the
  idea as V (the meeting's rule: D >= m, D > V/2 and D >= R x W).
* **Likely duplicates**: TF-IDF over character n-grams (English and Welsh alike, accents
  folded), cosine similarity, pairs above a threshold.

Every function raises `ValueError` on inconsistent input (duplicate keys or pseudonyms).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import silhouette_score

from app.core.messages import N_
from app.rules import scales, tally

# Text bounds; LAB-ROOM enforces them where ideas are typed in, the files' reader here.
IDEA_TEXT_MAX = 280  # a phone screen and a projector line: a tweet's length
IDEA_DESCRIPTION_MAX = 1000
CHALLENGE_MAX = 300

MIN_RATINGS = 3  # a voter with fewer ratings says too little to place them in a group
MAX_GROUPS = 5  # more camps than this on a projector is noise, not a picture
KMEANS_RUNS = 10  # k-means restarts per k (best inertia kept); seeded, so deterministic
DUPLICATE_NGRAMS = (3, 5)  # character n-grams: robust to word endings and mutations (Welsh)
SCORE_PLACES = 4  # decimals of a float written in the results JSON
RESULTS_FORMAT = "covote-lab-results/1"


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

_VALUE = {Rating.AGREE: 1.0, Rating.DISAGREE: -1.0, Rating.PASS: 0.0}


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


@dataclass(frozen=True)
class OpinionGroup:
    """An opinion group: its id (1, 2, ...: largest first) and how many voters are in it."""

    id: int
    size: int


@dataclass(frozen=True)
class IdeaResult:
    """One idea's figures (module doc). `by_group` and `by_segment` omit every group or segment
    in which fewer than m voters rated the idea."""

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


# --- opinion groups -----------------------------------------------------------------------


def _labels(points: Any, m: int, seed: int) -> Any:
    """Cluster labels (0..k-1) of `points` (n x d), or all zeros when no split qualifies."""
    n = points.shape[0]
    one = np.zeros(n, dtype=np.int64)
    if n < 2 * m or n < 3 or np.allclose(points, points[0]):
        return one
    best: tuple[float, Any] | None = None
    for k in range(2, min(MAX_GROUPS, n - 1) + 1):
        if k * m > n:
            break
        km = KMeans(n_clusters=k, random_state=seed, n_init=KMEANS_RUNS, algorithm="lloyd")
        labels = km.fit_predict(points)
        sizes = np.bincount(labels, minlength=k)
        if len(set(labels.tolist())) < 2 or sizes.min() < m:
            continue  # a group of fewer than m voters would single them out
        score = float(silhouette_score(points, labels))
        # Rounded so that float noise between machines cannot flip the choice; ties: fewer groups.
        score = round(score, 9)
        if best is None or score > best[0]:
            best = (score, labels)
    return one if best is None else best[1]


def _groups(
    voters: Sequence[LabVoter], keys: Sequence[str], m: int, seed: int
) -> tuple[tuple[OpinionGroup, ...], dict[str, int]]:
    """The opinion groups and each clustered voter's group id (voters sorted by pseudonym)."""
    placed = [v for v in voters if sum(k in v.ratings for k in keys) >= MIN_RATINGS]
    if not placed:
        return (), {}
    column = {k: j for j, k in enumerate(keys)}
    matrix = np.zeros((len(placed), len(keys)))
    for i, v in enumerate(placed):
        for k, r in v.ratings.items():
            if k in column:
                matrix[i, column[k]] = _VALUE[Rating(r)]
    components = min(2, len(placed), len(keys))
    points = PCA(n_components=components, svd_solver="full").fit_transform(matrix)
    labels = _labels(points, m, seed)
    members: dict[int, list[str]] = {}
    for v, label in zip(placed, labels.tolist(), strict=True):
        members.setdefault(int(label), []).append(v.pseudonym)
    order = sorted(members.values(), key=lambda names: (-len(names), min(names)))
    groups = tuple(OpinionGroup(id=i, size=len(names)) for i, names in enumerate(order, 1))
    membership = {name: i for i, names in enumerate(order, 1) for name in names}
    return groups, membership


# --- tabulation ---------------------------------------------------------------------------


def _support(agree: int, disagree: int) -> Fraction | None:
    return Fraction(agree, agree + disagree) if agree + disagree else None


class _Count:
    __slots__ = ("a", "d", "p")

    def __init__(self) -> None:
        self.a = self.d = self.p = 0

    def add(self, r: Rating) -> None:
        if r is Rating.AGREE:
            self.a += 1
        elif r is Rating.DISAGREE:
            self.d += 1
        else:
            self.p += 1

    @property
    def raters(self) -> int:
        return self.a + self.d + self.p

    def figures(self) -> Figures:
        return (self.a, self.d, self.p)


def _checked(ideas: Sequence[LabIdea], voters: Sequence[LabVoter]) -> None:
    keys = [i.key for i in ideas]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate idea key in the Lab")
    names = [v.pseudonym for v in voters]
    if len(set(names)) != len(names):
        raise ValueError("duplicate voter pseudonym in the Lab")


def tabulate(
    ideas: Sequence[LabIdea],
    voters: Sequence[LabVoter],
    rule: tally.Rule,
    *,
    seed: int = 0,
    protecting: frozenset[str] | None = None,
) -> LabResult:
    """The Lab's results (module doc) for the approved `ideas` and every voter's ratings.

    Ratings of ideas not in `ideas` (hidden or merged since) are ignored. The result does not
    depend on the order of `ideas` or `voters`: both are sorted (by key, by pseudonym) first.

    Args:
        ideas: the ideas rated (the approved ones).
        voters: one entry per voter, ratings by idea key.
        rule: the meeting's rule: `group_min` is m, `ratio` is R.
        seed: k-means' random_state; the results JSON records it.
        protecting: segment ids that may object (None = all); other affected segments are
            never in `rejected_by`.

    Raises:
        ValueError: a repeated idea key or pseudonym.
    """
    _checked(ideas, voters)
    m = rule.group_min
    ideas = sorted(ideas, key=lambda i: i.key)
    keys = [i.key for i in ideas]
    known = set(keys)
    voters = sorted(voters, key=lambda v: v.pseudonym)
    groups, membership = _groups(voters, keys, m, seed)
    room = {k: _Count() for k in keys}
    by_group: dict[str, dict[int, _Count]] = {k: {g.id: _Count() for g in groups} for k in keys}
    by_segment: dict[str, dict[str, _Count]] = {k: {} for k in keys}
    voters_rated = 0
    for v in voters:
        rated = [(k, Rating(r)) for k, r in v.ratings.items() if k in known]
        voters_rated += bool(rated)
        group = membership.get(v.pseudonym)
        for k, r in rated:
            room[k].add(r)
            if group is not None:
                by_group[k][group].add(r)
            for s in set(v.segments):
                by_segment[k].setdefault(s, _Count()).add(r)
    results = [
        _idea_result(
            idea, room[idea.key], by_group[idea.key], by_segment[idea.key], rule, protecting
        )
        for idea in ideas
    ]
    results.sort(key=_order)
    return LabResult(
        groups=groups,
        ideas=tuple(results),
        voters_rated=voters_rated,
        m=m,
        ratio=rule.ratio,
        seed=seed,
        clustered=len(membership),
        membership=membership,
    )


def _idea_result(
    idea: LabIdea,
    room: _Count,
    groups: Mapping[int, _Count],
    segments: Mapping[str, _Count],
    rule: tally.Rule,
    protecting: frozenset[str] | None,
) -> IdeaResult:
    m = rule.group_min
    shown = {g: c for g, c in sorted(groups.items()) if c.raters >= m}
    supports = [s for c in shown.values() if (s := _support(c.a, c.d)) is not None]
    is_bridging = (
        len(groups) >= 2
        and len(shown) == len(groups)
        and all(2 * c.a > c.raters for c in shown.values())
    )
    affected = sorted({s for s in idea.affected if protecting is None or s in protecting})
    rejected_by = tuple(
        s
        for s in affected
        if s in segments
        and tally.objects(
            tally.Counts(V=segments[s].raters, W=segments[s].a, D=segments[s].d), rule
        )
    )
    return IdeaResult(
        key=idea.key,
        agree=room.a,
        disagree=room.d,
        passes=room.p,
        support=_support(room.a, room.d),
        by_group={g: c.figures() for g, c in shown.items()},
        by_segment={s: c.figures() for s, c in sorted(segments.items()) if c.raters >= m},
        bridging=min(supports) if supports else None,
        is_bridging=is_bridging,
        rejected_by=rejected_by,
    )


def _order(r: IdeaResult) -> tuple[bool, bool, Fraction, str]:
    """Bridging first, then support (highest first; none last), then key."""
    return (not r.is_bridging, r.support is None, -(r.support or Fraction(0)), r.key)


# --- the results JSON ---------------------------------------------------------------------


def _float(value: Fraction | None) -> float | None:
    return None if value is None else round(float(value), SCORE_PLACES)


def _figures(f: Figures) -> dict[str, Any]:
    a, d, p = f
    return {"agree": a, "disagree": d, "passes": p, "support": _float(_support(a, d))}


def result_to_json(r: LabResult) -> dict[str, Any]:
    """The Lab's results as a public record (what `covote lab tabulate` prints).

    `{"format", "m", "ratio", "seed", "voters_rated", "clustered", "groups": [{"id", "size"}],
    "ideas": [{"key", "agree", "disagree", "passes", "support", "bridging", "is_bridging",
    "rejected_by", "by_group": [{"group", "agree", "disagree", "passes", "support"}],
    "by_segment": [{"segment", ...}]}]}`, ideas best first. Supports are floats rounded to
    `SCORE_PLACES` decimals (the counts beside them give the exact fraction); which voter is in
    which group is not in it.
    """
    return {
        "format": RESULTS_FORMAT,
        "m": r.m,
        "ratio": r.ratio,
        "seed": r.seed,
        "voters_rated": r.voters_rated,
        "clustered": r.clustered,
        "groups": [{"id": g.id, "size": g.size} for g in r.groups],
        "ideas": [
            {
                "key": i.key,
                "agree": i.agree,
                "disagree": i.disagree,
                "passes": i.passes,
                "support": _float(i.support),
                "bridging": _float(i.bridging),
                "is_bridging": i.is_bridging,
                "rejected_by": list(i.rejected_by),
                "by_group": [{"group": g, **_figures(f)} for g, f in sorted(i.by_group.items())],
                "by_segment": [
                    {"segment": s, **_figures(f)} for s, f in sorted(i.by_segment.items())
                ],
            }
            for i in r.ideas
        ],
    }


def dumps_lab_results(r: LabResult) -> str:
    """The one JSON text of the Lab's results: sorted keys, indent 2, UTF-8, final newline."""
    return json.dumps(result_to_json(r), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


# --- rating order -------------------------------------------------------------------------


def _draw(voter_seed: str, key: str) -> str:
    return hashlib.sha256(f"{voter_seed}\n{key}".encode()).hexdigest()


def next_ideas(
    approved: Sequence[str], answered: Set[str], counts: Mapping[str, int], voter_seed: str
) -> list[str]:
    """The order in which a phone shows the approved ideas its voter has not answered.

    Fewest answers so far first (`counts`: answers by idea key; missing = 0), so every idea
    gets enough answers; ties in an order drawn per voter (SHA-256 of `voter_seed` and the key):
    stable for one voter, different between voters, so not everyone sees the same idea first.
    """
    todo = {k for k in approved if k not in answered}
    return sorted(todo, key=lambda k: (counts.get(k, 0), _draw(voter_seed, k), k))


# --- likely duplicates --------------------------------------------------------------------


def likely_duplicates(
    texts: Mapping[str, str], *, threshold: float = 0.6
) -> list[tuple[str, str, float]]:
    """Pairs of ideas whose texts are alike: `(a, b, score)` with a < b and score (cosine
    similarity of TF-IDF over character n-grams, rounded to `SCORE_PLACES`) at least
    `threshold`, most similar first (then by keys). Works for English and Welsh alike: n-grams
    within words need no word list, and accents are folded (dŵr = dwr). Deterministic.
    Texts with no letters or digits are left out.
    """
    keys = sorted(k for k, t in texts.items() if any(ch.isalnum() for ch in t))
    if len(keys) < 2:
        return []
    vectorizer = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=DUPLICATE_NGRAMS,
        lowercase=True,
        strip_accents="unicode",
        sublinear_tf=True,
    )
    matrix = vectorizer.fit_transform([texts[k] for k in keys])
    similarity = (matrix @ matrix.T).toarray()  # rows are L2-normalised: this is the cosine
    pairs = []
    rows, cols = np.nonzero(np.triu(similarity >= threshold - 1e-12, k=1))
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        score = round(float(similarity[i, j]), SCORE_PLACES)
        if score >= threshold:
            pairs.append((keys[i], keys[j], score))
    pairs.sort(key=lambda p: (-p[2], p[0], p[1]))
    return pairs
