"""SunVote PVS-2010 (EXPERIMENTAL): framing, CRC, rows, and the serial shell against a fake
receiver on a pty (keypads.md 1.4)."""

from __future__ import annotations

import os
import select
import threading
import tty
from collections.abc import Awaitable, Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.base import ProtocolError
from hardware.sunvote import (
    Frame,
    FrameDecoder,
    SunVoteDecoder,
    SunVoteReceiver,
    crc16,
    encode_frame,
    idle_poll,
    poll_cycle,
    short_frame,
    start_vote,
    stop_vote,
)


def row(keypad: int, button: int, status: int = 0x01) -> bytes:
    """A poll answer frame as the receiver sends it (payload[4] status, [7] id, [8] button)."""
    payload = bytearray(20)
    payload[0], payload[4], payload[7], payload[8] = 0x95, status, keypad, button
    return encode_frame(bytes(payload))


def test_crc_matches_the_documented_frame() -> None:
    """The idle poll is byte-for-byte the documented debug TX line, CRC 0x7ad9 included."""
    assert crc16(bytes.fromhex("1100000f0c0000000000")) == 0x7AD9
    assert idle_poll() == bytes.fromhex("f5aaaa0c1100000f0c00000000007ad9")


def test_command_frames_have_the_documented_shapes() -> None:
    """Short frames are 16 bytes, long ones 29; start, poll and stop carry their flag bytes."""
    c1, c2, c4, c5 = start_vote(7, 3)
    assert len(c1) == 16 and c1[4:10] == bytes([0x15, 7, 0, 0xC1, 0x02, 0x05]) and c1[10] == 3
    assert (c2[7], c4[7], len(c5), c5[7]) == (0xC2, 0xC4, 29, 0xC5)
    ack, broadcast, poll = poll_cycle(7, 0x21)
    assert (ack[8], broadcast[5], poll[7]) == (0x21, 0xC7, 0xC4)
    assert stop_vote(7)[7] == 0xC3


def test_frames_decode_across_chunks_and_after_garbage() -> None:
    """Garbage before a header is skipped and a frame split over reads is reassembled."""
    decoder = FrameDecoder()
    data = b"\x00\xf5\x13" + idle_poll() + row(3, 1)
    frames = [f for i in range(0, len(data), 5) for f in decoder.feed(data[i : i + 5])]
    assert [f.command for f in frames] == [0x11, 0x95]
    assert decoder.stats["garbage"] == 3


def test_bad_crc_drops_only_that_frame() -> None:
    """A corrupted frame is dropped and counted; the next good frame still decodes."""
    bad = bytearray(row(3, 1))
    bad[12] ^= 0x40
    decoder = FrameDecoder()
    frames = decoder.feed(bytes(bad) + row(4, 2))
    assert [f.payload[7] for f in frames] == [4]
    assert decoder.stats["bad_crc"] == 1


def test_truncated_frame_waits_for_the_rest() -> None:
    """Part of a frame yields nothing until the rest arrives."""
    decoder = FrameDecoder()
    whole = row(5, 1)
    assert decoder.feed(whole[:-3]) == []
    assert decoder.feed(whole[-3:]) == [Frame(whole[4:-2], whole)]


def test_presses_only_when_a_keypads_button_changes() -> None:
    """Repeated rows are the same press; a change, and the same button after reset(), count."""
    decoder = SunVoteDecoder()
    first = decoder.feed(row(12, 0x02) + row(13, 0x01) + row(12, 0x02))
    assert [(d.keypad, d.key, d.seq) for d in first] == [
        ("sunvote:12", "2", None),
        ("sunvote:13", "1", None),
    ]
    assert [d.key for d in decoder.feed(row(12, 0x20))] == ["6"]
    decoder.reset()
    assert [d.key for d in decoder.feed(row(12, 0x20))] == ["6"]


def test_empty_rows_and_multi_button_masks_are_not_presses() -> None:
    """Status 0xFF rows and several bits at once yield nothing."""
    decoder = SunVoteDecoder()
    assert decoder.feed(row(12, 0x01, status=0xFF) + row(12, 0x03)) == []
    assert decoder.stats["bad_button"] == 1


@given(st.binary(max_size=400))
def test_random_bytes_never_crash(data: bytes) -> None:
    """Arbitrary bytes never raise, and anything decoded has a 1..6 key."""
    for decoded in SunVoteDecoder().feed(data):
        assert decoded.key in "123456"


class FakeSunVote:
    """A SunVote receiver on a pty: answers the idle poll (base id 7) and, once a vote
    started, answers every C4 poll with the current rows."""

    def __init__(self, answer_idle: bool = True) -> None:
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.slave = slave
        self.path = os.ttyname(slave)
        self.answer_idle = answer_idle
        self.rows: list[bytes] = []
        self.received: list[Frame] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        decoder = FrameDecoder()
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            for frame in decoder.feed(os.read(self.master, 4096)):
                self.received.append(frame)
                p = frame.payload
                if p[0] == 0x11 and p[4] == 0x0C and self.answer_idle:
                    os.write(self.master, short_frame(0x91, 7, 0, 0x0F, 0x0C))
                elif p[0] == 0x15 and p[3] == 0xC4 and len(p) == 10:
                    os.write(self.master, b"".join(self.rows))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def sunvote() -> Iterator[FakeSunVote]:
    if not hasattr(os, "openpty"):
        pytest.skip("needs POSIX pseudo-terminals")
    fake = FakeSunVote()
    yield fake
    fake.close()


async def test_receiver_polls_while_armed_and_reports_changes(
    sunvote: FakeSunVote, wait_until: Callable[..., Awaitable[None]]
) -> None:
    """Over a pty: base id read, arm sends C1 and polls, changes become presses, disarm C3."""
    async with SunVoteReceiver(sunvote.path) as receiver:
        assert receiver.info["base_id"] == "7"
        sunvote.rows = [row(12, 0x04)]
        await receiver.arm(3, choices=3)
        start = next(f for f in sunvote.received if f.payload[3] == 0xC1)
        assert (start.payload[1], start.payload[6]) == (7, 3)
        presses = receiver.presses()
        press = await anext(presses)
        assert (press.keypad, press.key, press.seq) == ("sunvote:12", "3", None)
        sunvote.rows = [row(12, 0x04), row(13, 0x01)]
        press = await anext(presses)
        assert (press.keypad, press.key) == ("sunvote:13", "1")
        await receiver.disarm()
        await wait_until(lambda: any(f.payload[3] == 0xC3 for f in sunvote.received))
    assert receiver.stats["presses"] == 2


async def test_receiver_that_never_answers_is_a_protocol_error(sunvote: FakeSunVote) -> None:
    """A port that does not answer the idle poll fails open() with ProtocolError."""
    sunvote.answer_idle = False
    with pytest.raises(ProtocolError, match="idle poll"):
        await SunVoteReceiver(sunvote.path, hello_timeout_s=0.2).open()
