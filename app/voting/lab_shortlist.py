"""From the Lab's results to a decision (issue 16): the segments each idea affects, the
facilitator's shortlist, and the budget meeting made of it.

Who may reject an idea decides its outcome, so `set_affected` is audited (`lab.affected`,
segment ids only); shortlisting an idea its affected segments rejected needs a reason, audited
with them (`lab.shortlisted`, no voter named). `budget_from_shortlist` makes a new meeting
whose proposals are the shortlisted ideas, each with how many would help (a count, never who).
Every function takes the caller's session and never commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlmodel import Session, col, select

from app.core.errors import BadInput, Conflict, CovoteError, InvalidForm
from app.core.inputs import read_text
from app.core.messages import N_
from app.record import records
from app.rules import lab_pledges
from app.rules.lab import IdeaStatus
from app.voting import audit, lab, meetings
from app.voting.lab_helping import describe_pledges, pledge_summaries
from app.voting.lab_moderation import moderated
from app.voting.models import LabIdea, Meeting
from app.voting.survey_kind import _languages

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
    row = moderated(session, meeting, key)
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
        row = lab.idea(session, meeting.id, key)
        if row.status != IdeaStatus.APPROVED:
            raise Conflict(N_("Only an approved idea can be shortlisted."))
        reason = read_text(raw, REASON_MAX)
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
    rows = [
        r for r in lab.ideas_of(session, meeting.id, [IdeaStatus.APPROVED]) if r.idea.shortlisted
    ]
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
