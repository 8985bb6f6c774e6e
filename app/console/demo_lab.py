"""The demo's Co-Production Lab (issue 16): the Riverside survey evening goes on into a Lab, so a
facilitator trying Covote (`covote demo`) sees the Lab page, the idea wall and the report's Lab
section with real-looking results at once.

Its challenges come from the survey round's focus list (`lab_challenges.challenges_from_focus`),
with one the facilitator typed for the other services; its ideas (English and Welsh, of the
three kinds) from phones and from the tables' flip charts; two are duplicates merged into
others, one is hidden (it is about a member of staff); helpers pledge. `PARTICIPANTS` made-up
people rate them in three camps: those who use the care services (they back redesigning and
co-delivering, and reject cuts), those who want the council to spend less (they back cuts), and
volunteers (they back co-delivering only); one idea, volunteer drivers for the dial-a-ride,
every camp backs: the bridging one (the care and volunteer camps rate alike enough that the Lab
finds them one opinion group: two groups in all). A cut to the day centre affects service users
and carers, who reject it.

Everything goes in as in a real meeting: ideas through `app.voting.lab` (moderation in the audit
chain), ratings as ballots through the `BallotWriter`, the round closed (turnout, seal) and
revealed. So the demo's record verifies like a real meeting's.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from sqlalchemy.engine import Engine

from app.core.shapes import SurveyView
from app.core.vocab import LAB, SURVEY
from app.rules import survey_tally
from app.rules.lab import IdeaKind, IdeaStatus
from app.voting import (
    lab,
    lab_challenges,
    lab_helping,
    lab_moderation,
    lab_shortlist,
    meetings,
    rounds,
    voters,
)
from app.voting.ballots import CastRequest, cast_all
from app.voting.db import transaction
from app.voting.models import Meeting, Voter

PARTICIPANTS = 120
SEED = 2027  # the same Lab on every machine
RATED_EACH = (12, 20)  # ideas one participant rates: fewer than all, as in a real room

# The camps (module doc): how each rates an idea of each kind; "bridge" is the one idea every
# camp backs, "day-centre-cut" the cut the care services' users reject.
CARE, SAVE, VOLUNTEER = "care", "save", "volunteer"
CAMPS = (CARE, SAVE, VOLUNTEER)
BACKS: Mapping[str, frozenset[str]] = {
    CARE: frozenset({IdeaKind.REDESIGN, IdeaKind.CO_DELIVER}),
    SAVE: frozenset({IdeaKind.CUT_COST}),
    VOLUNTEER: frozenset({IdeaKind.CO_DELIVER}),
}
NOISE = 0.12  # a rating against the camp's line (people are not blocs)
PASSES = 0.08


# The challenge of the ideas for services the focus list does not name (the facilitator's).
OTHER_CHALLENGE = "Care and young people's services: what could we do together?"
OTHER_CHALLENGE_CY = "Gwasanaethau gofal a phobl ifanc: beth allem ni ei wneud gyda'n gilydd?"


@dataclass(frozen=True)
class DemoIdea:
    """One idea: its service (its challenge is the one made for it from the focus list, else
    `OTHER_CHALLENGE`), text,
    kind, how it came in (a phone, or a flip chart keyed in the console), and its fate."""

    name: str
    service: str
    text: str
    kind: IdeaKind
    phone: bool = True
    merge_into: str = ""
    hide: bool = False
    affected: tuple[str, ...] = ()


C, R, D = IdeaKind.CUT_COST, IdeaKind.REDESIGN, IdeaKind.CO_DELIVER
IDEAS: tuple[DemoIdea, ...] = (
    DemoIdea(
        "bridge",
        "community-transport",
        "Volunteer drivers from the churches and the rugby club run dial-a-ride on Saturdays",
        D,
    ),
    DemoIdea(
        "bridge-dup",
        "community-transport",
        "Let volunteers drive the dial-a-ride bus at weekends",
        D,
        merge_into="bridge",
    ),
    DemoIdea(
        "app-booking",
        "community-transport",
        "Book dial-a-ride by text message, not only by phoning the office",
        R,
    ),
    DemoIdea(
        "shared-school-bus",
        "community-transport",
        "Share the school minibuses with dial-a-ride between school runs",
        R,
        phone=False,
    ),
    DemoIdea("fare", "community-transport", "Charge a £1 fare for dial-a-ride trips", C),
    DemoIdea(
        "cy-bws",
        "community-transport",
        "Bws mini i'r pentrefi ar ddiwrnod marchnad, nid bob dydd",
        C,
    ),
    DemoIdea("toilet-charge", "park-toilets", "Charge 20p to use the park toilets", C),
    DemoIdea(
        "cafe-keys",
        "park-toilets",
        "Let the park café open and clean the toilets in return for a cheaper lease",
        D,
    ),
    DemoIdea(
        "cafe-dup",
        "park-toilets",
        "The café in the park could look after the toilets",
        D,
        merge_into="cafe-keys",
    ),
    DemoIdea(
        "close-winter",
        "park-toilets",
        "Close the park toilets from November to March",
        C,
        phone=False,
    ),
    DemoIdea(
        "changing-place",
        "park-toilets",
        "Put a Changing Places toilet in the park for disabled visitors",
        R,
    ),
    DemoIdea(
        "cy-gwirfoddolwyr", "park-toilets", "Grŵp Cyfeillion y Parc i wirio'r toiledau bob bore", D
    ),
    DemoIdea(
        "day-centre-cut",
        "day-centre",
        "Open the day centre four days a week instead of five",
        C,
        affected=("service-user", "carer"),
    ),
    DemoIdea(
        "day-centre-hub",
        "day-centre",
        "Run the day centre as a community hub in the evenings, with clubs paying rent",
        R,
        phone=False,
    ),
    DemoIdea(
        "day-centre-lunch",
        "day-centre",
        "Volunteers cook the lunches with the residents, as a cookery club",
        D,
    ),
    DemoIdea(
        "cy-canolfan",
        "day-centre",
        "Symud y ganolfan ddydd i'r llyfrgell i rannu'r adeilad a'r costau",
        R,
    ),
    DemoIdea("hidden", "day-centre", "The day centre manager should be sacked", C, hide=True),
    DemoIdea("library-stops", "mobile-library", "Fewer library van stops, each one longer", C),
    DemoIdea(
        "library-school", "mobile-library", "Park the library van at the schools at home time", R
    ),
    DemoIdea(
        "library-volunteers",
        "mobile-library",
        "Volunteers run a book swap where the van no longer stops",
        D,
        phone=False,
    ),
    DemoIdea("cy-llyfrgell", "mobile-library", "Benthyg llyfrau Cymraeg drwy'r ap yn lle'r fan", C),
    DemoIdea("youth-share", "youth-club", "Share the youth club building with the scouts", C),
    DemoIdea(
        "youth-peer",
        "youth-club",
        "Older teenagers trained as peer leaders run the club with one youth worker",
        D,
    ),
    DemoIdea(
        "respite-swap",
        "respite-breaks",
        "A sitting-swap scheme: carers cover for each other, with council training",
        D,
    ),
    DemoIdea(
        "respite-vouchers",
        "respite-breaks",
        "Give carers vouchers to choose their own breaks",
        R,
        phone=False,
    ),
    DemoIdea(
        "respite-fewer", "respite-breaks", "Fund fewer breaks, for the carers most in need", C
    ),
)


@dataclass(frozen=True)
class Person:
    """A made-up participant: their camp and declared segments."""

    camp: str
    segments: tuple[str, ...]


def people(n: int, rng: random.Random) -> list[Person]:
    """`n` participants, the camps in turn (a third each); most service users and carers are
    in the care camp."""
    out = []
    for i in range(n):
        camp = CAMPS[i % len(CAMPS)]
        segments = ["north" if rng.random() < 0.5 else "south"]
        if camp == CARE and rng.random() < 0.6:
            segments.append("service-user" if rng.random() < 0.5 else "carer")
        elif rng.random() < 0.4:
            segments.append("resident")
        out.append(Person(camp, tuple(sorted(segments))))
    return out


def rating(idea: DemoIdea, person: Person, rng: random.Random) -> str:
    """How `person` rates `idea`: the camp's line, with a little noise and a few passes."""
    roll = rng.random()
    if roll < PASSES:
        return "pass"
    agree = idea.name == "bridge" or idea.kind in BACKS[person.camp]
    if roll < PASSES + NOISE:
        agree = not agree
    return "agree" if agree else "disagree"


