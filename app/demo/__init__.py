"""The sample meetings `covote demo` starts with: made up, but shaped like real ones.

`riverside()` is the room vote on cuts and developments; `riverside_budget()` is a participatory
budget (a £300,000 pot shared by the Method of Equal Shares) with a savings target on the
services it puts to the room. `samples()` lists both, in that order. `riverside_wards()` is the
council's six wards as GeoJSON, for the survey's area map.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from app.record.records import BudgetFile, MeetingFile, ProposalFile, RuleFile, SegmentFile


def samples() -> list[MeetingFile]:
    """Every sample meeting, the room vote first."""
    return [riverside(), riverside_budget()]


def riverside() -> MeetingFile:
    segments = [
        SegmentFile(id="service-user", label="Service user", protects=True),
        SegmentFile(id="carer", label="Carer", protects=True),
        SegmentFile(id="resident", label="Resident", protects=True),
        SegmentFile(id="business", label="Local business", protects=True),
        SegmentFile(id="north", label="Area: North", protects=True),
        SegmentFile(id="south", label="Area: South", protects=True),
        SegmentFile(id="staff", label="Council staff", protects=False),
    ]
    p = ProposalFile
    proposals = [
        p(
            id="mobile-library",
            title="Mobile library",
            kind="keep",
            saving=48000,
            description="The weekly library van serving villages without a branch library.",
            affected_groups=["north", "service-user"],
        ),
        p(
            id="day-centre",
            title="Riverside day centre",
            kind="keep",
            saving=120000,
            description="Day activities for adults with learning disabilities, five days a week.",
            affected_groups=["service-user", "carer"],
        ),
        p(
            id="community-transport",
            title="Community transport (dial-a-ride)",
            kind="keep",
            saving=65000,
            description="Door-to-door minibus for people who cannot use buses.",
            affected_groups=["service-user", "south"],
        ),
        p(
            id="park-toilets",
            title="Public toilets in Riverside Park",
            kind="keep",
            saving=22000,
            description="Opening and cleaning the park toilets from April to October.",
            affected_groups=["resident"],
        ),
        p(
            id="youth-club",
            title="Saturday youth club",
            kind="keep",
            saving=35000,
            description="Two youth workers and the hall on Saturday afternoons.",
            affected_groups=["south"],
        ),
        p(
            id="respite-breaks",
            title="Short respite breaks for carers",
            kind="fund",
            cost=80000,
            description="Funded overnight breaks so unpaid carers can rest.",
            affected_groups=["carer"],
        ),
        p(
            id="cycle-path",
            title="Riverside cycle path",
            kind="fund",
            cost=150000,
            description="A lit, surfaced path from the station to the north estate.",
            affected_groups=["north"],
        ),
        p(
            id="shopfront-grants",
            title="Shopfront improvement grants",
            kind="fund",
            cost=40000,
            description="Matched grants of up to £2,000 for high-street shops.",
            affected_groups=["business"],
        ),
    ]
    return MeetingFile(
        title="Riverside community budget",
        rule=RuleFile(ratio=2, group_min=5),
        segments=segments,
        proposals=proposals,
    )


def riverside_budget() -> MeetingFile:
    """A participatory budget: eight developments costing £645,000 for a £300,000 pot, and
    three services to keep, with a £60,000 savings target.

    The first five costs are the budget vector M8's, in thousands: if 55% of the room WANTs the
    square, the cycle path and the play park, 30% the play park and the youth hub, and 15% (the
    carers) the respite breaks, equal shares fund the play park, the cycle path, the youth hub
    and the respite breaks, where "most WANTs first" would fund the square instead of the last
    two.
    """
    segments = [
        SegmentFile(id="resident", label="Resident", protects=True),
        SegmentFile(id="carer", label="Carer", protects=True),
        SegmentFile(id="young", label="Young person (under 25)", protects=True),
        SegmentFile(id="business", label="Local business", protects=True),
        SegmentFile(id="north", label="Area: North", protects=True),
        SegmentFile(id="south", label="Area: South", protects=True),
        SegmentFile(id="staff", label="Council staff", protects=False),
    ]
    p = ProposalFile
    proposals = [
        p(
            id="town-square",
            title="Town square resurfacing",
            kind="fund",
            cost=110000,
            description="New paving, benches and lighting in the market square.",
            affected_groups=["business"],
        ),
        p(
            id="cycle-path",
            title="Riverside cycle path",
            kind="fund",
            cost=90000,
            description="A lit, surfaced path from the station to the north estate.",
            affected_groups=["north"],
        ),
        p(
            id="play-park",
            title="North estate play park",
            kind="fund",
            cost=100000,
            description="Replacing the closed playground with equipment for ages 2 to 12.",
            affected_groups=["north"],
        ),
        p(
            id="youth-hub",
            title="South youth hub",
            kind="fund",
            cost=60000,
            description="Fitting out the empty library annexe as a youth centre.",
            affected_groups=["south", "young"],
        ),
        p(
            id="respite-breaks",
            title="Short respite breaks for carers",
            kind="fund",
            cost=45000,
            description="Funded overnight breaks so unpaid carers can rest.",
            affected_groups=["carer"],
        ),
        p(
            id="tree-planting",
            title="Street trees",
            kind="fund",
            cost=30000,
            description="Two hundred street trees, chosen with residents street by street.",
            affected_groups=["resident"],
        ),
        p(
            id="shopfront-grants",
            title="Shopfront improvement grants",
            kind="fund",
            cost=40000,
            description="Matched grants of up to £2,000 for high-street shops.",
            affected_groups=["business"],
        ),
        p(
            id="bus-shelters",
            title="Bus shelters with real-time signs",
            kind="fund",
            cost=170000,
            description="Twenty new shelters on the routes to the hospital.",
            affected_groups=["south"],
        ),
        p(
            id="community-transport",
            title="Community transport (dial-a-ride)",
            kind="keep",
            saving=65000,
            description="Door-to-door minibus for people who cannot use buses.",
            affected_groups=["south"],
        ),
        p(
            id="park-toilets",
            title="Public toilets in Riverside Park",
            kind="keep",
            saving=22000,
            description="Opening and cleaning the park toilets from April to October.",
            affected_groups=["resident"],
        ),
        p(
            id="hanging-baskets",
            title="Hanging baskets on the high street",
            kind="keep",
            saving=18000,
            description="Planting and watering 150 baskets each summer.",
            affected_groups=["business"],
        ),
    ]
    return MeetingFile(
        title="Riverside participatory budget: £300,000",
        rule=RuleFile(ratio=2, group_min=5),
        budget=BudgetFile(pot=300000, currency="£", completion="add1"),
        savings_target=60000,
        segments=segments,
        proposals=proposals,
    )


# --- the sample council's wards ---------------------------------------------------------------

# Riverside's six wards (made up), drawn on a kilometre grid and placed on the map below:
# neighbouring wards share their corners, so their borders meet exactly; Eastbrook takes in an
# island in the estuary (a MultiPolygon) and Castle bends around the market square (concave).
# The codes have the shape of ONS ward codes; no real ward has them.
WARD_CORNERS: dict[str, tuple[float, float]] = {
    "a": (0.5, 8.5),
    "b": (4.0, 9.0),
    "c": (7.5, 8.8),
    "d": (11.0, 8.0),
    "e": (12.0, 5.5),
    "f": (11.5, 2.0),
    "g": (9.0, 0.3),
    "h": (5.0, 0.0),
    "i": (1.5, 0.8),
    "j": (0.0, 3.5),
    "k": (0.2, 6.0),
    "m": (4.2, 5.6),
    "n": (7.6, 5.9),
    "o": (9.2, 4.6),
    "p": (6.0, 4.4),
    "q": (3.8, 3.2),
    "r": (7.4, 2.6),
}
WARDS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (  # key, name, code, corners
    ("northgate", "Northgate", "E05990001", ("a", "k", "m", "b")),
    ("highfield", "Highfield", "E05990002", ("b", "m", "n", "d", "c")),
    ("eastbrook", "Eastbrook", "E05990003", ("d", "n", "o", "f", "e")),
    ("castle", "Castle", "E05990004", ("m", "q", "p", "r", "o", "n")),
    ("millbrook", "Millbrook", "E05990005", ("k", "j", "i", "q", "m")),
    ("southfield", "Southfield", "E05990006", ("q", "i", "h", "g", "f", "o", "r", "p")),
)
EASTBROOK_ISLAND = ((12.5, 4.0), (13.4, 4.2), (13.3, 4.8), (12.6, 4.7))
_ORIGIN = (-3.05, 52.02)  # longitude, latitude of the grid's (0, 0): a made-up river valley


def _lon_lat(x_km: float, y_km: float) -> list[float]:
    """A grid point in WGS84, to 6 decimals (about 10 cm): 1 km is 1/111.32 of a degree of
    latitude and that times cos(latitude) of longitude."""
    lon0, lat0 = _ORIGIN
    per_lon = 111.32 * 0.6157  # cos(52.0 degrees)
    return [round(lon0 + x_km / per_lon, 6), round(lat0 + y_km / 111.32, 6)]


def _ring(points: Sequence[tuple[float, float]]) -> list[list[float]]:
    """A closed ring, anticlockwise as RFC 7946 asks of an exterior ring."""
    twice_area = sum(
        x0 * y1 - x1 * y0
        for (x0, y0), (x1, y1) in zip(points, [*points[1:], points[0]], strict=True)
    )
    ordered = list(points) if twice_area > 0 else list(reversed(points))
    return [_lon_lat(x, y) for x, y in [*ordered, ordered[0]]]


def riverside_wards() -> str:
    """The sample council's wards as GeoJSON text (a FeatureCollection; properties `key`,
    `name` and `code`), for the demo survey's area map and the tests."""
    features = []
    for key, name, code, corners in WARDS:
        polygons = [[_ring([WARD_CORNERS[c] for c in corners])]]
        if key == "eastbrook":
            polygons.append([_ring(EASTBROOK_ISLAND)])
        geometry = (
            {"type": "Polygon", "coordinates": polygons[0]}
            if len(polygons) == 1
            else {"type": "MultiPolygon", "coordinates": polygons}
        )
        features.append(
            {
                "type": "Feature",
                "properties": {"key": key, "name": name, "code": code},
                "geometry": geometry,
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": features}, indent=1) + "\n"
