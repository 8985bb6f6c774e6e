"""The ballot CSV and proposals CSV files: write them, and read them back with every problem
reported by line (`ballots.csv:7: mark: ...`).

Pure: strings in, strings out. Writers emit canonical text (`\\n` line endings, header first);
readers accept the UTF-8 byte order mark Excel puts in front of a saved file.

Spreadsheet safety (OWASP "CSV injection"): a cell a spreadsheet would run as a formula (it
starts with `=`, `+`, `-`, `@`, a tab or a carriage return) is written with a `'` in front, which
spreadsheets show as "this is text" and do not display. A cell that starts with `'` gets one too,
so the mapping is one-to-one and every reader here takes exactly one leading `'` off again
(`neutralise` / `restore`): a recount of exported files is exact. Ids never start with `'`
(`inputs.id_problem`), so an id cell that does is always a neutralised one.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from app.core.inputs import MAX_NUMBER_DIGITS, id_problem
from app.record.records import (
    MAX_ID,
    MeetingFile,
    Problems,
    ProposalFile,
    describe_error,
    group_problems,
    quote,
)
from app.rules.scales import AnswerScale, Problem
from app.rules.tally import Mark

BALLOT_HEADER = ("round", "voter", "channel", "segments", "proposal", "mark")
GROUP_HEADER = ("round", "group", "proposal", "voters", "want", "dont_want")
PROPOSAL_HEADER = ("id", "title", "description", "kind", "cost", "saving", "affected_groups")
_MARKS = frozenset(m.value for m in Mark)
# Another kind's answer (a scale value: "agree", "4"): a short word, never free text.
_ANSWER = re.compile(r"[a-z0-9_]{1,32}")


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """The cell as written to a CSV file: a `'` in front if a spreadsheet could take it for a
    formula, or if it already starts with `'` (so that `restore` is exact)."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) or cell.startswith("'") else cell


def restore(cell: str) -> str:
    """The cell `neutralise` was given: one leading `'` taken off."""
    return cell.removeprefix("'")


def _csv_records(text: str, problems: Problems) -> list[tuple[int, list[str]]]:
    """`(first line, cells)` of every non-blank record, cells `restore`d; a quoting error (or a
    field over the csv module's 128 KiB limit) stops the read with a problem on its line."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            if cells:
                records.append((start, [restore(c) for c in cells]))
            start = reader.line_num + 1
    except csv.Error as e:
        problems.add(reader.line_num, f"malformed CSV: {e}")
    return records


csv_records = _csv_records  # public: the keypad CSV import reads through it too


def _check_header(
    records: list[tuple[int, list[str]]], expected: Sequence[str], p: Problems
) -> None:
    """Report header problems (line 1) and raise: rows can't be read under a wrong header."""
    if not records:
        if not p.errors:
            p.add(1, f"empty file: the first line must be {','.join(expected)}")
        p.raise_if_any()
    line, cells = records[0]
    for i, name in enumerate(expected):
        if i >= len(cells):
            p.add(line, f"missing column {quote(name)}")
        elif cells[i] != name:
            p.add(line, f"column {i + 1} is {quote(cells[i])}, expected {quote(name)}")
    for extra in cells[len(expected) :]:
        p.add(line, f"unexpected column {quote(extra)}")
    p.raise_if_any()


def _write_csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([neutralise(str(cell)) for cell in row] for row in rows)
    return buf.getvalue()


# Public: the survey's files (survey_files.py) are read and written the same way.
check_header = _check_header
write_csv = _write_csv


@dataclass(frozen=True)
class BallotRow:
    """One answer of a voter's final ballot in a round, as exported for the recount: `mark`
    is the stored answer (a room vote's `tally.Mark` value, or another kind's scale value)
    and `proposal` the item it answers."""

    round: str
    voter: str
    channel: str
    segments: tuple[str, ...]
    proposal: str
    mark: str


