"""Bounded work per voter, per address and per meeting.

Each limit is a `limits` rate string from Settings ("30/minute;300/hour": every tier must
hold), counted in a moving window. With `broadcast_url` (several processes) the counters live in
Redis, so every process shares one limit; otherwise in this process's memory. Keys are
prefixed with a digest of the database URL: processes of one deployment share counters, two
deployments on one Redis never do.

Keypads and paper are server-side channels and never pass through here. A refused request
raises `TooManyRequests` (HTTP 429 with Retry-After, a WebSocket `error` frame) before it
changes anything. If Redis is unreachable the limiter lets requests through and logs: a Redis
outage must not stop a vote.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from collections.abc import Awaitable
from enum import StrEnum
from typing import TypeVar

from limits import RateLimitItem, RateLimitItemPerMinute, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from app.config import Settings
from app.core.errors import TooManyRequests
from app.core.messages import N_

log = logging.getLogger(__name__)
T = TypeVar("T")

# Counts join refusals per meeting for the console's alert (app/live/surge.py); never refuses.
_TALLY = RateLimitItemPerMinute(10**9)

SLOW_DOWN = N_("Too many requests from this device. Wait %(seconds)s seconds and try again.")
TOO_MANY_CASTS = N_(
    "You are saving your vote very often. Wait %(seconds)s seconds, then save it again."
)
TOO_MANY_JOINS = N_(
    "Too many people are joining right now. Wait %(seconds)s seconds and try again."
)
TOO_MANY_IDEAS = N_(
    "You are sending ideas very quickly. Wait %(seconds)s seconds, then send the next one."
)
TOO_MANY_AMENDMENTS = N_(
    "You are sending amendments very quickly. Wait %(seconds)s seconds, then send the next one."
)
LOCKED_OUT = N_(
    "Too many wrong ticket codes from this device. Wait %(seconds)s seconds before trying again."
)


class Limit(StrEnum):
    """What is limited, and by which key."""

    CASTS_PER_VOTER = "cast"
    JOINS_PER_ADDRESS = "join-addr"
    JOINS_PER_MEETING = "join-meeting"
    TICKET_FAILURES_PER_ADDRESS = "ticket-addr"
    API_PER_ADDRESS = "api-addr"
    OFFERS_PER_ADDRESS = "offer-addr"
    IDEAS_PER_VOTER = "idea"
    AMENDMENTS_PER_VOTER = "amend"


_MESSAGES = {
    Limit.CASTS_PER_VOTER: TOO_MANY_CASTS,
    Limit.JOINS_PER_ADDRESS: SLOW_DOWN,
    Limit.JOINS_PER_MEETING: TOO_MANY_JOINS,
    Limit.TICKET_FAILURES_PER_ADDRESS: LOCKED_OUT,
    Limit.API_PER_ADDRESS: SLOW_DOWN,
    Limit.OFFERS_PER_ADDRESS: SLOW_DOWN,
    Limit.IDEAS_PER_VOTER: TOO_MANY_IDEAS,
    Limit.AMENDMENTS_PER_VOTER: TOO_MANY_AMENDMENTS,
}


def rates(settings: Settings) -> dict[Limit, list[RateLimitItem]]:
    return {
        Limit.CASTS_PER_VOTER: parse_many(settings.limit_casts_per_voter),
        Limit.JOINS_PER_ADDRESS: parse_many(settings.limit_joins_per_address),
        Limit.JOINS_PER_MEETING: parse_many(settings.limit_joins_per_meeting),
        Limit.TICKET_FAILURES_PER_ADDRESS: parse_many(settings.limit_ticket_failures_per_address),
        Limit.API_PER_ADDRESS: parse_many(settings.limit_api_per_address),
        Limit.OFFERS_PER_ADDRESS: parse_many(settings.limit_offers_per_address),
        Limit.IDEAS_PER_VOTER: parse_many(settings.limit_ideas_per_voter),
        Limit.AMENDMENTS_PER_VOTER: parse_many(settings.limit_amendments_per_voter),
    }


def database_digest(settings: Settings) -> str:
    """The deployment's name in a shared Redis: a digest of its database URL (the processes of
    one deployment share it, two deployments never do)."""
    return hashlib.sha256(settings.resolved_database_url().encode()).hexdigest()[:16]


def open_storage(settings: Settings) -> Storage:
    """Redis when the deployment runs several processes (broadcast_url), else memory."""
    url = settings.broadcast_url
    if not url:
        return MemoryStorage()
    digest = database_digest(settings)
    return RedisStorage(
        "async+" + url.removeprefix("async+"),
        implementation="redispy",
        wrap_exceptions=True,
        key_prefix=f"covote-limits:{digest}",
        socket_connect_timeout=2,
        socket_timeout=2,
    )


class RateLimiter:
    def __init__(self, settings: Settings, storage: Storage | None = None) -> None:
        self._rates = rates(settings)
        self._storage = storage or open_storage(settings)
        self._window = MovingWindowRateLimiter(self._storage)

    async def hit(self, limit: Limit, key: str) -> None:
        """Count one request against `limit` for `key`; TooManyRequests if over any tier."""
        for item in self._rates[limit]:
            if not await self._call(self._window.hit(item, limit.value, key), True):
                raise self._refusal(limit, await self._wait_s(item, limit, key))

    async def check(self, limit: Limit, key: str) -> None:
        """TooManyRequests if `key` is already over `limit`; counts nothing (see `hit`)."""
        for item in self._rates[limit]:
            if not await self._call(self._window.test(item, limit.value, key), True):
                raise self._refusal(limit, await self._wait_s(item, limit, key))

    async def note_join_refused(self, meeting_id: int) -> None:
        await self._call(self._window.hit(_TALLY, "join-refused", str(meeting_id)), True)

    async def joins_refused(self, meeting_id: int) -> int:
        """Join attempts refused in this meeting within the last minute (every process)."""
        stats = await self._call(
            self._window.get_window_stats(_TALLY, "join-refused", str(meeting_id)), None
        )
        return 0 if stats is None else _TALLY.amount - stats.remaining

    async def aclose(self) -> None:
        timer = getattr(self._storage, "timer", None)  # memory storage's expiry sweep
        if isinstance(timer, asyncio.Task):
            timer.cancel()
        bridge = getattr(self._storage, "bridge", None)
        storage = getattr(bridge, "storage", None)
        close = getattr(storage, "aclose", None)
        if close is not None:
            try:
                await close()
            except Exception as e:  # closing a client whose Redis is gone
                log.debug("closing the limiter's Redis client: %s", e)

    async def _wait_s(self, item: RateLimitItem, limit: Limit, key: str) -> int:
        stats = await self._call(self._window.get_window_stats(item, limit.value, key), None)
        if stats is None:
            return item.get_expiry()
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def _call(self, op: Awaitable[T], fallback: T) -> T:
        try:
            return await op
        except StorageError as e:
            log.warning("rate limiter storage unavailable, letting the request through: %s", e)
            return fallback

    @staticmethod
    def _refusal(limit: Limit, seconds: int) -> TooManyRequests:
        return TooManyRequests(_MESSAGES[limit], retry_after=seconds, seconds=seconds)
