"""The console's Lab page (issue 16): challenges, ideas keyed from flip charts, moderation.

`/console/{id}/lab`:
- challenges: add (English, optional Welsh), edit, remove (one with no ideas)
- key ideas from the tables' flip charts, several rows in one form (blank rows skipped; all or
  none stored): approved at once
- the moderation queue (pending ideas, oldest first): approve, hide, correct the text, merge into
  another idea; beside each, the ideas it likely duplicates
  (`rules.lab_duplicates.likely_duplicates`)
- the wall as it stands (approved ideas by challenge, with helpers' counts) and hidden ideas,
  which can go back to the queue
- the results of the last closed `lab` round (`lab_kind.lab_result`): opinion groups, each
  idea's support overall and its lowest group's, bridging ideas first, ideas an affected
  segment rejects marked

Every change is a POST with the CSRF token, one transaction, a redirect (`forms.act`).
"""

from __future__ import annotations

import asyncio
from fractions import Fraction
from typing import Any, cast

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from app.console.forms import act, facilitator_form, flash, page
from app.core.errors import BadInput, CovoteError, InvalidForm, NotFound
from app.core.inputs import amount_text
from app.core.messages import N_, Said, said
from app.core.shapes import SurveyView
from app.core.vocab import LAB, SURVEY, RoundStatus
from app.record import filenames, lab_files
from app.rules import lab as rules
from app.rules import lab_duplicates, survey_tally
from app.rules.lab import IdeaStatus
from app.voting import (
    lab,
    lab_challenges,
    lab_helping,
    lab_kind,
    lab_moderation,
    lab_shortlist,
    meetings,
    rounds,
)
from app.voting.models import Meeting, Round
from app.web import auth
from app.web.deps import RowId, ServicesDep
from app.web.services import Services

router = APIRouter(prefix="/console/{meeting_id}/lab")

# Rows of the flip-chart form: enough for a table's chart, few enough for one screen.
KEYED_ROWS_SHOWN = 5
# Suggested duplicates shown beside one pending idea: the closest few are what a moderator reads.
DUPLICATES_SHOWN = 3
# A key in a path or a form: challenges' and ideas' keys are short ids.
KEY_MAX = 64


def _key(value: object) -> str:
    """A challenge's or idea's key from a form field, bounded (an unknown one is NotFound later)."""
    return value[:KEY_MAX] if isinstance(value, str) else ""


def _results(session: Session, meeting: Meeting) -> tuple[int, rules.LabResult] | None:
    """The Lab's statistics of the meeting's last closed `lab` round (its number with them)."""
    closed = [
        r
        for r in rounds.rounds_of(session, meeting.id or 0)
        if r.kind == LAB and r.status == RoundStatus.CLOSED
    ]
    if not closed:
        return None
    last = closed[-1]
    return last.number, lab_kind.lab_result(session, meeting, last)


def _percent(share: Fraction | None) -> str:
    """A share as a whole percentage for the table ("" when nobody agreed or disagreed)."""
    return "" if share is None else f"{round(share * 100)}%"


