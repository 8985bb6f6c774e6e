"""Paper ballots, keyed twice: a sheet counts only when two independent keyings agree.

Each printed sheet of a round has a serial number (1, 2, 3… per round). Two people key the
same batch of sheets independently, as keying 1 and keying 2; a keying of a sheet is one
`PaperEntry` row, and keying a sheet again replaces that keying's entry (a correction). A sheet
whose two entries agree on every field (ticket number, each "About you" box, each item's
answer: a proposal's mark in a room vote) is *matched*; only matched sheets are counted.
Mismatches are listed field by field, with both values, so a supervisor can pull the sheet and
have the wrong keying redo it.

The pure part (no I/O: `SheetForm` -> `read_entry` -> `Entry`; `reconcile(first, second)`;
`sheet_ranges`) is app/scrutiny/paper_keying.py. This module is the service part: its functions
take the caller's `Session` and never commit.

Counting a round's matched sheets (console_paper.py drives it) is three steps, each safe to
repeat after a crash:
1. `assign_voters` (one transaction, committed before any ballot is cast): each sheet gets its
   voter. A sheet naming a ticket votes as the ticket's voter (an unused ticket gets a new
   `paper` voter and is marked used); any other sheet gets a new `paper` voter with the sheet's
   segments, stored on the sheet's entries, so a retry reuses it.
2. Each sheet's ballot goes through `services.cast` with the ballot id `paper:r{n}:s{sheet}`:
   pressing Count twice, or a retry, rewrites the same ballot, never a second one.
3. `record_counted` marks the sheets' entries counted and appends `paper.counted` {round,
   sheets, refused} to the audit log (sheet numbers only: no ticket numbers, which could be
   lined up with the ballots' pseudonyms).
A sheet is counted once its own paper ballot (channel `paper`, the sheet's id) is stored or its
entries are marked counted; a counted sheet cannot be keyed again. Refused sheets (blank,
no/unknown/revoked ticket, a ticket on two sheets, a voter who already voted on another
channel…) stay uncounted, listed with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.core.errors import Conflict, NotFound, RoundClosed
from app.core.vocab import Channel, RoundStatus, TicketStatus
from app.scrutiny import tickets
from app.scrutiny.paper_keying import (
    KEYINGS,
    Entry,
    KeyedOnce,
    Mismatch,
    SheetForm,
    read_entry,
    reconcile,
)
from app.voting import audit, ballots
from app.voting.kinds import kind_of
from app.voting.meetings import segments_of
from app.voting.models import (
    Ballot,
    Keypad,
    Meeting,
    PaperEntry,
    Round,
    Ticket,
    Voter,
    utcnow,
)
from app.voting.voters import declare_segments, has_voted, join


def ballot_uid(round_number: int, sheet: int) -> str:
    """The sheet's ballot id: the same on every attempt, so a retry rewrites one ballot. It is in
    the server's id space (`paper:r2:s7`), which no phone can use (bounds.SERVER_BALLOT_ID)."""
    return ballots.server_ballot_id(Channel.PAPER, f"r{round_number}:s{sheet}")


def _uid_prefixes(round_number: int) -> tuple[str, ...]:
    # Before issue 11 a sheet's id was `paper-r2-s7`; a round counted in part then still counts.
    return (f"paper:r{round_number}:s", f"paper-r{round_number}-s")


@dataclass(frozen=True, slots=True)
class Refusal:
    sheet: int
    reason: str


@dataclass(frozen=True, slots=True)
class Status:
    """A round's paper ballots: `ready` (matched, will count) and `refused` (matched, will
    not, and why) exclude `counted` sheets."""

    counted: list[int]
    ready: list[Entry]
    refused: list[Refusal]
    mismatched: list[Mismatch]
    keyed_once: list[KeyedOnce]


@dataclass(frozen=True, slots=True)
class SheetBallot:
    """A matched sheet with its voter assigned: what step 2 casts."""

    sheet: int
    voter_id: int
    marks: dict[str, str]


