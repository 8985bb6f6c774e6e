"""A meeting's life around its votes (app/voting/lifecycle.py): the meeting list, duplicating,
archiving and deleting, on the services (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Table, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col

from app.config import Settings
from app.core.errors import BadInput, Conflict, CovoteError
from app.record.records import (
    MeetingFile,
    ProposalFile,
    drop_unset_place,
    dump_meeting,
    parse_meeting,
)
from app.rules import charter_doc as cd
from app.rules import survey_rows
from app.rules.tally import Mark
from app.voting import (
    audit,
    charter_reviews,
    charter_signing,
    charters,
    lifecycle,
    meetings,
    rounds,
    survey_counts,
    surveys,
    voters,
)
from app.voting.ballots import BallotWriter, CastRequest
from app.voting.db import create_schema, make_engine, transaction
from app.voting.models import (
    AuditEvent,
    Ballot,
    CharterAmendment,
    Contact,
    FacilitatorKey,
    FacilitatorSession,
    Keypad,
    LabChallenge,
    LabIdea,
    LabPledge,
    Meeting,
    PaperEntry,
    Ticket,
    utcnow,
)

RICH: dict[str, Any] = {
    "title": "Northfield budget rehearsal",
    "rule": {"ratio": 3, "group_min": 4},
    "budget": {"pot": 250000, "currency": "£", "completion": "add1+greedy"},
    "savings_target": 40000.5,
    "segments": [
        {
            "id": "carer",
            "label": "Carer",
            "protects": True,
            "translations": {"cy": {"label": "Gofalwr"}},
        },
        {"id": "staff", "label": "Staff", "protects": False},
    ],
    "proposals": [
        {
            "id": "library",
            "title": "Mobile library",
            "description": "The weekly van.",
            "kind": "keep",
            "saving": 48000,
            "affected_groups": ["carer"],
            "translations": {"cy": {"title": "Llyfrgell deithiol"}},
        },
        {"id": "respite", "title": "Respite breaks", "kind": "fund", "cost": 80000},
        {"id": "toilets", "title": "Park toilets", "kind": "keep", "saving": 22000},
        {"id": "youth", "title": "Youth club", "kind": "fund", "cost": 35000.25},
    ],
    "tie_break": ["toilets", "library", "youth", "respite"],
    "results_hidden": False,
    "voting": {"admission": "tickets", "channel_policy": "latest", "show_channels": True},
    "translations": {"cy": {"title": "Cyllideb Northfield"}},
}


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """A fresh database (SQLite, and PostgreSQL where it runs) at the newest revision."""
    engine = make_engine(settings.resolved_database_url())
    create_schema(engine)
    yield engine
    engine.dispose()


def make(session: Session, spec: dict[str, Any] = RICH, **changes: Any) -> Meeting:
    return meetings.create_meeting(session, parse_meeting(json.dumps({**spec, **changes})))


def exported(session: Session, meeting: Meeting) -> dict[str, Any]:
    """The meeting's public meeting JSON, as the console exports it."""
    return dict(json.loads(dump_meeting(meetings.meeting_file(session, meeting))))


def chain(session: Session, meeting_id: int) -> list[dict[str, Any]]:
    return [json.loads(line) for line in audit.export_lines(session, meeting_id).splitlines()]


