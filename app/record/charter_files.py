"""A charter round's public files: the consent CSV and the groups CSV (written and read back)
and the one JSON encoding of its results, which `covote charter tabulate` reproduces byte for
byte.

Pure: strings in, strings out, cells written and read as every Covote CSV is
(`csvfiles.neutralise` / `restore`, problems by line: `consent.csv:7: answer: ...`).

**Consent CSV**, header `voter,item,answer`: one row per voter and wording answered. `voter`
is the voter's pseudonym in the round (`anonymity.public_pseudonym`, as ballots use); `item` a
clause's key or an accepted amendment's (the charter file is the codebook); `answer` the
consent scale's 1-5. No voter's segments are written next to their answers.

**Groups CSV**, header `item,segment,voters,support,change,block`: per wording and affected
group that may block it, the group's totals (V_g, S_g, C_g, B_g) counted on the voters' true
segments, only where at least m of its members answered (README, Anonymity: as the room
vote's `groups.csv`). A group with fewer cannot block (that needs B_g >= m), so the missing
rows change no outcome, and the recount (`tabulate`) gives every decision exactly, a small
group whose members hold rare combinations of segments included. Segments are not also
written coarsened beside the answers: the totals less the rows still carrying a segment would
give away the answers of the few whose combination was merged away.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.core.shapes import CharterResults
from app.record.csvfiles import check_header, csv_records, write_csv
from app.record.records import Problems, quote
from app.record.results import dumps_result
from app.rules import charter_doc as cd
from app.rules.charter import (
    CONSENT_SCALE,
    AmendmentStatus,
    CharterRule,
    Consent,
    ConsentCounts,
    GroupCounts,
)
from app.rules.charter_count import (
    ClauseDecision,
    ConsentBallot,
    count_charter,
    with_group_totals,
)

CONSENT_HEADER = ("voter", "item", "answer")
GROUPS_HEADER = ("item", "segment", "voters", "support", "change", "block")
MAX_VOTER = 64  # a pseudonym is 18 characters; room for other exporters' ids


def items_of(charter: cd.Charter) -> dict[str, str]:
    """Every wording a consent round may answer (clauses and their accepted amendments):
    {item: the clause it belongs to}."""
    out: dict[str, str] = {}
    for c in charter.clauses():
        out[c.key] = c.key
        out.update({a.key: c.key for a in c.amendments if a.status is AmendmentStatus.ACCEPTED})
    return out


def public_consent(ballots: Iterable[ConsentBallot]) -> list[ConsentBallot]:
    """The ballots as published (module doc): those with an answer, by pseudonym (`voter`,
    sorted), without segments (the groups are published as totals, `group_rows`)."""
    return [
        ConsentBallot(b.voter, frozenset(), dict(b.answers))
        for b in sorted(ballots, key=lambda b: b.voter)
        if b.answers
    ]


def write_consent_csv(charter: cd.Charter, ballots: Iterable[ConsentBallot]) -> str:
    """The consent CSV of `public_consent`'s ballots, answers in the charter's order."""
    order = list(items_of(charter))
    cells = [
        [b.voter, item, Consent(b.answers[item]).value]
        for b in ballots
        for item in order
        if item in b.answers
    ]
    return write_csv(CONSENT_HEADER, cells)


def _row_problems(cells: Sequence[str], items: Iterable[str]) -> list[str]:
    voter, item, answer = cells
    bad = []
    if not voter or len(voter) > MAX_VOTER:
        bad.append(f"voter: must be 1-{MAX_VOTER} characters")
    if item not in items:
        bad.append(f"item: not a clause or amendment of the charter: {quote(item[:80])}")
    if CONSENT_SCALE.parse(answer) != answer:
        bad.append(f"answer: must be 1, 2, 3, 4 or 5, not {quote(answer[:20])}")
    return bad


def read_consent_csv(
    text: str, charter: cd.Charter, *, filename: str = "consent.csv"
) -> list[ConsentBallot]:
    """Parse a consent CSV against its charter, voters in order of first appearance.

    Raises:
        RecordError: every malformed line with its number: wrong header (line 1), wrong number
            of fields, an empty voter, an item the charter does not have, an answer not 1-5, or
            a voter's second answer to one item.
    """
    p = Problems(filename)
    records = csv_records(text, p)
    check_header(records, CONSENT_HEADER, p)
    items = items_of(charter)
    seen: dict[tuple[str, str], int] = {}
    answers: dict[str, dict[str, Consent]] = {}
    for line, cells in records[1:]:
        if len(cells) != len(CONSENT_HEADER):
            p.add(line, f"expected {len(CONSENT_HEADER)} fields, got {len(cells)}")
            continue
        bad = _row_problems(cells, items)
        voter, item, answer = cells
        if (earlier := seen.setdefault((voter, item), line)) != line:
            bad.append(f"voter {quote(voter[:80])} answered {quote(item[:80])} on line {earlier}")
        for reason in bad:
            p.add(line, reason)
        if not bad:
            answers.setdefault(voter, {})[item] = Consent(answer)
    p.raise_if_any()
    return [ConsentBallot(v, frozenset(), a) for v, a in answers.items()]


@dataclass(frozen=True, slots=True)
class GroupRow:
    """An affected group's totals on one wording (a row of the groups CSV, module doc)."""

    item: str
    segment: str
    counts: GroupCounts


def group_rows(decisions: Sequence[ClauseDecision]) -> list[GroupRow]:
    """The groups CSV's rows: every affected group line not suppressed (at least m answered),
    wordings in the decisions' order, groups in their lines' order."""
    return [
        GroupRow(w.item, line.group, line.counts)
        for d in decisions
        for w in d.wordings
        for line in w.group_lines
        if not line.suppressed
    ]


