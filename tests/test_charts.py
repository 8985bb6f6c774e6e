"""The survey's charts: safe, accessible, deterministic SVG, the same geometry in the PDF, and
the GeoJSON reader that refuses what it cannot draw.

Pure tests (no server): the builders are functions of their inputs, so each test builds a chart
and reads it back as XML, as a browser would parse the inlined SVG.
"""

from __future__ import annotations

import io
import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence

import pypdfium2 as pdfium
import pytest
import shapely
from reportlab.lib.pagesizes import A4
from reportlab.platypus import SimpleDocTemplate

from app.demo import WARDS, riverside_wards
from app.record import area_map as am
from app.record import charts, charts_pdf, figure, geojson, pdf_page
from app.record.charts import BarRow, Legend, MatrixPoint
from app.record.records import RecordError

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert(\'x\')</script> " onload="evil()" & \x00\u202e'
QUADRANTS = ("Fix first", "Keep it up", "Lower priority", "Savings may be accepted")
MISSING = "No answers, or fewer than 5"


def matrix(points: list[MatrixPoint] | None = None) -> figure.Chart:
    return charts.priority_matrix(
        points
        or [
            MatrixPoint("Mobile library", 2.1, 4.4, 0.3, 0.2, 120),
            MatrixPoint("Park toilets", 4.2, 1.8, 0.2, 0.3, 150),
            MatrixPoint("Day centre", 4.0, 4.6, None, None, 80),
            MatrixPoint("Youth club", 1.5, 2.0, 0.5, 0.4, 40),
        ],
        title="Value and satisfaction",
        description="Each service's mean value against its mean satisfaction.",
        x_label="Satisfaction",
        y_label="Value",
        x_range=(1, 5),
        y_range=(1, 5),
        x_split=3,
        y_split=3,
        quadrant_labels=QUADRANTS,
    )


def bars() -> figure.Chart:
    return charts.ranking_bars(
        [
            BarRow("Day centre", 2.6, 80, 2.4, 2.8),
            BarRow("Mobile library", 2.0, 120),
            BarRow("Youth club", None),
        ],
        title="Need",
        description="How often households use each service.",
        value_label="Need",
        value_range=(1, 3),
    )


def heat() -> figure.Chart:
    return charts.heat_map(
        ["Mobile library", "Day centre"],
        ["Northgate", "Castle", "Southfield"],
        [[12.0, None, 4.0], [None, 17.0, 40.0]],
        title="Would do more",
        description="People who would do more, by ward.",
        legend=Legend("People", MISSING, fmt=lambda v: f"{v:.0f}"),
    )


VALUES: dict[str, float | None] = {
    "northgate": 3.2,
    "highfield": 4.1,
    "eastbrook": None,
    "castle": 2.5,
    "millbrook": 3.9,
}  # southfield: absent


def ward_map(values: dict[str, float | None] = VALUES) -> figure.Chart:
    return am.area_map(
        riverside_wards(),
        values,
        key_property="key",
        title="Satisfaction by ward",
        description="Mean satisfaction in each ward.",
        legend=Legend("Mean satisfaction", MISSING),
        names={key: name for key, name, _, _ in WARDS},
        area_header="Ward",
    )


BUILDERS: dict[str, Callable[[], figure.Chart]] = {
    "matrix": matrix,
    "bars": bars,
    "heat": heat,
    "map": ward_map,
}


def parse(chart: figure.Chart) -> ET.Element:
    return ET.fromstring(chart.svg)


def by_class(root: ET.Element, cls: str) -> list[ET.Element]:
    return [e for e in root.iter() if cls in (e.get("class") or "").split()]


@pytest.mark.parametrize("name", BUILDERS)
def test_every_chart_is_an_accessible_scalable_svg(name: str) -> None:
    """Each chart parses as XML and is an image named by its title and description, with a
    viewBox and no fixed size, so it scales to the projector and the page."""
    chart = BUILDERS[name]()
    root = parse(chart)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert re.fullmatch(r"0 0 [\d.]+ [\d.]+", root.get("viewBox") or "")
    assert root.get("width") is None and root.get("height") is None
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text == chart.figure.title
    assert desc is not None and desc.text == chart.figure.desc
    assert (root.get("aria-labelledby") or "").split() == [title.get("id"), desc.get("id")]
    sizes = [float(e.get("font-size") or 0) for e in root.iter(f"{SVG}text")]
    assert sizes and min(sizes) >= figure.SMALL  # 32 px on a 1920-pixel projector


@pytest.mark.parametrize("name", BUILDERS)
def test_no_chart_can_run_script_or_fetch_anything(name: str) -> None:
    """No script, style, link, image or foreign content, no event handler and no URL other than
    the chart's own hatch pattern: inlined under the CSP, it needs nothing from anywhere."""
    root = parse(BUILDERS[name]())
    allowed = {"svg", "title", "desc", "defs", "pattern", "rect", "line", "circle", "path", "text"}
    for e in root.iter():
        assert e.tag.removeprefix(SVG) in allowed
        for attr, value in e.attrib.items():
            assert not attr.lower().startswith("on") and "href" not in attr and attr != "style"
            if "url(" in value:
                assert re.fullmatch(r"url\(#c[0-9a-f]{10}-hatch\)", value)


def test_hostile_labels_are_shown_as_text_never_as_markup() -> None:
    """A label with markup, quotes and control or direction characters reaches the chart and
    the table as the text it is: escaped, cleaned, never an element or an attribute."""
    chart = matrix([MatrixPoint(HOSTILE, 2, 2, n=3), MatrixPoint("Fine", 4, 4)])
    root = parse(chart)
    texts = [e.text or "" for e in root.iter(f"{SVG}text")] + [
        e.get("data-key") or "" for e in root.iter()
    ]
    assert any("<script>alert('x')</script>" in t for t in texts)
    assert not any(e.tag.endswith("script") for e in root.iter())
    assert all("\x00" not in t and "\u202e" not in t for t in texts)
    html = chart.table_html
    table = ET.fromstring(html)  # well-formed: every text escaped
    assert "<script" not in html
    assert {a for e in table.iter() for a in e.attrib} <= {"class", "scope"}
    assert any("<script>" in (cell.text or "") for cell in table.iter("th"))
    bars_html = charts.ranking_bars(
        [BarRow(HOSTILE, 1.0, 2)],
        title=HOSTILE,
        description=HOSTILE,
        value_label=HOSTILE,
        value_range=(0, 2),
    )
    assert not any(e.tag.endswith("script") for e in parse(bars_html).iter())
    assert ET.fromstring(bars_html.table_html).find("caption") is not None


@pytest.mark.parametrize("name", BUILDERS)
def test_the_same_figures_give_the_same_bytes(name: str) -> None:
    """Building a chart twice gives identical SVG and tables (the report is reproducible)."""
    first, second = BUILDERS[name](), BUILDERS[name]()
    assert first.svg == second.svg and first.table_html == second.table_html


def test_two_charts_on_one_page_do_not_share_ids() -> None:
    """Different charts get different ids for their title, description and pattern."""
    ids = [
        {e.get("id") for e in parse(build()).iter() if e.get("id")} for build in BUILDERS.values()
    ]
    assert all(a.isdisjoint(b) for i, a in enumerate(ids) for b in ids[i + 1 :])


def test_each_point_sits_in_its_quadrant_and_the_table_names_it() -> None:
    """A service with high value and low satisfaction is drawn inside "Fix first" (top left),
    one with low value and high satisfaction inside "Savings may be accepted", and so on; the
    table says the same in words."""
    chart = matrix()
    root = parse(chart)
    quads = {
        int(e.get("data-key") or -1): [float(e.get(a) or 0) for a in ("x", "y", "width", "height")]
        for e in by_class(root, "quadrant")
    }
    expected = {"Mobile library": 0, "Day centre": 1, "Youth club": 2, "Park toilets": 3}
    for point in by_class(root, "point"):
        x, y = float(point.get("cx") or 0), float(point.get("cy") or 0)
        qx, qy, qw, qh = quads[expected[point.get("data-key") or ""]]
        assert qx < x < qx + qw and qy < y < qy + qh, point.get("data-key")
    names = {e.text for e in by_class(root, "quadrant-label")}
    assert names == set(QUADRANTS)
    rows = {row[0]: row for row in chart.table.rows}
    assert rows["Mobile library"] == (
        "Mobile library",
        "2.1 (\u00b1 0.3)",
        "4.4 (\u00b1 0.2)",
        "120",
        "Fix first",
    )
    assert rows["Park toilets"][-1] == "Savings may be accepted"


def test_crowded_points_are_numbered_with_a_key() -> None:
    """Points too close to label beside themselves get their number on the chart and in a key
    under it, so every point can be told apart."""
    crowd = [MatrixPoint(f"Service number {i}", 3 + i * 0.01, 3 + i * 0.01) for i in range(6)]
    chart = matrix(crowd)
    root = parse(chart)
    assert chart.notes, "some labels must have been replaced by numbers"
    keys = [e.text for e in by_class(root, "key")]
    assert keys == list(chart.notes)
    shown = {e.text for e in by_class(root, "point-label")}
    for note in chart.notes:
        number, _, label = (note or "").partition(". ")
        assert number in shown and label not in shown


def test_bars_are_as_long_as_their_values_and_a_missing_one_is_hatched() -> None:
    """Bar lengths are proportional to value minus the range's start; a row without a value is
    hatched and says so in the table; intervals become whiskers and a table column."""
    chart = bars()
    root = parse(chart)
    lengths = {
        e.get("data-key"): float(e.get("width") or 0)
        for e in by_class(root, "bar")
        if e.get("data-key")
    }
    assert math.isclose(lengths["Day centre"] / lengths["Mobile library"], 1.6, rel_tol=1e-3)
    (missing,) = by_class(root, "missing")
    assert float(missing.get("width") or 0) > 0
    assert len(by_class(root, "whisker")) == 1
    assert chart.table.rows == (
        ("Day centre", "2.6", "n = 80", "2.4 \u2013 2.8"),
        ("Mobile library", "2.0", "n = 120", ""),
        ("Youth club", "\u2013", "", ""),
    )


def hatched(root: ET.Element, shape: ET.Element) -> bool:
    """Whether the shape drawn right after `shape` is its hatch (the pattern over its fill)."""
    children = list(root)
    after = children[children.index(shape) + 1]
    return re.fullmatch(r"url\(#c[0-9a-f]{10}-hatch\)", after.get("fill") or "") is not None


def test_suppressed_heat_map_cells_are_hatched_and_explained() -> None:
    """Each None cell is hatched with no number in it, the legend explains the hatch, and the
    table says "fewer than m" in its place; shown cells print their value."""
    chart = heat()
    root = parse(chart)
    suppressed = by_class(root, "suppressed")
    assert len(suppressed) == 2 and all(hatched(root, cell) for cell in suppressed)
    assert root.find(f"{SVG}defs/{SVG}pattern") is not None
    (legend_missing,) = by_class(root, "legend-missing")
    assert hatched(root, legend_missing)
    texts = [e.text for e in root.iter(f"{SVG}text")]
    assert MISSING in texts and "12" in texts and "40" in texts
    assert chart.table.header == ("", "Northgate", "Castle", "Southfield")
    assert chart.table.rows == (
        ("Mobile library", "12", MISSING, "4"),
        ("Day centre", MISSING, "17", "40"),
    )


def test_heat_map_text_keeps_its_contrast_on_every_class_colour() -> None:
    """The number in a cell is black or white, whichever reads better: at least 4.5:1 on every
    colour of the scale."""
    for colour in figure.VIRIDIS:
        assert figure.contrast(figure.ink_on(colour), colour) >= 4.5


def test_the_map_colours_each_area_by_its_class_and_hatches_the_rest() -> None:
    """Areas with a value take their class's colour (the lowest the lightest, the highest the
    darkest); areas without one (None, or absent) are hatched; the table lists every ward."""
    chart = ward_map()
    root = parse(chart)
    fills = {e.get("data-key"): e for e in by_class(root, "area")}
    assert set(fills) == {key for key, *_ in WARDS}
    classes = figure.classify([v for v in VALUES.values() if v is not None])
    for key, value in VALUES.items():
        if value is not None:
            assert fills[key].get("fill") == classes.colours[classes.of(value)]
    assert fills["castle"].get("fill") == classes.colours[0]  # lowest
    assert fills["highfield"].get("fill") == classes.colours[-1]  # highest
    for key in ("eastbrook", "southfield"):
        assert "missing" in (fills[key].get("class") or "") and hatched(root, fills[key])
    assert {row[0]: row[1] for row in chart.table.rows} == {
        "Northgate": "3.2",
        "Highfield": "4.1",
        "Eastbrook": MISSING,
        "Castle": "2.5",
        "Millbrook": "3.9",
        "Southfield": MISSING,
    }
    assert chart.table.header == ("Ward", "Mean satisfaction")
    assert len(by_class(root, "legend-class")) == len(classes.colours)


def test_every_area_is_named_or_numbered_on_the_map() -> None:
    """Each ward's name is on the map inside its box, or its number with the key beside."""
    chart = ward_map()
    texts = {e.text for e in parse(chart).iter(f"{SVG}text")}
    for _, name, _, _ in WARDS:
        assert name in texts or any(note.endswith(f". {name}") for note in chart.notes)


def test_the_map_projects_the_wards_the_right_way_up() -> None:
    """North is up and east is right: Northgate is drawn above Southfield, Eastbrook right of
    Millbrook."""
    root = parse(ward_map())
    centre = {}
    for e in by_class(root, "area"):
        numbers = [float(n) for n in re.findall(r"-?[\d.]+", e.get("d") or "")]
        centre[e.get("data-key")] = (
            sum(numbers[0::2]) / len(numbers[0::2]),
            sum(numbers[1::2]) / len(numbers[1::2]),
        )
    assert centre["northgate"][1] < centre["southfield"][1]
    assert centre["eastbrook"][0] > centre["millbrook"][0]


def square_feature(i: int, ring: Sequence[Sequence[object]] | None = None) -> dict[str, object]:
    x = -3.0 + i * 0.01
    return {
        "type": "Feature",
        "properties": {"key": f"a{i}"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                ring or [[x, 52.0], [x + 0.01, 52.0], [x + 0.01, 52.01], [x, 52.01], [x, 52.0]]
            ],
        },
    }


