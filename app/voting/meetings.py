"""Meeting set-up: create, import/export, edit segments, proposals and rule parameters.

Contract: every function takes the caller's session and never commits (the caller owns the
unit of work, see db.transaction). Edits that would change the meaning of votes already cast
raise Conflict: the rule parameters, the budget (pot, currency, completion), the savings target
and "never protects" flags are fixed once voting has started, and a proposal that has been put
to a round keeps its kind, affected groups, cost and saving (`DECIDING`). Together these are
everything a round's outcome is computed from (app/voting/rounds.py), so a closed round's result,
its
results.json and the meeting export never change after the vote; titles, descriptions,
translations and segment labels stay editable (display only).
"""

from __future__ import annotations

import random
import secrets
import zoneinfo
from collections.abc import Mapping
from functools import cache
from types import EllipsisType

from pydantic import ValidationError
from sqlalchemy import bindparam, func
from sqlmodel import Session, col, select

from app.core.errors import BadInput, Conflict, NotFound
from app.core.localtime import DEFAULT_ZONE
from app.core.messages import N_
from app.core.vocab import admission
from app.record.records import (
    BudgetFile,
    MeetingFile,
    ProposalFile,
    RuleFile,
    SegmentFile,
    VotingFile,
    drop_unset_place,
)
from app.voting import audit
from app.voting.models import Ballot, Meeting, Proposal, Round, Segment, Voter

# No look-alikes (0/O, 1/I/L, 2/Z, 5/S, 8/B) so a code read off a projector is typed right first
# time: 25 symbols, 6 places = 2.4e8 codes.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 6


def normalise_code(code: str) -> str:
    return "".join(code.split()).upper()


def _new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.exec(select(Meeting.id).where(Meeting.code == code)).first() is None:
            return code


def get_meeting(session: Session, meeting_id: int) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound(f"There is no meeting {meeting_id}.")
    return meeting


# Built once: every page view, join and socket looks its meeting up by code, and building the
# SELECT cost more CPU than running it (~150 -> ~90 µs a lookup on SQLite).
_BY_CODE = select(Meeting).where(Meeting.code == bindparam("code"))


def meeting_by_code(session: Session, code: str) -> Meeting:
    code = normalise_code(code)
    meeting = session.exec(_BY_CODE, params={"code": code}).first()
    if meeting is None:
        raise NotFound(
            N_("No meeting has the code %(code)s. Check the code on the screen."), code=code
        )
    return meeting


def list_meetings(session: Session) -> list[Meeting]:
    return list(session.exec(select(Meeting).order_by(col(Meeting.id).desc())))


def segments_of(session: Session, meeting_id: int) -> list[Segment]:
    q = select(Segment).where(Segment.meeting_id == meeting_id).order_by(col(Segment.position))
    return list(session.exec(q))


def proposals_of(session: Session, meeting_id: int) -> list[Proposal]:
    q = select(Proposal).where(Proposal.meeting_id == meeting_id).order_by(col(Proposal.position))
    return list(session.exec(q))


@cache
def known_zones() -> frozenset[str]:
    """Every IANA time zone name the time zone database on this machine knows."""
    return frozenset(zoneinfo.available_timezones())


def check_zone(name: str) -> str:
    """`name` if it is a time zone this machine knows (validated with zoneinfo).

    Raises:
        BadInput: it is not one ("Europe/Lundun", "GMT+1").
    """
    if name not in known_zones():
        raise BadInput(
            N_("Unknown time zone %(zone)s: use an IANA name such as Europe/London."),
            zone=name[:64],
        )
    return name


@cache
def zone_named(name: str | None) -> zoneinfo.ZoneInfo:
    """The time zone called `name` (None, or one this machine does not know: Europe/London)."""
    if name is None or name not in known_zones():
        return zoneinfo.ZoneInfo(DEFAULT_ZONE)
    return zoneinfo.ZoneInfo(name)