def fill(session: Session, meeting: Meeting, *, close: bool = True) -> None:
    """Give the meeting a row in every table a meeting owns: voters, a round with a ballot,
    a keypad, a ticket, a paper keying, a helper's link with a signed-in browser, audit links,
    a survey with kept counts, someone on the people list, a Lab challenge with an idea and a
    helper's pledge, a charter with its settings, a version, a party's signature and its report
    on a commitment (a review's)."""
    assert meeting.id is not None
    surveys.save_survey(session, meeting, surveys.from_proposals(session, meeting))
    clause = cd.Clause("repairs", "Repairs are done within 28 days.", "Gwneir atgyweiriadau.")
    charters.save_charter(
        session,
        meeting,
        cd.Charter(
            "Charter",
            sections=(cd.Section("s", "Homes", clauses=(clause,)),),
            parties=(cd.Party("council", "The council", cd.PartyKind.COUNCIL),),
            commitments=(cd.Commitment("fix", "council", "Fix the roofs"),),
        ),
    )
    charter_signing.sign(
        session, meeting, charter_signing.Signing("council", "A Name", "Leader", "The council")
    )
    charter_reviews.save_reports(session, meeting, [charter_reviews.Report("fix", "Done.")])
    rnd = rounds.open_round(session, meeting, ["library", "respite"])
    first, second = voters.join(session, meeting), voters.join(session, meeting)
    assert rnd.id and first.id and second.id
    session.add(
        Ballot(round_id=rnd.id, voter_id=first.id, ballot_uid="b-1", marks={"library": "want"})
    )
    # A survey round's kept counts (the writer's rows for that ballot; app/voting/survey_counts.py).
    survey_counts.apply(session, {rnd.id: survey_rows.contributions("area", "[]", {"q": "1"})})
    session.add(Keypad(meeting_id=meeting.id, keypad="kpl:0A0001", label="K1", voter_id=second.id))
    session.add(
        Ticket(meeting_id=meeting.id, number=1, code=f"T{meeting.id:07d}", voter_id=second.id)
    )
    session.add(PaperEntry(round_id=rnd.id, sheet=1, keying=1, voter_id=first.id))
    session.add(
        Contact(
            meeting_id=meeting.id,
            name="Ann Helper",
            email="ann@example.org",
            given_on=date(2026, 12, 5),
            delete_after=date(2027, 12, 5),
        )
    )
    challenge = LabChallenge(meeting_id=meeting.id, key="c1", title="Fewer empty buses")
    session.add(challenge)
    session.flush()
    assert challenge.id is not None
    idea = LabIdea(
        meeting_id=meeting.id,
        challenge_id=challenge.id,
        key="i1",
        text="Share the school bus",
        kind="co_deliver",
        author_id=first.id,
    )
    session.add(idea)
    session.flush()
    assert idea.id is not None
    session.add(LabPledge(idea_id=idea.id, voter_id=first.id))
    session.add(
        CharterAmendment(
            meeting_id=meeting.id,
            key="am-1",
            clause="repairs",
            text="Repairs are done within 14 days.",
            author_id=first.id,
        )
    )
    key = FacilitatorKey(
        meeting_id=meeting.id, role="paper", label="Desk", key_hash=f"{meeting.id:064d}"
    )
    session.add(key)
    session.flush()
    session.add(
        FacilitatorSession(
            token_hash=f"{meeting.id:064x}",
            meeting_id=meeting.id,
            role="paper",
            key_id=key.id,
            expires_at=utcnow() + timedelta(hours=1),
        )
    )
    if close:
        rounds.close_round(session, meeting, rnd.number)


# --- the list ----------------------------------------------------------------------------------


def test_the_list_is_newest_first_with_status_and_counts_and_hides_the_archived(
    engine: Engine,
) -> None:
    """Created order reversed; set-up, open, closed and archived told apart; counts of rounds
    and voters; archived meetings only on request, but always counted."""
    with transaction(engine) as s:
        setup = make(s, title="In set-up")
        voting = make(s, title="Voting now")
        voting.created_at = setup.created_at + timedelta(minutes=1)
        rounds.open_round(s, voting, ["library"])
        voters.join(s, voting)
        done = make(s, title="Done")
        done.created_at = setup.created_at + timedelta(minutes=2)
        rounds.open_round(s, done, ["library"])
        rounds.close_round(s, done, 1)
        rounds.open_round(s, done, ["respite"])
        rounds.close_round(s, done, 2)
        old = make(s, title="Last year")
        old.created_at = setup.created_at - timedelta(days=400)
        lifecycle.archive(s, old)
    with transaction(engine) as s:
        shown = lifecycle.meeting_list(s)
        everything = lifecycle.meeting_list(s, with_archived=True)
    assert [m.title for m in shown.meetings] == ["Done", "Voting now", "In set-up"]
    assert shown.archived == everything.archived == 1
    assert [m.title for m in everything.meetings] == [
        "Done",
        "Voting now",
        "In set-up",
        "Last year",
    ]
    by_title = {m.title: m for m in everything.meetings}
    assert [(m.status, m.rounds, m.voters, m.open_round) for m in everything.meetings] == [
        (lifecycle.MeetingStatus.CLOSED, 2, 0, None),
        (lifecycle.MeetingStatus.OPEN, 1, 1, 1),
        (lifecycle.MeetingStatus.SETUP, 0, 0, None),
        (lifecycle.MeetingStatus.ARCHIVED, 0, 0, None),
    ]
    assert by_title["Last year"].archived_at is not None


