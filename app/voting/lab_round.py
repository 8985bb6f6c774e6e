"""The open Lab round's items, kept in step with moderation (issue 16).

A `lab` round rates the approved ideas: an idea approved while it is open joins its items
(after the others), and one hidden, sent back to the queue or merged off leaves them, so
phones, the projector and the keypads (which index the items) agree. Every function takes the
caller's session and never commits.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from app.core.errors import Conflict
from app.core.messages import N_
from app.core.vocab import LAB, RoundStatus
from app.voting.models import Meeting, Round


def _open_lab_round(session: Session, meeting: Meeting) -> Round | None:
    q = select(Round).where(
        col(Round.meeting_id) == meeting.id,
        col(Round.status) == RoundStatus.OPEN.value,
        col(Round.kind) == LAB,
    )
    return session.exec(q).first()


def leave_open_round(session: Session, meeting: Meeting, key: str) -> None:
    """Take an idea hidden, sent back to the queue or merged off the open `lab` round's items,
    so phones, the projector and the keypads (which index the items) agree; the idea the
    keypads rate stays on screen, or the next one if it was this. Its stored ratings stay
    (the ballot path still takes them: `LabKind.scales`).

    Raises:
        Conflict: it is the round's only idea (close the round first).
    """
    rnd = _open_lab_round(session, meeting)
    if rnd is None or key not in rnd.proposal_keys:
        return
    keys = list(rnd.proposal_keys)
    if len(keys) == 1:
        raise Conflict(N_("This is the open round's only idea: close the round first."))
    gone = keys.index(key)
    keys.pop(gone)
    if rnd.keypad_step is not None and (gone < rnd.keypad_step or rnd.keypad_step >= len(keys)):
        rnd.keypad_step = max(0, rnd.keypad_step - 1) if gone < rnd.keypad_step else len(keys) - 1
    rnd.proposal_keys = keys
    session.add(rnd)


def join_open_round(session: Session, meeting: Meeting, keys: Sequence[str]) -> None:
    """Add newly approved ideas to the meeting's open `lab` round, if one is open, after its
    other ideas: phones and keypads rate them from the next snapshot. (The caller signals the
    room; `Services.changed` also drops the ballot writer's copy of the round's items.)"""
    rnd = _open_lab_round(session, meeting)
    if rnd is None:
        return
    new = [k for k in keys if k not in rnd.proposal_keys]
    if new:
        # A new list, not an append: the JSON column is saved only when it is reassigned.
        rnd.proposal_keys = [*rnd.proposal_keys, *new]
        session.add(rnd)
