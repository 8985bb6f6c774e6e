"""Connections over several processes (app/live/presence.py): a console or projector on one
process counts the screens and phones connected to the others too."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from app.live.presence import LocalPresence, RedisPresence, encode_count, others
from tests.conftest import LiveServer, Meeting, Socket, join, make_settings

REDIS_URL = "redis://127.0.0.1:6379/0"
STALE_S = 10.0


def redis_unavailable() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return None
    except Exception as e:
        return f"Redis not reachable at {REDIS_URL}: {e}"


def test_the_other_processes_fresh_counts_are_added_and_stale_ones_dropped() -> None:
    """A process's own field is skipped, fresh counts are summed, a field older than stale_s
    (a killed process) or not a count is returned for deleting."""
    fields: dict[bytes | str, bytes | str] = {
        b"me": encode_count(7, 100.0).encode(),
        b"b": encode_count(5, 99.0).encode(),
        "c": encode_count(3, 95.5),
        b"dead": encode_count(40, 80.0).encode(),
        b"junk": b"many",
        b"negative": encode_count(-2, 100.0).encode(),
    }
    total, stale = others(fields, "me", now=100.0, stale_s=STALE_S)
    assert total == 8
    assert sorted(stale) == ["dead", "junk", "negative"]


def test_one_process_counts_its_own_connections() -> None:
    """Without a broadcast URL the count is the process's own."""
    assert LocalPresence().total(1, 12) == 12


@pytest.mark.redis
def test_processes_sharing_redis_count_each_others_connections() -> None:
    """Two processes' counts add up; one that stops refreshing (killed) stops counting after
    stale_s; one that forgets the meeting stops counting at once; another deployment
    (namespace) is not counted."""
    if reason := redis_unavailable():
        pytest.skip(reason)
    now = [1000.0]
    namespace = uuid.uuid4().hex
    a = RedisPresence(REDIS_URL, namespace, stale_s=STALE_S, clock=lambda: now[0])
    b = RedisPresence(REDIS_URL, namespace, stale_s=STALE_S, clock=lambda: now[0])
    other = RedisPresence(REDIS_URL, uuid.uuid4().hex, stale_s=STALE_S, clock=lambda: now[0])
    try:
        assert a.total(7, 5) == 5
        assert b.total(7, 3) == 8
        assert other.total(7, 100) == 100
        assert a.total(7, 6) == 9  # a's own field is replaced, not added
        now[0] += STALE_S + 1  # a was killed: it writes no more
        assert b.total(7, 3) == 3
        assert a.total(7, 1) == 4  # a back: b's field is fresh
        b._delete(7)  # forget, without the thread
        assert a.total(7, 1) == 1
    finally:
        for p in (a, b, other):
            p._delete(7)


def test_an_unreachable_redis_counts_this_process_only() -> None:
    """Redis down: the render goes on with this process's own count."""
    assert RedisPresence("redis://127.0.0.1:1/0", "x", stale_s=STALE_S).total(1, 4) == 4


@pytest.mark.redis
def test_a_projector_on_one_process_counts_the_phones_connected_to_another(
    tmp_path: Path,
) -> None:
    """Phones on A, the projector on B: B's turnout.connected counts A's phones (it counted
    only its own sockets), also in the small frame a ballot brings, and stops counting them
    when they leave."""
    if reason := redis_unavailable():
        pytest.skip(reason)
    settings = make_settings(tmp_path, broadcast_url=REDIS_URL, resync_s=0.2)
    with LiveServer(settings) as a, LiveServer(settings) as b:
        fac = a.browser()
        fac.get("/facilitator?key=test-facilitator-key")
        meeting = Meeting(fac)
        meeting.open_round()
        round_id = meeting.state()["round"]["id"]
        browsers = [a.browser() for _ in range(3)]
        for c in browsers:
            join(c, meeting.code)
        with Socket(b, meeting.code) as projector:
            projector.until(lambda m: m["type"] == "snapshot")
            sockets = [Socket(a, meeting.code, c).__enter__() for c in browsers]
            try:
                projector.until(
                    lambda m: (
                        m["type"] in ("snapshot", "turnout") and m["turnout"]["connected"] == 4
                    )
                )
                # a ballot on A: B's frame for it (only the turnout changed) counts them too
                sockets[0].send(
                    {"type": "cast", "ballot_id": uuid.uuid4().hex, "round": round_id,
                     "marks": {"library": "want"}}
                )  # fmt: skip
                voted = projector.until(
                    lambda m: m["type"] in ("snapshot", "turnout") and m["turnout"]["voted"] == 1
                )
                assert voted["type"] == "turnout" and voted["turnout"]["connected"] == 4
            finally:
                for s in sockets:
                    s.__exit__()
            projector.until(
                lambda m: m["type"] in ("snapshot", "turnout") and m["turnout"]["connected"] == 1
            )
