"""ReceiverManager: merged de-duplicated presses, supervision with backoff, re-arming, status."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from hardware.base import (
    Decoded,
    KeypadPress,
    ReceiverBase,
    ReceiverConfigError,
    ReceiverState,
    ReceiverStatus,
    ReceiverUnavailable,
)
from hardware.dedupe import Deduplicator
from hardware.emulator import KplEmulator
from hardware.manager import Backoff, ReceiverManager
from hardware.replay import ReplayReceiver
from hardware.sim import SimConfig, SimReceiver

Factory = Callable[..., ReceiverManager]
Wait = Callable[..., Awaitable[Any]]


class ScriptedReceiver(ReceiverBase):
    """Fails open() with the queued errors, then yields its presses and finishes."""

    kind = "scripted"

    def __init__(self, name: str, failures: list[BaseException], presses: list[Decoded], **kw: Any):
        super().__init__(name, **kw)
        self.failures = failures
        self.script = presses
        self.opens = 0

    async def _connect(self) -> None:
        self.opens += 1
        if self.failures:
            raise self.failures.pop(0)
        for decoded in self.script:
            self._emit(decoded)
        self._finish()

    async def _disconnect(self) -> None:
        return None


async def drain(manager: ReceiverManager) -> list[KeypadPress]:
    """Close the manager and collect every press it had accepted."""
    await manager.aclose()
    return [p async for p in manager.presses()]


def test_backoff_doubles_to_its_cap_with_bounded_jitter() -> None:
    """Delays start at 0.5 s, double, stop at 5 s, and stay within +-20 %."""
    backoff, rng = Backoff(), random.Random(1)
    for attempt, base in enumerate([0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]):
        assert 0.8 * base <= backoff.delay(attempt, rng) <= min(5.0, 1.2 * base)


async def test_merged_stream_drops_the_simulators_retransmissions(
    fake_time: Any, manager_factory: Factory, wait_for_state: Wait
) -> None:
    """Presses from a noisy simulator come out once per (keypad, seq, key)."""
    config = SimConfig(keypads=60, seed=3, dup=0.5, waves=1)
    reference = SimReceiver(config, clock=fake_time.clock, sleep=fake_time.sleep)
    async with reference:
        raw = [p async for p in reference.presses()]
    unique = {(p.keypad, p.seq, p.key) for p in raw}
    assert len(raw) > len(unique)

    manager = manager_factory(clock=fake_time.clock, sleep=fake_time.sleep)
    statuses = manager.statuses()
    manager.add(SimReceiver(config, clock=fake_time.clock, sleep=fake_time.sleep))
    manager.start()
    finished = await wait_for_state(statuses, ReceiverState.FINISHED)
    out = await drain(manager)
    assert sorted((p.keypad, p.seq, p.key) for p in out) == sorted(unique)
    assert (finished.presses, finished.duplicates) == (len(raw), len(raw) - len(unique))


async def test_two_receivers_hearing_one_keypad_count_it_once(
    fixtures: Path, manager_factory: Factory, wait_until: Wait
) -> None:
    """The same presses through two receivers come out once."""
    manager = manager_factory()
    for name in ("front", "back"):
        manager.add(ReplayReceiver(fixtures / "sim_presses.kpcap", speed=0, name=name))
    async with manager:
        await wait_until(lambda: all(s.state is ReceiverState.FINISHED for s in manager.status()))
    out = await drain(manager)
    assert [(p.keypad, p.key, p.seq) for p in out] == [
        ("sim:00A1B2", "1", 0),
        ("sim:00C3D4", "2", 0),
        ("sim:00A1B2", "3", 1),
    ]
    assert sum(s.duplicates for s in manager.status()) == 5


async def test_replayed_unplug_reconnects_with_backoff(
    fixtures: Path, fake_time: Any, manager_factory: Factory, wait_for_state: Wait
) -> None:
    """An unplug backs off, reconnects, and a retransmission after replug stays a duplicate."""
    events: list[ReceiverStatus] = []
    manager = manager_factory(
        clock=fake_time.clock, sleep=fake_time.sleep, rng=random.Random(0), on_status=events.append
    )
    manager.add(
        ReplayReceiver(fixtures / "kpl_unplug.kpcap", clock=fake_time.clock, sleep=fake_time.sleep)
    )
    async with manager:
        await wait_for_state(manager.statuses(), ReceiverState.FINISHED)
    out = await drain(manager)
    assert [(p.keypad, p.key, p.seq) for p in out] == [
        ("kpl:1A2B3C", "1", 1),
        ("kpl:0D0E0F", "3", 9),
    ]
    every = [e.state for e in events]  # a status per press too: keep the changes only
    states = [s for i, s in enumerate(every) if i == 0 or s is not every[i - 1]]
    assert states == [
        ReceiverState.CONNECTING,
        ReceiverState.CONNECTED,
        ReceiverState.DISCONNECTED,
        ReceiverState.CONNECTING,
        ReceiverState.CONNECTED,
        ReceiverState.FINISHED,
        ReceiverState.STOPPED,
    ]
    lost = next(e for e in events if e.state is ReceiverState.DISCONNECTED)
    assert lost.error is not None and "replayed unplug" in lost.error
    assert lost.retry_in is not None and 0.4 <= lost.retry_in <= 0.6
    assert events[-1].reconnects == 1 and events[-1].duplicates == 1


async def test_failing_opens_back_off_exponentially_then_recover(
    fake_time: Any, manager_factory: Factory, wait_for_state: Wait
) -> None:
    """Five failed opens wait 0.5, 1, 2, 4, 5 s (+-20 %); the sixth succeeds and presses flow."""
    failures: list[BaseException] = [ReceiverUnavailable("no port")] * 4 + [OSError("EIO")]
    receiver = ScriptedReceiver("flaky", failures, [Decoded("kpl:A", "1", 1, None)])
    manager = manager_factory(clock=fake_time.clock, sleep=fake_time.sleep, rng=random.Random(2))
    manager.add(receiver)
    async with manager:
        await wait_for_state(manager.statuses(), ReceiverState.FINISHED)
    assert receiver.opens == 6
    for delay, base in zip(fake_time.sleeps, [0.5, 1.0, 2.0, 4.0, 5.0], strict=True):
        assert 0.8 * base <= delay <= min(5.0, 1.2 * base)
    assert [p.keypad for p in await drain(manager)] == ["kpl:A"]


async def test_configuration_errors_are_not_retried(
    fake_time: Any, manager_factory: Factory, wait_for_state: Wait
) -> None:
    """A ReceiverConfigError marks the receiver FAILED without any reconnect attempt."""
    receiver = ScriptedReceiver("broken", [ReceiverConfigError("needs hidapi")], [])
    manager = manager_factory(clock=fake_time.clock, sleep=fake_time.sleep)
    manager.add(receiver)
    async with manager:
        failed = await wait_for_state(manager.statuses(), ReceiverState.FAILED)
    assert failed.error == "needs hidapi" and receiver.opens == 1 and fake_time.sleeps == []


async def test_driver_bugs_are_contained_and_retried(
    fake_time: Any, manager_factory: Factory, wait_for_state: Wait, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected exception in a driver is logged and treated like a disconnect."""
    receiver = ScriptedReceiver("buggy", [KeyError("oops")], [])
    manager = manager_factory(clock=fake_time.clock, sleep=fake_time.sleep)
    manager.add(receiver)
    statuses = manager.statuses()
    async with manager:
        lost = await wait_for_state(statuses, ReceiverState.DISCONNECTED)
        await wait_for_state(statuses, ReceiverState.FINISHED)
    assert lost.error is not None and "unexpected KeyError" in lost.error
    assert "failed unexpectedly" in caplog.text


