"""Helpers' pledges in the Lab (issue 16): hours a month (0-100), a second pledge changes them,
withdrawing, the summary by segment with counts under m suppressed (none derivable by
subtraction), and the summary travelling into a budget meeting's proposal and the charter's
draft commitments, in English and Welsh. Never who, never one person's hours.

The pure summary, the service on SQLite, and the phone's pledge form over HTTP."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from app.core.errors import BadInput, Conflict, InvalidForm
from app.record.records import MeetingFile
from app.rules import charter_doc as cd
from app.rules import lab_pledges as lp
from app.rules.lab import IdeaKind, IdeaStatus
from app.voting import (
    charter_drafts,
    charters,
    lab,
    lab_challenges,
    lab_helping,
    lab_moderation,
    lab_shortlist,
    meetings,
)
from app.voting.db import create_schema, make_engine, transaction
from app.voting.models import LabIdea, LabPledge, Meeting, Proposal, Voter
from tests.conftest import LiveServer, Phone, csrf_of, join
from tests.conftest import Meeting as ConsoleMeeting
from tests.test_lab_room import add_challenge, challenge_keys, ideas, suggest

SEGMENTS = ["carer", "north"]


def pledges(*rows: tuple[str, int | None]) -> list[lp.Pledge]:
    """Pledges from ("carer north", hours) rows."""
    return [lp.Pledge(frozenset(segs.split()), hours) for segs, hours in rows]


# --- the pure summary ---------------------------------------------------------------------


def test_the_summary_counts_helpers_hours_and_segments_when_every_group_is_big_enough() -> None:
    """Six carers (three in the north) and three others in the north, m = 3: every count."""
    given = pledges(*[("carer", 2)] * 3, *[("carer north", 4)] * 3, *[("north", None)] * 3)
    got = lp.summarise(given, SEGMENTS, 3)
    assert got == lp.PledgeSummary(9, 18, (("carer", 6), ("north", 6)))


def test_nothing_by_segment_and_no_hours_when_fewer_than_m_would_help() -> None:
    """Two helpers, m = 3: their number only (as a turnout); their hours would be theirs."""
    got = lp.summarise(pledges(("carer", 10), ("carer", 5)), SEGMENTS, 3)
    assert got == lp.PledgeSummary(2, None, ())


def test_hours_are_hidden_until_m_helpers_gave_them() -> None:
    """Five helpers, two of whom gave hours: the sum would be those two's."""
    got = lp.summarise(pledges(("", 7), ("", 1), ("", None), ("", None), ("", None)), [], 3)
    assert (got.helpers, got.hours) == (5, None)
    got = lp.summarise(pledges(("", 7), ("", 1), ("", 0), ("", None)), [], 3)
    assert (got.helpers, got.hours) == (4, 8)


def test_a_segment_is_not_shown_when_the_rest_could_be_worked_out_by_subtraction() -> None:
    """Five carers and one other, m = 3: carers (5) is over m, but all helpers (6, always shown)
    minus carers would say one person is not a carer."""
    got = lp.summarise(pledges(*[("carer", None)] * 5, ("", None)), SEGMENTS, 3)
    assert got.helpers == 6 and got.by_segment == ()


def test_two_overlapping_segments_never_reveal_a_small_intersection() -> None:
    """Carers 4 and north 4 sharing one person, 3 in neither, m = 3: each is over m alone,
    but both shown would give carer-and-north = carer + north + neither - all = 1. Only the
    larger-first admissible one is shown."""
    given = pledges(
        *[("carer", None)] * 3, ("carer north", None), *[("north", None)] * 3, *[("", None)] * 3
    )
    got = lp.summarise(given, SEGMENTS, 3)
    assert len(got.by_segment) == 1


def _derivable_counts(given: list[lp.Pledge], shown: list[str]) -> Iterator[int]:
    """Every count a reader can work out from the helpers' total and the shown segments'
    counts: each class of people the shown figures tell apart (in this segment and not
    that...) is a sum of shown figures with signs, by inclusion-exclusion over the shown."""
    for inside in itertools.product((True, False), repeat=len(shown)):
        yield sum(
            1
            for p in given
            if all((s in p.segments) == i for s, i in zip(shown, inside, strict=True))
        )


@pytest.mark.parametrize("m", [2, 3, 5])
def test_no_count_under_m_can_be_derived_from_what_is_shown(m: int) -> None:
    """Over every mix of two-segment memberships up to 9 helpers: when any segment is shown,
    each class the shown figures separate is empty or at least m, so no sum or difference of
    them is under m."""
    kinds = ["", "carer", "north", "carer north"]
    for mix in itertools.combinations_with_replacement(kinds, 9):
        for size in (3, 6, 9):
            given = pledges(*[(k, None) for k in mix[:size]])
            got = lp.summarise(given, SEGMENTS, m)
            shown = [s for s, _ in got.by_segment]
            # The helpers' number alone is always shown (as a round's turnout).
            assert not shown or all(n == 0 or n >= m for n in _derivable_counts(given, shown)), (
                mix,
                size,
            )


