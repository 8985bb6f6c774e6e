"""Signals between server processes: "meeting X changed" (never the data itself).

With one process (the default) nothing crosses a process boundary and `LocalBroadcast` does
nothing. With several processes over PostgreSQL, `RedisBroadcast` publishes each change's
meeting id on one channel; every process marks that meeting dirty and re-reads it from the
database on its next tick. Because the payload is only "something changed":
- a duplicate signal costs one extra render;
- a lost signal is repaired by the hub's periodic resync (every few seconds), and
- after the listener reconnects (Redis restarted) every meeting is marked dirty at once,
  so no projector stays stale (../shared/realtime.md B.4).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

CHANNEL = "covote:changed"
# Reconnect quickly after a blip, but do not hammer a Redis that is down.
BACKOFF_FIRST_S = 0.2
BACKOFF_MAX_S = 5.0

OnSignal = Callable[[int | None], None]  # a meeting id, or None for "resync everything"


class Broadcast(Protocol):
    async def start(self, on_signal: OnSignal) -> None: ...
    async def publish(self, meeting_id: int) -> None: ...
    async def aclose(self) -> None: ...


class LocalBroadcast:
    """One process: the hub already marks its own rooms; there is nobody else to tell."""

    async def start(self, on_signal: OnSignal) -> None:
        return None

    async def publish(self, meeting_id: int) -> None:
        return None

    async def aclose(self) -> None:
        return None


class RedisBroadcast:
    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self._url = url
        self._redis = redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self._task: asyncio.Task[None] | None = None
        self.reconnects = 0

    async def start(self, on_signal: OnSignal) -> None:
        self._task = asyncio.create_task(self._listen(on_signal), name="broadcast-listener")

    async def publish(self, meeting_id: int) -> None:
        try:
            await self._redis.publish(CHANNEL, str(meeting_id))
        except Exception as e:  # Redis down: the periodic resync covers the lost signal
            log.warning("could not publish change of meeting %s: %s", meeting_id, e)

    async def _listen(self, on_signal: OnSignal) -> None:
        import redis.asyncio as redis

        backoff = BACKOFF_FIRST_S
        while True:
            client = redis.from_url(self._url, socket_connect_timeout=2, health_check_interval=5)
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                # Whatever happened while we were not listening is unknown: resync everything.
                on_signal(None)
                backoff = BACKOFF_FIRST_S
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        try:
                            on_signal(int(message["data"]))
                        except ValueError:
                            log.warning("ignoring malformed signal %r", message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.reconnects += 1
                log.warning("broadcast listener lost Redis (%s); retrying in %.1fs", e, backoff)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                    await client.aclose()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_S)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._redis.aclose()


def open_broadcast(url: str | None) -> LocalBroadcast | RedisBroadcast:
    if not url:
        return LocalBroadcast()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBroadcast(url)
    raise ValueError(f"Unsupported broadcast URL {url!r}: use redis://host:port/db")
