"""Voter tickets (admission "tickets"): one printed card is one voter, on whichever channel.

The facilitator issues numbered tickets, prints them as cut-out cards and hands them out at the
door. A card carries its number (what the facilitator and stewards talk about) and an 8-symbol
code (what its holder types, and what its QR code opens: `/t/{code}`).

A ticket is "issued" (unused), then "used" (it has a voter), and may be "revoked":
- `redeem` on a browser: an unused ticket creates its voter (channel "phone" or "remote") bound
  to that browser's device key; the same browser again just signs in again. Another browser
  never becomes a second voter: it asks to take the ticket over (`pending_device`) and waits
  until the facilitator `approve`s (the old browser stops voting) or `refuse`s. The same holds
  whatever channel the voter uses: a used ticket whose voter votes by keypad or on paper (no
  device) also waits for approval, so a glimpsed card never silently takes a voter over. Only a
  card's first use binds at once: an unused ticket, or the new card of a `reissue` (the
  facilitator's own hand-over to the voter in front of them).
- `check_in` gives the ticket's voter a keypad (keypads.bind); under the default channel policy
  that voter then votes only by keypad (app/voting/ballots.py).
- `revoke`: the ticket stops working and its voter's new ballots are refused (Voter.disabled).
- `reissue` (a lost card or phone): a new ticket for the SAME voter, the old one revoked; no
  browser votes for that voter until the new ticket is redeemed. Whichever ticket or channel it
  comes through, a voter has one ballot per round.

Contract: functions take the caller's session and never commit; refusals are errors.py classes
with messages a person can act on. Codes use the meeting-code alphabet (no look-alikes), are
unique across the database and are shown as "ABCD-EFGH"; input is normalised (case, spaces,
dashes). Browsers are known only by the SHA-256 of their device token (app/web/auth.py).

Anonymity: the ticket-to-voter link lives only in the `ticket` table. Audit links name tickets
by number, never with a code or a pseudonym, and nothing here returns a pseudonym.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.core.errors import BadInput, Conflict, NotFound, NotJoined
from app.core.messages import N_
from app.core.vocab import DEVICE_CHANNELS, Channel, TicketStatus
from app.keypads import registration as keypads
from app.voting import audit, ballots
from app.voting.meetings import CODE_ALPHABET
from app.voting.models import Keypad, Meeting, Ticket, Voter, utcnow
from app.voting.voters import join

# 25^8 = 1.5e11 codes: with 500 tickets out, a guess hits one about once in 3e8 tries.
CODE_LENGTH = 8
# One print run (63 A4 sheets); a meeting can issue more in several runs.
MAX_ISSUE = 500
# How the console and the cards name a ticket's status.
STATUS_SHOWN: dict[str, str] = {
    TicketStatus.ISSUED: "unused",
    TicketStatus.USED: "used",
    TicketStatus.REVOKED: "revoked",
}

NO_TICKET = N_("This meeting uses tickets: type the code on your ticket to vote.")
MOVED = ballots.MOVED
# Every code a browser cannot use gets this one answer (same status, same words, same time in
# app/web/pages.py): wrong, revoked, replaced, or its meeting no longer uses tickets. A guesser
# learns nothing about which codes are real.
UNUSABLE = N_("No usable ticket has the code %(code)s. Check it, or ask the facilitator.")
SWITCH_FIRST = (
    "This meeting admits anyone with its code. Switch admission to tickets in Set-up first."
)

_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")


# --- codes -------------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """A typed code as stored: 'abcd efgh', 'ABCD-EFGH' -> 'ABCDEFGH'."""
    return _SEPARATORS.sub("", text).upper()


def parse_code(text: str) -> str:
    """The stored form of a typed ticket code; BadInput if it cannot be one."""
    code = normalise(text)
    if not code:
        raise BadInput(N_("Type the code on your ticket."))
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        raise BadInput(
            N_("%(code)s is not a ticket code: those have 8 letters and numbers, like ACDE-FG34."),
            code=text.strip()[:24],
        )
    return code


def looks_like_code(text: str) -> bool:
    """Could `text` be a ticket code (says nothing about whether one exists)?"""
    code = normalise(text)
    return len(code) == CODE_LENGTH and all(c in CODE_ALPHABET for c in code)


def shown(code: str) -> str:
    """A code as printed and shown: 'ABCD-EFGH'."""
    return f"{code[:4]}-{code[4:]}"


def check_code(device_key: str) -> str:
    """Four symbols taken from a waiting device's key. The waiting screen and the console both
    show them, so the facilitator approves the device in front of them, not another one."""
    n = int(device_key[:16], 16)
    out = []
    for _ in range(4):
        n, r = divmod(n, len(CODE_ALPHABET))
        out.append(CODE_ALPHABET[r])
    return "".join(out)


def _new_codes(session: Session, count: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < count:
        wanted = {
            "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            for _ in range(count - len(codes))
        } - codes
        taken = set(session.exec(select(Ticket.code).where(col(Ticket.code).in_(wanted))))
        codes |= wanted - taken
    return list(codes)


# --- finding tickets ---------------------------------------------------------------------------


def by_code(session: Session, text: str, *, lock: bool = False) -> Ticket:
    """The ticket a typed code names, in any meeting (codes are unique across the database)."""
    code = parse_code(text)
    q = select(Ticket).where(Ticket.code == code)
    ticket = session.exec(q.with_for_update() if lock else q).first()
    if ticket is None:
        raise NotFound(UNUSABLE, code=shown(code))
    return ticket


def by_number(session: Session, meeting: Meeting, number: int) -> Ticket:
    q = select(Ticket).where(Ticket.meeting_id == meeting.id, Ticket.number == number)
    ticket = session.exec(q.with_for_update()).first()
    if ticket is None:
        raise NotFound(f"There is no ticket No. {number} in this meeting.")
    return ticket


def find(session: Session, meeting: Meeting, ref: str) -> Ticket:
    """A ticket of the meeting by its number ('17') or its code ('ABCD-EFGH')."""
    ref = ref.strip()
    if not ref:
        raise BadInput("Give the ticket's number or the code printed on it.")
    if ref.isascii() and ref.isdigit() and len(ref) < CODE_LENGTH:
        return by_number(session, meeting, int(ref))
    ticket = by_code(session, ref, lock=True)
    if ticket.meeting_id != meeting.id:
        raise NotFound(f"No ticket of this meeting has the code {shown(normalise(ref))}.")
    return ticket


def _voter_of(session: Session, ticket: Ticket) -> Voter | None:
    return session.get(Voter, ticket.voter_id) if ticket.voter_id is not None else None


def _last_number(session: Session, meeting: Meeting) -> int:
    # Lock the meeting row first (PostgreSQL; SQLite transactions are serial): two issues at
    # once would otherwise pick the same numbers.
    session.exec(select(Meeting.id).where(Meeting.id == meeting.id).with_for_update()).one()
    q = select(func.max(Ticket.number)).where(Ticket.meeting_id == meeting.id)
    return session.exec(q).one() or 0


def _require_tickets(meeting: Meeting) -> None:
    if not meeting.uses_tickets:
        raise Conflict(SWITCH_FIRST)


# --- browsers ----------------------------------------------------------------------------------


def device_may_vote(meeting: Meeting, voter: Voter, device_key: str | None) -> bool:
    """May the browser with `device_key` (None: it has none) vote as the voter its session names?

    In a tickets meeting only from the one device bound to the voter; in an open meeting any
    browser holding the voter id (its voters have no device key)."""
    if voter.device_key is None:
        return not meeting.uses_tickets
    return device_key is not None and hmac.compare_digest(voter.device_key, device_key)


def refusal(meeting: Meeting, named: Voter | None, default: str) -> NotJoined:
    """Why a browser has no voter, as the error its ballot gets: in a tickets meeting either its
    ticket moved to another device (`named`: the voter its session still names) or it has not
    redeemed one; in an open meeting `default`."""
    if not meeting.uses_tickets:
        return NotJoined(default)
    return NotJoined(MOVED if named is not None else NO_TICKET)


@dataclass(frozen=True, slots=True)
class TicketView:
    """What a browser holding a ticket's code sees of it (never its voter's pseudonym).

    state: "unused" (redeeming it makes this browser its voter), "mine" (this browser votes with
    it), "waiting" (this browser asked to take it over), "elsewhere" (another browser has it).
    """

    number: int
    code: str
    state: str
    meeting_id: int
    meeting_code: str
    meeting_title: str
    voter_id: int | None  # for "mine": the voter this browser signs in as
    check: str | None  # for "waiting": this browser's check code


def _usable(session: Session, ticket: Ticket) -> tuple[Meeting, Voter | None]:
    """The ticket's meeting and voter (None: unused); NotFound, worded exactly like a wrong
    code (UNUSABLE), if the ticket cannot be used: no oracle for real codes."""
    meeting = session.get(Meeting, ticket.meeting_id)
    assert meeting is not None
    voter = _voter_of(session, ticket)
    revoked = ticket.status == TicketStatus.REVOKED or (voter is not None and bool(voter.disabled))
    if revoked or not meeting.uses_tickets:
        raise NotFound(UNUSABLE, code=shown(ticket.code))
    return meeting, voter


def look(session: Session, text: str, device_key: str | None) -> TicketView:
    """A ticket as a browser sees it; changes nothing. NotFound, BadInput, or Conflict when the
    ticket is revoked or its meeting no longer uses tickets."""
    ticket = by_code(session, text)
    meeting, voter = _usable(session, ticket)
    assert meeting.id is not None
    mine = device_key is not None
    if _first_use(ticket, voter):
        state = "unused"
    elif mine and voter is not None and _is_device(voter, device_key):
        state = "mine"
    elif mine and ticket.pending_device == device_key:
        state = "waiting"
    else:
        state = "elsewhere"
    return TicketView(
        number=ticket.number,
        code=shown(ticket.code),
        state=state,
        meeting_id=meeting.id,
        meeting_code=meeting.code,
        meeting_title=meeting.title,
        voter_id=voter.id if state == "mine" and voter is not None else None,
        check=check_code(device_key) if state == "waiting" and device_key else None,
    )


def _first_use(ticket: Ticket, voter: Voter | None) -> bool:
    """Does redeeming the ticket bind its voter at once? Only on the card's first use: an unused
    ticket (no voter yet), or a reissued card not yet used whose voter has no device. A ticket
    already used (by a browser, a keypad check-in or a paper sheet) moves only with approval."""
    return voter is None or (ticket.status == TicketStatus.ISSUED and voter.device_key is None)


def _is_device(voter: Voter, device_key: str | None) -> bool:
    return (
        voter.device_key is not None
        and device_key is not None
        and hmac.compare_digest(voter.device_key, device_key)
    )


@dataclass(frozen=True, slots=True)
class Redeemed:
    meeting_id: int
    meeting_code: str
    number: int
    voter_id: int | None  # the voter this browser now votes as; None: waiting for approval
    new_voter: bool


def redeem(session: Session, text: str, device_key: str, channel: str) -> Redeemed:
    """Use a ticket on the browser with `device_key`, reaching the server on `channel`.

    An unused ticket gets its voter now, a reissued card binds its voter on its first use, the
    same browser again changes nothing; any other browser taking over an existing voter (on a
    phone, a keypad or paper) is recorded as waiting for the facilitator's approval.
    """
    ticket = by_code(session, text, lock=True)
    meeting, voter = _usable(session, ticket)
    assert meeting.id is not None
    new = voter is None
    if voter is None:
        voter = join(session, meeting, channel)
    elif _first_use(ticket, voter):
        if voter.channel in DEVICE_CHANNELS:
            voter.channel = channel  # a reissued ticket may now be used from home, or back here
    elif not _is_device(voter, device_key):
        ticket.pending_device, ticket.pending_at = device_key, utcnow()
        session.add(ticket)
        return Redeemed(meeting.id, meeting.code, ticket.number, None, False)
    assert voter.id is not None
    voter.device_key = device_key
    ticket.voter_id = voter.id
    if ticket.status == TicketStatus.ISSUED:
        ticket.status, ticket.used_at = TicketStatus.USED, utcnow()
    if ticket.pending_device == device_key:
        ticket.pending_device = ticket.pending_at = None
    session.add_all([voter, ticket])
    return Redeemed(meeting.id, meeting.code, ticket.number, voter.id, new)


# --- the facilitator ---------------------------------------------------------------------------


def issue(session: Session, meeting: Meeting, count: int) -> list[Ticket]:
    """`count` new tickets (1..MAX_ISSUE), numbered on from the meeting's last ticket."""
    assert meeting.id is not None
    _require_tickets(meeting)
    if not 1 <= count <= MAX_ISSUE:
        raise BadInput(f"Issue between 1 and {MAX_ISSUE} tickets at a time.")
    first = _last_number(session, meeting) + 1
    made = [
        Ticket(meeting_id=meeting.id, number=first + i, code=code)
        for i, code in enumerate(_new_codes(session, count))
    ]
    session.add_all(made)
    session.flush()
    audit.record(session, meeting.id, "tickets.issued", {"from": first, "to": first + count - 1})
    return made


