"""Bounds and hygiene for everything that comes from outside: numbers, JSON, texts, ids.

Pure (no I/O). Every reader of a form, a file or a path parameter goes through these, so that
hostile input ends in a clear `BadInput` (or a `RecordError` from the file readers), never in an
OverflowError from the database driver, a RecursionError from the JSON parser, or a title that
reads backwards on the projector.

* Numbers: `bounded_int` (forms and text cells), `deps.RowId` (path parameters). The database's
  integers are 32-bit on PostgreSQL: anything outside `MIN_INT..MAX_INT` would overflow.
* JSON: `load_json` bounds nesting depth and number size before and while parsing, and refuses
  NaN and Infinity (not JSON, and not a count or an amount).
* Text: `clean_text` for texts (titles, descriptions, labels): NFC, control, direction and
  invisible characters removed. `id_problem` for ids: the same characters are refused, not
  removed, since an id is matched byte for byte across files.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Collection
from typing import Any

from app.core.bounds import DB_INT_MAX
from app.core.errors import BadInput
from app.core.messages import N_

# Every integer column is an INTEGER: 32-bit signed on PostgreSQL (bounds.DB_INT_MAX).
MAX_INT = DB_INT_MAX
MIN_INT = -DB_INT_MAX - 1

# A meeting file nests 4 levels (meeting > proposals > proposal > translations > locale);
# an audit link 3. 32 leaves room for later versions and stops a 5,000-level bomb early.
MAX_JSON_DEPTH = 32
# 2**63 has 19 digits; an amount of more than 20 digits is not money, it is an attack.
MAX_NUMBER_DIGITS = 20

# C0 and C1 controls (NUL included), DEL.
_CONTROL = "\x00-\x1f\x7f-\x9f"
# Bidirectional embeddings, overrides and isolates; LRM, RLM, ALM: they make text read backwards.
_BIDI = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
# Zero-width space, non-joiner, joiner, word joiner, byte order mark: invisible differences.
_INVISIBLE = "\u200b-\u200d\u2060\ufeff"
_FORBIDDEN = re.compile(f"[{_CONTROL}{_BIDI}{_INVISIBLE}]")
_SPACES = re.compile(r"[\t\n\r]+")


def forbidden_chars(value: str) -> list[str]:
    """The control, direction and invisible characters in `value`, as U+XXXX, in order."""
    return [f"U+{ord(c):04X}" for c in _FORBIDDEN.findall(value)]


def clean_text(value: str, *, multiline: bool = False) -> str:
    """A text as stored and shown: NFC, with control, direction and invisible characters removed.

    Tabs and line breaks become one space, except line breaks in a `multiline` text (a
    description), which are kept as `\\n`. Idempotent: `clean_text(clean_text(s)) ==
    clean_text(s)`.
    """
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
        value = "\n".join(_FORBIDDEN.sub("", line) for line in value.split("\n"))
    else:
        value = _FORBIDDEN.sub("", _SPACES.sub(" ", value))
    return unicodedata.normalize("NFC", value)


def cut(raw: object, limit: int) -> str:
    """A form field's string as far as anything reads it: a little past `limit` (2 x limit + 16
    characters), enough for the caller to say it is too long; anything not a string is ""."""
    return raw[: limit * 2 + 16] if isinstance(raw, str) else ""


def read_text(raw: object, limit: int, *, multiline: bool = False) -> str:
    """A form's text field as stored: `clean_text` of `cut(raw, limit)`, stripped. Checking the
    length against `limit` is the caller's."""
    return clean_text(cut(raw, limit), multiline=multiline).strip()


def id_problem(value: str) -> str | None:
    """Why `value` cannot be an id (None: it can). Ids are refused, never silently changed:
    they are matched byte for byte between the meeting file, ballots and the audit log."""
    bad = forbidden_chars(value)
    if bad:
        return f"must not contain control, direction or invisible characters ({', '.join(bad)})"
    if value.startswith("'"):
        # A leading ' marks a spreadsheet-neutralised CSV cell (csvfiles.neutralise).
        return "must not start with '"
    if not unicodedata.is_normalized("NFC", value):
        return "must be in Unicode normal form NFC"
    return None


