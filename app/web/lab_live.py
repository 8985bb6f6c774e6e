"""The idea wall's live opinion groups and bridging ideas (issue 16): recomputed as ratings
arrive, at most once per `LIVE_INTERVAL_S` per meeting, only when the ratings changed.

The wall (app/web/lab.py) fetches itself again after every frame of its meeting's socket, and
a busy room sends a turnout frame after each batch of ballots, several a second. The Lab's
statistics as published (`lab_kind.lab_result`) cost ~0.2 s of CPU at 500 voters x 300 ideas x
30,000 ratings, so they are not worked out per fetch, nor per ballot:

* Each fetch reads a cheap **fingerprint** of what the figures depend on (the round, its ideas'
  keys, statuses and merges, the rule, and the round's ballots: how many and the latest cast),
  in the worker thread that renders the wall (never on the event loop).
* The figures last worked out for the same fingerprint are shown as they are.
* A changed fingerprint is worked out at once (in that worker thread) if the meeting's last
  computation began `LIVE_INTERVAL_S` or more ago and none is running; else the wall shows the
  figures it has and says when to ask again (`Live.retry_s`): lab_wall.js fetches once more
  then, so the last rating always reaches the projector, within a second (the interval and
  one computation).

Privacy: groups are shown only when every one has at least m voters (`rules.lab` never makes a
smaller one when it splits the room; a room under 2m is one group, which is the room), and
support by group only where at least m of the group rated the idea (`IdeaResult.by_group`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from fractions import Fraction
from typing import Generic, TypeVar

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.rules import lab as rules
from app.voting import lab, lab_kind
from app.voting.models import Ballot, Meeting, Round

LIVE_INTERVAL_S = 0.5  # the "within a second": a slot, then one computation (~0.2 s CPU)
WALL_BRIDGING = 5  # bridging ideas on the wall: a projector's few lines
KEPT = 32  # rounds whose figures are kept: a server runs a handful of meetings at once

T = TypeVar("T")


@dataclass(frozen=True)
class Live(Generic[T]):
    """What the wall shows now: the figures (None before the first computation) and, when they
    are older than the ratings, in how many seconds to ask again (None: they are current)."""

    figures: T | None
    retry_s: float | None


@dataclass
class _Entry(Generic[T]):
    fingerprint: Hashable | None
    figures: T | None
    started: float  # clock time the last computation began
    busy: bool


class LiveCache(Generic[T]):
    """Per-meeting figures, recomputed at most once per `interval_s` and only when their
    fingerprint changed (module doc). Thread-safe: computations run in the caller's thread,
    outside the lock, one per meeting at a time; `computations` counts them (tests, bench)."""

    def __init__(
        self,
        interval_s: float = LIVE_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        kept: int = KEPT,
    ) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._kept = kept
        self._lock = threading.Lock()
        self._entries: dict[Hashable, _Entry[T]] = {}
        self.computations = 0

    def get(self, key: Hashable, fingerprint: Hashable, compute: Callable[[], T]) -> Live[T]:
        """The figures of `key` (a meeting's round) for `fingerprint`: kept, computed now, or
        (when a computation for `key` ran less than `interval_s` ago or is running) the last
        ones with a time to ask again."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.fingerprint == fingerprint:
                return Live(entry.figures, None)
            now = self._clock()
            if entry is not None and (entry.busy or now - entry.started < self.interval_s):
                wait = self.interval_s if entry.busy else entry.started + self.interval_s - now
                return Live(entry.figures, max(0.05, wait))
            if entry is None:
                entry = _Entry(None, None, now, True)
                self._entries[key] = entry
                while len(self._entries) > self._kept:
                    self._entries.pop(next(iter(self._entries)))
            entry.started, entry.busy = now, True
            self.computations += 1
        try:
            figures = compute()
        except BaseException:
            with self._lock:
                entry.busy = False
            raise
        with self._lock:
            entry.fingerprint, entry.figures, entry.busy = fingerprint, figures, False
        return Live(figures, None)


@dataclass(frozen=True)
class BridgingIdea:
    """A bridging idea on the wall: its key and its support (percent) in each opinion group
    with published figures, by group id."""

    key: str
    support: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class WallGroups:
    """The wall's opinion groups: their sizes by id (empty when none may be shown), the
    bridging ideas best first (at most WALL_BRIDGING) and how many voters have rated."""

    groups: tuple[rules.OpinionGroup, ...]
    bridging: tuple[BridgingIdea, ...]
    voters_rated: int


def _percent(agree: int, disagree: int) -> int:
    return round(Fraction(100 * agree, agree + disagree)) if agree + disagree else 0


def wall_groups(result: rules.LabResult) -> WallGroups:
    """What the wall may show of `result`: groups only when every one has at least m voters."""
    shown = all(g.size >= result.m for g in result.groups) and len(result.groups) >= 1
    bridging = tuple(
        BridgingIdea(i.key, tuple((g, _percent(a, d)) for g, (a, d, _p) in i.by_group.items()))
        for i in result.ideas
        if i.is_bridging
    )[:WALL_BRIDGING]
    return WallGroups(
        groups=result.groups if shown else (),
        bridging=bridging if shown else (),
        voters_rated=result.voters_rated,
    )


def fingerprint(session: Session, meeting: Meeting, rnd: Round) -> Hashable:
    """What the figures depend on, read cheaply: the round and its ideas, the rule, and the
    round's ballots (how many, the latest cast: a changed ballot is cast again)."""
    assert meeting.id is not None
    ideas = lab.ideas_of(session, meeting.id)
    q = select(func.count(), func.max(col(Ballot.cast_at))).where(col(Ballot.round_id) == rnd.id)
    count, latest = session.execute(q).one()
    return (
        rnd.id,
        tuple(rnd.proposal_keys),
        meeting.group_min,
        meeting.ratio,
        tuple(
            (r.idea.key, r.idea.status, tuple(r.idea.affected), r.idea.merged_into) for r in ideas
        ),
        int(count),
        str(latest),
    )


CACHE: LiveCache[WallGroups] = LiveCache()
"""The server's figures (one process: each process of a scaled-out server keeps its own)."""


def live_groups(session: Session, meeting: Meeting, rnd: Round) -> Live[WallGroups]:
    """The wall's opinion groups and bridging ideas of a `lab` round, as of its ratings now
    (or up to `LIVE_INTERVAL_S` older, with a time to ask again). Blocking: a worker thread."""
    # Keyed by the round (and the meeting's code, random: a test's fresh database reuses ids),
    # so a new round never shows the last one's figures while its own are worked out.
    return CACHE.get(
        (meeting.code, rnd.id),
        fingerprint(session, meeting, rnd),
        lambda: wall_groups(lab_kind.lab_result(session, meeting, rnd)),
    )
