"""How many screens and phones are connected to a meeting, over every process.

One process (the default): its own sockets (`LocalPresence`). Several processes
(`broadcast_url`): each one writes its count of a meeting's sockets into one Redis hash per
meeting (field: the process, value: the count and when it was written) whenever it renders
that meeting, and adds the other processes' counts it finds there (`RedisPresence`). Without
this each console and projector counted the sockets of its own process only: measured with
scripts/bench (scale-out phase), 501 shown of 1,501 connected over 3 processes.

- A process writes at every render of the meeting, and its resync re-renders every meeting
  every `resync_s`; a field older than `stale_s` (a few resync periods) is from a process that
  stopped or was killed, and is ignored and deleted. So a killed process's phones, which
  reconnect to the others, are not counted twice for longer than `stale_s`.
- The others learn of a change in this process's count at their next render: at once when a
  ballot or a round changes, at the latest after `resync_s`. No signal is published per
  connection: a storm of 10,000 reconnects would be 10,000 signals for one number on a screen.
- If Redis is unreachable the count is this process's own, never a failed render.

Called from the hub's worker threads (where it renders), never on the event loop.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Protocol

log = logging.getLogger(__name__)

KEY_TTL_S = 24 * 3600  # as a screen's key: a meeting day; a stale hash does not linger


class Presence(Protocol):
    def total(self, meeting_id: int, local: int) -> int:
        """The meeting's connections over every process, given this process's `local`."""
        ...

    def forget(self, meeting_id: int) -> None:
        """This process has no connection to the meeting any more."""
        ...


class LocalPresence:
    """One process: its own count is the count."""

    def total(self, meeting_id: int, local: int) -> int:
        return local

    def forget(self, meeting_id: int) -> None:
        return None


def encode_count(count: int, at: float) -> str:
    return f"{count}:{at:.3f}"


def others(
    fields: Mapping[bytes | str, bytes | str], me: str, now: float, stale_s: float
) -> tuple[int, list[str]]:
    """The other processes' fresh counts, summed, and the fields that are stale (or not a
    count) to delete. Pure: `fields` is the meeting's hash as Redis returns it."""
    total = 0
    stale = []
    for raw_field, raw_value in fields.items():
        field = raw_field.decode() if isinstance(raw_field, bytes) else raw_field
        if field == me:
            continue
        value = raw_value.decode() if isinstance(raw_value, bytes) else raw_value
        count, _, at = value.partition(":")
        try:
            n, written = int(count), float(at)
        except ValueError:
            stale.append(field)
            continue
        if n < 0 or now - written > stale_s:
            stale.append(field)
        else:
            total += n
    return total, stale


class RedisPresence:
    """Several processes: one hash per meeting, a field per process."""

    def __init__(
        self,
        url: str,
        namespace: str,
        *,
        stale_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self._prefix = f"covote:{namespace}:connected:"
        self._me = uuid.uuid4().hex  # this process, for as long as it runs
        self._stale_s = stale_s
        self._clock = clock

    def total(self, meeting_id: int, local: int) -> int:
        key = self._prefix + str(meeting_id)
        now = self._clock()
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                pipe.hset(key, self._me, encode_count(local, now))
                pipe.expire(key, KEY_TTL_S)
                pipe.hgetall(key)
                fields = pipe.execute()[2]
            more, stale = others(fields, self._me, now, self._stale_s)
            if stale:
                self._redis.hdel(key, *stale)
        except Exception as e:  # Redis down: this process's own count, never a failed render
            log.warning("could not share the connections of meeting %s: %s", meeting_id, e)
            return local
        return local + more

    def forget(self, meeting_id: int) -> None:
        """Delete this process's field in a thread of its own: the hub calls this on the event
        loop, which must not wait for Redis (the field goes stale anyway)."""
        threading.Thread(target=self._delete, args=(meeting_id,), daemon=True).start()

    def _delete(self, meeting_id: int) -> None:
        try:
            self._redis.hdel(self._prefix + str(meeting_id), self._me)
        except Exception as e:
            log.warning("could not forget the connections of meeting %s: %s", meeting_id, e)


def open_presence(
    broadcast_url: str | None, namespace: str, *, stale_s: float
) -> LocalPresence | RedisPresence:
    """In memory for one process; in Redis when processes share a broadcast URL. `namespace`
    tells deployments sharing a Redis apart (as for the screens)."""
    if broadcast_url and broadcast_url.startswith(("redis://", "rediss://", "unix://")):
        return RedisPresence(broadcast_url, namespace, stale_s=stale_s)
    return LocalPresence()
