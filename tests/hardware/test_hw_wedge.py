"""Keyboard-wedge receivers over evdev, driven by synthetic key events (keypads.md 1.6)."""

from __future__ import annotations

import importlib
import queue
import sys
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.base import ReceiverConfigError, ReceiverUnavailable
from hardware.wedge import EvdevReceiver, WedgeDecoder, evdev_opener

EV_SYN, EV_KEY, EV_MSC = 0, 1, 4
KEY_1, KEY_2, KEY_0, KEY_B, KEY_SPACE, KEY_COMMA, KEY_ENTER, KEY_KP3 = 2, 3, 11, 48, 57, 51, 28, 81


def tap(code: int) -> list[tuple[int, int, int]]:
    """What a keyboard sends for one key: scan code, down, sync, up, sync."""
    return [(EV_MSC, 4, 0x1E), (EV_KEY, code, 1), (EV_SYN, 0, 0), (EV_KEY, code, 0), (EV_SYN, 0, 0)]


def feed(decoder: WedgeDecoder, events: list[tuple[int, int, int]]) -> list[tuple[str, str]]:
    return [(d.keypad, d.key) for e in events if (d := decoder.feed_event(*e)) is not None]


def test_key_mode_turns_each_key_down_into_a_press() -> None:
    """In key mode every digit/letter key-down is a press of the device's keypad."""
    decoder = WedgeDecoder("dongle7")
    events = tap(KEY_1) + tap(KEY_0) + tap(KEY_B) + tap(KEY_KP3) + tap(KEY_SPACE)
    assert feed(decoder, events) == [
        ("wedge:dongle7", "1"),
        ("wedge:dongle7", "0"),
        ("wedge:dongle7", "B"),
        ("wedge:dongle7", "3"),
    ]


def test_auto_repeat_and_key_up_are_ignored() -> None:
    """Holding a key (value 2) or releasing it (value 0) is not another press."""
    decoder = WedgeDecoder("d")
    assert feed(decoder, [(EV_KEY, KEY_2, 1), (EV_KEY, KEY_2, 2), (EV_KEY, KEY_2, 0)]) == [
        ("wedge:d", "2")
    ]


def test_line_mode_reads_id_and_key_per_line() -> None:
    """In line mode 'ID KEY' + Enter is a press of keypad ID; comma also separates."""
    decoder = WedgeDecoder("rx", mode="line")
    events = (
        tap(KEY_1) + tap(KEY_2) + tap(KEY_SPACE) + tap(KEY_B) + tap(KEY_ENTER)
        + tap(KEY_2) + tap(KEY_COMMA) + tap(KEY_1) + tap(KEY_ENTER)
        + tap(KEY_0) + tap(KEY_ENTER)
    )  # fmt: skip
    assert feed(decoder, events) == [("wedge:12", "B"), ("wedge:2", "1"), ("wedge:rx", "0")]


def test_line_mode_ignores_unreadable_lines() -> None:
    """A line with three tokens is counted and ignored; an empty Enter is nothing."""
    decoder = WedgeDecoder("rx", mode="line")
    events = tap(KEY_1) + tap(KEY_SPACE) + tap(KEY_2) + tap(KEY_SPACE) + tap(KEY_B) + tap(KEY_ENTER)
    assert feed(decoder, events + tap(KEY_ENTER)) == []
    assert decoder.stats["ignored_lines"] == 1


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 300), st.integers(-1, 3))))
def test_random_events_never_crash(events: list[tuple[int, int, int]]) -> None:
    """Arbitrary events never raise in either mode."""
    for mode in ("key", "line"):
        decoder = WedgeDecoder("x", mode=mode)
        for event in events:
            decoder.feed_event(*event)


class FakeSource:
    """An EventSource fed from the test; ``fail`` makes the next read raise OSError."""

    def __init__(self) -> None:
        self.events: queue.Queue[list[tuple[int, int, int]] | None] = queue.Queue()
        self.closed = False

    def read_events(self, timeout: float) -> Sequence[tuple[int, int, int]]:
        try:
            batch = self.events.get(timeout=timeout)
        except queue.Empty:
            return []
        if batch is None:
            raise OSError(19, "No such device")
        return batch

    def close(self) -> None:
        self.closed = True


async def test_receiver_reads_events_in_a_thread_and_yields_presses() -> None:
    """The evdev shell turns events from its source into presses and closes it on exit."""
    source = FakeSource()
    receiver = EvdevReceiver("/dev/input/event5", opener=lambda: source)
    async with receiver:
        source.events.put(tap(KEY_2))
        press = await anext(receiver.presses())
        assert (press.receiver, press.keypad, press.key, press.seq) == (
            "evdev:/dev/input/event5",
            "wedge:event5",
            "2",
            None,
        )
    assert source.closed


async def test_lost_device_ends_presses_with_unavailable() -> None:
    """A read error (receiver unplugged) ends presses() with ReceiverUnavailable."""
    source = FakeSource()
    async with EvdevReceiver("/dev/input/event5", opener=lambda: source) as receiver:
        source.events.put(None)
        with pytest.raises(ReceiverUnavailable):
            await anext(receiver.presses())


def test_missing_evdev_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the optional evdev package, opening says how to install it."""
    monkeypatch.setitem(sys.modules, "evdev", None)
    with pytest.raises(ReceiverConfigError, match="pip install evdev"):
        evdev_opener("/dev/input/event0")()


def test_missing_input_device_is_unavailable() -> None:
    """With evdev installed, a device path that does not exist is ReceiverUnavailable."""
    try:
        importlib.import_module("evdev")
    except ImportError:
        pytest.skip("optional package evdev is not installed (pip install evdev==2.0.0)")
    with pytest.raises(ReceiverUnavailable, match="event999"):
        evdev_opener("/dev/input/event999")()