def locked_round(session: Session, meeting: Meeting, number: int) -> Round:
    """The round, locked against concurrent keying and counting (PostgreSQL; SQLite holds the
    write lock from the first read)."""
    rnd = session.exec(
        select(Round)
        .where(Round.meeting_id == meeting.id, Round.number == number)
        .with_for_update()
    ).first()
    if rnd is None:
        raise NotFound(f"There is no round {number} in this meeting.")
    return rnd


def require_open(rnd: Round) -> None:
    if rnd.status != RoundStatus.OPEN:
        raise RoundClosed(
            "Round %(n)s is closed: paper ballots are keyed and counted while the round is open.",
            n=rnd.number,
        )


def _entry(row: PaperEntry) -> Entry:
    return Entry(
        sheet=row.sheet,
        ticket=row.ticket,
        segments=frozenset(row.segments),
        marks=dict(row.marks),
    )


def _rows(session: Session, rnd: Round) -> list[PaperEntry]:
    q = select(PaperEntry).where(PaperEntry.round_id == rnd.id).order_by(col(PaperEntry.sheet))
    return list(session.exec(q))


def keyed_sheets(session: Session, rnd: Round, keying: int) -> list[int]:
    """The sheets one keying has entered (never the other keying's values)."""
    q = select(PaperEntry.sheet).where(PaperEntry.round_id == rnd.id, PaperEntry.keying == keying)
    return sorted(session.exec(q))


def counted_sheets(session: Session, meeting: Meeting, rnd: Round) -> set[int]:
    """Sheets marked counted (step 3), or whose own paper ballot is stored (step 2 done, step 3
    not yet: a crash in between). Only the server casts `paper` ballots, so what a phone sends
    can never make a sheet look counted. A counted ballot later replaced under the `latest`
    policy stays counted."""
    uids = session.exec(
        select(Ballot.ballot_uid).where(Ballot.round_id == rnd.id, Ballot.channel == Channel.PAPER)
    )
    out: set[int] = set()
    for uid in uids:
        for prefix in _uid_prefixes(rnd.number):
            if uid.startswith(prefix) and uid[len(prefix) :].isdigit():
                out.add(int(uid[len(prefix) :]))
    return out | _marked(session, rnd)


def _marked(session: Session, rnd: Round) -> set[int]:
    """The sheets step 3 marked counted."""
    q = select(PaperEntry.sheet).where(
        PaperEntry.round_id == rnd.id, col(PaperEntry.counted_at).is_not(None)
    )
    return set(session.exec(q))


def key(
    session: Session, meeting: Meeting, number: int, keying: int, form: SheetForm
) -> tuple[Entry, bool]:
    """Save one keying of one sheet (replacing that keying's earlier entry for it).

    Returns the entry and whether it replaced an earlier one.

    Raises:
        RoundClosed: the round is not open.
        Conflict: the sheet is already counted.
        BadInput: see `read_entry`.
    """
    assert meeting.id is not None
    if keying not in KEYINGS:
        raise NotFound("There are two keyings, 1 and 2.")
    rnd = locked_round(session, meeting, number)
    require_open(rnd)
    entry = read_entry(
        form,
        scales=kind_of(rnd).scales(session, meeting.id, rnd.proposal_keys),
        segments={s.key for s in segments_of(session, meeting.id)},
        tickets=meeting.uses_tickets,
    )
    if entry.sheet in counted_sheets(session, meeting, rnd):
        raise Conflict(f"Sheet {entry.sheet} is already counted: it cannot be keyed again.")
    assert rnd.id is not None
    row = session.exec(
        select(PaperEntry).where(
            PaperEntry.round_id == rnd.id,
            PaperEntry.sheet == entry.sheet,
            PaperEntry.keying == keying,
        )
    ).first()
    replaced = row is not None
    if row is None:
        row = PaperEntry(round_id=rnd.id, sheet=entry.sheet, keying=keying)
    row.ticket = entry.ticket
    row.segments = sorted(entry.segments)
    row.marks = dict(entry.marks)
    row.entered_at = utcnow()
    session.add(row)
    session.flush()
    return entry, replaced


