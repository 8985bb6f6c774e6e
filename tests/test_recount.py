"""The independent recount: `covote recount` on the exported files gives what the room saw."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli import main as covote
from tests.conftest import Meeting, Phone

DISPLAY_ONLY = {"title", "kind", "description", "group_labels"}


def projector_record(results: dict[str, Any]) -> dict[str, object]:
    """The projector's results minus the display-only keys (titles, labels)."""
    proposals = []
    for p in results["proposals"]:
        item = {k: v for k, v in p.items() if k not in DISPLAY_ONLY}
        item["affected"] = [{k: v for k, v in g.items() if k != "label"} for g in p["affected"]]
        proposals.append(item)
    return {"proposals": proposals, "ranking": results["ranking"]}


def vote_a_round(meeting: Meeting, phones: Callable[[], Phone]) -> None:
    """Seven phones: carers protect respite, most of the room rejects the toilets."""
    meeting.open_round()
    plan = [
        (("carer",), {"library": "want", "respite": "want", "toilets": "dont_want"}),
        (("carer",), {"respite": "want", "toilets": "dont_want"}),
        (("carer", "north"), {"library": "want", "respite": "want", "toilets": "dont_want"}),
        (("north",), {"library": "want", "respite": "dont_want", "toilets": "dont_want"}),
        ((), {"library": "dont_want", "respite": "dont_want", "toilets": "dont_want"}),
        (("staff",), {"library": "neutral", "respite": "dont_want", "toilets": "want"}),
        ((), {"respite": "dont_want"}),
    ]
    for segments, marks in plan:
        phone = phones()
        if segments:
            assert phone.segments(*segments).status_code == 200
        assert phone.vote(marks).status_code == 200
    meeting.close_round(1)
    meeting.reveal(1)


def recount_exports(client: httpx.Client, meeting_id: int, folder: Path) -> tuple[str, str]:
    """Download a meeting's ballots.csv, groups.csv and meeting.json into `folder`, run `covote
    recount` on them in a subprocess; returns (what it printed, the console's results.json)."""
    base = f"/console/{meeting_id}/export"
    for name in ("ballots.csv", "groups.csv", "meeting.json"):
        (folder / name).write_bytes(client.get(f"{base}/{name}").content)
    out = subprocess.run(
        [
            *(sys.executable, "-m", "app.cli", "recount", "ballots.csv"),
            *("--groups", "groups.csv", "--meeting", "meeting.json"),
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out, client.get(f"{base}/results.json").text


def test_recount_of_the_exported_files_equals_the_projector(
    tmp_path: Path,
    facilitator: httpx.Client,
    meeting: Meeting,
    phones: Callable[[], Phone],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Byte-for-byte: results.json, the recount's output and the projector agree."""
    vote_a_round(meeting, phones)
    shown = meeting.state()["results"]
    out, exported = recount_exports(facilitator, meeting.id, tmp_path)
    assert out == exported
    record = json.loads(out)["rounds"][0]
    assert record["round"] == "1"
    assert {k: v for k, v in record.items() if k != "round"} == projector_record(shown)
    outcome = {p["id"]: (p["category"], p["reason"], p["groups"]) for p in record["proposals"]}
    assert outcome["respite"] == ("PROTECTED", "affected-group", ["carer"])
    assert outcome["toilets"] == ("REJECTED", "qualified-opposition", [])
    assert outcome["library"][0] == "SUPPORTED"


def test_the_ballot_file_has_a_row_for_every_proposal_of_every_voter(
    facilitator: httpx.Client, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Unmarked proposals are written as neutral rows; segments are never written per voter."""
    vote_a_round(meeting, phones)
    lines = facilitator.get(f"/console/{meeting.id}/rounds/1/export/ballots.csv").text.splitlines()
    assert lines[0] == "round,voter,channel,segments,proposal,mark"
    assert len(lines) == 1 + 7 * 3
    rows = [line.split(",") for line in lines[1:]]
    assert {r[2] for r in rows} == {"phone"}
    assert {r[3] for r in rows} == {""}  # groups.csv holds the group totals instead
    assert all(r[1].startswith("v-") for r in rows)  # pseudonyms, nothing else


def test_recount_reports_malformed_files_with_line_and_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Unknown proposal, bad mark and duplicate row each name file and line; exit code 2."""
    meeting_file = tmp_path / "meeting.json"
    meeting_file.write_text(
        json.dumps(
            {
                "title": "T",
                "rule": {"ratio": 2, "group_min": 5},
                "segments": [{"id": "carer", "label": "Carer", "protects": True}],
                "proposals": [
                    {"id": "a", "title": "A", "kind": "keep", "affected_groups": ["carer"]}
                ],
            }
        )
    )
    ballots = tmp_path / "ballots.csv"
    ballots.write_text(
        "round,voter,channel,segments,proposal,mark\n"
        "1,v1,phone,carer,a,want\n"
        "1,v1,phone,carer,a,want\n"
        "1,v2,phone,,zzz,want\n"
        "1,v3,phone,,a,perhaps\n"
        "1,v4,phone,elves,a,want\n"
    )
    assert covote(["recount", str(ballots), "--meeting", str(meeting_file)]) == 2
    err = capsys.readouterr().err
    for line in ("ballots.csv:3:", "ballots.csv:4:", "ballots.csv:5:", "ballots.csv:6:"):
        assert line in err
    assert "zzz" in err and "perhaps" in err and "elves" in err


def test_recount_reports_a_missing_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A header without the mark column is refused at line 1."""
    meeting_file = tmp_path / "m.json"
    meeting_file.write_text(
        json.dumps(
            {"title": "T", "segments": [], "proposals": [{"id": "a", "title": "A", "kind": "fund"}]}
        )
    )
    ballots = tmp_path / "b.csv"
    ballots.write_text("round,voter,channel,segments,proposal\n1,v1,phone,,a\n")
    assert covote(["recount", str(ballots), "--meeting", str(meeting_file)]) == 2
    assert "b.csv:1:" in capsys.readouterr().err


def test_recount_of_a_missing_file_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A path that does not exist is an error message, not a traceback."""
    assert covote(["recount", str(tmp_path / "nope.csv"), "--meeting", str(tmp_path / "m")]) == 2
    assert "No such file" in capsys.readouterr().err
