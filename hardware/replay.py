"""``replay://FILE``: plays a kpcap/1 capture back as a receiver.

* A capture with ``in`` data is decoded with the decoder of the driver named in its header
  (`decoder_for`): the same sans-I/O code the live driver uses, so a field capture reproduces
  the field's presses. Its ``press`` events are golden expectations
  (`hardware.capture.Capture.expected_presses`), not replayed.
* A capture with no ``in`` data (a ``sim`` recording, or one made by hand) replays its
  ``press`` events.
* ``unplug`` ends ``presses()`` with `ReceiverUnavailable`; opening again resumes after it, so a
  supervised replay exercises the manager's reconnect path. End of file ends ``presses()``.
* ``speed``: 1 = the recorded timing, 2 = twice as fast, 0 = as fast as possible.
* ``out`` records (what the host wrote) are not compared here; tests that need that compare
  `Capture.chunks("out")` with what their driver wrote.

The file is read when the receiver is built (at most ``max_bytes``; see `read_capture`), so a
bad file is a `CaptureFormatError` at once.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

from .base import (
    Capabilities,
    CaptureFormatError,
    Clock,
    Decoded,
    PressDecoder,
    ReceiverBase,
    ReceiverUnavailable,
    Sleep,
)
from .capture import MAX_CAPTURE_BYTES, Capture, CaptureEvent, Chunk, read_capture
from .iclicker import IClickerDecoder
from .kpl import KplDecoder
from .profiles import PROFILES, ProfileDecoder
from .sunvote import SunVoteDecoder
from .wedge import WedgeDecoder

__all__ = ["ReplayReceiver", "decoder_for"]


def decoder_for(capture: Capture) -> PressDecoder | None:
    """The decoder for the capture's driver; None when it only holds ``press`` events."""
    driver = capture.header.driver
    if not capture.chunks("in"):
        return None
    if driver == "serial_kpl":
        strict = str(capture.header.device.get("strict", "1")).lower() not in ("0", "false")
        return KplDecoder(strict=strict)
    if driver.startswith("serial_") and driver[len("serial_") :] in PROFILES:
        return ProfileDecoder(driver[len("serial_") :])
    if driver == "iclicker":
        return IClickerDecoder()
    if driver == "sunvote":
        return SunVoteDecoder()
    if driver == "evdev":
        device = capture.header.device
        device_id = str(device.get("id") or str(device.get("path", "evdev")).rsplit("/", 1)[-1])
        return WedgeDecoder(device_id, mode=str(device.get("mode", "key")))
    # Named only when it looks like a driver name: the file is a kpcap/1 capture (its header
    # said so), and errors never quote anything else from it.
    named = f" {driver!r}" if re.fullmatch(r"[a-z][a-z0-9_]{0,31}", driver) else ""
    raise CaptureFormatError(f"replay: no decoder for driver{named} with raw 'in' data")


class ReplayReceiver(ReceiverBase):
    """Plays one kpcap/1 file (see the module docstring)."""

    kind = "replay"
    capabilities = Capabilities()

    def __init__(
        self,
        path: str | Path,
        *,
        speed: float = 1.0,
        name: str | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        max_bytes: int = MAX_CAPTURE_BYTES,
    ) -> None:
        if speed < 0:
            raise CaptureFormatError("replay speed must be >= 0")
        super().__init__(name or f"replay:{Path(path).name}", clock=clock)
        self.capture = read_capture(path, max_bytes=max_bytes)
        decoder_for(self.capture)  # an unknown driver fails now, not at the meeting
        self.speed = speed
        self._sleep = sleep
        self._pos = 0  # next record to play; survives a replayed unplug
        self._player: asyncio.Task[None] | None = None
        driver = self.capture.header.driver
        self.capabilities = Capabilities(seq=driver in ("serial_kpl", "iclicker", "sim"))
        self.info.update(file=str(path), wire=driver, records=str(len(self.capture.records)))

    async def _connect(self) -> None:
        self._player = asyncio.get_running_loop().create_task(self._play(decoder_for(self.capture)))

    async def _disconnect(self) -> None:
        player, self._player = self._player, None
        if player is not None and player is not asyncio.current_task():
            player.cancel()
            await asyncio.gather(player, return_exceptions=True)

    async def _play(self, decoder: PressDecoder | None) -> None:
        records = self.capture.records
        previous_t = records[self._pos].t if self._pos < len(records) else 0.0
        while self._pos < len(records):
            record = records[self._pos]
            self._pos += 1
            if self.speed:
                await self._sleep(max(0.0, record.t - previous_t) / self.speed)
            else:
                await asyncio.sleep(0)
            previous_t = record.t
            if isinstance(record, Chunk):
                if record.dir == "in" and decoder is not None:
                    for decoded in decoder.feed(record.data):
                        self._emit(decoded)
                    self.stats.update(getattr(decoder, "stats", {}))
            elif isinstance(record, CaptureEvent):
                if record.ev == "unplug":
                    self._count("unplugs")
                    self._fail(ReceiverUnavailable(f"{self.name}: replayed unplug at t={record.t}"))
                    return
                if record.ev == "press" and decoder is None:
                    f = record.fields
                    self._emit(Decoded(f["keypad_id"], f["key"], f.get("seq"), None))
        self._finish()
