"""A charter consent round in the public record (issue 17): the export bundle carries the
charter version the round asked, its consent and groups CSV and its results JSON; README.txt's
`covote recount` (with `--charter N ...`) prints results.json byte for byte, the charter's
decisions included, and its `covote charter tabulate` prints the round's results JSON.

Over HTTP (the `server` fixture), the commands run in-process on the downloaded files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from app import cli
from app.record import kind_rounds
from tests.conftest import LiveServer, Meeting, Phone
from tests.test_charter_room import CHARTER, upload
from tests.test_lab_record import bundle, commands

FILES = ("charter-round-1.json", "charter-consent-round-1.csv", "charter-groups-round-1.csv")


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_bundles_commands_reproduce_a_charter_rounds_results_and_catch_tampering(
    server: LiveServer,
    meeting: Meeting,
    phones: Callable[[], Phone],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two carers (m = 2) block the respite clause, which six others support: sent back; the
    library clause's amendment is adopted; the one voter in the north is too few to publish.
    A room vote follows. README.txt's recount prints results.json byte for byte, the charter's
    decisions included; its charter tabulate prints the round's results JSON, which is
    results.json's `charter`; audit verify passes. A consent row changed, a group's row
    removed (against the round's seal) or another charter version is refused; without the
    charter files the recount names the round."""
    assert upload(meeting, json.dumps(CHARTER)).status_code == 303
    meeting.post("/rounds", kind="charter", proposal=["respite", "library", "library-fortnight"])
    for _ in range(2):
        carer = phones()
        assert carer.segments("carer").status_code == 200
        assert (
            carer.vote({"respite": "5", "library": "3", "library-fortnight": "1"}).status_code
            == 200
        )
    north = phones()
    assert north.segments("north").status_code == 200
    assert north.vote({"respite": "2", "library": "5"}).status_code == 200
    for _ in range(6):
        assert (
            phones().vote({"respite": "1", "library": "4", "library-fortnight": "2"}).status_code
            == 200
        )
    meeting.close_round(1)
    meeting.open_round()  # round 2: a room vote
    for marks in ({"library": "want", "respite": "dont_want"}, {"toilets": "want"}):
        assert phones().vote(marks).status_code == 200
    meeting.close_round(2)

    files = bundle(meeting)
    sums = files["SHA256SUMS"].decode()
    for name in (*FILES, "charter-results-round-1.json"):
        assert f"  {name}\n" in sums
    for name, body in files.items():
        (tmp_path / name).write_bytes(body)
    monkeypatch.chdir(tmp_path)
    run = commands(files["README.txt"].decode())

    (recount,) = [c for c in run if c[0] == "recount"]
    assert recount[-5:] == ["--charter", "1", *FILES]
    code, out, err = _run(recount, capsys)
    assert (code, err) == (0, "")
    assert out.encode("utf-8") == files["results.json"]
    charter_round, room = json.loads(files["results.json"])["rounds"]
    assert [p["id"] for p in room["proposals"]] == ["library", "respite", "toilets"]
    decided = {c["clause"]: c for c in charter_round["charter"]["clauses"]}
    respite = decided["respite"]["wordings"][0]
    assert decided["respite"]["decision"] == "SENT_BACK"
    assert respite["groups"] == ["carer"] and "group-blocks" in respite["reasons"]
    assert decided["library"]["adopted"] == "library-fortnight"
    # Published: the carers' totals (2 = m); not the north's one voter.
    groups = files["charter-groups-round-1.csv"].decode().splitlines()
    assert groups[0] == "item,segment,voters,support,change,block"
    assert "respite,carer,2,0,0,2" in groups
    assert not [g for g in groups if ",north," in g]
    consent = files["charter-consent-round-1.csv"].decode()
    assert consent.startswith("voter,item,answer\n") and "carer" not in consent
    assert len(consent.splitlines()) == 1 + 9 + 9 + 8  # respite 9, library 9, amendment 8

    (tabulate,) = [c for c in run if c[:2] == ["charter", "tabulate"]]
    code, out, err = _run(tabulate, capsys)
    assert (code, err) == (0, "")
    assert out.encode("utf-8") == files["charter-results-round-1.json"]
    assert json.loads(out) == charter_round["charter"]
    (verify,) = [c for c in run if c[:2] == ["audit", "verify"]]
    assert _run(verify, capsys)[0] == 0

    without = recount[: recount.index("--charter")]
    code, out, err = _run(without, capsys)
    assert (code, out) == (2, "")
    assert err == (
        "covote recount: round 1: a charter round: give its files with --charter 1 "
        f"{' '.join(FILES)}\n"
    )

    # A consent row changed: the consent CSV is no longer the round's (sealed) ballots.
    lines = consent.splitlines()
    at = next(i for i, line in enumerate(lines) if line.endswith(",respite,5"))
    lines[at] = lines[at][: -len("5")] + "1"
    Path(FILES[1]).write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = _run(recount, capsys)
    assert (code, out) == (1, "")
    assert err.startswith(
        f"covote recount: the files disagree: {FILES[1]} is not round 1's ballots: voter "
    )
    # The tabulation alone catches it too: the carers' published blocks outnumber the room's.
    code, out, err = _run(tabulate, capsys)
    assert (code, out) == (1, "")
    assert err.startswith("covote charter tabulate: the files disagree: ")
    Path(FILES[1]).write_bytes(files[FILES[1]])

    # The carers' row removed: the tabulation alone would no longer see their block, but the
    # groups CSV is sealed when the round closes (true segments: no public file recounts it).
    Path(FILES[2]).write_text(
        "".join(f"{g}\n" for g in groups if not g.startswith("respite,carer,")), encoding="utf-8"
    )
    code, out, err = _run(tabulate, capsys)
    assert code == 0 and json.loads(out)["clauses"][0]["wordings"][0]["groups"] == []
    code, out, err = _run(recount, capsys)
    assert (code, out) == (1, "")
    assert err == (
        f"covote recount: {FILES[2]}: its rows do not match round 1's seal in the audit log "
        "(a row was changed, added or removed)\n"
    )
    Path(FILES[2]).write_bytes(files[FILES[2]])

    no_log = [a for a in recount if a not in ("--audit", "audit.jsonl")]
    code, out, err = _run(no_log, capsys)
    assert (code, out) == (2, "") and "--charter needs the audit log" in err
    # A room vote is not a charter round.
    code, out, err = _run([*without, "--charter", "2", *FILES], capsys)
    assert (code, out) == (2, "")
    assert "--charter 2: round 2 is not a charter round of the audit log" in err

    # Another charter version than the one the round asked (the log's charter.saved).
    other = json.loads(files[FILES[0]])
    other["title"] = "Ashdown Charter (edited)"
    Path(FILES[0]).write_text(json.dumps(other), encoding="utf-8")
    code, out, err = _run(recount, capsys)
    assert (code, out) == (1, "")
    assert f"{FILES[0]} is not the charter round 1 asked" in err


