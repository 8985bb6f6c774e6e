"""The audit log: every outcome change is chained, tampering is detected, and every closed
round's seal matches the exported ballot and group files (`covote audit verify`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli import main as covote
from app.record import chain
from tests.conftest import Meeting, Phone


def links_of(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def dump(links: list[dict[str, Any]]) -> str:
    return "".join(chain.canonical(link) + "\n" for link in links)


def rechain(links: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a forger who knows the format would do: recompute every hash after an edit."""
    prev = chain.GENESIS
    out = []
    for seq, link in enumerate(links, start=1):
        link = {**link, "seq": seq, "prev": prev}
        link["hash"] = chain.link_hash(seq, link["at"], link["kind"], link["data"], prev)
        prev = str(link["hash"])
        out.append(link)
    return out


def run_meeting(meeting: Meeting, phones: Callable[[], Phone]) -> None:
    """Three phones vote (one changes its mind), the round closes and is revealed."""
    meeting.open_round()
    first, second, third = phones(), phones(), phones()
    assert first.segments("carer").status_code == 200
    assert first.vote({"library": "want", "respite": "want"}).status_code == 200
    assert first.vote({"library": "dont_want", "respite": "want"}).status_code == 200
    # A resend of the same ballot (a phone that reconnected) is not a new version.
    for _ in range(2):
        assert second.vote({"toilets": "dont_want"}, ballot_id="resent-ballot-1").status_code == 200
    assert third.segments("north", "staff").status_code == 200
    assert (
        third.vote({"library": "want", "respite": "neutral", "toilets": "want"}).status_code == 200
    )
    meeting.close_round(1)
    meeting.reveal(1)


@pytest.fixture
def exported(
    meeting: Meeting, phones: Callable[[], Phone], facilitator: httpx.Client, tmp_path: Path
) -> Path:
    run_meeting(meeting, phones)
    for name in ("audit.jsonl", "ballots.csv", "groups.csv", "meeting.json"):
        r = facilitator.get(f"/console/{meeting.id}/export/{name}")
        assert r.status_code == 200
        (tmp_path / name).write_bytes(r.content)
    return tmp_path


def verify(
    folder: Path, capsys: pytest.CaptureFixture[str], *extra: str, log: str = "audit.jsonl"
) -> tuple[int, str, str]:
    code = covote(
        [
            "audit",
            "verify",
            str(folder / log),
            "--ballots",
            str(folder / "ballots.csv"),
            "--groups",
            str(folder / "groups.csv"),
            "--meeting",
            str(folder / "meeting.json"),
            *extra,
        ]
    )
    out, err = capsys.readouterr()
    return code, out, err


def exports_verify(meeting: Meeting, folder: Path, capsys: pytest.CaptureFixture[str]) -> int:
    """`covote audit verify` on the meeting's own exports; its exit status."""
    for name in ("audit.jsonl", "ballots.csv", "groups.csv", "meeting.json"):
        (folder / name).write_bytes(meeting.f.get(f"/console/{meeting.id}/export/{name}").content)
    code, out, err = verify(folder, capsys)
    assert code == 0, out + err
    return code


def test_the_log_records_each_outcome_change_in_order(exported: Path) -> None:
    """Set-up, segments, every stored ballot version, the close with its turnout, the reveal."""
    links = links_of((exported / "audit.jsonl").read_text())
    kinds = [link["kind"] for link in links]
    assert kinds[0] == "meeting.created"
    # The changed ballot is logged twice (history is kept); the resend once.
    assert kinds.count("ballot") == 4
    assert kinds.count("voter.segments") == 2
    assert kinds[-2:] == ["round.closed", "round.revealed"]
    closed = next(link for link in links if link["kind"] == "round.closed")
    assert closed["data"]["turnout"]["voted"] == 3
    assert closed["data"]["turnout"]["by_channel"]["phone"] == 3
    # Ballots and segment declarations carry no time: the log cannot be lined up against when
    # someone was seen voting. Facilitator actions are timed.
    for link in links:
        untimed = link["kind"] in ("ballot", "voter.segments")
        assert (link["at"] is None) == untimed, link


def test_the_chain_format_is_pure_and_round_trips() -> None:
    """A link's time is UTC to the second whatever zone it is given in (naive: UTC), and a log
    written with `link_line` is read back intact by `verify`, with every hash as written."""
    east = timezone(timedelta(hours=2))
    assert chain.time_text(datetime(2026, 11, 25, 21, 2, 11, 999, tzinfo=east)) == (
        "2026-11-25T19:02:11Z"
    )
    assert chain.time_text(datetime(2026, 11, 25, 19, 2, 11)) == "2026-11-25T19:02:11Z"
    prev, text = chain.GENESIS, ""
    for seq, (at, kind, data) in enumerate(
        [("2026-11-25T19:02:11Z", "round.opened", {"round": 1}), (None, "ballot", {"round": 1})],
        start=1,
    ):
        digest = chain.link_hash(seq, at, kind, data, prev)
        text += chain.link_line(seq, at, kind, chain.canonical(data), prev, digest)
        prev = digest
    checked = chain.verify(text)
    assert checked.problems == [] and checked.head == prev and len(checked.links) == 2
    assert text.splitlines()[1] == chain.canonical(checked.links[1])


