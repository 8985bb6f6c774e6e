"""A survey ballot's contribution to its round's stored counts (issue 15), and the difference
a ballot's change makes to them.

Pure: no I/O, no clock. The ballot writer (app/voting/ballots.py) applies `difference` in each
ballot's transaction and `app/voting/survey_counts.py` stores it; a rebuild from the ballots
gives the same rows (tests/test_survey_rows.py). A respondent is counted by *stored cell*: their
area answer (or None) and their segments as a set, written `segments_text` (sorted, distinct,
compact JSON), so two voters whose segments were stored in another order land in one cell.

Each respondent contributes one row with item and answer None (the cell's respondents, an empty
ballot included) and one per `(item, answer)` they gave, the area's own answer among them; a
multi-choice answer is the one stored string ("a;b"), as `survey_tally.count` counts it.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache

# (area answer or None, segments_text, item or None, answer or None): one stored counts row.
CountKey = tuple[str | None, str, str | None, str | None]
# What a voter's ballot in a survey round counts with: their segments and their answers.
Respondent = tuple[Iterable[str], Mapping[str, str]]


def segments_text(segments: Iterable[str]) -> str:
    """A voter's segments as a set, spelt one way: sorted, distinct, compact JSON."""
    return _spelt(tuple(segments))


@lru_cache(maxsize=4096)
def _spelt(segments: tuple[str, ...]) -> str:
    # A few distinct combinations per meeting, asked for twice per ballot by the writer.
    return json.dumps(sorted(set(segments)), separators=(",", ":"), ensure_ascii=False)


def contributions(area_item: str, segments: str, marks: Mapping[str, str]) -> Counter[CountKey]:
    """The rows one ballot adds: its cell's respondent and each of its answers (module doc).
    `segments` is the voter's `segments_text`."""
    area = marks.get(area_item)
    out: Counter[CountKey] = Counter({(area, segments, None, None): 1})
    for item, answer in marks.items():
        out[(area, segments, item, answer)] += 1
    return out


def difference(area_item: str, old: Respondent | None, new: Respondent | None) -> Counter[CountKey]:
    """What replacing the ballot `old` by `new` changes (None: no ballot, before or after),
    each as the voter's segments and marks: the new ballot's rows added, the old one's
    subtracted; rows that do not change are left out (a resend changes nothing)."""
    if old is not None and new is not None:
        segments, area = segments_text(new[0]), new[1].get(area_item)
        if (segments, area) == (segments_text(old[0]), old[1].get(area_item)):
            return _changed(area, segments, old[1], new[1])  # the usual case: one cell
    out: Counter[CountKey] = Counter()
    if new is not None:
        out.update(contributions(area_item, segments_text(new[0]), new[1]))
    if old is not None:
        out.subtract(contributions(area_item, segments_text(old[0]), old[1]))
    return Counter({k: n for k, n in out.items() if n})


def row_key(key: CountKey) -> str:
    """The stored row's id within its round: 32 hex digits of SHA-256 over the four parts, so
    the primary key is short whatever the answer's or the segments' length."""
    text = json.dumps(key, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _changed(
    area: str | None, segments: str, old: Mapping[str, str], new: Mapping[str, str]
) -> Counter[CountKey]:
    # The same cell before and after: only the answers given, changed or withdrawn move (a
    # survey resumed screen by screen adds a few answers to a ballot of dozens).
    out: Counter[CountKey] = Counter()
    for item, answer in new.items():
        if old.get(item) != answer:
            out[(area, segments, item, answer)] += 1
    for item, answer in old.items():
        if new.get(item) != answer:
            out[(area, segments, item, answer)] -= 1
    return out
