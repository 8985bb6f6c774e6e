"""Keypads in the room vote: registration, the projector-driven step, alerts, capture page."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.core.errors import BadInput
from app.keypads.receiver_urls import ReceiverPolicy
from hardware.emulator import KplEmulator
from tests.conftest import TIME_FACTOR, LiveServer, Meeting, Phone, csrf_of, make_settings

KEYPAD_CSV = "keypad,label,segments\nkpl:0A0001,1,carer\nkpl:0A0002,2,\nkpl:0A0003,3,north\n"


def eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll until `check` returns something truthy (the keypad path is asynchronous)."""
    deadline = time.monotonic() + timeout * TIME_FACTOR
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def import_keypads(meeting: Meeting, text: str = KEYPAD_CSV) -> httpx.Response:
    return meeting.f.post(
        f"/console/{meeting.id}/keypads/import",
        data={"csrf": meeting.csrf},
        files={"file": ("keypads.csv", text.encode(), "text/csv")},
        follow_redirects=False,
    )


def status(meeting: Meeting) -> dict[str, Any]:
    return dict(meeting.f.get(f"/console/{meeting.id}/keypads/status.json").json())


def capture(meeting: Meeting, line: str) -> httpx.Response:
    return meeting.f.post(
        f"/console/{meeting.id}/keypads/capture",
        json={"line": line},
        headers={"X-Covote-CSRF": meeting.csrf, "Accept": "application/json"},
    )


@pytest.fixture
def emulator() -> Iterator[KplEmulator]:
    with KplEmulator(heartbeat_s=0.5) as emu:
        yield emu


@pytest.fixture
def settings(tmp_path: Path, emulator: KplEmulator) -> Settings:
    """One KPL/1 receiver (emulated on a pty) plugged in from the start; SQLite."""
    return make_settings(tmp_path, keypad_urls=[emulator.url])


def test_keypad_presses_count_in_the_same_round_as_phones(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone], emulator: KplEmulator
) -> None:
    """A press counts for the proposal on the projector; a later press replaces it."""
    assert import_keypads(meeting).status_code == 303
    meeting.post("/rounds", proposal=["library", "respite"], keypads="on")
    assert meeting.state()["round"]["keypad_step"] == 0
    eventually(lambda: status(meeting)["receivers"][0]["state"] == "connected")
    eventually(lambda: emulator.accepting and emulator.choices == 3)  # keypads show "vote now"
    emulator.press("0A0001", "1", seq=1)  # library: WANT
    emulator.press("0A0002", "2", seq=1)  # library: DON'T WANT
    emulator.press("0A0002", "2", seq=1)  # radio retransmission: dropped
    emulator.press("0A0001", "3", seq=2)  # changes library to NEUTRAL
    eventually(
        lambda: (
            (status(meeting)["step"] or {}).get("counts")
            == {"want": 0, "dont_want": 1, "neutral": 1}
        )
    )
    meeting.post("/rounds/1/step", index="2")
    assert meeting.state()["round"]["keypad_step"] == 1
    emulator.press("0A0001", "1", seq=3)  # respite: WANT
    emulator.press("0A0003", "2", seq=1)  # respite: DON'T WANT
    phones().vote({"library": "want", "respite": "want"})
    eventually(lambda: meeting.state()["turnout"]["voted"] == 4)
    meeting.close_round(1)
    eventually(lambda: not emulator.accepting)  # closing the round disarms the receiver
    meeting.reveal(1)
    results = {p["id"]: p for p in meeting.state()["results"]["proposals"]}
    assert (results["library"]["W"], results["library"]["D"], results["library"]["N"]) == (1, 1, 2)
    assert (results["respite"]["W"], results["respite"]["D"], results["respite"]["N"]) == (2, 1, 1)
    rows = meeting.f.get(f"/console/{meeting.id}/export/ballots.csv").text.splitlines()[1:]
    # The lone phone voter (< m) is merged with the keypads in the public file (README,
    # Anonymity); the turnout keeps the totals per channel.
    assert meeting.state()["turnout"]["by_channel"]["keypad"] == 3
    assert sum(",other,,respite,want" in r for r in rows) == 2
    assert len(rows) == 4 * 2


