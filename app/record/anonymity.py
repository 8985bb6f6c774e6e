"""What keeps the public record anonymous: per-round pseudonyms, audit commitments, merged
channels and the seal of a closed round (README, Anonymity).

Pure: no database, no clock. Every keyed value uses the meeting's record secret
(`Meeting.record_secret`), drawn when the meeting is created and never shown, exported or sent
to a device; the purpose is part of the HMAC message, so a value made for one purpose says
nothing about another.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

OTHER_CHANNEL = "other"


def new_secret() -> str:
    """A fresh record secret (256 random bits, hex)."""
    return secrets.token_hex(32)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _mac(secret: str, purpose: str, value: Any) -> str:
    message = f"{purpose}\n{_canonical(value)}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def public_pseudonym(secret: str, round_number: int, voter_id: int) -> str:
    """The voter's pseudonym in one round's public ballots: unrelated to any other round's, and
    impossible to compute without the secret (so a device cannot learn it)."""
    return "v-" + _mac(secret, "pseudonym", [round_number, voter_id])[:16]


def device_handle(secret: str, voter_id: int) -> str:
    """What a voter's own browser is told it is (`me-` + 16 hex digits): stable for the voter,
    but in no public record and unrelated to any pseudonym there, so it proves nothing about a
    ballot (no receipt)."""
    return "me-" + _mac(secret, "device", voter_id)[:16]


def commitment(secret: str, kind: str, value: Any) -> str:
    """An opaque commitment to `value` for an audit link: keyed by the secret and salted with a
    fresh random value, so nobody can open it, guess it or match two links of one voter."""
    return _mac(secret, kind, [value, secrets.token_hex(16)])


def channel_labels(counts: Mapping[str, int], group_min: int) -> dict[str, str]:
    """How each channel of a round is written in the public ballots.

    A channel used by at least `group_min` voters keeps its name; the others become
    `OTHER_CHANNEL`. While "other" holds some voters but fewer than `group_min`, the smallest
    named channel (ties: by name) joins it, so no written channel holds between 1 and
    `group_min` - 1 voters unless the whole round does.
    """
    labels = {c: c if n >= group_min else OTHER_CHANNEL for c, n in counts.items()}

    def other_size() -> int:
        return sum(n for c, n in counts.items() if labels[c] == OTHER_CHANNEL)

    while 0 < other_size() < group_min:
        named = sorted((n, c) for c, n in counts.items() if labels[c] != OTHER_CHANNEL)
        if not named:
            break
        labels[named[0][1]] = OTHER_CHANNEL
    return labels


def count_channels(voters_channels: Iterable[str]) -> dict[str, int]:
    return dict(Counter(voters_channels))


def seal(rows: Iterable[Iterable[str]]) -> str:
    """SHA-256 of a round's public rows (cells as text) in canonical (sorted) order, so the seal
    does not depend on the order of lines in the file or on the CSV quoting."""
    return hashlib.sha256(_canonical(sorted([list(r) for r in rows])).encode()).hexdigest()


def secret_or_fail(secret: str | None) -> str:
    """The meeting's record secret; drawn with the meeting (older ones: migration 0002)."""
    if not secret:
        raise RuntimeError("this meeting has no record secret (run `covote db upgrade`)")
    return secret
