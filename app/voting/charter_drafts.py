"""Draft commitments for a meeting's charter from other activities (issue 17): a budget
meeting's funded and protected proposals, and the Lab's pledges (counts, never names).

Each draft is saved as a new charter version (`charters.save_charter`, made_by "budget" or
"lab"): the drafters then edit the wording in the exported file. Apart from app/voting/charters.py
because it reads rounds' records (app/voting/rounds.py), which the charter's activity kind,
imported by the kinds registry, must not.

Contract: every function takes the caller's session and never commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import cast

from sqlmodel import Session

from app.core.errors import BadInput, Conflict, InvalidForm
from app.core.messages import N_
from app.core.shapes import RoundRecord
from app.core.vocab import ROOM_VOTE, RoundStatus
from app.rules import charter_doc as cd
from app.rules import lab_pledges
from app.rules.lab import IdeaStatus
from app.voting import lab, lab_helping, rounds
from app.voting.charters import charter_of, save_charter
from app.voting.meetings import budget_of, proposals_of
from app.voting.models import Meeting, Round

# --- commitments drafted from other meetings -------------------------------------------------


def budget_rounds(session: Session, meetings: list[Meeting]) -> list[tuple[Meeting, Round]]:
    """Of `meetings`, each one with a budget and its last closed room-vote round, newest
    meeting first: where commitments can be drafted from."""
    out = []
    for m in meetings:
        if m.id is None or budget_of(m) is None:
            continue
        closed = [
            r
            for r in rounds.rounds_of(session, m.id)
            if (r.kind or ROOM_VOTE) == ROOM_VOTE and r.status == RoundStatus.CLOSED
        ]
        if closed:
            out.append((m, closed[-1]))
    return sorted(out, key=lambda pair: pair[0].created_at, reverse=True)


def _party(charter: cd.Charter, key: str) -> str:
    if key not in {p.key for p in charter.parties}:
        raise BadInput(N_("Choose one of the charter's parties."))
    return key


def _current(session: Session, meeting: Meeting) -> cd.Charter:
    assert meeting.id is not None
    charter = charter_of(session, meeting.id)
    if charter is None:
        raise Conflict(N_("Import a charter first."))
    return charter


def _taken(charter: cd.Charter) -> set[str]:
    return {c.key for c in charter.commitments}


def _added(
    session: Session, meeting: Meeting, charter: cd.Charter, new: list[cd.Commitment], by: str
) -> int:
    if not new:
        raise BadInput(N_("There is nothing to draft commitments from."))
    drafted = replace(charter, commitments=(*charter.commitments, *new))
    if len(drafted.commitments) > cd.MAX_COMMITMENTS:
        raise InvalidForm(
            [("", BadInput(N_("A charter has at most %(n)s commitments."), n=cd.MAX_COMMITMENTS))]
        )
    save_charter(session, meeting, drafted, by)
    return len(new)


def commitments_from_budget(session: Session, meeting: Meeting, source: Meeting, party: str) -> int:
    """Add a draft commitment for `party` per funded or PROTECTED proposal of `source`'s last
    closed budget round (`charter_doc.from_budget`), as a new version; returns how many.

    Raises:
        Conflict: no charter, or `source` has no closed budget round.
        BadInput: an unknown party, or no funded or protected proposal.
    """
    charter = _current(session, meeting)
    party = _party(charter, party)
    found = budget_rounds(session, [source])
    if not found:
        raise Conflict(N_("That meeting has no closed budget round."))
    _, rnd = found[0]
    record = rounds.round_record(session, source, rnd)
    assert source.id is not None
    titles = {
        p.key: (p.title, ((p.translations or {}).get("cy") or {}).get("title", ""))
        for p in proposals_of(session, source.id)
    }
    items = cd.budget_items(cast(RoundRecord, record), titles)  # a room vote's record
    new = cd.from_budget(items, party, taken=_taken(charter))
    return _added(session, meeting, charter, new, "budget")


def commitments_from_lab(
    session: Session, meeting: Meeting, party: str, source: Meeting | None = None
) -> int:
    """Add a draft commitment for `party` per Lab idea that people pledged to help with, as a
    new version; returns how many. The Lab is `source`'s (default: the meeting's own, as the
    console drafts; the demo charter's meeting drafts from the demo survey meeting's Lab). Each
    carries the count of helpers (its source) and, as its measure in English and Welsh, the
    idea's pledge summary: hours a month in all and helpers by segment, suppressed under the
    Lab meeting's m as everywhere (lab_helping.pledge_summaries). Never who, never one person's
    hours.

    Raises:
        Conflict: no charter. BadInput: an unknown party, or no pledges.
    """
    assert meeting.id is not None
    charter = _current(session, meeting)
    party = _party(charter, party)
    held = meeting if source is None else source
    assert held.id is not None
    rows = lab.ideas_of(session, held.id, [IdeaStatus.APPROVED])
    summaries = lab_helping.pledge_summaries(session, held)
    pledges = {r.idea.key: (r.idea.text, r.helpers) for r in rows}
    new = cd.from_pledges(pledges, party, taken=_taken(charter))
    new = [_with_summary(session, held.id, c, summaries) for c in new]
    return _added(session, meeting, charter, new, "lab")


def _with_summary(
    session: Session,
    meeting_id: int,
    commitment: cd.Commitment,
    summaries: Mapping[str, lab_pledges.PledgeSummary],
) -> cd.Commitment:
    """A Lab commitment with its idea's pledge summary, in English and Welsh, as how it will be
    measured: what the helpers offered is the yardstick the charter's parties check it by. The
    commitment's own words stay the idea's, as typed."""
    summary = summaries.get(commitment.source.ref, lab_pledges.EMPTY)

    def worded(lang: str) -> str:
        return lab_helping.describe_pledges(session, meeting_id, summary, lang)[: cd.MAX_TEXT]

    return replace(commitment, measure=worded("en"), measure_cy=worded("cy"))