def test_the_summary_is_worded_with_the_segments_names() -> None:
    summary = lp.PledgeSummary(14, 36, (("carer", 6), ("north", 5)))
    words = lp.describe(summary, {"carer": "Carers", "north": "Ward North"}, lambda s: s)
    assert words == (
        "From the Co-Production Lab. People who would help make it happen: 14. "
        "Hours a month they offer: 36. Among them: Carers 6, Ward North 5."
    )


# --- the service ---------------------------------------------------------------------------

MEETING: dict[str, Any] = {
    "title": "Lab night",
    "rule": {"ratio": 2, "group_min": 3},
    "segments": [
        {
            "id": "carer",
            "label": "Carers",
            "protects": True,
            "translations": {"cy": {"label": "Gofalwyr"}},
        },
        {"id": "north", "label": "Ward North", "protects": True},
    ],
    "proposals": [{"id": "seed", "title": "Seed", "kind": "keep", "saving": 1}],
}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Any]:
    engine = make_engine(f"sqlite:///{tmp_path / 'lab.db'}")
    create_schema(engine)
    yield engine
    engine.dispose()


def _setup(session: Session, voters: list[list[str]]) -> tuple[Meeting, LabIdea, list[Voter]]:
    """A meeting with one approved (keyed) idea and voters of the given segments."""
    meeting = meetings.create_meeting(session, MeetingFile.model_validate(MEETING))
    assert meeting.id is not None
    challenge = lab_challenges.add_challenge(session, meeting, "Fewer empty buses")
    draft = lab.IdeaDraft(challenge.key, "Share the school bus", "", IdeaKind.CO_DELIVER)
    (row,) = lab.key_ideas(session, meeting, [draft])
    people = [
        Voter(meeting_id=meeting.id, pseudonym=f"v{meeting.id}-{i}", segments=segs)
        for i, segs in enumerate(voters)
    ]
    session.add_all(people)
    session.flush()
    return meeting, row, people


def _hours(session: Session, idea_row: LabIdea) -> list[int | None]:
    q = select(LabPledge.hours).where(col(LabPledge.idea_id) == idea_row.id)
    return sorted(session.exec(q), key=lambda h: -1 if h is None else h)


@pytest.mark.parametrize("typed", ["-1", "101", "2.5", "ten", "\uff11\uff10", "1e2"])
def test_hours_outside_0_to_100_or_not_whole_are_refused_by_their_field(typed: str) -> None:
    with pytest.raises(InvalidForm) as e:
        lab_helping.parse_hours(typed, "hours-i1")
    assert [f for f, _ in e.value.problems] == ["hours-i1"]


def test_hours_may_be_left_out_or_anything_from_0_to_100() -> None:
    assert [lab_helping.parse_hours(t) for t in ("", "  ", None, "0", " 100 ", "7")] == [
        None,
        None,
        None,
        0,
        100,
        7,
    ]


def test_a_second_pledge_changes_the_hours_and_withdrawing_takes_it_back(db: Any) -> None:
    with transaction(db) as s:
        meeting, row, (v,) = _setup(s, [["carer"]])
        lab_helping.pledge(s, row, v, 4)
        lab_helping.pledge(s, row, v, 10)
        assert _hours(s, row) == [10]
        assert meeting.id is not None and lab_helping.pledges_by(s, meeting.id, v.id or 0) == {
            row.key: 10
        }
        assert lab_helping.withdraw(s, row, v) is True
        assert _hours(s, row) == [] and lab_helping.withdraw(s, row, v) is False


def test_only_approved_ideas_take_pledges_and_hours_are_bounded_there_too(db: Any) -> None:
    with transaction(db) as s:
        meeting, row, (v,) = _setup(s, [[]])
        with pytest.raises(BadInput):
            lab_helping.pledge(s, row, v, 101)
        lab_moderation.set_status(s, meeting, row.key, IdeaStatus.HIDDEN)
        with pytest.raises(Conflict):
            lab_helping.pledge(s, row, v, 2)
        assert _hours(s, row) == []


def _pledged(s: Session) -> tuple[Meeting, LabIdea]:
    """Six helpers, m = 3: four carers (2 h each), two carers also north... see counts."""
    segs = [["carer"], ["carer"], ["carer", "north"], ["north"], ["north"], ["north"], []]
    meeting, row, people = _setup(s, segs)
    for v, h in zip(people, [2, 2, 4, 6, None, 8, 14], strict=True):
        lab_helping.pledge(s, row, v, h)
    return meeting, row