def seed(engine: Engine, meeting: Meeting, participants: int = PARTICIPANTS) -> Meeting:
    """Add the Lab to the demo survey meeting (`demo_survey.seed`: its survey round closed):
    challenges from the focus list, the ideas moderated, and a closed, revealed `lab` round of
    `participants` made-up people's ratings (the same for every run, but for the pseudonyms).
    Blocking: runs its own event loop for the ballot writer (call it before the server
    starts). Returns the meeting."""
    rng = random.Random(SEED)
    crowd = people(participants, rng)
    assert meeting.id is not None
    with transaction(engine) as session:
        meeting = session.merge(meeting)
        assert meeting.id is not None
        survey_round = next(r for r in rounds.rounds_of(session, meeting.id) if r.kind == SURVEY)
        view = rounds.results_view(session, meeting, survey_round)
        focus = survey_tally.focus_list(cast(SurveyView, view)["survey"])
        made = lab_challenges.challenges_from_focus(session, meeting, focus)
        by_service = {f.service: c.key for f, c in zip(focus, made, strict=False)}
        # The services not on the focus list share one challenge the facilitator typed.
        other = lab_challenges.add_challenge(
            session, meeting, OTHER_CHALLENGE, OTHER_CHALLENGE_CY
        ).key
        people_rows: list[Voter] = []
        for person in crowd:
            voter = voters.join(session, meeting)
            voter.segments = list(person.segments)
            session.add(voter)
            people_rows.append(voter)
        session.flush()
        keys: dict[str, str] = {}
        for n, idea in enumerate(IDEAS):
            draft = lab.IdeaDraft(
                challenge=by_service.get(idea.service, other),
                text=idea.text,
                description="",
                kind=idea.kind,
            )
            if idea.phone:
                author = people_rows[(7 * n) % len(people_rows)]
                row = lab.submit(session, meeting, author, draft, would_help=idea.kind == D)
            else:
                (row,) = lab.key_ideas(session, meeting, [draft])
            keys[idea.name] = row.key
        for idea in IDEAS:
            if idea.phone and not idea.merge_into:
                status = IdeaStatus.HIDDEN if idea.hide else IdeaStatus.APPROVED
                lab_moderation.set_status(session, meeting, keys[idea.name], status)
        for idea in IDEAS:
            if idea.merge_into:
                lab_moderation.merge(session, meeting, keys[idea.name], keys[idea.merge_into])
            if idea.affected:
                lab_shortlist.set_affected(session, meeting, keys[idea.name], idea.affected)
        approved = [r.idea.key for r in lab.ideas_of(session, meeting.id, [IdeaStatus.APPROVED])]
        rnd = rounds.open_round(session, meeting, approved, kind=LAB)
        by_key = {keys[i.name]: i for i in IDEAS}
        requests = []
        for person, voter in zip(crowd, people_rows, strict=True):
            assert voter.id is not None and rnd.id is not None
            chosen = rng.sample(approved, min(len(approved), rng.randint(*RATED_EACH)))
            marks = {k: rating(by_key[k], person, rng) for k in chosen}
            requests.append(CastRequest(meeting.id, rnd.id, voter.id, uuid.uuid4().hex, marks))
            # Some of those who back an idea they could help with say so.
            for k in chosen:
                if by_key[k].kind == D and marks[k] == "agree" and rng.random() < 0.15:
                    lab_helping.pledge(
                        session, lab.idea(session, meeting.id, k), voter, rng.choice((2, 4, 8))
                    )
        meeting_id, number = meeting.id, rnd.number
    cast_all(engine, requests)
    with transaction(engine) as session:
        meeting = meetings.get_meeting(session, meeting_id)
        rounds.close_round(session, meeting, number)
        rounds.set_revealed(session, meeting, number, True)
        return meeting
