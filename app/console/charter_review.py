"""The Charter page's review part (issue 17): start a review meeting of a signed or adopted
charter, and, on a review meeting, the parties' own reports per commitment.

`/console/{id}/charter`:
- `POST .../review` (asked first, with the new meeting's title): a new meeting holding the
  charter, linked to the charter's first meeting (`charter_reviews.start_review`); the browser
  goes to its Charter page
- `POST .../reports`: each commitment's report, `report:KEY` and `report_cy:KEY` (English and
  Welsh, each at most `charter_reviews.MAX_REPORT` characters), all saved or none

The review round itself is opened from the Run page as any activity (kind `charter_review`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.responses import RedirectResponse, Response

from app.console.forms import act, confirm_first, facilitator_form, flash
from app.core.errors import BadInput
from app.core.messages import N_, Said, said
from app.record.records import MAX_TITLE
from app.rules import charter_doc as cd
from app.voting import charter_reviews, meetings
from app.voting.models import Meeting
from app.web import i18n
from app.web.deps import RowId, ServicesDep

router = APIRouter()
PAGE = "/console/{meeting_id}/charter"

REVIEW_TITLE = N_("%(title)s: review")
MAX_REPORTS = cd.MAX_COMMITMENTS  # report fields read from one form, at most


def review_context(
    session: Session, meeting: Meeting, charter: cd.Charter | None
) -> dict[str, Any]:
    """What the Charter page shows of reviews: whether this charter may be reviewed, the
    charter's first meeting when this is a review, the other reviews, the reports."""
    assert meeting.id is not None
    root_id = charter_reviews.review_of(session, meeting.id)
    root = session.get(Meeting, root_id) if root_id is not None else None
    family = root_id if root_id is not None else meeting.id
    return {
        "reviewable": charter is not None and charter_reviews.reviewable(session, meeting.id),
        "review_root": root,
        "is_review": root_id is not None,
        "reviews": [m for m in charter_reviews.reviews_of(session, family) if m.id != meeting.id],
        "reports": charter_reviews.reports_of(session, meeting.id),
        "max_report": charter_reviews.MAX_REPORT,
    }


def review_title(title: str, pattern: str) -> str:
    """The suggested title of a review meeting, shortened to fit the title limit."""
    room = MAX_TITLE - len(pattern % {"title": ""})
    if len(title) > room:
        title = title[: room - 1].rstrip() + "…"
    return pattern % {"title": title}


@router.post(PAGE + "/review")
async def start_review(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """A review meeting of this meeting's charter (asked first); then its Charter page."""
    form = await facilitator_form(request)
    title = str(form.get("title", ""))[: MAX_TITLE + 1].strip()
    asked = await confirm_first(
        request, services, form, "start_review", back="/charter", meeting_id=meeting_id
    )
    if asked is not None:
        return asked

    def write() -> tuple[int, str]:
        with services.session() as session:
            source = meetings.get_meeting(session, meeting_id)
            made = charter_reviews.start_review(session, source, title)
            assert made.id is not None
            return made.id, made.code

    new_id, code = await asyncio.to_thread(write)
    flash(
        request,
        said(
            N_(
                "“%(title)s” is a review meeting of this charter, with the code %(code)s. Enter "
                "the parties' reports, then open a round of “Charter review” on the Run page."
            ),
            title=title,
            code=code,
        ),
    )
    return RedirectResponse(f"/console/{new_id}/charter", status_code=303)


def reports_of_form(form: Any) -> list[charter_reviews.Report]:
    """The form's reports, each text cut one past its bound (over it still reads as too long).

    Raises:
        BadInput: more report fields than a charter has commitments.
    """
    keys = [
        str(name).removeprefix("report:")
        for name, _ in form.multi_items()
        if str(name).startswith("report:")
    ]
    if len(keys) > MAX_REPORTS:
        raise BadInput(N_("Too many reports in one form."))
    most = charter_reviews.MAX_REPORT + 1

    def field(name: str) -> str:
        value = form.get(name)
        return value[:most] if isinstance(value, str) else ""

    return [
        charter_reviews.Report(key[:64], field(f"report:{key}"), field(f"report_cy:{key}"))
        for key in dict.fromkeys(keys)
    ]


@router.post(PAGE + "/reports")
async def save_reports(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """The parties' reports on their commitments, all saved or none."""
    form = await facilitator_form(request)
    given = reports_of_form(form)

    def change(session: Session, meeting: Meeting) -> Said:
        charter_reviews.must_review(session, meeting_id)
        n = charter_reviews.save_reports(session, meeting, given)
        return said(N_("Reports saved: %(n)s."), n=n)

    return await act(request, services, meeting_id, change, "/charter#reports-h")


def default_title(request: Request, title: str) -> str:
    _ = i18n.gettext_for(i18n.choose_locale(request))
    return review_title(title, _(REVIEW_TITLE))
