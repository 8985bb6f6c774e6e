"""The meeting file (JSON), the error type every public record reader raises, and shared checks.

The ballot and proposal CSV files are in `app.record.csvfiles`; recounting and the results JSON are
in
`app.record.results`.

Contract:

* Pure: every function takes and returns strings or plain values; the caller does the file I/O.
* Readers report every problem of a file (up to `MAX_ERRORS`) in one `RecordError`, each with the
  file name and, where the format has lines, the line number: `ballots.csv:7: mark: ...`.
* Writers emit canonical text (`\\n` line endings, stable key order, trailing newline), so
  writing what was read gives the same bytes back for files written by this module.
* CSV readers accept the UTF-8 byte order mark that Excel puts in front of a saved file.
* `recount` reproduces a meeting's results from its ballot CSV with the same `app.rules.tally` code
the
  projector runs; `dumps_result` is the one JSON encoding for results, so both are byte-identical.
* `money_record` adds a budget round's funding (`app.rules.budget`, section 3) and a savings
target's
  cuts (section 2) to a round's result; the projector and `recount` both call it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Collection, Sequence
from decimal import Decimal
from typing import Annotated, Literal

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

from app.core.inputs import JsonInputError, clean_text, id_problem, load_json
from app.core.localtime import DEFAULT_ZONE, zone_name_problem
from app.rules.tally import Rule as TallyRule

MAX_ERRORS = 50  # past this the file is probably the wrong one; more lines would bury the first
MAX_ID = 64  # ids end up in CSV cells, URLs and projector labels
MAX_TITLE = 200  # a title must fit a projector line and a keypad handout row
MAX_CURRENCY = 8  # "GBP", "£", "zł": a label next to amounts, not a free text
# A thousand trillion: 800 times the UK's yearly public spending. Larger is a typo or an attack,
# and past 2**53 amounts would no longer be exact in the database's floating-point column.
MAX_AMOUNT = 10**15
# R and m: no meeting has a million voters; a larger value would only overflow the database.
MAX_RULE_PARAMETER = 1_000_000


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


class Problems:
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


def quote(value: str) -> str:
    """Quote a value from the file for a message, escaping what would confuse a terminal."""
    return json.dumps(value, ensure_ascii=False)


# --- meeting JSON ------------------------------------------------------------------------


def check_id(value: str) -> str:
    if not value:
        raise PydanticCustomError("id", "must not be empty")
    if len(value) > MAX_ID:
        raise PydanticCustomError("id", f"must be at most {MAX_ID} characters")
    if value != value.strip():
        raise PydanticCustomError("id", "must not start or end with a space")
    if ";" in value or "," in value:
        raise PydanticCustomError("id", 'must not contain ";" or ","')
    problem = id_problem(value)
    if problem:
        raise PydanticCustomError("id", problem)
    return value


def _check_title(value: str) -> str:
    value = clean_text(value)
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
    if value > MAX_AMOUNT:
        raise PydanticCustomError("amount", f"must be at most {MAX_AMOUNT:,}")
    if isinstance(value, float) and not _whole_pence(value):
        # The database keeps money as integer pence (models.Money).
        raise PydanticCustomError("amount", "must have at most two decimals (whole pence)")
    return value


def _whole_pence(value: float) -> bool:
    exact = Decimal(repr(value)) * 100
    return exact == exact.to_integral_value()


def _check_pot(value: object) -> int | float:
    if value is None:
        raise PydanticCustomError("amount", "must be a number")
    checked = _check_amount(value)
    assert checked is not None
    return checked


def _check_currency(value: str) -> str:
    value = clean_text(value)
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
                    "translations", f'{quote(str(locale))} is not a language code such as "cy"'
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
                text = clean_text(text, multiline=name == "description")
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


def _check_optional_text(value: str) -> str:
    """A venue or a chair: like a title, but may be empty (not given)."""
    value = clean_text(value).strip()
    if len(value) > MAX_TITLE:
        raise PydanticCustomError("text", f"must be at most {MAX_TITLE} characters")
    return value


def _check_zone(value: str) -> str:
    """An IANA time zone name by its form; whether the time zone database knows it is checked
    where the meeting is stored (meetings.check_zone), since reading that database is I/O."""
    problem = zone_name_problem(value)
    if problem:
        raise PydanticCustomError("time_zone", problem)
    return value


Id = Annotated[str, AfterValidator(check_id)]
Title = Annotated[str, AfterValidator(_check_title)]
Description = Annotated[str, AfterValidator(lambda v: clean_text(v, multiline=True))]
Amount = Annotated[int | float | None, PlainValidator(_check_amount)]
Pot = Annotated[int | float, PlainValidator(_check_pot)]
Currency = Annotated[str, AfterValidator(_check_currency)]
OptionalText = Annotated[str, AfterValidator(_check_optional_text)]
TimeZone = Annotated[str, AfterValidator(_check_zone)]
Texts = dict[str, dict[str, str]]
MeetingTexts = Annotated[Texts, PlainValidator(_translations("title"))]
SegmentTexts = Annotated[Texts, PlainValidator(_translations("label"))]
ProposalTexts = Annotated[Texts, PlainValidator(_translations("title", "description"))]


class RuleFile(BaseModel):
    """The rule's parameters (R and m of voting-rule.md section 2)."""

    model_config = ConfigDict(extra="ignore")

    ratio: Annotated[int, Field(ge=1, le=MAX_RULE_PARAMETER)] = 2
    group_min: Annotated[int, Field(ge=1, le=MAX_RULE_PARAMETER)] = 5

    def to_rule(self) -> TallyRule:
        """The `app.rules.tally.Rule` with these parameters."""
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
    description: Description = ""
    kind: Literal["keep", "fund"]
    affected_groups: list[str] = Field(default_factory=list)
    cost: Amount = None
    saving: Amount = None
    translations: ProposalTexts = Field(default_factory=dict)


