"""The public record formats: meeting JSON, ballot CSV, proposals CSV and the result JSON.

Contract:

* Pure: every function takes and returns strings or plain values; the caller does the file I/O.
* Readers report every problem of a file (up to `MAX_ERRORS`) in one `RecordError`, each with the
  file name and, where the format has lines, the line number: `ballots.csv:7: mark: ...`.
* Writers emit canonical text (`\\n` line endings, stable key order, trailing newline), so
  writing what was read gives the same bytes back for files written by this module.
* CSV readers accept the UTF-8 byte order mark that Excel puts in front of a saved file.
* `recount` reproduces a meeting's results from its ballot CSV with the same `app.tally` code the
  projector runs; `dumps_result` is the one JSON encoding for results, so both are byte-identical.
* `money_record` adds a budget round's funding (`app.budget`, section 3) and a savings target's
  cuts (section 2) to a round's result; the projector and `recount` both call it.
"""

from __future__ import annotations

import copy
import csv
import functools
import io
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from app import budget as mes
from app.tally import Mark, ProposalSpec, RoundResult, VoterBallot, count_round, result_to_json
from app.tally import Rule as TallyRule

MAX_ERRORS = 50  # past this the file is probably the wrong one; more lines would bury the first
MAX_ID = 64  # ids end up in CSV cells, URLs and projector labels
MAX_TITLE = 200  # a title must fit a projector line and a keypad handout row
MAX_CURRENCY = 8  # "GBP", "£", "zł": a label next to amounts, not a free text

BALLOT_HEADER = ("round", "voter", "channel", "segments", "proposal", "mark")
PROPOSAL_HEADER = ("id", "title", "description", "kind", "cost", "saving", "affected_groups")
_MARKS = frozenset(m.value for m in Mark)


class RecordError(ValueError):
    """A record file is malformed. `errors` lists every problem found as `(line, reason)`.

    `line` and `reason` are the first problem's; `line` is None where the format has no lines
    (a JSON field) or the problem concerns the whole file. `omitted` counts problems past
    `MAX_ERRORS` that were not kept.
    """

    def __init__(
        self, filename: str, errors: Sequence[tuple[int | None, str]], *, omitted: int = 0
    ) -> None:
        if not errors:
            raise ValueError("RecordError needs at least one problem")
        self.filename = filename
        self.errors: list[tuple[int | None, str]] = list(errors)
        self.line, self.reason = self.errors[0]
        self.omitted = omitted
        super().__init__(filename, self.errors)

    def __str__(self) -> str:
        where = [self.filename if n is None else f"{self.filename}:{n}" for n, _ in self.errors]
        lines = [f"{at}: {reason}" for at, (_, reason) in zip(where, self.errors, strict=True)]
        if self.omitted:
            lines.append(f"{self.filename}: ... and {self.omitted} more problems")
        return "\n".join(lines)


