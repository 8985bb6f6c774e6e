"""Receiver URLs: one string in the settings picks the driver and its parameters.

=================================================================  ===========================
URL                                                                receiver
=================================================================  ===========================
``serial:///dev/ttyACM0`` / ``serial://COM3``                      KPL/1 (default profile)
``serial://PORT?profile=turning_mooney|iskipper_capture|jsonl``    legacy text sketches
``iclicker://`` / ``iclicker:///dev/hidraw3``                      iClicker v2 base (EXPERIMENTAL)
``sunvote:///dev/ttyUSB0``                                         SunVote PVS-2010 (EXPERIMENTAL)
``evdev:///dev/input/event7``                                      keyboard wedge, Linux
``sim://?keypads=30&seed=1``                                       simulated keypads
``replay:///path/to/file.kpcap?speed=0``                           kpcap/1 playback
=================================================================  ===========================

Parameters (all optional; every scheme also takes ``name=``, the receiver's name in presses):

* serial: ``baud`` (115200), ``profile`` (kpl), ``strict`` (1; 0 accepts lines without a
  checksum), ``stall`` (6.5 s heartbeat deadline; 0 disables)
* iclicker: ``freq`` (AA), ``type`` (alpha|numeric|alphanumeric), ``serial``
* sunvote: ``baud`` (19200)
* evdev: ``mode`` (key|line), ``id`` (keypad id in key mode), ``grab`` (1)
* sim: ``keypads`` ``seed`` ``dup`` ``choices`` ``change`` ``turnout`` ``speed`` ``waves``
  ``period`` ``auto`` (see `hardware.sim`)
* replay: ``speed`` (1; 0 = as fast as possible)

An unknown scheme, an unknown or repeated parameter, or a bad value raises
`ReceiverConfigError` naming the URL and what is accepted. Building a receiver does not open
it: call ``await receiver.open()`` or hand it to `ReceiverManager`.
"""

from __future__ import annotations

import asyncio
import math
import time
from urllib.parse import parse_qs, unquote, urlsplit

from .base import Clock, KeypadReceiver, ReceiverConfigError, Sleep, WireTap
from .capture import MAX_CAPTURE_BYTES
from .hid import hidapi_opener
from .iclicker import PID, VID, IClickerReceiver
from .profiles import PROFILES
from .replay import ReplayReceiver
from .serialport import STALL_S, KplReceiver, ProfileReceiver
from .sim import SimConfig, SimReceiver
from .sunvote import BAUD as SUNVOTE_BAUD
from .sunvote import SunVoteReceiver
from .wedge import EvdevReceiver

__all__ = ["DEVICE_SCHEMES", "FILE_SCHEMES", "SCHEMES", "open_receiver", "target_of"]

SCHEMES: dict[str, str] = {
    "serial": "USB-serial receiver: KPL/1 or a legacy text profile",
    "iclicker": "iClicker v2 base station over HID (experimental, needs hidapi)",
    "sunvote": "SunVote PVS-2010 receiver over serial (experimental)",
    "evdev": "keyboard-wedge receiver on Linux, grabbed (needs evdev)",
    "sim": "simulated keypads for demos and rehearsals",
    "replay": "play back a kpcap/1 capture",
}
# Schemes whose target is a file the server reads, and schemes whose target is a device node
# (iclicker's is optional). Whoever accepts URLs from a person checks these targets first.
FILE_SCHEMES = frozenset({"replay"})
DEVICE_SCHEMES = frozenset({"serial", "sunvote", "evdev", "iclicker"})
_BOOL = {
    "1": True,
    "true": True,
    "yes": True,
    "on": True,
    "0": False,
    "false": False,
    "no": False,
    "off": False,
}