def test_the_summary_per_idea_suppresses_by_the_meetings_m(db: Any) -> None:
    """Seven helpers (36 hours from six); north 4 and carers 3 are each over m = 3, but both
    shown would leave carer-and-north 1: only north (the larger) is shown."""
    with transaction(db) as s:
        meeting, row = _pledged(s)
        got = lab_helping.pledge_summaries(s, meeting)
    assert got == {row.key: lp.PledgeSummary(7, 36, (("north", 4),))}


def test_the_budget_proposal_carries_the_summary_in_english_and_welsh(db: Any) -> None:
    with transaction(db) as s:
        meeting, row = _pledged(s)
        lab_shortlist.shortlist(s, meeting, {row.key: ""}, {})
        new = lab_shortlist.budget_from_shortlist(s, meeting, {})
        assert new.id is not None
        (p,) = meetings.proposals_of(s, new.id)
        english, welsh = p.description, (p.translations or {})["cy"]["description"]
    assert english == (
        "From the Co-Production Lab. People who would help make it happen: 7. "
        "Hours a month they offer: 36. Among them: Ward North 4."
    )
    assert "36" in welsh and "Ward North 4" in welsh and "People who" not in welsh
    assert "oriau" in welsh.lower()
    assert isinstance(p, Proposal)


def test_the_charters_lab_commitment_carries_the_same_counts(db: Any) -> None:
    """The commitment's source counts the helpers; its measure is the summary, in Welsh too."""
    charter = cd.Charter(
        title="Our charter",
        parties=(cd.Party("residents", "Residents", cd.PartyKind.RESIDENTS),),
    )
    with transaction(db) as s:
        meeting, row = _pledged(s)
        charters.save_charter(s, meeting, charter)
        assert charter_drafts.commitments_from_lab(s, meeting, "residents") == 1
        assert meeting.id is not None
        saved = charters.charter_of(s, meeting.id)
    assert saved is not None
    (c,) = saved.commitments
    assert (c.what, c.source) == ("Share the school bus", cd.Source(cd.SourceKind.LAB, row.key, 7))
    assert c.measure.endswith("Hours a month they offer: 36. Among them: Ward North 4.")
    assert "36" in c.measure_cy and "Ward North 4" in c.measure_cy and "People" not in c.measure_cy


# --- the phone, over HTTP ------------------------------------------------------------------


def _approved_idea(server: LiveServer, meeting: ConsoleMeeting) -> str:
    add_challenge(meeting, "Fewer empty buses")
    (challenge,) = challenge_keys(meeting)
    author = server.browser()
    join(author, meeting.code)
    r = suggest(author, meeting.code, challenge=challenge, text="Share the school bus")
    assert r.status_code == 303
    url = server.app.state.services.settings.resolved_database_url()
    (row,) = ideas(url, meeting.id)
    meeting.post(f"/lab/ideas/{row.key}/approve")
    return row.key


def _pledge(phone: Any, code: str, **data: str) -> Any:
    csrf = csrf_of(phone, f"/m/{code}/lab")
    return phone.post(f"/m/{code}/pledge", data={"csrf": csrf, **data}, follow_redirects=False)


def test_a_phone_pledges_hours_to_an_approved_idea_changes_them_and_withdraws(
    server: LiveServer, meeting: ConsoleMeeting
) -> None:
    key = _approved_idea(server, meeting)
    phone = server.browser()
    join(phone, meeting.code)
    page = phone.get(f"/m/{meeting.code}/lab").text
    assert "Ideas you could help with" in page and f'id="hours-{key}"' in page
    assert _pledge(phone, meeting.code, idea=key, hours="6").status_code == 303
    page = phone.get(f"/m/{meeting.code}/lab?pledged=1").text
    assert re.search(rf'id="hours-{key}"[^>]*value="6"', page) and "Withdraw my pledge" in page
    assert _pledge(phone, meeting.code, idea=key, hours="9").status_code == 303
    page = phone.get(f"/m/{meeting.code}/lab").text
    assert re.search(rf'id="hours-{key}"[^>]*value="9"', page)
    # Bad hours: refused by the field, the pledge as it was.
    r = _pledge(phone, meeting.code, idea=key, hours="500")
    assert r.status_code == 400 and "Your pledge was not saved" in r.text
    assert f'href="#hours-{key}"' in r.text
    assert re.search(rf'id="hours-{key}"[^>]*value="9"', r.text)
    # The facilitator sees a count, never who.
    assert "would help: 1" in meeting.f.get(f"/console/{meeting.id}/lab").text
    assert _pledge(phone, meeting.code, idea=key, action="withdraw").status_code == 303
    page = phone.get(f"/m/{meeting.code}/lab").text
    assert "Withdraw my pledge" not in page
    assert "would help: 1" not in meeting.f.get(f"/console/{meeting.id}/lab").text