def write_ballot_csv(rows: Iterable[BallotRow]) -> str:
    """The ballot CSV: header `round,voter,channel,segments,proposal,mark`, segments `;`-joined."""
    return _write_csv(
        BALLOT_HEADER,
        (
            [r.round, r.voter, r.channel, ";".join(r.segments), r.proposal, str(r.mark)]
            for r in rows
        ),
    )


def read_ballot_csv(
    text: str,
    meeting: MeetingFile,
    *,
    filename: str = "ballots.csv",
    other_rounds: Collection[str] = (),
    scales: Mapping[str, Mapping[str, AnswerScale]] | None = None,
) -> list[BallotRow]:
    """Parse a ballot CSV against its meeting.

    `scales`: the rounds of another activity kind whose items and scales are known (the
    recount's, `kind_rounds.OfflineRound.scales`, by round): there a row's item must be one
    of the round's and its answer one its scale takes, written as the scale stores it.

    `other_rounds`: the rounds of another activity kind (`chain.other_kind_rounds`: a Lab's
    ideas, a scale's items), whose items are not the meeting's proposals and whose answers
    are their scale's: there a row's item need only be an id and its answer a short word
    (`_ANSWER`), kept as written so the round's seal can be checked.

    Raises:
        RecordError: every malformed line with its number: wrong header (line 1), wrong number
            of fields, empty round/voter/channel, unknown proposal or segment, bad mark, a
            second row for the same (round, voter, proposal), or a voter whose segments or
            channel differ between rows of one round.
    """
    p = Problems(filename)
    records = _csv_records(text, p)
    _check_header(records, BALLOT_HEADER, p)
    segment_ids = {s.id for s in meeting.segments}
    proposal_ids = {pr.id for pr in meeting.proposals}
    first_mark: dict[tuple[str, str, str], int] = {}
    first_voter: dict[tuple[str, str], tuple[int, frozenset[str], str]] = {}
    rows: list[BallotRow] = []
    for line, cells in records[1:]:
        if len(cells) != len(BALLOT_HEADER):
            p.add(line, f"expected {len(BALLOT_HEADER)} fields, got {len(cells)}")
            continue
        round_, voter, channel, segments_cell, proposal, mark = cells
        segments = tuple(segments_cell.split(";")) if segments_cell else ()
        named = zip(BALLOT_HEADER[:3], cells[:3], strict=True)
        bad = [f"{name}: must not be empty" for name, value in named if not value]
        bad += [f"segments: {why}" for why in group_problems(segments, segment_ids)]
        if scales is not None and round_ in scales:
            scale = scales[round_].get(proposal)
            if scale is None:
                bad.append(f"proposal: {quote(proposal[:80])} is not an item of round {round_}")
            else:
                parsed = scale.parse(mark)
                if isinstance(parsed, Problem) or parsed != mark:
                    why = parsed.message(proposal[:80]) if isinstance(parsed, Problem) else ""
                    bad.append(
                        f"mark: not an answer to {quote(proposal[:80])}: {quote(mark[:80])}"
                        + (f" ({why})" if why else "")
                    )
        elif round_ in other_rounds:
            if id_problem(proposal) or len(proposal) > MAX_ID or not proposal:
                bad.append(f"proposal: not an item id: {quote(proposal[:80])}")
            if not _ANSWER.fullmatch(mark):
                bad.append(f"mark: not an answer: {quote(mark[:80])}")
        else:
            if proposal not in proposal_ids:
                bad.append(f"proposal: unknown proposal {quote(proposal)}")
            if mark not in _MARKS:
                bad.append(f"mark: must be want, dont_want or neutral, not {quote(mark)}")
        in_round = f"in round {quote(round_)}"
        seen = first_mark.setdefault((round_, voter, proposal), line)
        if seen != line:
            bad.append(
                f"voter {quote(voter)} already marked {quote(proposal)} {in_round} on line {seen}"
            )
        at, declared, first_channel = first_voter.setdefault(
            (round_, voter), (line, frozenset(segments), channel)
        )
        if declared != frozenset(segments):
            bad.append(f"voter {quote(voter)} has other segments on line {at} {in_round}")
        if first_channel != channel:
            bad.append(
                f"voter {quote(voter)} has channel {quote(first_channel)} on line {at} {in_round}"
            )
        for reason in bad:
            p.add(line, reason)
        if not bad:
            other = round_ in other_rounds or (scales is not None and round_ in scales)
            answer = mark if other else Mark(mark)
            rows.append(BallotRow(round_, voter, channel, segments, proposal, answer))
    p.raise_if_any()
    return rows