def _context(services: Services, meeting_id: int) -> dict[str, Any]:
    with services.read_session() as session:
        meeting = meetings.get_meeting(session, meeting_id)
        challenges = lab_challenges.challenges_of(session, meeting_id)
        rows = lab.ideas_of(session, meeting_id)
        results = _results(session, meeting)
        has_focus = _focus_round(session, meeting) is not None
        meetings_segments = meetings.segments_of(session, meeting_id)
        pledges = lab_helping.pledge_summaries(session, meeting)
        session.expunge_all()
    live = [r for r in rows if r.idea.status in (IdeaStatus.PENDING, IdeaStatus.APPROVED)]
    pairs = lab_duplicates.likely_duplicates({r.idea.key: r.idea.text for r in live})
    alike: dict[str, list[tuple[str, float]]] = {}
    for a, b, score in pairs:
        alike.setdefault(a, []).append((b, score))
        alike.setdefault(b, []).append((a, score))
    texts = {r.idea.key: r.idea.text for r in live}
    return {
        "meeting": meeting,
        "challenges": challenges,
        "pending": [r for r in rows if r.idea.status == IdeaStatus.PENDING],
        "approved": [r for r in rows if r.idea.status == IdeaStatus.APPROVED],
        "hidden": [r for r in rows if r.idea.status == IdeaStatus.HIDDEN],
        "merged": sum(1 for r in rows if r.idea.status == IdeaStatus.MERGED),
        "alike": {k: v[:DUPLICATES_SHOWN] for k, v in alike.items()},
        "texts": texts,
        "targets": live,
        "kinds": lab.KIND_NAMES,
        "keyed_rows": range(1, KEYED_ROWS_SHOWN + 1),
        "text_max": rules.IDEA_TEXT_MAX,
        "challenge_max": rules.CHALLENGE_MAX,
        "phone_url": f"{services.base_url}/m/{meeting.code}/lab",
        "results": results,
        "has_focus": has_focus,
        "all_texts": {r.idea.key: r.idea.text for r in rows},
        "percent": _percent,
        "segments": meetings_segments,
        "pledges": pledges,
        "shortlisted": [
            r for r in rows if r.idea.shortlisted and r.idea.status == IdeaStatus.APPROVED
        ],
    }


