"""The results report as an A4 PDF, drawn with ReportLab from the model `app.record.report` builds.

Contract: `render(model) -> bytes`. It says what the HTML report says (the same `Report`): bars
are drawn as shapes, turnout and affected-group lines are tables, every page has the meeting's
title and "Page N of M" at its foot. The document's metadata: Title the meeting's title, Subject
"Results report" and the meeting's date, Author and Creator Covote, and CreationDate and ModDate
the time the report was made (`Report.generated_at`, in UTC). The output is deterministic
(ReportLab's invariant mode, kept for its fixed file id; the dates are ours, not the clock's), so
the same model, made at the same time, gives the same bytes.

Fonts: DejaVu Sans where the system has it (Welsh ŵ and ŷ, arrows), else Bitstream Vera, which
ships with ReportLab. A character the font lacks is written as its base letter (ŵ -> w) or a
plain stand-in, never as an empty box.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape

import reportlab
from reportlab.graphics.shapes import Drawing, Line, Rect, String
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
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from app.record.report import Report, RoundReport
from app.record.report_charter import CharterSection
from app.record.report_lab import LabSection
from app.record.report_money import Money
from app.record.report_review import ReviewSection
from app.record.report_survey import SurveySection
from app.record.report_vote import Bar, ProposalReport

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

BADGES = {  # category: (fill, border, text)
    "SUPPORTED": (WANT, WANT, colors.white),
    "PROTECTED": (colors.white, WANT, colors.HexColor("#072f57")),
    "CONTESTED": (NOTE_BG, colors.black, colors.black),
    "REJECTED": (colors.white, DONT_DARK, DONT_DARK),
}

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
def _fonts() -> frozenset[int]:
    """Register the report's font; the code points it can draw."""
    regular, bold = next((r, b) for r, b in _FONT_CANDIDATES if r.is_file() and b.is_file())
    pdfmetrics.registerFont(TTFont(FONT, str(regular)))
    pdfmetrics.registerFont(TTFont(BOLD, str(bold)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)
    face: Any = pdfmetrics.getFont(FONT).face  # type: ignore[attr-defined]
    return frozenset(face.charToGlyph)


def fit(text: str) -> str:
    """`text` with every character the font cannot draw replaced by one it can."""
    known = _fonts()
    out = []
    for ch in text:
        if ord(ch) in known or ch in "\n\t":
            out.append(ch)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if ord(c) in known)
        out.append(base or _PLAIN.get(ch, "?"))
    return "".join(out)


def _t(text: str) -> str:
    """Plain text as Paragraph markup."""
    return escape(fit(text))


@cache
def _styles() -> dict[str, ParagraphStyle]:
    _fonts()
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


def _p(text: str, style: str = "base") -> Paragraph:
    return Paragraph(_t(text), _styles()[style])


def _table(rows: Sequence[Sequence[Any]], widths: Sequence[float], *, header: bool = True) -> Table:
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


# --- drawings ----------------------------------------------------------------------------------


def _rect(x: float, y: float, w: float, h: float, **style: Any) -> Rect:
    # ReportLab's stubs type **kw without Unpack; the style names are Rect's own.
    return Rect(x, y, w, h, **style)


def _badge(category: str, label: str) -> Drawing:
    fill, border, text = BADGES.get(category, (colors.white, colors.black, colors.black))
    size = 8.5
    w = pdfmetrics.stringWidth(fit(label), BOLD, size) + 14
    d = Drawing(w + 2, 16)
    d.add(_rect(1, 1, w, 14, rx=7, ry=7, fillColor=fill, strokeColor=border, strokeWidth=1.5))
    if category == "PROTECTED":  # a double border, as on the projector
        d.add(_rect(3, 3, w - 4, 10, rx=5, ry=5, fillColor=None, strokeColor=border, strokeWidth=1))
    d.add(
        String(
            1 + w / 2,
            4.6,
            fit(label),
            fontName=BOLD,
            fontSize=size,
            fillColor=text,
            textAnchor="middle",
        )
    )
    return d


