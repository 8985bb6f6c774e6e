"""KPL/1, the line protocol of our own USB-serial receiver: sans-I/O framing, parsing, encoding.

Spec: shared/keypads.md 5.6. Summary of what this module guarantees:

* `LineFramer` splits a byte stream into lines (``\\n``, ``\\r\\n`` accepted). A line longer
  than `MAX_LINE` (128 bytes) is dropped up to its newline and counted, so garbage without
  newlines cannot grow memory.
* `KplParser` turns lines into events: `Hello`, `KplPress`, `Heartbeat`, `Ack`,
  `DeviceError`. Lines not starting with ``KP1 `` are debug output (ignored, counted). A bad
  checksum drops the line; a missing one drops it in strict mode and is accepted in legacy
  mode. Unknown types and unknown ``key=value`` fields are ignored (forward compatible).
  Every rejection is counted in ``parser.stats``; the parser never raises on input.
* ``encode_*`` build host->receiver commands with their ``*HH`` checksum;
  `parse_command` is the receiver side of that, used by the device emulator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .base import Decoded

__all__ = [
    "MAX_LINE",
    "Ack",
    "DeviceError",
    "Heartbeat",
    "Hello",
    "KplCommand",
    "KplDecoder",
    "KplEvent",
    "KplParser",
    "KplPress",
    "LineFramer",
    "checksum",
    "encode_channel",
    "encode_close",
    "encode_feedback",
    "encode_open",
    "encode_query",
    "frame",
    "parse_command",
]

MAX_LINE = 128  # spec: "max 128 bytes per line"; the longest valid P line is ~60
PREFIX = b"KP1 "
NAMESPACE = "kpl"

_KEYPAD_RE = re.compile(r"[0-9A-Z]{1,16}")
_KEY_RE = re.compile(r"[0-9A-Z?*#+\-]{1,3}")
_HEX2_RE = re.compile(rb"[0-9A-F]{2}")  # spec: "2 uppercase hex digits"
_VALUE_RE = re.compile(r"[^\s*]+")  # spec: values contain no space or '*'


def checksum(body: bytes) -> int:
    """XOR of every byte (NMEA style); ``body`` runs from the 'K' of "KP1" to before '*'."""
    x = 0
    for b in body:
        x ^= b
    return x


def frame(body: str) -> bytes:
    """``"KP1 CLOSE"`` -> ``b"KP1 CLOSE*5C\\n"``."""
    raw = body.encode("ascii")
    return b"%s*%02X\n" % (raw, checksum(raw))


class LineFramer:
    """Splits a byte stream into lines without their terminators."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self.max_line = max_line
        self.overlong = 0
        self._buf = bytearray()
        self._skipping = False  # inside an overlong line: drop bytes up to the next newline

    def feed(self, data: bytes) -> list[bytes]:
        lines: list[bytes] = []
        self._buf += data
        while True:
            nl = self._buf.find(b"\n")
            if nl < 0:
                break
            line = bytes(self._buf[:nl])
            del self._buf[: nl + 1]
            if self._skipping:
                self._skipping = False
                continue
            if line.endswith(b"\r"):
                line = line[:-1]
            if len(line) > self.max_line:
                self.overlong += 1
                continue
            lines.append(line)
        if len(self._buf) > self.max_line:
            if not self._skipping:
                self.overlong += 1
            self._skipping = True
            self._buf.clear()
        return lines


@dataclass(frozen=True, slots=True)
class Hello:
    """``KP1 HELLO proto=1 fw=1.0 rx=R1``: sent at boot and in answer to ``KP1 ?``."""

    proto: int | None
    fw: str | None
    rx: str | None
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class KplPress:
    """``KP1 P <keypad_id> <key> <seq|-> [t=] [rssi=] [n=]``."""

    keypad: str
    key: str
    seq: int | None
    rx_ms: int | None = None
    rssi: int | None = None
    retx: int | None = None
    raw: bytes = b""


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """``KP1 HB <uptime_ms> [q=<queued>] [drop=<n>]``, every 2 s."""

    uptime_ms: int
    queued: int | None = None
    dropped: int | None = None


@dataclass(frozen=True, slots=True)
class Ack:
    """``KP1 ACK <cmd>``."""

    command: str


@dataclass(frozen=True, slots=True)
class DeviceError:
    """``KP1 E <code> [text...]``, e.g. ``E RADIO``, ``E OVERFLOW``."""

    code: str
    text: str


KplEvent = Hello | KplPress | Heartbeat | Ack | DeviceError


def _split_checksum(line: bytes) -> tuple[bytes, bool | None]:
    """Return (body, ok): ok is None when the line carries no ``*HH`` suffix.

    Uses the *last* '*' because '*' is a valid key ("KP1 P 1A * 3*HH")."""
    star = line.rfind(b"*")
    if star < 0 or not _HEX2_RE.fullmatch(line[star + 1 :]):
        return line, None
    body = line[:star]
    return body, checksum(body) == int(line[star + 1 :], 16)


def _split_fields(tokens: list[str]) -> tuple[list[str], dict[str, str]]:
    positional: list[str] = []
    named: dict[str, str] = {}
    for token in tokens:
        key, eq, value = token.partition("=")
        if eq:
            named[key] = value
        else:
            positional.append(token)
    return positional, named


