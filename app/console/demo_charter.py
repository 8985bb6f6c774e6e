"""The demo's Community Charter meeting (issue 17): after the budget night, Riverside's council,
its community transport provider, the Friends of the park and the residents agree a charter
clause by clause and sign it, so a facilitator trying Covote (`covote demo`) sees the Charter
page, its versions, the consent round's decisions and the charter PDF at once.

The meeting is the budget sample's (app/demo `riverside_budget`: the same council, segments and
proposals) under the charter's title. In it, in order, as in a real meeting:

1. the room of `charter.PEOPLE` made-up people (app/demo/charter.py) votes the budget: a closed
   room-vote round whose equal shares fund the play park, the cycle path, the youth hub and the
   respite breaks, and whose south protects its community transport;
2. the drafters import the first draft (version 1), draft the council's commitments from that
   round's funded and protected proposals (version 2, `charter_drafts.commitments_from_budget`)
   and the residents' from the demo Lab's pledges (version 3, counts never names, from the
   survey meeting's Lab: `charter_drafts.commitments_from_lab`), then word them, with dates
   and measures in English and Welsh (version 4);
3. the same room answers every clause and the accepted amendment on the consent scale (a
   closed, revealed `charter` round): the carers block the online-only booking, the park
   toilets' amendment wins, the rest are adopted;
4. the round's decisions are adopted as version 5, which the council, the provider and the
   Friends sign (`charter_signing.sign`: each an audit link).

Ballots go in through the `BallotWriter` as the other demos' do, so the record verifies and
recounts like a real meeting's.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import replace

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import demo
from app.console import demo_lab
from app.core.vocab import CHARTER
from app.demo import charter as demo_charter
from app.record.records import MeetingFile
from app.rules import charter_doc as cd
from app.voting import charter_drafts, charter_signing, charters, lab, meetings, rounds, voters
from app.voting.ballots import CastRequest, cast_all
from app.voting.charter_kind import charter_items
from app.voting.db import transaction
from app.voting.models import Meeting

TITLE = demo_charter.TITLE
SEED = 2028  # the same answers on every machine
# Three of the four parties sign; the residents' representatives sign at the review.
SIGNATURES = (
    charter_signing.Signing(
        demo_charter.COUNCIL,
        "Cllr Angharad Rees",
        "Cabinet member for communities",
        "Riverside Council",
        "M 20 140 L 40 60 L 70 50 L 80 120 L 120 150 L 140 90 L 180 110 M 200 100 L 300 95",
    ),
    charter_signing.Signing(
        demo_charter.PROVIDER, "Dewi Morgan", "Operations manager", "Valley Community Transport"
    ),
    charter_signing.Signing(
        demo_charter.FRIENDS, "Sian Hughes", "Chair", "Friends of Riverside Park"
    ),
)


def sample() -> MeetingFile:
    """The charter meeting's file: the budget sample under the charter's title."""
    return demo.riverside_budget().model_copy(
        update={"title": TITLE, "translations": {"cy": {"title": demo_charter.TITLE_CY}}}
    )


def _close(engine: Engine, meeting_id: int, number: int) -> None:
    with transaction(engine) as session:
        meeting = meetings.get_meeting(session, meeting_id)
        rounds.close_round(session, meeting, number)
        rounds.set_revealed(session, meeting, number, True)


def _worded(session: Session, charter: cd.Charter, lab_meeting_id: int) -> cd.Charter:
    """The drafted commitments as the drafters word them (`demo_charter.BUDGET_WORDING` by
    proposal, `LAB_WORDING` by the demo Lab's idea)."""
    names = {i.text: i.name for i in demo_lab.IDEAS}
    out = []
    for c in charter.commitments:
        wording = None
        if c.source.kind is cd.SourceKind.BUDGET:
            wording = demo_charter.BUDGET_WORDING.get(c.source.ref)
        elif c.source.kind is cd.SourceKind.LAB:
            text = lab.idea(session, lab_meeting_id, c.source.ref).text
            wording = demo_charter.LAB_WORDING.get(names.get(text, ""))
        out.append(c if wording is None else demo_charter.reworded(c, wording))
    return replace(charter, commitments=tuple(out))


def seed(engine: Engine, lab_meeting: Meeting) -> Meeting:
    """Create the charter meeting as the module doc says and return it. `lab_meeting` is the
    demo survey meeting with its Lab (`demo_lab.seed`): the residents' commitments are drafted
    from its pledges. Blocking: runs its own event loop for the ballot writer (call it before
    the server starts)."""
    room = demo_charter.people()
    rng = random.Random(SEED)
    with transaction(engine) as session:
        meeting = meetings.create_meeting(session, sample())
        assert meeting.id is not None
        rnd = rounds.open_round(session, meeting, [p.id for p in sample().proposals])
        people = []
        for person in room:
            voter = voters.join(session, meeting)
            voter.segments = sorted(person.segments)
            session.add(voter)
            people.append(voter)
        session.flush()
        assert rnd.id is not None
        requests = [
            CastRequest(
                meeting.id, rnd.id, v.id or 0, uuid.uuid4().hex, demo_charter.budget_marks(i, p)
            )
            for i, (p, v) in enumerate(zip(room, people, strict=True))
        ]
        meeting_id, budget_number = meeting.id, rnd.number
        voter_ids = [v.id or 0 for v in people]
    cast_all(engine, requests)
    _close(engine, meeting_id, budget_number)

    with transaction(engine) as session:
        meeting = meetings.get_meeting(session, meeting_id)
        source = session.merge(lab_meeting)
        assert source.id is not None
        charters.save_charter(session, meeting, demo_charter.draft(), "imported")
        charter_drafts.commitments_from_budget(session, meeting, meeting, demo_charter.COUNCIL)
        charter_drafts.commitments_from_lab(session, meeting, demo_charter.RESIDENTS, source)
        drafted = charters.charter_of(session, meeting_id)
        assert drafted is not None
        charters.save_charter(session, meeting, _worded(session, drafted, source.id), "imported")
        keys = [i.key for i in charter_items(demo_charter.draft())]
        consent = rounds.open_round(session, meeting, keys, kind=CHARTER)
        assert consent.id is not None
        requests = [
            CastRequest(meeting_id, consent.id, voter_id, uuid.uuid4().hex, marks)
            for voter_id, marks in zip(voter_ids, demo_charter.answers(room, rng), strict=True)
        ]
        charter_number = consent.number
    cast_all(engine, requests)
    _close(engine, meeting_id, charter_number)

    with transaction(engine) as session:
        meeting = meetings.get_meeting(session, meeting_id)
        charter_signing.adopt_round(session, meeting, charter_number)
        for signing in SIGNATURES:
            charter_signing.sign(session, meeting, signing)
        return meeting