def collection(*features: object) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def test_a_huge_area_is_simplified_to_what_the_screen_can_show() -> None:
    """A ward drawn with 60,000 points (a full-resolution boundary) renders with a few hundred,
    its shape unchanged at screen size."""
    n = 60_000
    ring = [
        [-3 + 0.05 * math.cos(2 * math.pi * k / n), 52 + 0.03 * math.sin(2 * math.pi * k / n)]
        for k in range(n)
    ]
    ring.append(ring[0])
    chart = am.area_map(
        collection(square_feature(0, ring)),
        {"a0": 1.0},
        key_property="key",
        title="t",
        description="d",
        legend=Legend("v", MISSING),
    )
    (area,) = by_class(parse(chart), "area")
    points = len(re.findall(r"[ML]", area.get("d") or ""))
    assert 50 < points < 1_000


def refusal(text: str) -> str:
    with pytest.raises(RecordError) as caught:
        geojson.read_geojson(text, filename="wards.geojson")
    return str(caught.value)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"type": "FeatureCollection",\n "features": [}', "wards.geojson:2: not JSON"),
        ('{"type": "Feature"}', "must be a GeoJSON FeatureCollection"),
        ('{"type": "FeatureCollection", "features": []}', "one or more features"),
        ("[" * 40 + "]" * 40, "nested more than 12 levels"),
        ('{"type": "FeatureCollection", "features": [1e999]}', "not JSON"),
        (
            collection(
                square_feature(0),
                {
                    "type": "Feature",
                    "properties": {},
                    "geometry": {"type": "Point", "coordinates": [0, 0]},
                },
            ),
            'features[1].geometry.type: must be Polygon or MultiPolygon, not "Point"',
        ),
        (
            collection(square_feature(0, [[-3, 52], [-2.9, 52], [-2.9, 52.1], [-3, 52.1]])),
            "features[0].geometry.coordinates[0]: a ring needs 4 or more positions, the last",
        ),
        (
            collection(
                square_feature(
                    0, [[530000, 180000], [530100, 180000], [530100, 180100], [530000, 180000]]
                )
            ),
            "British National Grid",
        ),
        (
            collection(square_feature(0, [[-3, 52], [-2.9, "52"], [-2.9, 52.1], [-3, 52]])),
            "features[0].geometry.coordinates[0][1]: a position must be [longitude, latitude]",
        ),
        (
            collection({"type": "Feature", "properties": {}, "geometry": None}),
            "features[0].geometry: has no geometry",
        ),
    ],
)
def test_malformed_geojson_is_refused_saying_where(text: str, says: str) -> None:
    """Each malformed file is refused with a message that names the line or the feature and
    what is wrong, never drawn half-way and never a crash."""
    assert says in refusal(text)


