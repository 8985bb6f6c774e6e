"""Amendments to a meeting's charter, proposed from phones and the console, moderated (issue 17).

While the facilitator has amendments open (`set_open`, the Charter page's switch), a joined
phone may propose another wording of one clause of the current charter (`propose`); the
facilitator may type one in the console at any time, say from the floor (`propose_console`).
Each waits in the moderator's queue as PROPOSED (app/rules/charter_amend.py) until the
facilitator:

* accepts it (`accept`), correcting its text and adding its Welsh if need be: it joins its
  clause as an ACCEPTED amendment in a new charter version (`charters.save_charter`, made by
  "amended"), so the next consent round asks it beside the original; refused while a charter
  round is open, as every new version is;
* declines it with a reason (`decline`), which its phone shows;
* merges it into another proposal to the same clause that says the same (`merge`).

Bounds: MAX_TEXT characters each language, MAX_PER_VOTER proposals per phone in a meeting,
MAX_PENDING waiting per meeting (the rate per phone is the route's `Limit.AMENDMENTS_PER_VOTER`).

Audit links (app/record/chain.py) carry keys only: `charter.amendments` (`open`),
`charter.amendment_proposed` (`amendment`, `clause`, `channel`), `charter.amendment_accepted`
(`amendment`, `clause`, `version`), `charter.amendment_declined` (`amendment`) and
`charter.amendment_merged` (`amendment`, `into`). Never the text (a phone's words may hold
personal details; an accepted text is in the charter version anyway), the reason, or who
proposed it: `author_id` only limits a phone and lists its own proposals.

Contract: every function takes the caller's session and never commits.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.core.errors import BadInput, Conflict, CovoteError, InvalidForm, NotFound
from app.core.inputs import read_text
from app.core.messages import N_
from app.rules import charter_doc as cd
from app.rules.charter import AmendmentStatus
from app.rules.charter_amend import (
    MAX_PENDING,
    MAX_PER_VOTER,
    MAX_REASON,
    MAX_TEXT,
    ProposalStatus,
    with_amendment,
)
from app.voting import audit, charters, meetings
from app.voting.models import (
    CharterAmendment,
    CharterVersion,
    Meeting,
    MeetingCharter,
    Voter,
    utcnow,
)

CHANNEL_PHONE = "phone"
CHANNEL_CONSOLE = "console"

TOO_LONG = N_("Keep the amendment to %(n)s characters or fewer.")


@dataclass(frozen=True, slots=True)
class Draft:
    """A checked proposal, not yet stored: the clause's key and the wording (Welsh optional)."""

    clause: str
    text: str
    text_cy: str = ""


def _wording(
    raw: object, raw_cy: object, where: str, problems: list[tuple[str, CovoteError]]
) -> tuple[str, str]:
    text, text_cy = read_text(raw, MAX_TEXT), read_text(raw_cy, MAX_TEXT)
    if not text:
        problems.append((where + "text", BadInput(N_("Write the clause as you would have it."))))
    elif len(text) > MAX_TEXT:
        problems.append((where + "text", BadInput(TOO_LONG, n=MAX_TEXT)))
    if len(text_cy) > MAX_TEXT:
        problems.append((where + "text-cy", BadInput(TOO_LONG, n=MAX_TEXT)))
    return text, text_cy


def parse_draft(
    charter: cd.Charter, *, clause: object, text: object, text_cy: object = "", prefix: str
) -> Draft:
    """Check a proposal's fields against the current charter, every problem at once.

    Raises:
        InvalidForm: by field id (`prefix` + clause, text, text-cy): no such clause, no text,
            a text over MAX_TEXT characters.
    """
    problems: list[tuple[str, CovoteError]] = []
    key = clause if isinstance(clause, str) else ""
    if key not in {c.key for c in charter.clauses()}:
        problems.append((prefix + "clause", BadInput(N_("Choose the clause to amend."))))
    english, welsh = _wording(text, text_cy, prefix, problems)
    if problems:
        raise InvalidForm(problems)
    return Draft(key, english, welsh)


def current(session: Session, meeting_id: int) -> cd.Charter:
    """The meeting's current charter. Raises Conflict: it has none."""
    charter = charters.charter_of(session, meeting_id)
    if charter is None:
        raise Conflict(N_("Import a charter first."))
    return charter


# --- the switch ---------------------------------------------------------------------------------


def is_open(session: Session, meeting_id: int) -> bool:
    """True while phones may propose amendments."""
    row = session.get(MeetingCharter, meeting_id)
    return row is not None and row.amendments_open


def set_open(session: Session, meeting: Meeting, is_on: bool) -> None:
    """Open or close amendments from phones; logs `charter.amendments` when it changes.

    Raises:
        Conflict: no charter yet, or the meeting is archived.
    """
    assert meeting.id is not None
    meetings.require_active(meeting)
    row = session.get(MeetingCharter, meeting.id)
    if row is None:
        raise Conflict(N_("Import a charter first."))
    if row.amendments_open == is_on:
        return
    row.amendments_open = is_on
    session.add(row)
    audit.record(session, meeting.id, "charter.amendments", {"open": is_on})