def write_groups_csv(rows: Iterable[GroupRow]) -> str:
    """The groups CSV (module doc)."""
    return write_csv(GROUPS_HEADER, group_cells(rows))


def group_cells(rows: Iterable[GroupRow]) -> list[list[str]]:
    """The groups CSV's rows as cells (header left out): what a charter round's seal is taken
    over (`anonymity.seal`: the order of the lines does not matter)."""
    return [
        [r.item, r.segment, *(str(n) for n in (r.counts.V, r.counts.S, r.counts.C, r.counts.B))]
        for r in rows
    ]


_COUNT = re.compile(r"[0-9]{1,9}")  # a room of up to a billion: beyond any council meeting


def read_groups_csv(
    text: str, charter: cd.Charter, m: int, *, filename: str = "groups.csv"
) -> list[GroupRow]:
    """Parse a groups CSV against its charter and the meeting's m.

    Raises:
        RecordError: every malformed line with its number: wrong header (line 1), wrong number
            of fields, an item the charter does not have, a segment that is not an affected
            group of the item's clause, a count that is not a whole number of at most nine
            digits, support + change + block other than voters, fewer voters than m (such a
            group is never published), or a second row for the same item and segment.
    """
    p = Problems(filename)
    records = csv_records(text, p)
    check_header(records, GROUPS_HEADER, p)
    items = items_of(charter)
    affected = {c.key: set(c.affected_groups) for c in charter.clauses()}
    first: dict[tuple[str, str], int] = {}
    rows: list[GroupRow] = []
    for line, cells in records[1:]:
        if len(cells) != len(GROUPS_HEADER):
            p.add(line, f"expected {len(GROUPS_HEADER)} fields, got {len(cells)}")
            continue
        item, segment = cells[:2]
        bad = []
        if item not in items:
            bad.append(f"item: not a clause or amendment of the charter: {quote(item[:80])}")
        elif segment not in affected[items[item]]:
            bad.append(f"segment: {quote(segment[:80])} is not an affected group of {quote(item)}")
        counts = []
        for name, cell in zip(GROUPS_HEADER[2:], cells[2:], strict=True):
            if _COUNT.fullmatch(cell):
                counts.append(int(cell))
            else:
                bad.append(f"{name}: must be a whole number, not {quote(cell[:20])}")
        if len(counts) == 4:
            voters, support, change, block = counts
            if support + change + block != voters:
                bad.append("support + change + block must equal voters")
            if voters < m:
                bad.append(f"voters: a group with fewer than {m} voters (m) is never published")
        if (at := first.setdefault((item, segment), line)) != line:
            bad.append(f"{quote(segment[:80])} on {quote(item[:80])} is already on line {at}")
        for reason in bad:
            p.add(line, reason)
        if not bad:
            rows.append(GroupRow(item, segment, GroupCounts(*counts)))
    p.raise_if_any()
    return rows


def count_round(
    charter: cd.Charter,
    ballots: Sequence[ConsentBallot],
    rule: CharterRule,
    protecting: frozenset[str] | None = None,
) -> tuple[ClauseDecision, ...]:
    """The decisions on every clause the ballots answer (or answer an amendment of), in the
    charter's order, the groups counted on the ballots' segments: the server's count, with
    the voters' true segments (`protecting`: the segments that may block, None = all)."""
    items = items_of(charter)
    answered = {items[i] for b in ballots for i in b.answers}
    clauses = cd.clause_votes(charter, sorted(answered))
    return count_charter(clauses, ballots, rule, protecting=protecting)


def tabulate(
    charter: cd.Charter,
    ballots: Sequence[ConsentBallot],
    rule: CharterRule,
    groups: Sequence[GroupRow],
) -> tuple[ClauseDecision, ...]:
    """The recount of `count_round`'s decisions from the public files: the room from the
    consent CSV's ballots, the affected groups from the published totals `groups` (module doc).
    The two agree exactly, also where a group is too small for its members' combinations of
    segments to be published (README, Anonymity).

    Raises:
        ValueError: a ballot with segments (the public file has none), or totals the ballots
            contradict (`charter_count.with_group_totals`).
    """
    if any(b.segments for b in ballots):
        raise ValueError("the ballots list segments: the groups come from their totals")
    decisions = count_round(charter, ballots, rule)
    totals: dict[str, dict[str, GroupCounts]] = {}
    for g in groups:
        totals.setdefault(g.item, {})[g.segment] = g.counts
    return with_group_totals(decisions, totals, rule)


def _answers(c: ConsentCounts) -> list[int]:
    return list(c.by)


def results_json(decisions: Sequence[ClauseDecision], rule: CharterRule) -> CharterResults:
    """The public record of a consent round's results. Keys in this order: `format`, `rule`
    (`block_percent`, `ratio`, `group_min`), `clauses`: per clause `clause`, `decision` (the
    category, SENT_BACK when no wording is adopted), `adopted` (the wording's item or null) and
    `wordings`: per wording `item`, `V`, `answers` (how many answered 1..5), `category`,
    `reasons`, `groups` (those blocking) and `affected`: per affected group that may block,
    `group`, its totals on the voters' true segments `V`, `support`, `change`, `block` (all
    null when suppressed: fewer than m answered; the groups CSV holds the others), `blocks`,
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
                                "support": None if g.suppressed else g.counts.S,
                                "change": None if g.suppressed else g.counts.C,
                                "block": None if g.suppressed else g.counts.B,
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
