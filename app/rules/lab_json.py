"""The Lab's results as a public record: the one JSON text `covote lab tabulate` prints
and the server publishes (lab-results-round-N.json).

Pure: no I/O, no clock.
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

from app.rules.lab import SCORE_PLACES, Figures, LabResult
from app.rules.lab_tally import support

RESULTS_FORMAT = "covote-lab-results/1"


def _float(value: Fraction | None) -> float | None:
    return None if value is None else round(float(value), SCORE_PLACES)


def _figures(f: Figures) -> dict[str, Any]:
    a, d, p = f
    return {"agree": a, "disagree": d, "passes": p, "support": _float(support(a, d))}


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
