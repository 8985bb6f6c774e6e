"""iClicker v2 base (EXPERIMENTAL): report decoding, command sequences, the HID shell on a
fake device (keypads.md 1.2)."""

from __future__ import annotations

import importlib
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.base import ProtocolError, ReceiverConfigError, ReceiverUnavailable
from hardware.hid import hidapi_opener
from hardware.iclicker import (
    PID,
    VID,
    IClickerAck,
    IClickerDecoder,
    IClickerReceiver,
    IClickerVote,
    command,
    fake_base,
    init_sequence,
    lcd,
    remote_id,
    start_poll,
    stop_poll,
)

CAPTURED = bytes.fromhex("02138182e97000").ljust(64, b"\0")  # the real record in keypads.md


def test_documented_capture_decodes_to_remote_82e9701b() -> None:
    """02 13 81 82 e9 70 00 is remote 82E9701B answering A with seq 0."""
    [vote] = IClickerDecoder().feed_report(CAPTURED)
    assert vote == IClickerVote("82E9701B", "A", 0, CAPTURED[:32])
    assert remote_id(0x82, 0xE9, 0x70) == "82E9701B"


def test_two_records_in_one_report_both_decode() -> None:
    """A report with records at offsets 0 and 32 yields two votes."""
    report = bytes.fromhex("021382aabbcc05").ljust(32, b"\0") + bytes.fromhex(
        "021385112233ff"
    ).ljust(32, b"\0")
    votes = IClickerDecoder().feed(report)
    assert [(d.keypad, d.key, d.seq) for d in votes] == [
        ("iclicker:AABBCCDD", "B", 5),
        ("iclicker:11223300", "E", 255),
    ]


def test_iclicker1_button_codes_decode() -> None:
    """Button codes 0x01..0x05 (iClicker 1 remotes) are A..E too."""
    [vote] = IClickerDecoder().feed(bytes.fromhex("021304aabbcc01").ljust(64, b"\0"))
    assert vote.key == "D"


def test_out_of_range_buttons_and_other_reports_are_ignored() -> None:
    """Button codes outside A..E and non-vote reports never become presses; they are counted."""
    decoder = IClickerDecoder()
    assert decoder.feed(bytes.fromhex("021390aabbcc01").ljust(64, b"\0")) == []
    assert decoder.feed(bytes.fromhex("02181a").ljust(64, b"\0")) == []
    assert decoder.feed(bytes(64)) == []
    assert decoder.stats == {"bad_button": 1, "other": 1}


def test_truncated_record_is_counted_not_decoded() -> None:
    """A vote record cut short yields nothing."""
    decoder = IClickerDecoder()
    assert decoder.feed(bytes.fromhex("021381aabb")) == []
    assert decoder.stats["truncated"] == 1


def test_acknowledgement_reports_are_recognised() -> None:
    """01 xx aa is the acknowledgement of command 01 xx."""
    assert IClickerDecoder().feed_report(command(0x01, 0x11, 0xAA)) == [IClickerAck(0x11)]


@given(st.binary(max_size=80))
def test_random_reports_never_crash_and_votes_are_well_formed(report: bytes) -> None:
    """Arbitrary reports never raise; any vote has an 8-hex id with a valid XOR byte."""
    for decoded in IClickerDecoder().feed(report):
        hex_id = decoded.keypad.removeprefix("iclicker:")
        raw = bytes.fromhex(hex_id)
        assert raw[0] ^ raw[1] ^ raw[2] == raw[3]
        assert decoded.key in "ABCDE"


def test_command_sequences_match_the_documented_bytes() -> None:
    """Init, poll, stop and LCD commands are 64-byte reports with the documented bytes."""
    steps = init_sequence("AA")
    assert steps[0].report == command(0x01, 0x10, 0x21, 0x41) and steps[0].ack
    assert init_sequence("BD")[0].report[:4] == bytes([0x01, 0x10, 0x22, 0x44])
    assert [s.report[:3] for s in start_poll("numeric")][2] == bytes([0x01, 0x19, 0x67])
    assert start_poll()[-1].report[:2] == b"\x01\x11" and start_poll()[-1].ack
    assert stop_poll()[0].report[:2] == b"\x01\x12"
    assert lcd(2, "Question 3")[:2] == b"\x01\x14" and lcd(2, "x")[2:18] == b"x".ljust(16)
    assert all(len(s.report) == 64 for s in steps)
    with pytest.raises(ValueError):
        init_sequence("AE")


async def test_receiver_initialises_arms_and_yields_presses() -> None:
    """On a fake base, open runs the init, arm starts the poll, votes become presses."""
    base = fake_base()
    receiver = IClickerReceiver(lambda: base, step_delay_s=0)
    async with receiver:
        assert base.written[: len(init_sequence())] == [s.report for s in init_sequence()]
        await receiver.arm(choices=5)
        assert base.written[-1] == command(0x01, 0x11)
        base.push(CAPTURED)
        press = await anext(receiver.presses())
        assert (press.keypad, press.key, press.seq, press.receiver) == (
            "iclicker:82E9701B",
            "A",
            0,
            "iclicker",
        )
        await receiver.disarm()
        assert base.written[-5][:2] == b"\x01\x12"
    assert base.closed


async def test_unacknowledged_init_step_is_a_protocol_error() -> None:
    """A base that never acknowledges 'set frequency' fails open() with ProtocolError."""
    base = fake_base(mute=[0x10])
    receiver = IClickerReceiver(lambda: base, step_delay_s=0, ack_timeout_s=0.05)
    with pytest.raises(ProtocolError, match="01 10"):
        await receiver.open()
    assert base.closed


async def test_unplugged_base_ends_presses_with_unavailable() -> None:
    """A read error (cable pulled) ends presses() with ReceiverUnavailable."""
    base = fake_base()
    async with IClickerReceiver(lambda: base, step_delay_s=0) as receiver:
        base.unplug()
        with pytest.raises(ReceiverUnavailable):
            await anext(receiver.presses())


def test_missing_hidapi_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the optional hidapi package, opening says how to install it."""
    monkeypatch.setitem(sys.modules, "hid", None)
    with pytest.raises(ReceiverConfigError, match="pip install hidapi"):
        hidapi_opener(VID, PID)()


def test_hidapi_without_a_base_is_unavailable() -> None:
    """With hidapi installed and no base plugged in, opening raises ReceiverUnavailable."""
    try:
        importlib.import_module("hid")
    except ImportError:
        pytest.skip("optional package hidapi is not installed (pip install hidapi==0.15.0)")
    with pytest.raises(ReceiverUnavailable, match="1881:0150"):
        hidapi_opener(VID, PID)()
