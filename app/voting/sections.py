"""Set-up by section: all of a meeting's segments, or all of its proposals, saved at once.

The console's set-up page has one form per section (issue 13: the meeting; its segments; its
proposals). Each form is one POST, and these services save everything in it on the caller's
session, validated as a whole: they either change everything the form asks or raise
`InvalidForm` listing every problem with the field it concerns, having changed nothing the
caller's transaction will keep (the caller rolls back on the exception, as db.transaction does).

A row of a section is what the page drew (`was`: the id it had then; "" for a blank row) and what
the facilitator typed. An empty id is made from the label (`inputs.slug`), unique in the
meeting. Renaming an id is refused once it is part of the record: a segment's once voting has
started or an attendee has declared it, a proposal's once it has been put to a round; before
that, the proposals' affected groups and the tie-break order follow the new id. Welsh texts are
stored in the rows' `translations` {"cy": {...}}; an empty Welsh field means no translation.
The rules of the per-item services (app/voting/meetings.py) hold here too: "never protects" and
a voted proposal's deciding fields are fixed, as is removing what the record refers to.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlmodel import Session, select

from app.core.errors import BadInput, Conflict, CovoteError, InvalidForm
from app.core.inputs import amount_text, slug
from app.core.messages import N_, Said, said
from app.record.records import MAX_ID, ProposalFile, SegmentFile, describe_error
from app.voting import audit
from app.voting.meetings import (
    DECIDING,
    _touch,
    _used_in_round,
    proposal_file,
    proposals_of,
    segments_of,
    voting_started,
)
from app.voting.models import Meeting, Proposal, Segment, Voter

WELSH = "cy"  # the second language set-up has fields for (the catalogues: app/translations)


@dataclass
class SegmentRow:
    """One row of the segments table as posted; `prefix` starts its inputs' ids."""

    prefix: str
    was: str = ""
    key: str = ""
    label: str = ""
    label_cy: str = ""
    protects: bool = True
    remove: bool = False

    @property
    def blank(self) -> bool:
        return not self.was and not (self.key or self.label or self.label_cy)


@dataclass
class ProposalRow:
    """One proposal's fieldset as posted (amounts as typed); `prefix` starts its inputs' ids."""

    prefix: str
    was: str = ""
    key: str = ""
    title: str = ""
    title_cy: str = ""
    description: str = ""
    description_cy: str = ""
    kind: str = "keep"
    saving: str = ""
    cost: str = ""
    groups: list[str] = field(default_factory=list)
    remove: bool = False

    @property
    def blank(self) -> bool:
        typed = (self.key, self.title, self.title_cy, self.description, self.description_cy)
        return not self.was and not any(typed) and not (self.saving or self.cost or self.groups)


class _Problems:
    """Collects a section's problems; `check` runs one step and keeps its error, if any."""

    def __init__(self) -> None:
        self.found: list[tuple[str, CovoteError]] = []

    def add(self, where: str, error: CovoteError) -> None:
        self.found.append((where, error))

    def raise_if_any(self) -> None:
        if self.found:
            raise InvalidForm(self.found)


def _cy(**texts: str) -> dict[str, dict[str, str]]:
    """The Welsh texts typed, as a `translations` value (empty: none)."""
    kept = {name: text for name, text in texts.items() if text.strip()}
    return {WELSH: kept} if kept else {}


def _merged(
    old: Mapping[str, Mapping[str, str]] | None, new: Mapping[str, Mapping[str, str]]
) -> dict[str, dict[str, str]] | None:
    """`old` with its Welsh replaced by `new`'s (other languages, from a meeting file, kept)."""
    out = {loc: dict(texts) for loc, texts in (old or {}).items() if loc != WELSH}
    out.update({loc: dict(texts) for loc, texts in new.items()})
    return out or None


def _pydantic(
    problems: _Problems, e: ValidationError, fields: Mapping[str, str], default: str
) -> None:
    """Each of a validation error's problems, next to the input its first location names."""
    for err in e.errors():
        name = str(err["loc"][0]) if err["loc"] else ""
        problems.add(fields.get(name, default), BadInput(describe_error(err)))