# --- proposing ----------------------------------------------------------------------------------


def _count(session: Session, meeting_id: int, *, author: int | None = None) -> int:
    q = (
        select(func.count())
        .select_from(CharterAmendment)
        .where(col(CharterAmendment.meeting_id) == meeting_id)
    )
    if author is None:
        q = q.where(col(CharterAmendment.status) == ProposalStatus.PROPOSED.value)
    else:
        q = q.where(col(CharterAmendment.author_id) == author)
    return int(session.execute(q).scalar_one())


def _new_key(session: Session, meeting_id: int, charter: cd.Charter) -> str:
    """A fresh amendment key: random (it says nothing of who proposed it or when), and neither
    a key the charter has nor one the queue has."""
    taken = {c.key for c in charter.clauses()} | {
        a.key for c in charter.clauses() for a in c.amendments
    }
    queued = set(
        session.exec(
            select(CharterAmendment.key).where(col(CharterAmendment.meeting_id) == meeting_id)
        )
    )
    while True:
        key = "am-" + secrets.token_hex(3)
        if key not in taken and key not in queued:
            return key


def _store(
    session: Session, meeting: Meeting, draft: Draft, channel: str, author: int | None
) -> CharterAmendment:
    assert meeting.id is not None
    meetings.require_active(meeting)
    charter = current(session, meeting.id)
    if draft.clause not in {c.key for c in charter.clauses()}:
        raise NotFound(N_("The charter has no such clause (changed since?)."))
    if _count(session, meeting.id) >= MAX_PENDING:
        raise Conflict(
            N_("%(n)s amendments are waiting for the facilitator: try again once they are read."),
            n=MAX_PENDING,
        )
    row = CharterAmendment(
        meeting_id=meeting.id,
        key=_new_key(session, meeting.id, charter),
        clause=draft.clause,
        text=draft.text,
        text_cy=draft.text_cy,
        channel=channel,
        author_id=author,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        meeting.id,
        "charter.amendment_proposed",
        {"amendment": row.key, "clause": row.clause, "channel": channel},
    )
    return row


def propose(session: Session, meeting: Meeting, voter: Voter, draft: Draft) -> CharterAmendment:
    """A phone's proposal, PROPOSED until the facilitator decides.

    Raises:
        Conflict: amendments are not open, the meeting is archived or has no charter, the
            voter's ticket was revoked, this voter has sent MAX_PER_VOTER, or MAX_PENDING wait.
        NotFound: the clause has gone from the charter.
    """
    assert meeting.id is not None and voter.id is not None
    if not is_open(session, meeting.id):
        raise Conflict(N_("The facilitator is not taking amendments just now."))
    if voter.disabled:
        raise Conflict(N_("This ticket was revoked; ask the facilitator."))
    if _count(session, meeting.id, author=voter.id) >= MAX_PER_VOTER:
        raise Conflict(
            N_("You have sent %(n)s amendments, the most one phone can send."), n=MAX_PER_VOTER
        )
    return _store(session, meeting, draft, CHANNEL_PHONE, voter.id)


def propose_console(session: Session, meeting: Meeting, draft: Draft) -> CharterAmendment:
    """An amendment the facilitator typed (from the floor, a letter): in the queue as any,
    whether or not phones may propose. Raises as `propose` (but the switch and the phone's
    own limit)."""
    return _store(session, meeting, draft, CHANNEL_CONSOLE, None)


# --- reading ------------------------------------------------------------------------------------


def queue(session: Session, meeting_id: int) -> list[CharterAmendment]:
    """Every proposal of the meeting, as they came."""
    q = (
        select(CharterAmendment)
        .where(col(CharterAmendment.meeting_id) == meeting_id)
        .order_by(col(CharterAmendment.id))
    )
    return list(session.exec(q))


def sent_by(session: Session, meeting_id: int, voter_id: int) -> list[CharterAmendment]:
    """The proposals one voter sent, as they came (their phone shows each one's status)."""
    q = (
        select(CharterAmendment)
        .where(
            col(CharterAmendment.meeting_id) == meeting_id,
            col(CharterAmendment.author_id) == voter_id,
        )
        .order_by(col(CharterAmendment.id))
    )
    return list(session.exec(q))


def amendment(session: Session, meeting_id: int, key: str) -> CharterAmendment:
    """The meeting's proposal `key`. Raises NotFound."""
    q = select(CharterAmendment).where(
        col(CharterAmendment.meeting_id) == meeting_id, col(CharterAmendment.key) == key[:32]
    )
    row = session.exec(q).first()
    if row is None:
        raise NotFound(N_("This meeting has no such amendment."))
    return row


def _waiting(session: Session, meeting: Meeting, key: str) -> CharterAmendment:
    assert meeting.id is not None
    meetings.require_active(meeting)
    row = amendment(session, meeting.id, key)
    if row.status != ProposalStatus.PROPOSED:
        raise Conflict(N_("This amendment has been decided already."))
    return row


# --- moderating ---------------------------------------------------------------------------------


