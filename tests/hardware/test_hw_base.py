"""The receiver interface: press values, the shared queue plumbing, the error tree."""

from __future__ import annotations

import pytest

from hardware import base
from hardware.base import (
    CaptureFormatError,
    Decoded,
    KeypadPress,
    ProtocolError,
    ReceiverBase,
    ReceiverConfigError,
    ReceiverError,
    ReceiverStalled,
    ReceiverUnavailable,
)


@pytest.mark.parametrize(
    ("key", "choice"),
    [("1", 1), ("9", 9), ("0", 10), ("A", 1), ("J", 10), ("E", 5), ("?", None), ("AB", None)],
)
def test_choice_maps_keys_labelled_1a_to_0j(key: str, choice: int | None) -> None:
    """Digits and letters map to a 1-based choice the way keypads label them (1/A ... 0/J)."""
    assert KeypadPress("r", "kpl:1", key, None, 0.0).choice == choice


def test_error_tree_matches_the_documented_hierarchy() -> None:
    """Config errors are ValueErrors too; stalls are a kind of unavailability."""
    assert issubclass(ReceiverConfigError, ValueError)
    assert issubclass(CaptureFormatError, ReceiverConfigError)
    assert issubclass(ReceiverStalled, ReceiverUnavailable)
    for error in (ReceiverConfigError, ReceiverUnavailable, ProtocolError):
        assert issubclass(error, ReceiverError)


class Scripted(ReceiverBase):
    """Emits its script during open(); optionally fails while opening."""

    kind = "scripted"

    def __init__(self, script: list[Decoded], fail_while_opening: bool = False) -> None:
        super().__init__("scripted", clock=lambda: 42.0)
        self.script = script
        self.fail_while_opening = fail_while_opening
        self.disconnects = 0

    async def _connect(self) -> None:
        for decoded in self.script:
            self._emit(decoded)
        if self.fail_while_opening:
            self._fail(ProtocolError("bad hello"))

    async def _disconnect(self) -> None:
        self.disconnects += 1


async def test_presses_are_stamped_and_end_on_close() -> None:
    """Presses carry the receiver name and the injected clock; aclose() ends the stream."""
    receiver = Scripted([Decoded("kpl:1", "A", 3, b"raw")])
    await receiver.open()
    presses = receiver.presses()
    assert await anext(presses) == KeypadPress("scripted", "kpl:1", "A", 3, 42.0, b"raw")
    await receiver.aclose()
    with pytest.raises(StopAsyncIteration):
        await anext(presses)


async def test_a_failure_while_opening_is_raised_by_open() -> None:
    """An error reported during open() is raised from open(), and the device is released."""
    receiver = Scripted([], fail_while_opening=True)
    with pytest.raises(ProtocolError, match="bad hello"):
        await receiver.open()
    assert not receiver.is_open and receiver.disconnects == 1


async def test_reading_before_open_is_a_programming_error() -> None:
    """presses() on an unopened receiver raises RuntimeError at once."""
    with pytest.raises(RuntimeError, match="open"):
        await anext(Scripted([]).presses())


async def test_reopening_starts_with_an_empty_queue() -> None:
    """Presses left unread from the last connection are not replayed after a reconnect."""
    receiver = Scripted([Decoded("kpl:1", "A", 1, None)])
    await receiver.open()
    await receiver.aclose()
    receiver.script = [Decoded("kpl:2", "B", 1, None)]
    await receiver.open()
    assert (await anext(receiver.presses())).keypad == "kpl:2"
    await receiver.aclose()


async def test_a_full_queue_drops_and_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the consumer is far behind, new presses are dropped and counted, never blocked."""
    monkeypatch.setattr(base, "PRESS_QUEUE_MAX", 2)
    receiver = Scripted([Decoded(f"kpl:{i}", "A", 1, None) for i in range(5)])
    await receiver.open()
    assert receiver.stats == {"presses": 5, "dropped": 3}
    await receiver.aclose()
    # the end marker must get through, so it takes the oldest slot
    assert [p.keypad async for p in receiver.presses()] == ["kpl:1"]
