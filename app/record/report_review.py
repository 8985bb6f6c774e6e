"""A charter review round's part of the results report (issue 17): the scorecard per party,
its chart and the history across the reviews of the same charter.

Contract:

* Pure: `section` takes the round's results view (`shapes.ReviewView`, as the screens get it)
  and the translator; it returns a `ReviewSection` both renderers draw
  (`templates/record/_report_body.html`, `report_pdf`).
* Nothing about fewer than m people: a commitment rated by fewer shows a dash and the words
  "fewer than m rated", and its party's score leaves it out (the view carries no figures for
  it, so none can be printed).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.shapes import ReviewView
from app.record.figure import Chart
from app.record.review_charts import name_in, review_charts
from app.rules.explain import Translate

DASH = "\u2013"  # a figure not shown (about fewer than m people)


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """A row of the scorecard: a party (`party` True) or one of its commitments."""

    label: str
    party: bool
    cells: tuple[str, ...]  # score, ratings, kept, partly, not kept


@dataclass(frozen=True, slots=True)
class ReviewSection:
    heading: str  # "Charter review: scorecard"
    intro: str  # how a score is counted, and m
    columns: tuple[str, ...]
    rows: tuple[ReviewRow, ...]
    charts: tuple[Chart, ...]  # the scorecard's bars, then the history when there is one


def section(view: ReviewView, _: Translate, lang: str = "en") -> ReviewSection:
    """The review round's section, its names in `lang` (else English)."""
    card = view["review"]
    m = card["group_min"]
    hidden = _("Fewer than %(m)s rated: not shown", m=m)
    rows: list[ReviewRow] = []
    for p in card["parties"]:
        score = DASH if p["score"] is None else f"{p['score']}%"
        rows.append(
            ReviewRow(
                name_in(view["parties"], p["party"], lang),
                True,
                (score, str(p["n"]), str(p["kept"]), str(p["partly"]), str(p["not_kept"])),
            )
        )
        for c in p["commitments"]:
            label = name_in(view["commitments"], c["commitment"], lang)
            if c["suppressed"]:
                rows.append(ReviewRow(label, False, (DASH, hidden, "", "", "")))
                continue
            rows.append(
                ReviewRow(
                    label,
                    False,
                    (
                        f"{c['score']}%",
                        str(c["n"]),
                        str(c["kept"]),
                        str(c["partly"]),
                        str(c["not_kept"]),
                    ),
                )
            )
    return ReviewSection(
        heading=_("Charter review: scorecard"),
        intro=_(
            "Kept counts 1, partly kept a half, not kept 0. A commitment rated by fewer than "
            "%(m)s people shows no figures and is left out of its party's score.",
            m=m,
        ),
        columns=(
            _("Party or commitment"),
            _("Score"),
            _("Ratings"),
            _("Kept"),
            _("Partly kept"),
            _("Not kept"),
        ),
        rows=tuple(rows),
        charts=tuple(review_charts(view, _, lang)),
    )
