"""The results report (HTML and PDF) and the export bundle: what the clerk attaches to minutes."""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pypdfium2 as pdfium
from sqlmodel import Session

from app.core import shapes
from app.record import report, report_pdf
from app.rules import explain
from app.voting.models import Meeting as MeetingRow
from app.voting.models import Ticket
from app.web.i18n import gettext_for
from app.web.rendering import TEMPLATES
from tests.conftest import MEETING, LiveServer, Meeting, Phone

# R = 3 and m = 2, so the rule text shows which number is which.
SPEC = {**MEETING, "rule": {"ratio": 3, "group_min": 2}}
PHONE_AGENT = "Mozilla/5.0 (Linux; Android 14; Pixel 8) CovoteTestPhone/1.0"
BUNDLE = [
    "meeting.json",
    "ballots.csv",
    "groups.csv",
    "ballots-round-1.csv",
    "groups-round-1.csv",
    "results.json",
    "audit.jsonl",
    "report.html",
    "report.pdf",
    "README.txt",
    "SHA256SUMS",
]


def text_of(page: str) -> str:
    """A page's visible text: tags dropped, entities decoded, white space collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def pdf_text(data: bytes) -> str:
    pdf = pdfium.PdfDocument(data)
    return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))


def vote_round(server: LiveServer, meeting: Meeting) -> list[Phone]:
    """Six phones: carers protect respite, the room rejects the toilets, one voter from North."""
    meeting.open_round()
    plan = [
        (("carer",), {"library": "want", "respite": "want", "toilets": "dont_want"}),
        (("carer",), {"respite": "want", "toilets": "dont_want"}),
        (("carer", "north"), {"library": "want", "respite": "want", "toilets": "dont_want"}),
        ((), {"library": "dont_want", "respite": "dont_want", "toilets": "dont_want"}),
        (("staff",), {"library": "neutral", "respite": "dont_want", "toilets": "want"}),
        ((), {"respite": "dont_want"}),
    ]
    phones = []
    for segments, marks in plan:
        client = server.browser()
        client.headers["User-Agent"] = PHONE_AGENT
        phone = Phone(client, meeting.code)
        if segments:
            assert phone.segments(*segments).status_code == 200
        assert phone.vote(marks).status_code == 200
        phones.append(phone)
    return phones


def closed_meeting(server: LiveServer, facilitator: httpx.Client) -> Meeting:
    meeting = Meeting(facilitator, SPEC)
    vote_round(server, meeting)
    meeting.close_round(1)
    return meeting


def test_the_report_explains_the_rule_outcomes_turnout_and_hashes(
    server: LiveServer, facilitator: httpx.Client
) -> None:
    """The page: the rule with this meeting's R and m, each outcome and why, turnout, hashes."""
    meeting = closed_meeting(server, facilitator)
    r = facilitator.get(f"/console/{meeting.id}/report.html")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "attachment" not in r.headers.get("content-disposition", "")
    text = text_of(r.text)
    assert "Test budget" in text and "Results report" in text
    assert "at least 3 times as many people said DON'T WANT as said WANT" in text
    assert "at least 2 of its members WANT it" in text
    assert "R = 3 and m = 2" in text
    glance = re.search(r'<table class="glance">(.*?)</table>', r.text, re.S)
    assert glance is not None
    assert text_of(glance.group(1)).endswith(
        "1 Keep: Mobile library SUPPORTED 2 3 1 "
        "2 Fund: Respite breaks PROTECTED 3 0 3 "
        "3 Keep: Park toilets REJECTED 1 1 4"
    )  # ranked best first
    library = text.rindex("Keep: Mobile library")  # each proposal's own section
    respite = text.rindex("Fund: Respite breaks")
    toilets = text.rindex("Keep: Park toilets")
    assert library < respite < toilets
    assert "SUPPORTED Keep the service. 2 WANT and 1 DON'T WANT" in text[library:respite]
    assert "PROTECTED Backed by the people it affects" in text[respite:toilets]
    assert "Protected by the people it affects: Carer." in text[respite:toilets]
    assert "Not counted as affected groups (they never protect): Staff." in text[respite:toilets]
    assert "REJECTED The room accepts the saving." in text[toilets:]
    assert "4 of the 6 voters said DON'T WANT, more than half, against 1 WANT" in text[toilets:]
    turnout = re.search(r'<table class="turnout">(.*?)</table>', r.text, re.S)
    assert turnout is not None
    assert "Counted when the round closed." in text_of(turnout.group(1))
    assert re.findall(r'<td class="num">(\d+)</td>', turnout.group(1)) == [
        "6",  # present
        "6",  # voted
        "6",  # phone in the room
        "0",  # remote
        "0",  # keypad
        "0",  # paper
    ]
    ballots = facilitator.get(f"/console/{meeting.id}/export/ballots.csv").content
    results = facilitator.get(f"/console/{meeting.id}/export/results.json").content
    assert hashlib.sha256(ballots).hexdigest() in text
    assert hashlib.sha256(results).hexdigest() in text
    assert "covote recount ballots.csv --groups groups.csv --meeting meeting.json" in text
    assert '<html lang="en">' in r.text and "@page { size: A4" in r.text  # prints on A4
    assert r.text.count("<caption>") >= 4 and 'scope="row"' in r.text
    assert not re.search(r'<(?:link|script|img)\b|src="http|href="http', r.text)  # one file


