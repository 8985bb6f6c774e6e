"""The receiver interface every keypad driver implements, and the errors it raises.

Contract:

* A receiver is built unopened (see `hardware.open_receiver`), then ``await open()``,
  iterate ``presses()`` (one consumer), ``await aclose()``. A closed receiver can be opened
  again; `hardware.manager.ReceiverManager` relies on that to reconnect after an unplug.
* ``presses()`` yields `KeypadPress` values until the receiver is closed (the iterator ends), a
  finite source such as a replay runs out (the iterator ends), or the device fails: then it
  raises a `ReceiverError`. Transport duplicates are **not** removed here; that is
  `hardware.dedupe`'s job, because several receivers can hear one keypad.
* ``arm``/``disarm``/``feedback`` exist on every receiver; receivers that cannot do them
  ignore the call, and ``capabilities`` tells the console which ones do something.
* Nothing here knows about meetings: a press is (receiver, keypad, key, seq, time).

Error tree (everything the package raises on purpose)::

    ReceiverError                 base class; catch this at the boundary
    ├── ReceiverConfigError       bad URL, unknown scheme, bad parameter, missing optional
    │   │                         package, unreadable capture file. Also a ValueError.
    │   │                         Retrying cannot help; the manager gives up on the receiver.
    │   └── CaptureFormatError    a kpcap/1 file that does not follow the format
    ├── ReceiverUnavailable       cannot open the device, or it went away (unplug, I/O error).
    │   │                         The manager retries with backoff.
    │   └── ReceiverStalled       open, but silent past its heartbeat deadline (wedged)
    └── ProtocolError             the device answered, but not as the protocol says
                                  (wrong version, init step not acknowledged). Retried.

Decoders never raise on bad input: a line with a bad checksum, a truncated frame or garbage is
dropped and counted in the receiver's ``stats``, because a noisy serial line must not end a vote.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import NamedTuple, Protocol, Self, runtime_checkable

__all__ = [
    "Capabilities",
    "CaptureFormatError",
    "Clock",
    "Decoded",
    "KeypadPress",
    "KeypadReceiver",
    "PressDecoder",
    "ProtocolError",
    "ReceiverBase",
    "ReceiverConfigError",
    "ReceiverError",
    "ReceiverStalled",
    "ReceiverState",
    "ReceiverStatus",
    "ReceiverUnavailable",
    "Sleep",
    "WireTap",
]

log = logging.getLogger(__name__)

Clock = Callable[[], float]
"""Monotonic seconds; `time.monotonic` in production, a fake in tests."""
Sleep = Callable[[float], Awaitable[None]]
"""`asyncio.sleep` in production, a fake that advances a fake clock in tests."""
WireTap = Callable[[str, bytes], None]
"""Called with ("in" | "out", bytes) for every line/frame/report on the wire (kpcap recording).
Line protocols pass one whole line including its ``\\n``. Called on the event loop thread."""

# A reader thread must never block on a slow consumer: 10,000 presses is ten full rooms of
# keypads pressing at once; past that we drop and count instead of stalling the device read.
PRESS_QUEUE_MAX = 10_000


class ReceiverError(Exception):
    """Base class of every error this package raises on purpose."""


class ReceiverConfigError(ReceiverError, ValueError):
    """The receiver is misconfigured: retrying cannot help."""


class CaptureFormatError(ReceiverConfigError):
    """A kpcap/1 file does not follow the format."""


class ReceiverUnavailable(ReceiverError):
    """The device cannot be opened or went away; it may come back."""


class ReceiverStalled(ReceiverUnavailable):
    """The device is open but has been silent past its heartbeat deadline."""


class ProtocolError(ReceiverError):
    """The device answered, but not as its protocol says."""


@dataclass(frozen=True, slots=True)
class KeypadPress:
    """One key press as a receiver decoded it.

    ``keypad`` is namespaced by system ("kpl:1A2B3C", "iclicker:82E9701B", "sunvote:12",
    "turning:1A2B3C", "wedge:...", "sim:...") because ids of different systems collide.
    ``key`` is the label the device gives, upper-case ("1".."9", "0", "A".."J", ...).
    ``seq`` is the keypad's 8-bit packet counter when the radio has one (same value on
    retransmissions), else None. ``at`` is the injected monotonic clock at decode time.
    ``raw`` is the wire bytes it came from (a line, a frame, a report) when there are any.
    """

    receiver: str
    keypad: str
    key: str
    seq: int | None
    at: float
    raw: bytes | None = None

    @property
    def choice(self) -> int | None:
        """1-based choice for keys labelled 1/A ... 0/J: "1"->1, "0"->10, "A"->1, "J"->10.

        Letters past J continue (K->11); any other key ("?", "#", "AB") gives None.
        """
        key = self.key
        if len(key) != 1:
            return None
        if key.isdigit():
            return int(key) or 10
        if "A" <= key <= "Z":
            return ord(key) - ord("A") + 1
        return None


class Decoded(NamedTuple):
    """A press as a decoder sees it: no receiver name and no time yet."""

    keypad: str
    key: str
    seq: int | None
    raw: bytes | None


class PressDecoder(Protocol):
    """A sans-I/O decoder: feed it wire bytes, get the presses they complete."""

    def feed(self, data: bytes) -> list[Decoded]: ...


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a receiver can do beyond yielding presses (the console greys out the rest)."""

    arm: bool = False  # arm()/disarm() reach the device (keypads show accepting/not)
    feedback: bool = False  # feedback() lights the keypad's LED
    seq: bool = False  # presses carry seq, so dedupe is exact instead of a time window
    experimental: bool = False  # decoder written from documents, never run on the device
    debounce_s: float = 1.5  # seq-less dedupe window for this driver (keypads.md 5.4)


