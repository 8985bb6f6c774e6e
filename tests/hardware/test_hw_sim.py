"""sim:// virtual keypads: deterministic with a seed, realistic duplicates, arm control."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from hardware.sim import SimConfig, SimReceiver, keypad_ids, plan_wave


def plan(seed: int, **overrides: Any) -> list[tuple[float, str, str, int]]:
    config = SimConfig(keypads=50, seed=seed, **overrides)
    rng = random.Random(seed)
    return plan_wave(rng, keypad_ids(rng, config.keypads), {}, config, config.choices)


def test_same_seed_same_plan_other_seed_other_plan() -> None:
    """A seed fixes every press, key, seq and offset; another seed changes them."""
    assert plan(7) == plan(7)
    assert plan(7) != plan(8)


def test_plan_is_sorted_and_within_human_reaction_times() -> None:
    """Offsets are ordered and fall between 0.3 s and the reaction cap plus a change."""
    offsets = [t for t, *_ in plan(3)]
    assert offsets == sorted(offsets)
    assert offsets[0] >= 0.3 and offsets[-1] <= 20.0 + 6.0 + 0.5


def test_retransmissions_repeat_key_and_seq() -> None:
    """With dup=1 every press is sent more than once with the same key and seq."""
    sent = Counter((k, key, seq) for _, k, key, seq in plan(5, dup=1.0, change=0.0))
    assert sent and all(n == 3 for n in sent.values())  # the press plus MAX_RETRIES


def test_changes_press_a_different_key_with_the_next_seq() -> None:
    """A keypad that changes its mind sends another key with seq+1."""
    by_keypad: dict[str, list[tuple[str, int]]] = {}
    for _, keypad, key, seq in plan(11, change=1.0, dup=0.0, turnout=1.0):
        by_keypad.setdefault(keypad, []).append((key, seq))
    assert len(by_keypad) == 50
    for (first, s1), (second, s2) in by_keypad.values():
        assert first != second and s2 == s1 + 1


def test_keys_stay_within_the_choices() -> None:
    """choices=3 only ever presses 1, 2 or 3; choices=10 maps choice 10 to key 0."""
    assert {key for _, _, key, _ in plan(2, choices=3)} <= {"1", "2", "3"}
    assert "0" in {key for _, _, key, _ in plan(2, choices=10, turnout=1.0)}


def test_bad_configuration_is_refused() -> None:
    """Out-of-range parameters raise ValueError."""
    for bad in ({"keypads": 0}, {"choices": 11}, {"dup": 1.5}, {"speed": -1}):
        with pytest.raises(ValueError):
            SimConfig(**bad)


async def run_sim(fake_time: Any, **config: Any) -> list[tuple[str, str, int | None, float]]:
    receiver = SimReceiver(SimConfig(**config), clock=fake_time.clock, sleep=fake_time.sleep)
    async with receiver:
        return [(p.keypad, p.key, p.seq, p.at) async for p in receiver.presses()]


async def test_receiver_is_deterministic_in_fake_time(fake_time: Any) -> None:
    """Two runs with one seed yield identical presses at identical times, then end."""
    first = await run_sim(fake_time, keypads=30, seed=42, waves=2, period=30.0)
    fake_time.now = 1000.0
    second = await run_sim(fake_time, keypads=30, seed=42, waves=2, period=30.0)
    assert first == second
    assert len({keypad for keypad, *_ in first}) >= 20
    assert first[-1][3] - first[0][3] > 30.0  # the second wave starts a period later


async def test_speed_zero_runs_without_sleeping(fake_time: Any) -> None:
    """speed=0 emits a whole wave without calling the injected sleep."""
    presses = await run_sim(fake_time, keypads=100, seed=1, waves=1, speed=0)
    assert len(presses) >= 80 and fake_time.sleeps == []


async def test_arm_starts_a_wave_with_the_given_choices(fake_time: Any) -> None:
    """Without auto, nothing happens until arm(); then keys respect its choices."""
    receiver = SimReceiver(
        SimConfig(keypads=40, seed=9, waves=1, auto=False, choices=10, speed=0),
        clock=fake_time.clock,
        sleep=fake_time.sleep,
    )
    async with receiver:
        assert receiver.stats == {}
        await receiver.arm(1, choices=2)
        keys = {p.key async for p in receiver.presses()}
    assert keys <= {"1", "2"}