def _hatch(d: Drawing, x0: float, y0: float, x1: float, y1: float, color: Any, step: float) -> None:
    """Diagonal lines (45 degrees) inside the rectangle, so the bar reads in black and white."""
    c = x0 - (y1 - y0)
    while c < x1:
        ax, ay = max(x0, c), max(x0, c) - c + y0
        bx = min(x1, c + (y1 - y0))
        by = bx - c + y0
        if bx > ax:
            d.add(Line(ax, ay, bx, by, strokeColor=color, strokeWidth=step / 2.5))
        c += step


def _bar(bar: Bar, labels: dict[str, str] | Any, half: str) -> Drawing:
    """WANT / NEUTRAL / DON'T WANT stacked, a dashed marker at half the room, a legend below."""
    h, y, top = 20.0, 16.0, 46.0
    d = Drawing(WIDTH, top)
    widths = [bar.want * WIDTH, bar.neutral * WIDTH, bar.dont * WIDTH]
    x = 0.0
    segments = [
        (widths[0], WANT, None),
        (widths[1], NEUTRAL, NEUTRAL_DARK),
        (widths[2], DONT, DONT_DARK),
    ]
    for w, fill, lines in segments:
        if w > 0:
            d.add(_rect(x, y, w, h, fillColor=fill, strokeColor=None))
            if lines is not None:
                _hatch(d, x, y, x + w, y + h, lines, 6 if fill is DONT else 5)
        x += w
    d.add(_rect(0, y, WIDTH, h, fillColor=None, strokeColor=colors.black, strokeWidth=0.8))
    numbers = [
        (widths[0], bar.W, colors.white),
        (widths[1], bar.N, colors.black),
        (widths[2], bar.D, colors.white),
    ]
    x = 0.0
    for i, (w, n, color) in enumerate(numbers):
        if w >= 18:
            anchor: Literal["start", "end"] = "end" if i == 2 else "start"
            tx = x + w - 4 if i == 2 else x + 4
            box = pdfmetrics.stringWidth(str(n), BOLD, 9) + 4
            bx = tx - box + 2 if anchor == "end" else tx - 2
            back = DONT_DARK if i == 2 else (WANT if i == 0 else colors.white)
            d.add(_rect(bx, y + 4, box, 12, fillColor=back, strokeColor=None))
            d.add(
                String(
                    tx,
                    y + 6.5,
                    str(n),
                    fontName=BOLD,
                    fontSize=9,
                    fillColor=color,
                    textAnchor=anchor,
                )
            )
        x += w
    mid = WIDTH / 2
    d.add(
        Line(
            mid,
            y - 3,
            mid,
            y + h + 4,
            strokeColor=colors.black,
            strokeWidth=1.5,
            strokeDashArray=[3, 2],
        )
    )
    d.add(String(mid + 3, y + h + 3, fit(half), fontName=FONT, fontSize=7, fillColor=colors.black))
    # legend
    x = 0.0
    for key, count, fill, lines in (
        (labels["want"], bar.W, WANT, None),
        (labels["neutral"], bar.N, NEUTRAL, NEUTRAL_DARK),
        (labels["dont"], bar.D, DONT, DONT_DARK),
    ):
        d.add(_rect(x, 2, 9, 9, fillColor=fill, strokeColor=colors.black, strokeWidth=0.5))
        if lines is not None:
            _hatch(d, x, 2, x + 9, 11, lines, 3)
        text = fit(f"{key} {count}")
        d.add(String(x + 12, 3, text, fontName=BOLD, fontSize=8.5, fillColor=colors.black))
        x += 12 + pdfmetrics.stringWidth(text, BOLD, 8.5) + 16
    voted = fit(f"{labels['voted']} {bar.V}")
    d.add(String(x, 3, voted, fontName=FONT, fontSize=8.5, fillColor=MUTED))
    return d


# --- sections ----------------------------------------------------------------------------------