def zone_of(meeting: Meeting) -> zoneinfo.ZoneInfo:
    """The zone every time of this meeting is shown in to people (NULL: Europe/London)."""
    return zone_named(meeting.time_zone)


def create_meeting(
    session: Session,
    mf: MeetingFile,
    *,
    rng: random.Random | None = None,
    origin: Mapping[str, str] | None = None,
) -> Meeting:
    """Store a validated meeting file; draws the tie-break order unless the file brings one.

    The meeting's audit chain starts with `meeting.created`: the meeting file as stored, plus
    `origin` (e.g. `{"duplicated_from": CODE}`; it must name no person)."""
    keys = [p.id for p in mf.proposals]
    if "tie_break" in mf.model_fields_set and mf.tie_break:
        tie_break = list(mf.tie_break)
    else:
        tie_break = keys[:]
        (rng or random.SystemRandom()).shuffle(tie_break)
    meeting = Meeting(
        code=_new_code(session),
        title=mf.title,
        ratio=mf.rule.ratio,
        group_min=mf.rule.group_min,
        results_hidden=mf.results_hidden,
        tie_break=tie_break,
        translations=mf.translations or None,
        admission=mf.voting.admission,
        channel_policy=mf.voting.channel_policy,
        show_channels=mf.voting.show_channels,
        time_zone=None if mf.time_zone == DEFAULT_ZONE else check_zone(mf.time_zone),
        venue=mf.venue or None,
        chair=mf.chair or None,
    )
    _set_budget(meeting, mf.budget)
    meeting.savings_target = mf.savings_target
    session.add(meeting)
    session.flush()
    assert meeting.id is not None
    for i, s in enumerate(mf.segments):
        session.add(
            Segment(
                meeting_id=meeting.id,
                key=s.id,
                label=s.label,
                protects=s.protects,
                position=i,
                translations=s.translations or None,
            )
        )
    for i, p in enumerate(mf.proposals):
        session.add(_proposal_row(meeting.id, p, i))
    session.flush()
    created = drop_unset_place(meeting_file(session, meeting).model_dump(mode="json"))
    audit.record(session, meeting.id, "meeting.created", {**created, **(origin or {})})
    return meeting


def _proposal_row(meeting_id: int, p: ProposalFile, position: int) -> Proposal:
    return Proposal(
        meeting_id=meeting_id,
        key=p.id,
        title=p.title,
        description=p.description,
        kind=p.kind,
        cost=p.cost,
        saving=p.saving,
        affected_groups=list(p.affected_groups),
        position=position,
        translations=p.translations or None,
    )


def _whole(x: float) -> int | float:
    """300000.0 -> 300000: amounts come back from a float column; the file shows them as typed."""
    return int(x) if float(x).is_integer() else x


def budget_of(meeting: Meeting) -> BudgetFile | None:
    """The meeting's budget, or None if it has no pot."""
    if meeting.budget_pot is None:
        return None
    return BudgetFile(
        pot=_whole(meeting.budget_pot),
        currency=meeting.budget_currency or "GBP",
        completion=meeting.budget_completion or "add1",
    )


def savings_target_of(meeting: Meeting) -> int | float | None:
    return None if meeting.savings_target is None else _whole(meeting.savings_target)


def _set_budget(meeting: Meeting, budget: BudgetFile | None) -> None:
    meeting.budget_pot = None if budget is None else float(budget.pot)
    meeting.budget_currency = None if budget is None else budget.currency
    meeting.budget_completion = None if budget is None else budget.completion


def meeting_file(session: Session, meeting: Meeting) -> MeetingFile:
    assert meeting.id is not None
    return MeetingFile(
        title=meeting.title,
        rule=RuleFile(ratio=meeting.ratio, group_min=meeting.group_min),
        budget=budget_of(meeting),
        savings_target=savings_target_of(meeting),
        segments=[
            SegmentFile(
                id=s.key, label=s.label, protects=s.protects, translations=s.translations or {}
            )
            for s in segments_of(session, meeting.id)
        ],
        proposals=[proposal_file(p) for p in proposals_of(session, meeting.id)],
        tie_break=list(meeting.tie_break),
        results_hidden=meeting.results_hidden,
        voting=voting_of(meeting),
        translations=meeting.translations or {},
        time_zone=meeting.time_zone or DEFAULT_ZONE,
        venue=meeting.venue or "",
        chair=meeting.chair or "",
    )


