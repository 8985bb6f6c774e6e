"""Keypads in a survey round (issue 15), through an emulated KPL/1 receiver: the projector's
keypad step is one question at a time, on the questions whose scale has keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Settings
from hardware.emulator import KplEmulator
from tests.conftest import Meeting, make_settings
from tests.test_keypads import emulator, eventually, import_keypads, status
from tests.test_survey_round import import_survey, survey_text

__all__ = ["emulator"]  # the fixture: one emulated receiver per test


@pytest.fixture
def settings(tmp_path: Path, emulator: KplEmulator) -> Settings:
    """One KPL/1 receiver (emulated on a pty) plugged in from the start; SQLite."""
    return make_settings(tmp_path, keypad_urls=[emulator.url])


def test_a_keypad_answers_a_1_to_5_question_of_the_survey(
    meeting: Meeting, emulator: KplEmulator
) -> None:
    """Key 4 on "How much do you value Mobile library?" is the answer 4; the receiver is armed
    with the question's keys (5, then 3 for how often), and each press counts for its question."""
    assert import_keypads(meeting).status_code == 303
    assert import_survey(meeting, survey_text()).status_code == 303
    meeting.post("/rounds", kind="survey", keypads="on")
    eventually(lambda: status(meeting)["receivers"][0]["state"] == "connected")
    eventually(lambda: emulator.accepting and emulator.choices == 5)  # library.value: 1-5
    emulator.press("0A0001", "4", seq=1)
    emulator.press("0A0002", "2", seq=1)
    eventually(lambda: (status(meeting)["step"] or {}).get("counts", {}).get("4") == 1)
    meeting.post("/rounds/1/step", index="2")  # library.need: never / sometimes / often
    eventually(lambda: emulator.choices == 3)
    emulator.press("0A0001", "3", seq=2)
    eventually(lambda: (status(meeting)["step"] or {}).get("counts", {}).get("often") == 1)
    eventually(lambda: meeting.state()["turnout"]["voted"] == 2)
    meeting.close_round(1)
    rows = meeting.f.get(f"/console/{meeting.id}/rounds/1/export/ballots.csv").text
    assert sorted(line.split(",", 4)[-1] for line in rows.splitlines()[1:]) == [
        "library.need,often",
        "library.value,2",
        "library.value,4",
    ]
