"""The Co-Production Lab's public files: the ideas CSV, the vote matrix CSV, the groups CSV
and the one JSON encoding of its results (issue 16).

Pure: strings in, strings out, cells written and read as every Covote CSV is
(`csvfiles.neutralise` / `restore`, problems by line: `votes.csv:7: rating: ...`).

**Ideas CSV**, header `key,challenge,kind,status,merged_into,text,text_cy,supporters,helpers,
affected`: one row per idea, in key order. `kind` an `IdeaKind`, `status` an `IdeaStatus`;
`merged_into` names the idea a MERGED one was merged into (empty otherwise); `text` and
`text_cy` the idea in English and Welsh (`text_cy` may be empty). A HIDDEN idea's texts are
withheld (empty): it was hidden for a reason, so the file says only that it existed.
`supporters` and `helpers` are counts, never names. `affected` lists, joined by `;`, the
segments the idea affects that may object (the server leaves out segments that never protect).

**Vote matrix CSV**, header `voter,segments,idea,rating`: one row per rating, by voter then
idea. `voter` is the voter's pseudonym (`anonymity.public_pseudonym`, as ballots use), `rating`
a `Rating`. The segments that may object to some approved idea (those the ideas file lists as
`affected`: `lab_tally.withheld_segments`) are never written here: the groups file gives their
totals. The other segments are protected as the survey's responses are
(`survey_files.protected_cells`): a combination of segments held by fewer than m voters is
written without segments, and while the voters without segments number 1 to m - 1 the
smallest combination joins them, so nobody who knows a voter's segments finds them alone.

**Groups CSV**, header `idea,segment,raters,agree,disagree`: the published group totals, as
the room vote's groups file. One row per approved idea and withheld segment with at least m
raters of it, counted on the voters' TRUE segments (`lab_tally.group_totals`); a segment with fewer
is left out, and can never object (that needs m disagreeing). Minority protection
(`rejected_by`) is decided on these totals, so coarsening never silences an affected
segment. They are not beside the segment on voters' rows: totals of true segments next to
coarsened rows would give away, by subtraction, how the few coarsened voters rated.

**Results.** The published results are `lab_tally.tabulate` of the approved ideas and of
`public_voters` (the protected voters, exactly what the vote file holds) with the group totals
of the true voters, the meeting's rule and seed (`publish` makes all three);
`covote lab tabulate ideas.csv votes.csv --groups groups.csv` reads the three files and prints
`dumps_lab_results` of the same call, so an observer gets the server's JSON byte for byte.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass

from pydantic_core import PydanticCustomError

from app.core.inputs import clean_text
from app.record.csvfiles import check_header, csv_records, write_csv
from app.record.records import Problems, check_id, quote
from app.record.survey_files import protected_cells
from app.rules import lab, lab_json, lab_tally, tally
from app.rules.survey_weights import Cell

IDEAS_HEADER = (
    "key",
    "challenge",
    "kind",
    "status",
    "merged_into",
    "text",
    "text_cy",
    "supporters",
    "helpers",
    "affected",
)
VOTES_HEADER = ("voter", "segments", "idea", "rating")
GROUPS_HEADER = ("idea", "segment", "raters", "agree", "disagree")
MAX_COUNT = 10**6  # supporters or helpers of one idea: more than any council's population turns up
MAX_IDEAS = 10_000  # a Lab has hundreds; a file with more is not one
MAX_VOTE_ROWS = 5_000_000  # 500 voters x 300 ideas is 150,000; room for far larger Labs
MAX_GROUP_ROWS = 1_000_000  # MAX_IDEAS ideas x 100 affected segments each
_COUNT = re.compile(r"[0-9]{1,7}")
_ECHO = 80  # characters of a refused cell quoted in a message

dumps_lab_results = lab_json.dumps_lab_results  # the one encoding, for callers of the record layer


@dataclass(frozen=True, slots=True)
class IdeaRow:
    """One idea as the ideas file holds it."""

    key: str
    challenge: str
    kind: lab.IdeaKind
    status: lab.IdeaStatus
    merged_into: str
    text: str
    text_cy: str
    supporters: int
    helpers: int
    affected: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GroupRow:
    """An affected segment's totals on one idea, counted on the voters' true segments: everyone
    in it who rated the idea (`raters`, passes included), and who agreed and disagreed."""

    idea: str
    segment: str
    raters: int
    agree: int
    disagree: int


def _is_id(value: str) -> bool:
    """A key, pseudonym or segment id (`records.check_id`)."""
    try:
        check_id(value)
    except PydanticCustomError:
        return False
    return True


# --- protection ---------------------------------------------------------------------------


def public_voters(
    voters: Iterable[lab.LabVoter], m: int, *, withheld: Set[str] = frozenset()
) -> list[lab.LabVoter]:
    """The voters as the vote file publishes them (module doc): those with at least one rating,
    by pseudonym, the `withheld` segments (`lab_tally.withheld_segments`: the groups file gives
    their totals) taken out, and the rest protected so every combination written holds m
    voters."""
    rated = [
        lab.LabVoter(v.pseudonym, tuple(s for s in v.segments if s not in withheld), v.ratings)
        for v in voters
        if v.ratings
    ]
    sizes = Counter[Cell]((None, frozenset(v.segments)) for v in rated)
    cells = protected_cells(sizes, m)
    return [
        lab.LabVoter(
            v.pseudonym,
            tuple(sorted(cells[(None, frozenset(v.segments))][1])),
            dict(sorted(v.ratings.items())),
        )
        for v in sorted(rated, key=lambda v: v.pseudonym)
    ]


# --- writing ------------------------------------------------------------------------------


def write_ideas_csv(rows: Iterable[IdeaRow]) -> str:
    """The ideas CSV (module doc), ideas by key; a hidden idea's texts withheld."""
    cells = []
    for r in sorted(rows, key=lambda r: r.key):
        hidden = r.status is lab.IdeaStatus.HIDDEN
        cells.append(
            [
                r.key,
                r.challenge,
                r.kind.value,
                r.status.value,
                r.merged_into,
                "" if hidden else r.text,
                "" if hidden else r.text_cy,
                str(r.supporters),
                str(r.helpers),
                ";".join(sorted(set(r.affected))),
            ]
        )
    return write_csv(IDEAS_HEADER, cells)


