"""The Co-Production Lab in the public record (issue 16): the export bundle's Lab files and
README command, results.json, the results report's Lab section and the moderation audit links."""

from __future__ import annotations

import io
import json
import re
import shlex
import zipfile
from fractions import Fraction
from pathlib import Path

import pytest

from app import cli
from app.record import report_lab
from app.rules import lab as rules
from tests.conftest import LiveServer, Meeting, Phone
from tests.test_lab_room import add_challenge, challenge_keys, ideas, suggest
from tests.test_report import pdf_text

HIDDEN_TEXT = "My neighbour at 12 Oak Street never helps"
REASON = "The only idea that meets the savings target"


def flat(text: str) -> str:
    return " ".join(text.split())


def commands(readme: str) -> list[list[str]]:
    """Every `covote ...` command README.txt gives, as argument lists (continuations joined)."""
    joined = readme.replace("\\\n", " ")
    return [
        shlex.split(line)[1:] for line in joined.splitlines() if line.strip().startswith("covote ")
    ]


def run_lab(server: LiveServer, meeting: Meeting) -> dict[str, str]:
    """Two challenges (one in Welsh too); three ideas keyed from flip charts, one from a phone
    with its author's pledge that is merged into another, one hidden (personal details), one
    corrected; carers, whom closing the centre affects, reject it; the room rates; the round
    closes and the rejected idea is shortlisted with a reason. Returns the ideas' keys."""
    add_challenge(meeting, "Respite for carers", "Seibiant i ofalwyr")
    add_challenge(meeting, "Keep the library open")
    respite, library = challenge_keys(meeting)
    meeting.post(
        "/lab/ideas",
        text_1="Close the day centre",
        challenge_1=respite,
        kind_1="cut_cost",
        text_2="Volunteer sitters",
        challenge_2=respite,
        kind_2="co_deliver",
        text_3="Run it form the school",
        challenge_3=library,
        kind_3="redesign",
    )
    url = server.app.state.services.settings.resolved_database_url()
    centre, sitters, school = ideas(url, meeting.id)
    author = Phone(server.browser(), meeting.code)
    suggest(author.c, meeting.code, challenge=respite, text="Volunteer sitting", help="yes")
    other = Phone(server.browser(), meeting.code)
    suggest(other.c, meeting.code, challenge=library, text=HIDDEN_TEXT)
    twin, rude = ideas(url, meeting.id)[3:]
    meeting.post(f"/lab/ideas/{twin.key}/merge", into=sitters.key)
    meeting.post(f"/lab/ideas/{rude.key}/hide")
    meeting.post(f"/lab/ideas/{school.key}/edit", text="Run it from the school")
    meeting.post(f"/lab/ideas/{centre.key}/affected", segment=["carer"])
    meeting.post("/rounds", kind="lab")
    for segments, ratings in (
        (["carer"], ("disagree", "agree", "agree")),
        (["carer"], ("disagree", "agree", "pass")),
        (["staff"], ("agree", "agree", "disagree")),
        (["staff"], ("agree", "agree", "disagree")),
        ([], ("agree", "disagree", "disagree")),
    ):
        p = Phone(server.browser(), meeting.code)
        if segments:
            assert p.segments(*segments).status_code == 200
        keys = (centre.key, sitters.key, school.key)
        assert p.vote(dict(zip(keys, ratings, strict=True))).status_code == 200
    # the merged idea's rating counts for the one it joined (the author rated only the twin)
    assert author.vote({twin.key: "agree"}).status_code == 200
    meeting.close_round(1)
    meeting.post(
        "/lab/shortlist",
        idea=[centre.key, sitters.key],
        **{f"reason:{centre.key}": REASON},
    )
    return {
        "centre": centre.key,
        "sitters": sitters.key,
        "school": school.key,
        "twin": twin.key,
        "rude": rude.key,
    }


