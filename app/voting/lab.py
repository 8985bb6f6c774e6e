"""The Co-Production Lab in the room (issue 16): challenges, ideas, moderation, helpers' pledges.

A meeting's Lab has challenges (the facilitator's, typed or taken from a survey's focus list)
and ideas answering them: typed on phones (status "pending" until the facilitator approves) or
keyed in the console from the tables' flip charts (approved at once: the facilitator typed
them). Moderation approves, hides, corrects the text of, or merges an idea into another.

Merging keeps every supporter and helper: the source's pledges move to the target (a voter who
pledged both keeps one), and its ratings count for the target when the Lab's results are read
(`resolved`: a voter who rated both keeps the target's rating). Ratings are ballots, which the
audit chain has already committed to, so they are never rewritten: the merge is applied where
they are read.

Every function takes the caller's session and never commits; every text is checked here
(`parse_idea`, `parse_challenge`), so the phone form, the console and tests share one bound.

Moderation is in the audit chain (app/record/chain.py): `lab.approved` (also for ideas keyed
from flip charts, with `"keyed": true`), `lab.hidden`, `lab.restored` (back to the queue),
`lab.corrected`, `lab.merged` (`into`: the target's key) and `lab.affected` (`segments`).
A link carries idea keys and segment ids only, never an idea's text: the chain is public
and cannot be edited, and a hidden idea was hidden for a reason (the ideas file withholds
its text too); the ideas file has the texts of the ideas still shown.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.core.errors import BadInput, Conflict, CovoteError, InvalidForm, NotFound
from app.core.inputs import clean_text
from app.core.messages import N_
from app.core.vocab import LAB, RoundStatus
from app.record import kind_rounds, records
from app.rules import lab_pledges, survey_tally
from app.rules.lab import (
    CHALLENGE_MAX,
    IDEA_DESCRIPTION_MAX,
    IDEA_TEXT_MAX,
    IdeaKind,
    IdeaStatus,
)
from app.voting import audit, meetings, surveys
from app.voting.models import Ballot, LabChallenge, LabIdea, LabPledge, Meeting, Round, Voter
from app.voting.survey_kind import _catalogue, _languages

# A meeting's Lab is a room's work: a few dozen challenges at most, a few hundred ideas. The
# bounds stop a script from filling the queue, not a busy room.
MAX_CHALLENGES = 50
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


def _text(raw: object, limit: int, *, multiline: bool = False) -> str:
    """A text field cleaned (inputs.clean_text) and trimmed; its length is checked by callers.
    Read no further than a little past the limit: enough to say it is too long."""
    value = raw if isinstance(raw, str) else ""
    return clean_text(value[: limit * 2 + 16], multiline=multiline).strip()


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
    body = _text(text, IDEA_TEXT_MAX)
    if not body:
        problems.append((prefix + "text", BadInput(N_("Write your idea."))))
    elif len(body) > IDEA_TEXT_MAX:
        problems.append(
            (
                prefix + "text",
                BadInput(N_("Keep the idea to %(n)s characters or fewer."), n=IDEA_TEXT_MAX),
            )
        )
    more = _text(description, IDEA_DESCRIPTION_MAX, multiline=True)
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


def parse_challenge(title: object, title_cy: object = "") -> tuple[str, str | None]:
    """A challenge's English and (optional) Welsh title, checked.

    Raises:
        InvalidForm: no title, or a title longer than CHALLENGE_MAX (field ids challenge-title,
            challenge-title-cy).
    """
    problems: list[tuple[str, CovoteError]] = []
    english = _text(title, CHALLENGE_MAX)
    welsh = _text(title_cy, CHALLENGE_MAX)
    too_long = N_("Keep a challenge to %(n)s characters or fewer.")
    if not english:
        problems.append(("challenge-title", BadInput(N_("Write the challenge."))))
    elif len(english) > CHALLENGE_MAX:
        problems.append(("challenge-title", BadInput(too_long, n=CHALLENGE_MAX)))
    if len(welsh) > CHALLENGE_MAX:
        problems.append(("challenge-title-cy", BadInput(too_long, n=CHALLENGE_MAX)))
    if problems:
        raise InvalidForm(problems)
    return english, welsh or None


# --- challenges ---------------------------------------------------------------------------------


def challenges_of(session: Session, meeting_id: int) -> list[LabChallenge]:
    """The meeting's challenges in their order."""
    q = (
        select(LabChallenge)
        .where(col(LabChallenge.meeting_id) == meeting_id)
        .order_by(col(LabChallenge.position), col(LabChallenge.id))
    )
    return list(session.exec(q))


