"""A chart's geometry, drawn once and written out as SVG here or as ReportLab in `charts_pdf`.

Pure. A `Figure` is a list of flat shapes in user units (x to the right, y down, as in SVG) on
a `width` x `height` canvas, with the chart's title and description; the chart builders
(`charts`, `area_map`) compute it once and every renderer only translates it, so the projector,
the console and the PDF show the same chart. `DataTable` is the same figures as a table, for
screen readers and the report (`table_html`).

The SVG (`svg`) is safe to inline in a page: every text is escaped and cleaned of characters
XML cannot hold, there is no script, no style attribute (CSP) and no external reference; its
ids (title, description, hatch pattern) start with a prefix hashed from the figure, so two
charts on one page do not clash and the same figure gives the same bytes. It is accessible
(`role="img"`, `<title>` and `<desc>` named by `aria-labelledby`) and scalable (a viewBox, no
fixed size; font sizes in user units).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal
from xml.sax.saxutils import escape

from app.core.inputs import clean_text

# Sizes in user units. Charts are drawn 960 units wide: on a 1920-pixel projector a unit is two
# pixels (TEXT 18 -> 36 px, readable from the back of a hall); in the PDF the figure is scaled to
# the text width (about 490 pt), so TEXT prints at 9.2 pt and SMALL at 8.2 pt.
CANVAS_W = 960.0
TEXT = 18.0
SMALL = 16.0
HEADING = 20.0
# DejaVu Sans (the report's font, first in the SVG's list) averages about 0.6 em a character
# over English and Welsh words; layout estimates with a little more so labels do not collide.
EM_PER_CHAR = 0.62
EM_PER_CHAR_BOLD = 0.7  # DejaVu Sans Bold is about a tenth wider
FONT_FAMILY = "DejaVu Sans, Verdana, Arial, sans-serif"

INK = "#1a1a1a"  # text and axes: 17:1 on white
MUTED = "#4a4a4a"  # secondary text: 8.9:1 on white
GRID = "#8a8a8a"  # gridlines, not text
WHITE = "#ffffff"
HATCH_INK = "#595959"  # the "no data" hatch: 7:1 on white, darker than no class colour's pair
HATCH = "hatch"  # the one pattern: diagonal lines, for "no data" and "fewer than m"
HATCH_STEP = 8.0  # the hatch's spacing in user units (4 px on the projector, 4 pt in print)

# Viridis, light to dark, sampled at nine points (matplotlib's, CC0): perceptually even, legible
# to the common colour-vision deficiencies and in greyscale. A sequential scale's k classes take
# evenly spaced entries, so the lightest and darkest are always used.
VIRIDIS = (
    "#fde725",
    "#aadc32",
    "#5cc863",
    "#27ad81",
    "#21908d",
    "#2c718e",
    "#3b518b",
    "#472c7a",
    "#440154",
)
MAX_CLASSES = 5  # more classes than this cannot be told apart on a projector

Point = tuple[float, float]
Anchor = Literal["start", "middle", "end"]
Ring = tuple[Point, ...]


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str | None = None
    stroke: str | None = None
    stroke_width: float = 1.0
    pattern: str | None = None  # HATCH: drawn over `fill`
    cls: str = ""  # the SVG element's class, for pages and tests; not drawn
    key: str = ""  # data-key: what the shape stands for (a point's label, an area's key)


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str = INK
    width: float = 1.0
    dash: tuple[float, ...] = ()
    cls: str = ""


@dataclass(frozen=True)
class Circle:
    cx: float
    cy: float
    r: float
    fill: str = INK
    stroke: str | None = WHITE
    stroke_width: float = 2.0
    cls: str = ""
    key: str = ""


@dataclass(frozen=True)
class Shape:
    """Polygons with holes (an area of a map): rings filled even-odd, each closed."""

    rings: tuple[Ring, ...]
    fill: str | None = None
    stroke: str | None = INK
    stroke_width: float = 1.0
    pattern: str | None = None
    cls: str = ""
    key: str = ""


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # the baseline
    text: str
    size: float = TEXT
    anchor: Anchor = "start"
    bold: bool = False
    fill: str = INK
    angle: float = 0.0  # degrees, clockwise about (x, y)
    cls: str = ""


Item = Rect | Line | Circle | Shape | Text


@dataclass(frozen=True)
class Figure:
    width: float
    height: float
    title: str
    desc: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class DataTable:
    """A chart's figures as a table: `header` names the columns, the first cell of each row
    heads its row (`<th scope="row">`)."""

    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Chart:
    """What every chart builder returns: the geometry and its table."""

    figure: Figure
    table: DataTable
    notes: tuple[str, ...] = field(default=())  # e.g. the numbered points' key, in reading order

    @property
    def svg(self) -> str:
        return svg(self.figure)

    @property
    def table_html(self) -> str:
        return table_html(self.table)


# --- text ---------------------------------------------------------------------------------------

# Lone surrogates and the two non-characters XML 1.0 cannot hold; clean_text removes controls.
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def plain(text: str) -> str:
    """`text` as a chart shows it: one line, no control, direction or invisible character."""
    return _NOT_XML.sub("\ufffd", clean_text(str(text))).strip()


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """An estimate of `text`'s width at `size`, a little generous (see EM_PER_CHAR)."""
    return len(text) * size * (EM_PER_CHAR_BOLD if bold else EM_PER_CHAR)