def write_votes_csv(voters: Iterable[lab.LabVoter]) -> str:
    """The vote matrix CSV of `public_voters`' voters (call that first: this writes the
    segments it is given), one row per rating, by voter then idea."""
    cells = []
    for v in sorted(voters, key=lambda v: v.pseudonym):
        segments = ";".join(sorted(set(v.segments)))
        for key, rating in sorted(v.ratings.items()):
            cells.append([v.pseudonym, segments, key, lab.Rating(rating).value])
    return write_csv(VOTES_HEADER, cells)


def group_rows(totals: lab.GroupTotals) -> list[GroupRow]:
    """The groups CSV's rows of `lab_tally.group_totals` (of the TRUE voters), by idea then
    segment."""
    return [
        GroupRow(k, seg, c.V, c.W, c.D)
        for k, by_segment in sorted(totals.items())
        for seg, c in sorted(by_segment.items())
    ]


def write_groups_csv(rows: Iterable[GroupRow]) -> str:
    """The groups CSV (module doc), rows by idea then segment."""
    cells = [
        [r.idea, r.segment, str(r.raters), str(r.agree), str(r.disagree)]
        for r in sorted(rows, key=lambda r: (r.idea, r.segment))
    ]
    return write_csv(GROUPS_HEADER, cells)


# --- reading the ideas --------------------------------------------------------------------


def _text_problems(name: str, value: str, limit: int, *, required: bool) -> list[str]:
    if required and not value:
        return [f"{name}: must not be empty"]
    if len(value) > limit:
        return [f"{name}: must be at most {limit} characters, not {len(value)}"]
    if clean_text(value) != value or value != value.strip():
        return [f"{name}: has control or invisible characters, or spaces around it"]
    return []


def _segments_problems(name: str, cell: str) -> list[str]:
    if not cell:
        return []
    parts = cell.split(";")
    bad = [f"{name}: {quote(s[:_ECHO])} is not a segment id" for s in parts if not _is_id(s)]
    if len(set(parts)) != len(parts):
        bad.append(f"{name}: a segment is listed twice")
    return bad