def _proposal(p: ProposalReport, model: Report) -> KeepTogether:
    s, L = _styles(), model.labels
    badge = _badge(p.outcome.category, p.outcome.label)
    outcome = Table(
        [
            [
                badge,
                Paragraph("<b>" + _t(p.outcome.meaning) + "</b>", s["base"]),
            ]
        ],
        colWidths=[badge.width + 4, WIDTH - badge.width - 4],
        hAlign="LEFT",
    )
    outcome.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (0, 0), 0)])
    )
    parts: list[Flowable] = [
        Paragraph(f"{p.rank}. " + _t(p.heading), s["h3"]),
        outcome,
        _p(p.reason),
        Spacer(1, 3),
        _bar(p.bar, L, L.get("half", "half the room")),
    ]
    if p.lines:
        rows: list[list[Any]] = [
            [
                Paragraph(_t(h), s["head"])
                for h in (L["group"], L["voted"], L["want"], L["dont"], L["verdict"])
            ]
        ]
        spans = []
        for i, g in enumerate(p.lines, start=1):
            if g.suppressed:
                rows.append([_p(g.label, "cell"), _p(L["fewer"], "muted"), "", "", ""])
                spans.append(("SPAN", (1, i), (4, i)))
            else:
                rows.append(
                    [
                        _p(g.label, "cell"),
                        _p(str(g.V), "num"),
                        _p(str(g.W), "num"),
                        _p(str(g.D), "num"),
                        _p(g.verdict, "cell"),
                    ]
                )
        table = _table(rows, [WIDTH * 0.36, WIDTH * 0.14, WIDTH * 0.14, WIDTH * 0.16, WIDTH * 0.2])
        table.setStyle(TableStyle(spans))
        parts += [Spacer(1, 4), _p(L["groups_caption"], "small"), table]
    if p.not_counted:
        parts.append(_p(p.not_counted, "small"))
    parts.append(Spacer(1, 8))
    return KeepTogether(parts)


def _money(m: Money) -> list[Flowable]:
    s = _styles()
    rows: list[list[Any]] = [[Paragraph(_t(c), s["head"]) for c in m.columns]]
    rows += [[_p(cell, "cell") for cell in row] for row in m.rows]
    if not m.rows:
        rows.append([_p(m.empty, "cell")] + [""] * (len(m.columns) - 1))
    n = len(m.columns)
    widths = [WIDTH * 0.06] + [WIDTH * 0.94 / (n - 1)] * (n - 1)
    table = _table(rows, widths)
    if not m.rows:
        table.setStyle(TableStyle([("SPAN", (0, 1), (-1, 1))]))
    return [
        Paragraph("<b>" + _t(m.heading) + "</b>", s["base"]),
        _p(m.summary, "small"),
        table,
        _p(m.after),
        Spacer(1, 6),
    ]


def _glance(r: RoundReport, model: Report) -> Table:
    """Rank, proposal, outcome and counts: the round on a few lines."""
    s, L = _styles(), model.labels
    columns = (L["rank"], L["proposal"], L["outcome"], L["want"], L["neutral"], L["dont"])
    rows: list[list[Any]] = [[Paragraph(_t(c), s["head"]) for c in columns]]
    for p in r.proposals:
        counts = [_p(str(n), "num") for n in (p.bar.W, p.bar.N, p.bar.D)]
        badge = _badge(p.outcome.category, p.outcome.label)
        rows.append([_p(str(p.rank), "num"), _p(p.heading, "cell"), badge, *counts])
    widths = [0.08, 0.4, 0.18, 0.1, 0.12, 0.12]
    table = _table(rows, [WIDTH * w for w in widths])
    table.setStyle(TableStyle([("VALIGN", (0, 1), (-1, -1), "MIDDLE")]))
    return table