class ReceiverState(StrEnum):
    """Where a supervised receiver is (`ReceiverStatus.state`)."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"  # lost or not there yet; reconnecting with backoff
    FINISHED = "finished"  # a finite source (replay, sim with waves=N) ran out
    FAILED = "failed"  # configuration error; not retried
    STOPPED = "stopped"  # removed or the manager shut down


@dataclass(frozen=True, slots=True)
class ReceiverStatus:
    """A snapshot of one receiver for the console, published on every change.

    ``presses`` counts presses received (before de-duplication), ``duplicates`` those the
    manager dropped as transport duplicates. ``info`` holds device facts (firmware, receiver
    id from HELLO, ...) and ``stats`` the decoder counters (bad checksums, ignored lines...).
    """

    receiver: str
    kind: str
    state: ReceiverState
    at: float
    presses: int = 0
    duplicates: int = 0
    last_press_at: float | None = None
    error: str | None = None
    armed: bool = False
    reconnects: int = 0
    retry_in: float | None = None  # seconds until the next reconnect attempt (DISCONNECTED)
    experimental: bool = False
    info: Mapping[str, str] = field(default_factory=dict)
    stats: Mapping[str, int] = field(default_factory=dict)


@runtime_checkable
class KeypadReceiver(Protocol):
    """What the manager and the tools need from a driver (see the module docstring)."""

    @property
    def name(self) -> str:
        """Stable receiver name, used as `KeypadPress.receiver` (URL ``name=`` overrides)."""
        ...

    @property
    def kind(self) -> str:
        """Driver kind, also the kpcap ``driver`` field: "serial_kpl", "iclicker", ..."""
        ...

    @property
    def capabilities(self) -> Capabilities: ...

    @property
    def info(self) -> Mapping[str, str]: ...

    @property
    def stats(self) -> Mapping[str, int]: ...

    async def open(self) -> None:
        """Open the device and run its init sequence. Raises `ReceiverError`."""
        ...

    async def aclose(self) -> None:
        """Release the device and stop its threads. Idempotent; never raises."""
        ...

    def presses(self) -> AsyncIterator[KeypadPress]:
        """Decoded presses until closed (ends) or failed (raises `ReceiverError`)."""
        ...

    async def arm(self, question: int | None = None, *, choices: int | None = None) -> None:
        """Tell keypads a vote is open (``choices`` keys valid); no-op if unsupported."""
        ...

    async def disarm(self) -> None:
        """Tell keypads voting stopped; no-op if unsupported."""
        ...

    async def feedback(self, keypad: str, ok: bool, *, seq: int | None = None) -> None:
        """Light the keypad's LED green (ok) or red; ``seq`` defaults to its last press."""
        ...


