"""`ReceiverManager`: supervises several receivers and merges their presses into one stream.

Contract (keypads.md 5.4, 5.5):

* One supervisor task per receiver: open, re-arm if a vote is open, read presses; on any
  `ReceiverError` or ``OSError`` close it, publish DISCONNECTED with the error, wait with
  exponential backoff (0.5 s doubling to 5 s, +-20 % jitter so several receivers do not retry
  in lock-step) and open again. The full open runs again each time because iClicker and SunVote
  bases lose their state with power. A connection that lasted at least ``backoff.max_s``
  resets the backoff. `ReceiverConfigError` is FAILED (not retried); a finite source that ends
  is FINISHED.
* ``presses()``: one merged stream of de-duplicated presses (`hardware.dedupe`; seq-less
  drivers use their own ``capabilities.debounce_s`` unless ``debounce_s`` is given). If the
  consumer falls 10,000 presses behind, further presses are dropped and counted in
  ``dropped``; readers never block.
* ``arm()``/``disarm()`` fan out to connected receivers and are remembered, so a receiver
  that connects or reconnects later is armed too.
* Status: a `ReceiverStatus` is published on every state change and every press, to
  ``on_status`` (called on the loop; keep it quick) and to every ``statuses()`` subscriber.
* ``aclose()`` (or leaving ``async with``) cancels the supervisors, closes every receiver (which
  joins its reader thread) and ends ``presses()`` and ``statuses()``.

Clock, sleep and the jitter's random source are injected so tests run in fake time.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from .base import (
    Clock,
    KeypadPress,
    KeypadReceiver,
    ReceiverConfigError,
    ReceiverError,
    ReceiverState,
    ReceiverStatus,
    Sleep,
)
from .dedupe import WINDOW_S, Deduplicator

__all__ = ["Backoff", "ReceiverManager", "StatusSubscription"]

log = logging.getLogger(__name__)

QUEUE_MAX = 10_000  # keypads.md 5.5: fan-in queue; ten rooms' worth of simultaneous presses
STATUS_QUEUE_MAX = 1_000  # a console that stops reading loses the oldest status, not the newest


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnect delays: ``first_s * factor**attempt``, capped at ``max_s``, with jitter."""

    first_s: float = 0.5
    max_s: float = 5.0
    factor: float = 2.0
    jitter: float = 0.2

    def delay(self, attempt: int, rng: random.Random) -> float:
        base = min(self.max_s, self.first_s * self.factor ** min(attempt, 32))
        return min(self.max_s, base * rng.uniform(1 - self.jitter, 1 + self.jitter))


class _End:
    pass


_END = _End()


class StatusSubscription:
    """An async iterator of `ReceiverStatus`; subscribed from the moment it is created."""

    def __init__(self, manager: ReceiverManager, maxsize: int) -> None:
        self._manager = manager
        self._queue: asyncio.Queue[ReceiverStatus | _End] = asyncio.Queue(maxsize)

    def _offer(self, item: ReceiverStatus | _End) -> None:
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(item)

    def __aiter__(self) -> StatusSubscription:
        return self

    async def __anext__(self) -> ReceiverStatus:
        item = await self._queue.get()
        if isinstance(item, _End):
            self._queue.put_nowait(item)  # stay ended
            raise StopAsyncIteration
        return item

    def close(self) -> None:
        self._manager._subscriptions.discard(self)
        self._offer(_END)


@dataclass(slots=True)
class _Supervised:
    receiver: KeypadReceiver
    task: asyncio.Task[None] | None = None
    state: ReceiverState = ReceiverState.DISCONNECTED
    presses: int = 0
    duplicates: int = 0
    last_press_at: float | None = None
    error: str | None = None
    reconnects: int = 0
    retry_in: float | None = None


