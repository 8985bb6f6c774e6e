"""The sample survey of the demo's fictional council (Riverside), and answers shaped like a real
community survey's, for the demo, the tests and the bench.

Pure: `answers(n, rng)` draws from the generator it is given (`random.Random(seed)`: the same
seed, the same respondents).
The pattern is made up but follows what councils' surveys report: the services people use are
valued most; those who use a care service (service users, carers) value and need it far more
than the room as a whole; satisfaction is lowest for the stretched services (transport, the
park toilets); about one resident in five already helps a service in some way, and more say
they would do more than already do, mostly a few hours a month.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from app import demo
from app.rules import survey as sv
from app.rules.scales import Choice

# Riverside's wards as the demo's area map draws them (`app.demo.riverside_wards`: the same
# keys and codes), with their Welsh names; the first three lie north of the river.
WELSH_WARDS: Mapping[str, str] = {
    "northgate": "Porth y Gogledd",
    "highfield": "Maes Uchel",
    "eastbrook": "Nant y Dwyrain",
    "castle": "Castell",
    "millbrook": "Nant y Felin",
    "southfield": "Maes y De",
}
WARDS: tuple[tuple[str, str, str, str], ...] = tuple(
    (key, name, WELSH_WARDS[key], code) for key, name, code, _ in demo.WARDS
)
NORTH = frozenset(k for k, *_ in WARDS[:3])

# key, title, Welsh title, the demo meeting's proposal it is, and its profile below.
SERVICES: tuple[tuple[str, str, str], ...] = (
    ("mobile-library", "Mobile library", "Llyfrgell deithiol"),
    ("day-centre", "Riverside day centre", "Canolfan ddydd Glan yr Afon"),
    ("community-transport", "Community transport (dial-a-ride)", "Cludiant cymunedol"),
    ("park-toilets", "Public toilets in Riverside Park", "Toiledau cyhoeddus Parc Glan yr Afon"),
    ("youth-club", "Saturday youth club", "Clwb ieuenctid dydd Sadwrn"),
    ("respite-breaks", "Short respite breaks for carers", "Seibiannau byr i ofalwyr"),
)


@dataclass(frozen=True, slots=True)
class Profile:
    """How a service is seen: the chance a respondent uses it (more for `users`, the segments
    it is for), how much users and others value it (mean of 1-5), how satisfied users are, and
    how likely someone is to help it now and to offer more."""

    use: float
    users: frozenset[str]
    value_users: float
    value_others: float
    satisfaction: float
    helps: float
    more: float


PROFILES: Mapping[str, Profile] = {
    "mobile-library": Profile(0.25, frozenset({"service-user"}), 4.3, 3.1, 4.1, 0.08, 0.2),
    "day-centre": Profile(0.12, frozenset({"service-user", "carer"}), 4.8, 3.3, 3.6, 0.05, 0.15),
    "community-transport": Profile(
        0.18, frozenset({"service-user", "carer"}), 4.6, 3.0, 2.4, 0.06, 0.2
    ),
    "park-toilets": Profile(0.55, frozenset({"resident"}), 3.6, 3.2, 2.1, 0.03, 0.12),
    "youth-club": Profile(0.15, frozenset({"resident"}), 4.0, 2.9, 3.4, 0.07, 0.25),
    "respite-breaks": Profile(0.10, frozenset({"carer"}), 4.9, 3.4, 2.9, 0.04, 0.15),
}

# The demo meeting's segments (app/demo/__init__.py) a respondent may hold, and how often.
SEGMENT_SHARES: Mapping[str, float] = {
    "service-user": 0.18,
    "carer": 0.15,
    "resident": 0.80,
    "business": 0.06,
    "staff": 0.05,
}
WARD_WEIGHTS = (0.2, 0.15, 0.15, 0.2, 0.18, 0.12)  # more answers from the bigger wards


def survey() -> sv.Survey:
    """The demo survey: the six services, a custom question on how people heard of it, a
    short text for ideas, and Riverside's six wards."""
    return sv.Survey(
        "Riverside community survey: the services you value and need",
        tuple(
            sv.Service(key, title, translations={"cy": {"title": cy}}, proposal=key)
            for key, title, cy in SERVICES
        ),
        (
            sv.CustomQuestion(
                "heard",
                sv.CustomType.SINGLE,
                "How did you hear about this survey?",
                (
                    Choice("leaflet", None, "A leaflet through the door"),
                    Choice("online", None, "Online or social media"),
                    Choice("meeting", None, "At a public meeting"),
                    Choice("other", None, "Another way"),
                ),
                translations={
                    "cy": {
                        "title": "Sut glywsoch chi am yr arolwg hwn?",
                        "choice:leaflet": "Taflen drwy'r drws",
                        "choice:online": "Ar-lein neu'r cyfryngau cymdeithasol",
                        "choice:meeting": "Mewn cyfarfod cyhoeddus",
                        "choice:other": "Ffordd arall",
                    }
                },
            ),
            sv.CustomQuestion(
                "ideas",
                sv.CustomType.TEXT,
                "One idea to make these services better for less",
                max_length=200,
                translations={"cy": {"title": "Un syniad i wella'r gwasanaethau hyn am lai"}},
            ),
        ),
        tuple(sv.Area(k, label, code, {"cy": {"label": cy}}) for k, label, cy, code in WARDS),
        {
            "cy": {
                "title": "Arolwg cymunedol Glan yr Afon: y gwasanaethau rydych yn eu gwerthfawrogi"
            }
        },
    )