def _challenge(session: Session, meeting_id: int, key: str) -> LabChallenge:
    q = select(LabChallenge).where(
        col(LabChallenge.meeting_id) == meeting_id, col(LabChallenge.key) == key
    )
    found = session.exec(q).first()
    if found is None:
        raise NotFound(N_("This meeting has no such challenge (removed?)."))
    return found


def add_challenge(
    session: Session, meeting: Meeting, title: str, title_cy: str | None = None
) -> LabChallenge:
    """Add a checked challenge (`parse_challenge`) after the others.

    Raises:
        Conflict: the meeting is archived or has MAX_CHALLENGES already.
    """
    assert meeting.id is not None
    meetings.require_active(meeting)
    existing = challenges_of(session, meeting.id)
    if len(existing) >= MAX_CHALLENGES:
        raise Conflict(N_("A Lab has at most %(n)s challenges."), n=MAX_CHALLENGES)
    taken = {c.key for c in existing}
    number = len(existing) + 1
    while f"c{number}" in taken:
        number += 1
    row = LabChallenge(
        meeting_id=meeting.id,
        key=f"c{number}",
        title=title,
        title_cy=title_cy,
        position=max((c.position for c in existing), default=0) + 1,
    )
    session.add(row)
    session.flush()
    return row


def edit_challenge(
    session: Session, meeting: Meeting, key: str, title: str, title_cy: str | None
) -> LabChallenge:
    """Change a challenge's titles (checked by `parse_challenge`). Raises NotFound."""
    assert meeting.id is not None
    meetings.require_active(meeting)
    row = _challenge(session, meeting.id, key)
    row.title, row.title_cy = title, title_cy
    session.add(row)
    return row


def remove_challenge(session: Session, meeting: Meeting, key: str) -> None:
    """Remove a challenge that has no ideas.

    Raises:
        NotFound: no such challenge.  Conflict: it has ideas (hide them, or keep it).
    """
    assert meeting.id is not None
    meetings.require_active(meeting)
    row = _challenge(session, meeting.id, key)
    q = select(func.count()).select_from(LabIdea).where(col(LabIdea.challenge_id) == row.id)
    if session.execute(q).scalar_one():
        raise Conflict(N_("This challenge has ideas: it cannot be removed."))
    session.delete(row)


# A challenge made from a survey's focus list, by why the service is on it (the first reason).
FOCUS_CHALLENGES: Mapping[str, str] = {
    survey_tally.HIGH_NEED_LOW_SATISFACTION: N_(
        "How could %(service)s meet people's needs better?"
    ),
    survey_tally.LOW_VALUE: N_("How could %(service)s cost less or be run differently?"),
}


def challenges_from_focus(
    session: Session, meeting: Meeting, focus: Sequence[survey_tally.Focus]
) -> list[LabChallenge]:
    """A challenge for each service on a survey's focus list, worded by why it is there, in
    English and Welsh (around the service's Welsh title, when it has one); a challenge the
    meeting already has is not added again.

    Raises:
        BadInput: the list is empty.  Conflict: as `add_challenge`.
    """
    assert meeting.id is not None
    survey = surveys.survey_of(session, meeting.id)
    by_key = {s.key: s for s in (survey.services if survey else ())}
    chosen = [(by_key[f.service], f.reasons) for f in focus if f.service in by_key and f.reasons]
    if not chosen:
        raise BadInput(N_("The focus list is empty: no service to make a proposal of."))
    have = {c.title for c in challenges_of(session, meeting.id)}
    made = []
    for service, reasons in chosen:
        wording = FOCUS_CHALLENGES.get(reasons[0], FOCUS_CHALLENGES[survey_tally.LOW_VALUE])
        title = (wording % {"service": service.title})[:CHALLENGE_MAX]
        welsh_name = service.translations.get("cy", {}).get("title", "").strip() or service.title
        welsh = (_catalogue("cy").gettext(wording) % {"service": welsh_name})[:CHALLENGE_MAX]
        if title not in have:
            made.append(add_challenge(session, meeting, title, welsh))
            have.add(title)
    return made


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
    challenge = _challenge(session, meeting.id, draft.challenge)
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
    join_open_round(session, meeting, [r.key for r in rows])
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


