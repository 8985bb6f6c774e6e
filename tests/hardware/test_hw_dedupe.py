"""De-duplication of transport duplicates (keypads.md 5.4)."""

from __future__ import annotations

from hardware.base import KeypadPress
from hardware.dedupe import PRUNE_EVERY, Deduplicator


def p(keypad: str, key: str, seq: int | None, at: float, receiver: str = "r1") -> KeypadPress:
    return KeypadPress(receiver, keypad, key, seq, at)


def test_retransmission_with_the_same_seq_is_dropped() -> None:
    """The same (keypad, seq, key) inside the window is a duplicate."""
    d = Deduplicator()
    assert d.accept(p("kpl:A", "B", 17, 0.0))
    assert not d.accept(p("kpl:A", "B", 17, 8.0))
    assert d.duplicates == 1


def test_same_seq_after_the_window_passes() -> None:
    """After window_s the seq may have wrapped: the press counts again."""
    d = Deduplicator(window_s=30.0)
    assert d.accept(p("kpl:A", "B", 17, 0.0))
    assert d.accept(p("kpl:A", "B", 17, 31.0))


def test_vote_changes_pass() -> None:
    """A new seq or a new key is a new press, including going back to an earlier key."""
    d = Deduplicator()
    assert [
        d.accept(p("kpl:A", k, s, t)) for k, s, t in [("A", 1, 0), ("B", 2, 1), ("A", 3, 2)]
    ] == [
        True,
        True,
        True,
    ]
    assert d.accept(p("kpl:A", "C", 2, 3))  # same seq, other key: not the same packet


def test_the_same_keypad_heard_by_two_receivers_counts_once() -> None:
    """The receiver is not part of the key: cross-receiver duplicates collapse."""
    d = Deduplicator()
    assert d.accept(p("kpl:A", "B", 5, 0.0, receiver="front"))
    assert not d.accept(p("kpl:A", "B", 5, 0.01, receiver="back"))


def test_unsequenced_repeats_are_debounced_with_a_sliding_window() -> None:
    """Without seq the same key within debounce_s is dropped, and each repeat extends it."""
    d = Deduplicator(debounce_s=1.5)
    results = [d.accept(p("wedge:1", "2", None, t)) for t in (0.0, 1.0, 2.0, 3.0, 5.0)]
    assert results == [True, False, False, False, True]


def test_unsequenced_changes_pass_even_back_and_forth() -> None:
    """A, B, A in quick succession are three real changes."""
    d = Deduplicator(debounce_s=1.5)
    assert [
        d.accept(p("sunvote:3", k, None, t)) for k, t in [("1", 0), ("2", 0.2), ("1", 0.4)]
    ] == [
        True,
        True,
        True,
    ]


def test_per_driver_debounce_overrides_the_default() -> None:
    """accept(debounce_s=...) uses that window for this press."""
    d = Deduplicator(debounce_s=1.5)
    assert d.accept(p("wedge:1", "2", None, 0.0))
    assert d.accept(p("wedge:1", "2", None, 0.6), debounce_s=0.5)


def test_silent_keypads_are_pruned() -> None:
    """Memory stays bounded: keypads silent past the window are forgotten."""
    d = Deduplicator(window_s=30.0)
    for i in range(PRUNE_EVERY - 1):
        d.accept(p(f"kpl:{i}", "A", 1, 0.0))
    d.accept(p("kpl:late", "A", 1, 100.0))
    assert list(d._rings) == ["kpl:late"]
