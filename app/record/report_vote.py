"""A room vote's part of the results report: each proposal's outcome, reason, bar and affected
groups, best first.

Contract:

* Pure: `proposals` takes a room vote's results view (`shapes.ResultsView`: its proposals with
  their counts and outcomes, already suppressed below m), the meeting's R and m and the
  translator; both renderers draw what it returns (`templates/record/_report_body.html`,
  `report_pdf`).
* Anonymity: an affected group's line below m says "fewer than m present" and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.core import shapes
from app.rules.explain import Outcome, Translate, outcome, reason_text


@dataclass(frozen=True, slots=True)
class Bar:
    """The stacked WANT / NEUTRAL / DON'T WANT bar; shares of V in [0, 1] (display only)."""

    W: int
    N: int
    D: int
    V: int
    want: float
    neutral: float
    dont: float
    label: str  # the bar in words, for screen readers and the PDF


@dataclass(frozen=True, slots=True)
class GroupLine:
    label: str
    suppressed: bool
    V: int | None
    W: int | None
    D: int | None
    verdict: str  # "protects" / "objects" (translated) or ""
    text: str  # the whole line in words


@dataclass(frozen=True, slots=True)
class ProposalReport:
    rank: int
    id: str
    heading: str  # "Keep: Mobile library"
    kind: str
    kind_label: str
    outcome: Outcome
    reason: str  # the outcome's reason in plain words, with the numbers
    groups: tuple[str, ...]  # the groups the outcome names (labels)
    bar: Bar
    lines: tuple[GroupLine, ...]
    not_counted: str  # names the affected groups marked "never protects", else ""


def _bar(p: shapes.ProposalView, _: Translate) -> Bar:
    v, w, n, d = p["V"], p["W"], p["N"], p["D"]
    share = (lambda x: x / v) if v else (lambda x: 0.0)
    label = _(
        "%(w)s WANT, %(n)s NEUTRAL, %(d)s DON'T WANT, of %(v)s who voted",
        w=w,
        n=n,
        d=d,
        v=v,
    )
    return Bar(W=w, N=n, D=d, V=v, want=share(w), neutral=share(n), dont=share(d), label=label)


def _line(line: shapes.AffectedView, m: int, _: Translate) -> GroupLine:
    label = line["label"]
    if line["suppressed"] or line["V"] is None:
        text = _("%(label)s: fewer than %(m)s present", label=label, m=m)
        return GroupLine(label, True, None, None, None, "", text)
    verdict = _("protects") if line["protects"] else _("objects") if line["objects"] else ""
    text = _(
        "%(label)s: %(w)s of %(v)s WANT, %(d)s DON'T WANT",
        label=label,
        w=line["W"],
        v=line["V"],
        d=line["D"],
    )
    if verdict:
        text += " → " + verdict
    return GroupLine(label, False, line["V"], line["W"], line["D"], verdict, text)


def heading(kind: str, title: str, _: Translate) -> str:
    """A proposal's heading: "Keep: Mobile library", "Fund: Respite breaks"."""
    return (
        _("Keep: %(title)s", title=title) if kind == "keep" else _("Fund: %(title)s", title=title)
    )


def proposals(
    results: shapes.ResultsView,
    ratio: int,
    m: int,
    never_protect: Mapping[str, tuple[str, ...]],
    _: Translate,
) -> list[ProposalReport]:
    """A room vote's proposals, best first (the results' ranking), each with its outcome, the
    reason in words with R and m, its bar and its affected groups' lines (under m: "fewer than
    m present", no counts). `never_protect`: proposal id -> the labels of its affected groups
    marked never to protect (they are named as not counted)."""
    by_id = {p["id"]: p for p in results["proposals"]}
    ranking = [pid for pid in results["ranking"] if pid in by_id]
    ranking += [pid for pid in by_id if pid not in ranking]
    out = []
    for rank, pid in enumerate(ranking, start=1):
        p = by_id[pid]
        kind, title = p["kind"], p["title"]
        groups = tuple(p["group_labels"])
        ignored = never_protect.get(pid, ())
        out.append(
            ProposalReport(
                rank=rank,
                id=pid,
                heading=heading(kind, title, _),
                kind=kind,
                kind_label=_("Keep") if kind == "keep" else _("Fund"),
                outcome=outcome(p["category"], kind, _, p["reason"]),
                reason=reason_text(p["reason"], p, groups, ratio, m, _),
                groups=groups,
                bar=_bar(p, _),
                lines=tuple(_line(line, m, _) for line in p["affected"]),
                not_counted=_(
                    "Not counted as affected groups (they never protect): %(groups)s.",
                    groups=_(", ").join(ignored),
                )
                if ignored
                else "",
            )
        )
    return out