def status(session: Session, meeting: Meeting, rnd: Round) -> Status:
    """Where the round's sheets stand; `refused` says what counting would refuse, and why."""
    rows = _rows(session, rnd)
    counted = counted_sheets(session, meeting, rnd)
    found = reconcile(
        [_entry(r) for r in rows if r.keying == 1], [_entry(r) for r in rows if r.keying == 2]
    )
    ready, refused = _plan(session, meeting, rnd, rows, counted, found.matched)
    # Differences in the order of the sheet: ticket, "About you" boxes, proposals.
    place = {("segment", s.key): i for i, s in enumerate(segments_of(session, rnd.meeting_id))}
    place.update({("mark", k): 1000 + i for i, k in enumerate(rnd.proposal_keys)})
    mismatched = [
        Mismatch(
            m.sheet, tuple(sorted(m.differences, key=lambda d: place.get((d.kind, d.key), -1)))
        )
        for m in found.mismatched
        if m.sheet not in counted
    ]
    return Status(
        counted=sorted(counted),
        ready=ready,
        refused=refused,
        mismatched=mismatched,
        keyed_once=[k for k in found.keyed_once if k.sheet not in counted],
    )


def _plan(
    session: Session,
    meeting: Meeting,
    rnd: Round,
    rows: list[PaperEntry],
    counted: set[int],
    matched: list[Entry],
) -> tuple[list[Entry], list[Refusal]]:
    """Split the matched, uncounted sheets into those that can count and those refused."""
    tickets_meeting = meeting.uses_tickets
    pending = [e for e in matched if e.sheet not in counted]
    numbers = {e.ticket for e in pending if e.ticket is not None}
    by_number = {
        t.number: t
        for t in session.exec(
            select(Ticket).where(Ticket.meeting_id == meeting.id, col(Ticket.number).in_(numbers))
        )
    }
    voter_ids = {t.voter_id for t in by_number.values() if t.voter_id is not None}
    voters = {v.id: v for v in session.exec(select(Voter).where(col(Voter.id).in_(voter_ids)))}
    stored = {
        b.voter_id: b
        for b in session.exec(
            select(Ballot).where(Ballot.round_id == rnd.id, col(Ballot.voter_id).in_(voter_ids))
        )
    }
    keypad_bound = set(
        session.exec(
            select(Keypad.voter_id).where(
                col(Keypad.voter_id).in_(voter_ids), col(Keypad.revoked).is_(False)
            )
        )
    )
    # A ticket already on a counted sheet, or on a lower-numbered sheet of this batch.
    on_sheet = {r.ticket: r.sheet for r in rows if r.sheet in counted and r.ticket is not None}
    policy = meeting.policy
    ready: list[Entry] = []
    refused: list[Refusal] = []

    def refuse(e: Entry, reason: str) -> None:
        refused.append(Refusal(e.sheet, reason))

    for e in pending:
        if not e.marks:
            refuse(e, "Blank sheet: no box is ticked, and a ballot needs at least one mark.")
            continue
        if not tickets_meeting:
            ready.append(e)
            continue
        if e.ticket is None:
            refuse(e, "No ticket number: this meeting admits voters by ticket.")
            continue
        ticket = by_number.get(e.ticket)
        if ticket is None:
            refuse(e, f"Ticket No. {e.ticket} was never issued in this meeting.")
            continue
        voter = voters.get(ticket.voter_id)
        if ticket.status == TicketStatus.REVOKED or (voter is not None and voter.disabled):
            refuse(e, f"Ticket No. {e.ticket} is revoked or replaced: it no longer votes.")
            continue
        if (other := on_sheet.get(e.ticket)) is not None:
            refuse(e, f"Ticket No. {e.ticket} is also on sheet {other}: one ballot per ticket.")
            continue
        previous = stored.get(ticket.voter_id) if ticket.voter_id is not None else None
        if previous is not None and previous.channel == Channel.PAPER:
            refuse(e, f"Ticket No. {e.ticket} already has a paper ballot in round {rnd.number}.")
            continue
        rule = ballots.cross_channel_refusal(
            policy,
            Channel.PAPER,
            keypad_bound=ticket.voter_id in keypad_bound,
            previous=previous.channel if previous is not None else None,
        )
        if rule is not None:
            refuse(e, f"Ticket No. {e.ticket}: {rule.message}")
            continue
        on_sheet[e.ticket] = e.sheet
        ready.append(e)
    return ready, refused


