"""A charter round's public files: the consent CSV (written, protected and read back) and the one
JSON encoding of its results, which `covote charter tabulate` reproduces byte for byte.

Pure: strings in, strings out, cells written and read as every Covote CSV is
(`csvfiles.neutralise` / `restore`, problems by line: `consent.csv:7: answer: ...`).

**Consent CSV**, header `voter,item,answer,segments`: one row per voter and wording answered.
`voter` is the voter's pseudonym in the round (`anonymity.public_pseudonym`, as ballots use);
`item` a clause's key or an accepted amendment's (the charter file is the codebook); `answer`
the consent scale's 1-5; `segments` the voter's segments joined by `;`, as `public_consent`
protects them.

**Protection** (README, Anonymity; as the survey's responses CSV, `survey_files`): only
segments that may block some clause of the charter (an affected group that protects) are
written, and each combination of them held by fewer than m voters loses its segments (then the
smallest joins the voters without any, until those number 0 or at least m), so a neighbour who
knows someone's segments finds them among at least m rows. The results are counted from these
protected rows (`public_consent`, then `tabulate`), which is why the recount matches: a voter
whose combination is that rare counts in the room but in none of its groups, as a group smaller
than m cannot block anyway.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from pydantic_core import PydanticCustomError

from app.core.shapes import CharterResults
from app.record.csvfiles import check_header, csv_records, write_csv
from app.record.records import Problems, check_id, quote
from app.record.results import dumps_result
from app.record.survey_files import protected_cells
from app.rules import charter_doc as cd
from app.rules.charter import (
    CONSENT_SCALE,
    AmendmentStatus,
    CharterRule,
    ClauseDecision,
    Consent,
    ConsentBallot,
    ConsentCounts,
    count_charter,
)

CONSENT_HEADER = ("voter", "item", "answer", "segments")
MAX_VOTER = 64  # a pseudonym is 18 characters; room for other exporters' ids


def items_of(charter: cd.Charter) -> dict[str, str]:
    """Every wording a consent round may answer (clauses and their accepted amendments):
    {item: the clause it belongs to}."""
    out: dict[str, str] = {}
    for c in charter.clauses():
        out[c.key] = c.key
        out.update({a.key: c.key for a in c.amendments if a.status is AmendmentStatus.ACCEPTED})
    return out


def public_consent(
    charter: cd.Charter,
    ballots: Iterable[ConsentBallot],
    m: int,
    protecting: frozenset[str] | None = None,
) -> list[ConsentBallot]:
    """The ballots as published (module doc): those with an answer, by pseudonym (`voter`,
    sorted), with only the segments that may block a clause (`protecting`: None = all),
    protected under m."""
    blocking = {g for c in charter.clauses() for g in c.affected_groups}
    if protecting is not None:
        blocking &= protecting
    # Only voters who answered are written: counting the others would let a combination reach
    # m on paper while fewer than m rows carry it.
    rows = [(b, frozenset(b.segments & blocking)) for b in ballots if b.answers]
    cells = protected_cells(Counter((None, s) for _, s in rows), m)
    return [
        ConsentBallot(b.voter, cells[(None, s)][1], dict(b.answers))
        for b, s in sorted(rows, key=lambda r: r[0].voter)
    ]


def write_consent_csv(charter: cd.Charter, ballots: Iterable[ConsentBallot]) -> str:
    """The consent CSV of `public_consent`'s ballots, answers in the charter's order."""
    order = list(items_of(charter))
    cells = []
    for b in ballots:
        segments = ";".join(sorted(b.segments))
        for item in order:
            if item in b.answers:
                cells.append([b.voter, item, Consent(b.answers[item]).value, segments])
    return write_csv(CONSENT_HEADER, cells)


def _row_problems(cells: Sequence[str], items: Iterable[str]) -> list[str]:
    voter, item, answer, segments = cells
    bad = []
    if not voter or len(voter) > MAX_VOTER:
        bad.append(f"voter: must be 1-{MAX_VOTER} characters")
    if item not in items:
        bad.append(f"item: not a clause or amendment of the charter: {quote(item[:80])}")
    if CONSENT_SCALE.parse(answer) != answer:
        bad.append(f"answer: must be 1, 2, 3, 4 or 5, not {quote(answer[:20])}")
    listed = segments.split(";") if segments else []
    for s in listed:
        try:
            check_id(s)
        except PydanticCustomError:
            bad.append(f"segments: {quote(s[:80])} is not a segment id")
    if len(set(listed)) != len(listed):
        bad.append("segments: a segment is listed twice")
    return bad


def read_consent_csv(
    text: str, charter: cd.Charter, *, filename: str = "consent.csv"
) -> list[ConsentBallot]:
    """Parse a consent CSV against its charter, voters in order of first appearance.

    Raises:
        RecordError: every malformed line with its number: wrong header (line 1), wrong number
            of fields, an empty voter, an item the charter does not have, an answer not 1-5, a
            bad segment id, a voter's second answer to one item, or segments that differ
            between a voter's rows.
    """
    p = Problems(filename)
    records = csv_records(text, p)
    check_header(records, CONSENT_HEADER, p)
    items = items_of(charter)
    first: dict[str, tuple[int, frozenset[str]]] = {}
    seen: dict[tuple[str, str], int] = {}
    answers: dict[str, dict[str, Consent]] = {}
    for line, cells in records[1:]:
        if len(cells) != len(CONSENT_HEADER):
            p.add(line, f"expected {len(CONSENT_HEADER)} fields, got {len(cells)}")
            continue
        bad = _row_problems(cells, items)
        voter, item, answer, segments = cells
        segs = frozenset(segments.split(";")) if segments else frozenset()
        at, declared = first.setdefault(voter, (line, segs))
        if declared != segs:
            bad.append(f"voter {quote(voter[:80])} has other segments on line {at}")
        if (earlier := seen.setdefault((voter, item), line)) != line:
            bad.append(f"voter {quote(voter[:80])} answered {quote(item[:80])} on line {earlier}")
        for reason in bad:
            p.add(line, reason)
        if not bad:
            answers.setdefault(voter, {})[item] = Consent(answer)
    p.raise_if_any()
    return [ConsentBallot(v, first[v][1], a) for v, a in answers.items()]


def tabulate(
    charter: cd.Charter, ballots: Sequence[ConsentBallot], rule: CharterRule
) -> tuple[ClauseDecision, ...]:
    """The decisions on every clause the ballots answer (or answer an amendment of), in the
    charter's order, counted from the published ballots (module doc)."""
    items = items_of(charter)
    answered = {items[i] for b in ballots for i in b.answers}
    return count_charter(cd.clause_votes(charter, sorted(answered)), ballots, rule)


