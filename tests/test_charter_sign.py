"""The charter adopted and signed (issue 17): a consent round's decisions adopted as the next
version (asked first), each party's representative signing a version in the console (name, role,
organisation, an optional drawn signature) as audit links, withdrawing asked first and audited,
and the charter PDF with the clauses' support, amendments, commitments, signatures and the audit
log's head.

Over HTTP on SQLite and PostgreSQL (the `settings` fixture)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

import httpx
import pypdfium2 as pdfium
import pytest

from app.record.charter_file import parse_charter
from app.rules import charter_sign as cs
from tests.conftest import Meeting, Phone
from tests.test_charter_room import CHARTER, exported, text_of, upload, versions

SIGNED_CHARTER: dict[str, Any] = {
    **CHARTER,
    "commitments": [
        {
            "key": "respite-fund",
            "party": "council",
            "what": "Fund 40 respite nights a month.",
            "what_cy": "Ariannu 40 noson o seibiant y mis.",
            "clause": "respite",
            "by_when": "2027-04-01",
            "measure": "Nights booked each month",
        }
    ],
}
DRAWING = "M 10 150 L 40 60 L 80 140 L 120 50 M 200 100 L 260 100"


def chain(meeting: Meeting) -> list[dict[str, Any]]:
    r = meeting.f.get(f"/console/{meeting.id}/export/audit.jsonl")
    assert r.status_code == 200
    return [json.loads(line) for line in r.text.splitlines()]


def sign(meeting: Meeting, **fields: str) -> httpx.Response:
    data = {
        "party": "council",
        "name": "Cllr Megan Pritchard",
        "role": "Cabinet member for care",
        "organisation": "Ashdown Council",
        **fields,
    }
    return meeting.f.post(
        f"/console/{meeting.id}/charter/sign",
        data={"csrf": meeting.csrf, **data},
        follow_redirects=False,
    )


def pdf_text(data: bytes) -> str:
    pdf = pdfium.PdfDocument(data)
    return " ".join(
        " ".join(pdf[i].get_textpage().get_text_range().split()) for i in range(len(pdf))
    )


def decide_library(meeting: Meeting, phones: Callable[[], Phone]) -> None:
    """A round on both clauses: the library's amendment is preferred, respite adopted."""
    meeting.post("/rounds", kind="charter", proposal=["respite", "library", "library-fortnight"])
    for _ in range(3):
        p = phones()
        assert p.vote({"respite": "1", "library": "4", "library-fortnight": "1"}).status_code == 200
    meeting.close_round(1)