def _idea_problems(cells: Sequence[str]) -> list[str]:
    key, challenge, kind, status, merged_into, text, text_cy, supporters, helpers, affected = cells
    bad = []
    if not _is_id(key):
        bad.append(f"key: {quote(key[:_ECHO])} is not an idea key")
    bad += _text_problems("challenge", challenge, lab.CHALLENGE_MAX, required=True)
    if kind not in set(lab.IdeaKind):
        bad.append(f"kind: must be one of {', '.join(lab.IdeaKind)}, not {quote(kind[:_ECHO])}")
    if status not in set(lab.IdeaStatus):
        kinds = ", ".join(lab.IdeaStatus)
        bad.append(f"status: must be one of {kinds}, not {quote(status[:_ECHO])}")
    elif (status == lab.IdeaStatus.MERGED) != bool(merged_into):
        bad.append("merged_into: a merged idea names the idea it was merged into, no other does")
    elif merged_into == key:
        bad.append("merged_into: an idea cannot be merged into itself")
    hidden = status == lab.IdeaStatus.HIDDEN
    if hidden and (text or text_cy):
        bad.append("text: a hidden idea's texts are withheld (empty)")
    bad += _text_problems("text", text, lab.IDEA_TEXT_MAX, required=not hidden)
    bad += _text_problems("text_cy", text_cy, lab.IDEA_TEXT_MAX, required=False)
    for name, cell in (("supporters", supporters), ("helpers", helpers)):
        if not _COUNT.fullmatch(cell) or int(cell) > MAX_COUNT:
            bad.append(f"{name}: must be a whole number from 0 to {MAX_COUNT}")
    bad += _segments_problems("affected", affected)
    return bad


def read_ideas_csv(text: str, *, filename: str = "ideas.csv") -> list[IdeaRow]:
    """Parse an ideas CSV, ideas in file order.

    Raises:
        RecordError: every malformed line with its number: wrong header (line 1), wrong number
            of fields, a bad key, kind, status, count or segment id, a text too long or empty
            where required, a repeated key, more than `MAX_IDEAS` ideas, a merge into an
            idea the file does not have, or merges that go round in a circle.
    """
    p = Problems(filename)
    records = csv_records(text, p)
    check_header(records, IDEAS_HEADER, p)
    if len(records) - 1 > MAX_IDEAS:
        p.add(None, f"more than {MAX_IDEAS} ideas: not a Lab's ideas file")
        p.raise_if_any()
    out: list[IdeaRow] = []
    lines: dict[str, int] = {}
    for line, cells in records[1:]:
        if len(cells) != len(IDEAS_HEADER):
            p.add(line, f"expected {len(IDEAS_HEADER)} fields, got {len(cells)}")
            continue
        bad = _idea_problems(cells)
        if cells[0] in lines:
            bad.append(f"key: {quote(cells[0][:_ECHO])} is already on line {lines[cells[0]]}")
        for reason in bad:
            p.add(line, reason)
        lines.setdefault(cells[0], line)
        if bad:
            continue
        key, challenge, kind, status, merged_into, txt, txt_cy, supporters, helpers, aff = cells
        out.append(
            IdeaRow(
                key=key,
                challenge=challenge,
                kind=lab.IdeaKind(kind),
                status=lab.IdeaStatus(status),
                merged_into=merged_into,
                text=txt,
                text_cy=txt_cy,
                supporters=int(supporters),
                helpers=int(helpers),
                affected=tuple(aff.split(";")) if aff else (),
            )
        )
    into = {row.key: row.merged_into for row in out if row.merged_into}
    for row in out:
        if row.merged_into and row.merged_into not in lines:
            p.add(lines[row.key], f"merged_into: no idea {quote(row.merged_into[:_ECHO])}")
        elif row.merged_into and _merges_back(row.key, into):
            p.add(lines[row.key], "merged_into: the merges go round in a circle")
    p.raise_if_any()
    return out


def _merges_back(key: str, into: dict[str, str]) -> bool:
    """Whether following merges from `key` comes back to it (a merge chain is fine)."""
    seen = {key}
    at = into.get(key)
    while at is not None:
        if at in seen:
            return True
        seen.add(at)
        at = into.get(at)
    return False


# --- reading the votes --------------------------------------------------------------------


