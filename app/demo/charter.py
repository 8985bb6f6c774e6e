"""The demo's Community Charter (issue 17): what the fictional council (Riverside) and its
partners agree after the budget night, and how a room of made-up people answers it.

Pure: the charter's text, its parties, the wording the drafters give the commitments drafted
from the budget and the Lab (`BUDGET_WORDING`, `LAB_WORDING`), and `answers(people, rng)`, which
draws the consent answers from the generator it is given (`random.Random(seed)`: the same
seed, the same answers). app/console/demo_charter.py puts it into a meeting.

The room is `people()`: 120 residents of Riverside with the budget meeting's segments
(app/demo/__init__.py `riverside_budget`): 20 carers, 16 young people, 10 local businesses, 6
council staff, the rest residents; every other one lives south of the river. What it decides:

* `booking` (respite breaks booked online only) is sent back: the carers, its affected group,
  block it (11 of the 20) while the room as a whole would take it, so the reason is the
  group's block alone (`group-blocks`; 11 blocks of 120 stay under the 10% block share);
* `toilets` is adopted as amended: the park café's all-year opening (`toilets-all-year`) has
  more net support than the original wording, which the room would only live with;
* the other eight are adopted, some in full and some with reservations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.demo.survey import Draws
from app.rules import charter_doc as cd
from app.rules.charter import AmendmentStatus

TITLE = "Riverside Community Charter"
TITLE_CY = "Siarter Gymunedol Glan yr Afon"
BLOCKED = "booking"  # the clause the carers send back
AMENDED = "toilets"  # the clause whose amendment wins
AMENDMENT = "toilets-all-year"


def _clause(
    key: str, text: str, text_cy: str, *affected: str, amendments: Sequence[cd.Amendment] = ()
) -> cd.Clause:
    return cd.Clause(key, text, text_cy, tuple(affected), tuple(amendments))


SECTIONS: tuple[cd.Section, ...] = (
    cd.Section(
        "services",
        "The services we keep",
        "Y gwasanaethau a gadwn",
        (
            _clause(
                "transport",
                "Community transport runs five days a week, and on Saturdays with volunteer "
                "drivers.",
                "Mae cludiant cymunedol yn rhedeg bum diwrnod yr wythnos, ac ar ddydd Sadwrn "
                "gyda gyrwyr gwirfoddol.",
                "south",
            ),
            _clause(
                AMENDED,
                "The park toilets open from April to October and are cleaned twice a day.",
                "Mae toiledau'r parc ar agor o fis Ebrill i fis Hydref ac yn cael eu glanhau "
                "ddwywaith y dydd.",
                "resident",
                amendments=(
                    cd.Amendment(
                        AMENDMENT,
                        "The park toilets open all year and are cleaned twice a day; the park "
                        "café opens and closes them.",
                        "Mae toiledau'r parc ar agor drwy'r flwyddyn ac yn cael eu glanhau "
                        "ddwywaith y dydd; caffi'r parc sy'n eu hagor a'u cau.",
                        AmendmentStatus.ACCEPTED,
                    ),
                ),
            ),
            _clause(
                "respite",
                "Every unpaid carer who asks can book a short respite break each month.",
                "Gall pob gofalwr di-dâl sy'n gofyn archebu seibiant byr bob mis.",
                "carer",
            ),
            _clause(
                BLOCKED,
                "Respite breaks are booked online only, through the council's website, to "
                "save staff time.",
                "Dim ond ar-lein, drwy wefan y cyngor, y mae archebu seibiannau, i arbed amser "
                "staff.",
                "carer",
            ),
        ),
    ),
    cd.Section(
        "budget",
        "What the budget pays for",
        "Yr hyn y mae'r gyllideb yn talu amdano",
        (
            _clause(
                "play-park",
                "The north estate play park reopens within a year, for children aged 2 to 12.",
                "Mae parc chwarae ystâd y gogledd yn ailagor o fewn blwyddyn, i blant 2 i 12 oed.",
                "north",
            ),
            _clause(
                "youth-hub",
                "Young people plan the south youth hub with the youth service, and it opens "
                "three evenings a week.",
                "Mae pobl ifanc yn cynllunio hyb ieuenctid y de gyda'r gwasanaeth ieuenctid, "
                "ac mae ar agor dair noson yr wythnos.",
                "young",
                "south",
            ),
            _clause(
                "cycle-path",
                "The riverside cycle path is lit from dusk until midnight.",
                "Mae'r llwybr beicio ar lan yr afon wedi'i oleuo o'r cyfnos tan hanner nos.",
                "north",
            ),
        ),
    ),
    cd.Section(
        "together",
        "Working together",
        "Cydweithio",
        (
            _clause(
                "volunteers",
                "Volunteers are trained and insured by the council, and no volunteer "
                "replaces a paid post.",
                "Mae gwirfoddolwyr yn cael eu hyfforddi a'u hyswirio gan y cyngor, ac nid oes "
                "yr un gwirfoddolwr yn cymryd lle swydd â thâl.",
            ),
        ),
    ),
    cd.Section(
        "review",
        "Keeping our word",
        "Cadw ein gair",
        (
            _clause(
                "review",
                "The parties meet in public a year after signing to ask whether each kept its "
                "word.",
                "Mae'r partïon yn cyfarfod yn gyhoeddus flwyddyn ar ôl llofnodi i ofyn a "
                "gadwodd pob un ei air.",
            ),
            _clause(
                "reports",
                "A month before the review, each party publishes a short report of what it "
                "did, in English and Welsh.",
                "Fis cyn yr adolygiad, mae pob parti yn cyhoeddi adroddiad byr ar yr hyn a "
                "wnaeth, yn Gymraeg ac yn Saesneg.",
            ),
        ),
    ),
)

COUNCIL, PROVIDER, FRIENDS, RESIDENTS = "council", "transport", "friends", "residents"
PARTIES: tuple[cd.Party, ...] = (
    cd.Party(
        COUNCIL,
        "Riverside Council",
        cd.PartyKind.COUNCIL,
        "Cyngor Glan yr Afon",
        ("Cllr Angharad Rees, Cabinet member for communities",),
    ),
    cd.Party(
        PROVIDER,
        "Valley Community Transport",
        cd.PartyKind.PROVIDER,
        "Cludiant Cymunedol y Cwm",
        ("Dewi Morgan, Operations manager",),
    ),
    cd.Party(
        FRIENDS,
        "Friends of Riverside Park",
        cd.PartyKind.COMMUNITY,
        "Cyfeillion Parc Glan yr Afon",
        ("Sian Hughes, Chair",),
    ),
    cd.Party(
        RESIDENTS,
        "Riverside residents",
        cd.PartyKind.RESIDENTS,
        "Trigolion Glan yr Afon",
        ("Tom Price, Residents' panel", "Nia Jones, Carers' forum"),
    ),
)

# The commitments the drafters type themselves (the rest are drafted from the budget round and
# the Lab's pledges, then worded below).
DRAFTED: tuple[cd.Commitment, ...] = (
    cd.Commitment(
        "transport-saturdays",
        PROVIDER,
        "Run dial-a-ride on Saturdays with trained volunteer drivers.",
        "Rhedeg deial-a-reid ar ddydd Sadwrn gyda gyrwyr gwirfoddol wedi'u hyfforddi.",
        "transport",
        "2027-06-30",
        "Saturday trips each month; trips turned down",
        "Teithiau dydd Sadwrn bob mis; teithiau a wrthodwyd",
    ),
    cd.Commitment(
        "friends-toilets",
        FRIENDS,
        "Check the park toilets every morning and report faults the same day.",
        "Gwirio toiledau'r parc bob bore ac adrodd am namau yr un diwrnod.",
        AMENDED,
        "2027-04-01",
        "Mornings checked; faults fixed within two days",
        "Boreau wedi'u gwirio; namau wedi'u trwsio o fewn deuddydd",
    ),
    cd.Commitment(
        "council-report",
        COUNCIL,
        "Publish a yearly report of what the council did for each clause.",
        "Cyhoeddi adroddiad blynyddol ar yr hyn a wnaeth y cyngor ar gyfer pob cymal.",
        "reports",
        "2028-02-28",
        "Report published a month before the review",
        "Adroddiad wedi'i gyhoeddi fis cyn yr adolygiad",
    ),
)


@dataclass(frozen=True, slots=True)
class Wording:
    """How the drafters word a drafted commitment: the clause it serves, by when, and (for the
    budget's) its English and Welsh and how it will be measured."""

    clause: str
    by_when: str
    what: str = ""
    what_cy: str = ""
    measure: str = ""
    measure_cy: str = ""


# The budget round's funded and protected proposals (by proposal id), as the council commits.
BUDGET_WORDING: Mapping[str, Wording] = {
    "play-park": Wording(
        "play-park",
        "2027-09-30",
        "Reopen the north estate play park for children aged 2 to 12.",
        "Ailagor parc chwarae ystâd y gogledd i blant 2 i 12 oed.",
        "The park open; visits counted each month",
        "Y parc ar agor; ymweliadau'n cael eu cyfrif bob mis",
    ),
    "cycle-path": Wording(
        "cycle-path",
        "2028-03-31",
        "Build and light the riverside cycle path from the station to the north estate.",
        "Adeiladu a goleuo'r llwybr beicio ar lan yr afon o'r orsaf i ystâd y gogledd.",
        "The path open and lit; cyclists counted on it",
        "Y llwybr ar agor ac wedi'i oleuo; beicwyr yn cael eu cyfrif arno",
    ),
    "youth-hub": Wording(
        "youth-hub",
        "2027-12-31",
        "Fit out the library annexe as the south youth hub.",
        "Paratoi atodiad y llyfrgell yn hyb ieuenctid y de.",
        "Evenings open each week; young people attending",
        "Nosweithiau ar agor bob wythnos; nifer y bobl ifanc sy'n dod",
    ),
    "respite-breaks": Wording(
        "respite",
        "2027-04-30",
        "Fund short overnight respite breaks for unpaid carers.",
        "Ariannu seibiannau byr dros nos i ofalwyr di-dâl.",
        "Breaks booked each month; carers waiting",
        "Seibiannau wedi'u harchebu bob mis; gofalwyr yn aros",
    ),
    "community-transport": Wording(
        "transport",
        "2027-04-01",
        "Keep community transport (dial-a-ride) running five days a week.",
        "Cadw cludiant cymunedol (deial-a-reid) i redeg bum diwrnod yr wythnos.",
        "Trips run each week; requests turned down",
        "Teithiau bob wythnos; ceisiadau a wrthodwyd",
    ),
}

# The Lab's ideas that people pledged to help with (by app/console/demo_lab.py's names): the
# clause each serves, by when, and the idea in the language it was not typed in. The measure
# stays the pledge summary the drafting wrote (counts, never names).
LAB_WORDING: Mapping[str, Wording] = {
    "bridge": Wording(
        "transport",
        "2027-06-30",
        what_cy="Gyrwyr gwirfoddol o'r eglwysi a'r clwb rygbi yn rhedeg deial-a-reid ar ddydd "
        "Sadwrn",
    ),
    "cafe-keys": Wording(
        AMENDED,
        "2027-04-01",
        what_cy="Gadael i gaffi'r parc agor a glanhau'r toiledau am brydles rhatach",
    ),
    "cy-gwirfoddolwyr": Wording(
        AMENDED,
        "2027-04-01",
        what="A Friends of the Park group checks the toilets every morning",
    ),
    "day-centre-lunch": Wording(
        "volunteers",
        "2027-09-30",
        what_cy="Gwirfoddolwyr yn coginio'r cinio gyda'r preswylwyr, fel clwb coginio",
    ),
    "library-volunteers": Wording(
        "volunteers",
        "2027-09-30",
        what_cy="Gwirfoddolwyr yn cynnal cyfnewidfa lyfrau lle nad yw'r fan yn aros mwyach",
    ),
    "youth-peer": Wording(
        "youth-hub",
        "2027-12-31",
        what_cy="Pobl ifanc hŷn, wedi'u hyfforddi'n arweinwyr cyfoedion, yn rhedeg y clwb gydag "
        "un gweithiwr ieuenctid",
    ),
    "respite-swap": Wording(
        "respite",
        "2027-06-30",
        what_cy="Cynllun cyfnewid gwarchod: gofalwyr yn cyflenwi i'w gilydd, gyda hyfforddiant "
        "gan y cyngor",
    ),
}


def draft() -> cd.Charter:
    """The first draft as the drafters import it: every section, the parties and their own
    commitments (the budget's and the Lab's are drafted in afterwards)."""
    return cd.Charter(TITLE, TITLE_CY, 1, SECTIONS, PARTIES, DRAFTED)


def reworded(c: cd.Commitment, wording: Wording) -> cd.Commitment:
    """A drafted commitment as the drafters word it: its clause and date, and any English,
    Welsh and measure the wording gives (the rest kept as drafted). An idea typed in Welsh
    (its wording gives the English) keeps its words as the Welsh."""
    return cd.Commitment(
        c.key,
        c.party,
        wording.what or c.what,
        wording.what_cy or (c.what if wording.what else c.what_cy),  # typed in Welsh
        wording.clause,
        wording.by_when,
        wording.measure or c.measure,
        wording.measure_cy or c.measure_cy,
        c.source,
    )


# --- the room ----------------------------------------------------------------------------------

PEOPLE = 120
CARERS, YOUNG, BUSINESS, STAFF = 20, 16, 10, 6


@dataclass(frozen=True, slots=True)
class Person:
    """One made-up person in the room: their segments (the budget meeting's ids)."""

    segments: frozenset[str]


def people(n: int = PEOPLE) -> list[Person]:
    """The room: the first `CARERS` are carers, then young people, businesses and staff, the
    rest residents; every other one lives south of the river. Carers and young people are
    residents too."""
    out = []
    for i in range(n):
        area = "south" if i % 2 == 0 else "north"
        if i < CARERS:
            role = {"carer", "resident"}
        elif i < CARERS + YOUNG:
            role = {"young", "resident"}
        elif i < CARERS + YOUNG + BUSINESS:
            role = {"business"}
        elif i < CARERS + YOUNG + BUSINESS + STAFF:
            role = {"staff"}
        else:
            role = {"resident"}
        out.append(Person(frozenset({area, *role})))
    return out


W, D, N = "want", "dont_want", "neutral"


def budget_marks(index: int, person: Person) -> dict[str, str]:
    """How `person` (the `index`th of the room) votes the budget, in the blocs
    `riverside_budget`'s docstring describes: carers want the respite breaks; young people and
    a third of residents the play park and the youth hub; the others the square, the cycle path
    and the play park. The south keeps its community transport, which the north would cut (so
    the south protects it); everyone keeps the park toilets; only businesses would keep the
    hanging baskets, and they stay neutral."""
    s = person.segments
    if "carer" in s:
        marks = {"respite-breaks": W, "town-square": D}
    elif "young" in s or ("resident" in s and index % 3 == 0):
        marks = {"play-park": W, "youth-hub": W}
    else:
        marks = {"town-square": W, "cycle-path": W, "play-park": W}
    if "staff" in s:
        marks["community-transport"] = N
    else:
        marks["community-transport"] = W if "south" in s else D
    marks["park-toilets"] = W
    marks["hanging-baskets"] = N if "business" in s else D
    return marks


# Each wording's answers, as weights for 1 fully support .. 5 block: the room's, then any
# segment's own (the first of a person's segments listed here).
Weights = tuple[int, int, int, int, int]
PROFILES: Mapping[str, tuple[Weights, Mapping[str, Weights]]] = {
    "transport": ((62, 18, 12, 6, 2), {"south": (80, 12, 6, 2, 0)}),
    AMENDED: ((18, 24, 30, 25, 3), {}),
    AMENDMENT: ((60, 22, 12, 5, 1), {"business": (30, 30, 25, 15, 0)}),
    "respite": ((66, 18, 11, 4, 1), {"carer": (90, 10, 0, 0, 0)}),
    BLOCKED: ((30, 28, 26, 16, 0), {}),  # the carers' answers are `CARERS_ON_BLOCKED`
    "play-park": ((64, 20, 10, 5, 1), {"north": (80, 12, 6, 2, 0)}),
    "youth-hub": ((34, 30, 22, 12, 2), {"young": (78, 16, 6, 0, 0)}),
    "cycle-path": ((28, 32, 26, 12, 2), {}),
    "volunteers": ((58, 22, 12, 6, 2), {"staff": (30, 30, 20, 20, 0)}),
    "review": ((72, 16, 8, 3, 1), {}),
    "reports": ((44, 30, 16, 8, 2), {}),
}
# The carers on the online-only booking: 11 block, 7 need a change, 2 can live with it.
CARERS_ON_BLOCKED = ("5",) * 11 + ("4",) * 7 + ("3",) * 2


def _pick(rng: Draws, weights: Weights) -> str:
    point, total = rng.random() * sum(weights), 0
    for answer, weight in enumerate(weights, start=1):
        total += weight
        if point < total:
            return str(answer)
    return "5"


def answers(room: Sequence[Person], rng: Draws) -> list[dict[str, str]]:
    """Each person's consent answers to every wording (`PROFILES`' keys), drawn from `rng`;
    about one in twenty leaves one wording unanswered."""
    out = []
    carers = 0
    for person in room:
        marks: dict[str, str] = {}
        for key, (room_weights, own) in PROFILES.items():
            if key == BLOCKED and "carer" in person.segments:
                marks[key] = CARERS_ON_BLOCKED[carers % len(CARERS_ON_BLOCKED)]
                continue
            weights = next((w for seg, w in own.items() if seg in person.segments), room_weights)
            marks[key] = _pick(rng, weights)
        if "carer" in person.segments:
            carers += 1
        if rng.random() < 0.05:
            skipped = rng.choice([k for k in PROFILES if k != BLOCKED])
            del marks[skipped]
        out.append(marks)
    return out