def approve(session: Session, meeting: Meeting, number: int) -> Ticket:
    """Move a ticket's voter to the browser waiting for it; the old browser stops voting."""
    assert meeting.id is not None
    ticket = by_number(session, meeting, number)
    voter = _voter_of(session, ticket)
    if ticket.pending_device is None or voter is None or ticket.status != TicketStatus.USED:
        raise Conflict(f"No device is waiting for ticket No. {number}.")
    voter.device_key = ticket.pending_device
    ticket.pending_device = ticket.pending_at = None
    session.add_all([voter, ticket])
    audit.record(session, meeting.id, "ticket.device_moved", {"number": number})
    return ticket


def refuse(session: Session, meeting: Meeting, number: int) -> Ticket:
    """Turn down a browser's request to take a ticket over; the ticket stays where it is."""
    ticket = by_number(session, meeting, number)
    if ticket.pending_device is None:
        raise Conflict(f"No device is waiting for ticket No. {number}.")
    ticket.pending_device = ticket.pending_at = None
    session.add(ticket)
    return ticket


def revoke(session: Session, meeting: Meeting, number: int) -> Ticket:
    """The ticket stops working; its voter's new ballots are refused on every channel."""
    assert meeting.id is not None
    ticket = by_number(session, meeting, number)
    if ticket.status == TicketStatus.REVOKED:
        raise Conflict(f"Ticket No. {number} is already revoked.")
    ticket.status = TicketStatus.REVOKED
    ticket.pending_device = ticket.pending_at = None
    voter = _voter_of(session, ticket)
    if voter is not None:
        voter.disabled = True
        session.add(voter)
    session.add(ticket)
    audit.record(session, meeting.id, "ticket.revoked", {"number": number})
    return ticket