def _fresh_id(label: str, taken: set[str], fallback: str) -> str:
    made = slug(label, taken, limit=MAX_ID, fallback=fallback)
    taken.add(made)
    return made


def _place_ids(
    rows: Sequence[SegmentRow | ProposalRow], fixed: set[str], fallback: str, problems: _Problems
) -> None:
    """Give every row without an id one from its text; refuse an id two rows share."""
    taken = set(fixed)
    seen: set[str] = set()
    for row in rows:
        if row.key:
            if row.key in fixed:
                problems.add(
                    f"{row.prefix}-key",
                    BadInput(N_("The id “%(id)s” is already used; ids must differ."), id=row.key),
                )
            elif row.key in seen:
                problems.add(
                    f"{row.prefix}-key",
                    BadInput(N_("Two rows have the id “%(id)s”; ids must differ."), id=row.key),
                )
            seen.add(row.key)
    taken |= seen
    for row in rows:
        if not row.key:
            text = row.label if isinstance(row, SegmentRow) else row.title
            row.key = _fresh_id(text, taken, fallback)


# --- segments ---------------------------------------------------------------------------------


def save_segments(session: Session, meeting: Meeting, rows: list[SegmentRow]) -> Said:
    """Save the segments table: change, rename, add (blank rows are skipped) and remove (rows
    ticked `remove`) in one go; segments the page did not show are kept as they are. Returns
    what was done, for the status message.

    Raises:
        InvalidForm: any problem (a label missing, an id taken twice, a rename or removal the
            record forbids, "never protects" changed after voting started).
    """
    assert meeting.id is not None
    problems = _Problems()
    existing = {s.key: s for s in segments_of(session, meeting.id)}
    started = voting_started(session, meeting.id)
    declared = {
        k
        for segs in session.exec(select(Voter.segments).where(Voter.meeting_id == meeting.id))
        for k in segs
    }
    used_by = {g: p.title for p in proposals_of(session, meeting.id) for g in p.affected_groups}
    rows = [r for r in rows if not r.blank]
    gone = [r for r in rows if r.remove and r.was]
    kept = [r for r in rows if not r.remove]
    for r in rows:
        if r.was and r.was not in existing:
            problems.add(
                f"{r.prefix}-label",
                BadInput(N_("The segment “%(id)s” no longer exists: reload the page."), id=r.was),
            )
    for r in gone:
        if r.was in used_by:
            problems.add(
                f"{r.prefix}-remove",
                Conflict(
                    N_("“%(label)s” is an affected group of “%(title)s”; untick it there first."),
                    label=r.label or r.was,
                    title=used_by[r.was],
                ),
            )
        elif r.was in declared:
            problems.add(
                f"{r.prefix}-remove",
                Conflict(
                    N_("Attendees have declared “%(label)s”; it can no longer be removed."),
                    label=r.label or r.was,
                ),
            )
    shown = {r.was for r in rows if r.was}
    others = {k for k in existing if k not in shown}
    _place_ids(kept, others, "group", problems)
    checked: list[tuple[SegmentRow, SegmentFile]] = []
    for r in kept:
        try:
            sf = SegmentFile(
                id=r.key, label=r.label, protects=r.protects, translations=_cy(label=r.label_cy)
            )
        except ValidationError as e:
            fields = {
                "id": f"{r.prefix}-key",
                "label": f"{r.prefix}-label",
                "translations": f"{r.prefix}-label_cy",
            }
            _pydantic(problems, e, fields, f"{r.prefix}-label")
            continue
        old = existing.get(r.was)
        if old is not None and r.key != r.was and (started or r.was in declared):
            problems.add(
                f"{r.prefix}-key",
                Conflict(
                    N_("The id of “%(label)s” cannot change once voting has started."),
                    label=old.label,
                ),
            )
        if old is not None and old.protects != sf.protects and started:
            problems.add(
                f"{r.prefix}-never",
                Conflict(
                    N_("“Never protects” for “%(label)s” is fixed once voting has started."),
                    label=old.label,
                ),
            )
        checked.append((r, sf))
    problems.raise_if_any()

    for r in gone:
        session.delete(existing[r.was])
        audit.record(session, meeting.id, "segment.deleted", {"id": r.was})
    session.flush()
    renamed = {r.was: sf.id for r, sf in checked if r.was and r.was != sf.id}
    if renamed:
        # Renames may swap ids: clear them first so the (meeting, key) constraint never sees two.
        for i, was in enumerate(renamed):
            existing[was].key = f";renaming-{i}"  # ";" is in no id (records.check_id)
            session.add(existing[was])
        session.flush()
        for p in proposals_of(session, meeting.id):
            if any(g in renamed for g in p.affected_groups):
                p.affected_groups = [renamed.get(g, g) for g in p.affected_groups]
                session.add(p)
    order = [sf.id for _, sf in checked] + sorted(others, key=lambda k: existing[k].position)
    for r, sf in checked:
        seg = existing.get(r.was) or Segment(meeting_id=meeting.id, key=sf.id, label=sf.label)
        seg.key, seg.label, seg.protects = sf.id, sf.label, sf.protects
        seg.translations = _merged(seg.translations, sf.translations)
        seg.position = order.index(sf.id)
        session.add(seg)
        data: dict[str, object] = {"id": sf.id, "label": sf.label, "protects": sf.protects}
        if sf.translations:
            data["translations"] = sf.translations
        if r.was and r.was != sf.id:
            data["was"] = r.was
        audit.record(session, meeting.id, "segment.saved", data)
    for k in others:
        existing[k].position = order.index(k)
        session.add(existing[k])
    _touch(meeting)
    session.add(meeting)
    return said(
        N_("Segments saved: %(kept)s kept, %(removed)s removed."),
        kept=len(checked),
        removed=len(gone),
    )


