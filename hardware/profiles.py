"""Legacy text profiles: existing receiver sketches that print one press per line.

Spec: shared/keypads.md 5.6 "Legacy profiles". These lines carry no checksum and (except
``jsonl``) no sequence number, so presses have ``seq=None`` and the manager de-duplicates them
with a time window. Lines that do not match are counted as ``ignored`` and never yield a press.

=====================  ==========================================================  ============
profile                line                                                        keypad id
=====================  ==========================================================  ============
``turning_mooney``     ``incoming: 1a2b3c31abcd --> 1`` (id, key byte, CRC16)       turning:1A2B3C
``iskipper_capture``   ``Captured: A (82, E9, 70, 1B)`` (iSkipper capture sketch)  iclicker:82E9701B
``jsonl``              ``{"id": "17", "key": "B"}`` (optional ``"seq": 0..255``)    jsonl:17
=====================  ==========================================================  ============

iSkipper prints the 4 remote-id bytes in hex; the 4th is the XOR of the first three (the same
check byte the iClicker base uses), so a line whose check byte is wrong is dropped, and the id
matches what ``iclicker://`` reports for the same remote.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from .base import Decoded
from .kpl import LineFramer

__all__ = ["PROFILES", "ProfileDecoder", "parse_line"]

_KEY_RE = re.compile(r"[0-9A-Z?*#+\-]{1,3}")
_ID_RE = re.compile(r"[0-9A-Za-z_.\-]{1,32}")
_MOONEY_RE = re.compile(r"^incoming: (?P<id>[0-9a-f]{6})[0-9a-f]{2}[0-9a-f]{4} --> (?P<key>.)")
_ISKIPPER_RE = re.compile(r"^Captured: (?P<key>[A-E]) \((?P<b>.*)\)")


def _turning_mooney(line: str) -> tuple[str, str, int | None] | None:
    m = _MOONEY_RE.match(line)
    if m is None:
        return None
    key = m["key"].upper()
    return (f"turning:{m['id'].upper()}", key, None) if _KEY_RE.fullmatch(key) else None


def _iskipper_capture(line: str) -> tuple[str, str, int | None] | None:
    m = _ISKIPPER_RE.match(line)
    if m is None:
        return None
    try:
        parts = [int(p.strip(), 16) for p in m["b"].split(",")]
    except ValueError:
        return None
    if len(parts) != 4 or any(not 0 <= p <= 255 for p in parts):
        return None
    if parts[0] ^ parts[1] ^ parts[2] != parts[3]:
        return None
    return "iclicker:" + "".join(f"{p:02X}" for p in parts), m["key"], None


def _jsonl(line: str) -> tuple[str, str, int | None] | None:
    if not line.startswith("{"):
        return None
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    keypad, key, seq = obj.get("id"), obj.get("key"), obj.get("seq")
    if isinstance(keypad, int) and not isinstance(keypad, bool):
        keypad = str(keypad)
    if not isinstance(keypad, str) or not _ID_RE.fullmatch(keypad):
        return None
    if not isinstance(key, str) or not _KEY_RE.fullmatch(key.upper()):
        return None
    if not (isinstance(seq, int) and not isinstance(seq, bool) and 0 <= seq <= 255):
        seq = None
    return f"jsonl:{keypad}", key.upper(), seq


PROFILES: dict[str, Callable[[str], tuple[str, str, int | None] | None]] = {
    "turning_mooney": _turning_mooney,
    "iskipper_capture": _iskipper_capture,
    "jsonl": _jsonl,
}


def parse_line(profile: str, line: bytes) -> Decoded | None:
    """Decode one line with ``profile``; None if it is not a press."""
    try:
        text = line.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
    hit = PROFILES[profile](text)
    return None if hit is None else Decoded(hit[0], hit[1], hit[2], line)


class ProfileDecoder:
    """`PressDecoder` for one legacy profile; counts ``ignored`` and ``overlong`` lines."""

    def __init__(self, profile: str) -> None:
        if profile not in PROFILES:
            raise KeyError(profile)
        self.profile = profile
        # A JSON line with a long id can pass 128 bytes; 512 still bounds garbage.
        self.framer = LineFramer(max_line=512)
        self.stats: dict[str, int] = {}

    def feed(self, data: bytes) -> list[Decoded]:
        out = []
        for line in self.framer.feed(data):
            decoded = self.feed_line(line)
            if decoded is not None:
                out.append(decoded)
        return out

    def feed_line(self, line: bytes) -> Decoded | None:
        decoded = parse_line(self.profile, line)
        if decoded is None and line.strip():
            self.stats["ignored"] = self.stats.get("ignored", 0) + 1
        if self.framer.overlong:
            self.stats["overlong"] = self.framer.overlong
        return decoded
