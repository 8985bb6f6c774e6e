"""Moderating the Lab's ideas (issue 16): approve, hide, restore, correct, merge.

Moderation is in the audit chain (app/record/chain.py): `lab.approved` (also for ideas keyed
from flip charts, with `"keyed": true`: `lab.key_ideas`), `lab.hidden`, `lab.restored` (back
to the queue), `lab.corrected` and `lab.merged` (`into`: the target's key). A link carries
idea keys only, never an idea's text: the chain is public and cannot be edited, and a hidden
idea was hidden for a reason (the ideas file withholds its text too); the ideas file has the
texts of the ideas still shown. The open Lab round's items follow every change (`lab_round`).
Every function takes the caller's session and never commits.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import Session, col, select

from app.core.errors import BadInput, Conflict, InvalidForm
from app.core.inputs import read_text
from app.core.messages import N_
from app.rules.lab import IDEA_TEXT_MAX, IdeaStatus
from app.voting import audit, lab, lab_round, meetings
from app.voting.models import LabIdea, LabPledge, Meeting


def moderated(session: Session, meeting: Meeting, key: str) -> LabIdea:
    """The meeting's idea `key`, to change. Raises Conflict (archived meeting, merged idea),
    NotFound."""
    assert meeting.id is not None
    meetings.require_active(meeting)
    row = lab.idea(session, meeting.id, key)
    if row.status == IdeaStatus.MERGED:
        raise Conflict(N_("This idea was merged into another: change that one instead."))
    return row


def set_status(session: Session, meeting: Meeting, key: str, status: IdeaStatus) -> LabIdea:
    """Approve or hide an idea (or bring a hidden one back to the queue).

    Raises:
        BadInput: `status` is "merged" (see `merge`).  Conflict: the idea was merged.
    """
    if status == IdeaStatus.MERGED:
        raise BadInput(N_("Merge an idea by choosing the idea to merge it into."))
    row = moderated(session, meeting, key)
    row.status = status.value
    session.add(row)
    assert meeting.id is not None
    audit.record(session, meeting.id, _STATUS_LINKS[status], {"idea": row.key})
    if status == IdeaStatus.APPROVED:
        lab_round.join_open_round(session, meeting, [row.key])
    else:
        lab_round.leave_open_round(session, meeting, row.key)
    return row


# The audit link of each status `set_status` sets.
_STATUS_LINKS: Mapping[IdeaStatus, str] = {
    IdeaStatus.APPROVED: "lab.approved",
    IdeaStatus.HIDDEN: "lab.hidden",
    IdeaStatus.PENDING: "lab.restored",
}


def edit_idea(session: Session, meeting: Meeting, key: str, text: object) -> LabIdea:
    """Correct an idea's text (spelling): the same bounds as when it was sent.

    Raises:
        InvalidForm: empty or too long (field `edit-text`).  Conflict: the idea was merged.
    """
    row = moderated(session, meeting, key)
    body = read_text(text, IDEA_TEXT_MAX)
    if not body or len(body) > IDEA_TEXT_MAX:
        problem = BadInput(N_("Keep the idea to %(n)s characters or fewer."), n=IDEA_TEXT_MAX)
        raise InvalidForm([("edit-text", problem if body else BadInput(N_("Write your idea.")))])
    row.text = body
    session.add(row)
    assert meeting.id is not None
    # The key only: the text is the ideas file's (and a hidden idea's is withheld there).
    audit.record(session, meeting.id, "lab.corrected", {"idea": row.key})
    return row


def merge(session: Session, meeting: Meeting, source_key: str, target_key: str) -> LabIdea:
    """Merge idea `source_key` into `target_key`: the source is marked merged, its pledges move
    to the target (one per voter), ideas merged into it before now point at the target, and
    its ratings count for the target when results are read (`lab.resolved`). Returns the target.

    Raises:
        BadInput: an idea into itself.  Conflict: either idea was merged already, or the
            target is hidden.
        NotFound: no such idea.
    """
    if source_key == target_key:
        raise BadInput(N_("An idea cannot be merged into itself."))
    source = moderated(session, meeting, source_key)
    target = moderated(session, meeting, target_key)
    if target.status == IdeaStatus.HIDDEN:
        raise Conflict(N_("A hidden idea cannot take others: bring it back first."))
    assert source.id is not None and target.id is not None
    pledged = set(
        session.exec(select(LabPledge.voter_id).where(col(LabPledge.idea_id) == target.id))
    )
    moving = list(session.exec(select(LabPledge).where(col(LabPledge.idea_id) == source.id)))
    for pledge in moving:
        if pledge.voter_id in pledged:
            session.delete(pledge)
        else:
            pledge.idea_id = target.id
            session.add(pledge)
    earlier = select(LabIdea).where(col(LabIdea.merged_into) == source.id)
    for row in session.exec(earlier):
        row.merged_into = target.id
        session.add(row)
    lab_round.leave_open_round(session, meeting, source.key)
    source.status = IdeaStatus.MERGED.value
    source.merged_into = target.id
    session.add(source)
    assert meeting.id is not None
    audit.record(session, meeting.id, "lab.merged", {"idea": source.key, "into": target.key})
    session.flush()
    return target
