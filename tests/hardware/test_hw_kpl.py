"""KPL/1 sans-I/O: framing, checksums, parsing, encoding (keypads.md 5.6)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.kpl import (
    Ack,
    DeviceError,
    Heartbeat,
    Hello,
    KplDecoder,
    KplParser,
    KplPress,
    LineFramer,
    checksum,
    encode_channel,
    encode_close,
    encode_feedback,
    encode_open,
    encode_query,
    frame,
    parse_command,
)

DOC_EXAMPLES = [
    "KP1 HELLO proto=1 fw=1.0 rx=R1*45",
    "KP1 P 1A2B3C B 17 t=1234*23",
    "KP1 HB 5000*25",
    "KP1 OPEN 2 q=budget-1*79",
    "KP1 CLOSE*5C",
]


@pytest.mark.parametrize("line", DOC_EXAMPLES)
def test_documented_examples_carry_valid_checksums(line: str) -> None:
    """Every example line in keypads.md verifies with the XOR framer."""
    body, _, hh = line.rpartition("*")
    assert checksum(body.encode()) == int(hh, 16)
    assert frame(body) == (line + "\n").encode()


def test_host_commands_encode_as_documented() -> None:
    """OPEN and CLOSE encode to the documented bytes; FB, CH and ? carry checksums too."""
    assert encode_open(2, "budget-1") == b"KP1 OPEN 2 q=budget-1*79\n"
    assert encode_close() == b"KP1 CLOSE*5C\n"
    assert encode_query().startswith(b"KP1 ?*")
    assert encode_feedback("1A2B3C", 17, True).startswith(b"KP1 FB 1A2B3C 17 OK*")
    assert encode_feedback("1A2B3C", None, False).startswith(b"KP1 FB 1A2B3C - NO*")
    assert encode_channel(76).startswith(b"KP1 CH 76*")
    for command in (encode_open(3), encode_feedback("AB", 1, True), encode_channel(2)):
        assert parse_command(command[:-1]) is not None


def test_encoders_refuse_values_that_would_break_the_line() -> None:
    """Spaces or '*' in a value and out-of-range choices are refused, not sent."""
    with pytest.raises(ValueError):
        encode_open(2, "two words")
    with pytest.raises(ValueError):
        encode_open(0)
    with pytest.raises(ValueError):
        encode_feedback("kpl:1A", 1, True)


def test_press_line_decodes_every_field() -> None:
    """A P line yields keypad, key, seq and the optional t/rssi/n fields."""
    parser = KplParser()
    [event] = parser.feed(frame("KP1 P 1A2B3C B 17 t=1234 rssi=-61 n=2"))
    raw = (
        b"KP1 P 1A2B3C B 17 t=1234 rssi=-61 n=2*"
        + frame("KP1 P 1A2B3C B 17 t=1234 rssi=-61 n=2")[-3:-1]
    )
    assert event == KplPress("1A2B3C", "B", 17, 1234, -61, 2, raw)


def test_control_lines_decode() -> None:
    """HELLO, HB, ACK and E lines become their events."""
    parser = KplParser()
    events = parser.feed(
        frame("KP1 HELLO proto=1 fw=1.0 rx=R1 radio=nrf24 ch=76")
        + frame("KP1 HB 5000 q=3 drop=1")
        + frame("KP1 ACK OPEN")
        + frame("KP1 E RADIO no carrier")
    )
    hello, hb, ack, err = events
    assert isinstance(hello, Hello) and (hello.proto, hello.fw, hello.rx) == (1, "1.0", "R1")
    assert hb == Heartbeat(5000, 3, 1)
    assert ack == Ack("OPEN")
    assert err == DeviceError("RADIO", "no carrier")


def test_bad_checksum_is_dropped_and_counted() -> None:
    """A line whose checksum does not match yields nothing and counts as bad_checksum."""
    parser = KplParser()
    assert parser.feed(b"KP1 P 1A2B3C B 17 t=1234*24\n") == []
    assert parser.stats["bad_checksum"] == 1


def test_missing_checksum_strict_drops_legacy_accepts() -> None:
    """Strict mode rejects a line without *HH; legacy mode accepts it."""
    line = b"KP1 P 1A2B3C B 17\n"
    assert KplParser(strict=True).feed(line) == []
    [press] = KplParser(strict=False).feed(line)
    assert isinstance(press, KplPress) and press.seq == 17


def test_debug_unknown_types_and_extra_fields_are_ignored() -> None:
    """Non-KP1 lines, unknown types and unknown key=value fields do not break parsing."""
    parser = KplParser()
    events = parser.feed(
        b"boot: nrf24 ok\n"
        + frame("KP1 BATT 1A2B3C 20")
        + frame("KP1 P 1A2B3C C - future=1 t=9")
        + b"\n"
    )
    [press] = events
    assert isinstance(press, KplPress) and press.seq is None and press.rx_ms == 9
    assert parser.stats["ignored"] == 1 and parser.stats["unknown"] == 1


@pytest.mark.parametrize(
    "body",
    [
        "KP1 P 1a2b3c B 17",  # lower-case id
        "KP1 P 1A2B3C B 256",  # seq out of range
        "KP1 P 1A2B3C B",  # missing seq
        "KP1 P 1A2B3C4D5E6F7A8B9 B 1",  # id longer than 16
        "KP1 P 1A2B3C ABCD 1",  # key longer than 3
        "KP1 HB soon",
    ],
)
def test_malformed_lines_yield_nothing(body: str) -> None:
    """Well-checksummed but malformed lines are counted, never turned into presses."""
    parser = KplParser()
    assert parser.feed(frame(body)) == []
    assert parser.stats["malformed"] == 1


def test_star_key_and_crlf_are_accepted() -> None:
    """'*' is a valid key (the checksum is the last '*'), and \\r\\n line ends work."""
    [press] = KplParser().feed(frame("KP1 P 0A0B0C * 3")[:-1] + b"\r\n")
    assert isinstance(press, KplPress) and press.key == "*"


def test_lines_split_across_reads_are_reassembled() -> None:
    """Feeding one byte at a time gives the same result as one chunk."""
    data = frame("KP1 P 1A2B3C B 17") + frame("KP1 P 0D0E0F 1 4")
    parser = KplParser()
    events = [e for i in range(len(data)) for e in parser.feed(data[i : i + 1])]
    assert [e.keypad for e in events if isinstance(e, KplPress)] == ["1A2B3C", "0D0E0F"]


def test_truncated_line_waits_for_its_end() -> None:
    """Half a line yields nothing until its newline arrives."""
    parser = KplParser()
    whole = frame("KP1 P 1A2B3C B 17")
    assert parser.feed(whole[:10]) == []
    assert len(parser.feed(whole[10:])) == 1


def test_garbage_without_newlines_is_bounded_and_resyncs() -> None:
    """Over-long garbage is dropped up to the next newline; the following line still decodes."""
    parser = KplParser()
    assert parser.feed(b"\xff" * 1000) == []
    assert parser.feed(b"junk\n" + frame("KP1 P 1A2B3C B 17")) != []
    assert parser.stats["overlong"] == 1
    assert len(parser.framer._buf) == 0


def test_framer_drops_overlong_complete_lines() -> None:
    """A complete line over the limit is dropped, shorter ones pass."""
    framer = LineFramer(max_line=8)
    assert framer.feed(b"123456789\nshort\n") == [b"short"]
    assert framer.overlong == 1


def test_host_command_parser_ignores_bad_lines() -> None:
    """parse_command returns None for a bad or missing checksum and parses good ones."""
    assert parse_command(b"KP1 OPEN 2 q=budget-1*78") is None
    assert parse_command(b"KP1 OPEN 2") is None
    command = parse_command(b"KP1 OPEN 2 q=budget-1*79")
    assert command is not None
    assert (command.name, command.args, command.fields) == ("OPEN", ["2"], {"q": "budget-1"})


def test_decoder_namespaces_keypads() -> None:
    """The PressDecoder view yields 'kpl:'-namespaced keypads and ignores control lines."""
    decoded = KplDecoder().feed(frame("KP1 HB 1") + frame("KP1 P 1A2B3C B 17"))
    assert [(d.keypad, d.key, d.seq) for d in decoded] == [("kpl:1A2B3C", "B", 17)]


@given(st.binary(max_size=600))
def test_random_bytes_never_crash_or_make_presses(data: bytes) -> None:
    """Arbitrary bytes never raise and (without a valid checksum) never yield a press."""
    parser = KplParser()
    events = parser.feed(data)
    assert not [e for e in events if isinstance(e, KplPress)] or b"KP1 P " in data


@given(
    st.text(alphabet="0123456789ABCDEF", min_size=1, max_size=16),
    st.sampled_from(["1", "A", "0", "*", "J"]),
    st.integers(0, 255),
    st.integers(0, 200),
    st.integers(0, 255),
)
def test_single_byte_corruption_never_yields_a_wrong_press(
    keypad: str, key: str, seq: int, where: int, value: int
) -> None:
    """Any one corrupted byte yields nothing or the original press, never another one."""
    line = bytearray(frame(f"KP1 P {keypad} {key} {seq}"))
    original = KplParser().feed(bytes(line))
    index = where % len(line)
    line[index] = value
    events = [e for e in KplParser().feed(bytes(line) + b"\n") if isinstance(e, KplPress)]
    assert events in ([], original)


@given(st.lists(st.sampled_from(DOC_EXAMPLES[:3]), max_size=5), st.integers(1, 40))
def test_chunking_does_not_change_the_result(lines: list[str], size: int) -> None:
    """The same stream cut into chunks of any size decodes to the same events."""
    data = "".join(line + "\n" for line in lines).encode()
    whole = KplParser().feed(data)
    parser = KplParser()
    parts = [e for i in range(0, len(data), size) for e in parser.feed(data[i : i + size])]
    assert parts == whole


def test_lowercase_checksum_digits_are_not_a_checksum() -> None:
    """The spec says uppercase HH: '*4b' is not a checksum, so strict mode drops the line."""
    parser = KplParser()
    assert parser.feed(b"KP1 P 004BC 1 140*4b\n") == []
    assert parser.stats["no_checksum"] == 1