class _Problems:
    """Collects a file's problems, keeping the first `MAX_ERRORS`."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.errors: list[tuple[int | None, str]] = []
        self.omitted = 0

    def add(self, line: int | None, reason: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append((line, reason))
        else:
            self.omitted += 1

    def raise_if_any(self) -> None:
        if self.errors:
            raise RecordError(self.filename, self.errors, omitted=self.omitted)


def _q(value: str) -> str:
    """Quote a value from the file for a message, escaping what would confuse a terminal."""
    return json.dumps(value, ensure_ascii=False)


# --- meeting JSON ------------------------------------------------------------------------


def _check_id(value: str) -> str:
    if not value:
        raise PydanticCustomError("id", "must not be empty")
    if len(value) > MAX_ID:
        raise PydanticCustomError("id", f"must be at most {MAX_ID} characters")
    if value != value.strip():
        raise PydanticCustomError("id", "must not start or end with a space")
    if ";" in value or "," in value:
        raise PydanticCustomError("id", 'must not contain ";" or ","')
    if any(ord(c) < 32 for c in value):
        raise PydanticCustomError("id", "must not contain control characters")
    return value


def _check_title(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("title", "must not be empty")
    if len(value) > MAX_TITLE:
        raise PydanticCustomError("title", f"must be at most {MAX_TITLE} characters")
    return value


def _check_amount(value: object) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("amount", "must be a number or null")
    if not math.isfinite(value):
        raise PydanticCustomError("amount", "must be a finite number")
    if value < 0:
        raise PydanticCustomError("amount", "must not be negative")
    return value


def _check_pot(value: object) -> int | float:
    if value is None:
        raise PydanticCustomError("amount", "must be a number")
    checked = _check_amount(value)
    assert checked is not None
    return checked


def _check_currency(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("currency", "must not be empty")
    if len(value) > MAX_CURRENCY:
        raise PydanticCustomError("currency", f"must be at most {MAX_CURRENCY} characters")
    if value != value.strip():
        raise PydanticCustomError("currency", "must not start or end with a space")
    if any(ord(c) < 32 or c.isdigit() for c in value):
        raise PydanticCustomError("currency", "must not contain digits or control characters")
    return value


_LOCALE = re.compile(r"[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")


def _translations(*fields: str) -> Callable[[object], dict[str, dict[str, str]]]:
    """`{"cy": {"title": "...", ...}}`: a meeting's own texts in other languages (only `fields`).

    The pages show the text in the attendee's language when the file gives one, else the
    English. Blank texts are dropped; titles and labels obey the same limits as the originals.
    """

    def check(value: object) -> dict[str, dict[str, str]]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise PydanticCustomError(
                "translations", 'must be an object such as {"cy": {"title": "..."}}'
            )
        out: dict[str, dict[str, str]] = {}
        for locale, texts in value.items():
            if not isinstance(locale, str) or not _LOCALE.fullmatch(locale):
                raise PydanticCustomError(
                    "translations", f'{_q(str(locale))} is not a language code such as "cy"'
                )
            if not isinstance(texts, dict):
                raise PydanticCustomError("translations", f"{locale}: must be an object")
            unknown = sorted(str(k) for k in texts if k not in fields)
            if unknown:
                raise PydanticCustomError(
                    "translations",
                    f"{locale}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(fields)})",
                )
            kept: dict[str, str] = {}
            for name, text in texts.items():
                if not isinstance(text, str):
                    raise PydanticCustomError("translations", f"{locale}.{name}: must be text")
                if name in ("title", "label") and len(text) > MAX_TITLE:
                    raise PydanticCustomError(
                        "translations", f"{locale}.{name}: must be at most {MAX_TITLE} characters"
                    )
                if text.strip():
                    kept[name] = text
            if kept:
                out[locale] = kept
        return out

    return check


Id = Annotated[str, AfterValidator(_check_id)]
Title = Annotated[str, AfterValidator(_check_title)]
Amount = Annotated[int | float | None, PlainValidator(_check_amount)]
Pot = Annotated[int | float, PlainValidator(_check_pot)]
Currency = Annotated[str, AfterValidator(_check_currency)]
Texts = dict[str, dict[str, str]]
MeetingTexts = Annotated[Texts, PlainValidator(_translations("title"))]
SegmentTexts = Annotated[Texts, PlainValidator(_translations("label"))]
ProposalTexts = Annotated[Texts, PlainValidator(_translations("title", "description"))]


class RuleFile(BaseModel):
    """The rule's parameters (R and m of voting-rule.md section 2)."""

    model_config = ConfigDict(extra="ignore")

    ratio: Annotated[int, Field(ge=1)] = 2
    group_min: Annotated[int, Field(ge=1)] = 5

    def to_rule(self) -> TallyRule:
        """The `app.tally.Rule` with these parameters."""
        return TallyRule(ratio=self.ratio, group_min=self.group_min)


class BudgetFile(BaseModel):
    """A budget meeting's pot (voting-rule.md section 3): `fund` proposals with a cost share it
    by the Method of Equal Shares with the given completion. Amounts are best kept in whole
    currency units: Add1 raises every voter's share one unit at a time."""

    model_config = ConfigDict(extra="ignore")

    pot: Pot
    currency: Currency
    completion: Literal["add1", "add1+greedy", "none"] = "add1"


class SegmentFile(BaseModel):
    """A segment voters may declare; `protects: false` means "never protects" (e.g. staff)."""

    model_config = ConfigDict(extra="ignore")

    id: Id
    label: Title
    protects: bool
    translations: SegmentTexts = Field(default_factory=dict)