def test_an_idea_sent_with_hours_keeps_them_and_bad_hours_keep_nothing(
    server: LiveServer, meeting: ConsoleMeeting
) -> None:
    add_challenge(meeting, "Fewer empty buses")
    (challenge,) = challenge_keys(meeting)
    phone = server.browser()
    join(phone, meeting.code)
    url = server.app.state.services.settings.resolved_database_url()
    r = suggest(phone, meeting.code, challenge=challenge, text="Walk", help="yes", hours="101")
    assert r.status_code == 400 and 'href="#idea-hours"' in r.text
    assert ideas(url, meeting.id) == []
    r = suggest(phone, meeting.code, challenge=challenge, text="Walk", help="yes", hours="12")
    assert r.status_code == 303
    engine = make_engine(url)
    try:
        with transaction(engine) as s:
            assert list(s.exec(select(LabPledge.hours))) == [12]
    finally:
        engine.dispose()


def test_a_pending_idea_takes_no_pledge_from_another_phone(
    server: LiveServer, meeting: ConsoleMeeting
) -> None:
    add_challenge(meeting, "Fewer empty buses")
    (challenge,) = challenge_keys(meeting)
    author = server.browser()
    join(author, meeting.code)
    suggest(author, meeting.code, challenge=challenge, text="Walk")
    url = server.app.state.services.settings.resolved_database_url()
    (row,) = ideas(url, meeting.id)
    phone = server.browser()
    join(phone, meeting.code)
    r = _pledge(phone, meeting.code, idea=row.key, hours="3")
    assert r.status_code == 409 and "Only an approved idea takes pledges." in r.text


def _keyed_idea(server: LiveServer, meeting: ConsoleMeeting) -> LabIdea:
    """An idea keyed from a flip chart: approved at once."""
    add_challenge(meeting, "Fewer empty buses")
    (challenge,) = challenge_keys(meeting)
    meeting.post(
        "/lab/ideas", text_1="Share the school bus", challenge_1=challenge, kind_1="co_deliver"
    )
    url = server.app.state.services.settings.resolved_database_url()
    (row,) = ideas(url, meeting.id)
    return row


def _stored_hours(server: LiveServer) -> list[int | None]:
    engine = make_engine(server.app.state.services.settings.resolved_database_url())
    try:
        with transaction(engine) as s:
            return list(s.exec(select(LabPledge.hours)))
    finally:
        engine.dispose()


def test_rating_an_idea_can_pledge_hours_and_bad_hours_refuse_the_rating_too(
    server: LiveServer, meeting: ConsoleMeeting
) -> None:
    row = _keyed_idea(server, meeting)
    meeting.post("/rounds", kind="lab")
    phone = Phone(server.browser(), meeting.code)
    csrf = csrf_of(phone.c, f"/m/{meeting.code}/rate")
    assert 'id="rate-hours"' in phone.c.get(f"/m/{meeting.code}/rate").text
    rate = {"csrf": csrf, "idea": row.key, "rating": "agree", "help": "yes"}
    bad = phone.c.post(f"/m/{meeting.code}/rate", data={**rate, "hours": "101"})
    assert bad.status_code == 400
    assert phone.state()["you"]["ballot"] is None and _stored_hours(server) == []
    r = phone.c.post(f"/m/{meeting.code}/rate", data={**rate, "hours": "5"}, follow_redirects=False)
    assert r.status_code == 303 and _stored_hours(server) == [5]


def test_the_wall_and_the_console_show_the_summary_by_segment_never_who(
    server: LiveServer, meeting: ConsoleMeeting
) -> None:
    """Four helpers (m = 2): two carers and two in the north, three hours each: the wall and the
    console say 4 would help, 12 hours a month, Carer 2, Area: North 2. One in the north
    withdraws: North (1) goes, and Carer (2) too, as 3 - 2 would show the one in the north."""
    row = _keyed_idea(server, meeting)
    for segs in (["carer"], ["carer"], ["north"], ["north"]):
        phone = Phone(server.browser(), meeting.code)
        assert phone.segments(*segs).status_code == 200
        assert _pledge(phone.c, meeting.code, idea=row.key, hours="3").status_code == 303
    wall = server.browser().get(f"/p/{meeting.code}/wall?part=1").text
    console = meeting.f.get(f"/console/{meeting.id}/lab").text
    for page in (wall, console):
        assert "would help: 4 · hours a month: 12 · Carer 2, Area: North 2" in page
    assert _pledge(phone.c, meeting.code, idea=row.key, action="withdraw").status_code == 303
    wall = server.browser().get(f"/p/{meeting.code}/wall?part=1").text
    # Three left, north 1: under m, so not shown; carers 2 and the rest 1: not shown either.
    assert "would help: 3 · hours a month: 9<" in wall.replace("</span>", "<")
    assert "Carer 2" not in wall and "North" not in wall
