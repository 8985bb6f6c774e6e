"""Answer scales: what an activity's item accepts, and how a raw answer becomes a stored one.

Pure (no database, no web framework, no clock). Every answer, whatever its scale, is stored as
one string per item in `ballot.marks` ({item key: value}) and exported as that string in the
ballot file's `mark` column, so the ballot path, the exports and the recount handle every kind
of activity alike. A scale says which strings are answers:

* `ChoiceScale`: one of a closed set of choices, each with a stable stored value, a keypad key
  and an English label (a msgid, translated where it is shown). The room vote's `WANT_SCALE`
  is one: "want" / "dont_want" / "neutral", keys 1 / 2 / 3 (`tally.Mark`'s values).
* `RangeScale`: a whole number from `low` to `high` (a 1-5 rating), stored as its decimal text.
* `MultiChoiceScale`: one or more of a closed set, stored as their values joined by `;` in the
  scale's order (so one set has one stored text).
* `TextScale`: a short text, cleaned like every other text from outside (`inputs.clean_text`:
  NFC, no control, direction or invisible characters, no surrounding spaces), at most
  `max_length` characters.

`parse(raw)` is strict and bounded: it returns the stored value or a `Problem` (never raises
for any string), looks at no more than `MAX_RAW_CHARS` of the input, and echoes at most
`ECHO_CHARS` of it in a message. Only the canonical spelling of a number or a choice set is an
answer ("4", not "04" or " 4"; "a;b", not "b;a"), so a resend of the same ballot stores the same
bytes and compares equal to what is stored.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from app.core.inputs import clean_text
from app.core.messages import N_
from app.core.shapes import AnswerView, ScaleView
from app.rules.tally import Mark

# The longest raw answer a scale reads; the wire bounds it too (protocol.ANSWER_MAX_CHARS).
# A short text answer is at most TEXT_MAX_LENGTH; the rest is room for what cleaning removes.
MAX_RAW_CHARS = 1000
TEXT_MAX_LENGTH = 500  # the most any TextScale may allow: a few sentences, not an essay
ECHO_CHARS = 24  # a refused value is quoted this far in the message: enough to recognise it
KEYPAD_KEYS = 9  # keypads answer with the digit keys 1-9 (hardware: KeypadPress.choice)
MULTI_SEPARATOR = ";"

_VALUE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")  # a choice's stored value: an id, never text
_NUMBER = re.compile(r"-?(0|[1-9][0-9]{0,5})")  # canonical decimal, no sign on zero checked below


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a raw answer is not one: a msgid naming `%(item)s` plus its other parameters.

    The caller names the item: `BadInput(p.msgid, item=key, **p.params)`."""

    msgid: str
    params: Mapping[str, object] = field(default_factory=dict)

    def message(self, item: str) -> str:
        """The English message about `item` (tests and logs; pages translate `msgid`)."""
        return self.msgid % {"item": item, **self.params}


def _echo(raw: str) -> str:
    """A refused value as the message quotes it: bounded, repr-quoted (shows hidden spaces)."""
    return repr(raw[:ECHO_CHARS] + ("…" if len(raw) > ECHO_CHARS else ""))


@dataclass(frozen=True, slots=True)
class Choice:
    """One answer of a closed set: its stored `value`, its keypad `key` (1-9, or None when
    keypads cannot give it) and its English `label` (a msgid, marked with N_)."""

    value: str
    key: int | None
    label: str


class AnswerScale(ABC):
    """The answers one item accepts. Immutable; shared by every item and ballot that use it."""

    type: ClassVar[str]

    @abstractmethod
    def parse(self, raw: str) -> str | Problem:
        """The stored value for `raw`, or why it is not an answer. Never raises for a str."""

    def answer_for_key(self, key: int) -> str | None:
        """The stored value a keypad's `key` gives, or None (not an answer on this scale)."""
        return None

    @property
    def keypad_choices(self) -> int:
        """How many keys (1..n) a keypad uses for this scale: 0 when keypads cannot answer."""
        return 0

    def label(self, value: str) -> str:
        """How a stored value is shown: a choice's label msgid, else the value itself."""
        return value

    @abstractmethod
    def describe(self) -> ScaleView:
        """The scale as JSON for the screens (phone, projector, console): `type` and its terms.
        Labels are English msgids; a page translates them."""


