"""The Lab's count: each idea's support, its figures by opinion group and by segment,
bridging, and rejection by the segments it affects.

Pure: no I/O, no clock (the opinion groups' seeded clustering is `lab_groups`').

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

Every function raises `ValueError` on inconsistent input (duplicate keys or pseudonyms).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from app.rules import tally
from app.rules.lab import (
    SEED_MAX,
    Figures,
    GroupTotals,
    IdeaResult,
    LabIdea,
    LabResult,
    LabVoter,
    Rating,
)
from app.rules.lab_groups import opinion_groups


def support(agree: int, disagree: int) -> Fraction | None:
    """agree / (agree + disagree), or None when nobody agreed or disagreed."""
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
    groups, membership = opinion_groups(voters, keys, m, seed)
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
    supports = [s for c in shown.values() if (s := support(c.a, c.d)) is not None]
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
        support=support(room.a, room.d),
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
