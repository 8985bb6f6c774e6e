"""Fixtures for the hardware/ tests: fake time, the KPL/1 pty emulator, capture fixtures.

Real-time waits are multiplied by COVOTE_TEST_TIME_FACTOR (default 1), so a slow CI box can
stretch them without editing tests. No test asserts a duration; waits are upper bounds.
"""

from __future__ import annotations

import asyncio
import faulthandler
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hardware.base import ReceiverState, ReceiverStatus
from hardware.emulator import KplEmulator
from hardware.manager import ReceiverManager

TIME_FACTOR = float(os.environ.get("COVOTE_TEST_TIME_FACTOR", "1"))
FIXTURES = Path(__file__).parent / "fixtures"


def scaled(seconds: float) -> float:
    """A real-time bound for this machine."""
    return seconds * TIME_FACTOR


@pytest.fixture(autouse=True)
def _hang_guard() -> Iterator[None]:
    """A test stuck for 60 s (scaled) dumps every thread's stack and ends the run, so a
    regression in the pty/thread plumbing fails CI with a trace instead of hanging it."""
    faulthandler.dump_traceback_later(scaled(60), exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


class FakeTime:
    """A clock that only moves when someone sleeps; every sleep is recorded."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def emulator() -> Iterator[KplEmulator]:
    """A plugged KPL/1 receiver on a pty, heartbeat every 0.2 s (scaled)."""
    if not hasattr(os, "openpty"):
        pytest.skip("needs POSIX pseudo-terminals")
    with KplEmulator(heartbeat_s=scaled(0.2)) as emu:
        yield emu


async def _wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(scaled(timeout)):
        while not predicate():
            await asyncio.sleep(0.01)


async def _wait_for_state(
    statuses: AsyncIterator[ReceiverStatus], state: ReceiverState, timeout: float = 5.0
) -> ReceiverStatus:
    async with asyncio.timeout(scaled(timeout)):
        async for status in statuses:
            if status.state is state:
                return status
    raise AssertionError(f"status stream ended before {state}")


@pytest.fixture
def wait_until() -> Callable[..., Awaitable[None]]:
    """``await wait_until(predicate, timeout=5)``: poll every 10 ms, fail after the (scaled)
    timeout."""
    return _wait_until


@pytest.fixture
def wait_for_state() -> Callable[..., Awaitable[ReceiverStatus]]:
    """``await wait_for_state(statuses, state)``: consume status events until ``state``."""
    return _wait_for_state


@pytest.fixture
def scale() -> Callable[[float], float]:
    """``scale(seconds)``: a real-time bound multiplied by COVOTE_TEST_TIME_FACTOR."""
    return scaled


@pytest.fixture
async def manager_factory() -> AsyncIterator[Callable[..., ReceiverManager]]:
    """Builds managers and closes them after the test, even when it fails."""
    made: list[ReceiverManager] = []

    def make(**kwargs: Any) -> ReceiverManager:
        manager = ReceiverManager(**kwargs)
        made.append(manager)
        return manager

    yield make
    for manager in made:
        await manager.aclose()
