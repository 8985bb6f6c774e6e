"""The A4 page the PDFs are drawn on: geometry, palette, fonts, text styles, tables, the footer.

Shared by the results report (app/record/report_pdf.py and its sections), the charter
(app/record/charter_pdf.py) and the charts (app/record/charts_pdf.py); no Covote model here, only
ReportLab. Contracts:

* `fonts()` registers the report's font (DejaVu Sans where the system has it, for Welsh ŵ and ŷ
  and arrows, else Bitstream Vera, which ships with ReportLab) and returns the code points it
  draws; `fit(text)` replaces a character the font lacks with its base letter (ŵ -> w) or a
  plain stand-in, never an empty box; `markup(text)` is `fit`ted text escaped for a Paragraph.
* `styles()` the named paragraph styles, `para(text, style)` a Paragraph of plain text,
  `grid_table(rows, widths)` a ruled table (header row shaded and repeated on each page),
  `rect(...)` a ReportLab Rect.
* `build_pdf(story, ...)` the story as A4 PDF bytes in the report's margins, every page footed
  with a text and "Page N of M" (`numbered_canvas`), Title, Subject, Author and Creator set, and
  CreationDate and ModDate the given time (`pdf_date`, UTC). Deterministic: ReportLab's
  invariant mode (kept for its fixed file id), dates ours, not the clock's.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import reportlab
from reportlab.graphics.shapes import Rect
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Paragraph,
    SimpleDocTemplate,
    Table,
    TableStyle,
)

PAGE_W, PAGE_H = A4
MARGIN = 16 * mm
FRAME_PADDING = 6  # ReportLab's default inside a page's frame, on each side
WIDTH = PAGE_W - 2 * MARGIN - 2 * FRAME_PADDING

WANT = colors.HexColor("#0a4d8c")
DONT = colors.HexColor("#9b2c00")
DONT_DARK = colors.HexColor("#7a2200")
NEUTRAL = colors.HexColor("#e2e2e2")
NEUTRAL_DARK = colors.HexColor("#c8c8c8")
SOFT = colors.HexColor("#f3f4f6")
GRID = colors.HexColor("#8a8a8a")
MUTED = colors.HexColor("#4a4a4a")
NOTE_BG = colors.HexColor("#fff4d6")

_FONT_CANDIDATES = (
    (
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ),
    (
        Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
        Path("/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
    ),
    (
        Path(reportlab.__file__).parent / "fonts" / "Vera.ttf",
        Path(reportlab.__file__).parent / "fonts" / "VeraBd.ttf",
    ),
)
FONT, BOLD, MONO = "CovoteSans", "CovoteSans-Bold", "Courier"
# Stand-ins for characters a font may lack (NFKD has no base letter for these).
_PLAIN = {
    "\u2192": "->",  # right arrow
    "\u2248": "~",  # almost equal
    "\u2026": "...",  # ellipsis
    "\u2014": "-",  # em dash
    "\u2013": "-",  # en dash
    "\u00b7": "-",  # middle dot
    "\u2019": "'",  # right single quotation mark
    "\u2018": "'",  # left single quotation mark
}


@cache
def fonts() -> frozenset[int]:
    """Register the report's font; the code points it can draw."""
    regular, bold = next((r, b) for r, b in _FONT_CANDIDATES if r.is_file() and b.is_file())
    pdfmetrics.registerFont(TTFont(FONT, str(regular)))
    pdfmetrics.registerFont(TTFont(BOLD, str(bold)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)
    face: Any = pdfmetrics.getFont(FONT).face  # type: ignore[attr-defined]
    return frozenset(face.charToGlyph)


def fit(text: str) -> str:
    """`text` with every character the font cannot draw replaced by one it can."""
    known = fonts()
    out = []
    for ch in text:
        if ord(ch) in known or ch in "\n\t":
            out.append(ch)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if ord(c) in known)
        out.append(base or _PLAIN.get(ch, "?"))
    return "".join(out)


def markup(text: str) -> str:
    """Plain text as Paragraph markup."""
    return escape(fit(text))