def _answers(c: ConsentCounts) -> list[int]:
    return list(c.by)


def results_json(decisions: Sequence[ClauseDecision], rule: CharterRule) -> CharterResults:
    """The public record of a consent round's results. Keys in this order: `format`, `rule`
    (`block_percent`, `ratio`, `group_min`), `clauses`: per clause `clause`, `decision` (the
    category, SENT_BACK when no wording is adopted), `adopted` (the wording's item or null) and
    `wordings`: per wording `item`, `V`, `answers` (how many answered 1..5), `category`,
    `reasons`, `groups` (those blocking) and `affected`: per affected group that may block,
    `group`, `V`, `answers` (both null when suppressed: fewer than m answered), `blocks`,
    `suppressed`."""
    return {
        "format": "covote-charter-results/1",
        "rule": {
            "block_percent": rule.block_percent,
            "ratio": rule.rule.ratio,
            "group_min": rule.rule.group_min,
        },
        "clauses": [
            {
                "clause": d.clause,
                "decision": d.category.value,
                "adopted": d.adopted,
                "wordings": [
                    {
                        "item": w.item,
                        "V": w.counts.V,
                        "answers": _answers(w.counts),
                        "category": w.outcome.category.value,
                        "reasons": [r.value for r in w.outcome.reasons],
                        "groups": list(w.outcome.groups),
                        "affected": [
                            {
                                "group": g.group,
                                # A group under m is not published (README, Anonymity).
                                "V": None if g.suppressed else g.counts.V,
                                "answers": None if g.suppressed else _answers(g.counts),
                                "blocks": g.blocks,
                                "suppressed": g.suppressed,
                            }
                            for g in w.group_lines
                        ],
                    }
                    for w in d.wordings
                ],
            }
            for d in decisions
        ],
    }


def dumps_charter_results(decisions: Sequence[ClauseDecision], rule: CharterRule) -> str:
    """The one JSON text of a consent round's results, as the server serves it and
    `covote charter tabulate` prints it."""
    return dumps_result(results_json(decisions, rule))
