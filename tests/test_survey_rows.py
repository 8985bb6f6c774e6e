"""A survey ballot's rows in its round's kept counts (app/rules/survey_rows.py): what one ballot
adds, what replacing it changes, and that any sequence of changes sums to counting the final
ballots afresh."""

from __future__ import annotations

import random
from collections import Counter

from app.rules import survey_rows as rows
from app.rules.survey_rows import CountKey

AREA = "area"


def test_one_ballot_counts_its_cell_s_respondent_and_each_answer() -> None:
    marks = {"area": "w1", "s1-value": "4", "many": "a;b"}
    got = rows.contributions(AREA, rows.segments_text(["young", "carers", "young"]), marks)
    cell = ("w1", '["carers","young"]')
    assert got == Counter(
        {
            (*cell, None, None): 1,
            (*cell, "area", "w1"): 1,
            (*cell, "s1-value", "4"): 1,
            (*cell, "many", "a;b"): 1,
        }
    )
    empty = rows.contributions(AREA, rows.segments_text([]), {})
    assert empty == Counter({(None, "[]", None, None): 1})


def test_a_replacement_changes_only_what_differs_and_a_resend_nothing() -> None:
    old = (["young"], {"area": "w1", "q": "1", "r": "2"})
    new = (["young"], {"area": "w1", "q": "3", "r": "2"})
    assert rows.difference(AREA, old, new) == Counter(
        {("w1", '["young"]', "q", "3"): 1, ("w1", '["young"]', "q", "1"): -1}
    )
    assert rows.difference(AREA, new, new) == Counter()
    # Another order of the same segments is the same cell: nothing moves.
    assert rows.difference(AREA, (["a", "b"], {"q": "1"}), (["b", "a"], {"q": "1"})) == Counter()
    moved = rows.difference(AREA, (["a"], {"q": "1"}), (["b"], {"q": "1"}))
    assert sorted(moved.values()) == [-1, -1, 1, 1]


def test_any_sequence_of_changes_sums_to_the_final_ballots_counted() -> None:
    rng = random.Random(15)
    final: dict[int, tuple[list[str], dict[str, str]]] = {}
    kept: Counter[CountKey] = Counter()
    for _ in range(2000):
        voter = rng.randrange(40)
        segments = [s for s in "abc" if rng.random() < 0.4]
        marks = {k: rng.choice("123") for k in ("area", "q", "r") if rng.random() < 0.7}
        new = (segments, marks)
        kept.update(rows.difference(AREA, final.get(voter), new))
        final[voter] = new
    fresh: Counter[CountKey] = Counter()
    for segments, marks in final.values():
        fresh.update(rows.contributions(AREA, rows.segments_text(segments), marks))
    assert +kept == fresh and all(n >= 0 for n in kept.values())


def test_row_keys_are_short_and_tell_the_parts_apart() -> None:
    long = "x" * 500
    keys = {
        rows.row_key(("w1", "[]", None, None)),
        rows.row_key(("w1", "[]", "q", None)),
        rows.row_key((None, "[]", None, None)),
        rows.row_key(("w1", "[]", "q", long)),
        rows.row_key(("w1", '["a"]', "q", long)),
    }
    assert len(keys) == 5 and all(len(k) == 32 for k in keys)