class _End:
    """Queue marker: the stream ended (closed or source exhausted)."""


_END = _End()
_Item = KeypadPress | ReceiverError | _End


class ReceiverBase(abc.ABC):
    """Shared plumbing for drivers: a bounded press queue between reader threads and
    ``presses()``, thread-safe emit/fail, counters, and no-op optional methods.

    Subclasses implement ``_connect()`` and ``_disconnect()`` and call ``_emit``/``_fail``/
    ``_finish`` on the loop thread (reader threads post to the loop; see `hardware.threads`).
    """

    kind: str = "base"
    capabilities: Capabilities = Capabilities()

    def __init__(self, name: str, *, clock: Clock = time.monotonic) -> None:
        self.name = name
        self.info: dict[str, str] = {}
        self.stats: dict[str, int] = {}
        self._clock = clock
        self._queue: asyncio.Queue[_Item] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._is_open = False
        self._opening = False
        self._failed: ReceiverError | None = None

    @property
    def is_open(self) -> bool:
        return self._is_open

    async def open(self) -> None:
        if self._is_open:
            return
        self._loop = asyncio.get_running_loop()
        # A fresh queue per connection: presses or errors left from the last one are stale.
        self._queue = asyncio.Queue(maxsize=PRESS_QUEUE_MAX)
        self._failed = None
        self._opening = True
        try:
            await self._connect()
        except BaseException:
            self._opening = False
            await self._disconnect()
            raise
        self._opening = False
        if self._failed is not None:  # the device failed while we were still opening it
            await self._disconnect()
            raise self._failed
        self._is_open = True

    async def aclose(self) -> None:
        was_open, self._is_open = self._is_open, False
        try:
            await self._disconnect()
        except Exception:  # closing a dead device may fail; the caller wants it gone anyway
            log.warning("%s: error while closing", self.name, exc_info=True)
        if was_open:
            self._put(_END)

    async def presses(self) -> AsyncIterator[KeypadPress]:
        if self._queue is None:
            raise RuntimeError(f"{self.name}: open() the receiver before reading presses()")
        queue = self._queue
        while True:
            item = await queue.get()
            if isinstance(item, KeypadPress):
                yield item
            elif isinstance(item, ReceiverError):
                raise item
            else:
                return

    async def arm(self, question: int | None = None, *, choices: int | None = None) -> None:
        return None

    async def disarm(self) -> None:
        return None

    async def feedback(self, keypad: str, ok: bool, *, seq: int | None = None) -> None:
        return None

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- for subclasses -------------------------------------------------------------------

    @abc.abstractmethod
    async def _connect(self) -> None:
        """Open the device (in a thread if it blocks); raise a `ReceiverError` if it cannot."""

    @abc.abstractmethod
    async def _disconnect(self) -> None:
        """Close the device and join any reader thread."""

    def _count(self, stat: str, n: int = 1) -> None:
        self.stats[stat] = self.stats.get(stat, 0) + n

    def _emit(self, decoded: Decoded) -> None:
        """Queue a decoded press, stamped with this receiver's name and the clock."""
        keypad, key, seq, raw = decoded
        press = KeypadPress(self.name, keypad, key, seq, self._clock(), raw)
        self._count("presses")
        self._put(press)

    def _fail(self, error: ReceiverError) -> None:
        """End ``presses()`` with ``error`` (the manager then reconnects or gives up); during
        ``open()`` the error is raised from ``open()`` instead."""
        if self._opening:
            self._failed = self._failed or error
        elif self._is_open:
            self._is_open = False
            self._put(error)

    def _finish(self) -> None:
        """End ``presses()`` normally: a finite source ran out."""
        self._put(_END)

    def _put(self, item: _Item) -> None:
        if self._queue is None:
            return
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self._count("dropped")
            if not isinstance(item, KeypadPress):  # an end or error marker must get through
                self._queue.get_nowait()
                self._queue.put_nowait(item)