class ProposalFile(BaseModel):
    """A proposal, worded so that WANT means keep it (`keep`) or fund it (`fund`)."""

    model_config = ConfigDict(extra="ignore")

    id: Id
    title: Title
    description: str = ""
    kind: Literal["keep", "fund"]
    affected_groups: list[str] = Field(default_factory=list)
    cost: Amount = None
    saving: Amount = None
    translations: ProposalTexts = Field(default_factory=dict)


class MeetingFile(BaseModel):
    """A meeting. An empty `tie_break` (absent, null or `[]`) means the proposal order.

    `budget` (a pot shared by the `fund` proposals with a cost) and `savings_target` (a total
    the accepted cuts of `keep` proposals with a saving should reach) are null when absent.
    Unknown keys are ignored, so later versions may add some; `dump_meeting` drops them.
    """

    model_config = ConfigDict(extra="ignore")

    title: Title
    rule: RuleFile = Field(default_factory=RuleFile)
    budget: BudgetFile | None = None
    savings_target: Amount = None
    segments: list[SegmentFile] = Field(default_factory=list)
    proposals: list[ProposalFile]
    tie_break: list[str] = Field(default_factory=list)
    results_hidden: bool = True
    translations: MeetingTexts = Field(default_factory=dict)

    @field_validator("tie_break", mode="before")
    @classmethod
    def _null_tie_break(cls, value: object) -> object:
        return [] if value is None else value

    @model_validator(mode="after")
    def _check_references(self, info: ValidationInfo) -> MeetingFile:
        problems = _reference_problems(self)
        sink = info.context.get("problems") if isinstance(info.context, dict) else None
        if problems and isinstance(sink, list):
            sink.extend(problems)
        elif problems:
            raise ValueError("; ".join(problems))
        return self


def _group_problems(groups: Sequence[str], segment_ids: Collection[str]) -> list[str]:
    """What is wrong with a list of segment ids: empty, unknown or repeated ids."""
    found: list[str] = []
    for j, g in enumerate(groups):
        if not g:
            found.append("empty segment id")
        elif g not in segment_ids:
            found.append(f"unknown segment {_q(g)}")
        elif g in groups[:j]:
            found.append(f"segment {_q(g)} is listed twice")
    return found


def _reference_problems(m: MeetingFile) -> list[str]:
    found: list[str] = []
    for name, items in (("segments", m.segments), ("proposals", m.proposals)):
        ids = [item.id for item in items]
        for i, item_id in enumerate(ids):
            if item_id in ids[:i]:
                found.append(f"{name}[{i}].id: duplicate id {_q(item_id)}")
    segment_ids = {s.id for s in m.segments}
    for i, p in enumerate(m.proposals):
        found += [
            f"proposals[{i}].affected_groups: {r}"
            for r in _group_problems(p.affected_groups, segment_ids)
        ]
    if m.tie_break:
        proposal_ids = [p.id for p in m.proposals]
        for k, pid in enumerate(m.tie_break):
            if pid not in proposal_ids:
                found.append(f"tie_break[{k}]: unknown proposal {_q(pid)}")
            elif pid in m.tie_break[:k]:
                found.append(f"tie_break[{k}]: proposal {_q(pid)} is listed twice")
        missing = [_q(pid) for pid in proposal_ids if pid not in m.tie_break]
        if missing:
            found.append(f"tie_break: must list every proposal; missing {', '.join(missing)}")
    return found


_TYPE_MESSAGES = {
    "missing": "is required",
    "string_type": "must be a string",
    "int_type": "must be a whole number",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
}


def _describe(err: ErrorDetails) -> str:
    """One pydantic error as `path: reason`, e.g. `proposals[2].kind: must be "keep" or "fund"`."""
    path = ""
    for part in err["loc"]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    ctx = err.get("ctx", {})
    kind = err["type"]
    if kind in _TYPE_MESSAGES:
        reason = _TYPE_MESSAGES[kind]
    elif kind == "literal_error":
        reason = "must be " + str(ctx["expected"]).replace("'", '"')
    elif kind == "greater_than_equal":
        reason = f"must be >= {ctx['ge']}"
    else:
        reason = err["msg"].removeprefix("Value error, ")
    return f"{path}: {reason}" if path else reason


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number")


