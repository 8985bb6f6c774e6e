"""serial:// end to end: the real KPL/1 driver (pyserial, reader thread) against the pty
emulator, plus a legacy profile over a pty."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

import pytest

from hardware.base import ProtocolError, ReceiverStalled, ReceiverUnavailable
from hardware.emulator import KplEmulator
from hardware.kpl import KplCommand, frame
from hardware.serialport import KplReceiver, ProfileReceiver

Wait = Callable[..., Awaitable[None]]


async def command(
    emulator: KplEmulator, name: str, count: int = 1, timeout: float = 5.0
) -> KplCommand:
    """Wait (off the loop) until the emulator received ``count`` ``name`` commands."""
    return await asyncio.to_thread(emulator.wait_for, name, timeout, count=count)


async def test_open_asks_for_hello_and_records_receiver_info(
    emulator: KplEmulator, wait_until: Wait
) -> None:
    """open() sends 'KP1 ?'; the HELLO answer fills info with firmware and receiver id."""
    async with KplReceiver(emulator.path) as receiver:
        await command(emulator, "?")
        await wait_until(lambda: "rx" in receiver.info)
        assert (receiver.info["fw"], receiver.info["rx"], receiver.info["radio"]) == (
            "1.0",
            "EMU1",
            "nrf24",
        )


async def test_presses_arrive_and_bad_lines_are_counted(
    emulator: KplEmulator, wait_until: Wait
) -> None:
    """Presses decode with namespace and seq; a bad checksum and debug output yield nothing."""
    async with KplReceiver(emulator.path, name="front") as receiver:
        await command(emulator, "?")
        emulator.send_raw(b"debug: radio up\nKP1 P 1A2B3C C 18*00\n")
        emulator.press("1A2B3C", "B", 17, t=1234)
        press = await anext(receiver.presses())
        assert (press.receiver, press.keypad, press.key, press.seq) == (
            "front",
            "kpl:1A2B3C",
            "B",
            17,
        )
        assert press.raw == b"KP1 P 1A2B3C B 17 t=1234*23"
        assert press.choice == 2
        await wait_until(lambda: receiver.stats.get("heartbeats", 0) >= 1)
        assert receiver.stats["bad_checksum"] == 1 and receiver.stats["ignored"] == 1


async def test_arm_disarm_and_feedback_reach_the_receiver(emulator: KplEmulator) -> None:
    """arm sends OPEN, feedback FB with the keypad's last seq, disarm CLOSE."""
    async with KplReceiver(emulator.path) as receiver:
        await receiver.arm(7, choices=3)
        opened = await command(emulator, "OPEN")
        assert emulator.accepting and (emulator.choices, emulator.question) == (3, "7")
        assert opened is not None
        emulator.press("1A2B3C", "2", 41)
        await anext(receiver.presses())
        await receiver.feedback("kpl:1A2B3C", True)
        fb = await command(emulator, "FB")
        assert fb.args == ["1A2B3C", "41", "OK"]
        await receiver.feedback("iclicker:82E9701B", False)  # not ours: ignored
        await receiver.disarm()
        await command(emulator, "CLOSE")
        assert not emulator.accepting
        assert [c.name for c in emulator.commands].count("FB") == 1


async def test_unsolicited_hello_rearms_a_rebooted_receiver(
    emulator: KplEmulator, wait_until: Wait
) -> None:
    """A HELLO nobody asked for means a reboot: an armed receiver gets OPEN again."""
    async with KplReceiver(emulator.path) as receiver:
        await command(emulator, "?")
        await wait_until(lambda: "rx" in receiver.info)
        await receiver.arm(None, choices=4)
        await command(emulator, "OPEN")
        emulator.reboot()
        reopened = await command(emulator, "OPEN", count=2)
        assert reopened.args == ["4"]
        assert receiver.stats["reboots"] == 1


