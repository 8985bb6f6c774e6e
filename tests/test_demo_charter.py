"""The demo's Community Charter (issue 17, app/demo/charter.py and app/console/demo_charter.py):
drafted from its budget round and the demo Lab's pledges, agreed clause by clause by a room of
120 made-up people (the carers block one clause, an amendment wins over another), adopted as
the next version, signed by three parties, and its PDF printed; its record verifies.

`covote demo` making it once, and not again on a second start, is
tests/test_budget_meeting.py's `test_covote_demo_creates_both_samples_once`."""

from __future__ import annotations

import io
import random
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app import cli
from app.console import demo_charter, demo_lab, demo_survey
from app.core.vocab import CHARTER, ROOM_VOTE
from app.demo import charter as demo
from app.record import chain
from app.record.charter_file import dump_charter, parse_charter
from app.rules import charter_doc as cd
from app.voting import audit, charter_signing, charters, rounds
from app.voting.charter_signing import _decided
from app.voting.db import read_transaction
from tests.conftest import FACILITATOR_KEY, LiveServer
from tests.test_charter_sign import pdf_text
from tests.test_lab_record import commands


def test_the_demo_charter_is_a_valid_bilingual_draft() -> None:
    """Four sections, ten clauses and an accepted amendment, all with Welsh; four parties of
    every kind with representatives; it survives its file format."""
    draft = demo.draft()
    assert cd.problems(draft) == []
    assert parse_charter(dump_charter(draft)) == draft
    assert 3 <= len(draft.sections) <= 4 and 8 <= len(draft.clauses()) <= 12
    assert all(s.title_cy for s in draft.sections)
    assert all(c.text_cy for c in draft.clauses())
    assert all(a.text_cy for c in draft.clauses() for a in c.amendments)
    assert {p.kind for p in draft.parties} == set(cd.PartyKind)
    assert all(p.name_cy and p.representatives for p in draft.parties)
    segments = {s.id for s in demo_charter.sample().segments}
    assert {g for c in draft.clauses() for g in c.affected_groups} <= segments


def test_the_demo_room_answers_the_same_for_the_same_seed() -> None:
    room = demo.people()
    assert len(room) == demo.PEOPLE == 120
    assert sum("carer" in p.segments for p in room) == demo.CARERS
    assert demo.answers(room, random.Random(1)) == demo.answers(room, random.Random(1))
    assert demo.answers(room, random.Random(1)) != demo.answers(room, random.Random(2))


