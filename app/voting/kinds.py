"""The registry of activity kinds: the key stored in `round.kind` -> its `ActivityKind`.

Explicit: a kind counts only once `register`ed, and the room vote is registered here the same
way any other kind is (a test registers its own; the next kinds register theirs below). The
ballot path, rounds, the keypad desk, paper and the exports look a round's kind up here with
`kind_of`, so none of them names a kind.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from app.core.errors import Conflict
from app.core.messages import N_
from app.core.vocab import ROOM_VOTE
from app.voting.activity import ActivityKind
from app.voting.charter_kind import CharterKind
from app.voting.lab_kind import LabKind
from app.voting.models import Round
from app.voting.review_kind import ReviewKind
from app.voting.room_vote import RoomVote
from app.voting.survey_kind import SurveyKind

# A kind's key, as stored (round.kind is VARCHAR(32)) and named in the audit log.
KIND_KEY = re.compile(r"[a-z][a-z0-9_]{0,31}")

_KINDS: dict[str, ActivityKind] = {}


def register(kind: ActivityKind) -> None:
    """Make a kind available to new rounds and to the rounds stored with its key.

    Raises:
        ValueError: the key is not a short lowercase id, or another kind has it.
    """
    if not KIND_KEY.fullmatch(kind.key):
        raise ValueError(f"an activity kind's key is a short lowercase id, not {kind.key!r}")
    if _KINDS.get(kind.key, kind) is not kind:
        raise ValueError(f"another activity kind is registered as {kind.key!r}")
    _KINDS[kind.key] = kind


def unregister(key: str) -> None:
    """Forget a kind (a test's own). The room vote stays: NULL kinds are read as it."""
    if key == ROOM_VOTE:
        raise ValueError("the room vote cannot be unregistered")
    _KINDS.pop(key, None)


def kinds() -> Mapping[str, ActivityKind]:
    """Every registered kind by key, the room vote first (a read-only view)."""
    return MappingProxyType(_KINDS)


def kind_named(key: str | None) -> ActivityKind:
    """The kind stored as `key`; None (a round from before kinds) is the room vote.

    Raises:
        Conflict: no kind of that name is registered (a database written by a newer version,
            or a kind that was removed): its rounds can be read from the exports, not here.
    """
    kind = _KINDS.get(ROOM_VOTE if key is None else key)
    if kind is None:
        raise Conflict(
            N_("This round is a %(kind)s activity, which this version of Covote does not know."),
            kind=key,
        )
    return kind


def kind_of(rnd: Round) -> ActivityKind:
    """The kind of an activity's round (see `kind_named`)."""
    return kind_named(rnd.kind)


register(RoomVote())
register(SurveyKind())
register(LabKind())
register(CharterKind())
register(ReviewKind())