def _vote_problems(cells: Sequence[str], ideas: set[str]) -> list[str]:
    voter, segments, idea, rating = cells
    bad = []
    if not _is_id(voter):
        bad.append(f"voter: {quote(voter[:_ECHO])} is not a pseudonym")
    bad += _segments_problems("segments", segments)
    if idea not in ideas:
        bad.append(f"idea: not an idea of the ideas file: {quote(idea[:_ECHO])}")
    if rating not in set(lab.Rating):
        ratings = ", ".join(lab.Rating)
        bad.append(f"rating: must be one of {ratings}, not {quote(rating[:_ECHO])}")
    return bad


def read_votes_csv(
    text: str, ideas: Sequence[IdeaRow], *, filename: str = "votes.csv"
) -> list[lab.LabVoter]:
    """Parse a vote matrix CSV against its ideas file, voters in order of first appearance.

    Raises:
        RecordError: every malformed line with its number: wrong header (line 1), wrong number
            of fields, a bad pseudonym or segment id, an idea the ideas file does not have, a
            rating that is not one, a voter rating an idea twice, a voter whose segments differ
            between rows, or more than `MAX_VOTE_ROWS` rows.
    """
    p = Problems(filename)
    records = csv_records(text, p)
    check_header(records, VOTES_HEADER, p)
    if len(records) - 1 > MAX_VOTE_ROWS:
        p.add(None, f"more than {MAX_VOTE_ROWS} ratings: not a Lab's vote file")
        p.raise_if_any()
    keys = {i.key for i in ideas}
    first: dict[str, tuple[int, str]] = {}
    seen: dict[tuple[str, str], int] = {}
    ratings: dict[str, dict[str, lab.Rating]] = {}
    for line, cells in records[1:]:
        if len(cells) != len(VOTES_HEADER):
            p.add(line, f"expected {len(VOTES_HEADER)} fields, got {len(cells)}")
            continue
        bad = _vote_problems(cells, keys)
        voter, segments, idea, rating = cells
        at, declared = first.setdefault(voter, (line, segments))
        if set(declared.split(";")) != set(segments.split(";")):
            bad.append(f"voter {quote(voter[:_ECHO])} has other segments on line {at}")
        earlier = seen.setdefault((voter, idea), line)
        if earlier != line:
            bad.append(
                f"voter {quote(voter[:_ECHO])} rated {quote(idea[:_ECHO])} on line {earlier}"
            )
        for reason in bad:
            p.add(line, reason)
        if not bad:
            ratings.setdefault(voter, {})[idea] = lab.Rating(rating)
    p.raise_if_any()
    return [
        lab.LabVoter(name, tuple(first[name][1].split(";")) if first[name][1] else (), marks)
        for name, marks in ratings.items()
    ]


# --- reading the group totals -------------------------------------------------------------


def read_groups_csv(
    text: str, ideas: Sequence[IdeaRow], m: int, *, filename: str = "groups.csv"
) -> list[GroupRow]:
    """Parse a groups CSV against its ideas file and the meeting's m, rows in file order.

    Raises:
        RecordError: every malformed line with its number: wrong header (line 1), wrong number
            of fields, an idea that is not an approved idea of the ideas file, a segment that
            no approved idea lists as `affected`, a count that is not a whole number up to
            `MAX_COUNT`, agree + disagree over the raters, fewer than m raters (such a segment
            is never published), a second row for the same idea and segment, or more than
            `MAX_GROUP_ROWS` rows.
    """
    p = Problems(filename)
    records = csv_records(text, p)
    check_header(records, GROUPS_HEADER, p)
    if len(records) - 1 > MAX_GROUP_ROWS:
        p.add(None, f"more than {MAX_GROUP_ROWS} rows: not a Lab's groups file")
        p.raise_if_any()
    approved = tally_input(ideas)
    keys = {i.key for i in approved}
    withheld = lab_tally.withheld_segments(approved, None)
    seen: dict[tuple[str, str], int] = {}
    rows: list[GroupRow] = []
    for line, cells in records[1:]:
        if len(cells) != len(GROUPS_HEADER):
            p.add(line, f"expected {len(GROUPS_HEADER)} fields, got {len(cells)}")
            continue
        idea, segment = cells[:2]
        bad = []
        if idea not in keys:
            bad.append(f"idea: not an approved idea of the ideas file: {quote(idea[:_ECHO])}")
        if segment not in withheld:
            bad.append(f"segment: {quote(segment[:_ECHO])} is no approved idea's affected segment")
        counts: list[int] = []
        for name, cell in zip(GROUPS_HEADER[2:], cells[2:], strict=True):
            if _COUNT.fullmatch(cell) and int(cell) <= MAX_COUNT:
                counts.append(int(cell))
            else:
                bad.append(f"{name}: must be a whole number from 0 to {MAX_COUNT}")
        if len(counts) == 3:
            raters, agree, disagree = counts
            if agree + disagree > raters:
                bad.append("agree + disagree must not exceed raters")
            if raters < m:
                bad.append(f"raters: a segment with fewer than {m} raters (m) is never published")
        earlier = seen.setdefault((idea, segment), line)
        if earlier != line:
            bad.append(
                f"{quote(segment[:_ECHO])} on {quote(idea[:_ECHO])} is already on line {earlier}"
            )
        for reason in bad:
            p.add(line, reason)
        if not bad:
            rows.append(GroupRow(idea, segment, *counts))
    p.raise_if_any()
    return rows


