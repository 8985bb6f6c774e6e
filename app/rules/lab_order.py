"""The order in which a phone shows a voter the Lab's ideas to rate.

Pure: no I/O, no clock; the only chance is a hash of the voter's seed, so one voter's order is
stable and different voters' orders differ.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence, Set


def _draw(voter_seed: str, key: str) -> str:
    return hashlib.sha256(f"{voter_seed}\n{key}".encode()).hexdigest()


def next_ideas(
    approved: Sequence[str], answered: Set[str], counts: Mapping[str, int], voter_seed: str
) -> list[str]:
    """The order in which a phone shows the approved ideas its voter has not answered.

    Fewest answers so far first (`counts`: answers by idea key; missing = 0), so every idea
    gets enough answers; ties in an order drawn per voter (SHA-256 of `voter_seed` and the key):
    stable for one voter, different between voters, so not everyone sees the same idea first.
    """
    todo = {k for k in approved if k not in answered}
    return sorted(todo, key=lambda k: (counts.get(k, 0), _draw(voter_seed, k), k))
