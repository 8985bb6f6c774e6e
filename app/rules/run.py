"""The Run page's next step: which action the facilitator meets first, as a state machine.

Pure: a function of the meeting's rounds as plain facts (no database, no clock). The console
(app/console/run.py) reads the facts from the rounds and shows the step's action as the one
big button at the top of the Run page; everything else is secondary, below it:

    no round ──open──▶ OPEN ──close──▶ CLOSED ──preview──▶ PREVIEWED ──reveal──▶ REVEALED
                        │  ▲                                                       │
                 countdown  cancel                                  open the next round
                        ▼  │                                                       │
                       CLOSING ──(the server closes it at closes_at)──▶ CLOSED     ▼
                                                                                 OPEN ...
    no round ──open online──▶ ONLINE ──(the server closes it at closes_at, or end early)──▶ CLOSED

ONLINE is a survey round online for a set period (app/voting/online.py): opened now or at a
given time, extended or ended early; the steps after CLOSED are the same.

A voided round is skipped: the step is read from the latest round that was not voided (so
voiding a rehearsal round leaves the page where it was before that round was opened).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from app.core.vocab import RoundStatus


class RunStep(StrEnum):
    """The Run page's state; its value names the primary action's form on the page."""

    FIRST = "first"  # no round yet: open round 1
    OPEN = "open"  # a round is open: close voting (now, or with a countdown)
    CLOSING = "closing"  # a countdown runs: wait, close now or cancel it
    ONLINE = "online"  # online for a set period (survey): wait, extend it or end it early
    CLOSED = "closed"  # closed, not looked at yet: preview the results in the console
    PREVIEWED = "previewed"  # previewed in the console: reveal them on the projector
    REVEALED = "revealed"  # on the projector: open the next round


@dataclass(frozen=True, slots=True)
class RoundFacts:
    """What the next step depends on, of one round."""

    number: int
    status: str  # vocab.RoundStatus
    revealed: bool
    counting_down: bool  # a closing countdown runs (`Round.closes_at` is set)
    previewed: bool  # the facilitator has looked at its results in the console
    online: bool = False  # online for a set period (app/voting/online.py), or waiting for it


def latest_counted(rounds: Sequence[RoundFacts]) -> RoundFacts | None:
    """The round with the highest number that was not voided, if any."""
    kept = [r for r in rounds if r.status != RoundStatus.VOIDED]
    return max(kept, key=lambda r: r.number) if kept else None


def run_step(rounds: Sequence[RoundFacts]) -> RunStep:
    """The Run page's step for a meeting with `rounds` (any order; voided ones are skipped)."""
    latest = latest_counted(rounds)
    if latest is None:
        return RunStep.FIRST
    if latest.status == RoundStatus.OPEN:
        if latest.online:
            return RunStep.ONLINE
        return RunStep.CLOSING if latest.counting_down else RunStep.OPEN
    if latest.revealed:
        return RunStep.REVEALED
    return RunStep.PREVIEWED if latest.previewed else RunStep.CLOSED
