"""Receiver URLs: the scheme picks the driver, parameters are checked, errors are clear."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from hardware import KeypadReceiver, ReceiverConfigError, open_receiver
from hardware.iclicker import IClickerReceiver
from hardware.replay import ReplayReceiver
from hardware.serialport import KplReceiver, ProfileReceiver
from hardware.sim import SimReceiver
from hardware.sunvote import SunVoteReceiver
from hardware.wedge import EvdevReceiver


def test_serial_defaults_to_kpl_with_its_parameters() -> None:
    """serial://PORT is KPL/1 at 115200 with strict checksums; parameters override."""
    receiver = open_receiver("serial:///dev/ttyACM0")
    assert isinstance(receiver, KplReceiver)
    assert (receiver.link.port, receiver.link.baud, receiver.strict, receiver.name) == (
        "/dev/ttyACM0",
        115200,
        True,
        "serial:/dev/ttyACM0",
    )
    custom = open_receiver("serial://COM3?baud=9600&strict=0&stall=0&name=hall")
    assert isinstance(custom, KplReceiver)
    assert (custom.link.port, custom.link.baud, custom.strict, custom.name) == (
        "COM3",
        9600,
        False,
        "hall",
    )
    assert custom.stall_s == math.inf


@pytest.mark.parametrize("profile", ["turning_mooney", "iskipper_capture", "jsonl"])
def test_serial_legacy_profiles(profile: str) -> None:
    """profile= selects a legacy text profile receiver."""
    receiver = open_receiver(f"serial:///dev/ttyUSB0?profile={profile}")
    assert isinstance(receiver, ProfileReceiver) and receiver.kind == f"serial_{profile}"


def test_other_schemes_build_their_drivers(fixtures: Path) -> None:
    """Each scheme builds its receiver class; every one satisfies the KeypadReceiver protocol."""
    receivers = [
        open_receiver("iclicker://?freq=BD&type=numeric"),
        open_receiver("sunvote:///dev/ttyUSB1"),
        open_receiver("evdev:///dev/input/event7?mode=line&grab=0"),
        open_receiver("sim://?keypads=5&seed=3&dup=0&speed=0&waves=1"),
        open_receiver(f"replay://{fixtures / 'sim_presses.kpcap'}?speed=0"),
    ]
    kinds = [IClickerReceiver, SunVoteReceiver, EvdevReceiver, SimReceiver, ReplayReceiver]
    for receiver, kind in zip(receivers, kinds, strict=True):
        assert isinstance(receiver, kind) and isinstance(receiver, KeypadReceiver)
    sim = receivers[3]
    assert isinstance(sim, SimReceiver) and (sim.config.keypads, sim.config.seed) == (5, 3)
    assert receivers[0].capabilities.experimental and receivers[1].capabilities.experimental
    assert receivers[2].info["mode"] == "line" and receivers[2].info["grab"] == "false"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("usb:///dev/ttyACM0", "expected one of serial://"),
        ("/dev/ttyACM0", "expected one of"),
        ("serial://", "needs a serial port"),
        ("serial:///dev/ttyACM0?speed=9600", "unknown parameter"),
        ("serial:///dev/ttyACM0?baud=fast", "baud must be an integer"),
        ("serial:///dev/ttyACM0?baud=1&baud=2", "given twice"),
        ("serial:///dev/ttyACM0?profile=morse", "profile must be one of"),
        ("serial:///dev/ttyACM0?profile=jsonl&strict=0", "profile=kpl only"),
        ("serial:///dev/ttyACM0?strict=maybe", "strict must be 1 or 0"),
        ("iclicker://?freq=AE", "freq must be two letters"),
        ("evdev://", "needs an input device"),
        ("evdev:///dev/input/event3?mode=chord", "mode must be one of"),
        ("sim://?keypads=0", "keypads must be between"),
        ("sim://?dup=nan", "dup must be between"),
        ("sim:///path", "takes no path"),
        ("replay://", "needs a capture file"),
        ("serial://[bad", "bad keypad receiver URL"),
    ],
)
def test_bad_urls_raise_config_errors_that_say_why(url: str, message: str) -> None:
    """Bad schemes, parameters and targets raise ReceiverConfigError saying why."""
    with pytest.raises(ReceiverConfigError, match=message) as info:
        open_receiver(url)
    assert isinstance(info.value, ValueError)


def test_replay_of_a_missing_file_fails_when_built(tmp_path: Path) -> None:
    """replay:// reads its file up front, so a typo fails before the meeting."""
    with pytest.raises(ReceiverConfigError, match="cannot read capture"):
        open_receiver(f"replay://{tmp_path}/nope.kpcap")
