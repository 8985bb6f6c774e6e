"""Privacy of the public record (README, Anonymity): no voter can be picked out through a segment,
a rare combination of segments, a channel or the audit log's order; a device never learns its
public pseudonym; every outcome still recounts exactly from the bundle; `covote audit verify`
passes on the meeting's own exports whatever clients send, and catches a tampered sealed round.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.cli import main as covote
from tests.conftest import LiveServer, Meeting, Phone, Socket
from tests.test_keypads import capture, import_keypads

PRIVACY_MEETING: dict[str, Any] = {
    "title": "Privacy",
    "rule": {"ratio": 2, "group_min": 3},
    "segments": [
        {"id": "resident", "label": "Resident", "protects": True},
        {"id": "parent", "label": "Parent or carer", "protects": True},
        {"id": "north", "label": "North", "protects": True},
    ],
    "proposals": [
        {"id": "school", "title": "School bus", "kind": "keep", "affected_groups": ["parent"]},
        {
            "id": "park",
            "title": "Park",
            "kind": "keep",
            "affected_groups": ["resident", "north"],
        },
    ],
}


def bundle(m: Meeting) -> dict[str, str]:
    """The export bundle's text files by name."""
    r = m.f.get(f"/console/{m.id}/export/bundle.zip")
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        return {n: z.read(n).decode() for n in z.namelist() if n != "report.pdf"}


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def voters(server: LiveServer, m: Meeting, *segment_sets: tuple[str, ...]) -> list[Phone]:
    """One phone per segment set, each having declared it."""
    out = []
    for segments in segment_sets:
        phone = Phone(server.browser(), m.code)
        if segments:
            assert phone.segments(*segments).status_code == 200
        out.append(phone)
    return out


