"""Receiver discovery suggests URLs for plugged-in devices without opening them."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

from hardware import discovery


def port(device: str, vid: int | None, pid: int | None, description: str) -> SimpleNamespace:
    return SimpleNamespace(
        device=device, vid=vid, pid=pid, description=description, manufacturer=None,
        product=None, serial_number="R1" if vid else None,
    )  # fmt: skip


def test_serial_ports_become_candidates_likeliest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """DIY boards rank first, FTDI is offered as SunVote too, unknown ports are still listed."""
    ports = [
        port("/dev/ttyS0", None, None, "n/a"),
        port("/dev/ttyUSB0", 0x0403, 0x6001, "FT232R USB UART"),
        port("/dev/ttyACM0", 0x303A, 0x1001, "USB JTAG/serial debug unit"),
    ]
    monkeypatch.setattr("serial.tools.list_ports.comports", lambda: ports)
    monkeypatch.setitem(sys.modules, "hid", None)
    monkeypatch.setitem(sys.modules, "evdev", None)
    found = discovery.discover()
    assert [c.url for c in found] == [
        "sunvote:///dev/ttyUSB0",
        "serial:///dev/ttyACM0",
        "serial:///dev/ttyS0",
        "serial:///dev/ttyUSB0",
    ]
    assert [c.likely for c in found] == [True, True, False, False]
    assert found[1].usb_id == "303a:1001" and found[1].serial_number == "R1"


def test_discovery_runs_on_this_machine() -> None:
    """On a real machine discovery returns a list (possibly empty) without raising."""
    assert isinstance(discovery.discover(), list)
