"""Where each meeting's screen (app/live/screen.py) is kept between presenter commands.

One process (the default): in memory (`LocalScreens`); a restart returns every screen to
automatic, which is what a projector shows on its own anyway. Several processes
(`broadcast_url`): in Redis (`RedisScreens`), so the process that renders a projector's
snapshot reads the screen another process's console set; the change itself reaches the other
processes as any change does (`Hub.changed` -> the broadcast's signal -> a re-render, which
reads the screen here). Keys expire a day after the last change: a screen outlives no meeting
day. If Redis is unreachable the screen reads as automatic and a change is refused with
StorageUnavailable: the projector never stops because of it.

Both are called from worker threads (the hub renders in one) and are thread-safe.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from app.core.errors import StorageUnavailable
from app.core.messages import N_
from app.core.vocab import ScreenMode
from app.live.screen import AUTO, Screen

log = logging.getLogger(__name__)

KEY_TTL_S = 24 * 3600  # one meeting day; the next day's projector starts on automatic


class Screens(Protocol):
    def get(self, meeting_id: int) -> Screen: ...

    def update(self, meeting_id: int, change: Callable[[Screen], Screen]) -> Screen:
        """Apply `change` to the meeting's screen atomically; returns the new screen."""
        ...

    def forget(self, meeting_id: int) -> None: ...


class LocalScreens:
    """One process: a dict under a lock."""

    def __init__(self) -> None:
        self._screens: dict[int, Screen] = {}
        self._lock = threading.Lock()

    def get(self, meeting_id: int) -> Screen:
        with self._lock:
            return self._screens.get(meeting_id, AUTO)

    def update(self, meeting_id: int, change: Callable[[Screen], Screen]) -> Screen:
        with self._lock:
            new = change(self._screens.get(meeting_id, AUTO))
            self._screens[meeting_id] = new
            return new

    def forget(self, meeting_id: int) -> None:
        with self._lock:
            self._screens.pop(meeting_id, None)


def to_json(screen: Screen) -> str:
    return json.dumps(_plain(screen), separators=(",", ":"))


def _plain(screen: Screen) -> dict[str, Any]:
    return {
        "mode": str(screen.mode),
        "page": screen.page,
        "proposal": screen.proposal,
        "paused": screen.paused,
        "version": screen.version,
        "under": _plain(screen.under) if screen.under else None,
    }


def from_json(text: str | bytes | None) -> Screen:
    """A stored screen; AUTO for nothing or anything unreadable (never raises)."""
    if not text:
        return AUTO
    try:
        return _screen(json.loads(text))
    except (ValueError, TypeError, KeyError):
        log.warning("ignoring an unreadable stored screen %r", text[:200])
        return AUTO


def _screen(data: dict[str, Any]) -> Screen:
    proposal = data["proposal"]
    return Screen(
        mode=ScreenMode(data["mode"]),
        page=int(data["page"]),
        proposal=str(proposal) if proposal is not None else None,
        paused=bool(data["paused"]),
        version=int(data["version"]),
        under=_screen(data["under"]) if data.get("under") else None,
    )


class RedisScreens:
    """Several processes: one key per meeting, changed with WATCH/MULTI (optimistic)."""

    def __init__(self, url: str, namespace: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self._prefix = f"covote:{namespace}:screen:"

    def get(self, meeting_id: int) -> Screen:
        try:
            raw = self._redis.get(self._prefix + str(meeting_id))
        except Exception as e:  # Redis down: the screen's own course, never a failed render
            log.warning("could not read the screen of meeting %s: %s", meeting_id, e)
            return AUTO
        return from_json(raw)

    def update(self, meeting_id: int, change: Callable[[Screen], Screen]) -> Screen:
        import redis

        key = self._prefix + str(meeting_id)
        try:
            with self._redis.pipeline() as pipe:
                while True:
                    try:
                        pipe.watch(key)  # type: ignore[no-untyped-call]
                        new = change(from_json(pipe.get(key)))
                        pipe.multi()
                        pipe.set(key, to_json(new), ex=KEY_TTL_S)
                        pipe.execute()
                        return new
                    except redis.WatchError:
                        continue  # another console changed it meanwhile: apply to theirs
        except redis.RedisError as e:
            log.warning("could not store the screen of meeting %s: %s", meeting_id, e)
            raise StorageUnavailable(
                N_("The screen could not be changed just now. Try again in a moment.")
            ) from None

    def forget(self, meeting_id: int) -> None:
        """Delete the key in a thread of its own: `Services.forget` runs on the event loop,
        which must not wait for Redis (the key expires anyway, and PostgreSQL, which several
        processes need, never reuses a meeting's id)."""
        threading.Thread(target=self._delete, args=(meeting_id,), daemon=True).start()

    def _delete(self, meeting_id: int) -> None:
        try:
            self._redis.delete(self._prefix + str(meeting_id))
        except Exception as e:
            log.warning("could not forget the screen of meeting %s: %s", meeting_id, e)


def open_screens(broadcast_url: str | None, namespace: str) -> LocalScreens | RedisScreens:
    """In memory for one process; in Redis when processes share a broadcast URL. `namespace`
    tells deployments sharing a Redis apart (the limiter's digest of the database URL)."""
    if broadcast_url and broadcast_url.startswith(("redis://", "rediss://", "unix://")):
        return RedisScreens(broadcast_url, namespace)
    return LocalScreens()