def voting_of(meeting: Meeting) -> VotingFile:
    """The meeting's admission mode and channel policy (NULL columns read as the defaults)."""
    return VotingFile(
        admission=admission(meeting.admission).value,
        channel_policy=meeting.policy.value,
        show_channels=bool(meeting.show_channels),
    )


def proposal_file(p: Proposal) -> ProposalFile:
    return ProposalFile(
        id=p.key,
        title=p.title,
        description=p.description,
        kind=p.kind,
        affected_groups=list(p.affected_groups),
        cost=p.cost,
        saving=p.saving,
        translations=p.translations or {},
    )


def voting_started(session: Session, meeting_id: int) -> bool:
    q = (
        select(func.count())
        .select_from(Ballot)
        .join(Round, col(Round.id) == col(Ballot.round_id))
        .where(Round.meeting_id == meeting_id)
    )
    return session.exec(q).one() > 0


# An archived meeting is read-only (app/voting/lifecycle.py): the facilitator is told how to
# change it again; attendees (joins, ballots) that the meeting has ended.
ARCHIVED = N_("“%(title)s” is archived: it can be exported but not changed. Unarchive it first.")
ENDED = N_("This meeting has ended and is archived; it no longer takes votes.")


def require_active(meeting: Meeting) -> None:
    """Refuse a change to an archived meeting.

    Raises:
        Conflict: the meeting is archived.
    """
    if meeting.archived_at is not None:
        raise Conflict(ARCHIVED, title=meeting.title)


def _touch(meeting: Meeting) -> None:
    """Every set-up change passes here: refused for an archived meeting (the caller's
    transaction then rolls back whatever the change had done), else the revision is bumped."""
    require_active(meeting)
    meeting.revision += 1