def test_a_group_with_fewer_than_m_voters_shows_no_counts(
    server: LiveServer, facilitator: httpx.Client
) -> None:
    """North has one voter (m = 2): its line says so, with no numbers, in HTML and PDF."""
    meeting = closed_meeting(server, facilitator)
    page = facilitator.get(f"/console/{meeting.id}/report.html").text
    row = re.search(r'<th scope="row">Area: North</th>(.*?)</tr>', page, re.S)
    assert row is not None
    cells = text_of(row.group(1))
    assert cells == "fewer than 2 present"
    carer = re.search(r'<th scope="row">Carer</th>(.*?)</tr>', page, re.S)
    assert carer is not None and text_of(carer.group(1)) == "3 3 0 protects"
    text = pdf_text(facilitator.get(f"/console/{meeting.id}/report.pdf").content)
    assert re.search(r"Area: North\s*fewer than 2 present", text)


def test_the_pdf_report_renders_with_titles_and_hashes(
    tmp_path: Path, server: LiveServer, facilitator: httpx.Client
) -> None:
    """A real PDF: page 1 renders to a PNG with ink on it; its text has titles and hashes."""
    meeting = closed_meeting(server, facilitator)
    r = facilitator.get(f"/console/{meeting.id}/report.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].startswith("inline")
    assert r.content.startswith(b"%PDF")
    pdf = pdfium.PdfDocument(r.content)
    width, height = pdf[0].get_size()
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    assert "Test budget" in pdf.get_metadata_dict()["Title"]
    image = pdf[0].render(scale=1).to_pil().convert("L")
    image.save(tmp_path / "page1.png")
    dark = sum(image.histogram()[:128])
    assert dark > 2000, "page 1 is (nearly) blank"
    text = pdf_text(r.content)
    for title in ("Keep: Mobile library", "Fund: Respite breaks", "Keep: Park toilets"):
        assert title in text
    ballots = facilitator.get(f"/console/{meeting.id}/export/ballots.csv").content
    assert hashlib.sha256(ballots).hexdigest() in text
    assert f"Page 1 of {len(pdf)}" in text
    saved = facilitator.get(f"/console/{meeting.id}/report.pdf?download=1")
    assert saved.headers["content-disposition"].startswith("attachment")


def test_the_export_bundle_recounts_to_its_own_results(
    tmp_path: Path, server: LiveServer, facilitator: httpx.Client
) -> None:
    """Unzip, check SHA256SUMS, recount: the output is results.json, byte for byte."""
    meeting = closed_meeting(server, facilitator)
    r = facilitator.get(f"/console/{meeting.id}/export/bundle.zip")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"].startswith("attachment")
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        assert z.namelist() == BUNDLE
        z.extractall(tmp_path)
    sums = (tmp_path / "SHA256SUMS").read_text().splitlines()
    assert [line.split("  ", 1)[1] for line in sums] == BUNDLE[:-1]
    for line in sums:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == digest, name
    assert (tmp_path / "ballots.csv").read_bytes() == facilitator.get(
        f"/console/{meeting.id}/export/ballots.csv"
    ).content
    assert (tmp_path / "ballots-round-1.csv").read_bytes() == facilitator.get(
        f"/console/{meeting.id}/rounds/1/export/ballots.csv"
    ).content

    def covote(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=None,
        )

    recount = covote(
        "recount", "ballots.csv", "--groups", "groups.csv", "--meeting", "meeting.json"
    )
    assert recount.returncode == 0, recount.stderr
    assert recount.stdout == (tmp_path / "results.json").read_text()
    outcomes = {
        p["id"]: p["category"] for p in json.loads(recount.stdout)["rounds"][0]["proposals"]
    }
    assert outcomes == {"library": "SUPPORTED", "respite": "PROTECTED", "toilets": "REJECTED"}
    # The report beside the files names their hashes and the audit log's head.
    page = text_of((tmp_path / "report.html").read_text())
    for name in ("ballots.csv", "groups.csv", "results.json"):
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() in page
    head = json.loads((tmp_path / "audit.jsonl").read_text().splitlines()[-1])["hash"]
    assert head in page and head in pdf_text((tmp_path / "report.pdf").read_bytes())
    readme = (tmp_path / "README.txt").read_text()
    assert "covote recount ballots.csv --groups groups.csv --meeting meeting.json" in readme
    assert f"--head {head}" in readme
    verified = covote(
        "audit", "verify", "audit.jsonl", "--ballots", "ballots.csv", "--groups", "groups.csv",
        "--meeting", "meeting.json", "--head", head,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_exports_hold_no_ticket_codes_devices_or_pseudonyms_in_the_report(
    server: LiveServer, facilitator: httpx.Client
) -> None:
    """Bundle: no ticket code, user agent or address; report: no voter pseudonym either."""
    meeting = Meeting(facilitator, SPEC)
    vote_round(server, meeting)
    # A ticket meeting now (set directly: the ticket desk is not what this test is about).
    with Session(server.app.state.services.engine) as session:
        row = session.get(MeetingRow, meeting.id)
        assert row is not None
        row.admission = "tickets"
        session.add(row)
        session.add(Ticket(meeting_id=meeting.id, number=17, code="TKQ7WXRMPD"))
        session.commit()
    meeting.close_round(1)
    bundle = facilitator.get(f"/console/{meeting.id}/export/bundle.zip").content
    with zipfile.ZipFile(io.BytesIO(bundle)) as z:
        files = {name: z.read(name) for name in z.namelist()}
    texts = {n: b.decode() for n, b in files.items() if n != "report.pdf"}
    texts["report.pdf"] = pdf_text(files["report.pdf"])
    for name, text in texts.items():
        for secret in ("TKQ7WXRMPD", PHONE_AGENT, "CovoteTestPhone", "127.0.0.1"):
            assert secret not in text, f"{secret!r} in {name}"
    pseudonyms = {line.split(",")[1] for line in texts["ballots.csv"].splitlines()[1:]}
    assert len(pseudonyms) == 6
    for name in ("report.html", "report.pdf"):
        assert not any(v in texts[name] for v in pseudonyms), name
    page = text_of(texts["report.html"])
    assert "Registered (tickets issued)" in page


def test_the_report_works_while_a_round_is_open(
    facilitator: httpx.Client, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Mid-meeting: live figures, marked as such; the PDF and the bundle work too."""
    meeting.open_round("library", "toilets")
    assert phones().vote({"library": "want"}).status_code == 200
    assert phones().vote({"library": "dont_want", "toilets": "want"}).status_code == 200
    phones()  # present, not voted
    text = text_of(facilitator.get(f"/console/{meeting.id}/report.html").text)
    assert "Interim report: round 1 is still open." in text
    assert "Live, round still open." in text
    assert "Present Voted Voted: Phone in the room Voted: Remote Voted: Keypad Voted: Paper" in (
        text
    )
    assert "3 2 2 0 0 0" in text
    assert "Keep: Mobile library" in text and "Fund: Respite breaks" not in text
    pdf = facilitator.get(f"/console/{meeting.id}/report.pdf")
    assert pdf.status_code == 200 and "Interim report" in pdf_text(pdf.content)
    assert facilitator.get(f"/console/{meeting.id}/export/bundle.zip").status_code == 200


def test_a_meeting_without_votes_has_a_report(facilitator: httpx.Client, meeting: Meeting) -> None:
    """Before any round: the rule and the (empty) record; a round nobody voted in says so."""
    page = text_of(facilitator.get(f"/console/{meeting.id}/report.html").text)
    assert "How the votes were counted" in page and "Round 1" not in page
    meeting.open_round()
    meeting.close_round(1)
    page = text_of(facilitator.get(f"/console/{meeting.id}/report.html").text)
    assert "Nobody has voted in this round yet." in page
    with zipfile.ZipFile(
        io.BytesIO(facilitator.get(f"/console/{meeting.id}/export/bundle.zip").content)
    ) as z:
        assert "ballots-round-1.csv" not in z.namelist()


def test_only_the_facilitator_gets_reports_and_bundles(
    server: LiveServer, facilitator: httpx.Client, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """An attendee's browser and a stranger are refused (403); an unknown meeting is 404."""
    urls = ["report.html", "report.html?download=1", "report.pdf", "export/bundle.zip"]
    for client in (phones().c, server.browser()):
        for url in urls:
            r = client.get(f"/console/{meeting.id}/{url}")
            assert r.status_code == 403, url
            assert "facilitator link" in r.text
    for url in urls:
        assert facilitator.get(f"/console/999999/{url}").status_code == 404, url
    saved = facilitator.get(f"/console/{meeting.id}/report.html?download=1")
    day = datetime.now(ZoneInfo("Europe/London")).date().isoformat()
    assert saved.headers["content-disposition"] == (
        f'attachment; filename="test-budget-{day}-report.html"'
    )
    console = facilitator.get(f"/console/{meeting.id}").text
    for url in ("report", "report.pdf", "export/bundle.zip"):
        assert f'href="/console/{meeting.id}/{url}"' in console


# --- the model and the renderers, without a server ---------------------------------------------


def budget_results() -> shapes.ResultsView:
    """A results_view record of a budget round with a savings target (as rounds.py makes it)."""
    return {
        "proposals": [
            {
                "id": "respite", "title": "Respite breaks", "kind": "fund", "description": "",
                "V": 10, "W": 7, "D": 2, "N": 1, "category": "SUPPORTED", "reason": "more-want",
                "groups": [], "group_labels": [], "affected": [],
            },
            {
                "id": "toilets", "title": "Park toilets", "kind": "keep", "description": "",
                "V": 10, "W": 1, "D": 8, "N": 1, "category": "REJECTED",
                "reason": "qualified-opposition", "groups": [], "group_labels": [], "affected": [],
            },
        ],
        "ranking": ["respite", "toilets"],
        "budget": 100000, "completion": "add1", "voters": 10, "share": 10000,
        "funded": ["respite"], "greedy": ["respite"], "spent": 80000, "left": 20000,
        "funding": [
            {"id": "respite", "cost": 80000, "supporters": 7, "by": "mes",
             "paid": [{"amount": "80000/7", "voters": 7}]},
        ],
        "target": 30000, "cuts": ["toilets"], "accepted": ["toilets"],
        "savings": {"toilets": 22000}, "total": 22000, "shortfall": 8000,
        "currency": "£",
        "amounts": {"respite": {"cost": 80000, "saving": None}},
    }  # fmt: skip


def build(results: shapes.ResultsView, *, ratio: int = 2, locale: str = "en") -> report.Report:
    at = datetime(2026, 11, 25, 19, 30, tzinfo=UTC)
    meeting = report.MeetingInfo(
        title="Riverside participatory budget: £100,000 — Tŷ Cymuned",
        ratio=ratio,
        group_min=5,
        segments=(report.SegmentInfo("carer", "Carer", True),),
        proposals=(
            report.ProposalInfo("respite", "Respite breaks", "fund", ("carer",)),
            report.ProposalInfo("toilets", "Park toilets", "keep", ()),
        ),
        created_at=at,
    )
    rnd = report.RoundInput(
        number=1, status="closed", revealed=True, opened_at=at, closed_at=at, results=results,
        turnout={"registered": None, "present": 11, "voted": 10,
                 "by_channel": {"phone": 6, "remote": 1, "keypad": 2, "paper": 1}},
        turnout_at_close=True,
    )  # fmt: skip
    record = report.RecordInput("a" * 64, "b" * 64, 42, "c" * 64)
    return report.build(meeting, [rnd], record, generated_at=at, _=gettext_for(locale), lang=locale)


def test_budget_funding_and_cuts_are_in_both_renderings() -> None:
    """A round with "funded" and "cuts" gets the pot, who paid, the cuts and the shortfall."""
    model = build(budget_results())
    page = text_of(
        TEMPLATES.env.get_template("record/report.html").render(report=model, _=gettext_for("en"))
    )
    assert "Budget: £100,000 shared by equal shares" in page
    assert "10 voters, each with a share of £10,000. Spent £80,000; £20,000 left." in page
    assert "7 paid £≈11,428.57" in page
    assert "Savings target: £30,000" in page and "Shortfall: £8,000." in page
    assert "Voted: Keypad" in page and "Registered" not in page
    text = pdf_text(report_pdf.render(model))
    assert "Budget: £100,000 shared by equal shares" in text
    assert "Shortfall: £8,000." in text
    assert "Tŷ Cymuned" in text or "Ty Cymuned" in text  # drawn, or its base letter


def test_the_rule_reads_well_with_r_equal_to_one() -> None:
    """R = 1 says "at least as many", never "1 times as many"."""
    rule = explain.rule_text(1, 3, explain.english)
    words = " ".join(rule.paragraphs)
    assert "at least as many people said DON'T WANT as said WANT" in words
    assert "1 times" not in words and "at least 3 of its members WANT it" in words


def test_every_reason_is_explained_with_its_numbers() -> None:
    """Each reason code has its own sentence; nobody voting is said plainly."""
    counts: shapes.RoomCounts = {"V": 9, "W": 2, "D": 5}
    texts = {
        code: explain.reason_text(code, counts, ["Carer", "North"], 2, 5, explain.english)
        for code in (
            "more-want", "qualified-opposition", "affected-group", "affected-group-objects",
            "no-clear-majority", "strong-minority",
        )
    }  # fmt: skip
    assert len(set(texts.values())) == 6
    assert all(code not in text for code, text in texts.items())
    assert "Carer, North" in texts["affected-group"]
    assert "5 DON'T WANT against 2 WANT" in texts["no-clear-majority"]
    empty: shapes.RoomCounts = {"V": 0, "W": 0, "D": 0}
    assert explain.reason_text("no-clear-majority", empty, [], 2, 5, explain.english) == (
        "Nobody has voted on it yet."
    )


def test_the_same_model_gives_the_same_pdf() -> None:
    """Deterministic output: no creation time or random id in the file."""
    model = build(budget_results())
    assert report_pdf.render(model) == report_pdf.render(model)
