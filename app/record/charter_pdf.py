"""The Community Charter as an A4 PDF (issue 17), drawn with ReportLab from a `CharterDocument`
(app/voting/charter_signing.py `document` builds it; the words come translated in `labels`).

Contract: `render(doc) -> bytes`. The title; every section and clause, the Welsh beside the
English when the charter is bilingual, with its support (how many gave each consent answer in
the last closed round that decided it, and the decision in words) and its amendments with their
fate; each party's commitments (what, by when, how measured); the signatures (name, role,
organisation, the version signed, the date, the drawn signature as lines); and the audit chain's
head (its length and last hash) at printing, so a printed copy can be checked against the
exported log. Fonts and page footer as the results report's (app/record/pdf_page.py); the
output is deterministic for the same document.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from reportlab.graphics.shapes import Drawing, PolyLine
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Spacer,
    Table,
    TableStyle,
)

from app.record.pdf_page import GRID, WIDTH, build_pdf, fonts, para, rect
from app.rules.charter_sign import PAD_H, PAD_W, Stroke

Counts = tuple[int, int, int, int, int]


@dataclass(frozen=True, slots=True)
class AmendmentLine:
    key: str
    text: str
    text_cy: str
    fate: str  # in words: "adopted", "SENT BACK", "not chosen", "proposed"...
    counts: Counts | None = None


@dataclass(frozen=True, slots=True)
class ClauseLine:
    key: str
    text: str
    text_cy: str
    decision: str  # in words, with the round; "" when no closed round decided it
    counts: Counts | None = None  # the adopted (or original) wording's answers
    amendments: tuple[AmendmentLine, ...] = ()


@dataclass(frozen=True, slots=True)
class SectionLine:
    title: str
    title_cy: str
    clauses: tuple[ClauseLine, ...]


@dataclass(frozen=True, slots=True)
class CommitmentLine:
    what: str
    what_cy: str
    by_when: str
    measure: str
    measure_cy: str


@dataclass(frozen=True, slots=True)
class PartyLine:
    name: str
    name_cy: str
    commitments: tuple[CommitmentLine, ...]


@dataclass(frozen=True, slots=True)
class SignatureLine:
    party: str
    name: str
    role: str
    organisation: str
    when: str  # in words: the version signed and the date
    strokes: tuple[Stroke, ...] = ()
    party_cy: str = ""  # the party's Welsh name, beside the English when bilingual


@dataclass(frozen=True, slots=True)
class CharterDocument:
    """Everything the charter PDF says. `labels` are the words in the reader's language (keys:
    title_line, answers (five, ';'-joined), support, decision, amendments, commitments, by_when,
    measure, signatures, no_signatures, party, signatory, audit (with the link count),
    not_decided, page (%(page)s and %(pages)s left to fill)), already translated."""

    meeting: str
    title: str
    title_cy: str
    version: int
    bilingual: bool
    sections: tuple[SectionLine, ...]
    parties: tuple[PartyLine, ...]
    signatures: tuple[SignatureLine, ...]
    audit_seq: int
    audit_hash: str
    printed_at: datetime
    labels: Mapping[str, str]


def _both(en: str, cy: str, bilingual: bool, style: str = "base") -> list[Flowable]:
    """English, then the Welsh beside it in a two-column row when the charter is bilingual."""
    if not bilingual or not cy:
        return [para(en, style)]
    # Side by side without rules: the two languages are one text, not a table of figures.
    table = Table([[para(en, style), para(cy, style)]], colWidths=[WIDTH / 2, WIDTH / 2])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return [table]


def _support(counts: Counts | None, labels: Mapping[str, str]) -> str:
    if counts is None:
        return ""
    names = labels["answers"].split(";")
    return "; ".join(f"{name}: {n}" for name, n in zip(names, counts, strict=True))


def _signature_drawing(strokes: Sequence[Stroke]) -> Drawing:
    """The drawn signature, scaled from the pad's grid to 60 x 20 mm, y turned upright."""
    w, h = 60 * mm, 20 * mm
    d = Drawing(w, h)
    d.add(rect(0, 0, w, h, strokeColor=GRID, strokeWidth=0.3, fillColor=None))
    for stroke in strokes:
        points: list[float] = []
        for x, y in stroke:
            points += [x * w / PAD_W, h - y * h / PAD_H]
        d.add(PolyLine(points, strokeColor=colors.black, strokeWidth=0.8))
    return d


def _story(doc: CharterDocument) -> list[Flowable]:
    lb = doc.labels
    out: list[Flowable] = [
        *_both(doc.title, doc.title_cy, doc.bilingual, "h1"),
        para(lb["title_line"], "muted"),
        Spacer(1, 4 * mm),
    ]
    for s in doc.sections:
        out += _both(s.title, s.title_cy, doc.bilingual, "h2")
        for c in s.clauses:
            block: list[Flowable] = [*_both(f"{c.key}. {c.text}", c.text_cy, doc.bilingual, "h3")]
            if c.decision:
                block.append(para(f"{lb['decision']}: {c.decision}"))
                if c.counts is not None:
                    block.append(para(f"{lb['support']}: {_support(c.counts, lb)}", "muted"))
            else:
                block.append(para(lb["not_decided"], "muted"))
            if c.amendments:
                block.append(para(lb["amendments"], "h3"))
                for a in c.amendments:
                    block += _both(f"{a.key} ({a.fate}): {a.text}", a.text_cy, doc.bilingual)
                    if a.counts is not None:
                        block.append(para(f"{lb['support']}: {_support(a.counts, lb)}", "muted"))
            block.append(Spacer(1, 2 * mm))
            out.append(KeepTogether(block))
    out.append(para(lb["commitments"], "h2"))
    for party in doc.parties:
        out += _both(party.name, party.name_cy, doc.bilingual, "h3")
        for pc in party.commitments:
            out += _both(pc.what, pc.what_cy, doc.bilingual)
            details = []
            if pc.by_when:
                details.append(f"{lb['by_when']}: {pc.by_when}")
            if pc.measure:
                details.append(f"{lb['measure']}: {pc.measure}")
            if details:
                out.append(para("; ".join(details), "muted"))
            if pc.measure_cy and doc.bilingual:
                out.append(para(pc.measure_cy, "muted"))
    out.append(para(lb["signatures"], "h2"))
    if not doc.signatures:
        out.append(para(lb["no_signatures"]))
    for sig in doc.signatures:
        rows: list[Flowable] = [
            *_both(f"{lb['party']}: {sig.party}", sig.party_cy, doc.bilingual, "h3"),
            para(f"{lb['signatory']}: {sig.name}, {sig.role}, {sig.organisation}"),
            para(sig.when, "muted"),
        ]
        if sig.strokes:
            rows.append(_signature_drawing(sig.strokes))
        rows.append(Spacer(1, 3 * mm))
        out.append(KeepTogether(rows))
    out += [
        Spacer(1, 4 * mm),
        para(lb["audit"], "muted"),
        para(doc.audit_hash, "mono"),
    ]
    return out


def render(doc: CharterDocument) -> bytes:
    """The charter as PDF bytes."""
    fonts()  # before the story: its paragraphs measure text in the report's fonts
    return build_pdf(
        _story(doc),
        title=doc.title,
        subject=doc.labels["title_line"],
        footer=doc.meeting,
        page_text=doc.labels["page"],
        made_at=doc.printed_at,
    )
