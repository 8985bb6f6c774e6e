"""Issue 13: keypads are present only while they can vote; receivers survive a restart; the Run
page warns loudly while registered keypads are not counting."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.config import Settings
from hardware.emulator import KplEmulator
from tests.conftest import (
    FACILITATOR_KEY,
    LiveServer,
    Meeting,
    Phone,
    Socket,
    csrf_of,
    make_settings,
)
from tests.test_keypads import KEYPAD_CSV, capture, eventually, import_keypads, status

WEDGE_CSV = "keypad,label,segments\nwedge:0417,1,\nwedge:0418,2,\n"


@pytest.fixture
def emulator() -> Iterator[KplEmulator]:
    with KplEmulator(heartbeat_s=0.5) as emu:
        yield emu


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """SQLite, and no receiver on the command line: receivers come from the console."""
    return make_settings(tmp_path)


def present(meeting: Meeting) -> int:
    return int(meeting.state()["turnout"]["present"])


def idle_alert(meeting: Meeting) -> str | None:
    """The Run page's "registered keypads are not counting" alert, as text, or None."""
    html = meeting.f.get(f"/console/{meeting.id}").text
    m = re.search(r'<div id="keypads-idle" class="alert" role="alert"[^>]*>(.*?)</div>', html, re.S)
    text = "" if m is None else re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", m.group(1))).strip()
    return text or None  # the (empty) live region is always there, for the alert to appear in


def add_receiver(meeting: Meeting, url: str) -> None:
    meeting.post("/keypads/receivers", url=url)


def connected(meeting: Meeting) -> bool:
    s = status(meeting)
    return bool(s["serving"] and any(r["state"] == "connected" for r in s["receivers"]))


def reconnect(server: LiveServer, meeting: Meeting) -> Meeting:
    """The same meeting, driven through a new server's facilitator browser."""
    client = server.browser()
    r = client.get(f"/facilitator?key={FACILITATOR_KEY}", follow_redirects=False)
    assert r.status_code == 303
    again = object.__new__(Meeting)
    again.f, again.id, again.code = client, meeting.id, meeting.code
    again.csrf = csrf_of(client)
    return again


def test_keypads_are_not_present_in_a_phone_only_round(
    meeting: Meeting, phones: Callable[[], Phone], emulator: KplEmulator
) -> None:
    """3 registered keypads and a receiver, 1 phone: a phone-only round has 1 present."""
    assert import_keypads(meeting).status_code == 303
    add_receiver(meeting, emulator.url)
    eventually(lambda: connected(meeting))
    phones()
    meeting.open_round("library", "respite")
    assert present(meeting) == 1
    alert = idle_alert(meeting)
    assert alert is not None and "not counting: 3." in alert and "without keypads" in alert


def test_keypads_are_present_in_a_keypad_round_only_while_a_receiver_serves(
    meeting: Meeting, phones: Callable[[], Phone], emulator: KplEmulator
) -> None:
    """A keypad round counts the registered keypads present while a receiver is connected
    (before their first press); revoked keypads never; the stored snapshot keeps the figure."""
    assert import_keypads(meeting).status_code == 303
    phones()
    meeting.post("/rounds", proposal=["library", "respite"], keypads="on")
    # No receiver yet: the keypads cannot vote, so they are not here yet; the Run page says so.
    assert present(meeting) == 1
    alert = idle_alert(meeting)
    assert alert is not None and "No keypad receiver is open" in alert
    add_receiver(meeting, emulator.url)
    eventually(lambda: connected(meeting))
    eventually(lambda: present(meeting) == 4)
    assert idle_alert(meeting) is None
    meeting.post("/keypads/revoke", keypad="kpl:0A0003", confirm="yes")
    eventually(lambda: present(meeting) == 3)
    meeting.close_round(1)
    assert meeting.state()["turnout"]["present"] == 3  # the snapshot, taken at the close
    assert "Turnout when the round closed" in meeting.f.get(f"/console/{meeting.id}/rounds/1").text


def test_the_projector_hears_when_an_unplugged_receiver_takes_keypads_out_of_present(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone], emulator: KplEmulator
) -> None:
    """Pulling the receiver's cable changes "present" on the projector with nothing else
    happening: the desk tells the room when keypads stop being able to vote."""
    assert import_keypads(meeting).status_code == 303
    phones()
    meeting.post("/rounds", proposal=["library"], keypads="on")
    add_receiver(meeting, emulator.url)
    eventually(lambda: connected(meeting))
    with Socket(server, meeting.code) as projector:
        projector.until(lambda m: m.get("turnout", {}).get("present") == 4)
        emulator.unplug()
        projector.until(lambda m: m.get("turnout", {}).get("present") == 1)
    assert idle_alert(meeting) is not None


def test_a_keypad_that_pressed_is_present_without_a_receiver(meeting: Meeting) -> None:
    """Keypads typed on the capture page (no receiver at all) are present once they vote."""
    assert import_keypads(meeting, WEDGE_CSV).status_code == 303
    meeting.post("/rounds", proposal=["library"], keypads="on")
    assert present(meeting) == 0
    assert capture(meeting, "0417 1").status_code == 200
    eventually(lambda: meeting.state()["turnout"]["voted"] == 1)
    assert present(meeting) == 1


