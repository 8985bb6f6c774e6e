"""A daemon thread per device that does the blocking reads, so the event loop never blocks.

Contract: ``read()`` must return within `READ_TIMEOUT_S` (return None or an empty value when
nothing arrived); that bound is what lets `ReaderThread.stop` finish promptly. Results and the
first exception are handed to the loop with ``call_soon_threadsafe``; callbacks run on the loop
thread, so decoders are only ever touched from one thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["READ_TIMEOUT_S", "ReaderThread"]

log = logging.getLogger(__name__)

T = TypeVar("T")

# Each blocking read returns at least this often, so stopping a reader takes at most ~0.2 s
# (keypads.md 5.5: "stop through an Event plus the read timeout (<=200 ms)").
READ_TIMEOUT_S = 0.2


class ReaderThread(Generic[T]):
    """Calls ``read()`` in a loop on a daemon thread; ``deliver(data)`` / ``fail(exc)`` run on
    the event loop."""

    def __init__(
        self,
        name: str,
        read: Callable[[], T | None],
        deliver: Callable[[T], None],
        fail: Callable[[BaseException], None],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._read = read
        self._deliver = deliver
        self._fail = fail
        self._loop = loop
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"covote-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    async def stop(self, timeout: float = 2.0) -> None:
        """Ask the thread to stop and wait (off the loop) until it has."""
        self._stopping.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            await asyncio.to_thread(self._thread.join, timeout)
            if self._thread.is_alive():  # a driver whose read ignores its timeout
                log.warning("%s did not stop within %.1f s", self._thread.name, timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                data = self._read()
            except BaseException as exc:  # handed to the loop: the driver maps it to its errors
                if not self._stopping.is_set():
                    self._post(self._fail, exc)
                return
            if data and not self._stopping.is_set():
                self._post(self._deliver, data)

    def _post(self, callback: Callable[[Any], None], arg: object) -> None:
        try:
            self._loop.call_soon_threadsafe(callback, arg)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            self._stopping.set()
