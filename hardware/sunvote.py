"""``sunvote://PORT``: the SunVote PVS-2010-433M receiver (FTDI serial, 19200 8N1). EXPERIMENTAL.

EXPERIMENTAL: written from the protocol facts in shared/keypads.md 1.4 (from an Apache-2.0
client), tested on byte fixtures and a fake port, never run against a real receiver.

Framing: ``F5 AA AA <LEN> <payload: LEN-2 bytes> <CRC hi> <CRC lo>``; the CRC is
CRC-16/XMODEM of the payload (``binascii.crc_hqx(payload, 0)``); short frames have LEN 0x0C
(16 bytes), long ones 0x19 (29 bytes), poll answers are longer. `FrameDecoder` resyncs on the
header after garbage or a bad CRC (it skips one byte and rescans, because a corrupt LEN must
not make it jump over a good frame).

Session (host polls; keypads sleep until a vote starts):

* open: ``System/IdlePoll``; the answer's ``payload[1]`` is the base id.
* arm: C1 start (mode 0x05, options, max 6, min 1), C2 clear, C4 first poll, then a targeted
  and a broadcast (0xC7) long C5 50 ms apart, the "RF wake signal".
* while armed, every ~0.45 s: C5 ack (previous status byte), C5 broadcast, C4 poll, 20 ms apart.
* poll rows: ``payload[4]`` status (0xFF = empty), ``payload[7]`` keypad id, ``payload[8]``
  button bitmask (0x01 = 1/A ... 0x20 = 6/F).
* SunVote repeats a keypad's last button on every poll, so the decoder emits only when a
  keypad's button changes (reset when a vote starts). Keypad ids are small integers:
  ``sunvote:12``. No seq: presses have ``seq=None``.
"""

from __future__ import annotations

import asyncio
import binascii
import time
from dataclasses import dataclass

from .base import (
    Capabilities,
    Clock,
    Decoded,
    ProtocolError,
    ReceiverBase,
    ReceiverUnavailable,
    Sleep,
    WireTap,
)
from .serialport import SerialLink

__all__ = [
    "Frame",
    "FrameDecoder",
    "SunVoteDecoder",
    "SunVoteReceiver",
    "crc16",
    "encode_frame",
    "idle_poll",
    "long_frame",
    "poll_cycle",
    "short_frame",
    "start_vote",
    "stop_vote",
]

HEADER = b"\xf5\xaa\xaa"
SHORT_LEN, LONG_LEN = 0x0C, 0x19
SYSTEM, SCAN, SYSTEM_RESP, SCAN_RESP = 0x11, 0x15, 0x91, 0x95
IDLE_POLL = 0x0C
BROADCAST = 0xC7
NAMESPACE = "sunvote"
BUTTON_KEYS = {0x01: "1", 0x02: "2", 0x04: "3", 0x08: "4", 0x10: "5", 0x20: "6"}
BAUD = 19200
POLL_GAP_S = 0.02  # between the three frames of a poll cycle (reference client: 20 ms)
POLL_READ_S = 0.4  # the reference client reads answers for 400 ms per cycle
WAKE_GAP_S = 0.05  # between the two C5 frames of the RF wake signal
HELLO_TIMEOUT_S = 0.5  # the client's read timeout is 300 ms; 0.5 s leaves room


def crc16(payload: bytes) -> int:
    """CRC-16/XMODEM (poly 0x1021, init 0), as the receiver computes it."""
    return binascii.crc_hqx(payload, 0)


def encode_frame(payload: bytes) -> bytes:
    if not 1 <= len(payload) <= 253:
        raise ValueError("a SunVote payload is 1..253 bytes")
    return HEADER + bytes([len(payload) + 2]) + payload + crc16(payload).to_bytes(2, "big")


def short_frame(cmd: int, b1: int, b2: int, flags: int, sub: int, data: bytes = b"") -> bytes:
    """16-byte frame: payload ``cmd b1 b2 flags sub`` + 5 data bytes."""
    return encode_frame(bytes([cmd, b1, b2, flags, sub]) + data[:5].ljust(5, b"\0"))


