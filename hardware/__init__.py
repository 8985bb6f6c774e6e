"""Keypad receivers: drivers, supervision, record/replay. Knows nothing about meetings.

Typical use by the meeting side::

    from hardware import ReceiverManager

    async with ReceiverManager() as manager:
        manager.add("serial:///dev/ttyACM0")          # or sim://?keypads=30, replay://...
        await manager.arm(question=3, choices=3)       # a keypad round shows proposal 3
        async for press in manager.presses():          # de-duplicated, all receivers merged
            ...  # press.keypad "kpl:1A2B3C", press.key "2", press.choice 2, press.seq, press.at

Status for the console: ``manager.statuses()`` (async iterator) or ``on_status=callback``.

Modules: `base` (interface, errors), `urls` (URL -> driver), `manager`, `dedupe`, `capture`
(kpcap/1), drivers `serialport` + `kpl` + `profiles` (serial), `iclicker`, `sunvote`, `wedge`
(evdev), `sim`, `replay`; `emulator` (a KPL/1 receiver on a pty, for tests and benchmarks),
`cli` (monitor/record), `discovery` (suggest URLs for plugged-in devices), `hid` (HID
access), `threads` (reader threads). See README.md beside this file.

Security: radio keypads have no authentication or encryption. Anyone nearby can read every
press and send presses under another keypad's id, so keypad ballots are neither secret nor
authenticated. Whitelist registered keypads and alert on unknown ids and impossible rates
(the meeting side does this); never use keypads for a secret ballot.
"""

from __future__ import annotations

from .base import (
    Capabilities,
    CaptureFormatError,
    KeypadPress,
    KeypadReceiver,
    ProtocolError,
    ReceiverConfigError,
    ReceiverError,
    ReceiverStalled,
    ReceiverState,
    ReceiverStatus,
    ReceiverUnavailable,
)
from .dedupe import Deduplicator
from .discovery import Candidate, discover
from .manager import Backoff, ReceiverManager
from .urls import SCHEMES, open_receiver

__all__ = [
    "SCHEMES",
    "Backoff",
    "Candidate",
    "Capabilities",
    "CaptureFormatError",
    "Deduplicator",
    "KeypadPress",
    "KeypadReceiver",
    "ProtocolError",
    "ReceiverConfigError",
    "ReceiverError",
    "ReceiverManager",
    "ReceiverStalled",
    "ReceiverState",
    "ReceiverStatus",
    "ReceiverUnavailable",
    "discover",
    "open_receiver",
]