def parse_meeting(text: str, *, filename: str = "meeting.json") -> MeetingFile:
    """Parse and validate a meeting file.

    Raises:
        RecordError: listing every problem, e.g. `meeting.json: proposals[2].kind: must be
            "keep" or "fund"`; JSON syntax errors carry their line number. Cross-references
            (duplicate ids, unknown segments, tie_break) are checked once every field is valid.
    """
    try:
        data = json.loads(text.removeprefix("\ufeff"), parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        reason = f"invalid JSON: {e.msg} (column {e.colno})"
        raise RecordError(filename, [(e.lineno, reason)]) from None
    except ValueError as e:
        raise RecordError(filename, [(None, f"invalid JSON: {e}")]) from None
    if not isinstance(data, dict):
        raise RecordError(filename, [(None, "must be a JSON object")])
    problems = _Problems(filename)
    sink: list[str] = []
    try:
        meeting = MeetingFile.model_validate(data, strict=True, context={"problems": sink})
    except ValidationError as e:
        for err in e.errors():
            problems.add(None, _describe(err))
    for reason in sink:
        problems.add(None, reason)
    problems.raise_if_any()
    return meeting


_OMIT_WHEN_NULL = ("budget", "savings_target")


def dump_meeting(m: MeetingFile) -> str:
    """The canonical text of a meeting file (indent 2, field order, UTF-8 text, final newline).

    `budget` and `savings_target` are written only when set, so meetings without them keep the
    text they had before these keys existed (absent reads as null).
    """
    data = m.model_dump(mode="json")
    for key in _OMIT_WHEN_NULL:
        if data[key] is None:
            del data[key]
    # Translations likewise only when given (on the meeting, its segments and proposals).
    for item in (data, *data["segments"], *data["proposals"]):
        if not item["translations"]:
            del item["translations"]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# --- CSV ---------------------------------------------------------------------------------


def _csv_records(text: str, problems: _Problems) -> list[tuple[int, list[str]]]:
    """`(first line, cells)` of every non-blank record; a quoting error stops the read."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            if cells:
                records.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as e:
        problems.add(reader.line_num, f"malformed CSV: {e}")
    return records


def _check_header(
    records: list[tuple[int, list[str]]], expected: Sequence[str], p: _Problems
) -> None:
    """Report header problems (line 1) and raise: rows can't be read under a wrong header."""
    if not records:
        if not p.errors:
            p.add(1, f"empty file: the first line must be {','.join(expected)}")
        p.raise_if_any()
    line, cells = records[0]
    for i, name in enumerate(expected):
        if i >= len(cells):
            p.add(line, f"missing column {_q(name)}")
        elif cells[i] != name:
            p.add(line, f"column {i + 1} is {_q(cells[i])}, expected {_q(name)}")
    for extra in cells[len(expected) :]:
        p.add(line, f"unexpected column {_q(extra)}")
    p.raise_if_any()


def _write_csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


@dataclass(frozen=True)
class BallotRow:
    """One mark of a voter's final ballot in a round, as exported for the recount."""

    round: str
    voter: str
    channel: str
    segments: tuple[str, ...]
    proposal: str
    mark: Mark


def write_ballot_csv(rows: Iterable[BallotRow]) -> str:
    """The ballot CSV: header `round,voter,channel,segments,proposal,mark`, segments `;`-joined."""
    return _write_csv(
        BALLOT_HEADER,
        (
            [r.round, r.voter, r.channel, ";".join(r.segments), r.proposal, Mark(r.mark)]
            for r in rows
        ),
    )


def read_ballot_csv(
    text: str, meeting: MeetingFile, *, filename: str = "ballots.csv"
) -> list[BallotRow]:
    """Parse a ballot CSV against its meeting.

    Raises:
        RecordError: every malformed line with its number: wrong header (line 1), wrong number
            of fields, empty round/voter/channel, unknown proposal or segment, bad mark, a
            second row for the same (round, voter, proposal), or a voter whose segments or
            channel differ between rows of one round.
    """
    p = _Problems(filename)
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
        bad += [f"segments: {why}" for why in _group_problems(segments, segment_ids)]
        if proposal not in proposal_ids:
            bad.append(f"proposal: unknown proposal {_q(proposal)}")
        if mark not in _MARKS:
            bad.append(f"mark: must be want, dont_want or neutral, not {_q(mark)}")
        in_round = f"in round {_q(round_)}"
        seen = first_mark.setdefault((round_, voter, proposal), line)
        if seen != line:
            bad.append(f"voter {_q(voter)} already marked {_q(proposal)} {in_round} on line {seen}")
        at, declared, first_channel = first_voter.setdefault(
            (round_, voter), (line, frozenset(segments), channel)
        )
        if declared != frozenset(segments):
            bad.append(f"voter {_q(voter)} has other segments on line {at} {in_round}")
        if first_channel != channel:
            bad.append(f"voter {_q(voter)} has channel {_q(first_channel)} on line {at} {in_round}")
        for reason in bad:
            p.add(line, reason)
        if not bad:
            rows.append(BallotRow(round_, voter, channel, segments, proposal, Mark(mark)))
    p.raise_if_any()
    return rows


_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(?=[eE]))([eE][+-]?[0-9]+)?")


