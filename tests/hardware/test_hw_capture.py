"""kpcap/1 writing and reading, and the replay:// receiver on capture fixtures."""

from __future__ import annotations

import io
import itertools
from pathlib import Path
from typing import Any

import pytest

from hardware.base import CaptureFormatError, KeypadPress, ReceiverUnavailable
from hardware.capture import CaptureEvent, CaptureWriter, Chunk, parse_capture, read_capture
from hardware.replay import ReplayReceiver

Press = tuple[str, str, int | None]


async def replay_all(receiver: ReplayReceiver) -> list[Press]:
    async with receiver:
        return [(p.keypad, p.key, p.seq) async for p in receiver.presses()]


def test_writer_output_reads_back() -> None:
    """Lines, binary chunks, events and presses survive a write/read round trip."""
    fp = io.StringIO()
    now = [10.0]
    writer = CaptureWriter(
        fp, driver="serial_kpl", device={"path": "/dev/ttyACM0"}, clock=lambda: now[0]
    )
    writer.event("plug")
    now[0] = 10.25
    writer.chunk("in", b"KP1 HB 5000*25\n")
    writer.chunk("out", bytes([1, 0x11, 0, 0xFF]))
    writer.press(KeypadPress("r", "kpl:1A2B3C", "B", 17, 10.5))
    capture = parse_capture(fp.getvalue().splitlines())
    assert capture.header.driver == "serial_kpl" and capture.header.device == {
        "path": "/dev/ttyACM0"
    }
    assert capture.records == [
        CaptureEvent(0.0, "plug", {}),
        Chunk(0.25, "in", b"KP1 HB 5000*25\n"),
        Chunk(0.25, "out", bytes([1, 0x11, 0, 0xFF])),
        CaptureEvent(0.25, "press", {"keypad_id": "kpl:1A2B3C", "key": "B", "seq": 17}),
    ]
    assert '"line": "KP1 HB 5000*25"' in fp.getvalue() and '"hex": "011100ff"' in fp.getvalue()


def test_b64_payloads_and_unknown_keys_are_accepted() -> None:
    """b64 payloads decode; unknown keys and unknown record kinds are ignored."""
    capture = parse_capture(
        [
            '{"kpcap": 1, "driver": "iclicker", "future": true}',
            '{"t": 1.5, "dir": "in", "b64": "AhOB", "rssi": -40}',
            '{"t": 2, "comment": "not a record kind we know"}',
        ]
    )
    assert capture.records == [Chunk(1.5, "in", b"\x02\x13\x81")]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "empty"),
        (['{"kpcap": 2, "driver": "x"}'], "not a kpcap/1 header"),
        (['{"kpcap": 1}'], "driver"),
        (['{"kpcap": 1, "driver": "x"}', "not json"], "line 2: not JSON"),
        (['{"kpcap": 1, "driver": "x"}', '{"t": 1, "dir": "sideways", "line": "x"}'], "'dir'"),
        (['{"kpcap": 1, "driver": "x"}', '{"t": 1, "dir": "in", "hex": "zz"}'], "bad payload"),
        (['{"kpcap": 1, "driver": "x"}', '{"t": -1, "ev": "plug"}'], "'t'"),
        (['{"kpcap": 1, "driver": "x"}', '{"t": 1, "ev": "press", "key": "A"}'], "keypad_id"),
        (['{"kpcap": 1, "driver": "x"}', '{"t": 1, "dir": "in"}'], "needs 'line'"),
    ],
)
def test_malformed_captures_are_rejected_with_the_line(lines: list[str], message: str) -> None:
    """Every malformation raises CaptureFormatError naming what is wrong."""
    with pytest.raises(CaptureFormatError, match=message):
        parse_capture(lines)


def test_missing_file_is_a_capture_error(tmp_path: Path) -> None:
    """An unreadable file is a CaptureFormatError, not an OSError."""
    with pytest.raises(CaptureFormatError, match="cannot read"):
        read_capture(tmp_path / "absent.kpcap")


@pytest.mark.parametrize(
    "name", ["kpl_rehearsal.kpcap", "iclicker_votes.kpcap", "sunvote_poll.kpcap"]
)
async def test_replay_decodes_raw_captures_to_their_golden_presses(
    fixtures: Path, name: str
) -> None:
    """Replaying raw capture data through its driver's decoder gives exactly the golden presses."""
    receiver = ReplayReceiver(fixtures / name, speed=0)
    assert await replay_all(receiver) == receiver.capture.expected_presses()
    assert receiver.capture.expected_presses()