def shorten(text: str, size: float, width: float, *, bold: bool = False) -> str:
    """`text`, cut with an ellipsis to fit `width` at `size` (the table keeps it whole)."""
    if text_width(text, size, bold=bold) <= width:
        return text
    keep = max(1, int(width / text_width("x", size, bold=bold)) - 1)
    return text[:keep].rstrip() + "\u2026"


def number(value: float, decimals: int = 1) -> str:
    """A number as charts print it: fixed decimals, no "-0"."""
    out = f"{value:.{decimals}f}"
    return out[1:] if out.startswith("-") and float(out) == 0 else out


# --- scales -------------------------------------------------------------------------------------


def nice_ticks(low: float, high: float, most: int = 8) -> tuple[float, ...]:
    """Round tick values from `low` to `high` (both included when round), at most `most`:
    steps of 1, 2, 2.5 or 5 times a power of ten (1..5 gives 1, 2, 3, 4, 5)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return (low,)
    raw = (high - low) / max(1, most - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(power * m for m in (1, 2, 2.5, 5, 10) if power * m >= raw)
    first = math.ceil(low / step - 1e-9)
    ticks = []
    k = first
    while k * step <= high + step * 1e-9:
        ticks.append(round(k * step, 10))
        k += 1
    return tuple(ticks)


def tick_decimals(ticks: Sequence[float]) -> int:
    """The decimals that print every tick exactly (at most 2)."""
    for decimals in (0, 1, 2):
        if all(abs(t - round(t, decimals)) < 1e-9 for t in ticks):
            return decimals
    return 2


def palette(k: int) -> tuple[str, ...]:
    """k sequential colours (1 <= k <= MAX_CLASSES), light to dark."""
    if k <= 1:
        return (VIRIDIS[4],)
    last = len(VIRIDIS) - 1
    return tuple(VIRIDIS[round(i * last / (k - 1))] for i in range(k))


@dataclass(frozen=True)
class Classes:
    """A sequential scale cut into classes: class i holds values in [bounds[i], bounds[i+1]]
    (the last bound included), coloured colours[i]."""

    bounds: tuple[float, ...]
    colours: tuple[str, ...]

    def of(self, value: float) -> int:
        """The class of `value`; values outside the bounds go to the nearest class."""
        for i in range(len(self.colours) - 1, 0, -1):
            if value >= self.bounds[i]:
                return i
        return 0

    def labels(self, fmt: Callable[[float], str]) -> tuple[str, ...]:
        return tuple(
            f"{fmt(self.bounds[i])} \u2013 {fmt(self.bounds[i + 1])}"
            for i in range(len(self.colours))
        )


def classify(
    values: Sequence[float], *, most: int = MAX_CLASSES, bounds: Sequence[float] | None = None
) -> Classes:
    """Equal-interval classes over the values' range (or the caller's `bounds`, ascending, 2 to
    MAX_CLASSES + 1 of them). Fewer classes than `most` when there are fewer distinct values; one
    class when all are equal or there are none."""
    if bounds is not None:
        cut = tuple(sorted(float(b) for b in bounds))[: MAX_CLASSES + 1]
        if len(cut) < 2 or not all(math.isfinite(b) for b in cut):
            raise ValueError("bounds need 2 or more finite numbers")
        return Classes(cut, palette(len(cut) - 1))
    finite = sorted({v for v in values if math.isfinite(v)})
    if len(finite) <= 1:
        v = finite[0] if finite else 0.0
        return Classes((v, v), palette(1))
    k = max(1, min(most, MAX_CLASSES, len(finite)))
    lo, hi = finite[0], finite[-1]
    cut = (*(lo + (hi - lo) * i / k for i in range(k)), hi)
    return Classes(cut, palette(k))


def luminance(colour: str) -> float:
    """WCAG relative luminance of '#rrggbb'."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two '#rrggbb' colours (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def ink_on(background: str) -> str:
    """Black or white text, whichever contrasts more with `background` (every viridis entry
    gives at least 5.4:1 with one of them)."""
    return INK if contrast(INK, background) >= contrast(WHITE, background) else WHITE


# --- SVG ----------------------------------------------------------------------------------------


def _n(value: float) -> str:
    """A coordinate: two decimals at most, no trailing zeros, no "-0"."""
    out = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if out in ("-0", "") else out


def _attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def _common(cls: str, key: str = "") -> str:
    out = f' class="{_attr(cls)}"' if cls else ""
    return out + (f' data-key="{_attr(plain(key))}"' if key else "")


