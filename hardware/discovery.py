"""Finding receivers that are plugged in, for the console's "add receiver" list.

`discover()` is blocking (it enumerates USB); call it with ``asyncio.to_thread`` and poll every
1-2 s to notice hot-plugs (keypads.md 5.5: polling is cross-platform and cheap). It only
*suggests* URLs; nothing is opened. Optional packages that are missing (hidapi, evdev) just
mean those kinds are not listed.

Guesses by USB id: Espressif 303a (ESP32-S3 native USB) and Raspberry Pi 2e8a (RP2040) are
what a DIY KPL/1 receiver is built on; FTDI 0403 is what the SunVote PVS-2010 uses, but also
countless other adapters, so it is listed both ways.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from serial.tools import list_ports

from .iclicker import PID as ICLICKER_PID
from .iclicker import VID as ICLICKER_VID

__all__ = ["Candidate", "discover"]

KPL_VIDS = {0x303A: "Espressif", 0x2E8A: "Raspberry Pi"}
FTDI_VID = 0x0403
_KEYPADISH = ("keypad", "clicker", "receiver", "vote", "turning", "response")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A receiver that could be added: its URL and what we know about the device."""

    url: str
    description: str
    likely: bool  # USB id or name suggests a keypad receiver, not just any port
    usb_id: str | None = None  # "vid:pid" in hex
    serial_number: str | None = None


def _usb_id(vid: int | None, pid: int | None) -> str | None:
    return None if vid is None or pid is None else f"{vid:04x}:{pid:04x}"


def _serial_candidates(ports: list[Any]) -> list[Candidate]:
    found = []
    for port in ports:
        usb_id = _usb_id(port.vid, port.pid)
        text = f"{port.description or ''} {port.manufacturer or ''} {port.product or ''}".strip()
        if port.vid == FTDI_VID:
            found.append(
                Candidate(
                    f"sunvote://{port.device}",
                    f"{text} (SunVote?)",
                    True,
                    usb_id,
                    port.serial_number,
                )
            )
        likely = port.vid in KPL_VIDS or any(word in text.lower() for word in _KEYPADISH)
        found.append(
            Candidate(
                f"serial://{port.device}", text or port.device, likely, usb_id, port.serial_number
            )
        )
    return found


def _iclicker_candidates() -> list[Candidate]:
    try:
        hid = importlib.import_module("hid")
    except ImportError:
        return []
    return [
        Candidate(
            f"iclicker://{d['path'].decode(errors='replace')}",
            f"{d.get('manufacturer_string') or 'iClicker'} base (experimental driver)",
            True,
            _usb_id(ICLICKER_VID, ICLICKER_PID),
            d.get("serial_number") or None,
        )
        for d in hid.enumerate(ICLICKER_VID, ICLICKER_PID)
    ]


def _evdev_candidates() -> list[Candidate]:
    try:
        evdev = importlib.import_module("evdev")
    except ImportError:
        return []
    found = []
    for path in evdev.list_devices():
        try:
            device = evdev.InputDevice(path)
        except OSError:  # no permission for this one: not ours to offer
            continue
        try:
            name = device.name
            keys = device.capabilities().get(1, [])  # EV_KEY
            usb_id = _usb_id(device.info.vendor, device.info.product)
        finally:
            device.close()
        if 2 in keys:  # has KEY_1: something that can type digits
            likely = any(word in name.lower() for word in _KEYPADISH)
            found.append(Candidate(f"evdev://{path}", f"{name} (keyboard wedge)", likely, usb_id))
    return found


def discover() -> list[Candidate]:
    """Every receiver-like device plugged in now, likeliest first. Blocking."""
    found = _serial_candidates(list(list_ports.comports()))
    found += _iclicker_candidates()
    found += _evdev_candidates()
    return sorted(found, key=lambda c: not c.likely)