def bounded_int(text: object, what: str, *, low: int = MIN_INT, high: int = MAX_INT) -> int:
    """A whole number from a form field or a text cell, within `low..high`.

    Raises:
        BadInput: not a whole number (digits, an optional sign), or out of range; the message
            names `what` and the range.
    """
    value = str(text).strip()
    digits = value.removeprefix("-").removeprefix("+")
    bounded = (low, high) != (MIN_INT, MAX_INT)
    if (
        not digits.isascii()
        or not digits.isdigit()
        or len(digits.lstrip("0")) > MAX_NUMBER_DIGITS
        or not low <= int(value) <= high
    ):
        whole = digits.isascii() and digits.isdigit()
        span = f" from {low} to {high}" if bounded or whole else ""
        raise BadInput(f"{what} must be a whole number{span}.")
    return int(value)


class JsonInputError(ValueError):
    """Text that is not acceptable JSON; `line` is 1-based where known."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        self.reason = reason
        self.line = line
        super().__init__(reason)


_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _depth_problem(text: str, max_depth: int) -> str | None:
    depth = 0
    for m in _STRING_OR_BRACKET.finditer(text):
        token = m.group()
        if token in "[{":
            depth += 1
            if depth > max_depth:
                return f"nested more than {max_depth} levels deep"
        elif token in "]}":
            depth -= 1
    return None


def _number_too_long(text: str) -> None:
    if len(text.lstrip("-").lstrip("0")) > MAX_NUMBER_DIGITS:
        raise ValueError(f"the number {text[:12]}... has more than {MAX_NUMBER_DIGITS} digits")


def _int(text: str) -> int:
    _number_too_long(text)
    return int(text)


def _float(text: str) -> float:
    mantissa = re.split("[eE]", text)[0].replace(".", "")
    _number_too_long(mantissa)
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:24]} is too large")
    return value


def _constant(name: str) -> None:
    raise ValueError(f"{name} is not a number")


def load_json(text: str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """`json.loads` for untrusted text: depth bounded before parsing, NaN/Infinity refused,
    numbers of more than `MAX_NUMBER_DIGITS` digits refused.

    Raises:
        JsonInputError: the reason, and the line where the parser knows it.
    """
    too_deep = _depth_problem(text, max_depth)
    if too_deep:
        raise JsonInputError(too_deep)
    try:
        return json.loads(text, parse_constant=_constant, parse_int=_int, parse_float=_float)
    except json.JSONDecodeError as e:
        raise JsonInputError(f"{e.msg} (column {e.colno})", e.lineno) from None
    except (ValueError, RecursionError) as e:
        raise JsonInputError(str(e) or type(e).__name__) from None


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(label: str, taken: Collection[str], *, limit: int, fallback: str) -> str:
    """An id made from a label: lower-case ASCII letters, digits and single hyphens
    ("Area: South" -> "area-south", "Gwasanaeth ŵyl" -> "gwasanaeth-wyl"), at most `limit`
    characters, made unique against `taken` with -2, -3…; `fallback` when the label has no
    letter or digit that has an ASCII form."""
    # Accents come off ("ŵ" -> "w"); any other character that is not a-z0-9 separates words.
    plain = "".join(c for c in unicodedata.normalize("NFKD", label) if not unicodedata.combining(c))
    base = _NOT_SLUG.sub("-", plain.lower()).strip("-")[:limit].strip("-") or fallback
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        suffix = f"-{n}"
        candidate = base[: limit - len(suffix)].rstrip("-") + suffix
    return candidate


def amount_text(value: str, label: str) -> int | float | None:
    """An amount typed in a form: '£35,000' -> 35000, '12.5' -> 12.5, empty -> None. The
    meeting file's checks (records.Amount) bound it further.

    Raises:
        BadInput: not a number, not finite, or negative.
    """
    text = value.strip().replace(",", "").lstrip("£").strip()
    if not text:
        return None
    if len(text) > 40:  # far past MAX_AMOUNT with pence: a typo or an attack, not money
        raise BadInput(N_("%(label)s must be an amount such as 35000."), label=label)
    try:
        number = float(text)
    except ValueError:
        raise BadInput(N_("%(label)s must be an amount such as 35000."), label=label) from None
    if not math.isfinite(number) or number < 0:
        raise BadInput(N_("%(label)s must be zero or more."), label=label)
    return int(number) if number.is_integer() else number