class _Query:
    """Typed access to a URL's query; every parameter must be read or it is an error."""

    def __init__(self, url: str, scheme: str, query: str, allowed: set[str]) -> None:
        self.url = url
        try:
            parsed = parse_qs(query, keep_blank_values=True, strict_parsing=bool(query))
        except ValueError as exc:
            raise self.error(f"unreadable query: {exc}") from exc
        unknown = sorted(set(parsed) - allowed - {"name"})
        if unknown:
            raise self.error(
                f"unknown parameter(s) {', '.join(unknown)} for {scheme}://; "
                f"accepted: {', '.join(sorted(allowed | {'name'}))}"
            )
        repeated = sorted(k for k, v in parsed.items() if len(v) > 1)
        if repeated:
            raise self.error(f"parameter(s) given twice: {', '.join(repeated)}")
        self.values = {k: v[0] for k, v in parsed.items()}

    def error(self, why: str) -> ReceiverConfigError:
        return ReceiverConfigError(f"bad keypad receiver URL {self.url!r}: {why}")

    def text(self, name: str, default: str | None = None) -> str | None:
        return self.values.get(name, default)

    def choice(self, name: str, default: str, options: list[str]) -> str:
        value = self.values.get(name, default)
        if value not in options:
            raise self.error(f"{name} must be one of {', '.join(options)}, not {value!r}")
        return value

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.values.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise self.error(f"{name} must be an integer, not {raw!r}") from None
        if not low <= value <= high:
            raise self.error(f"{name} must be between {low} and {high}, not {value}")
        return value

    def number(self, name: str, default: float, low: float, high: float) -> float:
        raw = self.values.get(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise self.error(f"{name} must be a number, not {raw!r}") from None
        if not (math.isfinite(value) and low <= value <= high):
            raise self.error(f"{name} must be between {low:g} and {high:g}, not {raw}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = self.values.get(name)
        if raw is None:
            return default
        if raw.lower() not in _BOOL:
            raise self.error(f"{name} must be 1 or 0, not {raw!r}")
        return _BOOL[raw.lower()]


def target_of(url: str) -> tuple[str, str, str]:
    """(scheme, target, query) of a receiver URL: the target is the file or device path (or
    "" when there is none). Raises `ReceiverConfigError` for an unknown scheme."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unbalanced '[' in the netloc
        raise ReceiverConfigError(f"bad keypad receiver URL {url!r}: {exc}") from exc
    scheme = parts.scheme.lower()
    if "://" not in url or scheme not in SCHEMES:
        raise ReceiverConfigError(
            f"unknown keypad receiver URL {url!r}: expected one of "
            + ", ".join(f"{s}://" for s in SCHEMES)
        )
    return scheme, unquote(parts.netloc + parts.path), parts.query


def open_receiver(
    url: str,
    *,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
    tap: WireTap | None = None,
    max_capture_bytes: int = MAX_CAPTURE_BYTES,
) -> KeypadReceiver:
    """Build the (unopened) receiver for ``url``. ``tap`` sees the wire bytes of drivers
    that have any (for kpcap recording). ``replay://`` reads its file now, refusing one larger
    than ``max_capture_bytes``. Raises `ReceiverConfigError` for a bad URL or capture."""
    scheme, target, query = target_of(url)
    if scheme == "serial":
        q = _Query(url, scheme, query, {"baud", "profile", "strict", "stall"})
        port = _require(q, target, "a serial port, like serial:///dev/ttyACM0 or serial://COM3")
        baud = q.integer("baud", 115200, 50, 4_000_000)
        profile = q.choice("profile", "kpl", ["kpl", *PROFILES])
        strict = q.flag("strict", True)
        stall = q.number("stall", STALL_S, 0.0, 3600.0)
        if profile != "kpl":
            if "strict" in q.values or "stall" in q.values:
                raise q.error("strict and stall apply to profile=kpl only")
            return ProfileReceiver(
                port, profile, baud=baud, name=q.text("name"), clock=clock, tap=tap
            )
        return KplReceiver(
            port,
            baud=baud,
            strict=strict,
            stall_s=stall or math.inf,
            name=q.text("name"),
            clock=clock,
            sleep=sleep,
            tap=tap,
        )
    if scheme == "iclicker":
        q = _Query(url, scheme, query, {"freq", "type", "serial"})
        freq = q.text("freq", "AA") or "AA"
        if len(freq) != 2 or any(c not in "ABCDabcd" for c in freq):
            raise q.error(f"freq must be two letters A-D like AA, not {freq!r}")
        return IClickerReceiver(
            hidapi_opener(VID, PID, path=target or None, serial=q.text("serial")),
            freq=freq,
            poll_type=q.choice("type", "alpha", ["alpha", "numeric", "alphanumeric"]),
            name=q.text("name"),
            clock=clock,
            sleep=sleep,
            tap=tap,
        )
    if scheme == "sunvote":
        q = _Query(url, scheme, query, {"baud"})
        port = _require(q, target, "a serial port, like sunvote:///dev/ttyUSB0")
        baud = q.integer("baud", SUNVOTE_BAUD, 50, 4_000_000)
        return SunVoteReceiver(
            port, baud=baud, name=q.text("name"), clock=clock, sleep=sleep, tap=tap
        )
    if scheme == "evdev":
        q = _Query(url, scheme, query, {"mode", "id", "grab"})
        path = _require(q, target, "an input device, like evdev:///dev/input/event7")
        return EvdevReceiver(
            path,
            mode=q.choice("mode", "key", ["key", "line"]),
            keypad_id=q.text("id"),
            grab=q.flag("grab", True),
            name=q.text("name"),
            clock=clock,
            tap=tap,
        )
    if scheme == "sim":
        return _sim(url, target, query, clock, sleep)
    q = _Query(url, scheme, query, {"speed"})
    path = _require(q, target, "a capture file, like replay:///tmp/rehearsal.kpcap")
    speed = q.number("speed", 1.0, 0.0, 1000.0)
    return ReplayReceiver(
        path,
        speed=speed,
        name=q.text("name"),
        clock=clock,
        sleep=sleep,
        max_bytes=max_capture_bytes,
    )


def _require(q: _Query, target: str, what: str) -> str:
    if not target:
        raise q.error(f"needs {what}")
    return target


def _sim(url: str, target: str, query: str, clock: Clock, sleep: Sleep) -> KeypadReceiver:
    fields = {
        "keypads",
        "seed",
        "dup",
        "choices",
        "change",
        "turnout",
        "speed",
        "waves",
        "period",
        "auto",
    }
    q = _Query(url, "sim", query, fields)
    if target:
        raise q.error("sim:// takes no path, only parameters: sim://?keypads=30&seed=1")
    seed_text = q.text("seed")
    config = SimConfig(
        keypads=q.integer("keypads", 20, 1, 100_000),
        seed=None if seed_text is None else q.integer("seed", 0, 0, 2**63),
        dup=q.number("dup", 0.1, 0.0, 1.0),
        choices=q.integer("choices", 4, 1, 10),
        change=q.number("change", 0.1, 0.0, 1.0),
        turnout=q.number("turnout", 0.9, 0.0, 1.0),
        speed=q.number("speed", 1.0, 0.0, 1000.0),
        waves=q.integer("waves", 0, 0, 1_000_000),
        period=q.number("period", 30.0, 0.001, 86_400.0),
        auto=q.flag("auto", True),
    )
    return SimReceiver(config, name=q.text("name"), clock=clock, sleep=sleep)