def accept(
    session: Session, meeting: Meeting, key: str, text: object = "", text_cy: object = ""
) -> CharterVersion:
    """Put the proposal to the vote: it joins its clause as an ACCEPTED amendment in the
    charter's next version, with `text` and `text_cy` when given (the moderator's correction
    and Welsh; blank keeps the proposal's). Returns the new version.

    Raises:
        InvalidForm: a corrected text over MAX_TEXT (fields `accept-text`, `accept-text-cy`).
        Conflict: decided already; a charter round is open; the clause has gone from the
            charter; the meeting is archived.
        NotFound: no such proposal.
    """
    row = _waiting(session, meeting, key)
    assert meeting.id is not None
    problems: list[tuple[str, CovoteError]] = []
    english, welsh = _wording(
        text if read_text(text, MAX_TEXT) else row.text,
        text_cy if read_text(text_cy, MAX_TEXT) else row.text_cy,
        "accept-",
        problems,
    )
    if problems:
        raise InvalidForm(problems)
    charter = current(session, meeting.id)
    if row.clause not in {c.key for c in charter.clauses()}:
        raise Conflict(
            N_("The charter no longer has clause %(clause)s: decline the amendment instead."),
            clause=row.clause,
        )
    try:
        amended = with_amendment(
            charter, row.clause, cd.Amendment(row.key, english, welsh, AmendmentStatus.ACCEPTED)
        )
    except ValueError:  # a charter imported since uses the key: ask for it again
        raise Conflict(
            N_("The charter now uses the key %(key)s: decline this one and propose it again."),
            key=row.key,
        ) from None
    saved = charters.save_charter(session, meeting, amended, "amended")
    assert saved is not None  # a new amendment always changes the charter
    row.text, row.text_cy = english, welsh
    row.status, row.version, row.decided_at = ProposalStatus.ACCEPTED, saved.number, utcnow()
    session.add(row)
    audit.record(
        session,
        meeting.id,
        "charter.amendment_accepted",
        {"amendment": row.key, "clause": row.clause, "version": saved.number},
    )
    return saved


def parse_reason(raw: object) -> str:
    """The moderator's reason for declining: needed, at most MAX_REASON characters.

    Raises:
        InvalidForm: empty or too long (field `decline-reason`).
    """
    reason = read_text(raw, MAX_REASON)
    if not reason:
        problem = BadInput(N_("Say why, in a sentence: the phone that sent it shows it."))
    elif len(reason) > MAX_REASON:
        problem = BadInput(N_("Keep the reason to %(n)s characters or fewer."), n=MAX_REASON)
    else:
        return reason
    raise InvalidForm([("decline-reason", problem)])


def decline(session: Session, meeting: Meeting, key: str, reason: str) -> CharterAmendment:
    """Not put to the vote, with the moderator's reason (`parse_reason`), shown to its phone.

    Raises:
        Conflict: decided already, or the meeting is archived.  NotFound: no such proposal.
    """
    row = _waiting(session, meeting, key)
    assert meeting.id is not None
    row.status, row.reason, row.decided_at = ProposalStatus.DECLINED, reason, utcnow()
    session.add(row)
    audit.record(session, meeting.id, "charter.amendment_declined", {"amendment": row.key})
    return row


def merge(session: Session, meeting: Meeting, key: str, into: str) -> CharterAmendment:
    """Merge a waiting proposal into another to the same clause (waiting or accepted) that says
    the same: it stands for both, and the merged one's phone says so. Returns the target.

    Raises:
        BadInput: a proposal into itself.  Conflict: decided already; the target is to
            another clause, declined or merged itself.  NotFound: no such proposal.
    """
    if key == into:
        raise BadInput(N_("An amendment cannot be merged into itself."))
    row = _waiting(session, meeting, key)
    assert meeting.id is not None
    target = amendment(session, meeting.id, into)
    if target.clause != row.clause:
        raise Conflict(N_("Merge an amendment only into another to the same clause."))
    if target.status not in (ProposalStatus.PROPOSED, ProposalStatus.ACCEPTED):
        raise Conflict(N_("Merge it into an amendment still waiting or accepted."))
    row.status, row.merged_into, row.decided_at = ProposalStatus.MERGED, target.key, utcnow()
    session.add(row)
    audit.record(
        session, meeting.id, "charter.amendment_merged", {"amendment": row.key, "into": target.key}
    )
    return target


def by_clause(
    rows: Sequence[CharterAmendment], charter: cd.Charter
) -> list[tuple[cd.Clause | None, list[CharterAmendment]]]:
    """The proposals grouped under their clauses, in the charter's order (clauses without any
    left out), then those whose clause has gone from the charter under None."""
    clauses = {c.key: c for c in charter.clauses()}
    grouped: dict[str | None, list[CharterAmendment]] = {}
    for r in rows:
        grouped.setdefault(r.clause if r.clause in clauses else None, []).append(r)
    out: list[tuple[cd.Clause | None, list[CharterAmendment]]] = [
        (c, grouped[c.key]) for c in charter.clauses() if c.key in grouped
    ]
    if None in grouped:
        out.append((None, grouped[None]))
    return out
