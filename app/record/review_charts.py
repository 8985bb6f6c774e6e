"""A charter review's charts (issue 17): the scorecard per party as bars, and the history
across the reviews of the same charter as a grid of scores, for the projector (GET
/p/CODE/charts), the console and the report (HTML and PDF: `charts_pdf`).

Pure. Built from the review's results view (`shapes.ReviewView`): its figures are already
suppressed (a commitment rated by fewer than m has none, and its party's score leaves it out),
so a bar or a cell without a score is hatched and says why; nothing here recomputes them.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.core.messages import N_
from app.core.shapes import ReviewResults, ReviewView
from app.record.charts import BarRow, Legend, heat_map, ranking_bars
from app.record.figure import Chart
from app.rules.explain import Translate

SCORE_TITLE = N_("Scorecard: how far each party kept its commitments")
SCORE_DESCRIPTION = N_(
    "Each party's score: kept counts 1, partly kept a half, not kept 0, over the ratings of "
    "its commitments that at least %(m)s people rated."
)
SCORE = N_("Score (%)")
PARTY = N_("Party")
NO_SCORE = N_("No score")  # the description says why (fewer than m rated)
HISTORY_TITLE = N_("The scorecard across reviews")
HISTORY_DESCRIPTION = N_("Each party's score (%) in each review of the charter, oldest first.")
HISTORY_MISSING = N_("No score in that review")
INTERVAL = N_("Interval")


def name_in(names: Mapping[str, Mapping[str, str]], key: str, lang: str) -> str:
    """A party's or commitment's name in `lang`, else in English, else its key."""
    got = names.get(key, {})
    return got.get(lang) or got.get("en") or key


def scorecard_chart(
    review: ReviewResults, parties: Mapping[str, Mapping[str, str]], _: Translate, lang: str
) -> Chart:
    """A bar per party (the charter's order): its score, with the ratings it is over."""
    m = review["group_min"]
    rows = [
        (
            name_in(parties, p["party"], lang),
            None if p["score"] is None else float(p["score"]),
            p["n"] if p["score"] is not None else None,
        )
        for p in review["parties"]
    ]
    return ranking_bars(
        [BarRow(label, value, n) for label, value, n in rows],
        title=_(SCORE_TITLE),
        description=_(SCORE_DESCRIPTION, m=m),
        value_label=_(SCORE),
        value_range=(0.0, 100.0),
        missing=_(NO_SCORE),
        interval_header=_(INTERVAL),
        label_header=_(PARTY),
        decimals=0,
    )


def history_chart(view: ReviewView, _: Translate, lang: str) -> Chart | None:
    """Parties down, reviews across, each cell the party's score then; None without a review."""
    h = view["history"]
    if not h["reviews"] or not h["parties"]:
        return None
    cells = [
        [None if pt["score"] is None else float(pt["score"]) for pt in h["points"][party]]
        for party in h["parties"]
    ]
    return heat_map(
        [name_in(view["parties"], p, lang) for p in h["parties"]],
        h["reviews"],
        cells,
        title=_(HISTORY_TITLE),
        description=_(HISTORY_DESCRIPTION),
        legend=Legend(
            _(SCORE),
            _(HISTORY_MISSING),
            fmt=lambda v: f"{v:.0f}",
            bounds=(0.0, 25.0, 50.0, 75.0, 100.0),
        ),
        corner=_(PARTY),
    )


def review_charts(view: ReviewView, _: Translate, lang: str = "en") -> list[Chart]:
    """The scorecard, then the history when there is one."""
    out = [scorecard_chart(view["review"], view["parties"], _, lang)]
    past = history_chart(view, _, lang)
    if past is not None:
        out.append(past)
    return out