def rounds_not_room_votes(text: str) -> list[str]:
    """The rounds of a ballot CSV none of whose answers is a room vote's mark (WANT / DON'T
    WANT / NEUTRAL), in order of their first row: rounds of another activity kind, which
    `read_ballot_csv` can check only with their scales. (A room vote's round with a bad mark
    has good ones too: its rows are reported by line.) Reads what it can; a malformed file is
    left to `read_ballot_csv` to report."""
    records = _csv_records(text, Problems("-"))
    mark = len(BALLOT_HEADER) - 1
    room: dict[str, bool] = {}
    for _line, cells in records[1:]:
        if len(cells) == len(BALLOT_HEADER):
            room[cells[0]] = room.get(cells[0], False) or cells[mark] in _MARKS
    return [n for n, marked in room.items() if not marked]


@dataclass(frozen=True)
class GroupRow:
    """An affected group's totals on one proposal of a round (README, Anonymity): published only
    for a group with at least m active voters, in place of each voter's segments."""

    round: str
    group: str
    proposal: str
    voters: int
    want: int
    dont_want: int


def write_groups_csv(rows: Iterable[GroupRow]) -> str:
    """The groups CSV: header `round,group,proposal,voters,want,dont_want`."""
    return _write_csv(
        GROUP_HEADER,
        (
            [r.round, r.group, r.proposal, str(r.voters), str(r.want), str(r.dont_want)]
            for r in rows
        ),
    )


def ballot_cells(rows: Iterable[BallotRow]) -> list[list[str]]:
    """Ballot rows as the text cells their file holds (what a round's seal is taken over)."""
    return [
        [r.round, r.voter, r.channel, ";".join(r.segments), r.proposal, str(r.mark)] for r in rows
    ]


def group_cells(rows: Iterable[GroupRow]) -> list[list[str]]:
    """Group rows as the text cells their file holds (what a round's seal is taken over)."""
    return [
        [r.round, r.group, r.proposal, str(r.voters), str(r.want), str(r.dont_want)] for r in rows
    ]


_COUNT = re.compile(r"[0-9]{1,9}")


def read_groups_csv(
    text: str, meeting: MeetingFile, *, filename: str = "groups.csv"
) -> list[GroupRow]:
    """Parse a groups CSV against its meeting.

    Raises:
        RecordError: every malformed line with its number: wrong header, wrong number of
            fields, empty round, a group that is not a protecting affected group of the
            proposal, a count that is not a whole number, WANT + DON'T WANT over the voters,
            fewer voters than the rule's m (such a group is never published), a second row for
            the same (round, group, proposal), or a group whose voters differ within a round.
    """
    p = Problems(filename)
    records = _csv_records(text, p)
    _check_header(records, GROUP_HEADER, p)
    protecting = {s.id for s in meeting.segments if s.protects}
    affected = {pr.id: set(pr.affected_groups) & protecting for pr in meeting.proposals}
    first_row: dict[tuple[str, str, str], int] = {}
    first_voters: dict[tuple[str, str], tuple[int, int]] = {}
    rows: list[GroupRow] = []
    for line, cells in records[1:]:
        if len(cells) != len(GROUP_HEADER):
            p.add(line, f"expected {len(GROUP_HEADER)} fields, got {len(cells)}")
            continue
        round_, group, proposal = cells[:3]
        bad = [] if round_ else ["round: must not be empty"]
        if proposal not in affected:
            bad.append(f"proposal: unknown proposal {quote(proposal)}")
        elif group not in affected[proposal]:
            bad.append(
                f"group: {quote(group)} is not an affected group of {quote(proposal)} "
                "that may protect"
            )
        counts: list[int] = []
        for name, cell in zip(GROUP_HEADER[3:], cells[3:], strict=True):
            if _COUNT.fullmatch(cell):
                counts.append(int(cell))
            else:
                bad.append(f"{name}: must be a whole number, not {quote(cell)}")
        if len(counts) == 3:
            voters, want, dont_want = counts
            if want + dont_want > voters:
                bad.append("want + dont_want must not exceed voters")
            if voters < meeting.rule.group_min:
                bad.append(
                    f"voters: a group with fewer than {meeting.rule.group_min} voters "
                    "(the rule's m) is never published"
                )
            at, first = first_voters.setdefault((round_, group), (line, voters))
            if first != voters:
                bad.append(f"group {quote(group)} has {first} voters on line {at}")
        seen = first_row.setdefault((round_, group, proposal), line)
        if seen != line:
            bad.append(f"{quote(group)} on {quote(proposal)} is already on line {seen}")
        for reason in bad:
            p.add(line, reason)
        if not bad:
            rows.append(GroupRow(round_, group, proposal, *counts))
    p.raise_if_any()
    return rows


