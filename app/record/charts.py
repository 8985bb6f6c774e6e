"""The survey's charts: the priority matrix, ranking bars and heat maps, as `figure.Chart`s.

Pure. Each builder takes generic figures (labels, numbers, None for a suppressed cell) and the
words to show, already translated, and returns a `Chart`: the geometry (`.svg` for pages,
`charts_pdf.drawing` for the PDF) and its `DataTable` for screen readers and the report. Nothing
here knows about surveys: the tabulation decides what is suppressed, the caller sorts.

Colour never carries meaning alone: the matrix's quadrants are named on the chart and in the
table, suppressed cells are hatched and explained in the legend, heat map cells print their
value. Every text is cleaned and escaped by `figure`, so a facilitator's label cannot break out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeGuard

from app.core.messages import N_
from app.record.figure import (
    CANVAS_W,
    GRID,
    HATCH,
    HEADING,
    INK,
    MAX_CLASSES,
    MUTED,
    SMALL,
    TEXT,
    WHITE,
    Anchor,
    Chart,
    Circle,
    Classes,
    DataTable,
    Figure,
    Item,
    Line,
    Rect,
    Text,
    classify,
    ink_on,
    nice_ticks,
    number,
    plain,
    shorten,
    text_width,
    tick_decimals,
)

# Bounds on what one chart shows: beyond these it is unreadable on a projector (and a survey
# has at most 60 services, 200 areas); the caller splits or the table carries the rest.
MAX_POINTS = 60
MAX_BARS = 60
MAX_ROWS = 60
MAX_COLUMNS = 30
LABEL_CHARS = 28  # a point's label on the matrix; the table has it whole

# Words the charts use, for callers to translate and pass in (the builders take translated text).
QUADRANT = N_("Quadrant")
ANSWERS = N_("n = %(n)s")  # a bar's number of answers
INTERVAL = N_("Confidence interval")  # of the mean: the whisker
# The service map's quadrants (value up, satisfaction right): top left, top right, bottom left,
# bottom right, the order `priority_matrix` takes them in.
QUADRANT_NAMES = (
    N_("Fix first"),
    N_("Keep it up"),
    N_("Lower priority"),
    N_("Savings may be accepted"),
)
# What the hatch means on a heat map or an area map, with the meeting's m.
SUPPRESSED = N_("No answers, or fewer than %(m)s")

# The matrix's quadrants, light enough for INK text (over 13:1) and told apart by their names.
QUADRANT_TINTS = ("#fde0c5", "#d6e9f8", "#ececec", "#dcefd9")  # TL, TR, BL, BR
BAR = "#21908d"  # viridis' middle: 5.4:1 against INK, so a whisker over it stays visible


@dataclass(frozen=True)
class MatrixPoint:
    """One service on the matrix: its mean x and y, each with an optional confidence interval's
    half-width, and the number of answers."""

    label: str
    x: float
    y: float
    x_ci: float | None = None
    y_ci: float | None = None
    n: int | None = None


@dataclass(frozen=True)
class BarRow:
    """One bar: a value (None: suppressed or no answers), its answers and an optional interval."""

    label: str
    value: float | None
    n: int | None = None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Legend:
    """A sequential scale's key. `missing` says what the hatch means (SUPPRESSED, translated,
    with the meeting's m); `bounds` (ascending) fixes the classes, else `classes` equal
    intervals over the values."""

    title: str
    missing: str
    fmt: Callable[[float], str] = field(default=number, compare=False)
    classes: int = MAX_CLASSES
    bounds: tuple[float, ...] | None = None

    def classes_for(self, values: Sequence[float]) -> Classes:
        return classify(values, most=self.classes, bounds=self.bounds)


def _finite(value: float | None) -> TypeGuard[float]:
    return value is not None and math.isfinite(value)


def _check(count: int, most: int, what: str) -> None:
    if count > most:
        raise ValueError(f"a chart shows at most {most} {what}, not {count}")


# --- the priority matrix ------------------------------------------------------------------------


Box = tuple[float, float, float, float]  # x0, y0, x1, y1


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _label_spot(
    x: float, y: float, text: str, taken: list[Box], plot: Box, *, force: bool = False
) -> tuple[Text, Box] | None:
    """The first place around (x, y) where `text` fits inside `plot` and over nothing taken
    (`force`: inside `plot`, over whatever is there: a number must be shown)."""
    w, h = text_width(text, SMALL), SMALL
    gap = 12.0
    spots: tuple[tuple[float, float, Anchor], ...] = (
        (gap, 6, "start"),
        (-gap, 6, "end"),
        (0, -gap - 2, "middle"),
        (0, gap + h, "middle"),
        (gap, -gap, "start"),
        (-gap, -gap, "end"),
        (gap, gap + h - 4, "start"),
        (-gap, gap + h - 4, "end"),
    )
    for dx, dy, anchor in spots:
        tx, ty = x + dx, y + dy
        x0 = tx if anchor == "start" else tx - w if anchor == "end" else tx - w / 2
        box = (x0 - 2, ty - h + 2, x0 + w + 2, ty + 5)
        inside = plot[0] <= box[0] and box[2] <= plot[2] and plot[1] <= box[1] and box[3] <= plot[3]
        if inside and (force or not any(_overlaps(box, t) for t in taken)):
            return Text(tx, ty, text, SMALL, anchor, cls="point-label"), box
    return None


def _ci(value: float | None, decimals: int) -> str:
    return f" (\u00b1 {number(value, decimals)})" if value is not None else ""


def priority_matrix(
    points: Sequence[MatrixPoint],
    *,
    title: str,
    description: str,
    x_label: str,
    y_label: str,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    x_split: float,
    y_split: float,
    quadrant_labels: tuple[str, str, str, str],
    quadrant_header: str = QUADRANT,
    label_header: str = "",
    decimals: int = 1,
) -> Chart:
    """A scatter of `points` over four shaded, named quadrants, with error bars and axis ticks.

    `quadrant_labels` are (top left, top right, bottom left, bottom right); a point at a split
    counts as right of / above it. Each point is labelled beside itself where that overlaps
    nothing, else numbered, its number and label listed under the plot (and in `Chart.notes`).
    The table has a row per point, in the given order: label (its column headed
    `label_header`), x, y (with the interval), n and quadrant.

    Raises:
        ValueError: more than MAX_POINTS points, a point off the number line (NaN, infinite),
            or an empty range.
    """
    _check(len(points), MAX_POINTS, "points")
    if not all(math.isfinite(v) for p in points for v in (p.x, p.y)):
        raise ValueError("every point needs finite x and y")
    (x_lo, x_hi), (y_lo, y_hi) = x_range, y_range
    if not (x_hi > x_lo and y_hi > y_lo):
        raise ValueError("each range needs low < high")
    left, top, right, plot_h = 110.0, 20.0, CANVAS_W - 30, 560.0
    bottom = top + plot_h
    plot: Box = (left, top, right, bottom)

    def px(v: float) -> float:
        return left + (min(max(v, x_lo), x_hi) - x_lo) / (x_hi - x_lo) * (right - left)

    def py(v: float) -> float:
        return top + (y_hi - min(max(v, y_lo), y_hi)) / (y_hi - y_lo) * plot_h

    sx, sy = px(x_split), py(y_split)
    items: list[Item] = []
    quads = (
        (left, top, sx, sy),
        (sx, top, right, sy),
        (left, sy, sx, bottom),
        (sx, sy, right, bottom),
    )
    for i, (x0, y0, x1, y1) in enumerate(quads):
        items.append(Rect(x0, y0, x1 - x0, y1 - y0, QUADRANT_TINTS[i], cls="quadrant", key=str(i)))
    xt, yt = nice_ticks(x_lo, x_hi), nice_ticks(y_lo, y_hi)
    xd, yd = tick_decimals(xt), tick_decimals(yt)
    for t in xt:
        items.append(Line(px(t), top, px(t), bottom, GRID, 0.75, cls="grid"))
        items.append(Text(px(t), bottom + 24, number(t, xd), SMALL, "middle", fill=MUTED))
    for t in yt:
        items.append(Line(left, py(t), right, py(t), GRID, 0.75, cls="grid"))
        items.append(Text(left - 10, py(t) + 6, number(t, yd), SMALL, "end", fill=MUTED))
    items.append(Line(sx, top, sx, bottom, INK, 2, (8, 5), cls="split"))
    items.append(Line(left, sy, right, sy, INK, 2, (8, 5), cls="split"))
    items.append(Rect(left, top, right - left, plot_h, None, INK, 1.5))
    items.append(Text((left + right) / 2, bottom + 56, x_label, TEXT, "middle", bold=True))
    items.append(Text(36, (top + bottom) / 2, y_label, TEXT, "middle", bold=True, angle=-90))

    taken: list[Box] = []
    pad = 10.0
    corners: tuple[tuple[float, Anchor], ...] = ((left + pad, "start"), (right - pad, "end"))
    for i, name in enumerate(quadrant_labels):
        x, anchor = corners[i % 2]
        y = top + pad + HEADING if i < 2 else bottom - pad
        label = shorten(plain(name), HEADING, (right - left) / 2 - 3 * pad, bold=True)
        w = text_width(label, HEADING, bold=True)
        x0 = x if anchor == "start" else x - w
        taken.append((x0 - 4, y - HEADING, x0 + w + 4, y + 6))
        items.append(Text(x, y, label, HEADING, anchor, bold=True, cls="quadrant-label"))

    marks: list[Item] = []
    for p in points:
        x, y = px(p.x), py(p.y)
        taken.append((x - 10, y - 10, x + 10, y + 10))
        for ci, horizontal in ((p.x_ci, True), (p.y_ci, False)):
            if ci is None or not (math.isfinite(ci) and ci > 0):
                continue
            if horizontal:
                a, b = px(p.x - ci), px(p.x + ci)
                marks += [Line(a, y, b, y, INK, 2), Line(a, y - 6, a, y + 6, INK, 2)]
                marks.append(Line(b, y - 6, b, y + 6, INK, 2))
                taken.append((a - 1, y - 6, b + 1, y + 6))  # no label across a whisker
            else:
                a, b = py(p.y - ci), py(p.y + ci)
                marks += [Line(x, a, x, b, INK, 2), Line(x - 6, a, x + 6, a, INK, 2)]
                marks.append(Line(x - 6, b, x + 6, b, INK, 2))
                taken.append((x - 6, b - 1, x + 6, a + 1))
    labels: list[Item] = []
    key: list[str] = []
    for k, p in enumerate(points, start=1):
        x, y = px(p.x), py(p.y)
        marks.append(Circle(x, y, 8, INK, WHITE, 2.5, cls="point", key=plain(p.label)))
        name = shorten(plain(p.label), SMALL, LABEL_CHARS * SMALL * 0.62)
        spot = (
            _label_spot(x, y, name, taken, plot)
            or _label_spot(x, y, str(k), taken, plot)
            or _label_spot(x, y, str(k), taken, plot, force=True)
        )
        if spot is None or spot[0].text != name:
            key.append(f"{k}. {plain(p.label)}")
        if spot is not None:
            labels.append(spot[0])
            taken.append(spot[1])
    items += marks + labels
    height = bottom + 80
    for line in key:
        shown = shorten(line, SMALL, right - left)
        items.append(Text(left, height, shown, SMALL, fill=INK, cls="key"))
        height += SMALL + 8

    def quadrant(p: MatrixPoint) -> str:
        return quadrant_labels[(0 if p.y >= y_split else 2) + (1 if p.x >= x_split else 0)]

    rows = tuple(
        (
            plain(p.label),
            number(p.x, decimals) + _ci(p.x_ci, decimals),
            number(p.y, decimals) + _ci(p.y_ci, decimals),
            "" if p.n is None else str(p.n),
            plain(quadrant(p)),
        )
        for p in points
    )
    table = DataTable(title, (label_header, x_label, y_label, "n", quadrant_header), rows)
    return Chart(Figure(CANVAS_W, height + 10, title, description, tuple(items)), table, tuple(key))


# --- ranking bars -------------------------------------------------------------------------------


def ranking_bars(
    rows: Sequence[BarRow],
    *,
    title: str,
    description: str,
    value_label: str,
    value_range: tuple[float, float],
    missing: str = "\u2013",
    n_text: str = ANSWERS,
    interval_header: str = INTERVAL,
    label_header: str = "",
    decimals: int = 1,
) -> Chart:
    """Horizontal bars in the caller's order, each with its value and n at the right and an
    optional interval as a whisker; a row without a value (None, or not finite) is hatched and
    says `missing` (give a suppressed row n=None: its n would say what is hidden).

    Raises:
        ValueError: more than MAX_BARS rows, or an empty range.
    """
    _check(len(rows), MAX_BARS, "bars")
    lo, hi = value_range
    if not hi > lo:
        raise ValueError("the range needs low < high")
    longest = max((text_width(plain(r.label), TEXT) for r in rows), default=0.0)
    label_w = min(CANVAS_W * 0.36, longest + 8)
    x0, x1 = label_w + 24, CANVAS_W - 200
    row_h, bar_h, top = 46.0, 26.0, 20.0

    def px(v: float) -> float:
        return x0 + (min(max(v, lo), hi) - lo) / (hi - lo) * (x1 - x0)

    items: list[Item] = []
    ticks = nice_ticks(lo, hi)
    decimals_t = tick_decimals(ticks)
    bottom = top + row_h * len(rows)
    for t in ticks:
        items.append(Line(px(t), top - 6, px(t), bottom, GRID, 0.75, cls="grid"))
        items.append(Text(px(t), bottom + 24, number(t, decimals_t), SMALL, "middle", fill=MUTED))
    table_rows = []
    for i, r in enumerate(rows):
        y = top + i * row_h + (row_h - bar_h) / 2
        mid = y + bar_h / 2
        label = plain(r.label)
        items.append(Text(label_w, mid + 6, shorten(label, TEXT, label_w), TEXT, "end"))
        n = "" if r.n is None else n_text % {"n": r.n}
        if r.value is None or not math.isfinite(r.value):
            items.append(Rect(x0, y, x1 - x0, bar_h, WHITE, GRID, 1, HATCH, cls="bar missing"))
            items.append(Text(x1 + 16, mid + 6, missing, TEXT, fill=INK))
            table_rows.append((label, missing, n, ""))
            continue
        items.append(Rect(x0, y, px(r.value) - x0, bar_h, BAR, None, cls="bar", key=label))
        if _finite(r.low) and _finite(r.high):
            a, b = px(r.low), px(r.high)
            items += [Line(a, mid, b, mid, INK, 2.5, cls="whisker")]
            items += [
                Line(a, mid - 8, a, mid + 8, INK, 2.5),
                Line(b, mid - 8, b, mid + 8, INK, 2.5),
            ]
        shown = number(r.value, decimals)
        items.append(Text(x1 + 16, mid + 6, shown, TEXT, bold=True))
        items.append(
            Text(x1 + 24 + text_width(shown, TEXT, bold=True), mid + 6, n, SMALL, fill=MUTED)
        )
        interval = (
            f"{number(r.low, decimals)} \u2013 {number(r.high, decimals)}"
            if _finite(r.low) and _finite(r.high)
            else ""
        )
        table_rows.append((label, shown, n, interval))
    items.append(Line(x0, top - 6, x0, bottom, INK, 1.5))
    items.append(Text((x0 + x1) / 2, bottom + 56, value_label, TEXT, "middle", bold=True))
    table = DataTable(title, (label_header, value_label, "n", interval_header), tuple(table_rows))
    return Chart(Figure(CANVAS_W, bottom + 72, title, description, tuple(items)), table)


# --- heat map -----------------------------------------------------------------------------------


def legend_items(
    legend: Legend, classes: Classes, x: float, y: float, width: float, *, with_missing: bool
) -> tuple[list[Item], float]:
    """The legend's title and swatches, flowing left to right from (x, y) within `width`; the
    items and the y below them."""
    items: list[Item] = [Text(x, y + TEXT, legend.title, TEXT, bold=True, cls="legend-title")]
    y += TEXT + 14
    entries: list[tuple[Rect, str]] = []
    for colour, label in zip(classes.colours, classes.labels(legend.fmt), strict=True):
        entries.append((Rect(0, 0, 30, 22, colour, INK, 1, cls="legend-class"), label))
    if with_missing:
        entries.append(
            (Rect(0, 0, 30, 22, WHITE, INK, 1, HATCH, cls="legend-missing"), legend.missing)
        )
    cx = x
    for swatch, label in entries:
        label = plain(label)
        w = 30 + 10 + text_width(label, SMALL) + 26
        if cx > x and cx + w > x + width:
            cx, y = x, y + 34
        items.append(Rect(cx, y, 30, 22, swatch.fill, INK, 1, swatch.pattern, cls=swatch.cls))
        items.append(Text(cx + 40, y + 17, label, SMALL))
        cx += w
    return items, y + 34


def heat_map(
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    cells: Sequence[Sequence[float | None]],
    *,
    title: str,
    description: str,
    legend: Legend,
    corner: str = "",
) -> Chart:
    """A grid of counts or shares coloured by class, each cell printing its value; a None (or
    not finite) cell, suppressed (fewer than the meeting's m), is hatched, printed as nothing
    and explained by `legend.missing`. `corner` heads the table's first column.

    Raises:
        ValueError: more than MAX_ROWS rows or MAX_COLUMNS columns, or ragged cells.
    """
    _check(len(row_labels), MAX_ROWS, "rows")
    _check(len(col_labels), MAX_COLUMNS, "columns")
    if len(cells) != len(row_labels) or any(len(r) != len(col_labels) for r in cells):
        raise ValueError("cells must have a row per row label and a cell per column label")
    cells = [[v if v is not None and math.isfinite(v) else None for v in row] for row in cells]
    values = [v for row in cells for v in row if v is not None]
    classes = legend.classes_for(values)
    longest = max((text_width(plain(r), TEXT) for r in row_labels), default=0.0)
    label_w = min(CANVAS_W * 0.32, longest + 8)
    x0 = label_w + 16
    cell_w = (CANVAS_W - 10 - x0) / max(1, len(col_labels))
    cols = [plain(c) for c in col_labels]
    upright = all(text_width(c, SMALL, bold=True) <= cell_w - 6 for c in cols)
    head = 40.0
    if not upright:  # labels at 45 degrees, shortened to 250 units: room above and at the right
        reach = min(250.0, max(text_width(c, SMALL, bold=True) for c in cols)) * math.sqrt(0.5)
        head = reach + 30
        n = len(cols)
        cell_w = min(cell_w, (CANVAS_W - 14 - reach - x0) / (n - 0.5))
    top, cell_h = 10 + head, 44.0
    items: list[Item] = []
    for j, c in enumerate(cols):
        cx = x0 + (j + 0.5) * cell_w
        if upright:
            items.append(Text(cx, top - 12, c, SMALL, "middle", bold=True))
        else:
            short = shorten(c, SMALL, 250, bold=True)
            items.append(Text(cx + 4, top - 10, short, SMALL, "start", bold=True, angle=-45))
    for i, (label, row) in enumerate(zip(row_labels, cells, strict=True)):
        y = top + i * cell_h
        items.append(
            Text(label_w, y + cell_h / 2 + 6, shorten(plain(label), TEXT, label_w), TEXT, "end")
        )
        for j, v in enumerate(row):
            x = x0 + j * cell_w
            if v is None:
                items.append(
                    Rect(x, y, cell_w, cell_h, WHITE, WHITE, 2, HATCH, cls="cell suppressed")
                )
                continue
            fill = classes.colours[classes.of(v)]
            items.append(Rect(x, y, cell_w, cell_h, fill, WHITE, 2, cls="cell"))
            shown = shorten(legend.fmt(v), SMALL, cell_w - 4)
            items.append(
                Text(x + cell_w / 2, y + cell_h / 2 + 6, shown, SMALL, "middle", fill=ink_on(fill))
            )
    bottom = top + cell_h * len(row_labels)
    key, end = legend_items(
        legend,
        classes,
        10,
        bottom + 16,
        CANVAS_W - 20,
        with_missing=len(values) < sum(map(len, cells)),
    )
    items += key
    rows = tuple(
        (plain(label), *(legend.missing if v is None else legend.fmt(v) for v in row))
        for label, row in zip(row_labels, cells, strict=True)
    )
    table = DataTable(title, (corner, *cols), rows)
    return Chart(Figure(CANVAS_W, end + 6, title, description, tuple(items)), table)
