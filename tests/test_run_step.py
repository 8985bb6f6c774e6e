"""The Run page's next step (app/rules/run.py): a pure function of the meeting's rounds."""

from __future__ import annotations

import pytest

from app.core.vocab import RoundStatus
from app.rules.run import RoundFacts, RunStep, latest_counted, run_step


def facts(
    number: int,
    status: RoundStatus = RoundStatus.CLOSED,
    *,
    revealed: bool = False,
    counting_down: bool = False,
    previewed: bool = False,
    online: bool = False,
) -> RoundFacts:
    return RoundFacts(number, status, revealed, counting_down, previewed, online)


@pytest.mark.parametrize(
    ("rounds", "step"),
    [
        ([], RunStep.FIRST),
        ([facts(1, RoundStatus.OPEN)], RunStep.OPEN),
        ([facts(1, RoundStatus.OPEN, counting_down=True)], RunStep.CLOSING),
        # A survey online for a set period: its closing is a date, not a countdown.
        ([facts(1, RoundStatus.OPEN, counting_down=True, online=True)], RunStep.ONLINE),
        ([facts(1, online=True)], RunStep.CLOSED),
        ([facts(1)], RunStep.CLOSED),
        ([facts(1, previewed=True)], RunStep.PREVIEWED),
        ([facts(1, revealed=True)], RunStep.REVEALED),
        ([facts(1, revealed=True, previewed=True)], RunStep.REVEALED),
        # The latest round decides, in whatever order the rounds come.
        ([facts(2, RoundStatus.OPEN), facts(1, revealed=True)], RunStep.OPEN),
        ([facts(1, revealed=True), facts(2)], RunStep.CLOSED),
    ],
)
def test_the_next_step_follows_the_latest_round(rounds: list[RoundFacts], step: RunStep) -> None:
    """Open round 1 → Close → (countdown) → Preview → Reveal → Open the next round."""
    assert run_step(rounds) is step


def test_voided_rounds_are_skipped() -> None:
    """Voiding a rehearsal round puts the page back where it was before that round."""
    assert run_step([facts(1, RoundStatus.VOIDED)]) is RunStep.FIRST
    earlier = facts(1, revealed=True)
    assert run_step([earlier, facts(2, RoundStatus.VOIDED)]) is RunStep.REVEALED
    assert latest_counted([earlier, facts(2, RoundStatus.VOIDED)]) == earlier
    assert latest_counted([facts(3, RoundStatus.VOIDED)]) is None
