"""Answer scales (app/rules/scales.py): strict, bounded parsing and the keypad keys."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.rules import scales
from app.rules.scales import (
    WANT_SCALE,
    AnswerScale,
    Choice,
    ChoiceScale,
    MultiChoiceScale,
    Problem,
    RangeScale,
    TextScale,
)
from app.rules.tally import Mark

RATING = RangeScale(1, 5, {1: "Very poor", 5: "Very good"})
USE = ChoiceScale(
    (Choice("never", 1, "Never"), Choice("sometimes", 2, "Sometimes"), Choice("often", 3, "Often"))
)
CONTRIBUTE = MultiChoiceScale(
    (Choice("time", None, "Time"), Choice("money", None, "Money"), Choice("ideas", None, "Ideas")),
    most=2,
)
SHORT = TextScale(max_length=20)
EVERY_SCALE: list[AnswerScale] = [WANT_SCALE, RATING, USE, CONTRIBUTE, SHORT]


def test_the_room_vote_scale_stores_exactly_the_marks_of_today() -> None:
    """want / dont_want / neutral, keys 1 / 2 / 3, nothing else: tally.Mark's values."""
    assert [WANT_SCALE.parse(m.value) for m in Mark] == [m.value for m in Mark]
    keys = {k: WANT_SCALE.answer_for_key(k) for k in range(10)}
    assert keys == {1: "want", 2: "dont_want", 3: "neutral"} | {k: None for k in (0, *range(4, 10))}
    assert WANT_SCALE.keypad_choices == 3
    assert WANT_SCALE.label("dont_want") == "DON'T WANT"


@pytest.mark.parametrize(
    ("scale", "raw", "stored"),
    [
        (WANT_SCALE, "want", "want"),
        (RATING, "1", "1"),
        (RATING, "5", "5"),
        (CONTRIBUTE, "time", "time"),
        (CONTRIBUTE, "time;ideas", "time;ideas"),
        (SHORT, "  More buses\n", "More buses"),
        (SHORT, "Cafe\u0301 \u202eopen", "Café open"),
        (RangeScale(-2, 2), "-2", "-2"),
        (RangeScale(-2, 2), "0", "0"),
    ],
)
def test_an_answer_is_stored_in_its_one_canonical_spelling(
    scale: AnswerScale, raw: str, stored: str
) -> None:
    """A valid answer parses to its stored value (text cleaned like every other text)."""
    assert scale.parse(raw) == stored


@pytest.mark.parametrize(
    ("scale", "raw", "says"),
    [
        (WANT_SCALE, "maybe", "must be one of want, dont_want, neutral, not 'maybe'"),
        (WANT_SCALE, "WANT", "not 'WANT'"),
        (WANT_SCALE, "", "not ''"),
        (RATING, "6", "from 1 to 5, not '6'"),
        (RATING, "0", "not '0'"),
        (RATING, "04", "not '04'"),
        (RATING, " 4", "not ' 4'"),
        (RATING, "4.0", "not '4.0'"),
        (RATING, "٤", "not '٤'"),  # an Arabic-Indic four: int() would take it
        (RATING, "1_0", "not '1_0'"),
        (RangeScale(-2, 2), "-0", "not '-0'"),
        (CONTRIBUTE, "time;time", "each once"),
        (CONTRIBUTE, "cake", "not 'cake'"),
        (CONTRIBUTE, "", "not ''"),
        (CONTRIBUTE, "time;money;ideas", "at most 2"),
        (CONTRIBUTE, "ideas;time", "in the order time, money, ideas"),
        (SHORT, "x" * 21, "at most 20 characters"),
        (SHORT, " \u200b\t", "is empty"),
        (SHORT, "x" * (scales.MAX_RAW_CHARS + 1), "at most 20 characters"),
    ],
)
def test_anything_else_is_a_problem_that_says_why(scale: AnswerScale, raw: str, says: str) -> None:
    """A refused answer is a Problem whose message names the item and the reason."""
    problem = scale.parse(raw)
    assert isinstance(problem, Problem)
    message = problem.message("library")
    assert message.startswith("An answer on library ") and says in message


def test_a_refused_value_is_quoted_only_briefly() -> None:
    """A hostile 1,000-character value is not echoed back whole."""
    problem = RATING.parse("9" * 1000)
    assert isinstance(problem, Problem)
    assert len(problem.message("q1")) < 120


@given(st.sampled_from(EVERY_SCALE), st.text(max_size=60))
def test_parse_never_raises_and_its_values_are_fixed_points(scale: AnswerScale, raw: str) -> None:
    """Any string is an answer or a Problem; a stored value parses to itself (resends match)."""
    out = scale.parse(raw)
    if not isinstance(out, Problem):
        assert scale.parse(out) == out


@given(st.integers(min_value=-5, max_value=15))
def test_a_keypad_key_gives_an_answer_the_scale_accepts(key: int) -> None:
    """Every key a scale maps gives a value its own parse accepts; other keys give None."""
    for scale in EVERY_SCALE:
        value = scale.answer_for_key(key)
        in_keys = 1 <= key <= scale.keypad_choices
        assert (value is not None) == in_keys
        if value is not None:
            assert scale.parse(value) == value


def test_keypads_answer_ratings_but_not_texts_or_sets() -> None:
    """Key 4 on a 1-5 rating is 4; a 0-10 scale, a set or a text has no keypad keys."""
    assert RATING.answer_for_key(4) == "4" and RATING.keypad_choices == 5
    assert RangeScale(0, 10).keypad_choices == 0 and RangeScale(0, 10).answer_for_key(4) is None
    assert CONTRIBUTE.keypad_choices == 0 and SHORT.keypad_choices == 0


def test_the_screens_get_each_scale_as_json() -> None:
    """describe(): the type and the answers with their keys and label msgids."""
    assert WANT_SCALE.describe()["answers"][1] == {
        "value": "dont_want",
        "key": 2,
        "label": "DON'T WANT",
    }
    rating = RATING.describe()
    assert rating["type"] == "range" and [a["key"] for a in rating["answers"]] == [1, 2, 3, 4, 5]
    assert rating["answers"][4]["label"] == "Very good" and rating["answers"][2]["label"] == "3"
    assert SHORT.describe() == {"type": "text", "max_length": 20}
    assert CONTRIBUTE.label("time;ideas") == "Time; Ideas"


@pytest.mark.parametrize(
    "make",
    [
        lambda: ChoiceScale(()),
        lambda: ChoiceScale((Choice("a", 1, "A"), Choice("a", 2, "A again"))),
        lambda: ChoiceScale((Choice("a", 1, "A"), Choice("b", 1, "B"))),
        lambda: ChoiceScale((Choice("A b", 1, "A"),)),
        lambda: ChoiceScale((Choice("a", 10, "A"),)),
        lambda: RangeScale(5, 1),
        lambda: RangeScale(1, 5, {6: "six"}),
        lambda: MultiChoiceScale((Choice("a", None, "A"),), most=2),
        lambda: TextScale(max_length=0),
        lambda: TextScale(max_length=scales.TEXT_MAX_LENGTH + 1),
    ],
)
def test_an_inconsistent_scale_cannot_be_made(make: object) -> None:
    """Repeated values or keys, keys beyond 9, empty or reversed ranges: ValueError."""
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]