def _checked_choices(choices: Sequence[Choice]) -> tuple[Choice, ...]:
    if not choices:
        raise ValueError("a choice scale needs at least one choice")
    values = [c.value for c in choices]
    if len(set(values)) != len(values):
        raise ValueError(f"choice values repeat: {values}")
    if bad := [v for v in values if not _VALUE.fullmatch(v)]:
        raise ValueError(f"choice values must be short lowercase ids: {bad}")
    if any(not c.label for c in choices):
        raise ValueError("every choice needs a label")  # gettext("") is the catalogue header
    keys = [c.key for c in choices if c.key is not None]
    if len(set(keys)) != len(keys) or any(not 1 <= k <= KEYPAD_KEYS for k in keys):
        raise ValueError(f"keypad keys must be distinct, 1 to {KEYPAD_KEYS}: {keys}")
    return tuple(choices)


def _keypad_choices(keys: set[int]) -> int:
    """n if the keys are exactly 1..n (what a receiver can be armed with), else 0."""
    return len(keys) if keys and keys == set(range(1, len(keys) + 1)) else 0


@dataclass(frozen=True)
class ChoiceScale(AnswerScale):
    """One of a closed set of choices."""

    choices: tuple[Choice, ...]
    type: ClassVar[str] = "choice"
    _by_value: dict[str, Choice] = field(init=False, repr=False, compare=False)
    _by_key: dict[int, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", _checked_choices(self.choices))
        object.__setattr__(self, "_by_value", {c.value: c for c in self.choices})
        keyed = {c.key: c.value for c in self.choices if c.key is not None}
        object.__setattr__(self, "_by_key", keyed)

    def parse(self, raw: str) -> str | Problem:
        if raw in self._by_value:
            return raw
        answers = ", ".join(c.value for c in self.choices)
        msgid = N_("An answer on %(item)s must be one of %(answers)s, not %(value)s.")
        return Problem(msgid, {"answers": answers, "value": _echo(raw)})

    def answer_for_key(self, key: int) -> str | None:
        return self._by_key.get(key)

    @property
    def keypad_choices(self) -> int:
        return _keypad_choices(set(self._by_key))

    def label(self, value: str) -> str:
        choice = self._by_value.get(value)
        return choice.label if choice is not None else value

    def describe(self) -> ScaleView:
        return {"type": self.type, "answers": [_choice_json(c) for c in self.choices]}


def _choice_json(c: Choice) -> AnswerView:
    return {"value": c.value, "key": c.key, "label": c.label}


@dataclass(frozen=True)
class RangeScale(AnswerScale):
    """A whole number from `low` to `high`, stored as its decimal text ("4"). `labels` may
    name some numbers (1: "Very poor", 5: "Very good"). Keypads answer when `low` is 1 and
    `high` at most 9: key k is the answer k."""

    low: int
    high: int
    labels: Mapping[int, str] = field(default_factory=dict)
    type: ClassVar[str] = "range"

    def __post_init__(self) -> None:
        if not -999_999 <= self.low < self.high <= 999_999:
            raise ValueError(f"a range runs from low to a higher high: {self.low}..{self.high}")
        if outside := [n for n in self.labels if not self.low <= n <= self.high]:
            raise ValueError(f"labels outside {self.low}..{self.high}: {outside}")
        object.__setattr__(self, "labels", dict(self.labels))

    def parse(self, raw: str) -> str | Problem:
        if _NUMBER.fullmatch(raw) and raw != "-0" and self.low <= int(raw) <= self.high:
            return raw
        msgid = N_(
            "An answer on %(item)s must be a whole number from %(low)s to %(high)s, not %(value)s."
        )
        return Problem(msgid, {"low": self.low, "high": self.high, "value": _echo(raw)})

    def answer_for_key(self, key: int) -> str | None:
        return str(key) if self.keypad_choices and 1 <= key <= self.high else None

    @property
    def keypad_choices(self) -> int:
        return self.high if self.low == 1 and self.high <= KEYPAD_KEYS else 0

    def label(self, value: str) -> str:
        if _NUMBER.fullmatch(value) and int(value) in self.labels:
            return self.labels[int(value)]
        return value

    def values(self) -> list[str]:
        """Every answer, low to high."""
        return [str(n) for n in range(self.low, self.high + 1)]

    def describe(self) -> ScaleView:
        keyed = self.keypad_choices > 0
        answers: list[AnswerView] = [
            {"value": v, "key": int(v) if keyed else None, "label": self.label(v)}
            for v in self.values()
        ]
        return {"type": self.type, "low": self.low, "high": self.high, "answers": answers}


@dataclass(frozen=True)
class MultiChoiceScale(AnswerScale):
    """One or more of a closed set (up to `most`), stored as their values joined by `;` in the
    scale's order. A value in `alone` ("none of these") is an answer only on its own. Keypads
    cannot answer it (one press is one choice)."""

    choices: tuple[Choice, ...]
    most: int | None = None
    alone: frozenset[str] = frozenset()
    type: ClassVar[str] = "multi"
    _order: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", _checked_choices(self.choices))
        if self.most is not None and not 1 <= self.most <= len(self.choices):
            raise ValueError(f"most must be 1 to {len(self.choices)}, not {self.most}")
        if unknown := self.alone - {c.value for c in self.choices}:
            raise ValueError(f"alone names values that are not choices: {sorted(unknown)}")
        object.__setattr__(self, "_order", {c.value: i for i, c in enumerate(self.choices)})

    def parse(self, raw: str) -> str | Problem:
        order = self._order
        picked = raw.split(MULTI_SEPARATOR) if len(raw) <= MAX_RAW_CHARS else [raw]
        answers = ", ".join(c.value for c in self.choices)
        if not all(p in order for p in picked) or len(set(picked)) != len(picked):
            msgid = N_(
                "An answer on %(item)s must be one or more of %(answers)s, each once, "
                "separated by ';', not %(value)s."
            )
            return Problem(msgid, {"answers": answers, "value": _echo(raw)})
        if self.most is not None and len(picked) > self.most:
            msgid = N_("An answer on %(item)s may pick at most %(most)s of %(answers)s.")
            return Problem(msgid, {"most": self.most, "answers": answers})
        if len(picked) > 1 and (lone := self.alone.intersection(picked)):
            msgid = N_("An answer on %(item)s cannot pick %(value)s with anything else.")
            return Problem(msgid, {"value": _echo(min(lone))})
        canonical = MULTI_SEPARATOR.join(sorted(picked, key=order.__getitem__))
        if canonical != raw:
            msgid = N_("An answer on %(item)s lists its choices in the order %(answers)s.")
            return Problem(msgid, {"answers": answers})
        return raw

    def label(self, value: str) -> str:
        labels = {c.value: c.label for c in self.choices}
        return "; ".join(labels.get(v, v) for v in value.split(MULTI_SEPARATOR))

    def describe(self) -> ScaleView:
        answers = [_choice_json(c) for c in self.choices]
        view: ScaleView = {"type": self.type, "most": self.most, "answers": answers}
        if self.alone:
            view["alone"] = sorted(self.alone)
        return view


@dataclass(frozen=True)
class TextScale(AnswerScale):
    """A short text: cleaned (`inputs.clean_text`, then stripped), 1 to `max_length`
    characters. An answer that is only spaces or hidden characters is refused, not stored."""

    max_length: int = 280
    type: ClassVar[str] = "text"

    def __post_init__(self) -> None:
        if not 1 <= self.max_length <= TEXT_MAX_LENGTH:
            raise ValueError(f"max_length must be 1 to {TEXT_MAX_LENGTH}, not {self.max_length}")

    def parse(self, raw: str) -> str | Problem:
        too_long = N_("An answer on %(item)s must be at most %(most)s characters.")
        if len(raw) > MAX_RAW_CHARS:  # bounded before any work on it
            return Problem(too_long, {"most": self.max_length})
        text = clean_text(raw).strip()
        if not text:
            return Problem(N_("An answer on %(item)s is empty."))
        if len(text) > self.max_length:
            return Problem(too_long, {"most": self.max_length})
        return text

    def describe(self) -> ScaleView:
        return {"type": self.type, "max_length": self.max_length}


WANT_SCALE = ChoiceScale(
    (
        Choice(Mark.WANT.value, 1, N_("WANT")),
        Choice(Mark.DONT_WANT.value, 2, N_("DON'T WANT")),
        Choice(Mark.NEUTRAL.value, 3, N_("NEUTRAL")),
    )
)
"""The room vote's scale: keypad 1 WANT, 2 DON'T WANT, 3 NEUTRAL; stored as `tally.Mark`."""
