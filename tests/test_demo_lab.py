"""The demo's Co-Production Lab (issue 16, app/console/demo_lab.py): the Riverside survey meeting
goes on into a Lab whose results show camps and a bridging idea on the console's Lab page, the
wall and the report, and whose record verifies."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from app.console import demo_lab, demo_survey
from app.core.vocab import LAB
from app.rules.lab import IdeaStatus
from app.voting import lab, lab_challenges, lab_kind, rounds
from app.voting.db import read_transaction
from tests.conftest import FACILITATOR_KEY, LiveServer


def test_the_demo_lab_has_camps_a_bridging_idea_and_a_rejected_cut(server: LiveServer) -> None:
    engine = server.app.state.services.engine
    with ThreadPoolExecutor(1) as pool:  # the seeds run their own event loops
        meeting = pool.submit(demo_survey.seed, engine, 60).result()
        meeting = pool.submit(demo_lab.seed, engine, meeting).result()
    assert meeting.id is not None
    with read_transaction(engine) as session:
        challenges = lab_challenges.challenges_of(session, meeting.id)
        rows = lab.ideas_of(session, meeting.id)
        (rnd,) = [r for r in rounds.rounds_of(session, meeting.id) if r.kind == LAB]
        result = lab_kind.lab_result(session, meeting, rnd)
    # Challenges from the survey's focus list, in English and Welsh.
    assert challenges and all(c.title_cy for c in challenges)
    statuses = [r.idea.status for r in rows]
    assert len(rows) == len(demo_lab.IDEAS) >= 25
    assert statuses.count(IdeaStatus.MERGED) == 2 and statuses.count(IdeaStatus.HIDDEN) == 1
    assert {r.idea.kind for r in rows} == {"cut_cost", "redesign", "co_deliver"}
    assert sum(r.helpers for r in rows) > 0
    assert rnd.status == "closed" and rnd.revealed
    assert result.voters_rated == demo_lab.PARTICIPANTS
    assert len(result.groups) >= 2 and all(g.size >= result.m for g in result.groups)
    text = {r.idea.key: r.idea.text for r in rows}
    bridging = [text[i.key] for i in result.ideas if i.is_bridging]
    assert bridging[0].startswith("Volunteer drivers")
    rejected = [text[i.key] for i in result.ideas if i.rejected_by]
    assert "Open the day centre four days a week instead of five" in rejected

    f = server.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    page = f.get(f"/console/{meeting.id}/lab")
    assert page.status_code == 200 and "Volunteer drivers from the churches" in page.text
    wall = f.get(f"/p/{meeting.code}/wall?part=1").text
    assert (
        "Group 2:" in wall
        and "Volunteer drivers from the churches"
        in wall.split('class="lab-bridging"')[1].split("</ol>")[0]
    )
    report = f.get(f"/console/{meeting.id}/report")
    assert report.status_code == 200 and "Volunteer drivers from the churches" in report.text