def test_oversize_geojson_is_refused_before_it_is_parsed() -> None:
    """Files past the size, feature or point bounds are refused with the bound named."""
    assert "larger than 5 MB" in refusal(" " * (geojson.MAX_BYTES + 1))
    many = collection(*[square_feature(i) for i in range(geojson.MAX_FEATURES + 1)])
    assert f"at most {geojson.MAX_FEATURES}" in refusal(many)
    ring = [[-3, 52]] * (geojson.MAX_POINTS + 1)  # compact: within the size bound
    assert f"more than {geojson.MAX_POINTS} points" in refusal(collection(square_feature(0, ring)))


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    """Two bad features give two messages, so the facilitator fixes the file once."""
    bad = {"type": "Feature", "properties": {}, "geometry": {"type": "LineString"}}
    message = refusal(collection(bad, square_feature(1), bad))
    assert "features[0].geometry.type" in message and "features[2].geometry.type" in message


def test_the_sample_wards_read_back_as_six_tiling_areas() -> None:
    """The demo council's GeoJSON reads cleanly: six wards that meet without gaps or overlaps
    (their areas add up to their union's), Eastbrook with its island."""
    geo = geojson.read_geojson(riverside_wards())
    assert geo.keys("key") == tuple(key for key, *_ in WARDS)
    polygons = [
        shapely.MultiPolygon([shapely.Polygon(p[0], p[1:]) for p in f.polygons])
        for f in geo.features
    ]
    assert all(p.is_valid for p in polygons)
    union = shapely.union_all(polygons)
    assert math.isclose(sum(p.area for p in polygons), union.area, rel_tol=1e-9)
    assert [len(f.polygons) for f in geo.features] == [1, 1, 2, 1, 1, 1]


