"""The set-up page's section forms (console/setup.html): each section's fields as the page
draws them, from the database or as the facilitator typed them, and the posted rows read back.

A segment's inputs are named `seg-N-…` and a proposal's `prop-N-…`, N counting from 0; every row
carries `…-was`, the id it had when the page was drawn ("" for a blank row), so the rows read
back are exactly the rows drawn (and any the page's script added). Input ids equal the names, so
a problem can point at its field (app/voting/sections.py's `prefix`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.datastructures import FormData

from app.console.forms import checked
from app.voting import sections
from app.voting.models import Meeting, Proposal, Segment

# Blank rows under the segments table and blank fieldsets under the proposals: room to add
# several in one save (a meeting's five segments; a few proposals; save adds more blanks).
BLANK_SEGMENTS = 3
BLANK_PROPOSALS = 2
# A section of more rows than this is not a set-up page's form: refuse, do not loop over it.
MAX_ROWS = 1000


def welsh(translations: dict[str, dict[str, str]] | None, name: str) -> str:
    """A text's Welsh from a row's `translations` ("" when there is none)."""
    return (translations or {}).get(sections.WELSH, {}).get(name, "")


def segment_values(s: Segment) -> dict[str, Any]:
    """A saved segment's row of the table, as the template reads it."""
    return {
        "was": s.key,
        "key": s.key,
        "label": s.label,
        "label_cy": welsh(s.translations, "label"),
        "protects": s.protects,
        "remove": False,
    }


def proposal_values(p: Proposal | None) -> dict[str, Any]:
    """A saved proposal's fieldset as the template reads it (None: a blank one)."""

    def money(x: float | None) -> str:
        return "" if x is None else str(int(x) if float(x).is_integer() else x)

    if p is None:
        return {
            **dict.fromkeys(("was", "key", "title", "title_cy", "description"), ""),
            **dict.fromkeys(("description_cy", "saving", "cost"), ""),
            "kind": "keep",
            "groups": [],
            "remove": False,
        }
    return {
        "was": p.key,
        "key": p.key,
        "title": p.title,
        "title_cy": welsh(p.translations, "title"),
        "description": p.description,
        "description_cy": welsh(p.translations, "description"),
        "kind": p.kind,
        "saving": money(p.saving),
        "cost": money(p.cost),
        "groups": list(p.affected_groups),
        "remove": False,
    }


def welsh_missing(
    meeting: Meeting, segments: Sequence[Segment], proposals: Sequence[Proposal]
) -> int:
    """How many of the meeting's texts have no Welsh: phones in Welsh show those in English."""
    texts: list[tuple[dict[str, dict[str, str]] | None, str, str]] = [
        (meeting.translations, "title", meeting.title)
    ]
    texts += [(s.translations, "label", s.label) for s in segments]
    for p in proposals:
        texts += [
            (p.translations, "title", p.title),
            (p.translations, "description", p.description),
        ]
    return sum(1 for tr, name, english in texts if english.strip() and not welsh(tr, name))


def typed_meeting(meeting: Meeting, form: FormData) -> Meeting:
    """A copy of `meeting` showing what the facilitator typed, never stored: every posted field
    named like a column replaces it (as text), and the checkboxes are as they were ticked."""
    shown = Meeting(**meeting.model_dump())
    for name, value in form.multi_items():
        if isinstance(value, str) and name in Meeting.model_fields and name not in ("id", "code"):
            setattr(shown, name, value)
    shown.results_hidden = checked(form, "results_hidden")
    shown.show_channels = checked(form, "show_channels")
    for name, column in (
        ("budget_pot", "budget_pot"),
        ("savings_target", "savings_target"),
    ):
        setattr(shown, column, str(form.get(name, "")))
    return shown


def typed_values(row: sections.SegmentRow | sections.ProposalRow) -> dict[str, Any]:
    """A posted row as the template reads it, so a refused save shows what was typed."""
    values = dict(vars(row))
    values.pop("prefix")
    return values


def segment_rows(form: FormData) -> list[sections.SegmentRow]:
    """The segments table's rows as posted (`seg-N-…`, N from 0 while `seg-N-was` is there)."""
    rows = []
    for i in range(MAX_ROWS):
        at = f"seg-{i}"
        if f"{at}-was" not in form:
            break
        rows.append(
            sections.SegmentRow(
                prefix=at,
                was=_text(form, f"{at}-was"),
                key=_text(form, f"{at}-key"),
                label=_text(form, f"{at}-label"),
                label_cy=_text(form, f"{at}-label_cy"),
                protects=not checked(form, f"{at}-never"),
                remove=checked(form, f"{at}-remove"),
            )
        )
    return rows


def proposal_rows(form: FormData) -> list[sections.ProposalRow]:
    """The proposals' fieldsets as posted (`prop-N-…`, N from 0 while `prop-N-was` is there)."""
    rows = []
    for i in range(MAX_ROWS):
        at = f"prop-{i}"
        if f"{at}-was" not in form:
            break
        rows.append(
            sections.ProposalRow(
                prefix=at,
                was=_text(form, f"{at}-was"),
                key=_text(form, f"{at}-key"),
                title=_text(form, f"{at}-title"),
                title_cy=_text(form, f"{at}-title_cy"),
                description=str(form.get(f"{at}-description", "")).strip(),
                description_cy=str(form.get(f"{at}-description_cy", "")).strip(),
                kind=_text(form, f"{at}-kind") or "keep",
                saving=_text(form, f"{at}-saving"),
                cost=_text(form, f"{at}-cost"),
                groups=[str(g) for g in form.getlist(f"{at}-groups")],
                remove=checked(form, f"{at}-remove"),
            )
        )
    return rows


def _text(form: FormData, name: str) -> str:
    return str(form.get(name, "")).strip()


def removing(rows: Sequence[sections.SegmentRow | sections.ProposalRow]) -> str:
    """The labels or titles of the rows ticked for removal, for the confirmation."""
    return ", ".join(
        f"“{r.label if isinstance(r, sections.SegmentRow) else r.title or r.was}”"
        for r in rows
        if r.remove and r.was
    )
