"""The charter's review meetings (issue 17): a later meeting of the same charter where the room
rates each commitment kept, partly kept or not kept, after the party's own report.

* `start_review` makes a review meeting from a meeting whose charter is signed or adopted: a
  new meeting with the source's rule, segments and voting settings (no proposals, budget or
  Welsh title, nothing that happened), the source's current charter as its version 1 (made by
  "review") with its block share, and `meeting_charter.review_of` naming the charter's first
  meeting, so every review of one charter names the same (a review of a review included).
  Its chain starts with `meeting.created` carrying `review_of`: the first meeting's code.
* A party's report on a commitment (`save_reports`): English and Welsh, each at most
  `MAX_REPORT` characters; refused while a review round is open (phones show the reports).
  Logged as `charter.reports` with the commitments changed and each text's SHA-256.
* The scorecard of a review meeting (`meeting_scorecard`): each commitment's ratings from the
  last closed round that asked it; the history (`history`) is every review of the charter,
  oldest first, each with its scorecard under its own m.

Contract: every function takes the caller's session and never commits. No import of
app/voting/kinds.py (which registers the review kind, `review_kind`, that reads this module).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from pydantic import ValidationError
from sqlmodel import Session, col, select

from app.core.errors import BadInput, Conflict, NotFound
from app.core.messages import N_
from app.core.vocab import CHARTER_REVIEW, RoundStatus
from app.record import filenames
from app.record.records import MeetingFile
from app.rules import charter_doc as cd
from app.rules.charter_review import PartyLine, Rating, scorecard
from app.voting import audit, charters, meetings
from app.voting.activity import responses
from app.voting.models import (
    CharterReport,
    CharterSignature,
    CharterVersion,
    Meeting,
    MeetingCharter,
    Round,
    utcnow,
)

MAX_REPORT = 2000  # characters, each language: a party's report is a paragraph or two
RATINGS = frozenset(r.value for r in Rating)


def review_of(session: Session, meeting_id: int) -> int | None:
    """The id of the charter's first meeting, when this one reviews it; else None."""
    row = session.get(MeetingCharter, meeting_id)
    return None if row is None else row.review_of


def reviewable(session: Session, meeting_id: int) -> bool:
    """The meeting's charter may be reviewed: a party has signed it (a signature in force) or a
    consent round's decisions were adopted into it, or it is a review meeting itself."""
    if charters.current_version(session, meeting_id) is None:
        return False
    if review_of(session, meeting_id) is not None:
        return True
    signed = select(CharterSignature.id).where(
        CharterSignature.meeting_id == meeting_id, col(CharterSignature.withdrawn_at).is_(None)
    )
    adopted = select(CharterVersion.id).where(
        CharterVersion.meeting_id == meeting_id, CharterVersion.made_by == "adopted"
    )
    return session.exec(signed).first() is not None or session.exec(adopted).first() is not None


def start_review(session: Session, source: Meeting, title: str) -> Meeting:
    """A review meeting of `source`'s charter (see the module docstring).

    Raises:
        Conflict: the charter is neither signed nor adopted (or there is none).
        BadInput: the title is empty or too long.
    """
    assert source.id is not None
    if not reviewable(session, source.id):
        raise Conflict(N_("Only a signed or adopted charter can be reviewed."))
    charter = charters.charter_of(session, source.id)
    assert charter is not None
    root = review_of(session, source.id) or source.id
    first = session.get(Meeting, root)
    # The source's rule, segments and voting settings; not its proposals, budget or tie-break,
    # nor its title's Welsh (the review has a title of its own).
    setup = meetings.meeting_file(session, source).model_dump(
        mode="json",
        exclude={"tie_break", "budget", "savings_target", "proposals", "translations"},
    )
    try:
        spec = MeetingFile.model_validate({**setup, "title": title, "proposals": []})
    except ValidationError as e:
        raise BadInput(meetings.describe_validation(e)) from None
    code = first.code if first is not None else source.code
    made = meetings.create_meeting(session, spec, origin={"review_of": code})
    assert made.id is not None
    charters.save_charter(session, made, charter, "review")
    row = session.get(MeetingCharter, made.id)
    kept = session.get(MeetingCharter, source.id)
    assert row is not None
    row.review_of = root
    if kept is not None:
        row.block_percent = kept.block_percent
    session.add(row)
    session.flush()
    return made


def reviews_of(session: Session, root: int) -> list[Meeting]:
    """Every review meeting of the charter first held at meeting `root`, oldest first."""
    q = (
        select(Meeting)
        .join(MeetingCharter, col(MeetingCharter.meeting_id) == col(Meeting.id))
        .where(MeetingCharter.review_of == root)
        .order_by(col(Meeting.created_at), col(Meeting.id))
    )
    return list(session.exec(q))


# --- the parties' reports ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Report:
    """A party's report on a commitment as typed, before it is checked."""

    commitment: str
    text: str
    text_cy: str = ""


def reports_of(session: Session, meeting_id: int) -> dict[str, CharterReport]:
    """The meeting's reports by commitment key."""
    q = select(CharterReport).where(CharterReport.meeting_id == meeting_id)
    return {r.commitment: r for r in session.exec(q)}


def review_rounds(session: Session, meeting_id: int) -> list[Round]:
    """The meeting's review rounds, by number."""
    q = (
        select(Round)
        .where(Round.meeting_id == meeting_id, Round.kind == CHARTER_REVIEW)
        .order_by(col(Round.number))
    )
    return list(session.exec(q))