@router.get("")
async def lab_page(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    auth.require_facilitator(request)
    ctx = await asyncio.to_thread(_context, services, meeting_id)
    return page(request, "console/lab.html", {"page": "lab", **ctx})


# --- challenges ---------------------------------------------------------------------------------


@router.post("/challenges")
async def add_challenge(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    form = await facilitator_form(request)
    title, title_cy = lab_challenges.parse_challenge(form.get("title"), form.get("title_cy"))

    def change(session: Session, meeting: Meeting) -> Said:
        lab_challenges.add_challenge(session, meeting, title, title_cy)
        return said(N_("The challenge is added."))

    return await act(request, services, meeting_id, change, "/lab")


def _focus_round(session: Session, meeting: Meeting) -> Round | None:
    """The meeting's last closed survey round (its results have the focus list)."""
    closed = [
        r
        for r in rounds.rounds_of(session, meeting.id or 0)
        if r.kind == SURVEY and r.status == RoundStatus.CLOSED
    ]
    return closed[-1] if closed else None


@router.post("/challenges/focus")
async def challenges_from_focus(
    request: Request, meeting_id: RowId, services: ServicesDep
) -> Response:
    """A challenge for each service on the last closed survey round's focus list."""
    await facilitator_form(request)

    def change(session: Session, meeting: Meeting) -> Said:
        rnd = _focus_round(session, meeting)
        view = None if rnd is None else rounds.results_view(session, meeting, rnd)
        if view is None or "survey" not in view:
            raise BadInput(N_("Only a closed survey round has a focus list."))
        focus = survey_tally.focus_list(cast(SurveyView, view)["survey"])
        made = lab_challenges.challenges_from_focus(session, meeting, focus)
        return said(N_("Challenges added from the focus list: %(n)s."), n=len(made))

    return await act(request, services, meeting_id, change, "/lab")


@router.post("/challenges/{key}/edit")
async def edit_challenge(
    request: Request, meeting_id: RowId, key: str, services: ServicesDep
) -> Response:
    form = await facilitator_form(request)
    title, title_cy = lab_challenges.parse_challenge(form.get("title"), form.get("title_cy"))

    def change(session: Session, meeting: Meeting) -> Said:
        lab_challenges.edit_challenge(session, meeting, _key(key), title, title_cy)
        return said(N_("The challenge is changed."))

    return await act(request, services, meeting_id, change, "/lab")


@router.post("/challenges/{key}/remove")
async def remove_challenge(
    request: Request, meeting_id: RowId, key: str, services: ServicesDep
) -> Response:
    await facilitator_form(request)

    def change(session: Session, meeting: Meeting) -> Said:
        lab_challenges.remove_challenge(session, meeting, _key(key))
        return said(N_("The challenge is removed."))

    return await act(request, services, meeting_id, change, "/lab")


# --- ideas --------------------------------------------------------------------------------------


def _keyed(form: FormData, challenges: list[str]) -> list[lab.IdeaDraft]:
    """The flip-chart rows that have text, each checked; every problem of every row at once.

    Raises:
        InvalidForm: by field (`row-N-text`...), or "" when no row has an idea.
    """
    drafts: list[lab.IdeaDraft] = []
    problems: list[tuple[str, CovoteError]] = []
    for n in range(1, lab.MAX_KEYED_ROWS + 1):
        text = form.get(f"text_{n}")
        if not isinstance(text, str) or not text.strip():
            continue
        try:
            drafts.append(
                lab.parse_idea(
                    challenges,
                    challenge=form.get(f"challenge_{n}"),
                    text=text,
                    description=form.get(f"description_{n}", ""),
                    kind=form.get(f"kind_{n}"),
                    prefix=f"row-{n}-",
                )
            )
        except InvalidForm as e:
            problems.extend(e.problems)
    if problems:
        raise InvalidForm(problems)
    if not drafts:
        raise BadInput(N_("Type at least one idea."))
    return drafts


@router.post("/ideas")
async def key_ideas(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """Ideas from the flip charts: every row with text, all stored or none."""
    form = await facilitator_form(request)

    def change(session: Session, meeting: Meeting) -> Said:
        keys = [c.key for c in lab_challenges.challenges_of(session, meeting_id)]
        rows = lab.key_ideas(session, meeting, _keyed(form, keys))
        return said(N_("%(n)s ideas are on the wall."), n=len(rows))

    return await act(request, services, meeting_id, change, "/lab")


_STATUS = {
    "approve": (IdeaStatus.APPROVED, N_("The idea is approved: it is on the wall.")),
    "hide": (IdeaStatus.HIDDEN, N_("The idea is hidden.")),
    "restore": (IdeaStatus.PENDING, N_("The idea is back in the queue.")),
}


@router.post("/ideas/{key}/{action}")
async def moderate(
    request: Request, meeting_id: RowId, key: str, action: str, services: ServicesDep
) -> Response:
    """approve, hide, restore (hidden -> queue), edit (the text) or merge (into another)."""
    form = await facilitator_form(request)
    idea_key = _key(key)

    def change(session: Session, meeting: Meeting) -> Said:
        if action in _STATUS:
            status, message = _STATUS[action]
            lab_moderation.set_status(session, meeting, idea_key, status)
            return said(message)
        if action == "edit":
            lab_moderation.edit_idea(session, meeting, idea_key, form.get("text"))
            return said(N_("The idea's text is corrected."))
        if action == "affected":
            picked = [_key(v) for v in form.getlist("segment")][: lab.MAX_SEGMENTS_READ]
            lab_shortlist.set_affected(session, meeting, idea_key, picked)
            return said(N_("The groups the idea affects are saved."))
        if action == "merge":
            into = lab_moderation.merge(session, meeting, idea_key, _key(form.get("into")))
            return said(
                N_("The ideas are merged: supporters and helpers now count for “%(text)s”."),
                text=into.text,
            )
        raise BadInput(N_("The console cannot do that to an idea."))

    return await act(request, services, meeting_id, change, "/lab")


# --- shortlist -> proposals --------------------------------------------------------------------


def _rejected(session: Session, meeting: Meeting) -> dict[str, tuple[str, ...]]:
    """Each idea the last closed `lab` round's results mark rejected -> the segments."""
    found = _results(session, meeting)
    if found is None:
        return {}
    return {i.key: i.rejected_by for i in found[1].ideas if i.rejected_by}


@router.post("/shortlist")
async def shortlist(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """The shortlist, replacing the last: ticked ideas, each rejected one with its reason."""
    form = await facilitator_form(request)
    keys = [_key(v) for v in form.getlist("idea")][: lab.MAX_IDEAS]
    chosen = {k: str(form.get(f"reason:{k}", ""))[: lab_shortlist.REASON_MAX * 2] for k in keys}

    def change(session: Session, meeting: Meeting) -> Said:
        rows = lab_shortlist.shortlist(session, meeting, chosen, _rejected(session, meeting))
        return said(N_("Shortlisted ideas: %(n)s."), n=len(rows))

    return await act(request, services, meeting_id, change, "/lab#shortlist-h")


@router.post("/proposals")
async def proposals(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """The shortlist as the proposals of a new budget meeting, in one action; then that
    meeting's set-up page, to add their costs or savings."""
    form = await facilitator_form(request)
    kinds = {
        key.removeprefix("kind:")[:KEY_MAX]: str(value)[:8]
        for key, value in form.multi_items()
        if key.startswith("kind:")
    }
    amounts = {
        key.removeprefix("amount:")[:KEY_MAX]: amount
        for key, value in form.multi_items()
        if key.startswith("amount:")
        and (amount := amount_text(str(value)[:64], N_("A cost or saving"))) is not None
    }

    def create() -> int:
        with services.session() as session:
            meeting = meetings.get_meeting(session, meeting_id)
            made = lab_shortlist.budget_from_shortlist(session, meeting, kinds, amounts)
            assert made.id is not None
            return made.id

    made = await asyncio.to_thread(create)
    flash(request, said(N_("A budget meeting is set up with the shortlist: add costs or savings.")))
    return RedirectResponse(f"/console/{made}/setup", status_code=303)


# --- the Lab's public files ------------------------------------------------------------------

LAB_FILES = {
    "lab-ideas.csv": "text/csv; charset=utf-8",
    "lab-votes.csv": "text/csv; charset=utf-8",
    "lab-groups.csv": "text/csv; charset=utf-8",
    "lab-results.json": "application/json",
}


def _lab_file(services: Services, meeting_id: int, what: str) -> tuple[str, str]:
    """One of the last closed `lab` round's public files, and its Content-Disposition."""
    with services.read_session() as session:
        meeting = meetings.get_meeting(session, meeting_id)
        closed = [
            r
            for r in rounds.rounds_of(session, meeting_id)
            if r.kind == LAB and r.status == RoundStatus.CLOSED
        ]
        if not closed:
            raise NotFound(N_("No Lab rating round has closed yet."))
        published = lab_kind.lab_published(session, meeting, closed[-1])
        if what == "lab-ideas.csv":
            text = lab_files.write_ideas_csv(lab_kind.idea_rows(session, meeting, published.result))
        elif what == "lab-votes.csv":
            text = lab_files.write_votes_csv(published.voters)
        elif what == "lab-groups.csv":
            text = lab_files.write_groups_csv(published.groups)
        else:
            text = lab_files.dumps_lab_results(published.result)
        opened = [r.opened_at for r in rounds.rounds_of(session, meeting_id)]
        day = filenames.meeting_day(meeting.created_at, opened, meetings.zone_of(meeting))
        header = filenames.content_disposition("attachment", meeting.title, day, what)
    return text, header


@router.get("/{what}")
async def lab_file(
    request: Request, meeting_id: RowId, what: str, services: ServicesDep
) -> Response:
    """The Lab's public record: ideas, votes (protected), group totals and results, which
    `covote lab tabulate` reproduces from the three CSV files byte for byte."""
    auth.require_facilitator(request)
    if what not in LAB_FILES:
        raise NotFound(N_("There is no such Lab file."))
    text, disposition = await asyncio.to_thread(_lab_file, services, meeting_id, what)
    return Response(text, media_type=LAB_FILES[what], headers={"Content-Disposition": disposition})
