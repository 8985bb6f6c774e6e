"""The results report's room vote in the PDF: outcome badges, vote bars, proposals, money.

Draws `app.record.report_vote` / `report_money` sections onto the page of
app/record/pdf_page.py: `outcome_badge(category, label)` an outcome's badge (its colours in
`BADGES`), `proposal(p, model)` a proposal's block kept on one page (badge and meaning, reason, bar,
affected groups' table, suppressed groups' figures never shown), `glance(round, model)` the
round on a few lines, `money(m)` a budget's or a savings target's table.
"""

from __future__ import annotations

from typing import Any, Literal

from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from app.record.pdf_page import (
    BOLD,
    DONT,
    DONT_DARK,
    FONT,
    MUTED,
    NEUTRAL,
    NEUTRAL_DARK,
    NOTE_BG,
    WANT,
    WIDTH,
    fit,
    grid_table,
    markup,
    para,
    rect,
    styles,
)
from app.record.report import Report, RoundReport
from app.record.report_money import Money
from app.record.report_vote import Bar, ProposalReport

BADGES = {  # category: (fill, border, text)
    "SUPPORTED": (WANT, WANT, colors.white),
    "PROTECTED": (colors.white, WANT, colors.HexColor("#072f57")),
    "CONTESTED": (NOTE_BG, colors.black, colors.black),
    "REJECTED": (colors.white, DONT_DARK, DONT_DARK),
}


def outcome_badge(category: str, label: str) -> Drawing:
    fill, border, text = BADGES.get(category, (colors.white, colors.black, colors.black))
    size = 8.5
    w = pdfmetrics.stringWidth(fit(label), BOLD, size) + 14
    d = Drawing(w + 2, 16)
    d.add(rect(1, 1, w, 14, rx=7, ry=7, fillColor=fill, strokeColor=border, strokeWidth=1.5))
    if category == "PROTECTED":  # a double border, as on the projector
        d.add(rect(3, 3, w - 4, 10, rx=5, ry=5, fillColor=None, strokeColor=border, strokeWidth=1))
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
            d.add(rect(x, y, w, h, fillColor=fill, strokeColor=None))
            if lines is not None:
                _hatch(d, x, y, x + w, y + h, lines, 6 if fill is DONT else 5)
        x += w
    d.add(rect(0, y, WIDTH, h, fillColor=None, strokeColor=colors.black, strokeWidth=0.8))
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
            d.add(rect(bx, y + 4, box, 12, fillColor=back, strokeColor=None))
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
        d.add(rect(x, 2, 9, 9, fillColor=fill, strokeColor=colors.black, strokeWidth=0.5))
        if lines is not None:
            _hatch(d, x, 2, x + 9, 11, lines, 3)
        text = fit(f"{key} {count}")
        d.add(String(x + 12, 3, text, fontName=BOLD, fontSize=8.5, fillColor=colors.black))
        x += 12 + pdfmetrics.stringWidth(text, BOLD, 8.5) + 16
    voted = fit(f"{labels['voted']} {bar.V}")
    d.add(String(x, 3, voted, fontName=FONT, fontSize=8.5, fillColor=MUTED))
    return d


def proposal(p: ProposalReport, model: Report) -> KeepTogether:
    s, L = styles(), model.labels
    badge = outcome_badge(p.outcome.category, p.outcome.label)
    outcome = Table(
        [
            [
                badge,
                Paragraph("<b>" + markup(p.outcome.meaning) + "</b>", s["base"]),
            ]
        ],
        colWidths=[badge.width + 4, WIDTH - badge.width - 4],
        hAlign="LEFT",
    )
    outcome.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (0, 0), 0)])
    )
    parts: list[Flowable] = [
        Paragraph(f"{p.rank}. " + markup(p.heading), s["h3"]),
        outcome,
        para(p.reason),
        Spacer(1, 3),
        _bar(p.bar, L, L.get("half", "half the room")),
    ]
    if p.lines:
        rows: list[list[Any]] = [
            [
                Paragraph(markup(h), s["head"])
                for h in (L["group"], L["voted"], L["want"], L["dont"], L["verdict"])
            ]
        ]
        spans = []
        for i, g in enumerate(p.lines, start=1):
            if g.suppressed:
                rows.append([para(g.label, "cell"), para(L["fewer"], "muted"), "", "", ""])
                spans.append(("SPAN", (1, i), (4, i)))
            else:
                rows.append(
                    [
                        para(g.label, "cell"),
                        para(str(g.V), "num"),
                        para(str(g.W), "num"),
                        para(str(g.D), "num"),
                        para(g.verdict, "cell"),
                    ]
                )
        table = grid_table(
            rows, [WIDTH * 0.36, WIDTH * 0.14, WIDTH * 0.14, WIDTH * 0.16, WIDTH * 0.2]
        )
        table.setStyle(TableStyle(spans))
        parts += [Spacer(1, 4), para(L["groups_caption"], "small"), table]
    if p.not_counted:
        parts.append(para(p.not_counted, "small"))
    parts.append(Spacer(1, 8))
    return KeepTogether(parts)


def money(m: Money) -> list[Flowable]:
    s = styles()
    rows: list[list[Any]] = [[Paragraph(markup(c), s["head"]) for c in m.columns]]
    rows += [[para(cell, "cell") for cell in row] for row in m.rows]
    if not m.rows:
        rows.append([para(m.empty, "cell")] + [""] * (len(m.columns) - 1))
    n = len(m.columns)
    widths = [WIDTH * 0.06] + [WIDTH * 0.94 / (n - 1)] * (n - 1)
    table = grid_table(rows, widths)
    if not m.rows:
        table.setStyle(TableStyle([("SPAN", (0, 1), (-1, 1))]))
    return [
        Paragraph("<b>" + markup(m.heading) + "</b>", s["base"]),
        para(m.summary, "small"),
        table,
        para(m.after),
        Spacer(1, 6),
    ]


def glance(r: RoundReport, model: Report) -> Table:
    """Rank, proposal, outcome and counts: the round on a few lines."""
    s, L = styles(), model.labels
    columns = (L["rank"], L["proposal"], L["outcome"], L["want"], L["neutral"], L["dont"])
    rows: list[list[Any]] = [[Paragraph(markup(c), s["head"]) for c in columns]]
    for p in r.proposals:
        counts = [para(str(n), "num") for n in (p.bar.W, p.bar.N, p.bar.D)]
        badge = outcome_badge(p.outcome.category, p.outcome.label)
        rows.append([para(str(p.rank), "num"), para(p.heading, "cell"), badge, *counts])
    widths = [0.08, 0.4, 0.18, 0.1, 0.12, 0.12]
    table = grid_table(rows, [WIDTH * w for w in widths])
    table.setStyle(TableStyle([("VALIGN", (0, 1), (-1, -1), "MIDDLE")]))
    return table
