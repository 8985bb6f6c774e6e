"""Counting answers: how many voters gave each answer to each item, whatever its scale.

Pure (no I/O, no clock, no floats): the result function of the activity kinds whose outcome is
the answers themselves (a rating, a survey question, agree/disagree/pass), as `tally` is the
room vote's. `count_answers` takes the round's items with their scales and the final ballots
(item key -> stored answer, as `ballot.marks` holds them); `answers_to_json` is the public
form (results.json), identical wherever it is computed.

* A choice or a range: every answer of the scale, in its order, with its count (0 included).
* A multiple choice: each choice with how many ballots picked it.
* A short text: each distinct text with its count, most frequent first, then by text.
* `answered`: the ballots that answered the item; a range also gets its `mean` as a decimal
  text with two places, rounded half to even from the exact fraction (3.5 -> "3.50").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from itertools import chain

from app.core.shapes import AnswerRecord, AnswersRecord
from app.rules.scales import (
    MULTI_SEPARATOR,
    AnswerScale,
    ChoiceScale,
    MultiChoiceScale,
    Problem,
    RangeScale,
)


@dataclass(frozen=True, slots=True)
class ItemCount:
    """One item's answers: `counts` in the order described above, `mean` for a range."""

    id: str
    answered: int
    counts: tuple[tuple[str, int], ...]
    mean: Fraction | None = None


def count_answers(
    items: Sequence[tuple[str, AnswerScale]], ballots: Iterable[Mapping[str, str]]
) -> list[ItemCount]:
    """Each item's answers over the final ballots, in the items' order.

    Raises:
        ValueError: a ballot answers an item that is not listed, or gives an answer its scale
            does not take (stored answers are checked when cast: this is a corrupt input).
    """
    # Each distinct (item, answer) is counted in one pass in C, then checked and added once:
    # a survey of 100,000 people gives millions of answers but a few hundred distinct ones.
    return count_answer_totals(
        items, Counter(chain.from_iterable(b.items() for b in ballots)).items()
    )


def count_answer_totals(
    items: Sequence[tuple[str, AnswerScale]], given: Iterable[tuple[tuple[str, str], int]]
) -> list[ItemCount]:
    """`count_answers` from the ballots' `((item, answer), how many gave it)` counted already
    (in SQL: app/voting/survey_counts.py); a pair may come more than once, its numbers added.

    Raises:
        ValueError: as `count_answers`.
    """
    scales = dict(items)
    if len(scales) != len(items):
        raise ValueError("an item is listed twice")
    found: dict[str, Counter[str]] = {key: Counter() for key in scales}
    answered: Counter[str] = Counter()
    for (key, answer), n in given:
        scale = scales.get(key)
        if scale is None:
            raise ValueError(f"a ballot answers {key!r}, which is not an item")
        parsed = scale.parse(answer)
        if isinstance(parsed, Problem) or parsed != answer:
            raise ValueError(f"{answer!r} is not an answer to {key!r}")
        answered[key] += n
        picks = answer.split(MULTI_SEPARATOR) if isinstance(scale, MultiChoiceScale) else [answer]
        for pick in picks:
            found[key][pick] += n
    return [_item(key, scales[key], found[key], answered[key]) for key, _ in items]


def _item(key: str, scale: AnswerScale, found: Counter[str], answered: int) -> ItemCount:
    if isinstance(scale, ChoiceScale | MultiChoiceScale):
        order = [c.value for c in scale.choices]
    elif isinstance(scale, RangeScale):
        order = scale.values()
    else:  # a text: what was written, most frequent first
        order = sorted(found, key=lambda text: (-found[text], text))
    counts = tuple((value, found[value]) for value in order)
    mean = None
    if isinstance(scale, RangeScale) and answered:
        mean = Fraction(sum(int(v) * n for v, n in counts), answered)
    return ItemCount(key, answered, counts, mean)


def mean_text(mean: Fraction) -> str:
    """A mean as the record writes it: two decimal places, half to even, from the exact value."""
    exact = Decimal(mean.numerator) / Decimal(mean.denominator)
    return str(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))


def answers_to_json(counted: Sequence[ItemCount]) -> AnswersRecord:
    """The public form: `{"answers": [{"id", "answered", "counts": {answer: n}, "mean"?}]}`."""
    out = []
    for item in counted:
        entry: AnswerRecord = {
            "id": item.id,
            "answered": item.answered,
            "counts": dict(item.counts),
        }
        if item.mean is not None:
            entry["mean"] = mean_text(item.mean)
        out.append(entry)
    return {"answers": out}