def _parse_amount(cell: str) -> int | float | str | None:
    """An amount cell as int, float or None (empty); anything else is returned unchanged."""
    if not cell:
        return None
    if _INT.fullmatch(cell):
        return int(cell)
    if _FLOAT.fullmatch(cell):
        return float(cell)
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
    p = _Problems(filename)
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
        bad = [f"affected_groups: {why}" for why in _group_problems(groups, segment_ids)]
        for name in ("cost", "saving"):
            data[name] = amount = _parse_amount(cells[PROPOSAL_HEADER.index(name)])
            if isinstance(amount, str):
                bad.append(f"{name}: must be a number or empty, not {_q(amount)}")
                data[name] = None
        seen = first_line.setdefault(cells[0], line)
        if seen != line:
            bad.append(f"id: duplicate id {_q(cells[0])} (first on line {seen})")
        try:
            proposal = ProposalFile.model_validate({**data, "affected_groups": groups}, strict=True)
        except ValidationError as e:
            bad += [_describe(err) for err in e.errors()]
        for reason in bad:
            p.add(line, reason)
        if not bad:
            proposals.append(proposal)  # bound: no ValidationError, or `bad` would be non-empty
    p.raise_if_any()
    return proposals


# --- recount -----------------------------------------------------------------------------


def _round_ballots(rows: Sequence[BallotRow]) -> list[VoterBallot]:
    segments: dict[str, frozenset[str]] = {}
    marks: dict[str, dict[str, Mark]] = {}
    for row in rows:
        declared = segments.setdefault(row.voter, frozenset(row.segments))
        if declared != frozenset(row.segments):
            raise ValueError(f"voter {row.voter!r} declares different segments in one round")
        voter_marks = marks.setdefault(row.voter, {})
        if row.proposal in voter_marks:
            raise ValueError(f"voter {row.voter!r} marked {row.proposal!r} twice in one round")
        voter_marks[row.proposal] = Mark(row.mark)
    return [VoterBallot(v, segments[v], marks[v]) for v in marks]