class ReceiverManager:
    """Supervises receivers; see the module docstring for the contract."""

    def __init__(
        self,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        backoff: Backoff | None = None,
        window_s: float = WINDOW_S,
        debounce_s: float | None = None,
        rng: random.Random | None = None,
        on_status: Callable[[ReceiverStatus], None] | None = None,
        queue_size: int = QUEUE_MAX,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self.backoff = backoff or Backoff()
        self._debounce_s = debounce_s
        self._dedupe = Deduplicator(window_s=window_s)
        self._rng = rng or random.Random()
        self._on_status = on_status
        self._receivers: dict[str, _Supervised] = {}
        self._routes: dict[str, str] = {}  # keypad -> receiver that last heard it (feedback)
        self._out: asyncio.Queue[KeypadPress | _End] = asyncio.Queue(queue_size)
        self._subscriptions: set[StatusSubscription] = set()
        self._armed: tuple[int | None, int | None] | None = None
        self._running = False
        self._closed = False
        self.dropped = 0

    # -- lifecycle -------------------------------------------------------------------------

    def add(self, receiver: KeypadReceiver | str) -> str:
        """Supervise ``receiver`` (or the receiver for a URL); returns its name.

        Raises `ReceiverConfigError` for a bad URL or a name already in use."""
        if isinstance(receiver, str):
            from .urls import open_receiver  # here: urls imports every driver module

            receiver = open_receiver(receiver, clock=self._clock, sleep=self._sleep)
        if receiver.name in self._receivers:
            raise ReceiverConfigError(f"a receiver named {receiver.name!r} is already supervised")
        supervised = _Supervised(receiver)
        self._receivers[receiver.name] = supervised
        if self._running:
            self._launch(supervised)
        return receiver.name

    def start(self) -> None:
        """Start supervising (needs a running loop). ``async with`` calls this."""
        if self._closed:
            raise RuntimeError("a closed ReceiverManager cannot be started again")
        if not self._running:
            self._running = True
            for supervised in self._receivers.values():
                self._launch(supervised)

    def _launch(self, supervised: _Supervised) -> None:
        name = supervised.receiver.name
        supervised.task = asyncio.get_running_loop().create_task(
            self._supervise(supervised), name=f"covote-receiver-{name}"
        )

    async def remove(self, name: str) -> None:
        """Stop supervising ``name`` and close it. Raises KeyError for an unknown name."""
        supervised = self._receivers.pop(name)
        await self._cancel(supervised)
        self._set(supervised, ReceiverState.STOPPED)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed, self._running = True, False
        supervised = list(self._receivers.values())
        await asyncio.gather(*(self._cancel(s) for s in supervised))
        for s in supervised:
            self._set(s, ReceiverState.STOPPED)
        if self._out.full():
            self._out.get_nowait()
        self._out.put_nowait(_END)
        for subscription in list(self._subscriptions):
            subscription.close()

    async def _cancel(self, supervised: _Supervised) -> None:
        task, supervised.task = supervised.task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def __aenter__(self) -> Self:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- supervision -----------------------------------------------------------------------

    async def _supervise(self, s: _Supervised) -> None:
        receiver = s.receiver
        attempt = 0
        while True:
            self._set(s, ReceiverState.CONNECTING)
            connected_at: float | None = None
            try:
                await receiver.open()
                connected_at = self._clock()
                s.error = None
                self._set(s, ReceiverState.CONNECTED)
                if self._armed is not None:  # re-arm after replug: the device forgot
                    question, choices = self._armed
                    await receiver.arm(question, choices=choices)
                async for press in receiver.presses():
                    self._ingest(s, press)
                self._set(s, ReceiverState.FINISHED)
                return
            except ReceiverConfigError as exc:
                s.error = str(exc)
                self._set(s, ReceiverState.FAILED)
                return
            except (ReceiverError, OSError) as exc:
                s.error = str(exc) or type(exc).__name__
            except Exception as exc:  # a driver bug must not end supervision of the others
                log.exception("receiver %s failed unexpectedly", receiver.name)
                s.error = f"unexpected {type(exc).__name__}: {exc}"
            finally:
                await self._close_quietly(receiver)
            if connected_at is not None and self._clock() - connected_at >= self.backoff.max_s:
                attempt = 0
            delay = self.backoff.delay(attempt, self._rng)
            attempt += 1
            s.reconnects += 1
            s.retry_in = delay
            self._set(s, ReceiverState.DISCONNECTED)
            log.info(
                "receiver %s disconnected (%s); retry in %.1f s", receiver.name, s.error, delay
            )
            await self._sleep(delay)
            s.retry_in = None

    @staticmethod
    async def _close_quietly(receiver: KeypadReceiver) -> None:
        try:
            await receiver.aclose()
        except Exception:  # contract says aclose never raises; a foreign driver might
            log.warning("closing receiver %s failed", receiver.name, exc_info=True)

    def _ingest(self, s: _Supervised, press: KeypadPress) -> None:
        s.presses += 1
        s.last_press_at = press.at
        debounce = self._debounce_s
        if debounce is None:
            debounce = s.receiver.capabilities.debounce_s
        if not self._dedupe.accept(press, debounce_s=debounce):
            s.duplicates += 1
        else:
            self._routes[press.keypad] = s.receiver.name
            try:
                self._out.put_nowait(press)
            except asyncio.QueueFull:
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 1000 == 0:
                    log.warning("press consumer is behind: %d presses dropped", self.dropped)
        self._publish(s)

    # -- status ----------------------------------------------------------------------------

    def _set(self, s: _Supervised, state: ReceiverState) -> None:
        s.state = state
        self._publish(s)

    def _snapshot(self, s: _Supervised) -> ReceiverStatus:
        receiver = s.receiver
        return ReceiverStatus(
            receiver=receiver.name,
            kind=receiver.kind,
            state=s.state,
            at=self._clock(),
            presses=s.presses,
            duplicates=s.duplicates,
            last_press_at=s.last_press_at,
            error=s.error,
            armed=self._armed is not None,
            reconnects=s.reconnects,
            retry_in=s.retry_in,
            experimental=receiver.capabilities.experimental,
            info=dict(receiver.info),
            stats=dict(receiver.stats),
        )

    def _publish(self, s: _Supervised) -> None:
        if not self._subscriptions and self._on_status is None:
            return
        status = self._snapshot(s)
        for subscription in self._subscriptions:
            subscription._offer(status)
        if self._on_status is not None:
            try:
                self._on_status(status)
            except Exception:  # a console bug must not stop the presses
                log.exception("on_status callback failed")

    def status(self) -> list[ReceiverStatus]:
        """A snapshot of every supervised receiver, in the order they were added."""
        return [self._snapshot(s) for s in self._receivers.values()]

    def statuses(self, maxsize: int = STATUS_QUEUE_MAX) -> StatusSubscription:
        """Subscribe to status events from now on; ``close()`` the subscription when done."""
        subscription = StatusSubscription(self, maxsize)
        if self._closed:
            subscription.close()
        else:
            self._subscriptions.add(subscription)
        return subscription

    # -- presses and control ---------------------------------------------------------------

    async def presses(self) -> AsyncIterator[KeypadPress]:
        """The merged, de-duplicated presses of every receiver, until ``aclose()``.

        Meant for one consumer: two iterators would share (split) the presses."""
        while True:
            item = await self._out.get()
            if isinstance(item, _End):
                self._out.put_nowait(item)  # a second reader ends too
                return
            yield item

    @property
    def armed(self) -> tuple[int | None, int | None] | None:
        """(question, choices) of the open vote, or None."""
        return self._armed

    async def arm(self, question: int | None = None, *, choices: int | None = None) -> None:
        """Open a vote on every connected receiver now and every receiver that connects later."""
        self._armed = (question, choices)
        await self._fan_out("arm", lambda r: r.arm(question, choices=choices))

    async def disarm(self) -> None:
        self._armed = None
        await self._fan_out("disarm", lambda r: r.disarm())

    async def _fan_out(self, what: str, call: Callable[[KeypadReceiver], Awaitable[None]]) -> None:
        targets = [s for s in self._receivers.values() if s.state is ReceiverState.CONNECTED]
        results = await asyncio.gather(*(call(s.receiver) for s in targets), return_exceptions=True)
        for s, result in zip(targets, results, strict=True):
            if isinstance(result, Exception):
                # The supervisor sees a dead device on its own; an arm that failed on a live
                # one (a command the device refused) is shown to the facilitator.
                s.error = f"{what} failed: {result}"
                log.warning("%s on %s failed: %s", what, s.receiver.name, result)
                self._publish(s)

    async def feedback(self, keypad: str, ok: bool, *, seq: int | None = None) -> bool:
        """Send LED feedback through the receiver that last heard ``keypad``.

        Returns False when no connected receiver heard it or the send failed."""
        name = self._routes.get(keypad)
        s = self._receivers.get(name) if name is not None else None
        if s is None or s.state is not ReceiverState.CONNECTED:
            return False
        try:
            await s.receiver.feedback(keypad, ok, seq=seq)
        except (ReceiverError, OSError) as exc:
            log.warning("feedback to %s via %s failed: %s", keypad, s.receiver.name, exc)
            return False
        return True