def update_settings(
    session: Session,
    meeting: Meeting,
    *,
    title: str,
    ratio: int,
    group_min: int,
    results_hidden: bool,
    budget: BudgetFile | EllipsisType | None = ...,
    savings_target: int | float | EllipsisType | None = ...,
    voting: VotingFile | EllipsisType = ...,
    expected_attendance: int | EllipsisType | None = ...,
    title_cy: str | EllipsisType = ...,
    time_zone: str | EllipsisType = ...,
    venue: str | EllipsisType = ...,
    chair: str | EllipsisType = ...,
) -> None:
    """Change the title (and, unless `...`, its Welsh: empty = none), rule, visibility and
    (unless `...`: unchanged) budget, target, voting (admission, channel policy, per-channel
    turnout on the projector) and expected attendance (None: not given). The expected
    attendance only feeds the help beside R and m, not the count, so it may change after
    voting started and is not part of the meeting file.
    The time zone, venue and chair ("": not given) are for the record read by people and may
    change at any time.

    Raises:
        BadInput: an invalid value (e.g. a negative savings target).
        Conflict: the rule, budget, savings target, admission or channel policy would change
            after voting started.
    """
    try:
        rule = RuleFile(ratio=ratio, group_min=group_min)
        checked = MeetingFile(
            title=title,
            rule=rule,
            segments=[],
            proposals=[],
            savings_target=savings_of_arg(meeting, savings_target),
            time_zone=meeting.time_zone or DEFAULT_ZONE
            if isinstance(time_zone, EllipsisType)
            else time_zone,
            venue=(meeting.venue or "") if isinstance(venue, EllipsisType) else venue,
            chair=(meeting.chair or "") if isinstance(chair, EllipsisType) else chair,
            translations=meeting.translations
            if isinstance(title_cy, EllipsisType)
            else _with_welsh_title(meeting.translations, title_cy),
        )
    except ValidationError as e:
        raise BadInput(describe_validation(e)) from None
    assert meeting.id is not None
    new_budget = budget_of(meeting) if isinstance(budget, EllipsisType) else budget
    changed_rule = (rule.ratio, rule.group_min) != (meeting.ratio, meeting.group_min)
    changed_money = (new_budget, checked.savings_target) != (
        budget_of(meeting),
        savings_target_of(meeting),
    )
    new_voting = voting_of(meeting) if isinstance(voting, EllipsisType) else voting
    old_voting = voting_of(meeting)
    changed_who = (new_voting.admission, new_voting.channel_policy) != (
        old_voting.admission,
        old_voting.channel_policy,
    )
    if (changed_rule or changed_money or changed_who) and voting_started(session, meeting.id):
        raise Conflict(
            "The rule (R and m) is fixed once voting has started."
            if changed_rule
            else "The budget and the savings target are fixed once voting has started."
            if changed_money
            else "Admission and the channel policy are fixed once voting has started."
        )
    meeting.title, meeting.ratio, meeting.group_min = checked.title, rule.ratio, rule.group_min
    meeting.translations = checked.translations or None
    meeting.results_hidden = results_hidden
    _set_budget(meeting, new_budget)
    meeting.savings_target = checked.savings_target
    meeting.admission = new_voting.admission
    meeting.channel_policy = new_voting.channel_policy
    meeting.show_channels = new_voting.show_channels
    if not isinstance(expected_attendance, EllipsisType):
        meeting.expected_attendance = expected_attendance
    zone = check_zone(checked.time_zone)
    meeting.time_zone = None if zone == DEFAULT_ZONE else zone
    meeting.venue, meeting.chair = checked.venue or None, checked.chair or None
    _touch(meeting)
    session.add(meeting)
    settings = meeting_file(session, meeting).model_dump(
        mode="json",
        include={"title", "rule", "budget", "savings_target", "results_hidden", "voting"},
    )
    if meeting.translations:
        settings["translations"] = meeting.translations
    audit.record(session, meeting.id, "meeting.settings", settings)


def _with_welsh_title(
    translations: dict[str, dict[str, str]] | None, title_cy: str
) -> dict[str, dict[str, str]]:
    """The meeting's translations with its Welsh title replaced (other texts kept as they are;
    the meeting file's checks drop an empty one)."""
    out = {loc: dict(texts) for loc, texts in (translations or {}).items()}
    out.setdefault("cy", {})["title"] = title_cy
    return out


def savings_of_arg(
    meeting: Meeting, savings_target: int | float | EllipsisType | None
) -> int | float | None:
    """`update_settings`' target: the meeting's own when the caller passed `...`."""
    if isinstance(savings_target, EllipsisType):
        return savings_target_of(meeting)
    return savings_target


def save_segment(
    session: Session, meeting: Meeting, *, key: str, label: str, protects: bool
) -> Segment:
    """Add a segment, or change the label/flag of an existing one with the same id."""
    try:
        sf = SegmentFile(id=key, label=label, protects=protects)
    except ValidationError as e:
        raise BadInput(describe_validation(e)) from None
    assert meeting.id is not None
    existing = session.exec(
        select(Segment).where(Segment.meeting_id == meeting.id, Segment.key == sf.id)
    ).first()
    if existing is None:
        position = len(segments_of(session, meeting.id))
        existing = Segment(meeting_id=meeting.id, key=sf.id, label=sf.label, position=position)
    elif existing.protects != sf.protects and voting_started(session, meeting.id):
        raise Conflict(f"'Never protects' for {sf.label!r} is fixed once voting has started.")
    existing.label, existing.protects = sf.label, sf.protects
    session.add(existing)
    _touch(meeting)
    audit.record(
        session,
        meeting.id,
        "segment.saved",
        {"id": sf.id, "label": sf.label, "protects": sf.protects},
    )
    return existing