def _round(r: RoundReport, model: Report) -> list[Flowable]:
    s, L = _styles(), model.labels
    out: list[Flowable] = [
        Paragraph(_t(r.heading), s["h2"]),
        Paragraph(
            ("<b>" + _t(r.status) + "</b>" if r.live else _t(r.status)) + " " + _t(r.times),
            s["base"],
        ),
        Spacer(1, 4),
    ]
    if r.note:
        out += [Paragraph("<b>" + _t(r.note) + "</b>", s["base"]), Spacer(1, 4)]
    cells = [*r.turnout.rows, *r.turnout.channels]
    head = [Paragraph(_t(c.label), s["head"]) for c in r.turnout.rows]
    head += [Paragraph(_t(f"{L['voted']}: {c.label}"), s["head"]) for c in r.turnout.channels]
    values = [_p(c.value, "num") for c in cells]
    out += [
        Paragraph("<b>" + _t(L["turnout"]) + "</b> " + _t(f"({r.turnout.note})"), s["small"]),
        _table([head, values], [WIDTH / len(cells)] * len(cells)),
        Spacer(1, 4),
    ]
    if not r.voted:
        if not r.note or r.live:
            out.append(_p(L["no_votes"]))
    elif r.proposals:
        out += [Paragraph("<b>" + _t(L["glance"]) + "</b>", s["small"]), _glance(r, model)]
    out += [_proposal(p, model) for p in r.proposals]
    for m in r.money:
        out += _money(m)
    for item in r.items:  # a round of another kind of activity: each item's answers
        rows = [[_p(line.label, "cell"), _p(line.value, "num")] for line in item.lines]
        out += [_p(item.heading, "h3"), _p(item.summary, "small")]
        if rows:
            out.append(_table(rows, [WIDTH * 0.8, WIDTH * 0.2]))
    if r.survey is not None:
        out += _survey(r.survey)
    if r.lab is not None:
        out += _lab(r.lab)
    if r.review is not None:
        out += _review(r.review)
    if r.charter is not None:
        out += _charter(r.charter)
    return out


def _charter(ch: CharterSection) -> list[Flowable]:
    """A charter consent round's section: each clause's decision, then each of its wordings
    with its outcome, reasons, blocking groups, answers per consent level and affected groups
    (a suppressed group's figures are not in the section to print)."""
    s = _styles()
    out: list[Flowable] = [_p(ch.heading, "h2"), _p(ch.rule), _p(ch.suppression, "small")]
    if ch.empty:
        out.append(_p(ch.empty))
    for c in ch.clauses:
        out.append(Paragraph("<b>" + _t(c.heading) + "</b>", s["base"]))
        for w in c.wordings:
            lines: list[Flowable] = [
                _p(f"{w.place}: {w.text}", "h3"),
                Paragraph(
                    "<b>"
                    + _t(f"{w.icon} {w.outcome}")
                    + "</b>"
                    + (" · " + _t(w.chosen) if w.chosen else ""),
                    s["base"],
                ),
            ]
            lines += [Paragraph("\u2022 " + _t(reason), s["base"]) for reason in w.reasons]
            if w.blocking:
                lines.append(_p(w.blocking))
            head = [Paragraph(_t(col), s["head"]) for col in ch.answer_columns]
            rows: list[list[Any]] = [head]
            rows += [[_p(label, "cell"), _p(n, "num")] for label, n in w.answers]
            lines += [
                _p(f"{ch.answers_caption} ({w.summary})", "small"),
                _table(rows, [WIDTH * 0.6, WIDTH * 0.2]),
            ]
            if w.groups:
                grows: list[list[Any]] = [
                    [Paragraph(_t(col), s["head"]) for col in ch.group_columns]
                ]
                for g in w.groups:
                    figures = (
                        [_p(cell, "num") for cell in g.cells]
                        if not g.suppressed
                        else [_p(ch.hidden, "cell"), "", "", ""]
                    )
                    grows.append([_p(g.label, "cell"), *figures, _p(g.blocks, "cell")])
                table = _table(grows, [WIDTH * 0.25] + [WIDTH * 0.15] * 5)
                if any(g.suppressed for g in w.groups):
                    spans = [
                        ("SPAN", (1, i), (4, i))
                        for i, g in enumerate(w.groups, start=1)
                        if g.suppressed
                    ]
                    table.setStyle(TableStyle(spans))
                lines += [_p(ch.groups_caption, "small"), table]
            out.append(KeepTogether(lines))
    return out