@cache
def styles() -> dict[str, ParagraphStyle]:
    fonts()
    base = ParagraphStyle(
        "base", fontName=FONT, fontSize=9.5, leading=13, alignment=TA_LEFT, spaceAfter=4
    )
    return {
        "base": base,
        "kicker": ParagraphStyle("kicker", base, fontName=BOLD, textColor=MUTED, fontSize=9),
        "h1": ParagraphStyle("h1", base, fontName=BOLD, fontSize=20, leading=24, spaceAfter=4),
        "h2": ParagraphStyle(
            "h2", base, fontName=BOLD, fontSize=14, leading=18, spaceBefore=12, spaceAfter=6
        ),
        "h3": ParagraphStyle("h3", base, fontName=BOLD, fontSize=11.5, leading=15, spaceAfter=3),
        "meta": ParagraphStyle("meta", base, textColor=MUTED),
        "small": ParagraphStyle(
            "small", base, fontSize=8.5, leading=11, textColor=MUTED, spaceAfter=2
        ),
        # inside table cells: the cell's padding spaces them
        "cell": ParagraphStyle("cell", base, fontSize=8.5, leading=11, spaceAfter=0),
        "muted": ParagraphStyle(
            "muted", base, fontSize=8.5, leading=11, textColor=MUTED, spaceAfter=0
        ),
        "head": ParagraphStyle("head", base, fontName=BOLD, fontSize=8.5, leading=11, spaceAfter=0),
        "num": ParagraphStyle("num", base, fontSize=8.5, leading=11, alignment=2, spaceAfter=0),
        "mono": ParagraphStyle("mono", base, fontName=MONO, fontSize=7.5, leading=10, spaceAfter=0),
        "code": ParagraphStyle(
            "code",
            base,
            fontName=MONO,
            fontSize=8,
            leading=10.5,
            backColor=SOFT,
            borderPadding=4,
            leftIndent=4,
            rightIndent=4,
            spaceBefore=4,
            spaceAfter=10,
        ),
        "note": ParagraphStyle(
            "note",
            base,
            fontName=BOLD,
            backColor=NOTE_BG,
            borderColor=colors.HexColor("#8a6100"),
            borderWidth=1,
            borderPadding=5,
            spaceBefore=6,
            spaceAfter=8,
        ),
    }


def para(text: str, style: str = "base") -> Paragraph:
    return Paragraph(markup(text), styles()[style])


def grid_table(
    rows: Sequence[Sequence[Any]], widths: Sequence[float], *, header: bool = True
) -> Table:
    table = Table(
        [list(r) for r in rows],
        colWidths=list(widths),
        repeatRows=1 if header else 0,
        spaceAfter=6,
    )
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), SOFT))
    table.setStyle(TableStyle(commands))
    return table


def rect(x: float, y: float, w: float, h: float, **style: Any) -> Rect:
    # ReportLab's stubs type **kw without Unpack; the style names are Rect's own.
    return Rect(x, y, w, h, **style)


def numbered_canvas(footer: str, page_text: str, generated_at: datetime) -> type[Canvas]:
    """A canvas that writes `footer` and "Page N of M" (`page_text`, with %(page)s and
    %(pages)s) at each page's foot once it knows M, dated `generated_at` (the report's, the
    charter's)."""
    footer, stamp = fit(footer), pdf_date(generated_at)

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []
            # CreationDate and ModDate: when the document was made, not invariant mode's 2000.
            self._doc.setDateFormatter(lambda *_: stamp)  # type: ignore[attr-defined]

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()  # type: ignore[attr-defined]

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(FONT, 8)
                self.setFillColor(MUTED)
                self.drawString(MARGIN, 10 * mm, footer)
                number = fit(page_text % {"page": self.getPageNumber(), "pages": total})
                self.drawRightString(PAGE_W - MARGIN, 10 * mm, number)
                super().showPage()
            super().save()

    return NumberedCanvas


def pdf_date(at: datetime) -> str:
    """`at` as a PDF date in UTC: D:20261205194002+00'00' (naive: taken as UTC)."""
    moment = (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(UTC)
    return f"D:{moment:%Y%m%d%H%M%S}+00'00'"


def build_pdf(
    story: list[Flowable],
    *,
    title: str,
    subject: str,
    footer: str,
    page_text: str,
    made_at: datetime,
    lang: str | None = None,
) -> bytes:
    """A story as A4 PDF bytes in the report's margins, each page footed by `footer` and "Page
    N of M" (`numbered_canvas`), dated `made_at` (the results report's, the charter's)."""
    fonts()
    out = io.BytesIO()
    language: dict[str, Any] = {} if lang is None else {"lang": lang}
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm,
        title=title,
        author="Covote",
        subject=subject,
        creator="Covote",
        invariant=1,
        **language,
    )
    doc.build(story, canvasmaker=numbered_canvas(footer, page_text, made_at))
    return out.getvalue()