def long_frame(cmd: int, b1: int, b2: int, flags: int, data: bytes = b"") -> bytes:
    """29-byte frame: payload ``cmd b1 b2 flags`` + 19 data bytes."""
    return encode_frame(bytes([cmd, b1, b2, flags]) + data[:19].ljust(19, b"\0"))


def idle_poll() -> bytes:
    return short_frame(SYSTEM, 0x00, 0x00, 0x0F, IDLE_POLL)


def start_vote(
    base: int, options: int, *, mode: int = 0x05, most: int = 6, least: int = 1
) -> list[bytes]:
    """The 4-step start (C1, C2, C4, C5 targeted); the broadcast C5 follows after 50 ms."""
    return [
        short_frame(SCAN, base, 0x00, 0xC1, 0x02, bytes([mode, options, most, least, 0])),
        short_frame(SCAN, base, 0x00, 0xC2, 0x00),
        short_frame(SCAN, base, 0x00, 0xC4, 0x00),
        long_frame(SCAN, base, 0x00, 0xC5),
    ]


def wake_broadcast() -> bytes:
    return long_frame(SCAN, BROADCAST, 0x00, 0xC5)


def poll_cycle(base: int, ack_byte: int) -> list[bytes]:
    return [
        long_frame(SCAN, base, 0x00, 0xC5, bytes([ack_byte])),
        wake_broadcast(),
        short_frame(SCAN, base, 0x00, 0xC4, 0x00),
    ]


def stop_vote(base: int) -> bytes:
    return short_frame(SCAN, base, 0x00, 0xC3, 0x00)


@dataclass(frozen=True, slots=True)
class Frame:
    payload: bytes
    raw: bytes

    @property
    def command(self) -> int:
        return self.payload[0]


class FrameDecoder:
    """Byte stream -> CRC-checked frames. Counters: ``bad_crc``, ``garbage`` (bytes skipped)."""

    def __init__(self) -> None:
        self.stats: dict[str, int] = {}
        self._buf = bytearray()

    def _count(self, stat: str, n: int = 1) -> None:
        self.stats[stat] = self.stats.get(stat, 0) + n

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        frames: list[Frame] = []
        while True:
            start = self._buf.find(HEADER)
            if start < 0:
                keep = (
                    2
                    if self._buf.endswith(b"\xf5\xaa")
                    else 1
                    if self._buf.endswith(b"\xf5")
                    else 0
                )
                self._skip(len(self._buf) - keep)
                return frames
            self._skip(start)
            if len(self._buf) < 4:
                return frames
            size = 4 + self._buf[3]
            if self._buf[3] < 3:  # no room for a command byte and the CRC
                self._skip(1)
                continue
            if len(self._buf) < size:
                return frames
            raw = bytes(self._buf[:size])
            payload = raw[4:-2]
            if crc16(payload) != int.from_bytes(raw[-2:], "big"):
                self._count("bad_crc")
                self._skip(1)
                continue
            del self._buf[:size]
            frames.append(Frame(payload, raw))

    def _skip(self, n: int) -> None:
        if n > 0:
            self._count("garbage", n)
            del self._buf[:n]


@dataclass(frozen=True, slots=True)
class Row:
    """One poll answer row: which keypad shows which button bitmask."""

    keypad: int
    button: int
    status: int


def parse_row(frame: Frame) -> Row | None:
    p = frame.payload
    if p[0] != SCAN_RESP or len(p) < 14 or p[4] == 0xFF or p[7] == 0:
        return None
    return Row(p[7], p[8], p[4])