def test_a_rounds_decisions_are_adopted_as_the_next_version_after_asking(
    meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    assert upload(meeting, json.dumps(SIGNED_CHARTER)).status_code == 303
    # Nothing to adopt before a round has closed.
    page = meeting.f.get(f"/console/{meeting.id}/charter").text
    assert "/charter/adopt" not in page
    decide_library(meeting, phones)
    page = meeting.f.get(f"/console/{meeting.id}/charter").text
    assert "Adopt round 1&#39;s decisions as version 2" in page

    # First the question, nothing changed.
    url = f"/console/{meeting.id}/charter/adopt"
    r = meeting.f.post(url, data={"csrf": meeting.csrf, "round": "1"}, follow_redirects=False)
    assert r.status_code == 200 and "Adopt round 1" in text_of(r.text)
    assert versions(meeting) == [1]
    meeting.post("/charter/adopt", round="1", confirm="yes")
    assert versions(meeting) == [2, 1]
    # Adopted: the page no longer offers it (adopting again would change nothing).
    assert "/charter/adopt" not in meeting.f.get(f"/console/{meeting.id}/charter").text
    now = parse_charter(exported(meeting).text)
    library = now.clauses()[1]
    assert library.text == "The mobile library visits every village each fortnight."
    assert library.amendments == ()
    assert now.clauses()[0].text == "Carers get a respite break every month."
    assert chain(meeting)[-1]["kind"] == "charter.saved"

    # Again: the decisions change nothing now; a round that does not exist is refused.
    before = len(chain(meeting))
    r = meeting.f.post(
        url, data={"csrf": meeting.csrf, "round": "1", "confirm": "yes"}, follow_redirects=False
    )
    assert r.status_code == 409 and "change nothing" in r.text
    r = meeting.f.post(
        url, data={"csrf": meeting.csrf, "round": "9", "confirm": "yes"}, follow_redirects=False
    )
    assert r.status_code == 404
    assert versions(meeting) == [2, 1] and len(chain(meeting)) == before


def test_a_party_signs_a_version_and_each_signature_is_an_audit_link(meeting: Meeting) -> None:
    assert upload(meeting, json.dumps(SIGNED_CHARTER)).status_code == 303
    page = meeting.f.get(f"/console/{meeting.id}/charter").text
    assert "public audit log" in page and 'name="drawing"' in page

    # Refused, each with nothing changed.
    before = len(chain(meeting))
    refused = [
        (sign(meeting, name="   "), 400),
        (sign(meeting, name="x" * (cs.MAX_NAME + 1)), 400),
        (sign(meeting, organisation=""), 400),
        (sign(meeting, drawing="<script>alert(1)</script>"), 400),
        (sign(meeting, drawing="M 9999 1 L 2 2"), 400),  # off the pad
        (sign(meeting, drawing="L 1 1 L 2 2"), 400),  # no pen down
        (sign(meeting, drawing="M 1 1 " + "L 2 2 " * cs.MAX_POINTS), 400),
        (sign(meeting, party="nobody"), 404),
    ]
    assert [r.status_code for r, _ in refused] == [s for _, s in refused]
    assert "The drawn signature could not be read" in refused[3][0].text
    assert "Give the representative&#39;s name." in refused[0][0].text
    assert "A name is at most 120 characters." in refused[1][0].text
    assert len(chain(meeting)) == before

    r = sign(meeting, name="  Cllr   Megan Pritchard ", drawing=DRAWING)
    assert r.status_code == 303
    link = chain(meeting)[-1]
    assert link["kind"] == "charter.signed"
    data = link["data"]
    assert data["party"] == "council" and data["version"] == 1
    assert data["name"] == "Cllr Megan Pritchard"  # spaces collapsed, as printed
    assert data["role"] == "Cabinet member for care"
    assert data["drawing_sha256"] == hashlib.sha256(DRAWING.encode()).hexdigest()
    assert DRAWING not in json.dumps(link)  # the likeness of a hand is not in the public chain
    # The same party cannot sign the same version twice; the residents sign without drawing.
    assert sign(meeting).status_code == 409
    r = sign(meeting, party="residents", name="Aled Jones", role="Chair", organisation="Tenants")
    assert r.status_code == 303
    assert chain(meeting)[-1]["data"]["drawing_sha256"] is None

    words = text_of(meeting.f.get(f"/console/{meeting.id}/charter").text)
    assert (
        "Cllr Megan Pritchard, Cabinet member for care, Ashdown Council · drawn signature" in words
    )
    assert "Aled Jones, Chair, Tenants" in words

    # A new version voids nothing: the signature stays on version 1, and says so.
    spec = json.loads(json.dumps(SIGNED_CHARTER))
    spec["title"] = "Ashdown Community Charter 2027"
    assert upload(meeting, json.dumps(spec)).status_code == 303
    words = text_of(meeting.f.get(f"/console/{meeting.id}/charter").text)
    assert "Ashdown Council · drawn signature 1 (not the current version)" in words
    assert sign(meeting).status_code == 303  # version 2 may be signed
    assert chain(meeting)[-1]["data"]["version"] == 2


def test_withdrawing_a_signature_asks_first_and_is_audited(meeting: Meeting) -> None:
    assert upload(meeting, json.dumps(SIGNED_CHARTER)).status_code == 303
    assert sign(meeting).status_code == 303
    signature = chain(meeting)[-1]["data"]["signature"]
    url = f"/console/{meeting.id}/charter/withdraw"
    form = {"csrf": meeting.csrf, "signature": str(signature), "name": "Cllr Megan Pritchard"}
    r = meeting.f.post(url, data=form, follow_redirects=False)
    assert r.status_code == 200 and "Withdraw Cllr Megan Pritchard" in text_of(r.text)
    assert chain(meeting)[-1]["kind"] == "charter.signed"  # nothing yet
    meeting.post("/charter/withdraw", signature=str(signature), confirm="yes")
    link = chain(meeting)[-1]
    assert link["kind"] == "charter.withdrawn"
    assert link["data"] == {"signature": signature, "party": "council", "version": 1}
    assert "Not signed" in meeting.f.get(f"/console/{meeting.id}/charter").text
    # Once only; then the party may sign again.
    r = meeting.f.post(url, data={**form, "confirm": "yes"}, follow_redirects=False)
    assert r.status_code == 404
    assert sign(meeting).status_code == 303


def test_the_charter_pdf_has_support_amendments_commitments_signatures_and_the_audit_head(
    meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    assert meeting.f.get(f"/console/{meeting.id}/charter.pdf").status_code == 404
    assert upload(meeting, json.dumps(SIGNED_CHARTER)).status_code == 303
    decide_library(meeting, phones)
    meeting.post("/charter/adopt", round="1", confirm="yes")
    assert sign(meeting, drawing=DRAWING).status_code == 303
    last = chain(meeting)[-1]

    r = meeting.f.get(f"/console/{meeting.id}/charter.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert "charter-v2.pdf" in r.headers["content-disposition"]
    pdf = pdfium.PdfDocument(r.content)
    assert pdf.get_metadata_dict()["Title"] == "Ashdown Community Charter"
    text = pdf_text(r.content)
    assert "Siarter Gymunedol Ashdown" in text  # bilingual: Welsh beside the English
    assert "respite. Carers get a respite break every month." in text
    assert "Mae gofalwyr yn cael seibiant bob mis." in text
    assert "Decision: ADOPTED in round 1" in text
    assert "Fully support: 3; Support with reservations: 0" in text
    # The library clause, adopted as amended: its fate and its answers.
    assert "The mobile library visits every village each fortnight." in text
    assert "library-fortnight (adopted)" in text
    assert "Need a change: 3" in text  # the original wording's answers are in the record
    assert "Fund 40 respite nights a month." in text and "By: 2027-04-01" in text
    assert "Measured by: Nights booked each month" in text
    assert "Signed by: Cllr Megan Pritchard, Cabinet member for care, Ashdown Council" in text
    assert "version 2, signed" in text
    assert f"{last['seq']} links" in text and last["hash"] in text.replace(" ", "")

    # In Welsh: the words are the Welsh catalogue's.
    cy = pdf_text(meeting.f.get(f"/console/{meeting.id}/charter.pdf?lang=cy").content)
    assert "Llofnodwyd gan: Cllr Megan Pritchard" in cy


@pytest.mark.parametrize(
    "text",
    ["M 1 1 L 2 2 Z", "M 1 1 L 2", "M -1 1 L 2 2", "M 1 1", "M 1.5 1 L 2 2", "M 601 1 L 2 2"],
)
def test_only_drawn_lines_on_the_pad_are_accepted(text: str) -> None:
    with pytest.raises(cs.DrawingError):
        cs.parse_drawing(text)


def test_a_drawing_is_stored_in_its_canonical_form() -> None:
    strokes = cs.parse_drawing("M1,2 L 3 4   L5 6 M 7 8 M 9 9 L 10 10 ")
    assert strokes == (((1, 2), (3, 4), (5, 6)), ((9, 9), (10, 10)))
    assert cs.drawing_text(strokes) == "M 1 2 L 3 4 L 5 6 M 9 9 L 10 10"


def test_the_export_bundle_has_the_charter_pdf_in_its_sums_only_when_there_is_a_charter(
    meeting: Meeting,
) -> None:
    def bundle() -> dict[str, bytes]:
        r = meeting.f.get(f"/console/{meeting.id}/export/bundle.zip")
        assert r.status_code == 200
        with zipfile.ZipFile(io.BytesIO(r.content)) as z:
            return {name: z.read(name) for name in z.namelist()}

    assert "charter.pdf" not in bundle()
    assert upload(meeting, json.dumps(SIGNED_CHARTER)).status_code == 303
    assert sign(meeting).status_code == 303
    files = bundle()
    sums = {
        name: digest
        for digest, name in (line.split("  ") for line in files["SHA256SUMS"].decode().splitlines())
    }
    assert sums["charter.pdf"] == hashlib.sha256(files["charter.pdf"]).hexdigest()
    text = pdf_text(files["charter.pdf"])
    assert "Signed by: Cllr Megan Pritchard" in text
    assert "charter.pdf" in files["README.txt"].decode()