def assign_voters(
    session: Session, meeting: Meeting, number: int
) -> tuple[list[SheetBallot], list[Refusal]]:
    """Step 1 of counting: give every matched, uncounted sheet that can count its voter.

    The caller commits before casting, so a retry finds the same voters.

    Raises:
        RoundClosed: the round is not open.
    """
    rnd = locked_round(session, meeting, number)
    require_open(rnd)
    rows = _rows(session, rnd)
    counted = counted_sheets(session, meeting, rnd)
    found = reconcile(
        [_entry(r) for r in rows if r.keying == 1], [_entry(r) for r in rows if r.keying == 2]
    )
    ready, refused = _plan(session, meeting, rnd, rows, counted, found.matched)
    by_sheet: dict[int, list[PaperEntry]] = {}
    for r in rows:
        by_sheet.setdefault(r.sheet, []).append(r)
    out = []
    for e in ready:
        entries = by_sheet[e.sheet]
        voter = _sheet_voter(session, meeting, e, entries)
        assert voter.id is not None
        # A voter who has voted keeps the groups they declared (they are fixed by then).
        if not has_voted(session, voter):
            declare_segments(session, meeting, voter, sorted(e.segments))
        for r in entries:
            r.voter_id = voter.id
            session.add(r)
        out.append(SheetBallot(e.sheet, voter.id, dict(e.marks)))
    session.flush()
    return out, refused


def _sheet_voter(session: Session, meeting: Meeting, e: Entry, entries: list[PaperEntry]) -> Voter:
    if e.ticket is not None and meeting.uses_tickets:
        # Like a keypad check-in (app/scrutiny/tickets.py): an unused ticket gets a voter with no
        # device, which a browser redeeming the ticket later takes over.
        ticket = tickets.by_number(session, meeting, e.ticket)
        found = session.get(Voter, ticket.voter_id) if ticket.voter_id is not None else None
        voter = found or join(session, meeting, channel=Channel.PAPER)
        ticket.voter_id = voter.id
        if ticket.status == TicketStatus.ISSUED:
            ticket.status, ticket.used_at = TicketStatus.USED, utcnow()
        session.add(ticket)
        return voter
    earlier = next((r.voter_id for r in entries if r.voter_id is not None), None)
    again = session.get(Voter, earlier) if earlier is not None else None
    return again or join(session, meeting, channel=Channel.PAPER)


def record_counted(
    session: Session, meeting: Meeting, number: int, cast: list[int], refused: list[int]
) -> list[int]:
    """Step 3 of counting: the `paper.counted` audit link. Returns the sheets it lists as
    counted (those a concurrent Count already listed are left out)."""
    assert meeting.id is not None
    rnd = locked_round(session, meeting, number)
    sheets = sorted(set(cast) - _marked(session, rnd))
    now = utcnow()
    for entry in session.exec(
        select(PaperEntry).where(PaperEntry.round_id == rnd.id, col(PaperEntry.sheet).in_(sheets))
    ):
        entry.counted_at = now
        session.add(entry)
    if sheets or refused:
        data = {"round": rnd.number, "sheets": sheets, "refused": sorted(set(refused))}
        audit.record(session, meeting.id, "paper.counted", data)
    return sheets
