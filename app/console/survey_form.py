"""The Set-up page's Survey section, its fields (console/setup.html): the services' and areas'
rows as the page draws them from the stored survey, and the posted rows read back into a
survey (app/console/survey.py saves it).

A service's inputs are named `svc-N-…` (was, key, title, title_cy, q: the standard questions
ticked, remove), an area's `area-N-…` (was, key, label, label_cy, code, remove); N counts from 0
while `…-was` is there, as in the other set-up tables. What the form does not show
(descriptions, other languages, a service's proposal) is kept from the stored survey by the
row's `was` key. The custom questions' fields: app/console/survey_questions.py.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from starlette.datastructures import FormData

from app.console import survey_questions
from app.console.forms import checked
from app.console.setup_form import MAX_ROWS
from app.core.inputs import slug
from app.core.messages import N_
from app.rules import survey as sv
from app.voting.models import Meeting

WELSH = "cy"
BLANK_SERVICES = 2  # blank rows under the services and the areas: room to add in one save
BLANK_AREAS = 2


def _with_welsh(texts: sv.Translations, name: str, welsh: str) -> dict[str, dict[str, str]]:
    """`texts` with its Welsh `name` replaced by `welsh` (empty: removed); others kept."""
    out = {lang: dict(words) for lang, words in texts.items()}
    mine = out.setdefault(WELSH, {})
    if welsh.strip():
        mine[name] = welsh.strip()
    else:
        mine.pop(name, None)
    return {lang: words for lang, words in out.items() if words}


def service_values(s: sv.Service | None) -> dict[str, Any]:
    """A service's row of the edit form, as the template reads it (None: a blank row)."""
    if s is None:
        return {"was": "", "key": "", "title": "", "title_cy": "", "questions": [], "remove": False}
    return {
        "was": s.key,
        "key": s.key,
        "title": s.title,
        "title_cy": s.translations.get(WELSH, {}).get("title", ""),
        "questions": [q.value for q in s.questions],
        "remove": False,
        "proposal": s.proposal,
    }


def area_values(a: sv.Area | None) -> dict[str, Any]:
    """An area's row of the edit form (None: a blank row)."""
    if a is None:
        return {"was": "", "key": "", "label": "", "label_cy": "", "code": "", "remove": False}
    return {
        "was": a.key,
        "key": a.key,
        "label": a.label,
        "label_cy": a.translations.get(WELSH, {}).get("label", ""),
        "code": a.code,
        "remove": False,
    }


def survey_context(survey: sv.Survey | None, answered: bool) -> dict[str, Any]:
    """What the set-up page's Survey section reads (setup._setup_context adds it)."""
    return {
        "survey": survey,
        "survey_answered": answered,
        "survey_items": len(sv.items(survey)) if survey else 0,
        "survey_title_cy": survey.translations.get(WELSH, {}).get("title", "") if survey else "",
        "svc_rows": [service_values(s) for s in (survey.services if survey else ())]
        + [service_values(None) for _ in range(BLANK_SERVICES)],
        "area_rows": [area_values(a) for a in (survey.areas if survey else ())]
        + [area_values(None) for _ in range(BLANK_AREAS)],
        "standard_questions": list(sv.Standard),
        "standard_names": {
            sv.Standard.VALUE: N_("Value (1-5)"),
            sv.Standard.NEED: N_("Need or use"),
            sv.Standard.SATISFACTION: N_("Satisfaction"),
            sv.Standard.CONTRIBUTES: N_("Already helps"),
            sv.Standard.MORE: N_("Would do more"),
            sv.Standard.HOURS: N_("Hours a month"),
        },
        **survey_questions.context(survey),
    }


def _text(form: FormData, name: str) -> str:
    return str(form.get(name, "")).strip()