class VotingFile(BaseModel):
    """How people vote: `admission` "open" (anyone with the code, one voter per browser) or
    "tickets" (one voter per one-time ticket); `channel_policy` "one_channel" (a keypad holder
    votes by keypad; a ballot is replaced only on its own channel) or "latest" (the latest
    ballot on any channel counts); `show_channels`: per-channel turnout on the projector."""

    model_config = ConfigDict(extra="forbid")

    admission: Literal["open", "tickets"] = "open"
    channel_policy: Literal["one_channel", "latest"] = "one_channel"
    show_channels: bool = False


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
    voting: VotingFile = Field(default_factory=VotingFile)
    translations: MeetingTexts = Field(default_factory=dict)
    # For the record read by people (the report): the zone its times are shown in, where the
    # meeting is held and who chairs it. Written only when set (dump_meeting).
    time_zone: TimeZone = DEFAULT_ZONE
    venue: OptionalText = ""
    chair: OptionalText = ""

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


def group_problems(groups: Sequence[str], segment_ids: Collection[str]) -> list[str]:
    """What is wrong with a list of segment ids: empty, unknown or repeated ids."""
    found: list[str] = []
    for j, g in enumerate(groups):
        if not g:
            found.append("empty segment id")
        elif g not in segment_ids:
            found.append(f"unknown segment {quote(g)}")
        elif g in groups[:j]:
            found.append(f"segment {quote(g)} is listed twice")
    return found


def _reference_problems(m: MeetingFile) -> list[str]:
    found: list[str] = []
    for name, items in (("segments", m.segments), ("proposals", m.proposals)):
        ids = [item.id for item in items]
        for i, item_id in enumerate(ids):
            if item_id in ids[:i]:
                found.append(f"{name}[{i}].id: duplicate id {quote(item_id)}")
    segment_ids = {s.id for s in m.segments}
    for i, p in enumerate(m.proposals):
        found += [
            f"proposals[{i}].affected_groups: {r}"
            for r in group_problems(p.affected_groups, segment_ids)
        ]
    if m.tie_break:
        proposal_ids = [p.id for p in m.proposals]
        for k, pid in enumerate(m.tie_break):
            if pid not in proposal_ids:
                found.append(f"tie_break[{k}]: unknown proposal {quote(pid)}")
            elif pid in m.tie_break[:k]:
                found.append(f"tie_break[{k}]: proposal {quote(pid)} is listed twice")
        missing = [quote(pid) for pid in proposal_ids if pid not in m.tie_break]
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


def describe_error(err: ErrorDetails) -> str:
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
    elif kind == "less_than_equal":
        reason = f"must be <= {ctx['le']}"
    else:
        reason = err["msg"].removeprefix("Value error, ")
    return f"{path}: {reason}" if path else reason


def parse_meeting(text: str, *, filename: str = "meeting.json") -> MeetingFile:
    """Parse and validate a meeting file.

    Raises:
        RecordError: listing every problem, e.g. `meeting.json: proposals[2].kind: must be
            "keep" or "fund"`; JSON syntax errors carry their line number. Cross-references
            (duplicate ids, unknown segments, tie_break) are checked once every field is valid.
    """
    try:
        data = load_json(text.removeprefix("\ufeff"))
    except JsonInputError as e:
        raise RecordError(filename, [(e.line, f"invalid JSON: {e.reason}")]) from None
    if not isinstance(data, dict):
        raise RecordError(filename, [(None, "must be a JSON object")])
    problems = Problems(filename)
    sink: list[str] = []
    try:
        meeting = MeetingFile.model_validate(data, strict=True, context={"problems": sink})
    except ValidationError as e:
        for err in e.errors():
            problems.add(None, describe_error(err))
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
    if data["voting"] == VotingFile().model_dump():
        del data["voting"]
    # Translations likewise only when given (on the meeting, its segments and proposals).
    for item in (data, *data["segments"], *data["proposals"]):
        if not item["translations"]:
            del item["translations"]
    return json.dumps(drop_unset_place(data), indent=2, ensure_ascii=False) + "\n"


def drop_unset_place(data: dict[str, object]) -> dict[str, object]:
    """`data` (a dumped meeting file) without `time_zone` when it is the default and without an
    empty `venue` or `chair`: meetings that set none of them keep the text (and the audit links)
    they had before these keys existed."""
    for key, default in (("time_zone", DEFAULT_ZONE), ("venue", ""), ("chair", "")):
        if key in data and data[key] == default:
            del data[key]
    return data
