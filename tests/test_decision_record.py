"""The record once rounds are final or voided: the report opens with "The decision", then
"Earlier rounds" and "Voided rounds"; budgets of earlier rounds say "if this round had
decided"; results.json marks final and voided rounds, and `covote recount --audit` prints it
byte for byte; a meeting with neither exports exactly as before (tests/test_golden_exports.py)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from app.cli import main as covote
from tests.conftest import MEETING, LiveServer, Meeting, Phone

BUDGET = {**MEETING, "budget": {"pot": 100000, "currency": "£", "completion": "add1"}}


@pytest.fixture
def decided(facilitator: httpx.Client, server: LiveServer) -> Meeting:
    """A rehearsal round voided, a first real round, then the final round."""
    meeting = Meeting(facilitator, BUDGET)
    voters = [Phone(server.browser(), meeting.code) for _ in range(3)]
    for number in (1, 2, 3):
        meeting.open_round()
        for v in voters:
            assert v.vote({"library": "want", "respite": "want"}).status_code == 200
        meeting.close_round(number)
    meeting.post("/rounds/1/void", confirm="yes", reason="Rehearsal")
    meeting.post("/rounds/3/final")
    return meeting


def test_the_report_opens_with_the_decision(decided: Meeting) -> None:
    """The decision once, first; the earlier round labelled as such, its budget
    hypothetical; the voided round marked and its results not shown."""
    html = decided.f.get(f"/console/{decided.id}/report.html").text
    main = html.split("<main>", 1)[1]
    decision, earlier, voided = (main.index(f'id="{p}"') for p in ("decision", "earlier", "voided"))
    assert decision < earlier < voided
    assert main.index('id="round-3"') < earlier < main.index('id="round-2"') < voided
    assert "The pot is spent once, by the final round" in main
    in_earlier = main[earlier:voided]
    assert "(if this round had decided)" in in_earlier
    assert "(if this round had decided)" not in main[decision:earlier]
    in_voided = main[voided:]
    assert "Voided — did not count" in in_voided and "Reason: Rehearsal" in in_voided
    assert 'class="proposal"' not in in_voided.split("</section>")[0]
    assert "--audit audit.jsonl" in html
    pdf = decided.f.get(f"/console/{decided.id}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_results_json_marks_final_and_voided_rounds_and_the_recount_agrees(
    decided: Meeting, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The marks follow the counts; `covote recount --audit` reads them from the log."""
    for name in ("ballots.csv", "groups.csv", "meeting.json", "audit.jsonl", "results.json"):
        (tmp_path / name).write_bytes(decided.f.get(f"/console/{decided.id}/export/{name}").content)
    results = json.loads((tmp_path / "results.json").read_text())
    marks = {
        r["round"]: {k: r[k] for k in ("final", "voided", "void_reason") if k in r}
        for r in results["rounds"]
    }
    assert marks == {
        "1": {"voided": True, "void_reason": "Rehearsal"},
        "2": {},
        "3": {"final": True},
    }
    assert list(results["rounds"][0])[-2:] == ["voided", "void_reason"]
    files = [str(tmp_path / n) for n in ("ballots.csv", "meeting.json", "groups.csv")]
    args = ["recount", files[0], "--meeting", files[1], "--groups", files[2]]
    assert covote([*args, "--audit", str(tmp_path / "audit.jsonl")]) == 0
    assert capsys.readouterr().out == (tmp_path / "results.json").read_text()
    assert covote(args) == 0  # without the log: the counts alone
    assert "voided" not in capsys.readouterr().out


def test_unmarking_the_final_round_takes_the_decision_away(decided: Meeting) -> None:
    """With no final round the report lists "Rounds" and the voided ones, no decision."""
    decided.post("/rounds/3/unfinal")
    html = decided.f.get(f"/console/{decided.id}/report.html").text
    assert 'id="decision"' not in html and 'id="earlier"' in html and 'id="voided"' in html
    assert "if this round had decided" not in html


def test_reopening_a_final_round_takes_the_mark_off_in_both_records(
    facilitator: httpx.Client,
    server: LiveServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The console's results.json and the recount from the log agree after a reopen."""
    meeting = Meeting(facilitator)
    meeting.open_round()
    assert Phone(server.browser(), meeting.code).vote({"library": "want"}).status_code == 200
    meeting.close_round(1)
    meeting.post("/rounds/1/final")
    meeting.post("/rounds/1/reopen", confirm="yes")
    meeting.close_round(1)
    for name in ("ballots.csv", "groups.csv", "meeting.json", "audit.jsonl", "results.json"):
        (tmp_path / name).write_bytes(meeting.f.get(f"/console/{meeting.id}/export/{name}").content)
    assert "final" not in json.loads((tmp_path / "results.json").read_text())["rounds"][0]
    files = [
        str(tmp_path / n) for n in ("ballots.csv", "meeting.json", "groups.csv", "audit.jsonl")
    ]
    args = ["recount", files[0], "--meeting", files[1], "--groups", files[2], "--audit", files[3]]
    assert covote(args) == 0
    assert capsys.readouterr().out == (tmp_path / "results.json").read_text()