def recount(meeting: MeetingFile, rows: Sequence[BallotRow]) -> dict[str, Any]:
    """Recount every round of a ballot export with the meeting's rule.

    Rounds come in order of their first row; a round's proposals are those its rows name, in
    the meeting's order. A proposal of a round that no voter marked at all has no row, so the
    exporter should write NEUTRAL rows for an active voter's unmarked proposals (the counts do
    not change) to keep such a proposal in the recount.

    Returns:
        `{"rounds": [{"round": name, "proposals": [...], "ranking": [...], ...}]}`, each round
        being `app.tally.result_to_json` of `count_round` on that round's ballots, plus
        `money_record`'s keys when the meeting has a budget or a savings target.

    Raises:
        ValueError: a row names an unknown proposal, or repeats a voter's mark or changes their
            segments within a round (`read_ballot_csv` reports these per line).
    """
    by_round: dict[str, list[BallotRow]] = {}
    for row in rows:
        by_round.setdefault(row.round, []).append(row)
    specs = {pr.id: ProposalSpec(pr.id, tuple(pr.affected_groups)) for pr in meeting.proposals}
    protecting = frozenset(s.id for s in meeting.segments if s.protects)
    tie_break = meeting.tie_break or list(specs)  # empty = proposal order
    kinds = {pr.id: pr.kind for pr in meeting.proposals}
    costs = {pr.id: pr.cost for pr in meeting.proposals}
    savings = {pr.id: pr.saving for pr in meeting.proposals}
    rounds = []
    for name, round_rows in by_round.items():
        named = {row.proposal for row in round_rows}
        unknown = sorted(named - specs.keys())
        if unknown:
            raise ValueError(f"round {name!r} names proposals not in the meeting: {unknown}")
        proposals = [spec for pid, spec in specs.items() if pid in named]
        ballots = _round_ballots(round_rows)
        result = count_round(
            proposals,
            ballots,
            meeting.rule.to_rule(),
            protecting=protecting,
            tie_break=tie_break,
        )
        money = money_record(
            result,
            ballots,
            kinds=kinds,
            costs=costs,
            savings=savings,
            budget=meeting.budget,
            savings_target=meeting.savings_target,
            tie_break=tie_break,
        )
        rounds.append({"round": name, **result_to_json(result), **money})
    return {"rounds": rounds}


# --- budget and savings --------------------------------------------------------------------


def money_record(
    result: RoundResult,
    ballots: Sequence[VoterBallot],
    *,
    kinds: Mapping[str, str],
    costs: Mapping[str, int | float | None],
    savings: Mapping[str, int | float | None],
    budget: BudgetFile | None,
    savings_target: int | float | None,
    tie_break: Sequence[str],
) -> dict[str, Any]:
    """A round's budget and savings keys, to add to `result_to_json(result)`.

    With a budget, when the round has a `fund` proposal with a cost: `app.budget.budget_to_json`
    of MES on the eligible proposals (section 3; `greedy` is "most WANTs first" over the same
    approvals), its per-proposal list under `funding` (`proposals` is the round's). With a
    savings target, when the round has a `keep` proposal with a saving:
    `app.budget.savings_to_json`. Otherwise nothing: `{}`.
    """
    ids = [r.id for r in result.proposals]
    record: dict[str, Any] = {}
    if budget is not None and any(kinds.get(p) == "fund" and costs.get(p) is not None for p in ids):
        voters, chosen = mes.approval_profile(result, ballots, costs, kinds)
        classes = sorted(Counter(voters).items(), key=lambda kv: sorted(kv[0]))
        record.update(
            copy.deepcopy(
                _funding(
                    tuple(classes),
                    tuple(chosen.items()),
                    mes.amount(budget.pot),
                    budget.completion,
                    tuple(tie_break),
                )
            )
        )
    if savings_target is not None and any(
        kinds.get(p) == "keep" and savings.get(p) is not None for p in ids
    ):
        cuts = mes.savings_cuts(result, savings, kinds, savings_target, tie_break=tie_break)
        record.update(mes.savings_to_json(cuts))
    return record


@functools.lru_cache(maxsize=32)
def _funding(
    classes: tuple[tuple[frozenset[str], int], ...],
    costs: tuple[tuple[str, Fraction], ...],
    pot: Fraction,
    completion: mes.Completion,
    tie_break: tuple[str, ...],
) -> dict[str, Any]:
    """MES and greedy on voters grouped by approval set (cached: the projector asks for the same
    closed round on every change in the room; callers copy the result before changing it)."""
    voters = [approved for approved, count in classes for _ in range(count)]
    outcome = mes.equal_shares(voters, dict(costs), pot, completion=completion, tie_break=tie_break)
    most_wanted = mes.greedy(voters, dict(costs), pot, tie_break=tie_break)
    record = mes.budget_to_json(outcome, most_wanted)
    record["funding"] = record.pop("proposals")
    return record


def dumps_result(obj: object) -> str:
    """The canonical JSON text of a result: indent 2, keys in given order, UTF-8, final newline."""
    return json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
