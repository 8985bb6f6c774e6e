"""Legacy text profiles for existing receiver sketches (keypads.md 5.6)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.base import Decoded
from hardware.profiles import PROFILES, ProfileDecoder, parse_line


def test_turning_mooney_line_decodes() -> None:
    """A Mooney TurningPoint sniffer line gives the 3-byte id and the key after '-->'."""
    decoded = parse_line("turning_mooney", b"incoming: 1a2b3c31abcd --> 1")
    assert decoded == Decoded("turning:1A2B3C", "1", None, b"incoming: 1a2b3c31abcd --> 1")


def test_iskipper_capture_line_decodes_with_its_check_byte() -> None:
    """iSkipper's 'Captured:' line gives the same id the iClicker base reports."""
    line = b"Captured: A (82, E9, 70, 1B) "
    assert parse_line("iskipper_capture", line) == Decoded("iclicker:82E9701B", "A", None, line)


def test_iskipper_line_with_a_wrong_check_byte_is_dropped() -> None:
    """A corrupted id (check byte not the XOR of the others) yields nothing."""
    assert parse_line("iskipper_capture", b"Captured: A (82, E9, 70, 1C)") is None


def test_jsonl_line_decodes_with_optional_seq() -> None:
    """JSON lines give 'jsonl:'-namespaced ids; a valid seq is kept, a bad one dropped."""
    assert parse_line("jsonl", b'{"id": "17", "key": "b", "seq": 4}') == Decoded(
        "jsonl:17", "B", 4, b'{"id": "17", "key": "b", "seq": 4}'
    )
    decoded = parse_line("jsonl", b'{"id": 18, "key": "1", "seq": 999}')
    assert decoded is not None and (decoded.keypad, decoded.seq) == ("jsonl:18", None)


@pytest.mark.parametrize(
    ("profile", "line"),
    [
        ("turning_mooney", b"incoming: 1a2b3c --> 1"),
        ("turning_mooney", b"outgoing: 1a2b3c31abcd --> 1"),
        ("iskipper_capture", b"Captured: F (82, E9, 70, 1B)"),
        ("iskipper_capture", b"Captured: A (zz, E9, 70, 1B)"),
        ("iskipper_capture", b"Started promiscous"),
        ("jsonl", b'{"id": "17"}'),
        ("jsonl", b'{"id": "has space", "key": "A"}'),
        ("jsonl", b'["17", "A"]'),
        ("jsonl", b"{not json"),
        ("jsonl", b'{"id": "17", "key": "TOOLONG"}'),
    ],
)
def test_non_matching_lines_yield_nothing(profile: str, line: bytes) -> None:
    """Lines that do not match the profile exactly are not presses."""
    assert parse_line(profile, line) is None


def test_decoder_frames_lines_and_counts_ignored() -> None:
    """The decoder splits a stream into lines and counts those it ignored."""
    decoder = ProfileDecoder("iskipper_capture")
    data = b"Started promiscous\r\nCaptured: B (82, E9, 70, 1B) \n\r\nCaptured: C (01, 02"
    assert [d.key for d in decoder.feed(data)] == ["B"]
    assert decoder.stats["ignored"] == 1
    assert [d.key for d in decoder.feed(b", 03, 00) \n")] == ["C"]


@pytest.mark.parametrize("profile", sorted(PROFILES))
@given(data=st.binary(max_size=300))
def test_random_bytes_never_crash(profile: str, data: bytes) -> None:
    """Arbitrary bytes never raise in any profile."""
    ProfileDecoder(profile).feed(data)
