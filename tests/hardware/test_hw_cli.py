"""The monitor and record tools (covote keypads monitor/record)."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

from hardware.cli import amonitor, arecord, monitor, record
from hardware.emulator import KplEmulator
from hardware.replay import ReplayReceiver


def test_monitor_prints_presses_as_json_lines_and_flags_duplicates(fixtures: Path) -> None:
    """Every decoded press is one JSON line; the retransmission is marked dup."""
    out, err = io.StringIO(), io.StringIO()
    code = monitor(f"replay://{fixtures / 'kpl_rehearsal.kpcap'}?speed=0", out, err=err)
    assert code == 0
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(x["keypad"], x["key"], x["seq"], x["dup"]) for x in lines[:3]] == [
        ("kpl:1A2B3C", "B", 17, False),
        ("kpl:1A2B3C", "B", 17, True),
        ("kpl:0D0E0F", "1", 4, False),
    ]
    assert lines[0]["choice"] == 2 and lines[0]["raw"] == "KP1 P 1A2B3C B 17 t=1234*23"
    assert "6 presses, 1 duplicates" in err.getvalue()


def test_monitor_rejects_a_bad_url_with_exit_code_2() -> None:
    """A bad URL prints the reason and exits 2 without output."""
    out, err = io.StringIO(), io.StringIO()
    assert monitor("serial://COM1?baud=x", out, err=err) == 2
    assert out.getvalue() == "" and "baud must be an integer" in err.getvalue()


def test_monitor_reports_a_lost_receiver_with_exit_code_1(fixtures: Path) -> None:
    """A receiver lost mid-run ends the monitor with exit 1 and the error."""
    out, err = io.StringIO(), io.StringIO()
    assert monitor(f"replay://{fixtures / 'kpl_unplug.kpcap'}?speed=0", out, err=err) == 1
    assert len(out.getvalue().splitlines()) == 1 and "replayed unplug" in err.getvalue()


def test_monitor_shows_binary_raw_data_as_hex(fixtures: Path) -> None:
    """Presses decoded from binary reports (an iClicker capture) show their raw bytes in hex."""
    out, err = io.StringIO(), io.StringIO()
    assert (
        monitor(f"replay://{fixtures / 'iclicker_votes.kpcap'}?speed=0", out, err=err, limit=1) == 0
    )
    [line] = [json.loads(x) for x in out.getvalue().splitlines()]
    assert line["keypad"] == "iclicker:82E9701B" and line["raw"].startswith("02138182e97000")


async def test_monitor_over_a_pty_stops_at_the_limit(emulator: KplEmulator) -> None:
    """Against the emulator, monitor arms, prints two presses and stops."""
    out, err = io.StringIO(), io.StringIO()
    task = asyncio.create_task(amonitor(emulator.url, out, err=err, arm=3, limit=2))
    await asyncio.to_thread(emulator.wait_for, "OPEN")
    emulator.press("1A2B3C", "1", 1)
    emulator.press("1A2B3C", "2", 2)
    assert await asyncio.wait_for(task, 10) == 0
    assert [json.loads(x)["key"] for x in out.getvalue().splitlines()] == ["1", "2"]
    assert f"{emulator.path} (serial_kpl) open" in err.getvalue()


def test_record_of_a_simulation_replays_to_the_same_presses(tmp_path: Path) -> None:
    """A sim recording holds press events that replay:// plays back identically."""
    path = tmp_path / "sim.kpcap"
    err = io.StringIO()
    assert record("sim://?keypads=8&seed=5&speed=0&waves=1", path, note="demo", err=err) == 0
    replay = ReplayReceiver(path, speed=0)
    assert replay.capture.header.driver == "sim" and replay.capture.header.note == "demo"

    async def replayed() -> list[tuple[str, str, int | None]]:
        async with replay:
            return [(p.keypad, p.key, p.seq) async for p in replay.presses()]

    presses = asyncio.run(replayed())
    assert presses == replay.capture.expected_presses() and len(presses) >= 5


async def test_record_over_a_pty_captures_both_directions(
    emulator: KplEmulator, tmp_path: Path
) -> None:
    """Recording KPL/1 keeps commands, lines, plug and presses, and replays to the same presses."""
    path = tmp_path / "kpl.kpcap"
    task = asyncio.create_task(arecord(emulator.url, path, arm=2, limit=1, err=io.StringIO()))
    await asyncio.to_thread(emulator.wait_for, "OPEN")
    emulator.press("1A2B3C", "B", 17)
    assert await asyncio.wait_for(task, 10) == 0
    replay = ReplayReceiver(path, speed=0)
    capture = replay.capture
    assert capture.header.driver == "serial_kpl"
    assert b"KP1 OPEN 2*" in b"".join(c.data for c in capture.chunks("out"))
    assert any(c.data.startswith(b"KP1 P 1A2B3C B 17") for c in capture.chunks("in"))
    assert capture.expected_presses() == [("kpl:1A2B3C", "B", 17)]
    async with replay:
        assert [(p.keypad, p.key, p.seq) async for p in replay.presses()] == [
            ("kpl:1A2B3C", "B", 17)
        ]


def test_monitor_stops_after_its_duration(fixtures: Path) -> None:
    """With duration set, a real-time replay is cut off cleanly with exit code 0."""
    out, err = io.StringIO(), io.StringIO()
    assert monitor(f"replay://{fixtures / 'kpl_unplug.kpcap'}", out, err=err, duration=0.2) == 0
    assert "# 0 presses" in err.getvalue()