# --- proposals --------------------------------------------------------------------------------


def save_proposals(
    session: Session,
    meeting: Meeting,
    rows: list[ProposalRow],
    *,
    rng: random.Random | None = None,
) -> Said:
    """Save the proposals: change, rename, add (blank fieldsets are skipped) and remove (ticked
    `remove`) in one go; proposals the page did not show are kept. A new proposal is drawn a
    random place in the tie-break order, as one added alone is. Returns what was done.

    Raises:
        InvalidForm: any problem (a title missing, an amount that is not one, an unknown
            affected group, an id taken twice, a rename or removal of a proposal put to a
            vote, a change to the kind, groups, cost or saving of one).
    """
    assert meeting.id is not None
    problems = _Problems()
    existing = {p.key: p for p in proposals_of(session, meeting.id)}
    segment_ids = {s.key for s in segments_of(session, meeting.id)}
    rows = [r for r in rows if not r.blank]
    for r in rows:
        if r.was and r.was not in existing:
            problems.add(
                f"{r.prefix}-title",
                BadInput(N_("The proposal “%(id)s” no longer exists: reload the page."), id=r.was),
            )
    gone = [r for r in rows if r.remove and r.was in existing]
    kept = [r for r in rows if not r.remove]
    voted = {k for k in existing if _used_in_round(session, meeting.id, k)}
    for r in gone:
        if r.was in voted:
            problems.add(
                f"{r.prefix}-remove",
                Conflict(
                    N_("“%(title)s” has been put to a vote and is part of the record."),
                    title=existing[r.was].title,
                ),
            )
    shown = {r.was for r in rows if r.was}
    others = {k for k in existing if k not in shown}
    _place_ids(kept, others, "proposal", problems)
    checked: list[tuple[ProposalRow, ProposalFile]] = []
    for r in kept:
        pf = _proposal(problems, r, segment_ids)
        if pf is None:
            continue
        old = existing.get(r.was)
        if old is not None and set(pf.affected_groups) == set(old.affected_groups):
            # The boxes post in the segments' order; a file may have listed them in another.
            pf = pf.model_copy(update={"affected_groups": list(old.affected_groups)})
        if old is not None and r.was in voted:
            if pf.id != r.was:
                problems.add(
                    f"{r.prefix}-key",
                    Conflict(
                        N_("The id of “%(title)s” cannot change: it has been put to a vote."),
                        title=old.title,
                    ),
                )
            before = proposal_file(old)
            changed = [name for name in DECIDING if getattr(before, name) != getattr(pf, name)]
            if changed:
                problems.add(
                    f"{r.prefix}-{'groups' if changed[0] == 'affected_groups' else changed[0]}",
                    Conflict(
                        N_(
                            "“%(title)s” has been put to a vote: its kind, affected groups, cost "
                            "and saving are fixed. To vote on different figures, add a new "
                            "proposal."
                        ),
                        title=old.title,
                    ),
                )
        checked.append((r, pf))
    problems.raise_if_any()

    order = list(meeting.tie_break)
    for r in gone:
        session.delete(existing[r.was])
        order = [k for k in order if k != r.was]
        audit.record(session, meeting.id, "proposal.deleted", {"id": r.was})
    session.flush()
    renamed = {r.was: pf.id for r, pf in checked if r.was and r.was != pf.id}
    for i, was in enumerate(renamed):
        existing[was].key = f";renaming-{i}"  # ";" is in no id (records.check_id)
        session.add(existing[was])
    session.flush()
    order = [renamed.get(k, k) for k in order]
    positions = [pf.id for _, pf in checked] + sorted(others, key=lambda k: existing[k].position)
    draw = rng or random.SystemRandom()
    for r, pf in checked:
        row = existing.get(r.was)
        if row is None:
            row = Proposal(meeting_id=meeting.id, key=pf.id, title=pf.title)
            order.insert(draw.randint(0, len(order)), pf.id)  # a random place, before any vote
        row.key, row.title, row.description, row.kind = pf.id, pf.title, pf.description, pf.kind
        row.cost, row.saving, row.affected_groups = pf.cost, pf.saving, list(pf.affected_groups)
        row.translations = _merged(row.translations, pf.translations)
        row.position = positions.index(pf.id)
        session.add(row)
        data = proposal_file(row).model_dump(mode="json")
        if r.was and r.was != pf.id:
            data["was"] = r.was
        audit.record(session, meeting.id, "proposal.saved", data)
    for k in others:
        existing[k].position = positions.index(k)
        session.add(existing[k])
    meeting.tie_break = order
    _touch(meeting)
    session.add(meeting)
    return said(
        N_("Proposals saved: %(kept)s kept, %(removed)s removed."),
        kept=len(checked),
        removed=len(gone),
    )


