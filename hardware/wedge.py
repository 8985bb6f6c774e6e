"""``evdev://DEVICE``: keyboard-wedge keypad receivers on Linux (they "type" their presses).

The device is grabbed (EVIOCGRAB) so presses do not type into the slides; only one process can
hold the grab. Reading needs access to ``/dev/input/eventN`` (root or the ``input`` group).
Other systems cannot read a keyboard per device (keypads.md 1.6); there the facilitator console's
focused capture page is the way, outside this package.

Two modes, because receivers differ in what they type (keypads.md 1.6):

* ``mode=key`` (default): one dongle per voter; every key-down of a digit or letter is a press,
  and the keypad id is the device (URL ``id=``, else the device path): ``wedge:<id>``.
* ``mode=line``: one receiver types ``<keypad id> <key>`` and Enter per press (separator: space,
  comma or tab); a line with a single token is a press of the device's own keypad.

`WedgeDecoder` is sans-I/O: it is fed (type, code, value) triples, the shape of evdev events,
so tests use synthetic events. Auto-repeat (value 2) and key-ups are ignored; Shift is ignored
(keys are reported upper-case). ``evdev`` is an optional dependency imported on open.
"""

from __future__ import annotations

import asyncio
import importlib
import select
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from .base import (
    Capabilities,
    Clock,
    Decoded,
    ReceiverBase,
    ReceiverConfigError,
    ReceiverUnavailable,
    WireTap,
)
from .threads import READ_TIMEOUT_S, ReaderThread

__all__ = ["KEYMAP", "EvdevReceiver", "EventSource", "WedgeDecoder"]

EV_KEY = 0x01
KEY_DOWN, KEY_REPEAT = 1, 2
NAMESPACE = "wedge"
MAX_LINE = 64  # a typed "<id> <key>" line; more is a stuck key or a real keyboard

# Linux input-event-codes.h: top-row digits, letters, keypad digits; what keypads send.
KEYMAP: dict[int, str] = {
    **{2 + i: "1234567890"[i] for i in range(10)},
    **dict(zip((16, 17, 18, 19, 20, 21, 22, 23, 24, 25), "QWERTYUIOP", strict=True)),
    **dict(zip((30, 31, 32, 33, 34, 35, 36, 37, 38), "ASDFGHJKL", strict=True)),
    **dict(zip((44, 45, 46, 47, 48, 49, 50), "ZXCVBNM", strict=True)),
    **dict(zip((79, 80, 81, 75, 76, 77, 71, 72, 73, 82), "1234567890", strict=True)),
    12: "-",
    74: "-",  # KEY_KPMINUS
    78: "+",  # KEY_KPPLUS
    55: "*",  # KEY_KPASTERISK
}
ENTER = frozenset({28, 96})  # KEY_ENTER, KEY_KPENTER
SEPARATORS = {57: " ", 51: ",", 15: "\t"}  # KEY_SPACE, KEY_COMMA, KEY_TAB


class WedgeDecoder:
    """(type, code, value) events -> presses. Counters: ``ignored_lines``, ``overlong``."""

    def __init__(self, device_id: str, *, mode: str = "key") -> None:
        if mode not in ("key", "line"):
            raise ValueError(f"mode must be 'key' or 'line', not {mode!r}")
        self.device_id = device_id
        self.mode = mode
        self.stats: dict[str, int] = {}
        self._line: list[str] = []

    def _count(self, stat: str) -> None:
        self.stats[stat] = self.stats.get(stat, 0) + 1

    def feed_event(self, type_: int, code: int, value: int) -> Decoded | None:
        if type_ != EV_KEY or value != KEY_DOWN:
            return None
        raw = f"{type_} {code} {value}".encode()
        if self.mode == "key":
            key = KEYMAP.get(code)
            return None if key is None else Decoded(f"{NAMESPACE}:{self.device_id}", key, None, raw)
        if code in ENTER:
            line, self._line = "".join(self._line), []
            return self._parse_line(line)
        char = KEYMAP.get(code) or SEPARATORS.get(code)
        if char is not None:
            if len(self._line) >= MAX_LINE:
                self._count("overlong")
                self._line.clear()
            self._line.append(char)
        return None

    def _parse_line(self, line: str) -> Decoded | None:
        tokens = line.replace(",", " ").split()
        raw = line.encode()
        if len(tokens) == 1 and len(tokens[0]) <= 3:
            return Decoded(f"{NAMESPACE}:{self.device_id}", tokens[0], None, raw)
        if len(tokens) == 2 and len(tokens[1]) <= 3:
            return Decoded(f"{NAMESPACE}:{tokens[0]}", tokens[1], None, raw)
        if tokens:
            self._count("ignored_lines")
        return None

    def feed(self, data: bytes) -> list[Decoded]:
        """`PressDecoder` view for replay: ``data`` holds ``"<type> <code> <value>"`` lines."""
        out = []
        for line in data.decode("ascii", "replace").splitlines():
            parts = line.split()
            if len(parts) == 3 and all(p.lstrip("-").isdigit() for p in parts):
                decoded = self.feed_event(int(parts[0]), int(parts[1]), int(parts[2]))
                if decoded is not None:
                    out.append(decoded)
        return out