def delete_segment(session: Session, meeting: Meeting, key: str) -> None:
    assert meeting.id is not None
    seg = session.exec(
        select(Segment).where(Segment.meeting_id == meeting.id, Segment.key == key)
    ).first()
    if seg is None:
        raise NotFound(f"There is no segment {key!r}.")
    if any(key in p.affected_groups for p in proposals_of(session, meeting.id)):
        raise Conflict(f"{seg.label!r} is an affected group of a proposal; remove it there first.")
    voters = session.exec(select(Voter.segments).where(Voter.meeting_id == meeting.id))
    if any(key in segs for segs in voters):
        raise Conflict(f"Attendees have declared {seg.label!r}; it can no longer be removed.")
    session.delete(seg)
    _touch(meeting)
    audit.record(session, meeting.id, "segment.deleted", {"id": key})


# A proposal's fields that decide a round's outcome (app/voting/rounds.py `_counted` and `_money`).
DECIDING = ("kind", "affected_groups", "cost", "saving")


def _used_in_round(session: Session, meeting_id: int, key: str) -> bool:
    rounds = session.exec(select(Round.proposal_keys).where(Round.meeting_id == meeting_id))
    return any(key in keys for keys in rounds)


def save_proposal(
    session: Session, meeting: Meeting, pf: ProposalFile, *, rng: random.Random | None = None
) -> Proposal:
    """Add a proposal, or edit the one with the same id."""
    assert meeting.id is not None
    known = {s.key for s in segments_of(session, meeting.id)}
    unknown = [g for g in pf.affected_groups if g not in known]
    if unknown:
        raise BadInput(f"Unknown affected group(s): {', '.join(unknown)}. Add the segment first.")
    row = session.exec(
        select(Proposal).where(Proposal.meeting_id == meeting.id, Proposal.key == pf.id)
    ).first()
    if row is None:
        row = _proposal_row(meeting.id, pf, len(proposals_of(session, meeting.id)))
        # A proposal added later gets a random place in the drawn order, still before any vote.
        order = list(meeting.tie_break)
        order.insert((rng or random.SystemRandom()).randint(0, len(order)), pf.id)
        meeting.tie_break = order
    else:
        before = proposal_file(row)
        locked = any(getattr(before, name) != getattr(pf, name) for name in DECIDING)
        if locked and _used_in_round(session, meeting.id, pf.id):
            raise Conflict(
                f"{row.title!r} has been put to a vote: its kind, affected groups, cost and "
                "saving are fixed, because they decided that round's result. To vote on "
                "different figures, add a new proposal."
            )
        row.title, row.description, row.kind = pf.title, pf.description, pf.kind
        row.cost, row.saving, row.affected_groups = pf.cost, pf.saving, list(pf.affected_groups)
        if "translations" in pf.model_fields_set:  # the console's form leaves them as they are
            row.translations = pf.translations or None
    session.add(row)
    _touch(meeting)
    session.add(meeting)
    audit.record(session, meeting.id, "proposal.saved", proposal_file(row).model_dump(mode="json"))
    return row


def delete_proposal(session: Session, meeting: Meeting, key: str) -> None:
    assert meeting.id is not None
    row = session.exec(
        select(Proposal).where(Proposal.meeting_id == meeting.id, Proposal.key == key)
    ).first()
    if row is None:
        raise NotFound(f"There is no proposal {key!r}.")
    if _used_in_round(session, meeting.id, key):
        raise Conflict(f"{row.title!r} has been put to a vote and is part of the record.")
    session.delete(row)
    meeting.tie_break = [k for k in meeting.tie_break if k != key]
    _touch(meeting)
    session.add(meeting)
    audit.record(session, meeting.id, "proposal.deleted", {"id": key})


def import_proposals(session: Session, meeting: Meeting, proposals: list[ProposalFile]) -> int:
    """Add or update proposals from a CSV import; returns how many were saved."""
    for pf in proposals:
        save_proposal(session, meeting, pf)
    return len(proposals)


def describe_validation(e: ValidationError) -> str:
    err = e.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else str(err["msg"])