def test_a_restart_reopens_the_receivers_and_serves_their_meeting(
    server: LiveServer, meeting: Meeting, settings: Settings, emulator: KplEmulator
) -> None:
    """A receiver added in the console is open again after a restart, serving the same
    meeting, and its keypads vote; one that cannot re-open is shown, and start-up goes on."""
    assert import_keypads(meeting, KEYPAD_CSV).status_code == 303
    add_receiver(meeting, emulator.url)
    capture_file = settings.data_dir / "rehearsal.kpcap"
    capture_file.write_text('{"kpcap": 1, "driver": "sim"}\n')
    add_receiver(meeting, f"replay://{capture_file}?speed=0")
    eventually(lambda: connected(meeting))
    server.__exit__(None, None, None)
    capture_file.unlink()  # gone before the restart: it cannot be re-opened

    with LiveServer(settings) as again:
        m = reconnect(again, meeting)
        eventually(lambda: connected(m))
        failed = status(m)["reopen_failed"]
        assert [f["url"] for f in failed] == [f"replay://{capture_file}?speed=0"]
        page = m.f.get(f"/console/{m.id}/keypads").text
        assert 'id="reopen-failed"' in page and 'role="alert"' in page
        m.post("/rounds", proposal=["library"], keypads="on")
        eventually(lambda: emulator.accepting)
        assert present(m) == 3
        emulator.press("0A0001", "1", seq=1)
        eventually(lambda: m.state()["turnout"]["by_channel"]["keypad"] == 1)


def test_remembered_receivers_survive_in_the_database_only_once(
    meeting: Meeting, emulator: KplEmulator, settings: Settings
) -> None:
    """Adding the same receiver twice remembers one row; "use keypads" moves it."""
    from sqlmodel import Session, select

    from app.voting.db import make_engine
    from app.voting.models import KeypadReceiver

    add_receiver(meeting, emulator.url)
    r = meeting.f.post(
        f"/console/{meeting.id}/keypads/receivers",
        data={"csrf": meeting.csrf, "url": emulator.url},
        follow_redirects=False,
    )
    assert r.status_code in (303, 400, 409)  # the name is in use: refused, still one row
    engine = make_engine(settings.resolved_database_url())
    try:
        with Session(engine) as session:
            rows = session.exec(select(KeypadReceiver)).all()
            assert [(row.url, row.meeting_id) for row in rows] == [(emulator.url, meeting.id)]
    finally:
        engine.dispose()


def test_a_removed_receiver_is_closed_and_not_reopened_on_start(
    server: LiveServer, meeting: Meeting, settings: Settings, emulator: KplEmulator
) -> None:
    """Keypad desk → Saved receivers → Remove asks first (nothing changes until confirmed),
    then closes the receiver and forgets it: after a restart it is not opened again."""
    add_receiver(meeting, emulator.url)
    eventually(lambda: connected(meeting))
    page = meeting.f.get(f"/console/{meeting.id}/keypads").text
    assert 'id="saved-receivers"' in page and emulator.url in page
    assert 'data-confirm="Remove the receiver' in page
    asked = meeting.f.post(
        f"/console/{meeting.id}/keypads/receivers/forget",
        data={"csrf": meeting.csrf, "url": emulator.url},
    )
    assert asked.status_code == 200 and "Yes, remove the receiver" in asked.text
    assert connected(meeting)  # asking changed nothing
    meeting.post("/keypads/receivers/forget", url=emulator.url, confirm="yes")
    eventually(lambda: not status(meeting)["receivers"])
    assert 'id="saved-receivers"' not in meeting.f.get(f"/console/{meeting.id}/keypads").text
    server.__exit__(None, None, None)

    with LiveServer(settings) as again:
        m = reconnect(again, meeting)
        s = status(m)
        assert s["receivers"] == [] and s["reopen_failed"] == []


def test_removing_a_receiver_that_is_not_saved_changes_nothing(meeting: Meeting) -> None:
    """An unknown or oversized address is refused with a reason (400)."""
    for url in ("kpl://nowhere", "x" * 1001, ""):
        r = meeting.f.post(
            f"/console/{meeting.id}/keypads/receivers/forget",
            data={"csrf": meeting.csrf, "url": url, "confirm": "yes"},
            follow_redirects=False,
        )
        assert r.status_code == 400, url


def test_the_run_page_alert_is_in_the_status_the_page_polls(
    meeting: Meeting, emulator: KplEmulator
) -> None:
    """keypads/status.json carries the Run page's alert (`idle`), so it changes without a
    reload: registered keypads and no receiver, then a receiver serving, then none again."""
    assert status(meeting)["idle"] is None  # no keypads registered: nothing to warn of
    assert import_keypads(meeting, KEYPAD_CSV).status_code == 303
    assert status(meeting)["idle"] == {"why": "no_receiver", "n": 3}
    add_receiver(meeting, emulator.url)
    eventually(lambda: status(meeting)["idle"] is None)
    meeting.open_round("library")
    assert status(meeting)["idle"] == {"why": "phones_only", "n": 3, "round": 1}