T = TypeVar("T")


class Draws(Protocol):
    """What `answers` draws from: `random.Random` has all of it."""

    def random(self) -> float: ...
    def gauss(self, mu: float = 0.0, sigma: float = 1.0) -> float: ...
    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int: ...
    def choice(self, seq: Sequence[T]) -> T: ...


@dataclass(frozen=True, slots=True)
class DemoRespondent:
    """One made-up respondent: their meeting segments and their answers by item key."""

    segments: frozenset[str]
    marks: Mapping[str, str]


def _weighted(rng: Draws, items: Sequence[T], weights: Sequence[float]) -> T:
    """One of `items`, each as likely as its weight."""
    point, total = rng.random() * sum(weights), 0.0
    for item, weight in zip(items, weights, strict=True):
        total += weight
        if point < total:
            return item
    return items[-1]


def _scale_answer(rng: Draws, mean: float) -> str:
    """A 1-5 answer around `mean`."""
    return str(min(5, max(1, round(rng.gauss(mean, 0.9)))))


def _help(rng: Draws, chance: float) -> str:
    """ "none", or one or two ways of helping, with probability `chance`."""
    if rng.random() >= chance:
        return sv.NONE
    ways = ("volunteer", "neighbour", "group")
    first = rng.randrange(0, len(ways))
    second = rng.randrange(0, len(ways)) if rng.random() < 0.3 else first
    return ";".join(w for i, w in enumerate(ways) if i in (first, second))


def answers(n: int, rng: Draws) -> list[DemoRespondent]:
    """`n` respondents drawn from `rng`. Most answer everything; about one in ten stops
    part-way (the services after the one they stopped at are unanswered), and about one in
    twelve skips the area question."""
    ideas = (
        "Share the minibus with the day centre",
        "Volunteers could open the toilets at weekends",
        "Run the youth club from the library van stop",
        "Ask local businesses to sponsor the toilets",
    )
    out: list[DemoRespondent] = []
    for _ in range(n):
        segments = frozenset(s for s, share in SEGMENT_SHARES.items() if rng.random() < share)
        ward = _weighted(rng, WARDS, WARD_WEIGHTS)[0]
        segments |= {"north" if ward in NORTH else "south"}
        stop = rng.randrange(1, len(SERVICES)) if rng.random() < 0.1 else len(SERVICES)
        marks: dict[str, str] = {}
        for key, _title, _cy in SERVICES[:stop]:
            p = PROFILES[key]
            is_user = bool(segments & p.users)
            uses = rng.random() < (min(0.95, p.use * 3) if is_user else p.use)
            marks[f"{key}.value"] = _scale_answer(rng, p.value_users if is_user else p.value_others)
            marks[f"{key}.need"] = (
                (sv.NEED_OFTEN if rng.random() < 0.6 else sv.NEED_SOMETIMES)
                if uses
                else sv.NEED_NEVER
            )
            marks[f"{key}.satisfaction"] = (
                _scale_answer(rng, p.satisfaction) if uses else sv.DONT_USE
            )
            marks[f"{key}.contributes"] = _help(rng, p.helps)
            more = _help(rng, p.more)
            marks[f"{key}.more"] = more
            if more != sv.NONE:
                marks[f"{key}.hours"] = str(rng.choice((1, 2, 2, 4, 4, 6, 8, 10, 16)))
        if stop == len(SERVICES):
            marks["q.heard"] = _weighted(
                rng, ("leaflet", "online", "meeting", "other"), (0.35, 0.3, 0.25, 0.1)
            )
            if rng.random() < 0.15:
                marks["q.ideas"] = rng.choice(ideas)
            if rng.random() > 1 / 12:
                marks[sv.AREA_ITEM] = ward
        out.append(DemoRespondent(segments, marks))
    return out
