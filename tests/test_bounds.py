"""The bounds of numbers from outside: a form's id is an id the database holds, or nothing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.core import bounds


@given(st.text(max_size=40))
def test_any_form_text_is_an_id_in_range_or_none(text: str) -> None:
    """Whatever a form sends, db_id gives None or an int from 1 to 2**31-1 spelled exactly so."""
    n = bounds.db_id(text)
    assert n is None or (1 <= n <= bounds.DB_INT_MAX and text.lstrip("0") == str(n))


@given(st.integers())
def test_an_integer_form_field_is_kept_exactly_when_in_range(n: int) -> None:
    """'7' is 7; '-9223372036854775809', '0' and '2147483648' are not ids."""
    assert bounds.db_id(str(n)) == (n if 1 <= n <= bounds.DB_INT_MAX else None)


def test_lookalike_numbers_are_not_ids() -> None:
    """Spaces, signs, underscores and non-ASCII digits, which int() accepts, are refused."""
    for text in (" 7", "+7", "7_0", "\u0667", "7\n", "", "-0", "1e3"):
        assert bounds.db_id(text) is None