def recount_folder(folder: Path, *groups: str) -> str:
    """`covote recount` on the bundle's files in `folder` (with `groups` as extra arguments)."""
    return subprocess.run(
        [
            *(sys.executable, "-m", "app.cli", "recount", "ballots.csv"),
            *groups,
            *("--meeting", "meeting.json"),
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_a_lone_parent_cannot_be_found_in_any_export(
    server: LiveServer, facilitator: httpx.Client
) -> None:
    """One "parent or carer" (fewer than m): no file ties that segment to a row or a count."""
    m = Meeting(facilitator, PRIVACY_MEETING)
    m.open_round("school", "park")
    phones = voters(server, m, *[("resident",)] * 5, ("resident", "parent"))
    for i, phone in enumerate(phones):
        school = "dont_want" if i >= 4 else "want"  # the parent and one other resident
        assert phone.vote({"school": school, "park": "want"}).status_code == 200
    m.close_round(1)
    files = bundle(m)
    ballots = rows(files["ballots.csv"])
    assert {r["segments"] for r in ballots} == {""}
    # The parent's ballot is one of two identical ones: nothing tells them apart.
    against = {r["voter"] for r in ballots if r["mark"] == "dont_want"}
    assert len(against) == 2
    patterns = {
        tuple((r["channel"], r["proposal"], r["mark"]) for r in ballots if r["voter"] == v)
        for v in against
    }
    assert len(patterns) == 1
    assert all(g["group"] != "parent" for g in rows(files["groups.csv"]))
    school = json.loads(files["results.json"])["rounds"][0]["proposals"][0]
    assert school["affected"][0]["group"] == "parent"
    assert (school["affected"][0]["V"], school["affected"][0]["W"]) == (None, None)
    set_up = {"meeting.created", "meeting.settings", "segment.saved", "proposals.imported"}
    for line in files["audit.jsonl"].splitlines():
        link = json.loads(line)
        assert link["kind"] in set_up or "parent" not in line, line


def test_a_rare_combination_of_two_common_segments_is_not_published(
    server: LiveServer, facilitator: httpx.Client
) -> None:
    """Three "north" and three "resident" voters, one of them both: the pair is never written."""
    m = Meeting(facilitator, PRIVACY_MEETING)
    m.open_round("park")
    both = ("north", "resident")
    phones = voters(server, m, ("north",), ("north",), both, ("resident",), ("resident",))
    for phone in phones:
        assert phone.vote({"park": "want"}).status_code == 200
    m.close_round(1)
    files = bundle(m)
    assert {r["segments"] for r in rows(files["ballots.csv"])} == {""}
    published = {(g["group"], g["voters"]) for g in rows(files["groups.csv"])}
    assert published == {("north", "3"), ("resident", "3")}  # single groups of m, no pairs
    assert "north;resident" not in "".join(files.values())


def test_every_outcome_recounts_exactly_from_the_bundle_using_the_group_totals(
    server: LiveServer, facilitator: httpx.Client, tmp_path: Path
) -> None:
    """Three parents protect the school bus against seven: the bundle's README commands give
    results.json byte for byte, and only with groups.csv (without it the bus is rejected)."""
    m = Meeting(facilitator, PRIVACY_MEETING)
    m.open_round("school", "park")
    phones = voters(server, m, *[("parent",)] * 3, *[()] * 7)
    for i, phone in enumerate(phones):
        mark = "want" if i < 3 else "dont_want"
        assert phone.vote({"school": mark}).status_code == 200
    m.close_round(1)
    files = bundle(m)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert "--groups groups.csv" in files["README.txt"]
    out = recount_folder(tmp_path, "--groups", "groups.csv")
    assert out == files["results.json"]
    school = json.loads(out)["rounds"][0]["proposals"][0]
    assert (school["category"], school["groups"]) == ("PROTECTED", ["parent"])
    without = json.loads(recount_folder(tmp_path))["rounds"][0]["proposals"][0]
    assert without["category"] == "REJECTED"


def test_recount_refuses_group_totals_the_ballots_contradict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A group with more WANTs than the room is a failed check (exit 1), not a traceback."""
    (tmp_path / "meeting.json").write_text(json.dumps(PRIVACY_MEETING))
    ballots = "round,voter,channel,segments,proposal,mark\n" + "".join(
        f"1,v-{i},phone,,school,dont_want\n" for i in range(4)
    )
    (tmp_path / "ballots.csv").write_text(ballots)
    header = "round,group,proposal,voters,want,dont_want\n"
    (tmp_path / "groups.csv").write_text(header + "1,parent,school,3,3,0\n")
    args = [str(tmp_path / "ballots.csv"), "--groups", str(tmp_path / "groups.csv")]
    assert covote(["recount", *args, "--meeting", str(tmp_path / "meeting.json")]) == 1
    assert "more votes than the room" in capsys.readouterr().err
    meeting_arg = ["--meeting", str(tmp_path / "meeting.json")]
    assert covote(["recount", str(tmp_path / "ballots.csv"), *meeting_arg]) == 0
    assert "no --groups file was given" in capsys.readouterr().err  # a note, not silence
    (tmp_path / "groups.csv").write_text(header + "1,parent,school,2,2,0\n1,north,school,x,0,0\n")
    assert covote(["recount", *args, "--meeting", str(tmp_path / "meeting.json")]) == 2
    err = capsys.readouterr().err
    assert "groups.csv:2: voters: a group with fewer than 3 voters" in err
    assert 'groups.csv:3: group: "north" is not an affected group of "school"' in err
    assert "groups.csv:3: voters: must be a whole number" in err


def test_no_attendee_response_carries_the_published_pseudonym(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Pages, API answers and WebSocket frames a voter's browser gets never name its row."""
    meeting.open_round()
    phone = phones()
    seen = [phone.c.get(f"/m/{meeting.code}").text]
    seen.append(phone.segments("carer").text)
    seen.append(phone.vote({"library": "want"}).text)
    seen.append(phone.c.get(f"/api/m/{meeting.code}").text)
    seen.append(
        phone.c.post(f"/api/m/{meeting.code}/join", headers={"X-Covote-CSRF": phone.csrf}).text
    )
    with Socket(server, meeting.code, phone.c) as ws:
        ws.send({"type": "hello", "last_seq": None})
        you = ws.until(lambda msg: msg["type"] == "you")
        seen.append(json.dumps(you))
        ws.send(
            {
                "type": "cast",
                "ballot_id": uuid.uuid4().hex,
                "round": phone.round_id(),
                "marks": {"library": "dont_want"},
            }
        )
        seen.append(json.dumps(ws.until(lambda msg: msg["type"] == "ack")))
    seen.append(phone.c.get(f"/m/{meeting.code}").text)
    meeting.close_round(1)
    meeting.reveal(1)
    seen.append(phone.c.get(f"/api/m/{meeting.code}").text)
    exported = rows(meeting.f.get(f"/console/{meeting.id}/export/ballots.csv").text)
    pseudonyms = {r["voter"] for r in exported}
    assert len(pseudonyms) == 1
    for text in seen:
        assert not any(p in text for p in pseudonyms), text[:200]
        assert not re.search(r"\bv-[0-9a-f]{10}\b", text), text[:200]  # nor the stored one
    # The browser's own handle stays the same and is in no public file.
    assert re.fullmatch(r"me-[0-9a-f]{16}", you["voter"])
    assert phone.state()["you"]["voter"] == you["voter"]
    assert not any(you["voter"] in text for text in bundle(meeting).values())


def test_the_log_holds_no_voter_order_or_seat_label_next_to_a_ballot(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Ballot links carry a round and an opaque commitment only; no link names a voter; keypad
    links carry a label only; ballots.csv is in pseudonym order and merges a lone keypad."""
    import_keypads(meeting, "keypad,label,segments\nwedge:7,Seat 7,carer\n")
    meeting.post("/rounds", proposal=["library"], keypads="on")
    assert capture(meeting, "7 1").status_code == 200
    for _ in range(3):
        assert phones().vote({"library": "dont_want"}).status_code == 200
    meeting.close_round(1)
    ballots = rows(meeting.f.get(f"/console/{meeting.id}/export/ballots.csv").text)
    pseudonyms = [r["voter"] for r in ballots]
    assert len(set(pseudonyms)) == 4
    assert pseudonyms == sorted(pseudonyms)  # not the order they were cast in
    assert "keypad" not in {r["channel"] for r in ballots}  # one keypad voter < m = 2
    log = meeting.f.get(f"/console/{meeting.id}/export/audit.jsonl").text
    links = [json.loads(line) for line in log.splitlines()]
    assert not any(p in log for p in pseudonyms)
    for link in links:
        assert "voter" not in link["data"], link
        if link["kind"] == "ballot":
            assert set(link["data"]) == {"round", "commit"}
            assert re.fullmatch(r"[0-9a-f]{64}", link["data"]["commit"])
        if link["kind"].startswith("keypad."):
            assert set(link["data"]) == {"label"}
    commits = [link["data"]["commit"] for link in links if link["kind"] == "ballot"]
    assert len(commits) == 4 == len(set(commits))
    closed = next(link for link in links if link["kind"] == "round.closed")
    assert closed["data"]["ballots"] == 4


def test_verify_detects_tampered_group_totals_and_notes_an_open_round(
    server: LiveServer,
    facilitator: httpx.Client,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A changed groups.csv fails the sealed round's check; an open round is not yet sealed."""
    m = Meeting(facilitator, PRIVACY_MEETING)
    m.open_round("park")
    for phone in voters(server, m, *[("north",)] * 3):
        assert phone.vote({"park": "want"}).status_code == 200
    m.close_round(1)
    m.open_round("school")
    assert voters(server, m, ())[0].vote({"school": "want"}).status_code == 200
    files = bundle(m)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    args = ["audit", "verify", str(tmp_path / "audit.jsonl"), "--ballots"]
    args += [str(tmp_path / "ballots.csv"), "--groups", str(tmp_path / "groups.csv")]
    args += ["--meeting", str(tmp_path / "meeting.json")]
    assert covote(args) == 0
    out = capsys.readouterr().out
    assert "round 2 is open: not yet sealed" in out
    assert "the rows of 1 closed rounds match their seals" in out
    groups = tmp_path / "groups.csv"
    groups.write_text(groups.read_text().replace(",3,3,0", ",3,2,0"))
    assert covote(args) == 1
    assert (
        "round 1: the group totals' rows do not match the round's seal" in capsys.readouterr().err
    )


MARKS = st.dictionaries(
    st.sampled_from(["library", "respite", "toilets"]),
    st.sampled_from(["want", "dont_want", "neutral"]),
    min_size=1,
)
CASTS = st.lists(
    st.tuples(st.integers(0, 1), st.sampled_from(["reused-id-1", "reused-id-2"]), MARKS),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(casts=CASTS)
@example(  # the no-JavaScript form after Back + Save: one id, other marks, then the first again
    casts=[
        (0, "reused-id-1", {"library": "want"}),
        (0, "reused-id-1", {"library": "dont_want"}),
        (0, "reused-id-1", {"library": "want"}),
    ]
)
def test_verify_passes_on_the_meetings_own_exports_whatever_ids_clients_reuse(
    server: LiveServer,
    facilitator: httpx.Client,
    tmp_path_factory: pytest.TempPathFactory,
    casts: list[tuple[int, str, dict[str, str]]],
) -> None:
    """Any sequence of casts with reused ballot ids: every stored version is audited (a resend
    only when its marks are identical) and verify passes on the exports."""
    m = Meeting(facilitator)
    m.open_round()
    phones = [Phone(server.browser(), m.code) for _ in range(2)]
    stored: dict[int, tuple[str, dict[str, str]]] = {}
    versions = 0
    for who, ballot_id, marks in casts:
        assert phones[who].vote(marks, ballot_id=ballot_id).status_code == 200
        versions += stored.get(who) != (ballot_id, marks)
        stored[who] = (ballot_id, marks)
    m.close_round(1)
    folder = tmp_path_factory.mktemp("exports")
    for name in ("audit.jsonl", "ballots.csv", "groups.csv", "meeting.json"):
        (folder / name).write_text(facilitator.get(f"/console/{m.id}/export/{name}").text)
    log = (folder / "audit.jsonl").read_text()
    assert sum(json.loads(line)["kind"] == "ballot" for line in log.splitlines()) == versions
    args = ["audit", "verify", str(folder / "audit.jsonl"), "--ballots"]
    args += [str(folder / "ballots.csv"), "--groups", str(folder / "groups.csv")]
    assert covote([*args, "--meeting", str(folder / "meeting.json")]) == 0


# --- pure: the recount is exact without any voter's segments --------------------------------

SEGMENT_IDS = ("resident", "parent", "north")


@settings(max_examples=150, deadline=None)
@given(
    ballots=st.lists(
        st.tuples(
            st.frozensets(st.sampled_from(SEGMENT_IDS)),
            st.sampled_from(["want", "dont_want", "neutral"]),
            st.sampled_from(["want", "dont_want", "neutral"]),
        ),
        min_size=1,
        max_size=25,
    ),
    group_min=st.integers(1, 6),
)
def test_group_totals_of_m_or_more_recount_every_outcome_exactly(
    ballots: list[tuple[frozenset[str], str, str]], group_min: int
) -> None:
    """For any ballots: the file without segments plus the published group totals (groups of
    at least m only) gives exactly the result of counting with every voter's segments."""
    from app.record import csvfiles, records, results
    from app.rules import tally

    spec = {**PRIVACY_MEETING, "rule": {"ratio": 2, "group_min": group_min}}
    meeting = records.parse_meeting(json.dumps(spec))
    full = [
        csvfiles.BallotRow("1", f"v-{i}", "phone", tuple(sorted(segs)), pid, tally.Mark(mark))
        for i, (segs, school, park) in enumerate(ballots)
        for pid, mark in (("school", school), ("park", park))
    ]
    expected = results.recount(meeting, full)
    anonymous = [
        csvfiles.BallotRow(r.round, r.voter, r.channel, (), r.proposal, r.mark) for r in full
    ]
    published = []
    for p in expected["rounds"][0]["proposals"]:
        for a in p["affected"]:
            if not a["suppressed"]:
                assert a["V"] is not None and a["W"] is not None and a["D"] is not None
                published.append(
                    csvfiles.GroupRow("1", a["group"], p["id"], a["V"], a["W"], a["D"])
                )
    assert all(g.voters >= group_min for g in published)
    text = csvfiles.write_groups_csv(published)
    assert csvfiles.read_groups_csv(text, meeting) == published
    assert results.recount(meeting, anonymous, published) == expected


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_the_groups_reader_never_raises_anything_but_a_record_error(text: str) -> None:
    """Any text: rows or a RecordError with lines and reasons, never another exception."""
    from app.record import csvfiles, records

    meeting = records.parse_meeting(json.dumps(PRIVACY_MEETING))
    header = "round,group,proposal,voters,want,dont_want\n"
    for candidate in (text, header + text):
        try:
            csvfiles.read_groups_csv(candidate, meeting)
        except records.RecordError as e:
            assert e.errors


@pytest.mark.parametrize(
    ("counts", "labels"),
    [
        ({"phone": 30, "keypad": 1}, {"phone": "other", "keypad": "other"}),
        (
            {"phone": 30, "keypad": 3, "paper": 2},
            {"phone": "phone", "keypad": "other", "paper": "other"},
        ),
        ({"phone": 30, "keypad": 5}, {"phone": "phone", "keypad": "keypad"}),
        ({"phone": 2}, {"phone": "other"}),
        ({}, {}),
    ],
)
def test_a_channel_below_m_is_never_written_alone(
    counts: dict[str, int], labels: dict[str, str]
) -> None:
    """Channels below m (here 5) become "other", growing "other" until it reaches m."""
    from app.record.anonymity import channel_labels

    assert channel_labels(counts, 5) == labels
    sizes: dict[str, int] = {}
    for channel, label in labels.items():
        sizes[label] = sizes.get(label, 0) + counts[channel]
    assert all(n >= 5 for n in sizes.values()) or set(labels.values()) == {"other"}


def test_a_log_written_before_seals_is_still_checked_by_replay() -> None:
    """A round closed without a seal (older logs) is checked by replaying its ballot links."""
    from app.record import chain, csvfiles
    from app.rules import tally

    links: list[dict[str, Any]] = [
        {"kind": "round.opened", "data": {"round": 1, "proposals": ["school"]}},
        {"kind": "voter.segments", "data": {"voter": "v-1", "segments": ["parent"]}},
        {
            "kind": "ballot",
            "data": {"round": 1, "voter": "v-1", "channel": "phone", "marks": {"school": "want"}},
        },
        {"kind": "round.closed", "data": {"round": 1, "turnout": {}}},
    ]
    row = csvfiles.BallotRow("1", "v-1", "phone", ("parent",), "school", tally.Mark.WANT)
    assert chain.check_seals(links, [row], None).problems == []
    changed = csvfiles.BallotRow("1", "v-1", "phone", ("parent",), "school", tally.Mark.NEUTRAL)
    assert chain.check_seals(links, [changed], None).problems


def test_a_meeting_from_an_older_database_gets_its_own_record_secret(tmp_path: Path) -> None:
    """Upgrading a database made by release ad72a22 draws a distinct secret for each meeting."""
    import shutil

    from sqlalchemy import text

    from app.voting.db import create_schema, make_engine

    fixture = Path(__file__).parent / "fixtures" / "release-ad72a22.sqlite"
    shutil.copyfile(fixture, tmp_path / "old.db")
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    create_schema(engine)
    with engine.begin() as conn:
        secrets = [s for (s,) in conn.execute(text("SELECT record_secret FROM meeting"))]
    assert len(set(secrets)) == len(secrets) == 2
    assert all(isinstance(s, str) and re.fullmatch(r"[0-9a-f]{64}", s) for s in secrets)
    engine.dispose()
