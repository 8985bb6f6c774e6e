"""Helpers' pledges on a Lab idea, summed up (issue 16): how many would help, the hours a
month they offer, and how many of them are in each of the meeting's segments (an area is a
segment in this app), as counts, never names and never one person's hours.

Pure: no I/O, no clock. `summarise(pledges, segments, m)` gives what the console, the wall,
a budget proposal's description and the charter's draft commitments show; `describe` words it.

**Suppression**, with m the meeting's group_min (as the survey's results do):

- The number of helpers is always shown, as a round's turnout is: it names nobody.
- The hours in all are shown only when at least m helpers gave hours, so a helper's own hours
  are never shown (one or two helpers' sum would be theirs).
- By segment: survey_tally's rule (`survey_tally.shown_groups`). The segments shown divide the
  helpers into classes that no shown count tells apart (in carers and North, in carers only,
  in neither...); a segment is admitted, largest first, only while every class stays empty or
  at least m. Any count that can be worked out by adding and subtracting shown ones (all
  helpers minus carers, carers minus those in North...) is a union of classes, so none under
  m can be derived. Nothing by segment is shown when fewer than m would help.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from app.core.messages import N_
from app.rules import survey_tally
from app.rules.survey import MAX_HOURS
from app.rules.survey_weights import Cell

# Hours a month one helper offers: the survey's bound (100 is over three hours every day).
HOURS_MAX = MAX_HOURS

HELPERS = N_("From the Co-Production Lab. People who would help make it happen: %(n)s.")
HOURS = N_("Hours a month they offer: %(n)s.")
AMONG = N_("Among them: %(groups)s.")


@dataclass(frozen=True, slots=True)
class Pledge:
    """One helper's pledge as the summary reads it: their segments and the hours they offer
    (None: not said)."""

    segments: frozenset[str]
    hours: int | None = None


@dataclass(frozen=True, slots=True)
class PledgeSummary:
    """What may be shown of an idea's pledges. `hours` is None when fewer than m helpers gave
    hours; `by_segment` lists the segments shown, in the meeting's order, with their counts."""

    helpers: int
    hours: int | None
    by_segment: tuple[tuple[str, int], ...] = ()


EMPTY = PledgeSummary(0, None)


def summarise(pledges: Iterable[Pledge], segments: Sequence[str], m: int) -> PledgeSummary:
    """The pledges' summary with every count under `m` suppressed (module doc). Segments a
    helper has that are not in `segments` (the meeting's) are ignored.

    Raises:
        ValueError: a pledge's hours are outside 0..HOURS_MAX (the caller checked them).
    """
    known = set(segments)
    cells: Counter[Cell] = Counter()
    given, hours = 0, 0
    for p in pledges:
        if p.hours is not None:
            if not 0 <= p.hours <= HOURS_MAX:
                raise ValueError(f"hours {p.hours} outside 0..{HOURS_MAX}")
            given, hours = given + 1, hours + p.hours
        cells[(None, frozenset(p.segments & known))] += 1
    helpers = sum(cells.values())
    groups = [("segment", s) for s in segments]
    shown = survey_tally.shown_groups(cells, groups, max(m, 1))
    by_segment = tuple(
        (s, sum(n for (_, segs), n in cells.items() if s in segs))
        for s in segments
        if ("segment", s) in shown
    )
    return PledgeSummary(helpers, hours if given >= m and given else None, by_segment)


def describe(
    summary: PledgeSummary, labels: Mapping[str, str], gettext: Callable[[str], str]
) -> str:
    """The summary in words, in `gettext`'s language: "From the Co-Production Lab. People who
    would help make it happen: 14. Hours a month they offer: 36. Among them: Carers 6, Ward
    North 5." (`labels`: segment id -> its name in that language)."""
    out = [gettext(HELPERS) % {"n": summary.helpers}]
    if summary.hours is not None:
        out.append(gettext(HOURS) % {"n": summary.hours})
    if summary.by_segment:
        groups = ", ".join(f"{labels.get(s, s)} {n}" for s, n in summary.by_segment)
        out.append(gettext(AMONG) % {"groups": groups})
    return " ".join(out)
