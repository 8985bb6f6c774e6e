"""The demo's survey meeting: Riverside's services surveyed, with made-up answers already in,
so a facilitator trying Covote sees a survey's results at once (`covote demo`).

The answers go in as any phone's do: one voter each (their segments as the made-up respondent
has them), their ballot through the `BallotWriter` (checked, committed in batches, each batch
in the audit chain), then the round is closed like any other, with its turnout and seal. So
the demo's record verifies and recounts like a real meeting's.
"""

from __future__ import annotations

import random
import uuid

from sqlalchemy.engine import Engine

from app import demo
from app.core.vocab import SURVEY
from app.demo import survey as demo_survey
from app.record.records import MeetingFile
from app.voting import kinds, meetings, rounds, surveys, voters
from app.voting.ballots import CastRequest, cast_all
from app.voting.db import transaction
from app.voting.models import Meeting

TITLE = "Riverside community survey"
RESPONDENTS = 300
SEED = 2026  # the same answers on every machine


def sample() -> MeetingFile:
    """The survey meeting's file: Riverside's room-vote meeting under the survey's title."""
    return demo.riverside().model_copy(update={"title": TITLE, "translations": {}})


def seed(engine: Engine, respondents: int = RESPONDENTS) -> Meeting:
    """Create the survey meeting with its survey and a closed survey round of `respondents`
    made-up answers (the same for every run), and return it. Blocking: runs its own event loop
    for the ballot writer (call it before the server starts)."""
    people = demo_survey.answers(respondents, random.Random(SEED))
    with transaction(engine) as session:
        meeting = meetings.create_meeting(session, sample())
        surveys.save_survey(session, meeting, demo_survey.survey())
        surveys.save_boundaries(session, meeting, demo.riverside_wards(), "riverside.geojson")
        assert meeting.id is not None
        keys = [i.key for i in kinds.kind_named(SURVEY).available(session, meeting.id)]
        rnd = rounds.open_round(session, meeting, keys, kind=SURVEY)
        requests = []
        for person in people:
            voter = voters.join(session, meeting)
            voter.segments = sorted(person.segments)
            session.add(voter)
            session.flush()
            assert voter.id is not None and rnd.id is not None
            requests.append(
                CastRequest(meeting.id, rnd.id, voter.id, uuid.uuid4().hex, dict(person.marks))
            )
        meeting_id, number = meeting.id, rnd.number
    cast_all(engine, requests)
    with transaction(engine) as session:
        meeting = meetings.get_meeting(session, meeting_id)
        rounds.close_round(session, meeting, number)
        rounds.set_revealed(session, meeting, number, True)
        return meeting