class SunVoteDecoder:
    """`PressDecoder`: frames -> rows -> a press when a keypad's button changes."""

    def __init__(self) -> None:
        self.frames = FrameDecoder()
        self.stats = self.frames.stats
        self.ack_byte = 0
        self.base_id: int | None = None
        self._last: dict[int, int] = {}

    def reset(self) -> None:
        """A new vote: the next button of every keypad counts again."""
        self._last.clear()

    def feed(self, data: bytes) -> list[Decoded]:
        out: list[Decoded] = []
        for frame in self.frames.feed(data):
            if frame.command == SYSTEM_RESP and len(frame.payload) >= 8:
                self.base_id = frame.payload[1]
                continue
            row = parse_row(frame)
            if row is None:
                continue
            self.ack_byte = row.status
            if self._last.get(row.keypad) == row.button:
                continue  # SunVote reports the last button on every poll
            self._last[row.keypad] = row.button
            key = BUTTON_KEYS.get(row.button)
            if key is None:  # 0 = released / several bits = multi-select, not supported
                self.stats["bad_button"] = self.stats.get("bad_button", 0) + 1
                continue
            out.append(Decoded(f"{NAMESPACE}:{row.keypad}", key, None, frame.raw))
        return out


class SunVoteReceiver(ReceiverBase):
    """SunVote PVS-2010 over serial. EXPERIMENTAL (see the module docstring)."""

    kind = "sunvote"
    capabilities = Capabilities(arm=True, experimental=True)

    def __init__(
        self,
        port: str,
        *,
        baud: int = BAUD,
        name: str | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        tap: WireTap | None = None,
        hello_timeout_s: float = HELLO_TIMEOUT_S,
    ) -> None:
        super().__init__(name or f"sunvote:{port}", clock=clock)
        self.link = SerialLink(port, baud, tap=tap)
        self._sleep = sleep
        self._hello_timeout_s = hello_timeout_s
        self._decoder = SunVoteDecoder()
        self._base_seen: asyncio.Event | None = None
        self._poller: asyncio.Task[None] | None = None
        self.info["port"] = port

    async def _connect(self) -> None:
        self._decoder = SunVoteDecoder()
        self._base_seen = asyncio.Event()
        await self.link.open(self._on_data, self._on_read_error)
        await self.link.write(idle_poll())
        try:
            async with asyncio.timeout(self._hello_timeout_s):
                await self._base_seen.wait()
        except TimeoutError:
            raise ProtocolError(f"{self.name}: no answer to the SunVote idle poll") from None
        self.info["base_id"] = str(self._decoder.base_id)

    async def _disconnect(self) -> None:
        await self._stop_polling()
        await self.link.close()

    def _on_data(self, data: bytes) -> None:
        if self.link.tap is not None:
            self.link.tap("in", data)
        for decoded in self._decoder.feed(data):
            self._emit(decoded)
        self.stats.update(self._decoder.stats)
        if self._decoder.base_id is not None and self._base_seen is not None:
            self._base_seen.set()

    def _on_read_error(self, exc: BaseException) -> None:
        self._fail(ReceiverUnavailable(f"SunVote receiver {self.link.port} lost: {exc}"))

    @property
    def _base(self) -> int:
        return self._decoder.base_id or 0

    async def arm(self, question: int | None = None, *, choices: int | None = None) -> None:
        await self._stop_polling()
        self._decoder.reset()
        for frame in start_vote(self._base, min(choices or 6, 6)):
            await self.link.write(frame)
        await self._sleep(WAKE_GAP_S)
        await self.link.write(wake_broadcast())
        await self._sleep(WAKE_GAP_S)
        self._poller = asyncio.get_running_loop().create_task(self._poll())

    async def disarm(self) -> None:
        await self._stop_polling()
        await self.link.write(stop_vote(self._base))

    async def _stop_polling(self) -> None:
        poller, self._poller = self._poller, None
        if poller is not None:
            poller.cancel()
            await asyncio.gather(poller, return_exceptions=True)

    async def _poll(self) -> None:
        try:
            while True:
                for frame in poll_cycle(self._base, self._decoder.ack_byte):
                    await self.link.write(frame)
                    await self._sleep(POLL_GAP_S)
                await self._sleep(POLL_READ_S)
        except ReceiverUnavailable as exc:
            self._fail(exc)