def _paint(fill: str | None, stroke: str | None, width: float) -> str:
    out = f' fill="{fill or "none"}"'
    if stroke:
        out += f' stroke="{stroke}" stroke-width="{_n(width)}"'
    return out


def _path(rings: Sequence[Ring]) -> str:
    return " ".join(
        "M" + " L".join(f"{_n(x)} {_n(y)}" for x, y in ring[:-1] or ring) + " Z"
        for ring in rings
        if ring
    )


def _element(item: Item, prefix: str) -> str:
    hatch = f"url(#{prefix}-{HATCH})"
    if isinstance(item, Rect):
        box = f'x="{_n(item.x)}" y="{_n(item.y)}" width="{_n(item.w)}" height="{_n(item.h)}"'
        out = f"<rect{_common(item.cls, item.key)} {box}"
        out += _paint(item.fill, item.stroke, item.stroke_width) + "/>"
        if item.pattern:
            out += f'<rect {box} fill="{hatch}"/>'
        return out
    if isinstance(item, Line):
        dash = f' stroke-dasharray="{" ".join(_n(d) for d in item.dash)}"' if item.dash else ""
        return (
            f'<line{_common(item.cls)} x1="{_n(item.x1)}" y1="{_n(item.y1)}" '
            f'x2="{_n(item.x2)}" y2="{_n(item.y2)}" stroke="{item.stroke}" '
            f'stroke-width="{_n(item.width)}"{dash}/>'
        )
    if isinstance(item, Circle):
        return (
            f'<circle{_common(item.cls, item.key)} cx="{_n(item.cx)}" cy="{_n(item.cy)}" '
            f'r="{_n(item.r)}"{_paint(item.fill, item.stroke, item.stroke_width)}/>'
        )
    if isinstance(item, Shape):
        d = _path(item.rings)
        out = f'<path{_common(item.cls, item.key)} d="{d}" fill-rule="evenodd"'
        out += _paint(item.fill, item.stroke, item.stroke_width) + "/>"
        if item.pattern:
            out += f'<path d="{d}" fill-rule="evenodd" fill="{hatch}"/>'
        return out
    weight = ' font-weight="bold"' if item.bold else ""
    turn = f' transform="rotate({_n(item.angle)} {_n(item.x)} {_n(item.y)})"' if item.angle else ""
    return (
        f'<text{_common(item.cls)} x="{_n(item.x)}" y="{_n(item.y)}" font-size="{_n(item.size)}" '
        f'text-anchor="{item.anchor}" fill="{item.fill}"{weight}{turn}>'
        f"{escape(plain(item.text))}</text>"
    )


def svg(figure: Figure) -> str:
    """The figure as a standalone SVG document fragment (no XML declaration), deterministic."""
    prefix = "c" + hashlib.sha256(repr(figure).encode("utf-8", "replace")).hexdigest()[:10]
    body = "".join(_element(item, prefix) for item in figure.items)
    s = HATCH_STEP
    defs = (
        f'<defs><pattern id="{prefix}-{HATCH}" patternUnits="userSpaceOnUse" width="{_n(s)}" '
        f'height="{_n(s)}" patternTransform="rotate(45)">'
        f'<rect width="{_n(s)}" height="{_n(s)}" fill="{WHITE}"/>'
        f'<line x1="0" y1="0" x2="0" y2="{_n(s)}" stroke="{HATCH_INK}" '
        f'stroke-width="{_n(s / 2.5)}"/></pattern></defs>'
        if any(getattr(item, "pattern", None) for item in figure.items)
        else ""
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(figure.width)} '
        f'{_n(figure.height)}" role="img" aria-labelledby="{prefix}-title {prefix}-desc" '
        f'font-family="{FONT_FAMILY}" class="chart">'
        f'<title id="{prefix}-title">{escape(plain(figure.title))}</title>'
        f'<desc id="{prefix}-desc">{escape(plain(figure.desc))}</desc>'
        f'{defs}<rect width="{_n(figure.width)}" height="{_n(figure.height)}" fill="{WHITE}"/>'
        f"{body}</svg>"
    )


def table_html(table: DataTable) -> str:
    """The table as HTML (escaped; `<caption>`, column and row headers), safe to insert as is."""

    def cells(row: Sequence[str], head: str) -> str:
        first, *rest = row or ("",)
        # an empty corner is a plain cell: an empty header names nothing (axe: empty-table-header)
        out = f'<th scope="{head}">{escape(plain(first))}</th>' if plain(first) else "<td></td>"
        tag = 'th scope="col"' if head == "col" else "td"
        return out + "".join(f"<{tag}>{escape(plain(c))}</{tag.split()[0]}>" for c in rest)

    body = "".join(f"<tr>{cells(row, 'row')}</tr>" for row in table.rows)
    return (
        f'<table class="chart-data"><caption>{escape(plain(table.caption))}</caption>'
        f"<thead><tr>{cells(table.header, 'col')}</tr></thead><tbody>{body}</tbody></table>"
    )
