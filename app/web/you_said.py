"""The public "You said" page of a meeting's survey: `/m/{code}/you-said`, no sign-in.

"We asked" (the survey's questions), "You said" (each survey round whose results are shown to
the room, `rounds.results_visible`: the same figures, charts and suppression as the projector,
with each chart's table) and "We did" (what the facilitator wrote on the round's console page),
in the page's language. Nothing about any one person: the figures are the tally's (no group
under m), the custom questions' tables app/record/you_said.py's, and no pseudonym, ballot or
answer is read into the page. Before any results are shown it answers 404 "not published yet".

The results of closed rounds are counted once per state (`_FIGURES`): the rounds shown, their
ballots, the set-up (`meeting.revision`) and the population are the key, so a page viewed by
many is tabulated once, and a reveal, a paper ballot or a changed text is seen at once.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any, cast

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.core.errors import NotFound
from app.core.messages import N_
from app.core.shapes import SurveyView
from app.core.vocab import RoundStatus
from app.record import you_said
from app.voting import rounds, surveys
from app.voting.meetings import meeting_by_code
from app.voting.models import Meeting, Round
from app.voting.voters import voted_count
from app.web import i18n
from app.web.deps import ServicesDep
from app.web.rendering import render
from app.web.services import Services

router = APIRouter()

# The page may be kept a minute by the browser (a reveal shows within it); it depends on the
# language, chosen by ?lang=, a cookie or the browser's languages.
CACHE_CONTROL = "private, max-age=60"
VARY = "Cookie, Accept-Language"
FIGURES_KEPT = 16  # meetings' figures kept: a council publishes a few surveys at a time

_FIGURES: dict[tuple[object, ...], list[tuple[Round, SurveyView]]] = {}
_FIGURES_LOCK = threading.Lock()


def _shown(services: Services, meeting: Meeting) -> list[tuple[Round, SurveyView]]:
    """The survey rounds whose results are shown, with their results (counted once per
    state of the meeting and its rounds)."""
    assert meeting.id is not None
    with services.read_session() as session:
        visible = [
            r
            for r in sorted(surveys.survey_rounds(session, meeting.id), key=lambda r: r.number)
            if r.status == RoundStatus.CLOSED and rounds.results_visible(meeting, r)
        ]
        key: tuple[object, ...] = (
            str(services.engine.url),
            meeting.id,
            meeting.revision,
            meeting.group_min,
            # The population weights the figures and is saved without a set-up revision.
            hashlib.sha256((surveys.population_text(session, meeting.id) or "").encode()).digest(),
            tuple((r.id, r.status, voted_count(session, r.id or 0)) for r in visible),
        )
        with _FIGURES_LOCK:
            hit = _FIGURES.get(key)
        if hit is not None:
            return hit
        shown = [(r, cast(SurveyView, rounds.results_view(session, meeting, r))) for r in visible]
    with _FIGURES_LOCK:
        if len(_FIGURES) >= FIGURES_KEPT:
            _FIGURES.pop(next(iter(_FIGURES)))
        _FIGURES[key] = shown
    return shown


@router.get("/m/{code}/you-said")
async def you_said_page(request: Request, code: str, services: ServicesDep) -> Response:
    """We asked, you said, we did.

    Raises:
        NotFound: no such meeting, or it has no survey.
    """
    locale = i18n.choose_locale(request)
    _ = i18n.gettext_for(locale)

    def page() -> Response:
        with services.read_session() as session:
            meeting = meeting_by_code(session, code)
            assert meeting.id is not None
            survey = surveys.survey_of(session, meeting.id)
            if survey is None:
                raise NotFound(N_("This meeting has no survey."))
            said = surveys.we_did_of(session, meeting.id)
        shown = _shown(services, meeting)
        ctx: dict[str, Any] = {
            "meeting": meeting,
            "survey": survey,
            "survey_title": survey.translations.get(locale, {}).get("title") or survey.title,
            "asked": you_said.asked(survey, _, locale),
            "published": [
                {
                    "round": rnd,
                    "results": view,
                    "custom": you_said.custom_tables(survey, view["survey"], _, locale),
                }
                for rnd, view in shown
            ],
            "we_did": said,
        }
        response = render(request, "record/you_said.html", ctx, status_code=200 if shown else 404)
        response.headers["Cache-Control"] = CACHE_CONTROL if shown else "no-cache"
        response.headers["Vary"] = VARY
        response.headers["ETag"] = '"' + hashlib.sha256(response.body).hexdigest()[:32] + '"'
        if shown and request.headers.get("if-none-match") == response.headers["ETag"]:
            return Response(status_code=304, headers={"ETag": response.headers["ETag"]})
        return response

    return await services.in_page_thread(page)