async def test_unplug_ends_presses_with_unavailable(emulator: KplEmulator) -> None:
    """Closing the pty master (pulling the cable) raises ReceiverUnavailable from presses()."""
    async with KplReceiver(emulator.path) as receiver:
        await command(emulator, "?")
        emulator.unplug()
        with pytest.raises(ReceiverUnavailable, match="lost"):
            await anext(receiver.presses())


async def test_missing_port_is_unavailable(tmp_path: os.PathLike[str]) -> None:
    """Opening a port that does not exist raises ReceiverUnavailable."""
    with pytest.raises(ReceiverUnavailable, match="cannot open"):
        await KplReceiver(os.path.join(tmp_path, "ttyNONE")).open()


async def test_silent_receiver_after_heartbeats_is_stalled(
    scale: Callable[[float], float], wait_until: Wait
) -> None:
    """Once heartbeats were seen, silence past the deadline raises ReceiverStalled."""
    if not hasattr(os, "openpty"):
        pytest.skip("needs POSIX pseudo-terminals")
    with KplEmulator(heartbeat_s=scale(0.05)) as emulator:
        async with KplReceiver(emulator.path, stall_s=scale(0.5)) as receiver:
            await command(emulator, "?")
            presses = receiver.presses()
            emulator.press("0A0B0C", "1", 1)
            await anext(presses)
            await wait_until(lambda: receiver.stats.get("heartbeats", 0) >= 1)
            emulator.wedge()
            with pytest.raises(ReceiverStalled, match="no heartbeat"):
                await asyncio.wait_for(anext(presses), scale(10))


async def test_receiver_without_heartbeats_is_never_stalled(
    scale: Callable[[float], float],
) -> None:
    """Firmware that sends no HB is not judged stalled, however quiet."""
    if not hasattr(os, "openpty"):
        pytest.skip("needs POSIX pseudo-terminals")
    with KplEmulator(heartbeat_s=None) as emulator:
        async with KplReceiver(emulator.path, stall_s=scale(0.1)) as receiver:
            await asyncio.sleep(scale(0.4))
            emulator.press("0A0B0C", "1", 1)
            press = await asyncio.wait_for(anext(receiver.presses()), scale(5))
            assert press.keypad == "kpl:0A0B0C"


async def test_other_protocol_version_is_a_protocol_error() -> None:
    """A HELLO with proto=2 raises ProtocolError, from open() or from presses()."""
    if not hasattr(os, "openpty"):
        pytest.skip("needs POSIX pseudo-terminals")
    with KplEmulator(proto=2, heartbeat_s=None) as emulator:
        receiver = KplReceiver(emulator.path)
        with pytest.raises(ProtocolError, match="proto=2"):
            async with receiver:
                await anext(receiver.presses())
        assert not receiver.is_open


async def test_tap_sees_every_line_in_both_directions(emulator: KplEmulator) -> None:
    """The wire tap gets the host's commands and the receiver's lines, newline included."""
    seen: list[tuple[str, bytes]] = []
    async with KplReceiver(emulator.path, tap=lambda d, b: seen.append((d, b))) as receiver:
        emulator.press("1A2B3C", "B", 17, t=1234)
        await anext(receiver.presses())
    assert ("out", frame("KP1 ?")) in seen
    assert ("in", b"KP1 P 1A2B3C B 17 t=1234*23\n") in seen


async def test_legacy_profile_over_serial(emulator: KplEmulator) -> None:
    """profile=iskipper_capture decodes 'Captured:' lines from the port, with seq None."""
    emulator.heartbeat_s = None
    async with ProfileReceiver(emulator.path, "iskipper_capture") as receiver:
        await asyncio.sleep(0.05)
        emulator.send_raw(b"Started promiscous\r\nCaptured: D (82, E9, 70, 1B) \n\r\n")
        press = await anext(receiver.presses())
        assert (press.keypad, press.key, press.seq) == ("iclicker:82E9701B", "D", None)
        assert receiver.kind == "serial_iskipper_capture"
