"""The Co-Production Lab in the room (issue 16): ideas, as phones send them and the console
keys them, and the ratings they get.

A meeting's Lab has challenges (`lab_challenges`) and ideas answering them: typed on phones
(status "pending" until the facilitator approves) or keyed in the console from the tables'
flip charts (approved at once: the facilitator typed them). Moderation (`lab_moderation`)
approves, hides, corrects the text of, or merges an idea into another; the open Lab round's
items follow it (`lab_round`). Helpers' pledges are `lab_helping`'s; the facilitator's shortlist
and the budget meeting made of it are `lab_shortlist`'s.

Merging keeps every supporter and helper: the source's pledges move to the target (a voter who
pledged both keeps one), and its ratings count for the target when the Lab's results are read
(`resolved`: a voter who rated both keeps the target's rating). Ratings are ballots, which the
audit chain has already committed to, so they are never rewritten: the merge is applied where
they are read.

Every function takes the caller's session and never commits; every text is checked where it
is read (`parse_idea`, `lab_challenges.parse_challenge`), so the phone form, the console and
tests share one bound.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.core.errors import BadInput, Conflict, CovoteError, InvalidForm, NotFound
from app.core.inputs import read_text
from app.core.messages import N_
from app.record import kind_rounds
from app.rules.lab import IDEA_DESCRIPTION_MAX, IDEA_TEXT_MAX, IdeaKind, IdeaStatus
from app.voting import audit, lab_challenges, lab_round, meetings
from app.voting.models import Ballot, LabChallenge, LabIdea, LabPledge, Meeting, Voter

MAX_IDEAS = 2000
# Ideas one phone may leave in a meeting (the rate is Settings.limit_ideas_per_voter).
MAX_IDEAS_PER_VOTER = 20
# Segments read from one form: no meeting has more (records' segment limit is far below).
MAX_SEGMENTS_READ = 200
# Flip-chart rows keyed in one form.
MAX_KEYED_ROWS = 20

CHANNEL_PHONE = "phone"
CHANNEL_CONSOLE = "console"

KIND_NAMES: Mapping[IdeaKind, str] = {
    IdeaKind.CUT_COST: N_("Cut cost"),
    IdeaKind.REDESIGN: N_("Redesign"),
    IdeaKind.CO_DELIVER: N_("Co-deliver"),
}
STATUS_NAMES: Mapping[IdeaStatus, str] = {
    IdeaStatus.PENDING: N_("Waiting"),
    IdeaStatus.APPROVED: N_("Approved"),
    IdeaStatus.HIDDEN: N_("Hidden"),
    IdeaStatus.MERGED: N_("Merged"),
}


@dataclass(frozen=True)
class IdeaDraft:
    """A checked idea, not yet stored: its challenge's key, texts and kind."""

    challenge: str
    text: str
    description: str
    kind: IdeaKind


@dataclass(frozen=True)
class IdeaRow:
    """An idea as the console and the wall read it: the row, its challenge's key, its helpers."""

    idea: LabIdea
    challenge: str
    helpers: int


def parse_idea(
    challenges: Sequence[str],
    *,
    challenge: object,
    text: object,
    description: object = "",
    kind: object,
    prefix: str = "idea-",
) -> IdeaDraft:
    """Check an idea's fields, every problem at once.

    Raises:
        InvalidForm: by field id (`prefix` + challenge, text, description, kind): no such
            challenge, no text or too long a text or description, no such kind.
    """
    problems: list[tuple[str, CovoteError]] = []
    key = challenge if isinstance(challenge, str) else ""
    if key not in challenges:
        problems.append((prefix + "challenge", BadInput(N_("Choose a challenge."))))
    body = read_text(text, IDEA_TEXT_MAX)
    if not body:
        problems.append((prefix + "text", BadInput(N_("Write your idea."))))
    elif len(body) > IDEA_TEXT_MAX:
        problems.append(
            (
                prefix + "text",
                BadInput(N_("Keep the idea to %(n)s characters or fewer."), n=IDEA_TEXT_MAX),
            )
        )
    more = read_text(description, IDEA_DESCRIPTION_MAX, multiline=True)
    if len(more) > IDEA_DESCRIPTION_MAX:
        problems.append(
            (
                prefix + "description",
                BadInput(
                    N_("Keep the description to %(n)s characters or fewer."),
                    n=IDEA_DESCRIPTION_MAX,
                ),
            )
        )
    try:
        what = IdeaKind(kind if isinstance(kind, str) else "")
    except ValueError:
        problems.append((prefix + "kind", BadInput(N_("Choose what kind of idea it is."))))
        what = IdeaKind.REDESIGN
    if problems:
        raise InvalidForm(problems)
    return IdeaDraft(challenge=key, text=body, description=more, kind=what)


# --- ideas --------------------------------------------------------------------------------------


def _count_ideas(session: Session, meeting_id: int, author_id: int | None = None) -> int:
    q = select(func.count()).select_from(LabIdea).where(col(LabIdea.meeting_id) == meeting_id)
    if author_id is not None:
        q = q.where(col(LabIdea.author_id) == author_id)
    return int(session.execute(q).scalar_one())


def _new_idea(
    session: Session, meeting: Meeting, draft: IdeaDraft, status: IdeaStatus, channel: str
) -> LabIdea:
    assert meeting.id is not None
    meetings.require_active(meeting)
    if _count_ideas(session, meeting.id) >= MAX_IDEAS:
        raise Conflict(N_("This Lab has all the ideas it can take. Tell a facilitator instead."))
    challenge = lab_challenges.challenge(session, meeting.id, draft.challenge)
    assert challenge.id is not None
    row = LabIdea(
        meeting_id=meeting.id,
        challenge_id=challenge.id,
        # Random, not a count: phones submit at once in separate transactions, and a key
        # says nothing about who wrote the idea or when.
        key="i" + secrets.token_hex(4),
        text=draft.text,
        description=draft.description,
        kind=draft.kind.value,
        status=status.value,
        channel=channel,
    )
    return row


