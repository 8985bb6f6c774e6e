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
  idea as V (the meeting's rule: D >= m, D > V/2 and D >= R x W). Minority protection never
  depends on the privacy coarsening of the vote file: it is decided on the voters' TRUE
  segments. The segments that may object to some idea (`withheld_segments`) are published
  only as group totals (`group_totals`: per idea, those with at least m raters; a smaller one
  can never object, as D >= m), never on a voter's row, since totals beside coarsened rows
  would give away, by subtraction, how the few voters whose segments were coarsened rated.
  Given `group_totals` (the groups file), `tabulate` decides on them, so the public files
  reproduce the decision exactly.
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
SEED_MAX = 2**32 - 1  # the largest random_state scikit-learn takes
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


# --- opinion groups -----------------------------------------------------------------------


def _labels(points: Any, m: int, seed: int) -> Any:
    """Cluster labels (0..k-1) of `points` (n x d), or all zeros when no split qualifies."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    n = points.shape[0]
    one = np.zeros(n, dtype=np.int64)
    # k-means cannot make more groups than there are distinct points (it would warn and repeat).
    distinct = len(np.unique(points.round(9), axis=0))
    best: tuple[float, Any] | None = None
    for k in range(2, min(MAX_GROUPS, n - 1, distinct) + 1):
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
    column = {k: j for j, k in enumerate(keys)}
    placed = [v for v in voters if sum(k in column for k in v.ratings) >= MIN_RATINGS]
    if not placed:
        return (), {}
    matrix = np.zeros((len(placed), len(keys)))
    for i, v in enumerate(placed):
        for k, r in v.ratings.items():
            if k in column:
                matrix[i, column[k]] = _VALUE[Rating(r)]
    if len(placed) < 2 * m or len(placed) < 3:
        labels = np.zeros(len(placed), dtype=np.int64)  # too few voters to tell camps apart
    elif np.all(matrix == matrix[0]):
        labels = np.zeros(len(placed), dtype=np.int64)  # everyone rated alike: one camp
    else:
        # scikit-learn takes most of a second to import: the server pays it at the first
        # Lab count, not at every start (covote serve, and tests that start it).
        from sklearn.decomposition import PCA
        from threadpoolctl import threadpool_limits

        components = min(2, len(placed), len(keys))
        # One thread (BLAS and OpenMP): 500 x 300 takes milliseconds, while threads on a busy
        # machine wait on each other for seconds; and one thread adds up in one order everywhere.
        with threadpool_limits(limits=1):
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
    group_totals: GroupTotals | None = None,
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
        group_totals: the published group totals (`GroupTotals` of `withheld_segments`; a
            segment not given had fewer than m raters of that idea). None: they are counted
            from the voters' segments, which must then be their TRUE segments (the server's
            decision). Given: `rejected_by`, `affected_totals` and the withheld segments'
            `by_segment` figures come from them; the voters (as the vote file holds them, the
            withheld segments taken out) give every other segment's figures
            (`covote lab tabulate --groups`).

    Raises:
        ValueError: a repeated idea key or pseudonym, a seed outside 0..`SEED_MAX`, or group
            totals that cannot be: for an idea not counted or a segment not withheld, fewer
            than m raters, or more raters, agrees or disagrees than the room (`tally.Counts`
            itself refuses agree + disagree over the raters); or voters who show a withheld
            segment beside them.
    """
    _checked(ideas, voters)
    if not 0 <= seed <= SEED_MAX:
        raise ValueError(f"the Lab's seed must be from 0 to {SEED_MAX}, not {seed}")
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
    withheld = withheld_segments(ideas, protecting)
    if group_totals is None:
        totals = {
            k: {
                s: tally.Counts(V=c.raters, W=c.a, D=c.d)
                for s, c in sorted(by_segment[k].items())
                if s in withheld and c.raters >= m
            }
            for k in keys
        }
    else:
        totals = _checked_totals(group_totals, withheld, room, voters, m)
    results = []
    for idea in ideas:
        k = idea.key
        figures = {s: c.figures() for s, c in by_segment[k].items() if c.raters >= m}
        figures.update({s: (c.W, c.D, c.V - c.W - c.D) for s, c in totals[k].items()})
        may_object = {s for s in idea.affected if s in withheld}
        affected = {s: c for s, c in totals[k].items() if s in may_object}
        results.append(_idea_result(k, room[k], by_group[k], figures, affected, rule))
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


def withheld_segments(ideas: Sequence[LabIdea], protecting: frozenset[str] | None) -> set[str]:
    """The segments that may object to at least one of `ideas`: the vote file withholds them
    and the groups file gives their totals instead (so the two cannot be told apart)."""
    return {s for i in ideas for s in i.affected if protecting is None or s in protecting}


def _checked_totals(
    given: GroupTotals,
    withheld: set[str],
    room: Mapping[str, _Count],
    voters: Sequence[LabVoter],
    m: int,
) -> dict[str, dict[str, tally.Counts]]:
    """The group totals by idea (every counted idea present), or ValueError (`tabulate`)."""
    for v in voters:
        if shown := sorted(withheld.intersection(v.segments)):
            raise ValueError(f"the voters show segment {shown[0]!r}, which group totals give")
    out: dict[str, dict[str, tally.Counts]] = {k: {} for k in room}
    for k, by_segment in given.items():
        if k not in room:
            raise ValueError(f"group totals for {k!r}, which is not an idea counted")
        r = room[k]
        for s, c in sorted(by_segment.items()):
            if s not in withheld:
                raise ValueError(f"group totals for {s!r}, which no idea's objection counts")
            if c.V < m:  # noqa: SIM300
                raise ValueError(f"segment {s!r} on {k!r} has fewer than m raters ({c.V})")
            if c.V > r.raters or c.W > r.a or c.D > r.d:  # noqa: SIM300
                raise ValueError(f"segment {s!r} on {k!r} has more ratings than the room")
            out[k][s] = c
    return out


def group_totals(
    ideas: Sequence[LabIdea],
    voters: Sequence[LabVoter],
    rule: tally.Rule,
    *,
    protecting: frozenset[str] | None = None,
) -> dict[str, dict[str, tally.Counts]]:
    """The group totals to publish (`GroupTotals`): for each idea (every key present), each
    affected segment that may object with at least m raters among `voters`, counted on their
    segments as given: pass the TRUE voters. The same as `tabulate(...).ideas[i].affected_totals`
    without the clustering (cheap: one pass over the ratings).

    Raises:
        ValueError: a repeated idea key or pseudonym.
    """
    _checked(ideas, voters)
    withheld = withheld_segments(ideas, protecting)
    keys = {i.key for i in ideas}
    counts: dict[tuple[str, str], _Count] = {}
    for v in voters:
        mine = withheld.intersection(v.segments)
        for k, r in v.ratings.items():
            if k in keys:
                for s in mine:
                    counts.setdefault((k, s), _Count()).add(Rating(r))
    out: dict[str, dict[str, tally.Counts]] = {k: {} for k in sorted(keys)}
    for (k, s), c in sorted(counts.items()):
        if c.raters >= rule.group_min:
            out[k][s] = tally.Counts(V=c.raters, W=c.a, D=c.d)
    return out


def _idea_result(
    key: str,
    room: _Count,
    groups: Mapping[int, _Count],
    segments: Mapping[str, Figures],
    affected: Mapping[str, tally.Counts],
    rule: tally.Rule,
) -> IdeaResult:
    m = rule.group_min
    shown = {g: c for g, c in sorted(groups.items()) if c.raters >= m}
    supports = [s for c in shown.values() if (s := _support(c.a, c.d)) is not None]
    is_bridging = (
        len(groups) >= 2
        and len(shown) == len(groups)
        and all(2 * c.a > c.raters for c in shown.values())
    )
    rejected_by = tuple(s for s, c in sorted(affected.items()) if tally.objects(c, rule))
    return IdeaResult(
        key=key,
        agree=room.a,
        disagree=room.d,
        passes=room.p,
        support=_support(room.a, room.d),
        by_group={g: c.figures() for g, c in shown.items()},
        by_segment=dict(sorted(segments.items())),
        bridging=min(supports) if supports else None,
        is_bridging=is_bridging,
        rejected_by=rejected_by,
        affected_totals=dict(sorted(affected.items())),
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
    "rejected_by", "affected": [{"segment", "raters", "agree", "disagree"}], "by_group":
    [{"group", "agree", "disagree", "passes", "support"}], "by_segment": [{"segment", ...}]}]}`,
    ideas best first; `affected` holds the group totals `rejected_by` is decided on. Supports
    are floats rounded to `SCORE_PLACES` decimals (the counts beside them give the exact
    fraction); which voter is in which group is not in it.
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
                "affected": [
                    {"segment": s, "raters": c.V, "agree": c.W, "disagree": c.D}
                    for s, c in sorted(i.affected_totals.items())
                ],
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
    from sklearn.feature_extraction.text import TfidfVectorizer

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