def _review(rv: ReviewSection) -> list[Flowable]:
    """A charter review round's section: the scorecard (parties in bold, their commitments
    under them), then each chart with its table, kept with its heading."""
    from app.record import charts_pdf  # circular at the top (see `_survey`)

    s = _styles()
    rows: list[list[Any]] = [[Paragraph(_t(c), s["head"]) for c in rv.columns]]
    for row in rv.rows:
        label = f"<b>{_t(row.label)}</b>" if row.party else "\u2003" + _t(row.label)
        rows.append([Paragraph(label, s["cell"]), *(_p(c, "num") for c in row.cells)])
    widths = [WIDTH * 0.4] + [WIDTH * 0.12] * 5
    out: list[Flowable] = [_p(rv.heading, "h2"), _p(rv.intro, "small"), _table(rows, widths)]
    for chart in rv.charts:
        out.append(KeepTogether([_p(chart.figure.title, "h3"), *charts_pdf.flowables(chart)]))
    return out


def _lab(lb: LabSection) -> list[Flowable]:
    """A Lab round's section: the challenges, the ideas' and groups' counts, then the ideas
    ranked in one table (its header repeated on each page), each idea with its notes."""
    s = _styles()
    out: list[Flowable] = [_p(lb.heading, "h2"), _p(lb.challenges_heading, "h3")]
    out += [Paragraph("\u2022 " + _t(c), s["base"]) for c in lb.challenges]
    out += [_p(lb.ideas_summary), _p(lb.groups), _p(lb.suppression, "small")]
    rows: list[list[Any]] = [[Paragraph(_t(c), s["head"]) for c in lb.columns]]
    for line in lb.lines:
        idea = "<br/>".join([_t(line.text), *(_t(n) for n in line.notes)])
        rows.append(
            [
                _p(str(line.rank), "num"),
                Paragraph(idea, s["cell"]),
                _p(line.counts, "num"),
                _p(line.support, "num"),
                *(_p(g, "num") for g in line.by_group),
                _p(line.helpers, "num"),
            ]
        )
    # Each figure's column as wide as its heading's longest word (headings wrap between
    # words, never inside one), the idea's column what is left.
    fit_word = [
        max(pdfmetrics.stringWidth(w, BOLD, 8.5) for w in c.split()) + 14 for c in lb.columns
    ]
    figures = [max(34.0, min(WIDTH * 0.16, w)) for w in fit_word]
    figures[2] = max(figures[2], pdfmetrics.stringWidth("000 / 000 / 000", BOLD, 8.5) + 14)
    idea_width = max(WIDTH * 0.3, WIDTH - sum(figures) + figures[1])
    widths = [figures[0], idea_width, *figures[2:]]
    out += [_p(lb.caption, "small"), _table(rows, widths), _p(lb.pledges)]
    return out


def _survey(sv: SurveySection) -> list[Flowable]:
    """A survey round's section: each chart drawn with its table, the focus list, the weighted
    figures. A chart is kept with its heading and table: when they do not fit what is left of
    the page they start the next one (a table longer than a page still splits, its header
    repeated)."""
    # Imported here: charts_pdf draws with this module's fonts and styles, so it imports this
    # module, and a top-level import would be circular.
    from app.record import charts_pdf

    s = _styles()
    out: list[Flowable] = []
    # the section's heading and its first lines go with the first chart (a survey always
    # draws three), never alone at a page's foot
    lead: list[Flowable] = [
        _p(sv.heading, "h2"),
        _p(sv.summary + (" " + sv.channels if sv.channels else "")),
        _p(sv.suppression, "small"),
    ]
    for chart in sv.charts:
        out.append(
            KeepTogether([*lead, _p(chart.figure.title, "h3"), *charts_pdf.flowables(chart)])
        )
        lead = []
    focus: list[Flowable] = [_p(sv.focus_heading, "h3"), _p(sv.focus_intro)]
    focus += [Paragraph("\u2022 " + _t(line), s["base"]) for line in sv.focus]
    out.append(KeepTogether(focus))
    if sv.weighted is not None:
        w = sv.weighted
        rows: list[list[Any]] = [[Paragraph(_t(c), s["head"]) for c in w.columns]]
        rows += [[_p(row[0], "cell"), *(_p(cell, "num") for cell in row[1:])] for row in w.rows]
        n = len(w.columns)
        widths = [WIDTH * 0.36] + [WIDTH * 0.64 / (n - 1)] * (n - 1)
        out.append(
            KeepTogether(
                [_p(w.heading, "h3"), _p(w.text), _p(w.caption, "small"), _table(rows, widths)]
            )
        )
    return out