def test_unknown_and_revoked_keypads_count_nothing_and_raise_alerts(
    meeting: Meeting, emulator: KplEmulator
) -> None:
    """Presses from a keypad nobody registered, or one revoked, are alerts, not votes."""
    import_keypads(meeting)
    meeting.post("/rounds", proposal=["library"], keypads="on")
    emulator.press("FFFFFF", "1", seq=1)
    alert = eventually(
        lambda: [a for a in status(meeting)["alerts"] if a["kind"] == "unknown_keypad"]
    )
    assert alert[0]["keypad"] == "kpl:FFFFFF"
    meeting.post("/keypads/revoke", keypad="kpl:0A0002", confirm="yes")
    emulator.press("0A0002", "1", seq=1)
    eventually(lambda: any(a["kind"] == "revoked" for a in status(meeting)["alerts"]))
    assert meeting.state()["turnout"]["voted"] == 0


def test_an_impossible_press_rate_is_ignored_and_alerted(meeting: Meeting) -> None:
    """More presses per second than a hand can make: the extra ones are dropped, one alert."""
    import_keypads(meeting, "keypad,label,segments\nwedge:7,7,\n")
    meeting.post("/rounds", proposal=["library"], keypads="on")
    for _ in range(12):
        assert capture(meeting, "7 1").status_code == 200
    alerts = [a for a in status(meeting)["alerts"] if a["kind"] == "press_rate"]
    assert len(alerts) == 1


def test_the_keypad_step_names_each_keys_answer_in_the_pages_language(meeting: Meeting) -> None:
    """status.json's step gives each key with the answer it gives and that answer's label,
    translated for the page asking: the Run page's count reads them whatever the item's scale
    (it once read a room vote's counts only, "NaN ... undefined WANT" for any other kind)."""
    import_keypads(meeting, "keypad,label,segments\nwedge:7,K7,\n")
    meeting.post("/rounds", proposal=["library"], keypads="on")
    capture(meeting, "7 1")
    eventually(lambda: sum((status(meeting)["step"] or {"counts": {}})["counts"].values()) == 1)
    step = status(meeting)["step"]
    assert step["answers"] == [
        {"key": 1, "value": "want", "label": "WANT"},
        {"key": 2, "value": "dont_want", "label": "DON'T WANT"},
        {"key": 3, "value": "neutral", "label": "NEUTRAL"},
    ]
    assert step["counts"] == {"want": 1, "dont_want": 0, "neutral": 0}
    cy = meeting.f.get(f"/console/{meeting.id}/keypads/status.json?lang=cy").json()["step"]
    assert [a["label"] for a in cy["answers"]] == ["EISIAU", "DDIM EISIAU", "NIWTRAL"]


def test_roll_call_binds_the_next_unregistered_keypad(meeting: Meeting) -> None:
    """'Press any key now' registers the keypad pressed under the label, with segments."""
    meeting.post("/keypads/rollcall", label="Seat 12", segment=["carer"])
    assert capture(meeting, "0455 2").status_code == 200
    page = meeting.f.get(f"/console/{meeting.id}/keypads").text
    assert "Seat 12" in page and "wedge:0455" in page
    meeting.post("/rounds", proposal=["library"], keypads="on")
    capture(meeting, "0455 1")
    eventually(lambda: meeting.state()["turnout"]["voted"] == 1)


def test_a_swapped_keypad_votes_for_the_same_voter(meeting: Meeting) -> None:
    """After a swap the new keypad replaces the old one's ballot; the old one counts nothing."""
    import_keypads(meeting, "keypad,label,segments\nwedge:1,A1,\n")
    meeting.post("/rounds", proposal=["library"], keypads="on")
    capture(meeting, "1 1")
    eventually(lambda: meeting.state()["turnout"]["voted"] == 1)
    meeting.post("/keypads/swap", label="A1", keypad="wedge:2")
    capture(meeting, "2 2")
    eventually(lambda: (status(meeting)["step"] or {"counts": {}})["counts"].get("dont_want") == 1)
    capture(meeting, "1 1")
    assert any(a["kind"] == "revoked" for a in status(meeting)["alerts"])
    meeting.close_round(1)
    meeting.reveal(1)
    library = meeting.state()["results"]["proposals"][0]
    assert (library["V"], library["W"], library["D"]) == (1, 0, 1)


def test_keypad_holders_can_declare_a_segment_before_voting(meeting: Meeting) -> None:
    """'Press 1 if you are a carer': the projector shows the question; presses set segments."""
    import_keypads(meeting, "keypad,label,segments\nwedge:1,A1,\nwedge:2,A2,north\n")
    meeting.post("/keypads/ask", segment="carer")
    assert meeting.state()["keypad_prompt"] == {"ask_segment": "carer"}
    capture(meeting, "1 1")
    capture(meeting, "2 2")
    meeting.post("/keypads/ask", segment="")
    assert meeting.state()["keypad_prompt"] is None
    page = meeting.f.get(f"/console/{meeting.id}/keypads").text
    assert page.count("carer") >= 1 and "north" in page
    roster = page.split("Registered keypads")[1]
    assert "A1" in roster.split("A2")[0] and "carer" in roster.split("A2")[0]