# --- duplicate ---------------------------------------------------------------------------------


def test_a_duplicate_copies_the_set_up_exactly_and_nothing_else(engine: Engine) -> None:
    """The copy's meeting JSON is the source's but for the title and a freshly drawn tie-break
    order; no voter, round, ballot, ticket, keypad, paper, helper link or audit link comes
    along (the survey, set-up, does); new code and record secret; its chain starts with
    meeting.created naming the source."""
    with transaction(engine) as s:
        source = make(s)
        fill(s, source)
        lifecycle.archive(s, source)  # an archived meeting can be copied; the copy is not
        source_head, source_code = audit.head_of(s, source.id or 0), source.code
        before = exported(s, source)
        draw = random.Random(12)
        copy = lifecycle.duplicate(s, source, "Northfield budget", rng=random.Random(12))
        assert copy.id is not None and source.id is not None
        after = exported(s, copy)
        copy_chain = chain(s, copy.id)
        counts = lifecycle.loss(s, copy)
        # The survey is set-up: copied as it is (the same file, byte for byte).
        assert surveys.survey_text(s, copy.id) == surveys.survey_text(s, source.id) is not None
        # So is the charter: its current draft, as the copy's version 1.
        assert charters.charter_of(s, copy.id) == charters.charter_of(s, source.id) is not None
        assert [v.number for v in charters.versions_of(s, copy.id)] == [1]
        assert audit.head_of(s, source.id) == source_head  # the source is untouched
        assert (copy.code, copy.record_secret) != (source.code, source.record_secret)
        assert copy.archived_at is None and copy.keypad_auto_enrol is False
    expected_order = [p["id"] for p in RICH["proposals"]]
    draw.shuffle(expected_order)
    assert after["tie_break"] == expected_order != RICH["tie_break"]
    assert after["title"] == "Northfield budget"
    strip = ("title", "tie_break")
    assert {k: v for k, v in after.items() if k not in strip} == {
        k: v for k, v in before.items() if k not in strip
    }
    canonical = json.loads(dump_meeting(parse_meeting(json.dumps(RICH))))
    assert before == canonical  # nothing the file says was lost on the way in
    # meeting.created, survey.saved, charter.saved
    assert counts == lifecycle.Loss(0, 0, 0, 0, 0, 3, 0)
    created, saved, charter_saved = copy_chain
    assert saved["kind"] == "survey.saved" and charter_saved["kind"] == "charter.saved"
    assert created["kind"] == "meeting.created"
    assert created["data"].pop("duplicated_from") == source_code
    # (the time zone, venue and chair only when set, as in the file: drop_unset_place)
    full = MeetingFile.model_validate(after).model_dump(mode="json")
    assert created["data"] == drop_unset_place(full)


def test_a_duplicates_title_is_checked_and_its_suggestion_fits() -> None:
    """The suggested title fits the 200-character limit; an empty title is refused."""
    assert lifecycle.copy_title("Budget") == "Budget (copy)"
    long = lifecycle.copy_title("x" * 200)
    assert len(long) == 200 and long.endswith("… (copy)")
    assert lifecycle.copy_title("Cyllideb", "%(title)s (copi)") == "Cyllideb (copi)"