def bundle(meeting: Meeting, lang: str = "en") -> dict[str, bytes]:
    r = meeting.f.get(f"/console/{meeting.id}/export/bundle.zip?lang={lang}")
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_the_bundle_carries_the_labs_files_and_its_readme_commands_reproduce_them(
    server: LiveServer,
    meeting: Meeting,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The bundle has the round's ideas, votes and groups CSV and results JSON (the Lab page's
    downloads, byte for byte), listed in SHA256SUMS; README.txt's `covote lab tabulate`, with
    the meeting's m, R and seed, prints the results file byte for byte; its recount (with the
    audit log) prints results.json, whose Lab entry is each answer's count per idea; its audit
    verify passes; no file holds the hidden idea's text."""
    keys = run_lab(server, meeting)
    files = bundle(meeting)
    lab_names = [
        "lab-ideas-round-1.csv",
        "lab-votes-round-1.csv",
        "lab-groups-round-1.csv",
        "lab-results-round-1.json",
    ]
    for name in lab_names:
        assert name in files, name
        page = meeting.f.get(f"/console/{meeting.id}/lab/{name.replace('-round-1', '')}")
        assert page.content == files[name], name
    sums = files["SHA256SUMS"].decode()
    assert all(f"  {name}\n" in sums for name in lab_names)
    for name, body in files.items():
        (tmp_path / name).write_bytes(body)
    readme = files["README.txt"].decode()
    run = commands(readme)
    tabulate = [c for c in run if c[:2] == ["lab", "tabulate"]]
    assert len(tabulate) == 1
    assert tabulate[0][-6:] == ["--m", "2", "--r", "2", "--seed", "0"]
    monkeypatch.chdir(tmp_path)
    for args in run:
        args = [a.replace("-round-N", "-round-1") for a in args]
        assert cli.main(args) == 0, args
        out, _err = capsys.readouterr()
        if args[0] == "lab":
            assert out.encode("utf-8") == files["lab-results-round-1.json"]
        if args[0] == "recount":  # the Lab round's rows, counted as its kind counts them
            assert out.encode("utf-8") == files["results.json"]
    results = json.loads(files["results.json"])
    (entry,) = results["rounds"]
    counts = {a["id"]: a["counts"] for a in entry["answers"]}
    # the twin's rating counts for sitters: five agree of six raters
    assert counts[keys["sitters"]] == {"agree": 5, "disagree": 1, "pass": 0}
    assert keys["twin"] not in counts and keys["rude"] not in counts
    ideas_csv = files["lab-ideas-round-1.csv"].decode()
    assert f"{keys['twin']},c1,redesign,merged,{keys['sitters']}," in ideas_csv
    assert f"{keys['rude']},c2,redesign,hidden,,,," in ideas_csv
    for name, body in files.items():
        if name != "report.pdf":
            assert HIDDEN_TEXT.encode() not in body, name


def test_moderation_is_in_the_audit_chain_by_key_only_and_the_chain_verifies(
    server: LiveServer, meeting: Meeting
) -> None:
    """Keying, merging, hiding, correcting and setting the affected groups each leave a link
    naming idea keys and segment ids, never an idea's text."""
    keys = run_lab(server, meeting)
    lines = meeting.f.get(f"/console/{meeting.id}/export/audit.jsonl").text.splitlines()
    links = [(link["kind"], link["data"]) for link in map(json.loads, lines)]
    moderation = [(k, d) for k, d in links if k.startswith("lab.") and k != "lab.shortlisted"]
    assert moderation == [
        ("lab.approved", {"idea": keys["centre"], "keyed": True}),
        ("lab.approved", {"idea": keys["sitters"], "keyed": True}),
        ("lab.approved", {"idea": keys["school"], "keyed": True}),
        ("lab.merged", {"idea": keys["twin"], "into": keys["sitters"]}),
        ("lab.hidden", {"idea": keys["rude"]}),
        ("lab.corrected", {"idea": keys["school"]}),
        ("lab.affected", {"idea": keys["centre"], "segments": ["carer"]}),
    ]
    text = "\n".join(lines)
    assert HIDDEN_TEXT not in text and "Run it from the school" not in text


def test_the_report_has_a_lab_section_ranked_with_groups_rejections_and_the_shortlist(
    server: LiveServer, meeting: Meeting
) -> None:
    """The PDF: the challenges, how many ideas of each status, the opinion groups' sizes, the
    ideas in the results' order with support, the carers' rejection, the shortlisting reason
    and the helpers' pledges as counts; never the hidden idea. In Welsh too."""
    keys = run_lab(server, meeting)
    files = bundle(meeting)
    results = json.loads(files["lab-results-round-1.json"])
    text = flat(pdf_text(files["report.pdf"]))
    start = text.index("Co-Production Lab")
    lab = text[start:]
    assert "Respite for carers" in lab and "Keep the library open" in lab
    assert "5 ideas: 3 approved, 0 waiting, 1 hidden, 1 merged into others." in lab
    if results["groups"]:
        sizes = ", ".join(str(g["size"]) for g in results["groups"])
        assert f"{len(results['groups'])} opinion groups (their sizes: {sizes})." in lab
    else:
        assert "too few rated enough to form opinion groups" in lab
    texts = {
        keys["centre"]: "Close the day centre",
        keys["sitters"]: "Volunteer sitters",
        keys["school"]: "Run it from the school",
    }
    places = [lab.index(texts[i["key"]]) for i in results["ideas"]]
    assert places == sorted(places)  # the results' order: bridging first, then support
    assert "Rejected by: Carer" in lab
    assert f"Shortlisted. Reason: {REASON}" in lab
    # sitters: 5 agree, 1 disagree, 0 pass (the merged twin's rating counted): 83%
    sitters = lab[lab.index("Volunteer sitters") :]
    assert re.match(r"Volunteer sitters [^0-9]*Shortlisted\. 5 / 1 / 0 83% ", sitters)
    assert "Pledges to help make ideas happen: 1 in all; ideas with at least one: 1." in lab
    for heading in ("Rank", "Support", "Group 1", "Would help"):
        assert heading in lab, heading  # never broken inside a word
    assert HIDDEN_TEXT not in text
    html = files["report.html"].decode()
    assert "Co-Production Lab" in html and HIDDEN_TEXT not in html
    welsh = flat(pdf_text(bundle(meeting, "cy")["report.pdf"]))
    assert "Labordy Cydgynhyrchu" in welsh and "Seibiant i ofalwyr" in welsh
    assert "Wedi'i wrthod gan: Carer" in welsh and "Grŵp 1" in welsh