class EventSource(Protocol):
    """A grabbed input device: ``read_events`` waits at most ``timeout`` seconds."""

    def read_events(self, timeout: float) -> Sequence[tuple[int, int, int]]: ...
    def close(self) -> None: ...


class _EvdevSource:
    """`EventSource` over python-evdev: grab on open, ungrab on close."""

    def __init__(self, device: Any, grab: bool) -> None:
        self._device = device
        self._grabbed = False
        if grab:
            device.grab()  # raises OSError (EBUSY) if another process holds the grab
            self._grabbed = True

    def read_events(self, timeout: float) -> Sequence[tuple[int, int, int]]:
        ready, _, _ = select.select([self._device.fd], [], [], timeout)
        if not ready:
            return []
        try:
            return [(e.type, e.code, e.value) for e in self._device.read()]
        except BlockingIOError:
            return []

    def close(self) -> None:
        try:
            if self._grabbed:
                self._device.ungrab()
        except OSError:  # the device is already gone
            pass
        finally:
            self._device.close()


def evdev_opener(path: str, *, grab: bool = True) -> Callable[[], EventSource]:
    def open_source() -> EventSource:
        try:
            evdev = importlib.import_module("evdev")
        except ImportError as exc:
            raise ReceiverConfigError(
                "evdev:// needs the optional 'evdev' package (Linux): pip install evdev==2.0.0"
            ) from exc
        try:
            return _EvdevSource(evdev.InputDevice(path), grab)
        except OSError as exc:
            raise ReceiverUnavailable(f"cannot open input device {path}: {exc}") from exc

    return open_source


class EvdevReceiver(ReceiverBase):
    """A keyboard-wedge receiver read through Linux evdev, grabbed."""

    kind = "evdev"
    capabilities = Capabilities(seq=False)

    def __init__(
        self,
        path: str,
        *,
        mode: str = "key",
        keypad_id: str | None = None,
        grab: bool = True,
        opener: Callable[[], EventSource] | None = None,
        name: str | None = None,
        clock: Clock = time.monotonic,
        tap: WireTap | None = None,
    ) -> None:
        super().__init__(name or f"evdev:{path}", clock=clock)
        self._device_id = keypad_id or path.rsplit("/", 1)[-1]
        self._mode = mode
        self._decoder = WedgeDecoder(self._device_id, mode=mode)  # validates mode now
        self._opener = opener or evdev_opener(path, grab=grab)
        self._tap = tap
        self._source: EventSource | None = None
        self._reader: ReaderThread[Sequence[tuple[int, int, int]]] | None = None
        self.info.update(path=path, mode=mode, id=self._device_id, grab=str(grab).lower())

    async def _connect(self) -> None:
        self._decoder = WedgeDecoder(self._device_id, mode=self._mode)
        self._source = source = await asyncio.to_thread(self._opener)
        self._reader = ReaderThread(
            f"evdev-{self._device_id}",
            lambda: source.read_events(READ_TIMEOUT_S),
            self._on_events,
            self._on_read_error,
            asyncio.get_running_loop(),
        )
        self._reader.start()

    async def _disconnect(self) -> None:
        reader, self._reader = self._reader, None
        source, self._source = self._source, None
        if reader is not None:
            await reader.stop()
        if source is not None:
            await asyncio.to_thread(source.close)

    def _on_events(self, events: Sequence[tuple[int, int, int]]) -> None:
        for type_, code, value in events:
            if self._tap is not None and type_ == EV_KEY:
                self._tap("in", f"{type_} {code} {value}\n".encode())
            decoded = self._decoder.feed_event(type_, code, value)
            if decoded is not None:
                self._emit(decoded)
        self.stats.update(self._decoder.stats)

    def _on_read_error(self, exc: BaseException) -> None:
        self._fail(ReceiverUnavailable(f"input device lost: {exc}"))
