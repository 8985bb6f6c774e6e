"""The council's area boundaries, read from a GeoJSON file a facilitator uploads.

Pure (text in, shapes out). `read_geojson` accepts a FeatureCollection of Polygon and
MultiPolygon features in WGS84 longitude/latitude (RFC 7946) and reports every problem at once
in one `RecordError`, each naming its feature (`features[3]`) and JSON syntax errors their
line. The file is treated as hostile: its size, nesting, features, rings and points are bounded
before anything is built, numbers must be finite and within longitude/latitude, and a file in
metres (British National Grid, say) is refused with a hint rather than drawn as nonsense.

Set-up matches features to the survey's areas by a property: `GeoAreas.key_properties` lists
the properties that name every feature uniquely (an ONS code such as `WD24CD`, a name),
`GeoAreas.keys` a property's values, and `match_areas` pairs them with the survey's areas by
area key or official code.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.core.inputs import JsonInputError, clean_text, load_json
from app.record.records import Problems, RecordError, quote

# A council's wards at the generalised resolution ONS publishes (BGC) are a few hundred KB; the
# full-resolution file of a large county about 4 MB. Past 5 MB the upload is not a council map.
MAX_BYTES = 5_000_000
MAX_FEATURES = 1_000  # a county's wards with room to spare; a survey has at most 200 areas
MAX_PARTS = 2_000  # polygons and rings in one feature: islands and holes, generously
MAX_POINTS = 300_000  # positions in the whole file: a full-resolution county, not more
# FeatureCollection > features > feature > geometry > coordinates > polygon > ring > position:
# 8 levels; properties may nest a little more (they are ignored beyond plain values).
MAX_DEPTH = 12
MAX_PROPERTIES = 100  # per feature: ONS files have about ten
MAX_VALUE = 200  # characters of a property value kept (a name or a code)


Position = tuple[float, float]  # longitude, latitude
LonLatRing = tuple[Position, ...]
Polygon = tuple[LonLatRing, ...]  # exterior first, then holes


@dataclass(frozen=True)
class GeoFeature:
    """One feature: its place in the file, its plain properties (as text) and its polygons."""

    index: int
    properties: Mapping[str, str]
    polygons: tuple[Polygon, ...]


@dataclass(frozen=True)
class GeoAreas:
    """A checked FeatureCollection."""

    features: tuple[GeoFeature, ...]
    filename: str = "areas.geojson"

    def key_properties(self) -> tuple[str, ...]:
        """Properties every feature has, non-empty and different for each: those that can name
        the areas, in the order of the first feature."""
        if not self.features:
            return ()
        names = list(self.features[0].properties)
        out = []
        for name in names:
            values = [f.properties.get(name, "") for f in self.features]
            if all(values) and len(set(values)) == len(values):
                out.append(name)
        return tuple(out)

    def keys(self, key_property: str) -> tuple[str, ...]:
        """Each feature's value of `key_property`, in file order (a value twice: one area in
        several features, drawn as one).

        Raises:
            RecordError: a feature lacks the property, naming each.
        """
        problems = Problems(self.filename)
        for f in self.features:
            if not f.properties.get(key_property):
                problems.add(None, f"features[{f.index}]: has no property {quote(key_property)}")
        problems.raise_if_any()
        return tuple(f.properties[key_property] for f in self.features)


@dataclass(frozen=True)
class AreaMatch:
    """Which feature each survey area is drawn as: `matched` maps area key to feature key."""

    matched: Mapping[str, str]
    missing: tuple[str, ...]  # the survey's areas no feature names
    unused: tuple[str, ...]  # feature keys no area claims


def match_areas(feature_keys: Sequence[str], areas: Sequence[tuple[str, str]]) -> AreaMatch:
    """Pair the survey's areas `(key, official code)` with feature keys: by key, else by code,
    else ignoring case. Each feature is claimed at most once."""
    free = dict.fromkeys(feature_keys)
    folded: dict[str, str] = {}
    for k in free:
        folded.setdefault(k.casefold(), k)
    matched: dict[str, str] = {}
    missing = []
    for key, code in areas:
        hit = next(
            (
                c
                for c in (key, code, folded.get(key.casefold()), folded.get(code.casefold()))
                if c and c in free
            ),
            None,
        )
        if hit is None:
            missing.append(key)
        else:
            matched[key] = hit
            del free[hit]
    return AreaMatch(matched, tuple(missing), tuple(free))


class _TooMuch(Exception):
    """The file passed a bound: stop reading, report what was found so far."""


class _Reader:
    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        self.points = 0

    def position(self, value: Any, ring: str, i: int) -> Position | None:
        """Position `i` of the ring at `ring` (its path, formatted only for a problem)."""
        # type() rather than isinstance: a bool is not a coordinate (and this runs per point)
        if (
            type(value) is not list
            or not 2 <= len(value) <= 3
            or any(type(v) is not float and type(v) is not int for v in value)
        ):
            self.problems.add(None, f"{ring}[{i}]: a position must be [longitude, latitude]")
            return None
        lon, lat = float(value[0]), float(value[1])
        if not (math.isfinite(lon) and math.isfinite(lat)):
            self.problems.add(None, f"{ring}[{i}]: coordinates must be finite numbers")
            return None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            hint = (
                " (these look like metres, e.g. British National Grid: export the file in"
                " WGS84, EPSG:4326)"
                if abs(lon) > 1000 or abs(lat) > 1000
                else ""
            )
            self.problems.add(
                None, f"{ring}[{i}]: [{lon:g}, {lat:g}] is not a longitude and latitude{hint}"
            )
            raise _TooMuch  # every other position will be the same: one message is enough
        self.points += 1
        if self.points > MAX_POINTS:
            self.problems.add(None, f"{ring}[{i}]: more than {MAX_POINTS} points in the file")
            raise _TooMuch
        return lon, lat

    def ring(self, value: Any, where: str) -> LonLatRing | None:
        if not isinstance(value, list):
            self.problems.add(None, f"{where}: a ring must be a list of positions")
            return None
        found = [self.position(p, where, i) for i, p in enumerate(value)]
        points = [p for p in found if p is not None]
        if len(points) != len(found):
            return None
        if len(points) < 4 or points[0] != points[-1]:
            self.problems.add(
                None, f"{where}: a ring needs 4 or more positions, the last equal to the first"
            )
            return None
        return tuple(points)

    def polygon(self, value: Any, where: str) -> Polygon | None:
        if not isinstance(value, list) or not value:
            self.problems.add(None, f"{where}: a polygon must be a list of rings")
            return None
        rings = [self.ring(r, f"{where}[{i}]") for i, r in enumerate(value[:MAX_PARTS])]
        if len(value) > MAX_PARTS:
            self.problems.add(None, f"{where}: more than {MAX_PARTS} rings")
        return tuple(r for r in rings if r is not None) if all(rings) else None

    def geometry(self, value: Any, where: str) -> tuple[Polygon, ...]:
        if not isinstance(value, dict):
            self.problems.add(None, f"{where}: has no geometry")
            return ()
        kind, coords = value.get("type"), value.get("coordinates")
        if kind == "Polygon":
            polygon = self.polygon(coords, f"{where}.coordinates")
            return (polygon,) if polygon else ()
        if kind == "MultiPolygon":
            if not isinstance(coords, list) or not coords or len(coords) > MAX_PARTS:
                self.problems.add(None, f"{where}.coordinates: must list 1 to {MAX_PARTS} polygons")
                return ()
            found = [self.polygon(p, f"{where}.coordinates[{i}]") for i, p in enumerate(coords)]
            return tuple(p for p in found if p)
        self.problems.add(
            None,
            f"{where}.type: must be Polygon or MultiPolygon, not {quote(str(kind)[:40])}",
        )
        return ()


def _properties(value: Any) -> dict[str, str]:
    """The plain (text, number, boolean) properties as cleaned text; others are ignored."""
    if not isinstance(value, dict):
        return {}
    out: dict[str, str] = {}
    for name, v in list(value.items())[:MAX_PROPERTIES]:
        if isinstance(v, str | int | float) and not isinstance(v, bool):
            text = clean_text(str(v)).strip()[:MAX_VALUE]
            if text:
                out[clean_text(str(name)).strip()[:MAX_VALUE]] = text
    return out


def read_geojson(text: str, *, filename: str = "areas.geojson") -> GeoAreas:
    """Read and check a FeatureCollection of (Multi)Polygon features in longitude/latitude.

    Raises:
        RecordError: every problem found (up to records.MAX_ERRORS), each naming its feature
            (`features[3].geometry.coordinates[0][5]: ...`); a JSON syntax error with its line.
    """
    problems = Problems(filename)
    if len(text) > MAX_BYTES:
        raise RecordError(filename, [(None, f"is larger than {MAX_BYTES // 1_000_000} MB")])
    try:
        data = load_json(text, max_depth=MAX_DEPTH)
    except JsonInputError as e:
        raise RecordError(filename, [(e.line, f"not JSON: {e.reason}")]) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise RecordError(filename, [(None, "must be a GeoJSON FeatureCollection")])
    features = data.get("features")
    if not isinstance(features, list) or not features:
        raise RecordError(filename, [(None, "features: must list one or more features")])
    if len(features) > MAX_FEATURES:
        raise RecordError(
            filename, [(None, f"features: at most {MAX_FEATURES}, not {len(features)}")]
        )
    reader = _Reader(problems)
    out: list[GeoFeature] = []
    try:
        for i, feature in enumerate(features):
            where = f"features[{i}]"
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                problems.add(None, f"{where}: must be a Feature")
                continue
            polygons = reader.geometry(feature.get("geometry"), f"{where}.geometry")
            if polygons:
                out.append(GeoFeature(i, _properties(feature.get("properties")), polygons))
    except _TooMuch:
        pass
    problems.raise_if_any()
    return GeoAreas(tuple(out), filename)
