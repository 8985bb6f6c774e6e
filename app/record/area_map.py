"""A map of the council's areas coloured by a figure, drawn offline from their GeoJSON.

Pure. `area_map` projects the areas (equirectangular, x scaled by the cosine of the middle
latitude: true to within a fraction of a percent across a council), fits them to the map's box,
repairs and simplifies them with shapely (below half a projector pixel, so a full-resolution
file draws as fast as a generalised one), colours each by its value's class on a sequential
scale and hatches the areas without one (no data, or suppressed: fewer than m). Each area is
named on the map where its name fits inside it, else numbered, the numbers listed under the
legend; the `DataTable` beside the map lists every area and its figure for screen readers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import shapely
from shapely.geometry import MultiPolygon
from shapely.geometry import Polygon as ShapelyPolygon
from shapely.ops import polylabel

from app.record.charts import Legend, legend_items
from app.record.figure import (
    CANVAS_W,
    HATCH,
    INK,
    SMALL,
    WHITE,
    Chart,
    DataTable,
    Figure,
    Item,
    Rect,
    Ring,
    Shape,
    Text,
    plain,
    shorten,
    text_width,
)
from app.record.geojson import GeoAreas, GeoFeature, read_geojson

MAP_W, MAP_H, PAD = 620.0, 600.0, 12.0  # the map's box; the legend takes the column beside it
LEGEND_X = MAP_W + 24
# Douglas-Peucker tolerance in user units: 0.4 is under half a pixel on a 1920-wide projector,
# so simplifying changes nothing anyone can see, but a 100,000-point ward becomes a few hundred.
SIMPLIFY = 0.4


@dataclass(frozen=True)
class _Fit:
    """x = x0 + kx * (lon - lon0), y = y0 + ky * (lat1 - lat): every area inside the map's box."""

    kx: float
    ky: float
    lon0: float
    lat1: float
    x0: float
    y0: float
    height: float  # of the drawn map, with its padding


def _fit(features: Sequence[GeoFeature]) -> _Fit:
    """The projection: longitudes scaled by the cosine of the middle latitude, then the whole
    fitted to the map's box, centred across it and from its top."""
    lons = [p[0] for f in features for poly in f.polygons for ring in poly for p in ring]
    lats = [p[1] for f in features for poly in f.polygons for ring in poly for p in ring]
    lon0, lon1, lat0, lat1 = min(lons), max(lons), min(lats), max(lats)
    squeeze = math.cos(math.radians((lat0 + lat1) / 2))
    w, h = max((lon1 - lon0) * squeeze, 1e-9), max(lat1 - lat0, 1e-9)
    k = min((MAP_W - 2 * PAD) / w, (MAP_H - 2 * PAD) / h)
    x0 = PAD + ((MAP_W - 2 * PAD) - k * w) / 2
    return _Fit(k * squeeze, k, lon0, lat1, x0, PAD, k * h + 2 * PAD)


def _geometry(features: Sequence[GeoFeature], fit: _Fit) -> list[ShapelyPolygon]:
    """One area's polygons, projected, repaired (self-intersections, overlaps) and simplified;
    largest first."""
    parts = []
    for f in features:
        for poly in f.polygons:
            rings = [
                [
                    (fit.x0 + fit.kx * (lon - fit.lon0), fit.y0 + fit.ky * (fit.lat1 - lat))
                    for lon, lat in r
                ]
                for r in poly
            ]
            parts.append(ShapelyPolygon(rings[0], rings[1:]))
    geometry = shapely.simplify(shapely.make_valid(MultiPolygon(parts)), SIMPLIFY)
    polygons = [
        g for g in shapely.get_parts(geometry) if isinstance(g, ShapelyPolygon) and not g.is_empty
    ]
    for g in list(shapely.get_parts(geometry)):
        if isinstance(g, MultiPolygon):
            polygons += [p for p in g.geoms if not p.is_empty]
    return sorted(polygons, key=lambda g: -g.area)


def _rings(polygons: Sequence[ShapelyPolygon]) -> tuple[Ring, ...]:
    out: list[Ring] = []
    for g in polygons:
        out.append(tuple((float(x), float(y)) for x, y in g.exterior.coords))
        out += [tuple((float(x), float(y)) for x, y in r.coords) for r in g.interiors]
    return tuple(out)