def test_set_up_can_match_features_to_the_survey_areas() -> None:
    """The properties that name every feature are offered, and the survey's areas are matched
    by key, by official code or ignoring case; what is left over is listed."""
    geo = geojson.read_geojson(riverside_wards())
    assert geo.key_properties() == ("key", "name", "code")
    match = geojson.match_areas(
        geo.keys("code"),
        [("north", "E05990001"), ("E05990004", ""), ("castle", "e05990004"), ("lost", "X1")],
    )
    assert match.matched == {"north": "E05990001", "E05990004": "E05990004"}
    assert match.missing == ("castle", "lost")  # E05990004 was claimed first
    assert "E05990002" in match.unused and "E05990001" not in match.unused
    with pytest.raises(RecordError, match=r'features\[0\]: has no property "WD24CD"'):
        geo.keys("WD24CD")


def test_classes_split_the_range_evenly_and_light_means_low() -> None:
    """Equal-interval classes over the values; one class when all values are equal; the scale
    runs light to dark."""
    classes = figure.classify([0, 10, 20, 30, 40, 50])
    assert classes.bounds == (0, 10, 20, 30, 40, 50)
    assert [classes.of(v) for v in (0, 9.9, 10, 39, 40, 50)] == [0, 0, 1, 3, 4, 4]
    assert figure.classify([3, 3, 3]).colours == (figure.VIRIDIS[4],)
    light, dark = classes.colours[0], classes.colours[-1]
    assert figure.luminance(light) > figure.luminance(dark)
    assert figure.nice_ticks(1, 5) == (1, 2, 3, 4, 5)
    assert figure.nice_ticks(0, 100) == (0, 20, 40, 60, 80, 100)