def _int_or_none(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:  # optional fields are informative: a bad one is ignored, not fatal
        return None


class KplParser:
    """Parses receiver->host lines. ``strict=False`` is the legacy mode that accepts lines
    without a checksum (old sketches). Counters in ``stats``: ``bad_checksum``,
    ``no_checksum``, ``malformed``, ``ignored`` (debug lines), ``unknown`` (types)."""

    def __init__(self, *, strict: bool = True, max_line: int = MAX_LINE) -> None:
        self.strict = strict
        self.framer = LineFramer(max_line)
        self.stats: dict[str, int] = {}

    def _count(self, stat: str) -> None:
        self.stats[stat] = self.stats.get(stat, 0) + 1

    def feed(self, data: bytes) -> list[KplEvent]:
        events = [e for line in self.framer.feed(data) if (e := self.parse_line(line))]
        if self.framer.overlong:
            self.stats["overlong"] = self.framer.overlong
        return events

    def parse_line(self, line: bytes) -> KplEvent | None:
        if not line.startswith(PREFIX):
            if line.strip():
                self._count("ignored")
            return None
        body, ok = _split_checksum(line)
        if ok is False:
            self._count("bad_checksum")
            return None
        if ok is None:
            self._count("no_checksum")
            if self.strict:
                return None
        try:
            text = body.decode("ascii")
        except UnicodeDecodeError:
            self._count("malformed")
            return None
        tokens = text.split()[1:]  # drop "KP1"
        event = self._event(tokens, line) if tokens else None
        if event is None and tokens and tokens[0] in ("HELLO", "P", "HB", "ACK", "E"):
            self._count("malformed")
        elif event is None:
            self._count("unknown")
        return event

    def _event(self, tokens: list[str], line: bytes) -> KplEvent | None:
        kind, rest = tokens[0], tokens[1:]
        positional, named = _split_fields(rest)
        if kind == "P":
            return self._press(positional, named, line)
        if kind == "HELLO":
            return Hello(_int_or_none(named.get("proto")), named.get("fw"), named.get("rx"), named)
        if kind == "HB":
            if not positional or not positional[0].isdigit():
                return None
            return Heartbeat(
                int(positional[0]), _int_or_none(named.get("q")), _int_or_none(named.get("drop"))
            )
        if kind == "ACK":
            return Ack(positional[0]) if positional else None
        if kind == "E":
            return DeviceError(rest[0], " ".join(rest[1:])) if rest else None
        return None

    @staticmethod
    def _press(positional: list[str], named: dict[str, str], line: bytes) -> KplPress | None:
        if len(positional) < 3:
            return None
        keypad, key, seq_text = positional[:3]
        if not _KEYPAD_RE.fullmatch(keypad) or not _KEY_RE.fullmatch(key):
            return None
        if seq_text == "-":
            seq = None
        elif seq_text.isdigit() and int(seq_text) <= 255:
            seq = int(seq_text)
        else:
            return None
        return KplPress(
            keypad,
            key,
            seq,
            rx_ms=_int_or_none(named.get("t")),
            rssi=_int_or_none(named.get("rssi")),
            retx=_int_or_none(named.get("n")),
            raw=line,
        )


class KplDecoder:
    """`PressDecoder` view of `KplParser` (presses only), used by replay."""

    def __init__(self, *, strict: bool = True) -> None:
        self.parser = KplParser(strict=strict)
        self.stats = self.parser.stats

    def feed(self, data: bytes) -> list[Decoded]:
        return [
            Decoded(f"{NAMESPACE}:{e.keypad}", e.key, e.seq, e.raw)
            for e in self.parser.feed(data)
            if isinstance(e, KplPress)
        ]


# -- host -> receiver ----------------------------------------------------------------------


def _value(text: str) -> str:
    if not _VALUE_RE.fullmatch(text):
        raise ValueError(f"KPL/1 values cannot be empty or contain spaces or '*': {text!r}")
    return text


def encode_query() -> bytes:
    return frame("KP1 ?")


def encode_open(choices: int, question: int | str | None = None) -> bytes:
    if not 1 <= choices <= 99:
        raise ValueError(f"choices must be 1..99, not {choices}")
    q = "" if question is None else f" q={_value(str(question))}"
    return frame(f"KP1 OPEN {choices}{q}")


def encode_close() -> bytes:
    return frame("KP1 CLOSE")


def encode_feedback(keypad: str, seq: int | None, ok: bool) -> bytes:
    if not _KEYPAD_RE.fullmatch(keypad):
        raise ValueError(f"not a KPL/1 keypad id: {keypad!r}")
    return frame(f"KP1 FB {keypad} {'-' if seq is None else seq} {'OK' if ok else 'NO'}")


def encode_channel(channel: int) -> bytes:
    return frame(f"KP1 CH {int(channel)}")


@dataclass(frozen=True, slots=True)
class KplCommand:
    """A host command as the receiver sees it: ``KP1 OPEN 2 q=7`` -> ("OPEN", ["2"], {"q": "7"})."""

    name: str
    args: list[str]
    fields: dict[str, str]


def parse_command(line: bytes) -> KplCommand | None:
    """Receiver side: parse one host line; None for bad checksum, no checksum, or not KPL."""
    if not line.startswith(PREFIX):
        return None
    body, ok = _split_checksum(line)
    if not ok:  # the spec: "the receiver ignores bad lines"
        return None
    try:
        tokens = body.decode("ascii").split()[1:]
    except UnicodeDecodeError:
        return None
    if not tokens:
        return None
    args, fields = _split_fields(tokens[1:])
    return KplCommand(tokens[0], args, fields)