def reissue(session: Session, meeting: Meeting, number: int) -> Ticket:
    """A lost card or phone: a new ticket for the same voter; the old ticket is revoked (its
    voter is not) and no browser votes for the voter until the new ticket is redeemed."""
    assert meeting.id is not None
    _require_tickets(meeting)
    new_number = _last_number(session, meeting) + 1
    old = by_number(session, meeting, number)
    if old.status == TicketStatus.REVOKED:
        raise Conflict(
            f"Ticket No. {number} is revoked or already replaced; it cannot be reissued. "
            "Reissue its newest ticket, or issue a new one."
        )
    old.status = TicketStatus.REVOKED
    old.pending_device = old.pending_at = None
    new = Ticket(
        meeting_id=meeting.id,
        number=new_number,
        code=_new_codes(session, 1)[0],
        replaces=old.id,
        voter_id=old.voter_id,
    )
    voter = _voter_of(session, old)
    if voter is not None:
        voter.device_key = None
        session.add(voter)
    session.add_all([old, new])
    session.flush()
    audit.record(session, meeting.id, "ticket.reissued", {"old": number, "new": new_number})
    return new


def check_in(
    session: Session, meeting: Meeting, ref: str, keypad: str, label: str
) -> tuple[Ticket, Keypad]:
    """Give a ticket's voter a keypad at the door (an unused ticket gets a keypad voter)."""
    assert meeting.id is not None
    _require_tickets(meeting)
    ticket = find(session, meeting, ref)
    voter = _voter_of(session, ticket)
    if ticket.status == TicketStatus.REVOKED or (voter is not None and voter.disabled):
        raise Conflict(f"Ticket No. {ticket.number} is revoked; it cannot be checked in.")
    if voter is None:
        voter = join(session, meeting, channel=Channel.KEYPAD)
    assert voter.id is not None
    ticket.voter_id = voter.id
    if ticket.status == TicketStatus.ISSUED:
        ticket.status, ticket.used_at = TicketStatus.USED, utcnow()
    session.add(ticket)
    return ticket, keypads.bind(session, meeting, keypad, label, voter)