def totals_of(rows: Iterable[GroupRow]) -> dict[str, dict[str, tally.Counts]]:
    """The group totals (`lab.GroupTotals`) a groups file's rows give."""
    out: dict[str, dict[str, tally.Counts]] = {}
    for r in rows:
        out.setdefault(r.idea, {})[r.segment] = tally.Counts(V=r.raters, W=r.agree, D=r.disagree)
    return out


# --- results ------------------------------------------------------------------------------


def tally_input(ideas: Sequence[IdeaRow]) -> list[lab.LabIdea]:
    """The ideas `lab_tally.tabulate` counts: the approved ones."""
    return [
        lab.LabIdea(i.key, i.challenge, i.affected)
        for i in ideas
        if i.status is lab.IdeaStatus.APPROVED
    ]


def tabulate_files(
    ideas: Sequence[IdeaRow],
    voters: Sequence[lab.LabVoter],
    m: int,
    ratio: int,
    seed: int,
    *,
    groups: Sequence[GroupRow] | None = None,
) -> lab.LabResult:
    """The Lab's results from its public files (what `covote lab tabulate` prints).

    With `groups` (the groups CSV), `rejected_by` is decided on its totals, as the server
    decided it on the true segments; without, on the vote file's (coarsened) segments.

    Raises:
        ValueError: group totals the files contradict (`lab_tally.tabulate`).
    """
    rule = tally.Rule(ratio=ratio, group_min=m)
    totals = None if groups is None else totals_of(groups)
    return lab_tally.tabulate(tally_input(ideas), voters, rule, seed=seed, group_totals=totals)


@dataclass(frozen=True)
class Published:
    """What the server publishes of a Lab: the results (`result`, whose `rejected_by` is the
    decision on the voters' true segments), the vote file's voters and the groups file's rows."""

    result: lab.LabResult
    voters: list[lab.LabVoter]
    groups: list[GroupRow]


def publish(
    ideas: Sequence[lab.LabIdea],
    voters: Sequence[lab.LabVoter],
    rule: tally.Rule,
    *,
    seed: int = 0,
    protecting: frozenset[str] | None = None,
) -> Published:
    """The Lab's public record from the approved `ideas` and the voters with their TRUE
    segments: the group totals counted on those (`lab_tally.group_totals`), the voters protected
    (`public_voters`) and `lab_tally.tabulate` of the protected voters with those totals. The
    ideas file's `affected` must hold the same segments (those that may object) for
    `covote lab tabulate` to print `dumps_lab_results(result)` byte for byte.

    Raises:
        ValueError: a repeated idea key or pseudonym, or a seed outside its range.
    """
    ideas = [
        lab.LabIdea(
            i.key,
            i.challenge,
            tuple(sorted({s for s in i.affected if protecting is None or s in protecting})),
        )
        for i in ideas
    ]
    totals = lab_tally.group_totals(ideas, voters, rule)
    withheld = lab_tally.withheld_segments(ideas, None)
    public = public_voters(voters, rule.group_min, withheld=withheld)
    result = lab_tally.tabulate(ideas, public, rule, seed=seed, group_totals=totals)
    return Published(result=result, voters=public, groups=group_rows(totals))