def save_reports(session: Session, meeting: Meeting, given: Sequence[Report]) -> int:
    """Store the reports typed (an empty one removes the commitment's); returns how many
    changed. All or nothing.

    Raises:
        Conflict: a review round is open, or the meeting is archived.
        BadInput: a report for a commitment the charter does not have, or one too long.
    """
    assert meeting.id is not None
    meetings.require_active(meeting)
    if any(r.status == RoundStatus.OPEN for r in review_rounds(session, meeting.id)):
        raise Conflict(N_("A review round is open: close it before changing the parties' reports."))
    charter = charters.charter_of(session, meeting.id)
    known = {c.key for c in charter.commitments} if charter else set()
    have = reports_of(session, meeting.id)
    changed: dict[str, str | None] = {}
    for r in given:
        if r.commitment not in known:
            raise BadInput(N_("The charter has no commitment %(key)s."), key=r.commitment[:32])
        text, text_cy = r.text.strip(), r.text_cy.strip()
        if len(text) > MAX_REPORT or len(text_cy) > MAX_REPORT:
            raise BadInput(
                N_("A report is at most %(n)s characters (commitment %(key)s)."),
                n=MAX_REPORT,
                key=r.commitment,
            )
        row = have.get(r.commitment)
        if not text and not text_cy:
            if row is not None:
                session.delete(row)
                changed[r.commitment] = None
            continue
        if row is not None and (row.text, row.text_cy) == (text, text_cy):
            continue
        if row is None:
            row = CharterReport(meeting_id=meeting.id, commitment=r.commitment, text="", text_cy="")
        row.text, row.text_cy, row.saved_at = text, text_cy, utcnow()
        session.add(row)
        changed[r.commitment] = hashlib.sha256(f"{text}\n{text_cy}".encode()).hexdigest()
    if changed:
        meetings._touch(meeting)
        session.add(meeting)
        audit.record(session, meeting.id, "charter.reports", {"reports": changed})
        session.flush()
    return len(changed)


# --- scorecards and history --------------------------------------------------------------------


def round_ratings(session: Session, rnd: Round, keys: Sequence[str]) -> dict[str, list[Rating]]:
    """Each of `keys`' ratings in the round's final ballots."""
    wanted = set(keys)
    out: dict[str, list[Rating]] = {k: [] for k in keys}
    for r in responses(session, rnd):
        for k, v in r.marks.items():
            if k in wanted and v in RATINGS:
                out[k].append(Rating(v))
    return out


def asked(charter: cd.Charter, keys: Sequence[str]) -> cd.Charter:
    """The charter with only the commitments in `keys` (a round's), in the charter's order."""
    wanted = set(keys)
    return replace(charter, commitments=tuple(c for c in charter.commitments if c.key in wanted))


def round_scorecard(
    session: Session, meeting: Meeting, rnd: Round
) -> tuple[cd.Charter, tuple[PartyLine, ...]]:
    """The charter version the round asked (only its commitments) and its scorecard under the
    meeting's m."""
    assert meeting.id is not None
    charter = charters.charter_at(session, meeting.id, rnd.opened_at) or cd.Charter("")
    mine = asked(charter, rnd.proposal_keys)
    ratings = round_ratings(session, rnd, [c.key for c in mine.commitments])
    return mine, scorecard(mine, ratings, meeting.group_min)


def meeting_scorecard(session: Session, meeting: Meeting) -> tuple[PartyLine, ...]:
    """The review meeting's scorecard: each commitment rated in the last closed round that
    asked it (voided and open rounds do not count), against the current charter."""
    assert meeting.id is not None
    charter = charters.charter_of(session, meeting.id)
    if charter is None:
        return ()
    known = {c.key for c in charter.commitments}
    latest: dict[str, Round] = {}
    for rnd in review_rounds(session, meeting.id):
        if rnd.status == RoundStatus.CLOSED:
            latest.update((k, rnd) for k in rnd.proposal_keys if k in known)
    ratings: dict[str, list[Rating]] = {}
    for rnd in {r.id: r for r in latest.values()}.values():
        mine = [k for k, r in latest.items() if r.id == rnd.id]
        ratings.update(round_ratings(session, rnd, mine))
    return scorecard(asked(charter, list(ratings)), ratings, meeting.group_min)


def review_name(session: Session, meeting: Meeting) -> str:
    """A review's name in the history: its title and its day ("Charter review 2026-12-05")."""
    assert meeting.id is not None
    opened = [r.opened_at for r in review_rounds(session, meeting.id)]
    day = filenames.meeting_day(meeting.created_at, opened, meetings.zone_of(meeting))
    return f"{meeting.title} ({day.isoformat()})"


def history(
    session: Session, meeting: Meeting, now: tuple[PartyLine, ...] | None = None
) -> list[tuple[str, tuple[PartyLine, ...]]]:
    """The reviews of `meeting`'s charter up to and including it, oldest first, each named and
    with its scorecard (`now`, when given, is this meeting's). Empty when it is no review."""
    assert meeting.id is not None
    root = review_of(session, meeting.id)
    if root is None:
        return []
    out = []
    for m in reviews_of(session, root):
        assert m.id is not None
        lines = now if m.id == meeting.id and now is not None else meeting_scorecard(session, m)
        out.append((review_name(session, m), lines))
        if m.id == meeting.id:
            break
    return out


def must_review(session: Session, meeting_id: int) -> None:
    """Raises NotFound unless the meeting is a review meeting."""
    if review_of(session, meeting_id) is None:
        raise NotFound(N_("This meeting is not a review of a charter."))


def texts(
    charter: cd.Charter,
) -> tuple[Mapping[str, tuple[str, str]], Mapping[str, tuple[str, str]]]:
    """The parties' names and the commitments' texts by key, (English, Welsh)."""
    return (
        {p.key: (p.name, p.name_cy) for p in charter.parties},
        {c.key: (c.what, c.what_cy) for c in charter.commitments},
    )