def test_verify_accepts_the_exported_log_and_ballots(
    exported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The meeting's own exports pass: chain, head, and the closed round's seal."""
    head = links_of((exported / "audit.jsonl").read_text())[-1]["hash"]
    code, out, err = verify(exported, capsys, "--head", str(head))
    assert code == 0, err
    assert "the rows of 1 closed rounds match their seals" in out
    assert "OK: the chain is intact" in out


def test_an_edited_ballot_link_is_detected(
    exported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Changing a ballot link's commitment breaks its hash."""
    links = links_of((exported / "audit.jsonl").read_text())
    i = next(i for i, link in enumerate(links) if link["kind"] == "ballot")
    links[i]["data"]["commit"] = "0" * 64
    (exported / "edited.jsonl").write_text(dump(links))
    code, _, err = verify(exported, capsys, log="edited.jsonl")
    assert code == 1
    assert f"edited.jsonl:{i + 1}: hash does not match the link's contents (edited)" in err


def test_a_removed_link_is_detected(exported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    links = links_of((exported / "audit.jsonl").read_text())
    del links[3]
    (exported / "cut.jsonl").write_text(dump(links))
    code, _, err = verify(exported, capsys, log="cut.jsonl")
    assert code == 1
    assert "cut.jsonl:4: link 5 where link 4 should be" in err
    assert "cut.jsonl:4: prev does not match the hash of the link before it" in err


def test_a_rewritten_chain_is_caught_by_the_published_head(
    exported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rehashing the whole chain after changing a round's seal passes the chain check, but the
    last hash no longer equals the one in the report, and the seal no longer matches the file."""
    original = links_of((exported / "audit.jsonl").read_text())
    head = str(original[-1]["hash"])
    links = [dict(link) for link in original]
    closed = next(i for i, link in enumerate(links) if link["kind"] == "round.closed")
    data = json.loads(json.dumps(links[closed]["data"]))
    data["ballots_sha256"] = "0" * 64
    links[closed]["data"] = data
    (exported / "forged.jsonl").write_text(dump(rechain(links)))
    code, _, err = verify(exported, capsys, "--head", head, log="forged.jsonl")
    assert code == 1
    assert "not " + head in err
    assert "do not match the round's seal" in err


def test_cutting_links_off_the_end_is_caught_by_the_head(
    exported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    links = links_of((exported / "audit.jsonl").read_text())
    (exported / "short.jsonl").write_text(dump(links[:-1]))
    code, _, err = verify(exported, capsys, "--head", str(links[-1]["hash"]), log="short.jsonl")
    assert code == 1
    assert "links were cut off the end" in err


def test_an_edited_ballot_file_does_not_match_the_log(
    exported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One changed mark in ballots.csv no longer matches the closed round's seal."""
    csv_path = exported / "ballots.csv"
    lines = csv_path.read_text().splitlines()
    row = next(i for i, line in enumerate(lines) if line.endswith(",library,dont_want"))
    lines[row] = lines[row].replace(",library,dont_want", ",library,want")
    csv_path.write_text("\n".join(lines) + "\n")
    code, _, err = verify(exported, capsys)
    assert code == 1
    assert "round 1: the ballot file's rows do not match the round's seal" in err


def test_verify_reports_bad_input_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert covote(["audit", "verify", str(tmp_path / "missing.jsonl")]) == 2
    assert "missing.jsonl" in capsys.readouterr().err
    (tmp_path / "junk.jsonl").write_text('{"seq": 1}\nnot json\n')
    assert covote(["audit", "verify", str(tmp_path / "junk.jsonl")]) == 1
    err = capsys.readouterr().err
    assert "junk.jsonl:1: a link needs seq (number), at, kind, data (object), prev and hash" in err
    assert "junk.jsonl:2: not JSON" in err
    with pytest.raises(SystemExit):
        covote(["audit", "verify", str(tmp_path / "junk.jsonl"), "--ballots", "b.csv"])
    assert "--ballots and --meeting go together" in capsys.readouterr().err


def test_set_up_edits_are_logged(meeting: Meeting, facilitator: httpx.Client) -> None:
    meeting.post("/segments", key="youth", label="Young people", protects="on")
    meeting.post("/settings", title="Renamed", ratio="3", group_min="2")
    text = facilitator.get(f"/console/{meeting.id}/export/audit.jsonl").text
    links = links_of(text)
    saved = next(link for link in links if link["kind"] == "segment.saved")
    assert saved["data"] == {"id": "youth", "label": "Young people", "protects": True}
    settings = next(link for link in links if link["kind"] == "meeting.settings")
    assert settings["data"]["rule"] == {"ratio": 3, "group_min": 2}
    assert not chain.verify(text).problems


def test_the_chain_never_forks_under_concurrent_ballots_and_edits(
    meeting: Meeting, phones: Callable[[], Phone], facilitator: httpx.Client
) -> None:
    """Ballots (group commit) and console edits append to one chain at the same time."""
    meeting.open_round()
    voters = [phones() for _ in range(12)]
    errors: list[str] = []

    def vote(phone: Phone) -> None:
        for mark in ("want", "dont_want", "neutral"):
            r = phone.vote({"library": mark})
            if r.status_code != 200:
                errors.append(r.text)

    threads = [threading.Thread(target=vote, args=(p,)) for p in voters]
    for t in threads:
        t.start()
    for i in range(5):
        meeting.post("/segments", key=f"extra{i}", label=f"Extra {i}", protects="on")
    for t in threads:
        t.join()
    assert errors == []
    text = facilitator.get(f"/console/{meeting.id}/export/audit.jsonl").text
    checked = chain.verify(text)
    assert checked.problems == []
    kinds = [link["kind"] for link in checked.links]
    assert kinds.count("ballot") == 36
    assert kinds.count("segment.saved") == 5
