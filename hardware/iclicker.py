"""``iclicker://``: the iClicker base station (v2, vendor HID). EXPERIMENTAL.

EXPERIMENTAL: written from the protocol facts in shared/keypads.md 1.2 (USB captures and
open-source drivers), tested on byte fixtures and a fake HID device, never run against a real
base. Confirm on hardware before relying on it in a meeting.

Facts used (keypads.md 1.2):

* USB 1881:0150, one 64-byte vendor input report and one 64-byte output report, no report
  IDs; with hidapi the host writes ``b"\\x00" + payload`` (report-ID prefix 0).
* Host commands are ``01 xx ...`` zero-padded to 64 bytes; the base acknowledges ``01 xx aa``.
* A vote report holds up to two 32-byte records at offsets 0 and 32:
  ``02 13 <btn> <id0> <id1> <id2> <seq>``; btn 0x81..0x85 = A..E (iClicker 2), 0x01..0x05 = A..E
  (iClicker 1). The remote id printed on the remote is id0 id1 id2 (id0^id1^id2), e.g.
  ``02 13 81 82 e9 70 00`` = remote 82E9701B, answer A, seq 0. Other button codes are ignored
  (the base emits such records after a frequency change).
* The base repeats old records; the manager de-duplicates on (keypad, seq, key).
* Only the v2 (push) base is supported; the v1 base is polled and is left out.

The decoder (`IClickerDecoder`) is sans-I/O; `IClickerReceiver` runs blocking HID reads on
a `ReaderThread` (200 ms read timeout) and waits for acks on the event loop. Device access
(``hidapi``, optional, imported on open) lives in `hardware.hid`; `fake_base` builds a fake
base for tests that acknowledges commands the way the real one does.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
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
from .hid import FakeHidDevice, HidDevice, hidapi_opener
from .threads import READ_TIMEOUT_S, ReaderThread

__all__ = [
    "IClickerAck",
    "IClickerDecoder",
    "IClickerReceiver",
    "IClickerVote",
    "command",
    "fake_base",
    "init_sequence",
    "remote_id",
    "start_poll",
    "stop_poll",
]

VID, PID = 0x1881, 0x0150
REPORT_SIZE = 64
RECORD_SIZE = 32
NAMESPACE = "iclicker"
_BUTTONS = {0x80 + i: "ABCDE"[i - 1] for i in range(1, 6)} | {
    i: "ABCDE"[i - 1] for i in range(1, 6)
}
POLL_TYPES = {"alpha": 0, "numeric": 1, "alphanumeric": 2}  # added to 0x66 (keypads.md table)
FREQ_CODES = "ABCD"
ACK_TIMEOUT_S = 1.0  # USB round trip is ~ms; a base that needs a second is not answering
STEP_DELAY_S = 0.1  # iclickerpoll paces commands and LCD writes at 0.1 s; we do the same


def remote_id(id0: int, id1: int, id2: int) -> str:
    """The 8-hex-digit id printed on the remote: three id bytes and their XOR."""
    return f"{id0:02X}{id1:02X}{id2:02X}{id0 ^ id1 ^ id2:02X}"


def command(*payload: int) -> bytes:
    """One host->base output report: ``01 xx ...`` zero-padded to 64 bytes."""
    if len(payload) > REPORT_SIZE:
        raise ValueError("an iClicker report is 64 bytes")
    return bytes(payload).ljust(REPORT_SIZE, b"\0")


@dataclass(frozen=True, slots=True)
class Step:
    """One command of a sequence; ``ack`` means wait for ``01 xx aa`` before going on."""

    report: bytes
    ack: bool = False
    what: str = ""


def _freq(freq: str) -> tuple[int, int]:
    freq = freq.upper()
    if len(freq) != 2 or any(c not in FREQ_CODES for c in freq):
        raise ValueError(f"iClicker frequency must be two letters A-D (like 'AA'), not {freq!r}")
    return 0x21 + FREQ_CODES.index(freq[0]), 0x41 + FREQ_CODES.index(freq[1])


def init_sequence(freq: str = "AA") -> list[Step]:
    """The v2 initialisation replayed by iclickerpoll and freepoll (keypads.md 1.2 table)."""
    f1, f2 = _freq(freq)
    return [
        Step(command(0x01, 0x10, f1, f2), ack=True, what="set frequency"),
        Step(command(0x01, 0x16), ack=True, what="set frequency (2)"),
        # COMMAND_SEQUENCE_A. The captures show "21 41" (= frequency AA) in 01 2a; we assume it
        # carries the configured frequency like 01 10 does (unverified for other channels).
        Step(command(0x01, 0x2A, f1, f2, 0x05), what="sequence A"),
        Step(command(0x01, 0x12), what="stop polling"),
        Step(command(0x01, 0x15), what="sequence A"),
        Step(command(0x01, 0x16), what="sequence A"),
        Step(command(0x01, 0x2D), what="select iClicker 2 protocol"),
        # COMMAND_SEQUENCE_B, meaning unknown, replayed verbatim (one capture adds the 0x80).
        Step(
            command(0x01, 0x29, 0xA1, 0x8F, 0x96, 0x8D, 0x99, 0x97, 0x8F, 0x80), what="sequence B"
        ),
        Step(command(0x01, 0x17, 0x04), what="sequence B"),
        Step(command(0x01, 0x17, 0x03), what="sequence B"),
        Step(command(0x01, 0x16), what="sequence B"),
    ]


def start_poll(poll_type: str = "alpha") -> list[Step]:
    if poll_type not in POLL_TYPES:
        raise ValueError(f"poll type must be one of {sorted(POLL_TYPES)}, not {poll_type!r}")
    return [
        Step(command(0x01, 0x17, 0x03)),
        Step(command(0x01, 0x17, 0x05)),
        Step(command(0x01, 0x19, 0x66 + POLL_TYPES[poll_type], 0x0A, 0x01), what="poll type"),
        Step(command(0x01, 0x11), ack=True, what="start accepting"),
    ]


def stop_poll() -> list[Step]:
    return [
        Step(command(0x01, 0x12), what="stop accepting"),
        Step(command(0x01, 0x16)),
        Step(command(0x01, 0x17, 0x01, 0x00, 0x04)),
        Step(command(0x01, 0x17, 0x03)),
        Step(command(0x01, 0x17, 0x04)),
    ]


def lcd(line: int, text: str) -> bytes:
    """``01 13`` (line 1) / ``01 14`` (line 2) with 16 ASCII characters."""
    if line not in (1, 2):
        raise ValueError("the base LCD has lines 1 and 2")
    chars = text.encode("ascii", "replace")[:16].ljust(16)
    return command(0x01, 0x12 + line, *chars)


@dataclass(frozen=True, slots=True)
class IClickerVote:
    remote: str
    answer: str
    seq: int
    raw: bytes


@dataclass(frozen=True, slots=True)
class IClickerAck:
    command: int  # the xx of 01 xx aa


class IClickerDecoder:
    """Decodes input reports. Counters in ``stats``: ``bad_button``, ``truncated``, ``other``."""

    def __init__(self) -> None:
        self.stats: dict[str, int] = {}

    def _count(self, stat: str) -> None:
        self.stats[stat] = self.stats.get(stat, 0) + 1

    def feed_report(self, report: bytes) -> list[IClickerVote | IClickerAck]:
        if len(report) >= 3 and report[0] == 0x01 and report[2] == 0xAA:
            return [IClickerAck(report[1])]
        if report[:2] != b"\x02\x13":
            if any(report):
                self._count("other")  # 02 2c / 02 18 summaries and unknown reports
            return []
        votes: list[IClickerVote | IClickerAck] = []
        for offset in (0, RECORD_SIZE):
            record = report[offset : offset + RECORD_SIZE]
            if record[:2] != b"\x02\x13":
                continue  # an all-zero second half: only one record in this report
            if len(record) < 7:
                self._count("truncated")
                continue
            answer = _BUTTONS.get(record[2])
            if answer is None:
                self._count("bad_button")
                continue
            votes.append(IClickerVote(remote_id(*record[3:6]), answer, record[6], bytes(record)))
        return votes

    def feed(self, data: bytes) -> list[Decoded]:
        """`PressDecoder` view: ``data`` is one input report."""
        return [
            Decoded(f"{NAMESPACE}:{v.remote}", v.answer, v.seq, v.raw)
            for v in self.feed_report(data)
            if isinstance(v, IClickerVote)
        ]


# -- I/O shell -----------------------------------------------------------------------------


class IClickerReceiver(ReceiverBase):
    """iClicker v2 base over HID. EXPERIMENTAL (see the module docstring)."""

    kind = "iclicker"
    capabilities = Capabilities(arm=True, seq=True, experimental=True)

    def __init__(
        self,
        opener: Callable[[], HidDevice] | None = None,
        *,
        freq: str = "AA",
        poll_type: str = "alpha",
        name: str | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        tap: WireTap | None = None,
        ack_timeout_s: float = ACK_TIMEOUT_S,
        step_delay_s: float = STEP_DELAY_S,
    ) -> None:
        super().__init__(name or "iclicker", clock=clock)
        self._init = init_sequence(freq)  # validates freq now, not at the meeting
        self._start = start_poll(poll_type)
        self._opener = opener or hidapi_opener(VID, PID)
        self._sleep = sleep
        self._tap = tap
        self._ack_timeout_s = ack_timeout_s
        self._step_delay_s = step_delay_s
        self._device: HidDevice | None = None
        self._reader: ReaderThread[bytes] | None = None
        self._decoder = IClickerDecoder()
        self._acks: dict[int, asyncio.Future[None]] = {}
        self.info.update(freq=freq.upper(), poll_type=poll_type)

    async def _connect(self) -> None:
        try:
            self._device = await asyncio.to_thread(self._opener)
        except OSError as exc:
            raise ReceiverUnavailable(f"cannot open iClicker base: {exc}") from exc
        device = self._device
        timeout_ms = int(READ_TIMEOUT_S * 1000)
        self._reader = ReaderThread(
            "iclicker",
            lambda: bytes(device.read(REPORT_SIZE, timeout_ms)),
            self._on_report,
            self._on_read_error,
            asyncio.get_running_loop(),
        )
        self._reader.start()
        await self._run(self._init)

    async def _disconnect(self) -> None:
        reader, self._reader = self._reader, None
        device, self._device = self._device, None
        if reader is not None:
            await reader.stop()
        if device is not None:
            with contextlib.suppress(OSError):  # closing an unplugged device
                await asyncio.to_thread(device.close)

    def _on_report(self, report: bytes) -> None:
        if self._tap is not None:
            self._tap("in", report)
        for event in self._decoder.feed_report(report):
            if isinstance(event, IClickerAck):
                future = self._acks.pop(event.command, None)
                if future is not None and not future.done():
                    future.set_result(None)
            else:
                self._emit(
                    Decoded(f"{NAMESPACE}:{event.remote}", event.answer, event.seq, event.raw)
                )
        self.stats.update(self._decoder.stats)

    def _on_read_error(self, exc: BaseException) -> None:
        self._fail(ReceiverUnavailable(f"iClicker base lost: {exc}"))

    async def _write(self, report: bytes) -> None:
        device = self._device
        if device is None:
            raise ReceiverUnavailable("iClicker base is not open")
        if self._tap is not None:
            self._tap("out", report)
        try:
            await asyncio.to_thread(device.write, report)
        except OSError as exc:
            raise ReceiverUnavailable(f"write to iClicker base failed: {exc}") from exc

    async def _run(self, steps: Iterable[Step]) -> None:
        for step in steps:
            if step.ack:
                future = asyncio.get_running_loop().create_future()
                self._acks[step.report[1]] = future
            await self._write(step.report)
            if step.ack:
                try:
                    async with asyncio.timeout(self._ack_timeout_s):
                        await future
                except TimeoutError:
                    self._acks.pop(step.report[1], None)
                    raise ProtocolError(
                        f"iClicker base did not acknowledge 01 {step.report[1]:02x} ({step.what})"
                    ) from None
            else:
                await self._sleep(self._step_delay_s)

    async def arm(self, question: int | None = None, *, choices: int | None = None) -> None:
        await self._run(self._start)

    async def disarm(self) -> None:
        await self._run(stop_poll())

    async def lcd(self, line1: str, line2: str = "") -> None:
        """Show two 16-character lines on the base's LCD."""
        await self._run([Step(lcd(1, line1)), Step(lcd(2, line2))])


def fake_base(reports: Iterable[bytes] = (), *, mute: Iterable[int] = ()) -> FakeHidDevice:
    """A `FakeHidDevice` that acknowledges ``01 xx`` commands with ``01 xx aa`` like the base,
    except the command bytes in ``mute`` (to test a base that does not answer)."""
    muted = set(mute)

    def answer(report: bytes) -> bytes | None:
        if report[0] == 0x01 and report[1] not in muted:
            return command(0x01, report[1], 0xAA)
        return None

    return FakeHidDevice(reports, respond=answer)