def _link(link_kind: str, /, **data: object) -> dict[str, object]:
    return {"kind": link_kind, "data": data}


def test_a_charter_rounds_version_block_share_and_seal_are_read_from_the_log() -> None:
    """The version in force is the last saved before the round opened (a later draft is not);
    the block share is the last set; a reopened round has no seal until it closes again, and
    its last close's seal is the one."""
    links = [
        _link("charter.saved", version=1, sha256="v1", clauses=2),
        _link("charter.rule", block_percent=20),
        _link("charter.saved", version=2, sha256="v2", clauses=2),
        _link("round.opened", round=1, proposals=["a"], kind="charter", keypads=False),
        _link("round.closed", round=1, ballots=3, charter_groups_sha256="s1"),
        _link("charter.saved", version=3, sha256="v3", clauses=2),
        _link("round.reopened", round=1),
    ]
    assert kind_rounds.charter_saved(links, "1") == "v2"
    assert kind_rounds.charter_saved(links, "2") is None  # never opened
    assert kind_rounds.charter_block_percent(links) == 20
    assert kind_rounds.charter_block_percent([]) == 10
    assert kind_rounds.charter_seal(links, "1") is None
    closed = [*links, _link("round.closed", round=1, ballots=4, charter_groups_sha256="s2")]
    assert kind_rounds.charter_seal(closed, "1") == "s2"
