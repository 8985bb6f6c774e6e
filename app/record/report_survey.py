"""A survey round's part of the results report: the "Community Survey" section.

Contract:

* Pure: `section` takes a survey round's results view (`shapes.SurveyView`: the survey's figures
  as `survey_tally.tabulate` gives them, already suppressed below m, and the names they count),
  the round's voters by channel, the area map when the console drew one (it needs the survey's
  boundaries, which only the console reads) and the translator; it returns a `SurveySection`
  both renderers draw (`templates/record/_report_body.html`, `report_pdf`).
* The charts are `survey_charts.survey_charts`' own, the console's and the projector's, each
  with its data table; the report adds no figure of its own, so nothing it prints is about
  fewer than m people: a suppressed figure is left out of the matrix and hatched, with "fewer
  than m" in its table cell, as on the screens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.core.shapes import GroupFigures, ServiceFigures, SurveyView
from app.record import survey_charts
from app.record.figure import Chart, number
from app.rules import survey_tally
from app.rules.explain import CHANNEL_NAMES, Translate

DASH = "\u2013"  # a figure not shown (suppressed, or not asked)


@dataclass(frozen=True, slots=True)
class Weighted:
    """The overall figures weighted to the population, beside the figures as answered."""

    heading: str
    text: str  # the margins and the effective sample size, in words
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # service, then the figures (DASH: not shown)


@dataclass(frozen=True, slots=True)
class SurveySection:
    heading: str  # "Community Survey"
    summary: str  # how many answered
    channels: str  # the responses by channel, in words ("" with none)
    suppression: str  # no figure about fewer than m people
    charts: tuple[Chart, ...]  # matrix, need ranking, co-production (and the area map)
    table_note: str  # what the table under each chart is
    focus_heading: str
    focus_intro: str
    focus: tuple[str, ...]  # "Public toilets: needed, with low satisfaction", in order
    weighted: Weighted | None  # None: no population was set


def _channels(by_channel: Mapping[str, int], _: Translate) -> str:
    parts = [
        f"{_(CHANNEL_NAMES[c]) if c in CHANNEL_NAMES else c} {n}"
        for c, n in by_channel.items()
        if n > 0
    ]
    return _("Responses by channel: %(channels)s.", channels=_(", ").join(parts)) if parts else ""


def _focus(view: SurveyView, titles: Mapping[str, str], _: Translate) -> tuple[str, ...]:
    reasons = {
        survey_tally.HIGH_NEED_LOW_SATISFACTION: _("needed, with low satisfaction"),
        survey_tally.LOW_VALUE: _("valued less than most"),
    }
    return tuple(
        f"{titles.get(f.service, f.service)}: " + "; ".join(reasons.get(r, r) for r in f.reasons)
        for f in survey_tally.focus_list(view["survey"])
    )


def _value(f: ServiceFigures | None) -> str:
    value = f.get("value") if f else None
    return number(value["mean"], 2) if value and value["mean"] is not None else DASH


def _need(f: ServiceFigures | None) -> str:
    need = f.get("need") if f else None
    return number(need["score"], 0) if need else DASH


def _by_service(group: GroupFigures) -> dict[str, ServiceFigures]:
    return {f["service"]: f for f in group["services"]}


def _weighted(view: SurveyView, titles: Mapping[str, str], _: Translate) -> Weighted | None:
    w = view["survey"]["weighted"]
    if w is None:
        return None
    answered = _by_service(view["survey"]["overall"])
    rows = tuple(
        (
            titles.get(f["service"], f["service"]),
            _value(f),
            _value(answered.get(f["service"])),
            _need(f),
            _need(answered.get(f["service"])),
        )
        for f in w["overall"]["services"]
    )
    return Weighted(
        heading=_("Weighted to the population"),
        text=_(
            "Weighted by %(margins)s; %(n)s people answered, worth %(effective)s in a simple "
            "random sample (the effective sample size).",
            margins=", ".join(w["margins"]),
            n=view["survey"]["overall"]["respondents"],
            effective=w["effective_n"],
        ),
        caption=_("Each service's figures, weighted and as answered"),
        columns=(
            _("Service"),
            _("Value, weighted"),
            _("Value, as answered"),
            _("Need score, weighted"),
            _("Need score, as answered"),
        ),
        rows=rows,
    )


def section(
    view: SurveyView,
    by_channel: Mapping[str, int],
    _: Translate,
    lang: str = "en",
    area_map: Chart | None = None,
) -> SurveySection:
    """The survey round's section in the language `_` translates to, the names of services,
    areas and segments in `lang` (else in English). `area_map`, when given, follows the other
    charts."""
    figures = view["survey"]
    titles = survey_charts.names_in(view["labels"]["services"], lang)
    drawn = survey_charts.survey_charts(figures, view["labels"], _, lang).all()
    focus = _focus(view, titles, _)
    return SurveySection(
        heading=_("Community Survey"),
        summary=_("%(n)s people answered.", n=figures["overall"]["respondents"] or 0),
        channels=_channels(by_channel, _),
        suppression=_(
            "A figure about fewer than %(m)s people is not shown, so that nobody can be picked "
            "out.",
            m=figures["m"],
        ),
        charts=drawn + ((area_map,) if area_map is not None else ()),
        table_note=_("The figures as a table"),
        focus_heading=_("The focus list"),
        focus_intro=_(
            "The services to take up next: those people need most whose users are least "
            "satisfied, and those valued least."
        )
        if focus
        else _(
            "No service stands out: none is both needed and unsatisfying, and none is valued "
            "much less than the others."
        ),
        focus=focus,
        weighted=_weighted(view, titles, _),
    )