def test_a_duplicate_needs_a_title(engine: Engine) -> None:
    """An empty title is refused and no meeting is made."""
    with transaction(engine) as s:
        source = make(s)
    with pytest.raises(BadInput), transaction(engine) as s:
        lifecycle.duplicate(s, meetings.get_meeting(s, source.id or 0), "  ")
    with transaction(engine) as s:
        assert len(lifecycle.meeting_list(s).meetings) == 1


# --- archive -----------------------------------------------------------------------------------


async def test_an_archived_meeting_refuses_rounds_set_up_joins_and_ballots(
    engine: Engine,
) -> None:
    """Archiving needs every round closed; then no round opens, no set-up changes, nobody joins
    and every ballot is refused as "ended"; it still exports. Unarchived, it works again."""
    with transaction(engine) as s:
        m = make(s, voting={"admission": "open"})
        rnd = rounds.open_round(s, m, ["library"])
        voter = voters.join(s, m)
        with pytest.raises(Conflict, match="Close round 1 before archiving"):
            lifecycle.archive(s, m)
    assert m.id is not None and rnd.id is not None and voter.id is not None
    mid = m.id
    late = CastRequest(mid, rnd.id, voter.id, "late-ballot-1", {"library": Mark.WANT})
    writer = BallotWriter(engine)
    writer.start()
    try:
        with transaction(engine) as s:
            m = meetings.get_meeting(s, mid)
            rounds.close_round(s, m, 1)
            lifecycle.archive(s, m)
        with pytest.raises(CovoteError) as refused:
            await writer.cast(late)
    finally:
        await writer.aclose()
    assert refused.value.msgid == meetings.ENDED  # said as "ended", not "round closed"
    pf = ProposalFile(id="new", title="New", kind="keep")
    changes: list[Callable[[Session, Meeting], object]] = [
        lambda s, m: rounds.open_round(s, m, ["library"]),
        lambda s, m: meetings.update_settings(
            s, m, title="Renamed", ratio=3, group_min=4, results_hidden=True
        ),
        lambda s, m: meetings.save_segment(s, m, key="new", label="New", protects=True),
        lambda s, m: meetings.delete_segment(s, m, "staff"),
        lambda s, m: meetings.save_proposal(s, m, pf),
        lambda s, m: meetings.delete_proposal(s, m, "toilets"),
    ]
    for change in changes:
        with pytest.raises(Conflict, match="is archived"), transaction(engine) as s:
            change(s, meetings.get_meeting(s, mid))
    with pytest.raises(Conflict) as ended, transaction(engine) as s:
        voters.join(s, meetings.get_meeting(s, mid))
    assert ended.value.msgid == meetings.ENDED
    with transaction(engine) as s:
        m = meetings.get_meeting(s, mid)
        assert exported(s, m)["title"] == RICH["title"]
        assert [link["kind"] for link in chain(s, m.id or 0)][-1] == "meeting.archived"
        with pytest.raises(Conflict, match="already archived"):
            lifecycle.archive(s, m)
        lifecycle.unarchive(s, m)
        rounds.open_round(s, m, ["library"])
        kinds = [link["kind"] for link in chain(s, m.id or 0)]
    assert kinds[-3:] == ["meeting.archived", "meeting.unarchived", "round.opened"]


# --- delete ------------------------------------------------------------------------------------


def hashable(value: Any) -> Any:
    """A JSON column's value as its text (rows are compared as sets)."""
    return json.dumps(value, sort_keys=True) if isinstance(value, list | dict) else value


def rows(engine: Engine) -> dict[str, set[tuple[Any, ...]]]:
    """Every row of every table."""
    with engine.connect() as conn:
        return {
            t.name: {tuple(map(hashable, r)) for r in conn.execute(select(t))}
            for t in SQLModel.metadata.sorted_tables
        }