_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(?=[eE]))([eE][+-]?[0-9]+)?")


def _parse_amount(cell: str) -> int | float | str | None:
    """An amount cell as int, float or None (empty); anything else (also a number too long to
    be an amount, or beyond floating point) is returned unchanged."""
    if not cell:
        return None
    if len(cell) > 2 * MAX_NUMBER_DIGITS:
        return cell  # int() would refuse 4,300 digits with a ValueError; no amount is this long
    if _INT.fullmatch(cell):
        return int(cell)
    if _FLOAT.fullmatch(cell):
        number = float(cell)
        return number if math.isfinite(number) else cell
    return cell


def write_proposals_csv(proposals: Iterable[ProposalFile]) -> str:
    """The proposals CSV: header `id,title,description,kind,cost,saving,affected_groups`."""
    rows = []
    for pr in proposals:
        amounts = ["" if a is None else str(a) for a in (pr.cost, pr.saving)]
        groups = ";".join(pr.affected_groups)
        rows.append([pr.id, pr.title, pr.description, pr.kind, *amounts, groups])
    return _write_csv(PROPOSAL_HEADER, rows)


def read_proposals_csv(
    text: str, segment_ids: Collection[str], *, filename: str = "proposals.csv"
) -> list[ProposalFile]:
    """Parse a proposals CSV; empty cost/saving cells are null, affected groups `;`-joined.

    Raises:
        RecordError: every malformed line with its number (header problems are line 1).
    """
    p = Problems(filename)
    records = _csv_records(text, p)
    _check_header(records, PROPOSAL_HEADER, p)
    first_line: dict[str, int] = {}
    proposals: list[ProposalFile] = []
    for line, cells in records[1:]:
        if len(cells) != len(PROPOSAL_HEADER):
            p.add(line, f"expected {len(PROPOSAL_HEADER)} fields, got {len(cells)}")
            continue
        data: dict[str, object] = dict(zip(PROPOSAL_HEADER, cells, strict=True))
        groups = cells[6].split(";") if cells[6] else []
        bad = [f"affected_groups: {why}" for why in group_problems(groups, segment_ids)]
        for name in ("cost", "saving"):
            data[name] = amount = _parse_amount(cells[PROPOSAL_HEADER.index(name)])
            if isinstance(amount, str):
                bad.append(f"{name}: must be a number or empty, not {quote(amount)}")
                data[name] = None
        seen = first_line.setdefault(cells[0], line)
        if seen != line:
            bad.append(f"id: duplicate id {quote(cells[0])} (first on line {seen})")
        try:
            proposal = ProposalFile.model_validate({**data, "affected_groups": groups}, strict=True)
        except ValidationError as e:
            bad += [describe_error(err) for err in e.errors()]
        for reason in bad:
            p.add(line, reason)
        if not bad:
            proposals.append(proposal)  # bound: no ValidationError, or `bad` would be non-empty
    p.raise_if_any()
    return proposals