def test_the_charts_print_in_the_pdf() -> None:
    """The same charts, as ReportLab drawings with their tables, render into a PDF whose pages
    carry the charts' words and are not blank."""
    story = []
    for build in BUILDERS.values():
        story += charts_pdf.flowables(build())
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, invariant=1).build(story)
    pdf = pdfium.PdfDocument(out.getvalue())
    text = "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    for words in (
        "Fix first",
        "Savings may be accepted",
        "Day centre",
        MISSING,
        "Northgate",
        "Mean satisfaction",
    ):
        assert words in text
    for i in range(len(pdf)):
        image = pdf[i].render(scale=1).to_pil().convert("L")
        assert sum(image.histogram()[:128]) > 2000, f"page {i + 1} is (nearly) blank"


def test_the_pdf_hatches_what_the_svg_hatches() -> None:
    """A hatched map area becomes hatch lines clipped to it in the drawing (ReportLab has no
    patterns); an area with a value gets none."""
    hatched_only = ward_map({"castle": 1.0})
    filled = ward_map(dict.fromkeys((key for key, *_ in WARDS), 1.0))
    lines = [
        sum(1 for s in charts_pdf.drawing(c.figure).contents if type(s).__name__ == "Line")
        for c in (hatched_only, filled)
    ]
    assert lines[0] > 50 and lines[1] == 0


