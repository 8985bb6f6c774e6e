"""A Lab rating round's part of the results report: the "Co-Production Lab" section (issue 16).

Contract:

* Pure: `section` takes the meeting's Lab as the export read it (`LabInput`: its challenges,
  every idea with its status, helpers' count and shortlisting, and the round's published
  results, `lab_files.publish`'s, the same the bundle's lab-results-round-N.json holds), the
  segments' names and the translator; it returns a `LabSection` both renderers draw
  (`templates/record/_report_body.html`, `report_pdf`).
* Nothing about fewer than m voters: a support figure is printed only when at least m people
  rated the idea (overall, or in that opinion group); otherwise a dash. Opinion groups are
  never smaller than m (`rules.lab`). Helpers are a count per idea, never who; a hidden
  idea's text is never printed (only how many ideas were hidden).
* Ideas are in the results' order: bridging ideas (every opinion group agrees) first, then by
  support; each one's notes say whether it bridges, which affected segments rejected it by
  the meeting's rule, and whether it was shortlisted, with the facilitator's recorded reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from app.rules import lab
from app.rules.explain import Translate

DASH = "\u2013"  # a figure not shown (about fewer than m voters)


@dataclass(frozen=True, slots=True)
class ChallengeInfo:
    key: str
    title: str
    title_cy: str = ""  # "": none given (the English is shown)


@dataclass(frozen=True, slots=True)
class IdeaInfo:
    """An idea as stored: its key, challenge key, text, status, helpers and shortlisting."""

    key: str
    challenge: str
    text: str
    status: lab.IdeaStatus
    helpers: int = 0
    shortlisted: bool = False
    reason: str = ""  # the reason recorded for shortlisting a rejected idea ("" none)


@dataclass(frozen=True, slots=True)
class LabInput:
    challenges: tuple[ChallengeInfo, ...]
    ideas: tuple[IdeaInfo, ...]
    result: lab.LabResult


@dataclass(frozen=True, slots=True)
class LabIdeaLine:
    """One rated idea: its rank, text, notes and figures as printed."""

    rank: int
    text: str
    notes: tuple[str, ...]  # "Bridging: ...", "Rejected by: Carers", "Shortlisted: reason"
    counts: str  # "6 / 2 / 1" (agree / disagree / pass)
    support: str  # "75%", or DASH
    by_group: tuple[str, ...]  # each opinion group's support, or DASH
    helpers: str


@dataclass(frozen=True, slots=True)
class LabSection:
    heading: str  # "Co-Production Lab"
    challenges_heading: str
    challenges: tuple[str, ...]
    ideas_summary: str  # how many ideas: approved, waiting, hidden, merged
    groups: str  # the opinion groups and their sizes, in words
    suppression: str  # no figure about fewer than m voters
    caption: str
    columns: tuple[str, ...]  # rank, idea, counts, support, each group, helpers
    lines: tuple[LabIdeaLine, ...]
    pledges: str  # helpers' pledges in all, as a count


def _percent(share: Fraction | None, raters: int, m: int) -> str:
    if share is None or raters < m:
        return DASH
    return f"{round(share * 100)}%"


def _group(r: lab.IdeaResult, group: int, m: int) -> str:
    """The idea's support in one opinion group (a dash when fewer than m of it rated it:
    `tabulate` leaves such a group out of `by_group`)."""
    if group not in r.by_group:
        return DASH
    agree, disagree, passes = r.by_group[group]
    share = Fraction(agree, agree + disagree) if agree + disagree else None
    return _percent(share, agree + disagree + passes, m)


def _challenges(given: Sequence[ChallengeInfo], lang: str) -> tuple[str, ...]:
    return tuple(c.title_cy if lang == "cy" and c.title_cy else c.title for c in given)


def _notes(
    r: lab.IdeaResult,
    info: IdeaInfo | None,
    segments: Mapping[str, str],
    _: Translate,
) -> tuple[str, ...]:
    notes = []
    if r.is_bridging:
        notes.append(_("Bridging: every opinion group agrees."))
    if r.rejected_by:
        names = ", ".join(segments.get(s, s) for s in r.rejected_by)
        notes.append(_("Rejected by: %(groups)s", groups=names))
    if info is not None and info.shortlisted:
        notes.append(
            _("Shortlisted. Reason: %(reason)s", reason=info.reason)
            if info.reason
            else _("Shortlisted.")
        )
    return tuple(notes)


def section(
    given: LabInput,
    segments: Mapping[str, str],
    _: Translate,
    lang: str = "en",
) -> LabSection:
    """The Lab round's section in the language `_` translates to (challenges in Welsh when
    `lang` is "cy" and they have a Welsh title; ideas as they were written). `segments`:
    segment id -> its name, for "Rejected by"."""
    result = given.result
    m = result.m
    by_key = {i.key: i for i in given.ideas}
    statuses = Counter(i.status for i in given.ideas)
    summary = _(
        "%(n)s ideas: %(approved)s approved, %(pending)s waiting, %(hidden)s hidden, "
        "%(merged)s merged into others.",
        n=len(given.ideas),
        approved=statuses[lab.IdeaStatus.APPROVED],
        pending=statuses[lab.IdeaStatus.PENDING],
        hidden=statuses[lab.IdeaStatus.HIDDEN],
        merged=statuses[lab.IdeaStatus.MERGED],
    )
    if result.groups:
        sizes = ", ".join(str(g.size) for g in result.groups)
        groups = _(
            "%(rated)s people rated ideas; %(placed)s rated enough to be placed in %(n)s "
            "opinion groups (their sizes: %(sizes)s).",
            rated=result.voters_rated,
            placed=result.clustered,
            n=len(result.groups),
            sizes=sizes,
        )
    else:
        groups = _(
            "%(rated)s people rated ideas; too few rated enough to form opinion groups.",
            rated=result.voters_rated,
        )
    lines = []
    for rank, r in enumerate(result.ideas, start=1):
        info = by_key.get(r.key)
        lines.append(
            LabIdeaLine(
                rank=rank,
                text=info.text if info is not None else r.key,
                notes=_notes(r, info, segments, _),
                counts=f"{r.agree} / {r.disagree} / {r.passes}",
                support=_percent(r.support, r.raters, m),
                by_group=tuple(_group(r, g.id, m) for g in result.groups),
                helpers=str(info.helpers if info is not None else 0),
            )
        )
    pledged = sum(i.helpers for i in given.ideas if i.status is not lab.IdeaStatus.HIDDEN)
    with_helpers = sum(
        1 for i in given.ideas if i.helpers and i.status is not lab.IdeaStatus.HIDDEN
    )
    return LabSection(
        heading=_("Co-Production Lab"),
        challenges_heading=_("Challenges"),
        challenges=_challenges(given.challenges, lang),
        ideas_summary=summary,
        groups=groups,
        suppression=_(
            "A support figure about fewer than %(m)s people is not shown, so that nobody can "
            "be picked out.",
            m=m,
        ),
        caption=_(
            "The ideas ranked: bridging ideas first, then by support (agree as a share of "
            "agree and disagree)."
        ),
        columns=(
            _("Rank"),
            _("Idea"),
            _("Agree / disagree / pass"),
            _("Support"),
            *(_("Group %(n)s", n=g.id) for g in result.groups),
            _("Would help"),
        ),
        lines=tuple(lines),
        pledges=_(
            "Pledges to help make ideas happen: %(n)s in all; ideas with at least one: %(ideas)s.",
            n=pledged,
            ideas=with_helpers,
        ),
    )
