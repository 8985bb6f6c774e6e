"""Pages drawn from templates: the one Jinja environment (its filters and globals) and
`render` / `render_shared`, which every page route answers with.

Every page gets its language (`_`, `locale`: ?lang=, then the cookie, then the browser's), the
CSRF token, whether a facilitator is signed in, and the zone of the meeting it is about for
every time it shows. Templates are read once (restart to see edited ones).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

from babel.dates import format_date
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from app.core import localtime
from app.core.errors import CovoteError
from app.core.vocab import ROOM_VOTE
from app.record import review_charts, survey_charts
from app.rules import explain, survey_tally
from app.voting import kinds
from app.voting.activity import Views
from app.voting.meetings import zone_named, zone_of
from app.voting.models import Meeting
from app.web import auth, i18n

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))
TEMPLATES.env.autoescape = True
# Templates are read once: checking each one's file time on every render cost 3.5% of the
# server's time while phones joined (scripts/bench, py-spy). Restart to see edited templates.
TEMPLATES.env.auto_reload = False
# The outcome words (names, icons, reasons, meanings) every live screen takes from explain.py.
TEMPLATES.env.globals["outcome_strings"] = explain.live_strings


def activity_views(kind: str | None) -> Views:
    """The templates an activity kind is drawn with (a round's `kind`; None: the room vote).
    A kind this version lacks gets the defaults: its round shows, without items."""
    known = kinds.kinds().get(kind or ROOM_VOTE)
    return known.views if known is not None else Views()


def answer_labels() -> list[str]:
    """The label msgids of every registered kind's fixed scales (the projector's strings)."""
    return sorted({label for kind in kinds.kinds().values() for label in kind.answer_labels()})


TEMPLATES.env.globals["activity_views"] = activity_views
TEMPLATES.env.globals["answer_labels"] = answer_labels
# A survey round's charts in the page's language (console/results_survey.html).
TEMPLATES.env.globals["survey_charts"] = survey_charts.survey_charts
TEMPLATES.env.globals["survey_focus"] = survey_tally.focus_list
TEMPLATES.env.globals["survey_names"] = survey_charts.names_in
# A charter review round's scorecard and history charts (console/results_review.html, the
# projector's charts) and the names of its parties and commitments in the page's language.
TEMPLATES.env.globals["review_charts"] = review_charts.review_charts
TEMPLATES.env.globals["review_name"] = review_charts.name_in

# phone_item's drawings: (template, locale, position, answer) -> (the item drawn, its HTML).
_ITEMS: dict[tuple[str, str, int, str | None], tuple[object, Markup]] = {}


@pass_context
def phone_item(ctx: Context, template: str, item: object, index: int, chosen: str | None) -> Markup:
    """An activity item as its kind draws it on the phone (`template`, activity.Views
    .phone_item), from the item of a live state (shared, never changed), its 1-based `index`,
    the voter's stored answer `chosen` and the page's language; drawn once per item, language,
    position and answer, and served as drawn to every other phone page and ballot section
    that shows the same: the items were ~28% of drawing a phone page with 8 proposals
    (scripts/bench, joins). The templates read nothing else (`_` follows the language)."""
    key = (template, str(ctx.get("locale")), index, chosen)
    hit = _ITEMS.get(key)
    if hit is not None and hit[0] is item:  # the cache holds the item: its id is not reused
        return hit[1]
    values = {**ctx.get_all(), "item": item, "index": index, "chosen": chosen}
    html = Markup(ctx.environment.get_template(template).render(values))
    _ITEMS[key] = (item, html)
    return html


TEMPLATES.env.globals["phone_item"] = phone_item


def show_time(at: datetime | None, tz: tzinfo | None = None, seconds: bool = False) -> str:
    """The `localtime` filter: `{{ r.opened_at | localtime(tz) }}` -> "2026-12-05 19:40 GMT".
    `render` puts the meeting's zone in `tz` on every page about a meeting; a page about none
    (the meeting list, sessions) shows Europe/London's time."""
    return localtime.show(at, tz or zone_named(None), seconds=seconds)


TEMPLATES.env.filters["localtime"] = show_time