def owned_by(table: Table, row: tuple[Any, ...], ids: dict[str, set[Any]]) -> bool:
    """Whether a row names the meeting or one of its rounds, voters or helper keys (read from
    column names, independently of the foreign keys lifecycle.delete_meeting follows)."""
    values = dict(zip(table.columns.keys(), row, strict=True))
    if table.name == "meeting":
        return values["id"] in ids["meeting_id"]
    return any(values.get(column) in found for column, found in ids.items() if column in values)


def test_deleting_removes_every_row_of_the_meeting_and_nothing_else(engine: Engine) -> None:
    """Every table that holds the meeting's rows loses exactly those, in one transaction; the
    other meeting, its rows and the global sign-ins are untouched."""
    with transaction(engine) as s:
        gone, kept = make(s), make(s, title="Kept")
        fill(s, gone)
        fill(s, kept)
        s.add(FacilitatorSession(token_hash="f" * 64, role="all", expires_at=utcnow()))
        lifecycle.archive(s, gone)
        assert gone.id is not None
        gone_id, code = gone.id, gone.code
    before = rows(engine)
    with transaction(engine) as s:
        ids = {
            "meeting_id": {gone_id},
            "round_id": set(s.scalars(ids_of("round", gone_id))),
            "voter_id": set(s.scalars(ids_of("voter", gone_id))),
            "key_id": set(s.scalars(ids_of("facilitatorkey", gone_id))),
        }
        lost = lifecycle.delete_meeting(s, meetings.get_meeting(s, gone_id), code.lower())
    after = rows(engine)
    tables = {t.name: t for t in SQLModel.metadata.sorted_tables}
    for name, table in tables.items():
        mine = {r for r in before[name] if owned_by(table, r, ids)}
        assert after[name] == before[name] - mine, name
    # Every table that can hold a meeting's rows held some of this one's: the test covers them.
    holding = {n for n, t in tables.items() if any(owned_by(t, r, ids) for r in before[n])}
    assert holding == {t.name for t, _ in lifecycle.meeting_tables()} | {"meeting"}
    assert (lost.rounds, lost.ballots, lost.voters, lost.tickets) == (1, 1, 2, 1)
    assert (lost.keypads, lost.helper_links, lost.people) == (1, 1, 1) and lost.audit_links > 3


def ids_of(table: str, meeting_id: int) -> Any:
    """The ids of a table's rows that name the meeting in their `meeting_id`."""
    t = SQLModel.metadata.tables[table]
    return select(t.c.id).where(t.c.meeting_id == meeting_id)


def test_deleting_needs_the_code_no_open_round_and_a_counted_vote_archived(
    engine: Engine,
) -> None:
    """A wrong code, an open round, or ballots in a meeting not archived: refused, nothing
    deleted. A meeting without ballots goes at once."""
    with transaction(engine) as s:
        voted = make(s)
        fill(s, voted, close=False)
        empty = make(s, title="Never used")
        assert voted.id is not None and empty.id is not None
    attempts = [
        (BadInput, "Type the meeting's code", "WRONG1"),
        (Conflict, "Close round 1 before deleting", None),
    ]
    for error, message, typed in attempts:
        with pytest.raises(error, match=message), transaction(engine) as s:
            m = meetings.get_meeting(s, voted.id)
            lifecycle.delete_meeting(s, m, typed or m.code)
    with transaction(engine) as s:
        rounds.close_round(s, meetings.get_meeting(s, voted.id), 1)
    with pytest.raises(Conflict, match="archive it first"), transaction(engine) as s:
        m = meetings.get_meeting(s, voted.id)
        lifecycle.delete_meeting(s, m, m.code)
    with transaction(engine) as s:
        m = meetings.get_meeting(s, empty.id)
        lifecycle.delete_meeting(s, m, f" {m.code.lower()} ")
    with transaction(engine) as s:
        assert [m.title for m in lifecycle.meeting_list(s).meetings] == [RICH["title"]]
        left = select(col(AuditEvent.id)).where(col(AuditEvent.meeting_id) == empty.id)
        assert s.execute(left).first() is None
