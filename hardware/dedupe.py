"""Removes transport duplicates (retransmissions, repeated reports) before the ballot layer.

Rules (keypads.md 5.4):

* With ``seq`` (KPL, iClicker, sim): a press is a duplicate when the same
  ``(keypad, seq, key)`` was seen within ``window_s`` (30 s). Each keypad keeps a ring of its
  last `RING` presses. The seq is 8-bit and wraps; a keypad would need 256 presses inside 30 s
  to alias, far beyond the ~1 press/s a person manages.
* Without ``seq`` (wedge, legacy text, SunVote): a duplicate is the same key as the keypad's
  previous press within ``debounce_s`` (1.5 s by default, per driver). The window slides
  (every repeat restarts it), so a receiver retrying every second for 8 s collapses to one.
  Comparing with the *previous* press only lets A, B, A through as three real changes.
* The receiver is not part of any key, so one keypad heard by two receivers counts once.
* Vote changes (B after A) always pass; the ballot layer decides what a change means.

`Deduplicator` is pure: it reads ``press.at`` and keeps no clock of its own. Memory stays
bounded: keypads silent for longer than the window are pruned every `PRUNE_EVERY` presses.
"""

from __future__ import annotations

from collections import deque

from .base import KeypadPress

__all__ = ["Deduplicator"]

WINDOW_S = 30.0
DEBOUNCE_S = 1.5
RING = 32  # per keypad: 32 presses inside 30 s is already an impossible rate for a person
PRUNE_EVERY = 1024  # presses between sweeps of silent keypads; a sweep is O(keypads)


class Deduplicator:
    """``accept(press)`` is False for a transport duplicate."""

    def __init__(self, *, window_s: float = WINDOW_S, debounce_s: float = DEBOUNCE_S) -> None:
        self.window_s = window_s
        self.debounce_s = debounce_s
        self.duplicates = 0
        self._rings: dict[str, deque[tuple[int, str, float]]] = {}
        self._last: dict[str, tuple[str, float]] = {}
        self._since_prune = 0

    def accept(self, press: KeypadPress, *, debounce_s: float | None = None) -> bool:
        """Record ``press``; False if it repeats one seen inside its window."""
        self._since_prune += 1
        if self._since_prune >= PRUNE_EVERY:
            self.prune(press.at)
        if press.seq is None:
            fresh = self._accept_unsequenced(
                press, self.debounce_s if debounce_s is None else debounce_s
            )
        else:
            fresh = self._accept_sequenced(press, press.seq)
        if not fresh:
            self.duplicates += 1
        return fresh

    def _accept_sequenced(self, press: KeypadPress, seq: int) -> bool:
        ring = self._rings.get(press.keypad)
        if ring is None:
            ring = self._rings[press.keypad] = deque(maxlen=RING)
        for seen_seq, seen_key, seen_at in ring:
            if (
                seen_seq == seq
                and seen_key == press.key
                and 0 <= press.at - seen_at <= self.window_s
            ):
                return False
        ring.append((seq, press.key, press.at))
        return True

    def _accept_unsequenced(self, press: KeypadPress, debounce_s: float) -> bool:
        previous = self._last.get(press.keypad)
        self._last[press.keypad] = (press.key, press.at)
        if previous is None:
            return True
        key, at = previous
        return not (key == press.key and 0 <= press.at - at <= debounce_s)

    def prune(self, now: float) -> None:
        """Forget keypads whose newest press is older than the window."""
        self._since_prune = 0
        horizon = now - max(self.window_s, self.debounce_s)
        for keypad in [k for k, ring in self._rings.items() if not ring or ring[-1][2] < horizon]:
            del self._rings[keypad]
        for keypad in [k for k, (_, at) in self._last.items() if at < horizon]:
            del self._last[keypad]

    def reset(self) -> None:
        self._rings.clear()
        self._last.clear()