@dataclass(frozen=True, slots=True)
class Row:
    """One ticket on the console's list (no code, no pseudonym)."""

    number: int
    status: str  # "unused" | "used" | "revoked"
    channel: str | None  # how its voter votes: "phone" | "remote" | "keypad" | "paper"
    keypad: str | None  # the label of the keypad its voter holds
    replaces: int | None  # ticket number
    replaced_by: int | None  # ticket number
    pending_at: datetime | None  # a browser asked to take it over
    check: str | None  # that browser's check code


def listing(session: Session, meeting: Meeting) -> list[Row]:
    q = select(Ticket).where(Ticket.meeting_id == meeting.id).order_by(col(Ticket.number))
    tickets = list(session.exec(q))
    voter_ids = {t.voter_id for t in tickets if t.voter_id is not None}
    voters = {v.id: v for v in session.exec(select(Voter).where(col(Voter.id).in_(voter_ids)))}
    held = {
        voter_id: label
        for voter_id, label in session.exec(
            select(Keypad.voter_id, Keypad.label).where(
                Keypad.meeting_id == meeting.id, col(Keypad.revoked).is_(False)
            )
        )
    }
    number_of: dict[int | None, int] = {t.id: t.number for t in tickets}
    replaced_by: dict[int | None, int] = {t.replaces: t.number for t in tickets if t.replaces}
    rows = []
    for t in tickets:
        voter = voters.get(t.voter_id) if t.status == TicketStatus.USED and t.voter_id else None
        label = held.get(voter.id) if voter is not None and voter.id is not None else None
        channel = None if voter is None else Channel.KEYPAD if label is not None else voter.channel
        rows.append(
            Row(
                number=t.number,
                status=STATUS_SHOWN.get(t.status, t.status),
                channel=channel,
                keypad=label,
                replaces=number_of.get(t.replaces),
                replaced_by=replaced_by.get(t.id),
                pending_at=t.pending_at if t.pending_device else None,
                check=check_code(t.pending_device) if t.pending_device else None,
            )
        )
    return rows


def printable(
    session: Session, meeting: Meeting, first: int | None, last: int | None
) -> list[Ticket]:
    """The cards to print: numbers `first`..`last` that are not revoked, else all unused ones."""
    q = select(Ticket).where(Ticket.meeting_id == meeting.id)
    if first is None and last is None:
        q = q.where(Ticket.status == TicketStatus.ISSUED)
    else:
        q = q.where(Ticket.status != TicketStatus.REVOKED)
        if first is not None:
            q = q.where(Ticket.number >= first)
        if last is not None:
            q = q.where(Ticket.number <= last)
    return list(session.exec(q.order_by(col(Ticket.number))))
