"""The survey's charts in the PDF report: a `figure.Figure` as a ReportLab `Drawing`.

The geometry is the one the SVG is written from (`app.record.charts`, `area_map`); this module
only translates it: y flipped (ReportLab's origin is bottom left), every size scaled so the
figure is `width` points wide, texts in the report's font (`pdf_page.fit`). ReportLab has no
fill patterns, so the hatch that marks "no data" and "fewer than m" is drawn as lines clipped to
the shape with shapely: the same 45-degree lines, the same spacing, as the SVG's pattern.

Contract: `drawing(figure, width) -> Drawing`; `flowables(chart, width)` the drawing and its
data table, ready for a story (`report_pdf.render` builds one).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import shapely
from reportlab.graphics.shapes import (
    Circle,
    Drawing,
    Group,
    Line,
    Path,
    String,
)
from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Flowable, Paragraph, Spacer

from app.record import figure as fig
from app.record.pdf_page import BOLD, FONT, WIDTH, fit, grid_table, markup, para, rect, styles

FILL_EVEN_ODD: Literal[0] = 0  # reportlab.graphics.shapes.FILL_EVEN_ODD, which its type stubs lack


def _colour(value: str | None) -> Any:
    return None if value is None else colors.HexColor(value)


class _Flip:
    """Figure units (y down) to points (y up), scaled by `s`."""

    def __init__(self, height: float, s: float) -> None:
        self.height, self.s = height, s

    def x(self, x: float) -> float:
        return x * self.s

    def y(self, y: float) -> float:
        return (self.height - y) * self.s


def _hatch(geometry: shapely.Geometry, f: _Flip) -> list[Line]:
    """45-degree lines every HATCH_STEP units (measured across them), clipped to `geometry`."""
    x0, y0, x1, y1 = (float(v) for v in shapely.bounds(geometry))
    step = fig.HATCH_STEP * math.sqrt(2)  # along x, for HATCH_STEP across the lines
    lines = []
    c = math.floor((x0 - y1) / step) * step
    while c <= x1 - y0:
        lines.append(shapely.LineString([(c + y0, y0), (c + y1, y1)]))
        c += step
    out = []
    ink = colors.HexColor(fig.HATCH_INK)
    cuts = shapely.intersection(shapely.MultiLineString(lines), geometry) if lines else None
    for part in shapely.get_parts(cuts) if cuts is not None else ():
        if not isinstance(part, shapely.LineString) or part.length == 0:
            continue
        (ax, ay), (bx, by) = part.coords[0], part.coords[-1]
        width = fig.HATCH_STEP / 2.5 * f.s
        out.append(Line(f.x(ax), f.y(ay), f.x(bx), f.y(by), strokeColor=ink, strokeWidth=width))
    return out


def _geometry_of_rings(rings: tuple[fig.Ring, ...]) -> shapely.Geometry:
    """The even-odd area of `rings`, as the SVG fills it."""
    area: shapely.Geometry = shapely.Polygon()
    for ring in rings:
        if len(ring) >= 3:
            area = shapely.symmetric_difference(area, shapely.make_valid(shapely.Polygon(ring)))
    return area


def _text(item: fig.Text, f: _Flip) -> Any:
    string = String(
        0 if item.angle else f.x(item.x),
        0 if item.angle else f.y(item.y),
        fit(fig.plain(item.text)),
        fontName=BOLD if item.bold else FONT,
        fontSize=item.size * f.s,
        fillColor=_colour(item.fill),
        textAnchor=item.anchor,
    )
    if not item.angle:
        return string
    group = Group(string)
    group.translate(f.x(item.x), f.y(item.y))
    group.rotate(-item.angle)  # the figure turns clockwise with y down: anticlockwise here
    return group


def _items(item: fig.Item, f: _Flip) -> list[Any]:
    s = f.s
    if isinstance(item, fig.Rect):
        x, y, w, h = f.x(item.x), f.y(item.y + item.h), item.w * s, item.h * s
        fill, stroke = _colour(item.fill), _colour(item.stroke)
        if not item.pattern:
            return [
                rect(
                    x,
                    y,
                    w,
                    h,
                    fillColor=fill,
                    strokeColor=stroke,
                    strokeWidth=item.stroke_width * s,
                )
            ]
        # the fill, then the hatch, then the outline over both
        box = shapely.box(item.x, item.y, item.x + item.w, item.y + item.h)
        return [
            rect(x, y, w, h, fillColor=fill, strokeColor=None),
            *_hatch(box, f),
            rect(x, y, w, h, fillColor=None, strokeColor=stroke, strokeWidth=item.stroke_width * s),
        ]
    if isinstance(item, fig.Line):
        line = Line(
            f.x(item.x1),
            f.y(item.y1),
            f.x(item.x2),
            f.y(item.y2),
            strokeColor=_colour(item.stroke),
            strokeWidth=item.width * s,
        )
        if item.dash:
            line.strokeDashArray = [d * s for d in item.dash]
        return [line]
    if isinstance(item, fig.Circle):
        return [
            Circle(
                f.x(item.cx),
                f.y(item.cy),
                item.r * s,
                fillColor=_colour(item.fill),
                strokeColor=_colour(item.stroke),
                strokeWidth=item.stroke_width * s,
            )
        ]
    if isinstance(item, fig.Shape):
        path = Path(
            fillColor=_colour(item.fill),
            strokeColor=_colour(item.stroke),
            strokeWidth=item.stroke_width * s,
            fillMode=FILL_EVEN_ODD,
        )
        for ring in item.rings:
            (x, y), *rest = ring
            path.moveTo(f.x(x), f.y(y))
            for x, y in rest:
                path.lineTo(f.x(x), f.y(y))
            path.closePath()
        if not item.pattern:
            return [path]
        # the fill, then the hatch, then the outline over both
        fill_only = Path(
            path.points,
            path.operators,
            fillColor=path.fillColor,
            strokeColor=None,
            fillMode=FILL_EVEN_ODD,
        )
        outline = Path(
            path.points,
            path.operators,
            fillColor=None,
            strokeColor=path.strokeColor,
            strokeWidth=path.strokeWidth,
        )
        return [fill_only, *_hatch(_geometry_of_rings(item.rings), f), outline]
    return [_text(item, f)]


# A4's frame is about 770 pt high in the report (16 mm margins), 686 pt with 1-inch margins: a
# drawing taller than that cannot be placed (ReportLab does not split drawings): scaled down.
MAX_HEIGHT = 640.0


def drawing(figure: fig.Figure, width: float = WIDTH, max_height: float = MAX_HEIGHT) -> Drawing:
    """The figure as a Drawing `width` points wide (its height in proportion), or narrower if
    it would be taller than `max_height` (60 bars, say)."""
    scale = min(width / figure.width, max_height / figure.height)
    width = figure.width * scale
    f = _Flip(figure.height, scale)
    d = Drawing(width, figure.height * f.s)
    for item in figure.items:
        for shape in _items(item, f):
            d.add(shape)
    return d


# A table wider than a row header and this many figures is cut into parts, each with the row
# headers again: eleven columns on A4 would break every heading and cell mid-word.
MAX_FIGURES = 6
CELL_PADDING = 12  # a table cell's left and right padding together (ReportLab's default 6 + 6)


def _word_width(text: str, font: str) -> float:
    words = fit(text).split() or [""]
    return max(pdfmetrics.stringWidth(w, font, 8.5) for w in words)


def _widths(header: Sequence[str], rows: Sequence[Sequence[str]], width: float) -> list[float]:
    """Each figure column at least as wide as its longest word (so no word is broken), the row
    headers as wide as their longest (at least 20% of the table, and up to 30% when the figures
    need the rest), what is left shared by the figures; figures squeezed in proportion when
    they cannot all fit."""
    if len(header) == 1:
        return [width]
    need = [
        max(
            [_word_width(header[c], BOLD)]
            + [_word_width(row[c], FONT) for row in rows if c < len(row)]
        )
        + CELL_PADDING
        for c in range(1, len(header))
    ]
    labels = max(
        [pdfmetrics.stringWidth(fit(header[0]), BOLD, 8.5)]
        + [pdfmetrics.stringWidth(fit(row[0]), FONT, 8.5) for row in rows if row]
    )
    first = min(max(labels + CELL_PADDING, width * 0.2), max(width - sum(need), width * 0.3))
    scale = min(1.0, (width - first) / sum(need))
    spare = (width - first - sum(need) * scale) / len(need)
    return [first] + [n * scale + spare for n in need]


def _parts(columns: int) -> list[list[int]]:
    """The figure columns of each part (column 0, the row headers, starts every part),
    balanced: 10 figures make parts of 5 and 5, not 6 and 4."""
    figures = list(range(1, columns))
    if len(figures) <= MAX_FIGURES:
        return [figures]
    count = math.ceil(len(figures) / MAX_FIGURES)
    size = math.ceil(len(figures) / count)
    return [figures[i : i + size] for i in range(0, len(figures), size)]


def flowables(chart: fig.Chart, width: float = WIDTH) -> list[Flowable]:
    """The chart, its notes (the numbered labels' key is already drawn) and its data table,
    cut into parts of at most MAX_FIGURES figure columns, each with the row headers."""
    table = chart.table
    s = styles()
    header = [fig.plain(h) for h in table.header]
    body = [[fig.plain(c) for c in row] for row in table.rows]
    out: list[Flowable] = [
        drawing(chart.figure, width),
        Spacer(1, 6),
        para(fig.plain(table.caption), "small"),
    ]
    for part in _parts(len(header)):
        keep = [0, *part]
        head = [header[c] for c in keep]
        rows_text = [[row[c] if c < len(row) else "" for c in keep] for row in body]
        rows: list[list[Any]] = [[Paragraph(markup(h), s["head"]) for h in head]]
        rows += [[para(c, "cell") for c in row] for row in rows_text]
        out.append(grid_table(rows, _widths(head, rows_text, width)))
    return out
