"""Golden exports: the demo meetings' public record is the same bytes it was at 32d553a.

tests/fixtures/golden/ holds a database in which both `covote demo` meetings were run (phones,
keypads, double-keyed paper, changed ballots, closed, revealed and open rounds) and every export
the console offered for them then, downloaded over HTTP and listed in exports.json (made by
tests/fixtures/make-golden.py at 32d553a; tests/fixtures/README.md). This starts today's app on a
copy of that database (it upgrades it first if its schema is older, which must change no export),
downloads the same routes and compares them byte for byte; `covote recount` and `covote audit
verify` must still agree with the kept files.

Only the stable entry points are used: `app.main.create_app` and `app.config.Settings` through
tests/conftest.py, HTTP for everything else and the `covote` command as pyproject.toml declares
it, so the test keeps working while modules move (issue 12) and fails only when an export does.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FACILITATOR_KEY, LiveServer, make_settings

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "fixtures" / "golden"
INDEX: list[dict[str, str]] = json.loads((GOLDEN / "exports.json").read_text(encoding="utf-8"))
MEETINGS = sorted({int(e["route"].split("/")[2]) for e in INDEX})
DIFF_LINES = 60  # of the unified diff shown on a failure


@dataclass(frozen=True, slots=True)
class Download:
    status: int
    content_type: str
    disposition: str
    body: bytes


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Download]]:
    """Every kept route (and each meeting's bundle and report) downloaded from today's app,
    started once on a copy of the kept database."""
    data = tmp_path_factory.mktemp("golden")
    settings = make_settings(data)
    shutil.copyfile(GOLDEN / "covote.sqlite", settings.sqlite_path())
    routes = [e["route"] for e in INDEX]
    for mid in MEETINGS:
        routes += [f"/console/{mid}/export/bundle.zip", f"/console/{mid}/report.html"]
    got: dict[str, Download] = {}
    with LiveServer(settings) as server:
        f = server.browser()
        assert f.get(f"/facilitator?key={FACILITATOR_KEY}").status_code == 303
        for route in routes:
            r = f.get(route)
            got[route] = Download(
                r.status_code,
                r.headers.get("content-type", ""),
                r.headers.get("content-disposition", ""),
                r.content,
            )
    yield got


def kept(name: str) -> bytes:
    return (GOLDEN / name).read_bytes()


def explain(name: str, want: bytes, got: bytes) -> str:
    """A readable account of how `got` differs from the kept `want`: the start of a unified
    diff, or (when the text lines agree) the first differing byte."""
    old = want.decode("utf-8", "replace").splitlines(keepends=True)
    new = got.decode("utf-8", "replace").splitlines(keepends=True)
    diff = list(difflib.unified_diff(old, new, f"kept/{name}", f"now/{name}", n=2))
    if diff:
        shown = "".join(diff[:DIFF_LINES])
        more = f"\n... {len(diff) - DIFF_LINES} more diff lines" if len(diff) > DIFF_LINES else ""
        return f"{name} changed ({len(want)} -> {len(got)} bytes):\n{shown}{more}"
    at = next(
        (i for i, (a, b) in enumerate(zip(want, got, strict=False)) if a != b),
        min(len(want), len(got)),
    )
    return (
        f"{name} changed at byte {at} ({len(want)} -> {len(got)} bytes): "
        f"kept {want[at : at + 20]!r}, now {got[at : at + 20]!r}"
    )


def assert_same(name: str, want: bytes, got: bytes) -> None:
    if got != want:
        pytest.fail(explain(name, want, got), pytrace=False)


@pytest.mark.parametrize("entry", INDEX, ids=[e["file"] for e in INDEX])
def test_each_export_is_the_kept_file_byte_for_byte(
    downloads: dict[str, Download], entry: dict[str, str]
) -> None:
    """Same bytes, same media type, and the same file offered for the download (since issue 13
    named from the meeting's title and date: `meeting-1-round-2-ballots.csv` is now
    `{title}-{date}-round-2-ballots.csv`)."""
    got = downloads[entry["route"]]
    assert got.status == 200, got.body[:500]
    assert_same(entry["file"], kept(entry["file"]), got.body)
    assert got.content_type == entry["content_type"]
    what = entry["file"].split("-", 2)[2]  # meeting-N-{what}
    assert re.fullmatch(
        rf'attachment; filename="[a-z0-9-]+-\d{{4}}-\d{{2}}-\d{{2}}-{re.escape(what)}"',
        got.disposition,
    ), got.disposition


def meeting_files(mid: int) -> dict[str, str]:
    """The kept files of one meeting by the name the bundle gives them."""
    names: dict[str, str] = {}
    for e in INDEX:
        parts = e["route"].split("/")
        if int(parts[2]) != mid:
            continue
        what = parts[-1]
        if parts[3] == "export":
            names[what] = e["file"]
        elif what in ("ballots.csv", "groups.csv"):
            names[f"{what.removesuffix('.csv')}-round-{parts[4]}.csv"] = e["file"]
    return names


@pytest.mark.parametrize("mid", MEETINGS)
def test_the_bundle_holds_the_kept_files_and_their_sums(
    downloads: dict[str, Download], mid: int
) -> None:
    """The export bundle (its report and README carry the time they were made, so only the
    exports inside it are compared) has the kept bytes, and SHA256SUMS lists their hashes."""
    got = downloads[f"/console/{mid}/export/bundle.zip"]
    assert got.status == 200
    with zipfile.ZipFile(io.BytesIO(got.body)) as z:
        inside = {name: z.read(name) for name in z.namelist()}
    sums = {}
    for line in inside["SHA256SUMS"].decode().splitlines():
        digest, name = line.split("  ", 1)
        sums[name] = digest
    expected = meeting_files(mid)
    expected.pop("proposals.csv")  # not in the bundle (meeting.json has the proposals)
    for name, file in expected.items():
        assert name in inside, f"{name} missing from the bundle"
        assert_same(f"bundle.zip:{name}", kept(file), inside[name])
        assert sums[name] == hashlib.sha256(kept(file)).hexdigest()


@pytest.mark.parametrize("mid", MEETINGS)
def test_the_report_prints_the_kept_files_hashes(downloads: dict[str, Download], mid: int) -> None:
    """The results report names the kept ballots, groups and results by SHA-256 and the kept
    audit log by its last hash (the rest of the report carries the time it was made)."""
    got = downloads[f"/console/{mid}/report.html"]
    assert got.status == 200
    html = got.body.decode()
    files = meeting_files(mid)
    for name in ("ballots.csv", "groups.csv", "results.json"):
        assert hashlib.sha256(kept(files[name])).hexdigest() in html, name
    head = json.loads(kept(files["audit.jsonl"]).splitlines()[-1])["hash"]
    assert head in html


def covote(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the `covote` command as pyproject.toml declares it (`module:function`), in a fresh
    interpreter, wherever the integrator has put its module."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    module, _, function = project["project"]["scripts"]["covote"].partition(":")
    code = f"import sys; from {module} import {function} as m; sys.exit(m(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def recount(files: dict[str, str], ballots: str, groups: str) -> str:
    r = covote(
        "recount",
        files[ballots],
        "--groups",
        files[groups],
        "--meeting",
        files["meeting.json"],
        cwd=GOLDEN,
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.parametrize("mid", MEETINGS)
def test_recount_of_the_kept_files_prints_the_kept_results(mid: int) -> None:
    """`covote recount` on the kept ballots, groups and meeting file prints the kept results.json
    byte for byte, for the whole meeting and for each round on its own."""
    files = meeting_files(mid)
    out = recount(files, "ballots.csv", "groups.csv")
    assert_same(f"recount of {files['results.json']}", kept(files["results.json"]), out.encode())
    for e in INDEX:
        parts = e["route"].split("/")
        if int(parts[2]) == mid and parts[3] == "rounds" and parts[-1] == "results.json":
            n = parts[4]
            out = recount(files, f"ballots-round-{n}.csv", f"groups-round-{n}.csv")
            assert_same(f"recount of {e['file']}", kept(e["file"]), out.encode())


def test_recount_of_the_kept_pabulib_files_funds_what_the_kept_results_say() -> None:
    """`covote recount --pb` on each kept round's .pb gives that round's budget record in the
    kept results.json: the same funded proposals, shares and payments."""
    pbs = [e for e in INDEX if e["route"].endswith("/pabulib.pb")]
    assert pbs, "the fixture has a budget meeting"
    for e in pbs:
        results = e["route"].removesuffix("pabulib.pb") + "results.json"
        (entry,) = [x for x in INDEX if x["route"] == results]
        (record,) = json.loads(kept(entry["file"]))["rounds"]
        completion = record["completion"]
        r = covote("recount", "--pb", e["file"], "--completion", completion, cwd=GOLDEN)
        assert r.returncode == 0, r.stderr
        out: dict[str, Any] = json.loads(r.stdout)
        assert out == {key: record[key] for key in out}, e["file"]


@pytest.mark.parametrize("mid", MEETINGS)
def test_audit_verify_accepts_the_kept_log_and_files(mid: int) -> None:
    """The kept audit log's chain is intact, ends at its last hash, and every closed round's
    rows in the kept ballots.csv and groups.csv match the round's seal."""
    files = meeting_files(mid)
    head = json.loads(kept(files["audit.jsonl"]).splitlines()[-1])["hash"]
    r = covote(
        "audit",
        "verify",
        files["audit.jsonl"],
        "--ballots",
        files["ballots.csv"],
        "--groups",
        files["groups.csv"],
        "--meeting",
        files["meeting.json"],
        "--head",
        head,
        cwd=GOLDEN,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK: the chain is intact" in r.stdout
    assert "closed rounds match their seals" in r.stdout


def test_the_fixture_is_the_meeting_it_claims_to_be() -> None:
    """What the files must cover for the comparison to mean something (tests/fixtures/README.md):
    a proposal protected by its group, phones, keypads and paper (and a merged channel), an open
    round, and a budget round whose equal shares fund other proposals than most-WANTs-first."""
    by_file = {e["file"]: e for e in INDEX}
    room = json.loads(kept("meeting-1-round-1-results.json"))["rounds"][0]
    reasons = {(p["id"], p["category"], p["reason"]) for p in room["proposals"]}
    assert ("day-centre", "PROTECTED", "affected-group") in reasons
    channels = {
        line.split(",")[2]
        for mid in MEETINGS
        for line in kept(meeting_files(mid)["ballots.csv"]).decode().splitlines()[1:]
    }
    assert channels == {"phone", "keypad", "paper", "other"}
    assert "meeting-1-round-3-ballots.csv" in by_file
    budget = json.loads(kept("meeting-2-round-1-results.json"))["rounds"][0]
    assert budget["funded"] and budget["funded"] != budget["greedy"]
    assert budget["cuts"]