def test_the_demo_charter_is_drafted_decided_adopted_signed_and_printed(
    server: LiveServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = server.app.state.services.engine
    with ThreadPoolExecutor(1) as pool:  # the seeds run their own event loops
        labbed = pool.submit(demo_survey.seed, engine, 60).result()
        labbed = pool.submit(demo_lab.seed, engine, labbed).result()
        meeting = pool.submit(demo_charter.seed, engine, labbed).result()
    assert meeting.id is not None and meeting.title == demo.TITLE
    with read_transaction(engine) as session:
        budget, consent = rounds.rounds_of(session, meeting.id)
        record = rounds.round_record(session, meeting, budget)
        decided = {d.clause: d for d in _decided(session, meeting, consent)}
        made_by = [v.made_by for v in charters.versions_of(session, meeting.id)]
        charter = charters.charter_of(session, meeting.id)
        signed = charter_signing.active(session, meeting.id)
        chain.verify(audit.export_lines(session, meeting.id))

    # The budget round, closed and revealed, funds what the budget demo's docstring says, and
    # the south protects its community transport.
    assert budget.kind in (None, ROOM_VOTE) and budget.status == "closed" and budget.revealed
    assert record["funded"] == ["play-park", "cycle-path", "youth-hub", "respite-breaks"]  # type: ignore[typeddict-item]
    protected = [p["id"] for p in record["proposals"] if p["category"] == "PROTECTED"]  # type: ignore[typeddict-item]
    assert protected == ["community-transport"]

    # The versions: imported, drafted from the budget and the Lab, worded, adopted.
    assert made_by == ["imported", "budget", "lab", "imported", "adopted"]
    assert charter is not None and charter.version == 5
    sources = {c.source.kind for c in charter.commitments}
    assert sources == {cd.SourceKind.DRAFTED, cd.SourceKind.BUDGET, cd.SourceKind.LAB}
    assert {c.source.ref for c in charter.commitments if c.source.kind is cd.SourceKind.BUDGET} == {
        *record["funded"],  # type: ignore[typeddict-item]
        *protected,
    }
    lab = [c for c in charter.commitments if c.source.kind is cd.SourceKind.LAB]
    assert lab and all(c.source.pledges for c in lab)
    assert all("People who would help make it happen" in c.measure for c in lab)
    clause_keys = {c.key for c in charter.clauses()}
    for c in charter.commitments:
        assert cd.is_date(c.by_when) and c.measure and c.measure_cy and c.what_cy, c.key
        assert c.clause in clause_keys, c.key
    assert {c.party for c in charter.commitments} == {p.key for p in charter.parties}

    # The consent round: the carers send the online-only booking back, the amendment wins,
    # the rest are adopted, some with reservations.
    assert consent.kind == CHARTER and consent.status == "closed" and consent.revealed
    assert consent.turnout is not None and consent.turnout["voted"] == demo.PEOPLE
    blocked = decided[demo.BLOCKED]
    assert blocked.adopted is None and blocked.category.value == "SENT_BACK"
    (wording,) = blocked.wordings
    assert [r.value for r in wording.outcome.reasons] == ["group-blocks"]
    assert wording.outcome.groups == ("carer",)
    assert decided[demo.AMENDED].adopted == demo.AMENDMENT
    others = [d for k, d in decided.items() if k not in (demo.BLOCKED, demo.AMENDED)]
    assert len(others) == 8 and all(d.adopted == d.clause for d in others)
    categories = {d.category.value for d in others}
    assert categories == {"ADOPTED", "ADOPTED_WITH_RESERVATIONS"}

    # Adopted: the clause takes the amendment's words, English and Welsh.
    (toilets,) = [c for c in charter.clauses() if c.key == demo.AMENDED]
    (amendment,) = next(c for c in demo.draft().clauses() if c.key == demo.AMENDED).amendments
    assert (toilets.text, toilets.text_cy) == (amendment.text, amendment.text_cy)
    assert toilets.amendments == ()

    # Signed by three parties on the adopted version.
    assert sorted(s.party for s in signed) == sorted(s.party for s in demo_charter.SIGNATURES)
    assert {s.version for s in signed} == {5}

    # The console's pages and the PDF, in English and in Welsh.
    f = server.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    page = f.get(f"/console/{meeting.id}/charter")
    assert page.status_code == 200 and "Dewi Morgan" in page.text
    results = f.get(f"/console/{meeting.id}/rounds/{consent.number}").text
    sent_back = results.split(f'data-clause="{demo.BLOCKED}" data-decision="SENT_BACK"')[1]
    assert "The people it affects block it: Carer." in sent_back.split("</section>")[0]
    pdf = f.get(f"/console/{meeting.id}/charter.pdf?lang=en")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    for words in (
        demo.TITLE,
        "SENT BACK in round 2: The people it affects block it: Carer",
        "ADOPTED WITH RESERVATIONS in round 2",
        "The park toilets open all year",
        "Cludiant Cymunedol y Cwm",  # the Welsh beside the English
        "Cllr Angharad Rees",
        "Sian Hughes",
        "Reopen the north estate play park",
        "2027-09-30",
        "Audit log at printing",
    ):
        assert words in text, words
    welsh = pdf_text(f.get(f"/console/{meeting.id}/charter.pdf?lang=cy").content)
    assert "Siarter Gymunedol Glan yr Afon" in welsh
    assert "ANFONWYD YN ÔL yn rownd 2: Mae'r bobl y mae'n effeithio arnynt yn ei rwystro" in welsh

    # Its round on paper: eleven wordings in two languages run to several pages, each with
    # the sheet number (the table's head, repeated on every printed page).
    sheet = f.get(f"/console/{meeting.id}/rounds/{consent.number}/paper/print?count=1&lang=en+cy")
    assert sheet.status_code == 200 and "several A4 pages each" in sheet.text
    assert '<tr class="sheet-no"><td colspan="2">Sheet 0001</td></tr>' in sheet.text
    assert "Dim ond ar-lein" in sheet.text and "Cadw ein gair" in sheet.text

    # Its export bundle recounts: every command README.txt gives succeeds, and the recount
    # prints results.json byte for byte (both rounds, the charter's decisions included).
    r = f.get(f"/console/{meeting.id}/export/bundle.zip?lang=en")
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        files = {name: z.read(name) for name in z.namelist()}
    assert "charter.pdf" in files and "charter-results-round-2.json" in files
    for name, body in files.items():
        (tmp_path / name).write_bytes(body)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    run = commands(files["README.txt"].decode())
    assert {c[0] for c in run} >= {"recount", "charter", "audit"}
    for command in run:
        code = cli.main(command)
        out, err = capsys.readouterr()
        assert (code, err) == (0, ""), command
        if command[0] == "recount":
            assert out.encode("utf-8") == files["results.json"]