def test_auto_enrol_lets_unknown_keypads_vote_when_switched_on(meeting: Meeting) -> None:
    """Off by default; on, an unknown keypad becomes an anonymous keypad voter."""
    meeting.post("/rounds", proposal=["library"], keypads="on")
    capture(meeting, "99 1")
    assert meeting.state()["turnout"]["voted"] == 0
    meeting.post("/keypads/auto-enrol", on="on")
    capture(meeting, "99 1")
    eventually(lambda: meeting.state()["turnout"]["voted"] == 1)


def test_keypad_csv_errors_name_the_line(meeting: Meeting) -> None:
    """An unknown segment or a short row is refused with file and line; nothing registered."""
    r = meeting.f.post(
        f"/console/{meeting.id}/keypads/import",
        data={"csrf": meeting.csrf},
        files={"file": ("kp.csv", b"keypad,label,segments\nx,1,elves\ny,2\n", "text/csv")},
    )
    assert r.status_code == 400
    assert "kp.csv:2" in r.text and "elves" in r.text and "kp.csv:3" in r.text
    assert "<code>x</code>" not in meeting.f.get(f"/console/{meeting.id}/keypads").text


def test_capture_rejects_lines_that_are_not_a_press(meeting: Meeting) -> None:
    """The capture endpoint explains its format in a JSON error."""
    r = capture(meeting, "hello world again")
    assert r.status_code == 400
    assert "keypad id" in r.json()["error"]["message"]


def test_the_keypad_step_is_checked(meeting: Meeting) -> None:
    """Stepping past the last proposal, or in a phone-only round, is refused."""
    meeting.open_round("library")
    r = meeting.f.post(
        f"/console/{meeting.id}/rounds/1/step", data={"csrf": meeting.csrf, "index": "1"}
    )
    assert r.status_code == 409
    meeting.close_round(1)
    meeting.post("/rounds", proposal=["library"], keypads="on")
    r = meeting.f.post(
        f"/console/{meeting.id}/rounds/2/step", data={"csrf": meeting.csrf, "index": "5"}
    )
    assert r.status_code == 400


def test_keypad_pages_render(meeting: Meeting, server: LiveServer) -> None:
    """The keypads page and the capture page render for the facilitator only."""
    assert meeting.f.get(f"/console/{meeting.id}/keypads").status_code == 200
    assert "capture-line" in meeting.f.get(f"/console/{meeting.id}/keypads/capture").text
    assert server.browser().get(f"/console/{meeting.id}/keypads").status_code == 403
    assert csrf_of(meeting.f)  # still signed in


def test_a_bad_receiver_url_is_refused_with_the_reason(meeting: Meeting) -> None:
    """Adding 'bogus://' explains which receiver kinds exist."""
    r = meeting.f.post(
        f"/console/{meeting.id}/keypads/receivers", data={"csrf": meeting.csrf, "url": "bogus://x"}
    )
    assert r.status_code == 400 and "serial://" in r.text


