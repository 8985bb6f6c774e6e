"""``serial://`` receivers: KPL/1 (`KplReceiver`) and the legacy text profiles
(`ProfileReceiver`), as thin I/O shells around `hardware.kpl` and `hardware.profiles`.

I/O model: pyserial reads run on a `ReaderThread` with a 0.2 s timeout; bytes are framed and
decoded on the event loop; writes go through ``asyncio.to_thread`` with a 1 s write timeout.
An unplug surfaces as pyserial's ``SerialException`` in the reader thread and ends
``presses()`` with `ReceiverUnavailable`.

KPL/1 session rules (keypads.md 5.6):

* On open the host sends ``KP1 ?``; the HELLO that answers fills ``info`` (fw, rx, radio, ch).
  A HELLO with ``proto`` other than 1 is a `ProtocolError`.
* A HELLO that nobody asked for means the receiver rebooted and forgot an open vote: if armed,
  the host sends ``OPEN`` again at once.
* Once a heartbeat (every 2 s) has been seen, silence longer than ``stall_s`` (default 6.5 s:
  three missed heartbeats plus slack) raises `ReceiverStalled`: the receiver is wedged.
  Firmware that never sends HB is never judged stalled.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine
from typing import Any

import serial  # pyserial 3.5 ships no type hints: pyproject lists it for mypy

from .base import (
    Capabilities,
    Clock,
    Decoded,
    ProtocolError,
    ReceiverBase,
    ReceiverConfigError,
    ReceiverStalled,
    ReceiverUnavailable,
    Sleep,
    WireTap,
)
from .kpl import (
    NAMESPACE,
    Ack,
    DeviceError,
    Heartbeat,
    Hello,
    KplParser,
    KplPress,
    LineFramer,
    encode_close,
    encode_feedback,
    encode_open,
    encode_query,
)
from .profiles import ProfileDecoder
from .threads import READ_TIMEOUT_S, ReaderThread

__all__ = ["KplReceiver", "ProfileReceiver", "SerialLink"]

WRITE_TIMEOUT_S = 1.0  # a command is < 64 bytes; a port that cannot take it in 1 s is gone
STALL_S = 6.5  # three missed 2 s heartbeats plus 0.5 s slack
DEFAULT_CHOICES = 10  # keypads label keys 1/A ... 0/J


class SerialLink:
    """A pyserial port with a reader thread. ``deliver``/``fail`` run on the event loop."""

    def __init__(self, port: str, baud: int, *, tap: WireTap | None = None) -> None:
        self.port = port
        self.baud = baud
        self.tap = tap
        self._serial: serial.Serial | None = None
        self._reader: ReaderThread[bytes] | None = None

    async def open(
        self, deliver: Callable[[bytes], None], fail: Callable[[BaseException], None]
    ) -> None:
        loop = asyncio.get_running_loop()
        try:
            self._serial = await asyncio.to_thread(self._open_port)
        except ValueError as exc:  # pyserial raises ValueError for a bad baud rate
            raise ReceiverConfigError(f"serial port {self.port}: {exc}") from exc
        except (serial.SerialException, OSError) as exc:
            raise ReceiverUnavailable(f"cannot open serial port {self.port}: {exc}") from exc
        self._reader = ReaderThread(f"serial-{self.port}", self._read, deliver, fail, loop)
        self._reader.start()

    def _open_port(self) -> serial.Serial:
        # pyserial's open() flushes the input buffer, so bytes queued before we came are gone.
        return serial.Serial(
            self.port, self.baud, timeout=READ_TIMEOUT_S, write_timeout=WRITE_TIMEOUT_S
        )

    def _read(self) -> bytes:
        port = self._serial
        assert port is not None
        data: bytes = port.read(port.in_waiting or 1)
        return data

    async def write(self, data: bytes) -> None:
        port = self._serial
        if port is None:
            raise ReceiverUnavailable(f"serial port {self.port} is not open")
        if self.tap is not None:
            self.tap("out", data)
        try:
            await asyncio.to_thread(port.write, data)
        except (serial.SerialException, OSError) as exc:
            raise ReceiverUnavailable(f"write to {self.port} failed: {exc}") from exc

    async def close(self) -> None:
        reader, self._reader = self._reader, None
        port, self._serial = self._serial, None
        if reader is not None:
            await reader.stop()  # first: the thread must not read a closed port
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                await asyncio.to_thread(port.close)


class _SerialLineReceiver(ReceiverBase):
    """Common shell of the line-based serial receivers."""

    def __init__(
        self,
        port: str,
        *,
        baud: int = 115200,
        name: str | None = None,
        clock: Clock = time.monotonic,
        tap: WireTap | None = None,
    ) -> None:
        super().__init__(name or f"serial:{port}", clock=clock)
        self.link = SerialLink(port, baud, tap=tap)
        self._framer = LineFramer()
        self.info["port"] = port

    async def _connect(self) -> None:
        self._framer = LineFramer(self._framer.max_line)
        await self.link.open(self._on_data, self._on_read_error)

    async def _disconnect(self) -> None:
        await self.link.close()

    def _on_data(self, data: bytes) -> None:
        tap = self.link.tap
        for line in self._framer.feed(data):
            if tap is not None:
                tap("in", line + b"\n")
            self._on_line(line)
        if self._framer.overlong:
            self.stats["overlong"] = self._framer.overlong

    @abc.abstractmethod
    def _on_line(self, line: bytes) -> None:
        """Decode one complete line (without its newline)."""

    def _on_read_error(self, exc: BaseException) -> None:
        self._fail(ReceiverUnavailable(f"serial port {self.link.port} lost: {exc}"))


class KplReceiver(_SerialLineReceiver):
    """``serial://PORT?profile=kpl``: our KPL/1 receiver (arm, feedback, seq, heartbeat)."""

    kind = "serial_kpl"
    capabilities = Capabilities(arm=True, feedback=True, seq=True)

    def __init__(
        self,
        port: str,
        *,
        baud: int = 115200,
        strict: bool = True,
        stall_s: float = STALL_S,
        name: str | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        tap: WireTap | None = None,
    ) -> None:
        super().__init__(port, baud=baud, name=name, clock=clock, tap=tap)
        self.strict = strict
        self.stall_s = stall_s
        self.info["strict"] = "1" if strict else "0"
        self._sleep = sleep
        self._parser = KplParser(strict=strict)
        self._armed: tuple[int | None, int] | None = None
        self._hello_seen = False
        self._awaiting_hello = False
        self._heartbeat_seen = False
        self._last_line_at = 0.0
        self._last_seq: dict[str, int | None] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def _connect(self) -> None:
        self._parser = KplParser(strict=self.strict)
        self._hello_seen = self._heartbeat_seen = False
        self._last_line_at = self._clock()
        await super()._connect()
        self._awaiting_hello = True
        await self.link.write(encode_query())
        self._spawn(self._watchdog())

    async def _disconnect(self) -> None:
        tasks, self._tasks = self._tasks, set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await super()._disconnect()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_line(self, line: bytes) -> None:
        self._last_line_at = self._clock()
        event = self._parser.parse_line(line)
        self.stats.update(self._parser.stats)
        if isinstance(event, KplPress):
            self._last_seq[event.keypad] = event.seq
            self._emit(Decoded(f"{NAMESPACE}:{event.keypad}", event.key, event.seq, line))
        elif isinstance(event, Heartbeat):
            self._heartbeat_seen = True
            self._count("heartbeats")
            self.info["uptime_ms"] = str(event.uptime_ms)
            if event.dropped is not None:
                self.stats["device_dropped"] = event.dropped
        elif isinstance(event, Hello):
            self._on_hello(event)
        elif isinstance(event, Ack):
            self._count("acks")
            self.info["last_ack"] = event.command
        elif isinstance(event, DeviceError):
            self._count("device_errors")
            self.info["last_device_error"] = f"{event.code} {event.text}".strip()

    def _on_hello(self, hello: Hello) -> None:
        if hello.proto is not None and hello.proto != 1:
            self._fail(
                ProtocolError(f"{self.name}: receiver speaks KPL proto={hello.proto}, not 1")
            )
            return
        self.info.update(
            {k: v for k, v in hello.fields.items() if k in ("fw", "rx", "radio", "ch", "proto")}
        )
        rebooted = self._hello_seen and not self._awaiting_hello
        self._hello_seen, self._awaiting_hello = True, False
        if rebooted:
            self._count("reboots")
            if self._armed is not None:  # the receiver lost the open vote with its RAM
                self._spawn(self._send_open())

    async def _watchdog(self) -> None:
        # Check four times per deadline: a stall is noticed at most stall_s/4 late.
        while True:
            await self._sleep(self.stall_s / 4)
            silent = self._clock() - self._last_line_at
            if self._heartbeat_seen and silent > self.stall_s:
                self._fail(ReceiverStalled(f"{self.name}: no heartbeat for {silent:.1f} s"))
                return

    async def _send_open(self) -> None:
        if self._armed is None:
            return
        question, choices = self._armed
        try:
            await self.link.write(encode_open(choices, question))
        except ReceiverUnavailable as exc:
            self._fail(exc)

    async def arm(self, question: int | None = None, *, choices: int | None = None) -> None:
        self._armed = (question, choices or DEFAULT_CHOICES)
        await self.link.write(encode_open(self._armed[1], question))

    async def disarm(self) -> None:
        self._armed = None
        await self.link.write(encode_close())

    async def feedback(self, keypad: str, ok: bool, *, seq: int | None = None) -> None:
        prefix, _, radio_id = keypad.partition(":")
        if prefix != NAMESPACE:
            return  # another system's keypad heard by a different receiver
        if seq is None:
            seq = self._last_seq.get(radio_id)
        await self.link.write(encode_feedback(radio_id, seq, ok))


class ProfileReceiver(_SerialLineReceiver):
    """``serial://PORT?profile=turning_mooney|iskipper_capture|jsonl``: read-only sketches."""

    capabilities = Capabilities(seq=False)

    def __init__(
        self,
        port: str,
        profile: str,
        *,
        baud: int = 115200,
        name: str | None = None,
        clock: Clock = time.monotonic,
        tap: WireTap | None = None,
    ) -> None:
        super().__init__(port, baud=baud, name=name, clock=clock, tap=tap)
        self._decoder = ProfileDecoder(profile)
        self._framer = LineFramer(self._decoder.framer.max_line)
        self.kind = f"serial_{profile}"
        self.info["profile"] = profile

    def _on_line(self, line: bytes) -> None:
        decoded = self._decoder.feed_line(line)
        self.stats.update(self._decoder.stats)
        if decoded is not None:
            self._emit(decoded)