def _proposal(problems: _Problems, r: ProposalRow, segment_ids: set[str]) -> ProposalFile | None:
    """The row as a checked proposal, or None with its problems noted."""
    amounts: dict[str, int | float | None] = {}
    for name, typed, problem in (
        ("saving", r.saving, N_("The saving must be an amount such as 35000, or empty.")),
        ("cost", r.cost, N_("The cost must be an amount such as 35000, or empty.")),
    ):
        try:
            amounts[name] = amount_text(typed, name)
        except BadInput:
            problems.add(f"{r.prefix}-{name}", BadInput(problem))
    unknown = [g for g in r.groups if g not in segment_ids]
    if unknown:
        problems.add(
            f"{r.prefix}-groups",
            BadInput(
                N_("Unknown affected group(s): %(ids)s. Save the segment first."),
                ids=", ".join(unknown),
            ),
        )
    if len(amounts) < 2 or unknown:
        return None
    try:
        return ProposalFile(
            id=r.key,
            title=r.title,
            description=r.description,
            kind=r.kind,
            cost=amounts["cost"],
            saving=amounts["saving"],
            affected_groups=r.groups,
            translations=_cy(title=r.title_cy, description=r.description_cy),
        )
    except ValidationError as e:
        fields = {name: f"{r.prefix}-{name}" for name in ("title", "description", "kind")}
        fields |= {
            "id": f"{r.prefix}-key",
            "cost": f"{r.prefix}-cost",
            "saving": f"{r.prefix}-saving",
        }
        fields |= {"translations": f"{r.prefix}-title_cy", "affected_groups": f"{r.prefix}-groups"}
        _pydantic(problems, e, fields, f"{r.prefix}-title")
        return None
