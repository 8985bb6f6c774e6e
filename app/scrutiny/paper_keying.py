"""Paper ballots' keyings, pure: read a keying form, compare two keyings of the same sheets.

A keying of a sheet is what one person typed from it: its serial number, the ticket number (a
tickets meeting only), each "About you" box and each item's answer. `read_entry(form, ...)`
checks a `SheetForm` as posted against the round's items (their scales) and the meeting's
segments and returns an `Entry` (raises `BadInput` with a message for the person keying);
`reconcile(first, second)` puts every sheet keyed at least once in exactly one list: matched
(the two keyings agree on every field), mismatched (with each `Difference`, both values) or
keyed once. `sheet_ranges` writes sheet numbers as print does ("1-3, 5"). No I/O: the service
part (app/scrutiny/paper.py) reads and stores the keyings.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from app.core.errors import BadInput
from app.core.inputs import bounded_int
from app.rules.scales import AnswerScale, Problem

KEYINGS = (1, 2)
MAX_SHEET = 999_999  # six digits: more sheets than any meeting prints, and fits every int column
MAX_TICKET = 999_999


@dataclass(frozen=True, slots=True)
class SheetForm:
    """One keying form as posted, unchecked: `marks` maps an item's key to the answer keyed
    (a room vote's "want", "dont_want" or "neutral") or "" (left blank)."""

    sheet: str
    ticket: str = ""
    segments: tuple[str, ...] = ()
    marks: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Entry:
    """What one keying says a sheet carries: each answer as its scale stores it. Blank items
    are absent from `marks`."""

    sheet: int
    ticket: int | None = None
    segments: frozenset[str] = frozenset()
    marks: Mapping[str, str] = field(default_factory=dict)


Value = int | bool | str | None


@dataclass(frozen=True, slots=True)
class Difference:
    """One field two keyings disagree on. `kind` "ticket" (values: number or None),
    "segment" (`key` the segment; values: box ticked) or "mark" (`key` the item; values: its
    answer or None for blank)."""

    kind: str
    key: str
    first: Value
    second: Value


@dataclass(frozen=True, slots=True)
class Mismatch:
    sheet: int
    differences: tuple[Difference, ...]


@dataclass(frozen=True, slots=True)
class KeyedOnce:
    sheet: int
    keying: int  # the keying that has it


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Every sheet keyed at least once, in exactly one list, each list in sheet order."""

    matched: list[Entry]
    mismatched: list[Mismatch]
    keyed_once: list[KeyedOnce]


def _number(text: str, what: str, most: int) -> int:
    return bounded_int(text, what, low=1, high=most)


def read_entry(
    form: SheetForm,
    *,
    scales: Mapping[str, AnswerScale],
    segments: Collection[str],
    tickets: bool,
) -> Entry:
    """Check a keying form against the round's items (their scales, by key: the round's kind
    states them) and the meeting's segments.

    Raises:
        BadInput: sheet or ticket not a whole number in range; a ticket missing in a tickets
            meeting or given in an open one; an unknown segment or item, or an answer the
            item's scale does not take.
    """
    sheet = _number(form.sheet, "The sheet number", MAX_SHEET)
    ticket: int | None = None
    if tickets:
        if not form.ticket.strip():
            raise BadInput(
                f"Sheet {sheet} needs the ticket number written on it: this meeting admits "
                "voters by ticket. Put a sheet without one aside for the facilitator."
            )
        ticket = _number(form.ticket, "The ticket number", MAX_TICKET)
    elif form.ticket.strip():
        raise BadInput("This meeting does not use tickets: leave the ticket number empty.")
    if unknown := sorted(set(form.segments) - set(segments)):
        raise BadInput(f"Unknown segment(s): {', '.join(unknown)}.")
    if unknown := sorted(set(form.marks) - set(scales)):
        raise BadInput(f"Proposal(s) not in this round: {', '.join(unknown)}.")
    marks: dict[str, str] = {}
    for key, value in form.marks.items():
        if value == "":
            continue
        answer = scales[key].parse(value)
        if isinstance(answer, Problem):
            raise BadInput(answer.msgid, item=key, **answer.params)
        marks[key] = answer
    return Entry(sheet=sheet, ticket=ticket, segments=frozenset(form.segments), marks=marks)


def differences(first: Entry, second: Entry) -> tuple[Difference, ...]:
    """The fields two entries of the same sheet disagree on (ticket, segments, marks)."""
    out = []
    if first.ticket != second.ticket:
        out.append(Difference("ticket", "", first.ticket, second.ticket))
    for key in sorted(first.segments ^ second.segments):
        out.append(Difference("segment", key, key in first.segments, key in second.segments))
    for key in sorted(set(first.marks) | set(second.marks)):
        a, b = first.marks.get(key), second.marks.get(key)
        if a != b:
            out.append(Difference("mark", key, a, b))
    return tuple(out)


def _by_sheet(entries: Iterable[Entry], keying: int) -> dict[int, Entry]:
    out: dict[int, Entry] = {}
    for e in entries:
        if e.sheet in out:
            raise ValueError(f"sheet {e.sheet} appears twice in keying {keying}")
        out[e.sheet] = e
    return out


def reconcile(first: Iterable[Entry], second: Iterable[Entry]) -> Reconciliation:
    """Compare keying 1 with keying 2, sheet by sheet (each keying has a sheet at most once)."""
    a, b = _by_sheet(first, 1), _by_sheet(second, 2)
    out = Reconciliation([], [], [])
    for sheet in sorted(a.keys() | b.keys()):
        if sheet not in b:
            out.keyed_once.append(KeyedOnce(sheet, 1))
        elif sheet not in a:
            out.keyed_once.append(KeyedOnce(sheet, 2))
        elif diff := differences(a[sheet], b[sheet]):
            out.mismatched.append(Mismatch(sheet, diff))
        else:
            out.matched.append(a[sheet])
    return out


def sheet_ranges(sheets: Iterable[int]) -> str:
    """[1, 2, 3, 5, 7, 8] -> "1-3, 5, 7-8" (with en dashes, as print does)."""
    parts: list[str] = []
    run: list[int] = []
    for n in sorted(set(sheets)):
        if run and n == run[-1] + 1:
            run.append(n)
            continue
        if run:
            parts.append(_run(run))
        run = [n]
    if run:
        parts.append(_run(run))
    return ", ".join(parts)


def _run(run: list[int]) -> str:
    return str(run[0]) if len(run) == 1 else f"{run[0]}\u2013{run[-1]}"