def _label(polygons: Sequence[ShapelyPolygon], name: str, number: int) -> tuple[list[Item], bool]:
    """The area's name in a white box at its pole of inaccessibility (the point deepest inside
    its largest part) if the box fits inside, else its number; whether the name was used (or
    needs no number: an area that simplified away, too small to see, is only in the table)."""
    if not polygons:
        return [], True
    spot = polylabel(polygons[0], tolerance=1.0)
    x, y = float(spot.x), float(spot.y)
    for text, named in ((shorten(name, SMALL, 220, bold=True), True), (str(number), False)):
        w, h = text_width(text, SMALL, bold=True) + 10, SMALL + 10
        box = shapely.box(x - w / 2, y - h / 2, x + w / 2, y + h / 2)
        if polygons[0].contains(box) or not named:
            return [
                Rect(x - w / 2, y - h / 2, w, h, WHITE, INK, 1, cls="area-label"),
                Text(x, y + SMALL / 2 - 2, text, SMALL, "middle", bold=True),
            ], named
    return [], False  # pragma: no cover - the number is always returned


def area_map(
    geojson: str | GeoAreas,
    values_by_key: Mapping[str, float | None],
    *,
    key_property: str,
    title: str,
    description: str,
    legend: Legend,
    names: Mapping[str, str] | None = None,
    area_header: str = "",
) -> Chart:
    """The areas of `geojson` (text, or already read), each coloured by its value in
    `values_by_key` (keyed by the features' `key_property`); an area whose value is None or
    absent is hatched and listed as `legend.missing`; values of keys no feature has are not
    drawn (`geojson.match_areas` reports those). `names` gives each key its shown name
    (default: the key) and the table's order (areas it leaves out follow, by key).

    Raises:
        RecordError: the GeoJSON is malformed or oversize, or a feature lacks `key_property`.
    """
    geo = geojson if isinstance(geojson, GeoAreas) else read_geojson(geojson)
    keys = geo.keys(key_property)
    by_key: dict[str, list[GeoFeature]] = {}
    for key, feature in zip(keys, geo.features, strict=True):
        by_key.setdefault(key, []).append(feature)
    named = dict(names or {})
    order = [k for k in named if k in by_key] + sorted(k for k in by_key if k not in named)
    values = {k: values_by_key.get(k) for k in order}
    present = [v for v in values.values() if v is not None and math.isfinite(v)]
    classes = legend.classes_for(present)
    fit = _fit(geo.features)
    shapes: list[Item] = []
    labels: list[Item] = []
    notes: list[str] = []
    rows = []
    for number, key in enumerate(order, start=1):
        name = plain(named.get(key, key))
        polygons = _geometry(by_key[key], fit)
        value = values[key]
        if value is None or not math.isfinite(value):
            shape = Shape(_rings(polygons), WHITE, INK, 1.2, HATCH, cls="area missing", key=key)
            rows.append((name, legend.missing))
        else:
            colour = classes.colours[classes.of(value)]
            shape = Shape(_rings(polygons), colour, INK, 1.2, cls="area", key=key)
            rows.append((name, legend.fmt(value)))
        shapes.append(shape)
        label, was_named = _label(polygons, name, number)
        labels += label
        if not was_named:
            notes.append(f"{number}. {name}")
    key_items, y = legend_items(
        legend,
        classes,
        LEGEND_X,
        12,
        CANVAS_W - LEGEND_X - 10,
        with_missing=len(present) < len(order),
    )
    y += 10
    for line in notes:
        shown = shorten(line, SMALL, CANVAS_W - LEGEND_X - 10)
        key_items.append(Text(LEGEND_X, y + SMALL, shown, SMALL, cls="key"))
        y += SMALL + 8
    height = max(fit.height, y + 10)
    table = DataTable(title, (area_header, plain(legend.title)), tuple(rows))
    items = (*shapes, *labels, *key_items)
    return Chart(Figure(CANVAS_W, height, title, description, items), table, tuple(notes))