def _story(model: Report) -> list[Flowable]:
    s, L = _styles(), model.labels
    details = _table(
        [[_p(row.label, "head"), _p(row.value, "cell")] for row in model.details],
        [WIDTH * 0.22, WIDTH * 0.78],
        header=False,
    )
    details.setStyle(TableStyle([("BACKGROUND", (0, 0), (0, -1), SOFT)]))
    story: list[Flowable] = [
        _p(model.subtitle.upper(), "kicker"),
        _p(model.title, "h1"),
        details,
        _p(model.generated, "meta"),
    ]
    if model.interim:
        story.append(_p(model.interim, "note"))
    rule = model.rule
    if rule is not None:
        story.append(_p(rule.heading, "h2"))
        story += [_p(text) for text in rule.paragraphs]
        rows: list[list[Any]] = [
            [Paragraph(_t(L["outcome"]), s["head"]), Paragraph(_t(L["when"]), s["head"])]
        ]
        rows += [[_badge(o.category, o.label), _p(when, "cell")] for o, when in rule.outcomes]
        story += [
            Spacer(1, 4),
            _table(rows, [WIDTH * 0.22, WIDTH * 0.78]),
            _p(rule.ranking),
            _p(rule.suppression),
        ]
    if model.charter_rule is not None:
        story.append(_p(model.charter_rule.heading, "h2"))
        story += [_p(text) for text in model.charter_rule.paragraphs]
    if model.parts:  # some round is final or voided: the decision first
        for part in model.parts:
            story.append(_p(part.heading.upper(), "h2"))
            if part.intro:
                story.append(_p(part.intro))
            for r in part.rounds:
                story += _round(r, model)
    else:
        for r in model.rounds:
            story += _round(r, model)
    check = model.check
    story.append(_p(check.heading, "h2"))
    hashes: list[list[Any]] = [
        [Paragraph(_t(L["file"]), s["head"]), Paragraph(_t(L["sha256"]), s["head"])]
    ]
    hashes += [
        [_p(item.label, "cell"), Paragraph(escape(item.value), s["mono"])] for item in check.items
    ]
    story.append(KeepTogether([_table(hashes, [WIDTH * 0.37, WIDTH * 0.63])]))
    story += [
        _p("1. " + check.steps[0]),
        _p("2. " + check.steps[1]),
        Paragraph(escape(check.commands[0]), s["code"]),
        _p("3. " + check.steps[2]),
        Paragraph(escape(check.commands[1]), s["code"]),
    ]
    story.append(_approval(model))
    return story


def _approval(model: Report) -> KeepTogether:
    """ "Approved by": a labelled line for each of name, role, signature and date, to sign."""
    approval = model.approval
    rows: list[list[Any]] = [[_p(line, "head"), ""] for line in approval.lines]
    lines = Table(rows, colWidths=[WIDTH * 0.22, WIDTH * 0.6], rowHeights=[26] * len(rows))
    lines.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (1, 0), (1, -1), 0.8, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
            ]
        )
    )
    lines.hAlign = "LEFT"
    return KeepTogether([_p(approval.heading, "h2"), _p(approval.note), lines])


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
    _fonts()
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


def render(model: Report) -> bytes:
    """The report as PDF bytes."""
    _fonts()  # before the story: its paragraphs measure text in the report's fonts
    return build_pdf(
        _story(model),
        title=model.title,
        subject=f"{model.subtitle} · {model.date}",
        footer=model.footer,
        page_text=model.labels["page"],
        made_at=model.generated_at,
        lang=model.lang,
    )
