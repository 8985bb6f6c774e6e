"""Tests for app.rules.guidance: the help beside R and m, for several meeting sizes, and its
warnings (m out of reach of a typical group or of the whole room, m = 1, no protecting segment).
The explanation is checked against the rule itself (app/rules/tally.py), not only its words."""

from __future__ import annotations

from fractions import Fraction

import pytest

from app.rules.explain import english
from app.rules.guidance import majority_of, rule_guidance, typical_group
from app.rules.tally import Counts, Rule, protects
from app.web.i18n import gettext_for


def test_sixty_people_the_issue_s_example() -> None:
    """With about 60 people, R = 2 and m = 5 in 4 protecting segments: the room needs 31 DON'T
    WANT to reject, a group at least 5 WANTs and a majority of its voters; no warning."""
    g = rule_guidance(2, 5, 60, 4, english)
    assert g.warnings == ()
    room, group = g.explanation
    assert "expected attendance of 60" in room
    assert "at least 31 of them say DON'T WANT" in room
    assert "at least 2 DON'T WANTs for every WANT" in room
    assert "at least 5 of its members WANT it" in group
    assert "more than half of the group's members who vote" in group
    assert "at least 2 WANTs for every DON'T WANT" in group


@pytest.mark.parametrize(("n", "half"), [(1, 1), (5, 3), (6, 4), (60, 31), (61, 31), (87, 44)])
def test_the_room_s_majority_is_strictly_more_than_half(n: int, half: int) -> None:
    """ "More than half" of n voters is the rule's 2*D > V: n // 2 + 1, said for each size."""
    assert majority_of(n) == half
    assert 2 * half > n and 2 * (half - 1) <= n
    assert (
        f"at least {half} of them say DON'T WANT"
        in rule_guidance(2, 5, n, 1, english).explanation[0]
    )


def test_the_group_words_match_protects_at_its_edges() -> None:
    """What the words promise is what tally.protects decides: m WANTs, more than half of the
    group's voters and R WANTs per DON'T WANT protect; one short of any of them does not."""
    r, m = 2, 5
    rule = Rule(ratio=r, group_min=m)
    assert protects(Counts(V=9, W=5, D=2), rule)
    assert not protects(Counts(V=9, W=4, D=0), rule)  # fewer than m
    assert not protects(Counts(V=10, W=5, D=0), rule)  # exactly half
    assert not protects(Counts(V=9, W=5, D=3), rule)  # short of 2 to 1
    text = rule_guidance(r, m, None, 3, english).explanation[1]
    assert "at least 5 of its members WANT it" in text
    assert "at least 2 WANTs for every DON'T WANT" in text


def test_without_an_attendance_the_explanation_is_general_and_size_warnings_are_off() -> None:
    """No expected attendance: the rule in general terms, and no warning about group sizes
    (there is nothing to compare m with), even for a large m."""
    g = rule_guidance(3, 500, None, 2, english)
    assert g.warnings == ()
    assert "more than half of those who vote" in g.explanation[0]
    assert "at least 3 DON'T WANTs for every WANT" in g.explanation[0]


def test_r_equal_to_one_says_at_least_as_many() -> None:
    """R = 1 is D >= W: "at least as many", not "1 DON'T WANT for every WANT"."""
    g = rule_guidance(1, 5, 40, 2, english)
    assert "at least as many as say WANT" in g.explanation[0]
    assert "at least as many of them WANT it as DON'T WANT it" in g.explanation[1]
    assert "for every" not in " ".join(g.explanation)


def test_the_rehearsal_m_is_larger_than_a_typical_group() -> None:
    """A rehearsal with 5 phones in 2 protecting segments (2.5 each) and the default m = 5:
    no group of typical size can protect, and the warning says so with the numbers."""
    g = rule_guidance(2, 5, 5, 2, english)
    assert len(g.warnings) == 1
    assert "m = 5 is more than a typical group is likely to be" in g.warnings[0]
    assert "5 people shared among 2 segments" in g.warnings[0]
    assert "about 3 per group" in g.warnings[0]  # 2.5, rounded half up


@pytest.mark.parametrize(
    ("attendance", "segments", "m", "warned"),
    [
        (60, 4, 15, False),  # exactly the typical size: reachable
        (60, 4, 16, True),
        (61, 4, 15, False),  # 15.25
        (200, 7, 28, False),  # 28.57...
        (200, 7, 29, True),
        (12, 1, 12, False),
    ],
)
def test_the_typical_group_comparison_is_exact(
    attendance: int, segments: int, m: int, warned: bool
) -> None:
    """The warning is m > attendance / protecting segments, compared exactly (no rounding)."""
    assert (m > typical_group(attendance, segments)) is warned
    assert typical_group(attendance, segments) == Fraction(attendance, segments)
    g = rule_guidance(2, m, attendance, segments, english)
    assert any("typical group" in w for w in g.warnings) is warned


def test_m_larger_than_the_whole_room_is_the_one_size_warning() -> None:
    """m above the expected attendance: no group can ever protect or object, said once (not
    also as the weaker typical-group warning)."""
    g = rule_guidance(2, 50, 30, 3, english)
    assert len(g.warnings) == 1
    assert "m = 50 is more than the 30 people you expect" in g.warnings[0]
    assert "no group can protect or object" in g.warnings[0]


def test_m_equal_to_one_warns_that_one_person_is_a_group() -> None:
    """m = 1: a single voter can protect (W_g = V_g = 1 passes protects), and the help says so."""
    assert protects(Counts(V=1, W=1, D=0), Rule(ratio=2, group_min=1))
    g = rule_guidance(2, 1, 60, 4, english)
    assert len(g.warnings) == 1
    assert "With m = 1 a single person is a protecting group" in g.warnings[0]


def test_no_protecting_segment_is_warned_about() -> None:
    """With no segment that can protect, nobody can protect anything: say what to do."""
    g = rule_guidance(2, 5, 60, 0, english)
    assert len(g.warnings) == 1
    assert g.warnings[0].startswith("No segment can protect yet")


def test_several_warnings_together() -> None:
    """m = 1 and no protecting segment are independent warnings, both given."""
    g = rule_guidance(2, 1, None, 0, english)
    assert [w[:14] for w in g.warnings] == ["No segment can", "With m = 1 a s"]


@pytest.mark.parametrize(
    ("ratio", "m", "attendance", "segments"),
    [(0, 5, 60, 2), (2, 0, 60, 2), (2, 5, 0, 2), (2, 5, 60, -1)],
)
def test_impossible_values_are_refused(ratio: int, m: int, attendance: int, segments: int) -> None:
    """R or m below 1, an attendance below 1 or negative segments: a ValueError, not nonsense."""
    with pytest.raises(ValueError):
        rule_guidance(ratio, m, attendance, segments, english)


def test_every_sentence_is_in_welsh() -> None:
    """Each sentence and warning has a Welsh translation in the catalogue (none falls back to
    English), for both R = 1 and R > 1, with and without an attendance."""
    cy = gettext_for("cy")
    cases = [(2, 5, 60, 4), (1, 5, None, 2), (2, 1, 5, 0), (1, 50, 30, 3), (2, 5, 5, 2)]
    for ratio, m, attendance, segments in cases:
        en = rule_guidance(ratio, m, attendance, segments, english)
        welsh = rule_guidance(ratio, m, attendance, segments, cy)
        assert len(en.explanation) == len(welsh.explanation)
        for e, w in zip(
            en.explanation + en.warnings, welsh.explanation + welsh.warnings, strict=True
        ):
            assert e != w, f"not translated: {e}"