async def test_replay_counts_what_the_decoder_dropped(fixtures: Path) -> None:
    """The KPL fixture's bad checksum and debug line show up in the receiver's stats."""
    receiver = ReplayReceiver(fixtures / "kpl_rehearsal.kpcap", speed=0)
    await replay_all(receiver)
    assert receiver.stats["bad_checksum"] == 1 and receiver.stats["ignored"] >= 2
    assert receiver.info["wire"] == "serial_kpl"


async def test_press_only_capture_replays_its_presses(fixtures: Path) -> None:
    """A capture without raw data (a sim recording) replays its press events."""
    presses = await replay_all(ReplayReceiver(fixtures / "sim_presses.kpcap", speed=0))
    assert presses == [
        ("sim:00A1B2", "1", 0),
        ("sim:00A1B2", "1", 0),
        ("sim:00C3D4", "2", 0),
        ("sim:00A1B2", "3", 1),
    ]


async def test_replay_keeps_recorded_timing_scaled_by_speed(fixtures: Path, fake_time: Any) -> None:
    """speed=1 sleeps the recorded gaps, speed=2 half of them; 'at' follows the clock."""
    for speed in (1.0, 2.0):
        fake_time.sleeps.clear()
        receiver = ReplayReceiver(
            fixtures / "sim_presses.kpcap",
            speed=speed,
            clock=fake_time.clock,
            sleep=fake_time.sleep,
        )
        async with receiver:
            ats = [p.at async for p in receiver.presses()]
        assert [s * speed for s in fake_time.sleeps] == pytest.approx([0, 1.0, 0.1, 1.9, 1.5])
        assert [b - a for a, b in itertools.pairwise(ats)] == pytest.approx(
            [0.1 / speed, 1.9 / speed, 1.5 / speed]
        )


async def test_replayed_unplug_fails_and_reopening_resumes(fixtures: Path) -> None:
    """'unplug' ends presses() with ReceiverUnavailable; open() again continues after it."""
    receiver = ReplayReceiver(fixtures / "kpl_unplug.kpcap", speed=0)
    await receiver.open()
    presses = receiver.presses()
    assert (await anext(presses)).keypad == "kpl:1A2B3C"
    with pytest.raises(ReceiverUnavailable, match="replayed unplug"):
        await anext(presses)
    await receiver.aclose()
    after = await replay_all(receiver)
    assert after == [("kpl:1A2B3C", "1", 1), ("kpl:0D0E0F", "3", 9)]


def test_capture_with_raw_data_for_an_unknown_driver_is_rejected(tmp_path: Path) -> None:
    """A raw capture from a driver replay cannot decode fails when the receiver is built."""
    path = tmp_path / "odd.kpcap"
    path.write_text('{"kpcap": 1, "driver": "turningpoint"}\n{"t": 0, "dir": "in", "hex": "00"}\n')
    with pytest.raises(CaptureFormatError, match="turningpoint"):
        ReplayReceiver(path)


def test_read_capture_refuses_devices_fifos_and_large_files_without_quoting_them(
    tmp_path: Path,
) -> None:
    """Issue 11: /dev/zero and a FIFO are refused at once (never read), a file over max_bytes is
    refused, and no error quotes the file: a secret first line is named by its line number."""
    import os

    fifo = tmp_path / "pipe.kpcap"
    os.mkfifo(fifo)
    for path in ("/dev/zero", fifo):
        with pytest.raises(CaptureFormatError, match="not a regular file"):
            read_capture(path)
    big = tmp_path / "big.kpcap"
    big.write_text('{"kpcap": 1, "driver": "sim"}\n' + "\n" * 100)
    with pytest.raises(CaptureFormatError, match="larger than the limit of 64 bytes"):
        read_capture(big, max_bytes=64)
    for first_line, reason in (
        ("PASSWORD=hunter2", "line 1: not JSON"),
        ('{"token": "hunter2"}', "line 1: not a kpcap/1 header"),
        ('{"kpcap": 1, "driver": "x"}\n{"t": 0, "dir": "hunter2", "line": ""}', "line 2: 'dir'"),
        ('{"kpcap": 1, "driver": "x"}\n{"t": 0, "dir": "in", "hex": "hunter2"}', "line 2: bad"),
    ):
        secret = tmp_path / "secret.kpcap"
        secret.write_text(first_line + "\n")
        with pytest.raises(CaptureFormatError, match=reason) as info:
            read_capture(secret)
        assert "hunter2" not in str(info.value)
