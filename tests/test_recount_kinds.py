"""`covote recount` on meetings with rounds of every activity kind (app/record/kind_rounds.py,
`ActivityKind.offline`): the round's kind from the audit log, its items and scales from the
kind's offline hook, each answer's count per item as the server's kind counts it.

The end-to-end test builds one meeting with a Lab rating round (a merged idea rated, a hidden
one), a room vote, a survey round and a 1-5 rating (the kind tests/test_activity_kinds.py
registers), downloads the export bundle and runs README.txt's commands on it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app import cli
from app.record import csvfiles, kind_rounds, records
from app.record.records import RecordError
from app.rules.lab import RATING_SCALE
from app.voting import kinds
from tests.conftest import LiveServer, Meeting, Phone
from tests.test_activity_kinds import RATING
from tests.test_lab_record import bundle, commands, run_lab
from tests.test_survey_round import import_survey, open_survey, survey_text


@pytest.fixture
def rating_registered() -> Iterator[None]:
    kinds.register(RATING)
    yield
    kinds.unregister(RATING.key)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_bundles_recount_reproduces_results_json_for_rounds_of_every_kind(
    server: LiveServer,
    meeting: Meeting,
    phones: Callable[[], Phone],
    rating_registered: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """README.txt's recount (with the audit log and the survey file) prints results.json byte
    for byte for a Lab round, a room vote, a survey round and a rating; its audit verify
    passes. ballots.csv has the merged idea's rating as cast, under its own key, and both
    count it for the idea it joined. Without the log, or without the survey file, the recount
    names the rounds it cannot count; a survey file other than the one the log saved is
    refused; an answer off its item's scale is refused by line."""
    keys = run_lab(server, meeting)  # round 1
    meeting.open_round()  # round 2: a room vote
    for marks in (
        {"library": "want", "respite": "dont_want"},
        {"library": "want", "toilets": "want"},
        {"respite": "neutral"},
    ):
        assert phones().vote(marks).status_code == 200
    meeting.close_round(2)
    assert import_survey(meeting, survey_text()).status_code == 303
    open_survey(meeting)  # round 3
    for value, area in (("5", "north"), ("4", "north"), ("2", "south")):
        marks = {"library.value": value, "library.need": "often", "area": area, "q.travel": "bus"}
        assert phones().vote(marks).status_code == 200
    meeting.close_round(3)
    meeting.post("/rounds", kind="rating", proposal=["toilets", "library"])  # round 4
    for marks in ({"library": "4", "toilets": "5"}, {"library": "2"}):
        assert phones().vote(marks).status_code == 200
    meeting.close_round(4)

    files = bundle(meeting)
    for name, body in files.items():
        (tmp_path / name).write_bytes(body)
    monkeypatch.chdir(tmp_path)
    run = commands(files["README.txt"].decode())
    (recount,) = [c for c in run if c[0] == "recount"]
    assert recount[-4:] == ["--audit", "audit.jsonl", "--survey", "survey.json"]
    code, out, err = _run(recount, capsys)
    assert (code, err) == (0, "")
    assert out.encode("utf-8") == files["results.json"]
    (verify,) = [c for c in run if c[:2] == ["audit", "verify"]]
    assert _run(verify, capsys)[0] == 0

    results = json.loads(files["results.json"])
    lab, room, survey, rating = results["rounds"]
    assert [r["round"] for r in results["rounds"]] == ["1", "2", "3", "4"]
    counts = {a["id"]: a["counts"] for a in lab["answers"]}
    assert counts[keys["sitters"]] == {"agree": 5, "disagree": 1, "pass": 0}
    assert keys["twin"] not in counts and keys["rude"] not in counts
    assert [p["id"] for p in room["proposals"]] == ["library", "respite", "toilets"]
    by_item = {a["id"]: a for a in survey["answers"]}
    assert by_item["library.value"]["mean"] == "3.67"
    assert by_item["area"]["counts"] == {"north": 2, "south": 1}
    assert rating["answers"][0] == {
        "id": "library",
        "answered": 2,
        "counts": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 0},
        "mean": "3.00",
    }
    ballots = files["ballots.csv"].decode()
    twin_rows = [line for line in ballots.splitlines() if f",{keys['twin']}," in line]
    assert len(twin_rows) == 1 and twin_rows[0].startswith("1,")
    assert twin_rows[0].endswith(f",{keys['twin']},agree")

    plain = ["recount", "ballots.csv", "--groups", "groups.csv", "--meeting", "meeting.json"]
    code, out, err = _run(plain, capsys)
    assert (code, out) == (2, "")
    assert "round(s) 1, 3, 4 of ballots.csv are not room votes" in err
    assert "--audit audit.jsonl" in err
    code, out, err = _run([*plain, "--audit", "audit.jsonl"], capsys)
    assert (code, out) == (2, "")
    assert err == (
        "covote recount: round 3: a survey round: give the survey file with --survey survey.json\n"
    )

    Path("survey.json").write_text(files["survey.json"].decode() + " ", encoding="utf-8")
    code, out, err = _run(recount, capsys)
    assert (code, out) == (1, "")
    assert "survey.json is not the survey the audit log saved last" in err
    Path("survey.json").write_bytes(files["survey.json"])

    lines = ballots.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("1,"))
    lines[at] = lines[at].rsplit(",", 1)[0] + ",maybe"
    Path("ballots.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = _run(recount, capsys)
    assert (code, out) == (2, "")
    assert err.startswith(f"ballots.csv:{at + 1}: mark: not an answer to ")
    assert '"maybe"' in err


def _meeting() -> records.MeetingFile:
    return records.parse_meeting(
        json.dumps(
            {
                "title": "Ashdown",
                "segments": [],
                "proposals": [{"id": "library", "title": "Library", "kind": "fund"}],
            }
        )
    )


def test_a_row_off_its_items_scale_is_refused_with_its_line() -> None:
    """With the round's scales, every row's item must be the round's and its answer one its
    scale stores; a room vote's round is read as before, in the same file."""
    offline = kind_rounds.OfflineRound("lab", {"i1": RATING_SCALE}, [("i1", RATING_SCALE)])
    text = (
        "round,voter,channel,segments,proposal,mark\n"
        "1,v1,phone,,i1,agree\n"
        "1,v2,phone,,i1,Agree\n"
        "1,v3,phone,,i9,agree\n"
        "2,v1,phone,,library,want\n"
    )
    with pytest.raises(RecordError) as e:
        csvfiles.read_ballot_csv(text, _meeting(), scales={"1": offline.scales})
    assert [line for line, _ in e.value.errors] == [3, 4]
    assert e.value.errors[0][1].startswith('mark: not an answer to "i1": "Agree"')
    assert e.value.errors[1][1] == 'proposal: "i9" is not an item of round 1'
    good = "\n".join(text.splitlines()[:2] + text.splitlines()[4:]) + "\n"
    rows = csvfiles.read_ballot_csv(good, _meeting(), scales={"1": offline.scales})
    assert [(r.round, r.mark) for r in rows] == [("1", "agree"), ("2", "want")]


def _link(link_kind: str, /, **data: Any) -> dict[str, Any]:
    return {"kind": link_kind, "data": data}


def test_a_lab_rounds_items_and_merges_are_replayed_from_the_log() -> None:
    """Ideas approved while the round is open join it at the end, ideas hidden or merged
    leave it; after it closes they do not join, and an idea hidden then is not counted;
    merges stay flat; a merged idea's rating counts for its target unless the voter rated
    that one too."""
    links = [
        _link("lab.approved", idea="a"),
        _link("lab.approved", idea="b"),
        _link("lab.approved", idea="c"),
        _link("round.opened", round=1, proposals=["a", "b", "c"], kind="lab", keypads=False),
        _link("lab.approved", idea="d"),
        _link("lab.merged", idea="b", into="c"),
        _link("round.closed", round=1),
        _link("lab.approved", idea="e"),
        _link("lab.hidden", idea="a"),
        _link("round.reopened", round=1),
        _link("lab.approved", idea="f"),
        _link("round.closed", round=1),
        _link("lab.merged", idea="c", into="d"),
    ]
    lab = kind_rounds.lab_round(links, "1")
    assert lab.items == ("d", "f")  # a hidden, b and c merged, e approved while closed
    assert dict(lab.into) == {"b": "d", "c": "d"}
    assert set(lab.ideas) == set("abcdef")
    opened = kind_rounds.opened_kinds(links)
    assert opened == {"1": kind_rounds.Opened("1", "lab", ("a", "b", "c"))}
    assert kind_rounds.merged_ratings({"b": "agree", "c": "pass"}, lab.into) == {"d": "agree"}
    assert kind_rounds.merged_ratings({"c": "pass", "d": "disagree"}, lab.into) == {"d": "disagree"}