def test_numbers_that_are_not_numbers_are_never_drawn() -> None:
    """NaN or infinite figures (a division by zero upstream) are shown as missing in bars and
    heat maps, never as a shape at NaN; a matrix point without finite x and y is refused."""
    nan, inf = float("nan"), float("inf")
    chart = charts.ranking_bars(
        [BarRow("A", nan, None, nan, inf), BarRow("B", 2.0, 9, nan, 2.5)],
        title="t",
        description="d",
        value_label="v",
        value_range=(0, 3),
    )
    svg = chart.svg
    assert "nan" not in svg.lower() and "inf" not in svg.lower()
    assert len(by_class(parse(chart), "missing")) == 1 and not by_class(parse(chart), "whisker")
    grid = charts.heat_map(
        ["r"], ["a", "b"], [[nan, 1.0]], title="t", description="d", legend=Legend("v", MISSING)
    )
    assert len(by_class(parse(grid), "suppressed")) == 1 and "nan" not in grid.svg.lower()
    with pytest.raises(ValueError, match="finite"):
        matrix([MatrixPoint("A", nan, 2.0)])


def test_long_column_labels_turn_and_stay_on_the_canvas() -> None:
    """Column labels too long for their cells are drawn at 45 degrees and, turned, still end
    inside the chart (the cells narrow to make room)."""
    cols = ["Service user", "Local business", "Gwasanaethau ŵyl y sir", "Council staff"] * 2
    chart = charts.heat_map(
        ["A"], cols, [[1.0] * 8], title="t", description="d", legend=Legend("v", MISSING)
    )
    turned = [t for t in chart.figure.items if isinstance(t, figure.Text) and t.angle]
    assert len(turned) == len(cols)
    for t in turned:
        reach = figure.text_width(t.text, t.size, bold=True) * math.sqrt(0.5)
        assert t.x + reach <= chart.figure.width and t.y - reach >= 0


def test_a_chart_taller_than_a_page_still_prints() -> None:
    """Sixty bars make a figure taller than an A4 page: its drawing is scaled to fit one, so
    the report builds instead of failing."""
    rows = [BarRow(f"Service {i}", 1 + i / 30, 10 + i) for i in range(charts.MAX_BARS)]
    chart = charts.ranking_bars(
        rows, title="t", description="d", value_label="v", value_range=(1, 3)
    )
    d = charts_pdf.drawing(chart.figure)
    assert d.height <= charts_pdf.MAX_HEIGHT and d.width < pdf_page.WIDTH
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, invariant=1).build(charts_pdf.flowables(chart))
    assert "Service 59" in "".join(
        page.get_textpage().get_text_range() for page in pdfium.PdfDocument(out.getvalue())
    )


def test_a_small_area_is_numbered_and_a_twisted_one_still_drawn() -> None:
    """An area too small for its name shows its number, listed with the name beside the map;
    a self-intersecting ring (a bow tie, as hand-drawn files have) is repaired and drawn, not
    refused."""
    big = square_feature(0, [[-3, 52], [-2.8, 52], [-2.8, 52.1], [-3, 52.1], [-3, 52]])
    tiny = square_feature(
        1, [[-2.7, 52], [-2.699, 52], [-2.699, 52.001], [-2.7, 52.001], [-2.7, 52]]
    )
    bow = square_feature(2, [[-2.6, 52], [-2.5, 52.1], [-2.5, 52], [-2.6, 52.1], [-2.6, 52]])
    chart = am.area_map(
        collection(big, tiny, bow),
        {"a0": 1.0, "a1": 2.0, "a2": 3.0},
        key_property="key",
        title="t",
        description="d",
        legend=Legend("v", MISSING),
        names={"a0": "Big ward", "a1": "Tiny hamlet", "a2": "Bow tie"},
    )
    assert "2. Tiny hamlet" in chart.notes and "1. Big ward" not in chart.notes
    root = parse(chart)
    assert [e.text for e in by_class(root, "key")] == list(chart.notes)
    texts = {e.text for e in root.iter(f"{SVG}text")}
    assert {"Big ward", "2"} <= texts and "Tiny hamlet" not in texts
    (bow_tie,) = [e for e in by_class(root, "area") if e.get("data-key") == "a2"]
    assert (bow_tie.get("d") or "").count("M") == 2  # two triangles