async def test_duplicate_names_are_refused(manager_factory: Factory) -> None:
    """Two receivers cannot share a name (presses are attributed by name)."""
    manager = manager_factory()
    manager.add("sim://?keypads=2&name=demo")
    with pytest.raises(ReceiverConfigError, match="demo"):
        manager.add("sim://?keypads=3&name=demo")


async def test_statuses_subscription_ends_on_close(manager_factory: Factory) -> None:
    """statuses() and presses() both end when the manager closes; receivers end STOPPED."""
    manager = manager_factory()
    manager.add("sim://?keypads=2&auto=0")
    statuses = manager.statuses()
    async with manager:
        pass
    seen = [s.state async for s in statuses]
    assert seen[-1] is ReceiverState.STOPPED
    assert [p async for p in manager.presses()] == []


async def test_unplug_replug_over_a_pty_reconnects_and_rearms(
    emulator: KplEmulator,
    manager_factory: Factory,
    wait_for_state: Wait,
    scale: Callable[[float], float],
) -> None:
    """Over a pty: pre-armed vote, unplug, replug, re-arm, presses and feedback all work."""
    manager = manager_factory(backoff=Backoff(first_s=0.05, max_s=0.2))
    statuses = manager.statuses()
    await manager.arm(4, choices=3)
    name = manager.add(emulator.url)
    async with manager:
        await wait_for_state(statuses, ReceiverState.CONNECTED)
        first = await asyncio.to_thread(emulator.wait_for, "OPEN", scale(5))
        assert first.args == ["3"] and first.fields == {"q": "4"}
        presses = manager.presses()
        emulator.press("1A2B3C", "1", 7)
        assert (await asyncio.wait_for(anext(presses), scale(5))).keypad == "kpl:1A2B3C"

        emulator.unplug()
        lost = await wait_for_state(statuses, ReceiverState.DISCONNECTED)
        assert lost.receiver == name and lost.error
        await asyncio.sleep(scale(0.3))  # a few failed reconnects against a missing port
        emulator.plug()
        await wait_for_state(statuses, ReceiverState.CONNECTED)
        again = await asyncio.to_thread(emulator.wait_for, "OPEN", scale(5), count=2)
        assert again.args == ["3"]
        emulator.press("0D0E0F", "2", 1)
        press = await asyncio.wait_for(anext(presses), scale(5))
        assert (press.keypad, press.key) == ("kpl:0D0E0F", "2")
        assert await manager.feedback("kpl:0D0E0F", ok=True)
        assert not await manager.feedback("kpl:FFFFFF", ok=True)
        fb = await asyncio.to_thread(emulator.wait_for, "FB", scale(5))
        assert fb.args == ["0D0E0F", "1", "OK"]
        [status] = manager.status()
        assert status.reconnects >= 1 and status.armed and status.presses == 2


async def test_disarm_fans_out_and_is_remembered(
    emulator: KplEmulator, manager_factory: Factory, wait_for_state: Wait
) -> None:
    """disarm() sends CLOSE to connected receivers and clears the remembered vote."""
    manager = manager_factory()
    statuses = manager.statuses()
    manager.add(emulator.url)
    async with manager:
        await wait_for_state(statuses, ReceiverState.CONNECTED)
        await manager.arm(choices=2)
        await manager.disarm()
        await asyncio.to_thread(emulator.wait_for, "CLOSE")
        assert manager.armed is None and not manager.status()[0].armed


def test_a_deduplicator_is_exported_for_other_consumers() -> None:
    """The manager's dedupe rules are available on their own (the monitor tool uses them)."""
    assert Deduplicator().accept(KeypadPress("r", "kpl:A", "1", 1, 0.0))
