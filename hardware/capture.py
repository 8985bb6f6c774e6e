"""kpcap/1: the record/replay file format for tests and field debugging (keypads.md 5.7).

JSON Lines, UTF-8. Line 1 is the header ``{"kpcap": 1, "driver": ..., "started": ISO-8601,
"device": {...}, "note": ...}``; every other line is a record with ``t`` (seconds since the
header's start, microsecond resolution) and either

* ``dir`` ("in" device->host, "out" host->device) plus one payload: ``line`` (text, newline
  implied), ``hex`` or ``b64``; or
* ``ev``: "plug", "unplug", "error" or "press" (the expected decode, a golden assertion, with
  ``keypad_id``, ``key``, ``seq``).

Unknown keys are ignored. This module adds one convention: an ``evdev`` capture stores each
input event as ``{"dir": "in", "line": "<type> <code> <value>"}``.

`CaptureWriter` writes and flushes line by line (a crash in the field keeps what came before).
`read_capture` raises `CaptureFormatError` with the line number for anything malformed. It reads
only regular files of at most ``max_bytes`` (never a device, FIFO or socket, which could block
or never end), and its errors never quote the file's contents: a path given by mistake (a
secrets file) must not come back in the message.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from .base import CaptureFormatError, Clock, KeypadPress

__all__ = [
    "Capture",
    "CaptureEvent",
    "CaptureHeader",
    "CaptureWriter",
    "Chunk",
    "read_capture",
]

VERSION = 1
# A 2-hour meeting of 500 keypads pressing 20 times each is ~10,000 lines of ~60 bytes: 0.6 MB.
# 16 MiB leaves room for raw HID captures and still reads and parses in well under a second.
MAX_CAPTURE_BYTES = 16 * 1024 * 1024
Direction = Literal["in", "out"]
EVENTS = frozenset({"plug", "unplug", "error", "press"})


@dataclass(frozen=True, slots=True)
class CaptureHeader:
    driver: str
    started: str
    device: dict[str, Any] = field(default_factory=dict)
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Chunk:
    """Bytes on the wire at time ``t``: a line (``\\n`` included), a frame or a HID report."""

    t: float
    dir: Direction
    data: bytes


@dataclass(frozen=True, slots=True)
class CaptureEvent:
    """``plug``/``unplug``/``error``/``press`` at time ``t``; other keys in ``fields``."""

    t: float
    ev: str
    fields: dict[str, Any] = field(default_factory=dict)


Record = Chunk | CaptureEvent


@dataclass(frozen=True, slots=True)
class Capture:
    header: CaptureHeader
    records: list[Record]

    def chunks(self, direction: Direction) -> list[Chunk]:
        return [r for r in self.records if isinstance(r, Chunk) and r.dir == direction]

    def expected_presses(self) -> list[tuple[str, str, int | None]]:
        """The golden ``press`` events as (keypad, key, seq)."""
        out = []
        for r in self.records:
            if isinstance(r, CaptureEvent) and r.ev == "press":
                seq = r.fields.get("seq")
                out.append((str(r.fields["keypad_id"]), str(r.fields["key"]), seq))
        return out


def _payload(data: bytes) -> dict[str, str]:
    """``line`` for one printable ASCII line (the common case), ``hex`` for anything else."""
    if data.endswith(b"\n") and data.count(b"\n") == 1:
        text = data[:-1]
        if all(0x20 <= b < 0x7F for b in text):
            return {"line": text.decode("ascii")}
    return {"hex": data.hex()}


class CaptureWriter:
    """Writes a kpcap/1 stream. Times come from ``clock`` relative to construction."""

    def __init__(
        self,
        fp: IO[str],
        *,
        driver: str,
        device: dict[str, Any] | None = None,
        note: str | None = None,
        clock: Clock = time.monotonic,
        started: datetime | None = None,
    ) -> None:
        self._fp = fp
        self._clock = clock
        self._t0 = clock()
        when = (started or datetime.now(UTC)).astimezone(UTC)
        header: dict[str, Any] = {
            "kpcap": VERSION,
            "driver": driver,
            "started": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "device": device or {},
        }
        if note:
            header["note"] = note
        self._write(header)

    def _write(self, obj: dict[str, Any]) -> None:
        self._fp.write(json.dumps(obj, separators=(", ", ": ")) + "\n")
        self._fp.flush()

    def _t(self) -> float:
        return round(self._clock() - self._t0, 6)

    def chunk(self, direction: str, data: bytes) -> None:
        """Record wire bytes; signature matches `hardware.base.WireTap`."""
        if direction not in ("in", "out"):
            raise ValueError(f"direction must be 'in' or 'out', not {direction!r}")
        self._write({"t": self._t(), "dir": direction, **_payload(data)})

    def event(self, ev: str, **fields: Any) -> None:
        if ev not in EVENTS:
            raise ValueError(f"unknown kpcap event {ev!r}")
        self._write({"t": self._t(), "ev": ev, **fields})

    def press(self, press: KeypadPress) -> None:
        self.event("press", keypad_id=press.keypad, key=press.key, seq=press.seq)


def _bad(lineno: int, why: str) -> CaptureFormatError:
    return CaptureFormatError(f"kpcap line {lineno}: {why}")


def _record(lineno: int, obj: dict[str, Any]) -> Record | None:
    t = obj.get("t")
    if not isinstance(t, int | float) or isinstance(t, bool) or t < 0:
        raise _bad(lineno, "'t' must be a number of seconds >= 0")
    if "dir" in obj:
        direction = obj["dir"]
        if direction not in ("in", "out"):
            raise _bad(lineno, "'dir' must be 'in' or 'out'")
        if not any(isinstance(obj.get(k), str) for k in ("line", "hex", "b64")):
            raise _bad(lineno, "a 'dir' record needs 'line', 'hex' or 'b64'")
        try:
            if isinstance(obj.get("line"), str):
                data = obj["line"].encode("utf-8") + b"\n"
            elif isinstance(obj.get("hex"), str):
                data = bytes.fromhex(obj["hex"])
            else:
                data = base64.b64decode(obj["b64"], validate=True)
        except (ValueError, binascii.Error):
            raise _bad(lineno, "bad payload: not valid hex or base64") from None
        return Chunk(float(t), direction, data)
    if "ev" in obj:
        ev = obj["ev"]
        if ev == "press" and not (
            isinstance(obj.get("keypad_id"), str) and isinstance(obj.get("key"), str)
        ):
            raise _bad(lineno, "a press event needs string 'keypad_id' and 'key'")
        if ev == "press" and not (obj.get("seq") is None or isinstance(obj["seq"], int)):
            raise _bad(lineno, "'seq' must be an integer or null")
        rest = {k: v for k, v in obj.items() if k not in ("t", "ev")}
        return CaptureEvent(float(t), str(ev), rest)
    return None  # neither: unknown record kinds are ignored (forward compatible)


def parse_capture(lines: Iterable[str]) -> Capture:
    """Parse kpcap/1 text lines (header first); blank lines are skipped."""
    header: CaptureHeader | None = None
    records: list[Record] = []
    for lineno, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:  # its message names a position, never the text
            raise _bad(lineno, f"not JSON ({exc.msg}, column {exc.colno})") from None
        except ValueError:  # e.g. a number too long to convert
            raise _bad(lineno, "not JSON") from None
        if not isinstance(obj, dict):
            raise _bad(lineno, "each line must be a JSON object")
        if header is None:
            if obj.get("kpcap") != VERSION:
                raise _bad(lineno, f"not a kpcap/{VERSION} header")
            if not isinstance(obj.get("driver"), str):
                raise _bad(lineno, "the header needs a string 'driver'")
            device = obj.get("device")
            header = CaptureHeader(
                obj["driver"],
                str(obj.get("started", "")),
                device if isinstance(device, dict) else {},
                obj.get("note") if isinstance(obj.get("note"), str) else None,
            )
            continue
        record = _record(lineno, obj)
        if record is not None:
            records.append(record)
    if header is None:
        raise CaptureFormatError("kpcap: empty file (no header)")
    return Capture(header, records)


def read_capture(path: str | Path, *, max_bytes: int = MAX_CAPTURE_BYTES) -> Capture:
    """Read a kpcap/1 file of at most `max_bytes`. Raises `CaptureFormatError` (also for an
    unreadable file, one that is not a regular file, or one too large), never quoting it."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise CaptureFormatError(f"cannot read capture {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fp:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise CaptureFormatError(f"cannot read capture {path}: not a regular file")
        too_big = CaptureFormatError(
            f"capture {path} is larger than the limit of {max_bytes:,} bytes"
        )
        if info.st_size > max_bytes:
            raise too_big
        try:
            data = fp.read(max_bytes + 1)  # the size may change under us: never read more
        except OSError as exc:
            raise CaptureFormatError(f"cannot read capture {path}: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise too_big
    lines = []
    for lineno, raw in enumerate(data.split(b"\n"), 1):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise _bad(lineno, "not UTF-8 text") from None
    return parse_capture(lines)