def show_day(day: date, locale: str = "en") -> str:
    """The `day` filter: `{{ until | day(locale) }}` -> "5 December 2027" ("5 Rhagfyr 2027" in
    Welsh): a date for people, in the page's language (the people list's retention dates)."""
    return format_date(day, "d MMMM y", locale=locale)


TEMPLATES.env.filters["day"] = show_day


# Babel's locale for dates: "en" alone is American English; Covote's is British.
_DATE_LOCALES = {"en": "en_GB"}


@pass_context
def show_moment(ctx: Context, at: datetime | str, zone: tzinfo | str | None = None) -> str:
    """The `moment` global: `{{ moment(rnd.online.closes_at, rnd.online.zone) }}` -> "Friday
    18 December at 17:00" ("Dydd Gwener 18 Rhagfyr am 17:00" in Welsh): a time days away, for
    people, in the meeting's zone (a tzinfo or an IANA name; None: Europe/London) and the
    page's language. `at` is a stored datetime or a snapshot's ISO text (UTC)."""
    when = datetime.fromisoformat(at.replace("Z", "+00:00")) if isinstance(at, str) else at
    tz = zone if isinstance(zone, tzinfo) else zone_named(zone)
    local = localtime.local(when, tz)
    locale = str(ctx.get("locale") or "en")
    babel_locale = _DATE_LOCALES.get(locale, locale)
    _ = i18n.gettext_for(locale)
    return _(
        "%(day)s at %(time)s",
        day=format_date(local, "EEEE d MMMM", locale=babel_locale),
        time=f"{local:%H:%M}",
    )


TEMPLATES.env.globals["moment"] = show_moment


def form_problems(request: Request, problems: Sequence[tuple[str, CovoteError]]) -> dict[str, Any]:
    """What a form shows its refusal with: `problems` ({field, text}, in order, each in the
    browser's language; field "" for the form as a whole) and `problem_at` (each field's first
    problem: the text beside the field, which aria-describedby names)."""
    shown = [{"field": where, "text": i18n.error_message(request, e)} for where, e in problems]
    return {
        "problems": shown,
        "problem_at": {p["field"]: p["text"] for p in reversed(shown) if p["field"]},
    }


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    locale = i18n.choose_locale(request)
    meeting = context.get("meeting")
    ctx = {
        # Every time on a page about a meeting is shown in its zone (the `localtime` filter).
        "tz": zone_of(meeting) if isinstance(meeting, Meeting) else zone_named(None),
        "request": request,
        "_": i18n.gettext_for(locale),
        "locale": locale,
        "csrf": auth.csrf_token(request),
        "is_facilitator": auth.is_facilitator(request),
        "grant": auth.grant_of(request),
        **context,
    }
    response = TEMPLATES.TemplateResponse(request, template, ctx, status_code=status_code)
    _remember_lang(request, response, locale)
    return response


def _remember_lang(request: Request, response: HTMLResponse, locale: str) -> None:
    """A language chosen with ?lang= is kept in a cookie."""
    if request.query_params.get("lang") == locale:
        response.set_cookie(
            "lang",
            locale,
            max_age=365 * 24 * 3600,
            samesite="lax",
            secure=request.url.scheme == "https",
        )


# render_shared's pages: (template, locale, path) -> (what it was drawn from, the body)
_SHARED: dict[tuple[str, str, str], tuple[object, bytes]] = {}


def render_shared(
    request: Request, template: str, context: dict[str, Any], source: object
) -> HTMLResponse:
    """`render` for a page that is the same for every viewer of `source` (the shared state
    object `Services.page_state` returns, unchanged until the meeting changes): drawn once per
    source, language and path, and served as drawn to the others. Only for templates that show
    nothing of the viewer's own (no CSRF token, no facilitator links): the projector page.
    On the event loop or in a worker thread alike."""
    locale = i18n.choose_locale(request)
    key = (template, locale, request.url.path)
    hit = _SHARED.get(key)
    if hit is None or hit[0] is not source:
        response = render(request, template, context)
        _SHARED[key] = (source, bytes(response.body))
        return response
    auth.csrf_token(request)  # as `render`: the session has its token from the first page on
    response = HTMLResponse(hit[1])
    _remember_lang(request, response, locale)
    return response