def test_no_support_figure_about_fewer_than_m_people_is_printed() -> None:
    """An idea rated by fewer than m, or by fewer than m of a group, shows a dash there."""
    result = rules.LabResult(
        groups=(rules.OpinionGroup(1, 3), rules.OpinionGroup(2, 3)),
        ideas=(
            rules.IdeaResult(
                key="a",
                agree=3,
                disagree=1,
                passes=0,
                support=Fraction(3, 4),
                by_group={1: (3, 0, 0)},  # group 2: fewer than m rated it (left out)
                by_segment={},
                bridging=None,
                is_bridging=False,
                rejected_by=(),
            ),
            rules.IdeaResult(
                key="b",
                agree=1,
                disagree=1,
                passes=0,
                support=Fraction(1, 2),
                by_group={},
                by_segment={},
                bridging=None,
                is_bridging=False,
                rejected_by=(),
            ),
        ),
        voters_rated=6,
        m=3,
        clustered=6,
    )
    given = report_lab.LabInput(
        challenges=(report_lab.ChallengeInfo("c1", "Respite"),),
        ideas=(
            report_lab.IdeaInfo("a", "c1", "Idea A", rules.IdeaStatus.APPROVED),
            report_lab.IdeaInfo("b", "c1", "Idea B", rules.IdeaStatus.APPROVED, helpers=2),
        ),
        result=result,
    )
    got = report_lab.section(given, {}, lambda s, **kw: s % kw if kw else s)
    a, b = got.lines
    assert (a.support, a.by_group) == ("75%", ("100%", report_lab.DASH))
    assert (b.support, b.by_group) == (report_lab.DASH, (report_lab.DASH, report_lab.DASH))
    assert got.columns[4:6] == ("Group 1", "Group 2")
    assert re.search(r"fewer than 3 people", got.suppression)


def test_audit_verify_catches_a_changed_lab_rating_and_refuses_a_row_that_is_no_answer(
    server: LiveServer, meeting: Meeting, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Lab round's rows in ballots.csv are sealed like a room vote's: one rating changed
    fails the seal check; a row whose answer is not a short answer word (a formula, free text)
    is refused by line, before any seal is compared."""
    keys = run_lab(server, meeting)
    files = bundle(meeting)
    for name in ("audit.jsonl", "groups.csv", "meeting.json"):
        (tmp_path / name).write_bytes(files[name])
    ballots = files["ballots.csv"].decode()
    row = next(line for line in ballots.splitlines() if f",{keys['centre']},disagree" in line)
    args = ["audit", "verify", str(tmp_path / "audit.jsonl"), "--ballots"]
    args += [str(tmp_path / "ballots.csv"), "--groups", str(tmp_path / "groups.csv")]
    args += ["--meeting", str(tmp_path / "meeting.json")]
    (tmp_path / "ballots.csv").write_text(ballots, encoding="utf-8")
    assert cli.main(args) == 0
    capsys.readouterr()
    changed = ballots.replace(row, row.replace(",disagree", ",agree"))
    (tmp_path / "ballots.csv").write_text(changed, encoding="utf-8")
    assert cli.main(args) == 1
    assert "round 1" in capsys.readouterr().err
    formula = ballots.replace(row, row.replace(",disagree", ",=cmd()"))
    (tmp_path / "ballots.csv").write_text(formula, encoding="utf-8")
    assert cli.main(args) == 2
    line = ballots.splitlines().index(row) + 1
    assert f"ballots.csv:{line}: mark: not an answer" in capsys.readouterr().err