def edited_services(form: FormData, old: sv.Survey | None, meeting: Meeting) -> sv.Survey:
    """The survey with its title and services as the edit form posts them (custom questions
    and areas kept). Empty keys are made from the titles; removed rows are left out."""
    by_key = {s.key: s for s in (old.services if old else ())}
    taken = {_text(form, f"svc-{i}-key") for i in range(MAX_ROWS) if f"svc-{i}-was" in form}
    services = []
    for i in range(MAX_ROWS):
        at = f"svc-{i}"
        if f"{at}-was" not in form:
            break
        was, title = _text(form, f"{at}-was"), _text(form, f"{at}-title")
        if checked(form, f"{at}-remove") or (not was and not title):
            continue
        key = _text(form, f"{at}-key")
        if not key:
            key = slug(title, taken, limit=sv.MAX_SERVICE_KEY, fallback="service")
            taken.add(key)
        asked = [str(q) for q in form.getlist(f"{at}-q")]
        questions = tuple(q for q in sv.Standard if q.value in asked)
        base = by_key.get(was) or sv.Service(key, title)
        services.append(
            replace(
                base,
                key=key,
                title=title,
                questions=questions,
                translations=_with_welsh(base.translations, "title", _text(form, f"{at}-title_cy")),
            )
        )
    title = _text(form, "survey_title") or (old.title if old else meeting.title)
    texts = _with_welsh(old.translations if old else {}, "title", _text(form, "survey_title_cy"))
    if old is None:
        return sv.Survey(title, tuple(services), translations=texts)
    return replace(old, title=title, services=tuple(services), translations=texts)


def edited_areas(form: FormData, old: sv.Survey | None, meeting: Meeting) -> sv.Survey:
    """The survey with its areas as the edit form posts them (the rest kept)."""
    by_key = {a.key: a for a in (old.areas if old else ())}
    taken = {_text(form, f"area-{i}-key") for i in range(MAX_ROWS) if f"area-{i}-was" in form}
    areas = []
    for i in range(MAX_ROWS):
        at = f"area-{i}"
        if f"{at}-was" not in form:
            break
        was, label = _text(form, f"{at}-was"), _text(form, f"{at}-label")
        if checked(form, f"{at}-remove") or (not was and not label):
            continue
        key = _text(form, f"{at}-key")
        if not key:
            key = slug(label, taken, limit=sv.MAX_SERVICE_KEY, fallback="area")
            taken.add(key)
        base = by_key.get(was) or sv.Area(key, label)
        texts = _with_welsh(base.translations, "label", _text(form, f"{at}-label_cy"))
        areas.append(
            replace(base, key=key, label=label, code=_text(form, f"{at}-code"), translations=texts)
        )
    return with_areas(old, meeting, tuple(areas))


def with_areas(old: sv.Survey | None, meeting: Meeting, areas: tuple[sv.Area, ...]) -> sv.Survey:
    if old is None:
        return sv.Survey(meeting.title, (), areas=areas)
    return replace(old, areas=areas)


def typed(form: FormData) -> dict[str, Any]:
    """The edit form's rows as posted, so a refused save shows what was typed: the services'
    (and the survey's title), the areas' or the questions', whichever the form had; {} for the
    imports."""
    out: dict[str, Any] = {}
    services = []
    for i in range(MAX_ROWS):
        at = f"svc-{i}"
        if f"{at}-was" not in form:
            break
        services.append(
            {
                "was": _text(form, f"{at}-was"),
                "key": _text(form, f"{at}-key"),
                "title": _text(form, f"{at}-title"),
                "title_cy": _text(form, f"{at}-title_cy"),
                "questions": [str(q) for q in form.getlist(f"{at}-q")],
                "remove": checked(form, f"{at}-remove"),
            }
        )
    if services:
        out["svc_rows"] = services
        out["survey_title_typed"] = _text(form, "survey_title")
        out["survey_title_cy"] = _text(form, "survey_title_cy")
    areas = []
    for i in range(MAX_ROWS):
        at = f"area-{i}"
        if f"{at}-was" not in form:
            break
        areas.append(
            {
                "was": _text(form, f"{at}-was"),
                "key": _text(form, f"{at}-key"),
                "label": _text(form, f"{at}-label"),
                "label_cy": _text(form, f"{at}-label_cy"),
                "code": _text(form, f"{at}-code"),
                "remove": checked(form, f"{at}-remove"),
            }
        )
    if areas:
        out["area_rows"] = areas
    out.update(survey_questions.typed(form))
    return out
