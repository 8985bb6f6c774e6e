"""Tests for app.rules.charter_review: the review scorecard per party and its history."""

from __future__ import annotations

from fractions import Fraction

import pytest

from app.rules import charter_doc as cd
from app.rules.charter_review import (
    RATING_SCALE,
    Rating,
    Tally,
    history,
    percent,
    scorecard,
)

K, P, N = Rating.KEPT, Rating.PARTLY, Rating.NOT_KEPT

CHARTER = cd.Charter(
    "Charter",
    parties=(
        cd.Party("council", "Council", cd.PartyKind.COUNCIL),
        cd.Party("bus", "Bus company", cd.PartyKind.PROVIDER),
        cd.Party("residents", "Residents", cd.PartyKind.RESIDENTS),
    ),
    commitments=(
        cd.Commitment("repairs", "council", "Repairs in 28 days"),
        cd.Commitment("report", "council", "Report every quarter"),
        cd.Commitment("late-bus", "bus", "A late bus on Fridays"),
        cd.Commitment("litter", "residents", "Litter picks"),
    ),
)


def test_a_partys_score_is_the_mean_of_kept_one_partly_half_not_zero() -> None:
    """Council: 4 kept, 2 partly, 0 not on one commitment and 1, 1, 2 on another: (2*5+3)/(2*10)."""
    ratings = {
        "repairs": [K, K, K, K, P, P],
        "report": [K, P, N, N],
        "late-bus": [N, N, N, P, K],
    }
    council, bus, residents = scorecard(CHARTER, ratings, group_min=3)
    assert council.tally == Tally(kept=5, partly=3, not_kept=2)
    assert council.score == Fraction(13, 20)
    assert percent(Fraction(13, 20)) == 65
    assert [line.tally.score for line in council.commitments] == [Fraction(5, 6), Fraction(3, 8)]
    assert bus.score == Fraction(3, 10)
    assert residents.score is None and residents.commitments[0].suppressed  # nobody rated


def test_a_commitment_rated_by_fewer_than_m_is_hidden_and_left_out_of_the_party_score() -> None:
    """Two ratings under m = 3 show no figures and do not move the party's score."""
    ratings = {"repairs": [K, K, K], "report": [N, N]}
    council = scorecard(CHARTER, ratings, group_min=3)[0]
    repairs, report = council.commitments
    assert not repairs.suppressed and report.suppressed
    assert report.tally == Tally()  # its figures are not carried
    assert (council.score, council.tally.n) == (Fraction(1), 3)


def test_ratings_for_an_unknown_commitment_are_refused() -> None:
    """A rating for a commitment the charter does not have raises, never silently drops."""
    with pytest.raises(ValueError, match="does not have"):
        scorecard(CHARTER, {"gone": [K]}, group_min=1)


def test_percent_rounds_halves_up_exactly() -> None:
    """1/8 is 12.5 %: shown as 13; 1/3 as 33; 2/3 as 67."""
    assert [percent(Fraction(1, 8)), percent(Fraction(1, 3)), percent(Fraction(2, 3))] == [
        13,
        33,
        67,
    ]


def test_history_follows_each_party_across_reviews() -> None:
    """Each review keeps its place; the change is against the party's last scored review."""
    first = scorecard(CHARTER, {"repairs": [N, N, P], "late-bus": [K, K, K]}, group_min=3)
    second = scorecard(CHARTER, {"repairs": [K, K, P]}, group_min=3)
    third = scorecard(CHARTER, {"repairs": [K, K, K], "late-bus": [K, P, N]}, group_min=3)
    h = history([("2027 spring", first), ("2027 autumn", second), ("2028 spring", third)])
    assert list(h) == ["council", "bus", "residents"]
    council = h["council"]
    assert [pt.score for pt in council] == [Fraction(1, 6), Fraction(5, 6), Fraction(1)]
    assert [pt.change for pt in council] == [None, Fraction(2, 3), Fraction(1, 6)]
    bus = h["bus"]
    assert [pt.score for pt in bus] == [Fraction(1), None, Fraction(1, 2)]
    assert bus[2].change == Fraction(-1, 2)  # against the spring of 2027: autumn had none
    assert [pt.n for pt in bus] == [3, 0, 3]


def test_review_scale_answers_on_keys_one_to_three() -> None:
    """Keypads rate 1 kept, 2 partly kept, 3 not kept."""
    assert [RATING_SCALE.answer_for_key(k) for k in (1, 2, 3)] == ["kept", "partly", "not"]
    assert RATING_SCALE.label("partly") == "Partly kept"
