"""``sim://``: virtual keypads for demos, rehearsals and tests.

Each "wave" is one vote: every keypad presses with probability ``turnout`` after a human
reaction time, a fraction ``change`` press a second, different key a few seconds later, and a
fraction ``dup`` of transmissions are repeated 30-250 ms later with the same seq, the way radio
keypads retry until acked (keypads.md 1.7). The manager's de-duplication must remove those.

Determinism: everything random comes from ``random.Random(seed)``; with the same seed and the
same arm/disarm calls the same presses (keypad, key, seq) come in the same order at the same
offsets. `plan_wave` is the pure part and is tested on its own.

Control: with ``auto`` (default) waves start at open and every ``period`` seconds; ``arm()``
starts a new wave at once with its ``choices``; ``disarm()`` stops pressing until the next
``arm()``. ``waves=N`` ends the stream after N waves (``presses()`` finishes); ``speed`` scales
time (2 = twice as fast, 0 = no waiting at all).
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from dataclasses import dataclass

from .base import Capabilities, Clock, Decoded, ReceiverBase, Sleep

__all__ = ["SimConfig", "SimReceiver", "plan_wave"]

NAMESPACE = "sim"
# Human reaction to "press now": log-normal, median 4 s, ~90 % within 8.7 s (sigma 0.6).
REACTION_MEDIAN_S = 4.0
REACTION_SIGMA = 0.6
REACTION_RANGE_S = (0.3, 20.0)
CHANGE_AFTER_S = (1.0, 6.0)  # a voter who changes their mind does so within seconds
RETRY_GAP_S = (0.03, 0.25)  # nRF24/TurningPoint-style radio retries come within tens of ms
MAX_RETRIES = 2


@dataclass(frozen=True, slots=True)
class SimConfig:
    keypads: int = 20
    seed: int | None = None
    dup: float = 0.1
    choices: int = 4
    change: float = 0.1
    turnout: float = 0.9
    speed: float = 1.0
    waves: int = 0  # 0 = forever
    period: float = 30.0
    auto: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.keypads <= 100_000:
            raise ValueError("keypads must be 1..100000")
        if not 1 <= self.choices <= 10:
            raise ValueError("choices must be 1..10 (keys 1..9, 0)")
        for name in ("dup", "change", "turnout"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.speed < 0 or self.period <= 0 or self.waves < 0:
            raise ValueError("speed must be >= 0, period > 0, waves >= 0")


def key_for(choice: int) -> str:
    """1..9 -> "1".."9", 10 -> "0" (keys labelled 1/A ... 0/J)."""
    return str(choice % 10)


def keypad_ids(rng: random.Random, n: int) -> list[str]:
    """``n`` distinct ids shaped like a 3-byte radio address: ``sim:0A1B2C``."""
    ids: dict[str, None] = {}
    while len(ids) < n:
        ids[f"{NAMESPACE}:{rng.getrandbits(24):06X}"] = None
    return list(ids)


def plan_wave(
    rng: random.Random,
    keypads: list[str],
    seqs: dict[str, int],
    config: SimConfig,
    choices: int,
) -> list[tuple[float, str, str, int]]:
    """One vote's transmissions as (offset s, keypad, key, seq), sorted by offset.

    ``seqs`` holds each keypad's last 8-bit seq and is advanced (it persists across waves).
    """
    plan: list[tuple[float, str, str, int]] = []
    low, high = REACTION_RANGE_S
    for keypad in keypads:
        if rng.random() >= config.turnout:
            continue
        at = min(high, max(low, rng.lognormvariate(math.log(REACTION_MEDIAN_S), REACTION_SIGMA)))
        choice = rng.randint(1, choices)
        presses = [(at, choice)]
        if choices > 1 and rng.random() < config.change:
            other = rng.choice([c for c in range(1, choices + 1) if c != choice])
            presses.append((at + rng.uniform(*CHANGE_AFTER_S), other))
        for when, pick in presses:
            seq = seqs[keypad] = (seqs.get(keypad, -1) + 1) % 256
            plan.append((when, keypad, key_for(pick), seq))
            retry_at = when
            for _ in range(MAX_RETRIES):
                if rng.random() >= config.dup:
                    break
                retry_at += rng.uniform(*RETRY_GAP_S)
                plan.append((retry_at, keypad, key_for(pick), seq))
    plan.sort(key=lambda item: item[0])
    return plan


class SimReceiver(ReceiverBase):
    """N virtual keypads (see the module docstring)."""

    kind = "sim"
    capabilities = Capabilities(arm=True, seq=True)

    def __init__(
        self,
        config: SimConfig | None = None,
        *,
        name: str | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(name or "sim", clock=clock)
        self.config = config or SimConfig()
        self._sleep = sleep
        self._rng = random.Random(self.config.seed)
        self.keypads = keypad_ids(self._rng, self.config.keypads)
        self._seqs: dict[str, int] = {}
        self._waves_done = 0
        self._choices = self.config.choices
        self._runner: asyncio.Task[None] | None = None
        self.info.update(keypads=str(self.config.keypads), seed=str(self.config.seed))

    async def _connect(self) -> None:
        if self.config.auto:
            self._start()

    async def _disconnect(self) -> None:
        await self._stop()

    def _start(self) -> None:
        self._runner = asyncio.get_running_loop().create_task(self._run())

    async def _stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None and runner is not asyncio.current_task():
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)

    async def _wait(self, seconds: float) -> None:
        if self.config.speed == 0:
            await asyncio.sleep(0)  # still let the consumer run between presses
        else:
            await self._sleep(seconds / self.config.speed)

    async def _run(self) -> None:
        limit = self.config.waves
        while not limit or self._waves_done < limit:
            plan = plan_wave(self._rng, self.keypads, self._seqs, self.config, self._choices)
            elapsed = 0.0
            for offset, keypad, key, seq in plan:
                await self._wait(offset - elapsed)
                elapsed = offset
                self._emit(Decoded(keypad, key, seq, None))
            self._waves_done += 1
            if limit and self._waves_done >= limit:
                break
            await self._wait(max(0.0, self.config.period - elapsed))
        self._finish()

    async def arm(self, question: int | None = None, *, choices: int | None = None) -> None:
        await self._stop()
        self._choices = max(1, min(10, choices or self.config.choices))
        if self.is_open:
            self._start()

    async def disarm(self) -> None:
        await self._stop()