def test_keypads_monitor_prints_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    """`covote keypads monitor sim://...` prints decoded presses, one JSON object per line."""
    from app.cli import main

    assert (
        main(
            [
                "keypads",
                "monitor",
                "sim://?keypads=2&seed=3&speed=0",
                "--limit",
                "3",
                "--duration",
                str(10 * TIME_FACTOR),
            ]
        )
        == 0
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines and all(line["keypad"].startswith("sim:") for line in lines)


def test_a_rehearsal_with_simulated_keypads_counts_every_keypad(
    meeting: Meeting, tmp_path: Path
) -> None:
    """`covote keypads simulate` + its CSV + the console: all 20 virtual keypads vote."""
    import subprocess
    import sys

    csv_path = tmp_path / "keypads.csv"
    sim = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.cli",
            "keypads",
            "simulate",
            "--keypads",
            "20",
            "--csv",
            str(csv_path),
            "--duration",
            str(60 * TIME_FACTOR),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sim.stdout is not None
        url = sim.stdout.readline().rsplit(" ", 1)[1].strip()
        assert url.startswith("serial://")
        eventually(csv_path.exists)
        assert import_keypads(meeting, csv_path.read_text()).status_code == 303
        meeting.post("/keypads/receivers", url=url)
        meeting.post("/rounds", proposal=["library", "toilets"], keypads="on")
        eventually(lambda: meeting.state()["turnout"]["voted"] == 20, timeout=30)
        eventually(
            lambda: sum((status(meeting)["step"] or {"counts": {}})["counts"].values()) == 20
        )
    finally:
        sim.terminate()
        sim.wait(10)
        if sim.stdout is not None:
            sim.stdout.close()


def test_hostile_receiver_urls_are_refused_without_quoting_files_while_the_server_answers(
    server: LiveServer,
    meeting: Meeting,
    settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Issue 11: /dev/zero, /etc/passwd, a path outside the data directory, a link out of it, a
    FIFO, a 100 MB capture and files whose first line is a secret are each refused at once with
    a reason and none of the file's bytes; other requests are served meanwhile."""
    data = settings.data_dir
    header = '{"kpcap": 1, "driver": "sim"}\n'
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "rehearsal.kpcap"
    elsewhere.write_text(header)
    (data / "notes.kpcap").write_text("SECRET_TOKEN=hunter2-horse\n" + header)
    (data / "keys.kpcap").write_text('{"session_secret": "hunter2-horse"}\n')
    (data / "binary.kpcap").write_bytes(b"\xffhunter2-horse\n")
    with open(data / "big.kpcap", "wb") as f:
        f.truncate(100 * 1024 * 1024)  # sparse: 100 MB without writing them
    os.mkfifo(data / "pipe.kpcap")
    (data / "link.kpcap").symlink_to("/etc/passwd")
    outside = "only from the data directory"
    cases = [
        ("replay:///dev/zero", outside),
        ("replay:///etc/passwd", outside),
        (f"replay://{elsewhere}", outside),
        (f"replay://{data}/link.kpcap", outside),
        (f"replay://{data}/../{elsewhere.parent.name}/rehearsal.kpcap", outside),
        (f"replay://{data}/pipe.kpcap", "not a regular file"),
        (f"replay://{data}/big.kpcap", "larger than the limit of 16,777,216 bytes"),
        (f"replay://{data}/notes.kpcap", "line 1: not JSON"),
        (f"replay://{data}/keys.kpcap", "line 1: not a kpcap/1 header"),
        (f"replay://{data}/binary.kpcap", "line 1: not UTF-8 text"),
        ("serial:///dev/zero", "not a keypad receiver device"),
        ("evdev:///etc/passwd", "not a keypad receiver device"),
    ]
    other = server.browser()
    for url, reason in cases:
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(
                meeting.f.post,
                f"/console/{meeting.id}/keypads/receivers",
                data={"csrf": meeting.csrf, "url": url},
                timeout=20 * TIME_FACTOR,
            )
            assert other.get("/", timeout=5 * TIME_FACTOR).status_code == 200
            r = pending.result()
        assert r.status_code == 400 and reason in r.text, (url, r.text[-600:])
        assert "hunter2" not in r.text and "root:" not in r.text, url
    assert len(status(meeting)["receivers"]) == 1  # only the emulator from the settings
    (data / "good.kpcap").write_text(
        header + '{"t": 0, "ev": "press", "keypad_id": "sim:1", "key": "1"}\n'
    )
    meeting.post("/keypads/receivers", url=f"replay://{data}/good.kpcap?speed=0")
    assert len(status(meeting)["receivers"]) == 2


async def test_a_large_capture_is_read_off_the_event_loop_and_within_its_deadline(
    tmp_path: Path,
) -> None:
    """A capture of several MB is read in a worker thread while the loop keeps ticking; with
    a deadline shorter than the read it is refused, saying so, and the loop never stalls."""
    press = '{"t": 0, "ev": "press", "keypad_id": "sim:1", "key": "1"}\n'
    path = tmp_path / "long.kpcap"
    path.write_text('{"kpcap": 1, "driver": "sim"}\n' + press * 100_000)  # 5.8 MB
    url = f"replay://{path}?speed=0"
    ticks, longest = 0, 0.0

    async def ticker() -> None:
        nonlocal ticks, longest
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.005)
            ticks, longest = ticks + 1, max(longest, time.monotonic() - before)

    task = asyncio.create_task(ticker())
    try:
        receiver = await ReceiverPolicy(file_dirs=(tmp_path,)).build_checked(url)
        assert receiver.info["records"] == "100000"
        with pytest.raises(BadInput, match=r"took longer than 0\.001 s"):
            await ReceiverPolicy(file_dirs=(tmp_path,), timeout_s=0.001).build_checked(url)
    finally:
        task.cancel()
    assert ticks > 5 and longest < 0.5 * TIME_FACTOR  # the loop ran all along
