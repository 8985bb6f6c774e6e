"""A charter review round's public record (issue 17): its scorecard as JSON (results.json's
`review`), and the history across reviews as the screens and the report show it.

Pure. Figures come from `rules.charter_review`: a commitment rated by fewer than m people has
no figures (nulls, `suppressed`), and its party's totals leave it out, so nothing about fewer
than m is published or can be worked out from what is. The score is published as a whole
percentage (`charter_review.percent`) beside the exact counts it comes from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from app.core.shapes import (
    ReviewCommitmentRecord,
    ReviewHistory,
    ReviewPartyRecord,
    ReviewPoint,
    ReviewResults,
)
from app.rules import answers
from app.rules.charter_review import CommitmentLine, PartyLine, history, percent


def _commitment(line: CommitmentLine) -> ReviewCommitmentRecord:
    if line.suppressed:
        return {
            "commitment": line.key,
            "n": None,
            "kept": None,
            "partly": None,
            "not_kept": None,
            "score": None,
            "suppressed": True,
        }
    t = line.tally
    return {
        "commitment": line.key,
        "n": t.n,
        "kept": t.kept,
        "partly": t.partly,
        "not_kept": t.not_kept,
        "score": None if t.score is None else percent(t.score),
        "suppressed": False,
    }


def results_json(lines: Sequence[PartyLine], group_min: int) -> ReviewResults:
    """The scorecard (`charter_review.scorecard`) as published: parties with no commitment in
    the round are left out."""
    parties: list[ReviewPartyRecord] = [
        {
            "party": line.party,
            "n": line.tally.n,
            "kept": line.tally.kept,
            "partly": line.tally.partly,
            "not_kept": line.tally.not_kept,
            "score": None if line.score is None else percent(line.score),
            "commitments": [_commitment(c) for c in line.commitments],
        }
        for line in lines
        if line.commitments
    ]
    return {"format": "covote-review-results/1", "group_min": group_min, "parties": parties}


def shown_answers(
    counted: Sequence[answers.ItemCount], results: ReviewResults
) -> list[answers.ItemCount]:
    """The answers' counts of the commitments the scorecard shows (rated by at least m): a
    suppressed commitment's counts are never published, on any screen or file."""
    hidden = {
        c["commitment"] for p in results["parties"] for c in p["commitments"] if c["suppressed"]
    }
    return [c for c in counted if c.id not in hidden]


def history_json(reviews: Sequence[tuple[str, Sequence[PartyLine]]]) -> ReviewHistory:
    """Each party's score across `reviews` (oldest first; `charter_review.history`), as whole
    percentages; a change is in percentage points between the shown (rounded) scores."""
    found = history(reviews)
    points: dict[str, list[ReviewPoint]] = {}
    for party, line in found.items():
        out: list[ReviewPoint] = []
        last: int | None = None
        for p in line:
            score = None if p.score is None else percent(p.score)
            change = score - last if score is not None and last is not None else None
            out.append({"score": score, "n": p.n if score is not None else 0, "change": change})
            last = score if score is not None else last
        points[party] = out
    return {"reviews": [name for name, _ in reviews], "parties": list(found), "points": points}


def names(values: Mapping[str, tuple[str, str]]) -> dict[str, dict[str, str]]:
    """Names by key, {"en": ..., "cy": ...} (Welsh only when given)."""
    return {k: {"en": en, **({"cy": cy} if cy else {})} for k, (en, cy) in values.items()}
