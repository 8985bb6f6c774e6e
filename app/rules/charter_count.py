"""Counting a charter's consent round: every voter's final answers to clause decisions.

Contract (the rule itself is `app.rules.charter`'s, stated in its module doc and the README):

* `count_charter` counts the room and each affected group on the ballots' segments as given.
  The server gives the voters' true segments, so minority protection never depends on how the
  public record coarsens or withholds them.
* The public record gives no segments, only each affected group's totals where at least m of
  its members answered (`charter_files`); `with_group_totals` recounts from those exactly: a
  group left out had fewer than m, so it could not block.
* Pure: no I/O, no clock, integers only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from app.rules.charter import (
    Category,
    CharterRule,
    Consent,
    ConsentCounts,
    GroupCounts,
    Outcome,
    assess,
    group_blocks,
    net_support,
)

_NONE = GroupCounts(0, 0, 0, 0)  # a suppressed group's line


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