def _moderated(session: Session, meeting: Meeting, key: str) -> LabIdea:
    assert meeting.id is not None
    meetings.require_active(meeting)
    row = idea(session, meeting.id, key)
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
    row = _moderated(session, meeting, key)
    row.status = status.value
    session.add(row)
    assert meeting.id is not None
    audit.record(session, meeting.id, _STATUS_LINKS[status], {"idea": row.key})
    if status == IdeaStatus.APPROVED:
        join_open_round(session, meeting, [row.key])
    else:
        leave_open_round(session, meeting, row.key)
    return row


# The audit link of each status `set_status` sets.
_STATUS_LINKS: Mapping[IdeaStatus, str] = {
    IdeaStatus.APPROVED: "lab.approved",
    IdeaStatus.HIDDEN: "lab.hidden",
    IdeaStatus.PENDING: "lab.restored",
}


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


def edit_idea(session: Session, meeting: Meeting, key: str, text: object) -> LabIdea:
    """Correct an idea's text (spelling): the same bounds as when it was sent.

    Raises:
        InvalidForm: empty or too long (field `edit-text`).  Conflict: the idea was merged.
    """
    row = _moderated(session, meeting, key)
    body = _text(text, IDEA_TEXT_MAX)
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
    its ratings count for the target when results are read (`resolved`). Returns the target.

    Raises:
        BadInput: an idea into itself.  Conflict: either idea was merged already, or the
            target is hidden.
        NotFound: no such idea.
    """
    if source_key == target_key:
        raise BadInput(N_("An idea cannot be merged into itself."))
    source = _moderated(session, meeting, source_key)
    target = _moderated(session, meeting, target_key)
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
    leave_open_round(session, meeting, source.key)
    source.status = IdeaStatus.MERGED.value
    source.merged_into = target.id
    session.add(source)
    assert meeting.id is not None
    audit.record(session, meeting.id, "lab.merged", {"idea": source.key, "into": target.key})
    session.flush()
    return target


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


HOURS_FIELD = "hours"


def parse_hours(raw: object, field: str = HOURS_FIELD) -> int | None:
    """The hours a month a helper offers, as typed: "" for not said (None), else a whole
    number 0..lab_pledges.HOURS_MAX (the survey's bound).

    Raises:
        InvalidForm: anything else (field `field`).
    """
    text = raw.strip()[:16] if isinstance(raw, str) else ""
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or int(text) > lab_pledges.HOURS_MAX:
        problem = BadInput(
            N_("Hours a month are a whole number from 0 to %(max)s."), max=lab_pledges.HOURS_MAX
        )
        raise InvalidForm([(field, problem)])
    return int(text)


def _pledge_row(session: Session, idea_row: LabIdea, voter: Voter) -> LabPledge | None:
    q = select(LabPledge).where(
        col(LabPledge.idea_id) == idea_row.id, col(LabPledge.voter_id) == voter.id
    )
    return session.exec(q).first()


def pledge(session: Session, idea_row: LabIdea, voter: Voter, hours: int | None = None) -> None:
    """A voter would help make an approved idea happen, offering `hours` a month (None: not
    said): once per idea, a second pledge changes the hours.

    Raises:
        Conflict: the idea is not approved (waiting, hidden or merged), or the voter's ticket
            was revoked.
        BadInput: hours outside 0..HOURS_MAX (callers check with `parse_hours`).
    """
    assert idea_row.id is not None and voter.id is not None
    if voter.disabled:
        raise Conflict(N_("This ticket was revoked; ask the facilitator."))
    if idea_row.status != IdeaStatus.APPROVED:
        raise Conflict(N_("Only an approved idea takes pledges."))
    if hours is not None and not 0 <= hours <= lab_pledges.HOURS_MAX:
        raise BadInput(
            N_("Hours a month are a whole number from 0 to %(max)s."), max=lab_pledges.HOURS_MAX
        )
    row = _pledge_row(session, idea_row, voter) or LabPledge(idea_id=idea_row.id, voter_id=voter.id)
    row.hours = hours
    session.add(row)
    session.flush()


def withdraw(session: Session, idea_row: LabIdea, voter: Voter) -> bool:
    """Take back a voter's pledge on an idea; False when there was none."""
    row = _pledge_row(session, idea_row, voter)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def pledges_by(session: Session, meeting_id: int, voter_id: int) -> dict[str, int | None]:
    """One voter's pledges in a meeting: idea key -> the hours offered (None: not said), for
    their own phone only."""
    q = (
        select(LabIdea.key, LabPledge.hours)
        .join(LabIdea, col(LabIdea.id) == col(LabPledge.idea_id))
        .where(col(LabIdea.meeting_id) == meeting_id, col(LabPledge.voter_id) == voter_id)
    )
    return {str(k): h for k, h in session.execute(q).all()}


def pledge_summaries(session: Session, meeting: Meeting) -> dict[str, lab_pledges.PledgeSummary]:
    """Each idea's pledges summed up (idea key -> summary; ideas without pledges are left
    out): counts by the helpers' segments, hours in all, every count under the meeting's m
    suppressed (app/rules/lab_pledges.py). No voter leaves this function."""
    assert meeting.id is not None
    q = (
        select(LabIdea.key, Voter.segments, LabPledge.hours)
        .join(LabIdea, col(LabIdea.id) == col(LabPledge.idea_id))
        .join(Voter, col(Voter.id) == col(LabPledge.voter_id))
        .where(col(LabIdea.meeting_id) == meeting.id)
    )
    by_idea: dict[str, list[lab_pledges.Pledge]] = {}
    for key, segs, hours in session.execute(q).all():
        by_idea.setdefault(str(key), []).append(lab_pledges.Pledge(frozenset(segs or ()), hours))
    order = [s.key for s in meetings.segments_of(session, meeting.id)]
    return {k: lab_pledges.summarise(ps, order, meeting.group_min) for k, ps in by_idea.items()}


def segment_labels(session: Session, meeting_id: int, lang: str) -> dict[str, str]:
    """The meeting's segment names in `lang` (its own label where no translation is given)."""
    return {
        s.key: ((s.translations or {}).get(lang, {}).get("label", "").strip() or s.label)
        for s in meetings.segments_of(session, meeting_id)
    }


def describe_pledges(
    session: Session, meeting_id: int, summary: lab_pledges.PledgeSummary, lang: str
) -> str:
    """A pledge summary in words in `lang` (lab_pledges.describe with the segments' names)."""
    labels = segment_labels(session, meeting_id, lang)
    return lab_pledges.describe(summary, labels, _catalogue(lang).gettext)


# --- affected segments, shortlist, proposals -------------------------------------------------

# The reason for shortlisting an idea its affected segments rejected: recorded in the audit
# chain, so a sentence or two.
REASON_MAX = 500
# A proposal's title is a projector line (records.MAX_TITLE); a longer idea is cut there and
# given whole in the proposal's description.
ELLIPSIS = "…"


def set_affected(session: Session, meeting: Meeting, key: str, segments: Sequence[str]) -> LabIdea:
    """The meeting's segments an idea affects (those that may reject it).

    Raises:
        BadInput: a segment the meeting does not have.  Conflict: the idea was merged.
    """
    assert meeting.id is not None
    known = [s.key for s in meetings.segments_of(session, meeting.id)]
    unknown = [s for s in segments if s not in known]
    if unknown:
        raise BadInput(N_("The meeting has no segment %(key)s."), key=unknown[0][:64])
    row = _moderated(session, meeting, key)
    row.affected = [k for k in known if k in segments]  # the meeting's order, once each
    session.add(row)
    # Who may reject an idea decides its outcome (`rejected_by`): that is an audited change.
    audit.record(session, meeting.id, "lab.affected", {"idea": row.key, "segments": row.affected})
    return row


def shortlist(
    session: Session,
    meeting: Meeting,
    chosen: Mapping[str, str],
    rejected: Mapping[str, Sequence[str]],
) -> list[LabIdea]:
    """Shortlist approved ideas (`chosen`: key -> the facilitator's reason, "" for none), in
    place of the meeting's earlier shortlist. An idea its affected segments rejected
    (`rejected`: key -> segments, from the Lab's results) needs a reason: written with the
    segments to the audit chain (`lab.shortlisted`, no voter named).

    Raises:
        InvalidForm: a rejected idea without a reason, or a reason over REASON_MAX (field
            `reason-KEY`).  Conflict: an idea is not approved.  NotFound: no such idea.
    """
    assert meeting.id is not None
    meetings.require_active(meeting)
    problems: list[tuple[str, CovoteError]] = []
    picked: list[tuple[LabIdea, str | None]] = []
    for key, raw in chosen.items():
        row = idea(session, meeting.id, key)
        if row.status != IdeaStatus.APPROVED:
            raise Conflict(N_("Only an approved idea can be shortlisted."))
        reason = _text(raw, REASON_MAX)
        against = tuple(rejected.get(key, ()))
        if against and not reason:
            problems.append(
                (
                    f"reason-{key}",
                    BadInput(
                        N_("“%(text)s” was rejected by a group it affects: give your reason."),
                        text=row.text[:80],
                    ),
                )
            )
        elif len(reason) > REASON_MAX:
            problems.append(
                (
                    f"reason-{key}",
                    BadInput(N_("Keep the reason to %(n)s characters."), n=REASON_MAX),
                )
            )
        picked.append((row, reason if against else None))
    if problems:
        raise InvalidForm(problems)
    for row in session.exec(select(LabIdea).where(col(LabIdea.meeting_id) == meeting.id)):
        if row.shortlisted and row.key not in chosen:
            row.shortlisted, row.shortlist_reason = False, None
            session.add(row)
    for row, why in picked:
        row.shortlisted, row.shortlist_reason = True, why
        session.add(row)
        if why is not None:
            audit.record(
                session,
                meeting.id,
                "lab.shortlisted",
                {"idea": row.key, "rejected_by": list(rejected[row.key]), "reason": why},
            )
    session.flush()
    return [row for row, _ in picked]


def _amount(value: int | float | None) -> int | float | None:
    """An amount as the meeting file takes it (records.Amount), checked here so a bad one is
    a clear BadInput, not the file's validation error."""
    if value is None:
        return None
    if value > records.MAX_AMOUNT or round(value * 100) != value * 100:
        raise BadInput(
            N_("A cost or saving is whole pence, at most %(max)s."), max=records.MAX_AMOUNT
        )
    return value


def _title(text: str) -> str:
    return text if len(text) <= records.MAX_TITLE else text[: records.MAX_TITLE - 1] + ELLIPSIS


def budget_from_shortlist(
    session: Session,
    meeting: Meeting,
    kinds: Mapping[str, str],
    amounts: Mapping[str, int | float] | None = None,
) -> Meeting:
    """A new budget meeting whose proposals are the shortlisted ideas (`kinds`: idea key ->
    "fund" or "keep", default "fund"; `amounts`: idea key -> its cost if funded, the saving
    if it is cut when kept, where given), with this meeting's segments, rule and set-up; each
    proposal's affected groups are the idea's, and its description the idea's with how many
    people would help make it happen (a count, never who). Costs and savings not given are
    for the facilitator to fill in on the new meeting's set-up page.

    Raises:
        BadInput: nothing is shortlisted, a kind is not fund or keep, or an amount is more
            than records.MAX_AMOUNT or not whole pence.
    """
    assert meeting.id is not None
    rows = [r for r in ideas_of(session, meeting.id, [IdeaStatus.APPROVED]) if r.idea.shortlisted]
    if not rows:
        raise BadInput(N_("Shortlist at least one idea first."))
    summaries = pledge_summaries(session, meeting)
    proposals = []
    for r in rows:
        kind = kinds.get(r.idea.key, "fund")
        if kind not in ("fund", "keep"):
            raise BadInput(N_("A proposal is to fund or to keep."))
        more = [r.idea.text] if len(r.idea.text) > records.MAX_TITLE else []
        more += [r.idea.description] if r.idea.description else []
        # The helpers' summary (counts, hours, by segment; lab_pledges) travels in the
        # description, in English and in each catalogue's language (the idea's own words stay
        # as typed).
        summary = summaries.get(r.idea.key, lab_pledges.EMPTY)
        texts = {
            lang: {
                "description": "\n\n".join(
                    [*more, describe_pledges(session, meeting.id, summary, lang)]
                )
            }
            for lang in _languages()
        }
        proposals.append(
            {
                "id": r.idea.key,
                "title": _title(r.idea.text),
                "description": "\n\n".join(
                    [*more, describe_pledges(session, meeting.id, summary, "en")]
                ),
                "kind": kind,
                "affected_groups": list(r.idea.affected),
                "translations": texts,
                ("cost" if kind == "fund" else "saving"): _amount((amounts or {}).get(r.idea.key)),
            }
        )
    data = meetings.meeting_file(session, meeting).model_dump()
    data.update(
        title=(meeting.title[: records.MAX_TITLE - 20] + ": Lab proposals"),
        proposals=proposals,
        tie_break=[],
        budget=None,
        savings_target=None,
    )
    data["translations"] = {}
    return meetings.create_meeting(
        session, records.MeetingFile.model_validate(data), origin={"from_lab_of": meeting.code}
    )