def submit(
    session: Session,
    meeting: Meeting,
    voter: Voter,
    draft: IdeaDraft,
    *,
    would_help: bool,
    hours: int | None = None,
) -> LabIdea:
    """A phone's idea: pending until the facilitator approves it; with its author's pledge
    (and the hours a month they offer, checked by `parse_hours`) when they would help make it
    happen.

    Raises:
        Conflict: the meeting is archived, its Lab full, the voter's ticket revoked, or this
            voter has left MAX_IDEAS_PER_VOTER ideas.  NotFound: the challenge has gone.
    """
    assert meeting.id is not None and voter.id is not None
    if voter.disabled:
        # A revoked ticket's voter: the same refusal their ballots get.
        raise Conflict(N_("This ticket was revoked; ask the facilitator."))
    if _count_ideas(session, meeting.id, voter.id) >= MAX_IDEAS_PER_VOTER:
        raise Conflict(
            N_("You have sent %(n)s ideas, the most one phone can send."), n=MAX_IDEAS_PER_VOTER
        )
    row = _new_idea(session, meeting, draft, IdeaStatus.PENDING, CHANNEL_PHONE)
    row.author_id = voter.id
    session.add(row)
    session.flush()
    if would_help:
        assert row.id is not None
        session.add(LabPledge(idea_id=row.id, voter_id=voter.id, hours=hours))
        session.flush()
    return row


def key_ideas(session: Session, meeting: Meeting, drafts: Sequence[IdeaDraft]) -> list[LabIdea]:
    """Ideas keyed in the console from flip charts, all or none: approved (the facilitator
    typed them), with no author."""
    rows = [_new_idea(session, meeting, d, IdeaStatus.APPROVED, CHANNEL_CONSOLE) for d in drafts]
    session.add_all(rows)
    session.flush()
    assert meeting.id is not None
    audit.append(
        session, meeting.id, [("lab.approved", {"idea": r.key, "keyed": True}) for r in rows]
    )
    lab_round.join_open_round(session, meeting, [r.key for r in rows])
    return rows


def idea(session: Session, meeting_id: int, key: str) -> LabIdea:
    """The meeting's idea `key`. Raises NotFound."""
    q = select(LabIdea).where(col(LabIdea.meeting_id) == meeting_id, col(LabIdea.key) == key)
    found = session.exec(q).first()
    if found is None:
        raise NotFound(N_("This meeting has no such idea."))
    return found


def ideas_of(
    session: Session, meeting_id: int, statuses: Sequence[IdeaStatus] | None = None
) -> list[IdeaRow]:
    """The meeting's ideas (of `statuses`, or all), by challenge order then as they came,
    each with its challenge's key and its number of helpers."""
    helpers = (
        select(LabPledge.idea_id, func.count().label("n"))
        .group_by(col(LabPledge.idea_id))
        .subquery()
    )
    q = (
        select(LabIdea, LabChallenge.key, func.coalesce(helpers.c.n, 0))
        .join(LabChallenge, col(LabChallenge.id) == col(LabIdea.challenge_id))
        .outerjoin(helpers, helpers.c.idea_id == col(LabIdea.id))
        .where(col(LabIdea.meeting_id) == meeting_id)
        .order_by(col(LabChallenge.position), col(LabChallenge.id), col(LabIdea.id))
    )
    if statuses is not None:
        q = q.where(col(LabIdea.status).in_([s.value for s in statuses]))
    return [IdeaRow(row, key, int(n)) for row, key, n in session.execute(q).all()]


def ideas_by(session: Session, meeting_id: int, voter_id: int) -> list[LabIdea]:
    """The ideas one voter sent, as they came (their phone shows each one's status)."""
    q = (
        select(LabIdea)
        .where(col(LabIdea.meeting_id) == meeting_id, col(LabIdea.author_id) == voter_id)
        .order_by(col(LabIdea.id))
    )
    return list(session.exec(q))


# --- ratings, as merges make them count ---------------------------------------------------------


def resolved(session: Session, meeting_id: int) -> dict[str, str]:
    """Each merged idea's key -> the key of the idea it now counts for (merges are kept flat by
    `merge`, so one step suffices)."""
    target = LabIdea.__table__.alias("target")  # type: ignore[attr-defined]
    q = (
        select(LabIdea.key, target.c.key)
        .join(target, target.c.id == col(LabIdea.merged_into))
        .where(col(LabIdea.meeting_id) == meeting_id, col(LabIdea.merged_into).is_not(None))
    )
    return {str(a): str(b) for a, b in session.execute(q).all()}


def merged_ratings(marks: Mapping[str, str], into: Mapping[str, str]) -> dict[str, str]:
    """One voter's ratings with merged ideas' counting for their targets (the recount's own
    rule, `kind_rounds.merged_ratings`: one implementation for the server and the recount)."""
    return kind_rounds.merged_ratings(marks, into)


def keys_of(session: Session, meeting_id: int) -> list[str]:
    """Every idea key of the meeting, whatever its status."""
    return list(session.exec(select(LabIdea.key).where(col(LabIdea.meeting_id) == meeting_id)))


def ratings_of(session: Session, round_id: int, voter_id: int) -> dict[str, str]:
    """A voter's ratings so far in a round (their stored ballot's marks; none: empty)."""
    q = select(Ballot.marks).where(
        col(Ballot.round_id) == round_id, col(Ballot.voter_id) == voter_id
    )
    marks = session.exec(q).first()
    return dict(marks) if marks else {}
