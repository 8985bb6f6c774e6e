"""A survey's results as charts (app/record/charts.py), in one language: the service map
(value against satisfaction), the need ranking, and the co-production map (who would do more,
by segment and by area).

Pure: the caller gives the results (`survey_tally.tabulate`), the names of what they count
(`SurveyLabels`, from `labels_of`: they travel with the results in a round's results view) and a
translator (`gettext`-like: msgid -> text), so the console, the projector and the report draw
the same charts from the same figures.
Suppressed figures (null in the results) are left out of the matrix and hatched elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from app.core.messages import N_
from app.core.shapes import GroupFigures, ServiceFigures, SurveyLabels, SurveyResults
from app.record import area_map, charts
from app.record.figure import Chart
from app.record.geojson import AreaMatch, GeoAreas
from app.rules import survey as sv

Translate = Callable[[str], str]

MATRIX_TITLE = N_("The service map: value and satisfaction")
MATRIX_DESC = N_(
    "Each service placed by how much people value it (up) and how satisfied its users are "
    "(right), split at %(basis)s. Fix first: valued, with low satisfaction. Savings may be "
    "accepted: less valued, with high satisfaction."
)
BASIS = {"median": N_("the services' medians"), "midpoint": N_("the middle of the scale")}
VALUE_AXIS = N_("Value (1-5)")
SATISFACTION_AXIS = N_("Satisfaction of users (1-5)")
SERVICE = N_("Service")
NEED_TITLE = N_("Need: how often people use each service")
NEED_DESC = N_("A need score from 0 (nobody uses it) to 100 (everyone uses it often).")
NEED_AXIS = N_("Need score (0-100)")
MORE_TITLE = N_("Co-production: who would do more to help")
MORE_DESC = N_(
    "The share of each group who would do more to help each service, in per cent; "
    "groups smaller than %(m)s are not shown."
)
MORE_LEGEND = N_("Would do more (%)")
HOURS_TITLE = N_("Co-production: hours offered a month")
HOURS_DESC = N_(
    "The hours a month that the people of each group would give to help each service, in all; "
    "groups smaller than %(m)s are not shown."
)
HOURS_LEGEND = N_("Hours a month")
MORE_WORDS = (MORE_TITLE, MORE_DESC, MORE_LEGEND)
HOURS_WORDS = (HOURS_TITLE, HOURS_DESC, HOURS_LEGEND)
EVERYONE = N_("Everyone")
MAP_TITLE = N_("%(figure)s by area: %(service)s")
MAP_DESC = N_(
    "Each area coloured by its figure; an area with fewer than %(m)s answers, or none, is hatched."
)
AREA = N_("Area")
# The figures an area map can show, in the order the console offers them.
MAP_FIGURES: Mapping[str, str] = {
    "value": N_("Value (mean, 1-5)"),
    "satisfaction": N_("Satisfaction of users (mean, 1-5)"),
    "need": N_("Need score (0-100)"),
    "more": N_("Would do more (%)"),
}


@dataclass(frozen=True)
class SurveyCharts:
    """The charts of one survey round, in reading order."""

    matrix: Chart
    need: Chart
    more: Chart
    hours: Chart | None  # None: no service asks for hours

    def all(self) -> tuple[Chart, ...]:
        shown = (self.matrix, self.need, self.more, self.hours)
        return tuple(c for c in shown if c is not None)


def _texts(english: str, translations: sv.Translations, name: str) -> dict[str, str]:
    out = {"en": english}
    out.update({lang: t[name] for lang, t in translations.items() if t.get(name, "").strip()})
    return out


def labels_of(
    survey: sv.Survey, segments: Iterable[tuple[str, str, sv.Translations]]
) -> SurveyLabels:
    """The names of the survey's services and areas and of the meeting's segments (key,
    label, translations), in every language they have."""
    return {
        "services": {s.key: _texts(s.title, s.translations, "title") for s in survey.services},
        "areas": {a.key: _texts(a.label, a.translations, "label") for a in survey.areas},
        "segments": {key: _texts(label, t, "label") for key, label, t in segments},
    }


def names_in(names: Mapping[str, Mapping[str, str]], lang: str) -> dict[str, str]:
    """Each name of a `SurveyLabels` part (services, areas, segments) in `lang`, else English."""
    return {key: texts.get(lang) or texts["en"] for key, texts in names.items()}


def _figures(group: GroupFigures) -> dict[str, ServiceFigures]:
    return {f["service"]: f for f in group["services"]}


def _half(ci: list[float] | None, mean: float) -> float | None:
    return None if not ci else max(mean - ci[0], ci[1] - mean)


def _matrix(results: SurveyResults, titles: Mapping[str, str], _: Translate) -> Chart:
    points = []
    for key, f in _figures(results["overall"]).items():
        value = f.get("value")
        sat = f.get("satisfaction")
        users = sat["users"] if sat else None
        if not value or value["mean"] is None or not users or users["mean"] is None:
            continue  # not asked, or suppressed: no place on the map
        points.append(
            charts.MatrixPoint(
                titles.get(key, key),
                users["mean"],
                value["mean"],
                _half(users["ci"], users["mean"]),
                _half(value["ci"], value["mean"]),
                value["n"],
            )
        )
    axes = results["axes"]
    basis = BASIS[axes["basis"]]
    top_left, top_right, bottom_left, bottom_right = (_(q) for q in charts.QUADRANT_NAMES)
    return charts.priority_matrix(
        points,
        title=_(MATRIX_TITLE),
        description=_(MATRIX_DESC) % {"basis": _(basis)},
        x_label=_(SATISFACTION_AXIS),
        y_label=_(VALUE_AXIS),
        x_range=(1.0, 5.0),
        y_range=(1.0, 5.0),
        x_split=axes["satisfaction"],
        y_split=axes["value"],
        quadrant_labels=(top_left, top_right, bottom_left, bottom_right),
        quadrant_header=_(charts.QUADRANT),
        label_header=_(SERVICE),
    )


def _need(results: SurveyResults, titles: Mapping[str, str], _: Translate) -> Chart:
    figures = _figures(results["overall"])
    ranked = list(results["need_ranking"])
    ranked += [k for k in titles if k not in ranked and k in figures and figures[k].get("need")]
    rows = []
    for key in ranked:
        need = figures[key].get("need")
        rows.append(
            charts.BarRow(
                titles.get(key, key), need["score"] if need else None, need["n"] if need else None
            )
        )
    return charts.ranking_bars(
        rows,
        title=_(NEED_TITLE),
        description=_(NEED_DESC),
        value_label=_(NEED_AXIS),
        value_range=(0.0, 100.0),
        n_text=_(charts.ANSWERS),
        interval_header=_(charts.INTERVAL),
        label_header=_(SERVICE),
        decimals=0,
    )


def _groups(
    results: SurveyResults, segments: Mapping[str, str], areas: Mapping[str, str], _: Translate
) -> list[tuple[str, GroupFigures]]:
    """Everyone, then each segment, then each area, by name: the co-production charts' columns."""
    groups: list[tuple[str, GroupFigures]] = [(_(EVERYONE), results["overall"])]
    groups += [(segments.get(g["segment"], g["segment"]), g) for g in results["segments"]]
    groups += [(areas.get(g["area"], g["area"]), g) for g in results["areas"]]
    return groups


def _by_group(
    results: SurveyResults,
    groups: Sequence[tuple[str, GroupFigures]],
    figure: str,
    pick: Callable[[ServiceFigures], float | None],
) -> tuple[list[str], list[list[float | None]]]:
    """The services that ask `figure`, and `pick` of each one's figures per group (None:
    hidden, or no group figures)."""
    asked = [f["service"] for f in results["overall"]["services"] if figure in f]
    cells: list[list[float | None]] = []
    for key in asked:
        row: list[float | None] = []
        for _label, group in groups:
            figures = _figures(group) if group["respondents"] else {}
            row.append(pick(figures[key]) if key in figures else None)
        cells.append(row)
    return asked, cells


def _more_share(f: ServiceFigures) -> float | None:
    more = f.get("more")
    return round(100 * more["any_share"], 1) if more else None


def _hours_sum(f: ServiceFigures) -> float | None:
    hours = f.get("hours")
    return float(hours["sum"]) if hours else None


def _heat(
    results: SurveyResults,
    titles: Mapping[str, str],
    groups: Sequence[tuple[str, GroupFigures]],
    _: Translate,
    figure: str,
    pick: Callable[[ServiceFigures], float | None],
    words: tuple[str, str, str],
) -> Chart:
    """A co-production heat map: `pick` of `figure` by service and group (a row per service
    that asks for it); its title, description and legend `words`."""
    asked, cells = _by_group(results, groups, figure, pick)
    title, description, legend = words
    m = results["m"]
    return charts.heat_map(
        [titles.get(k, k) for k in asked],
        [label for label, _group in groups],
        cells,
        title=_(title),
        description=_(description) % {"m": m},
        legend=charts.Legend(_(legend), _(charts.SUPPRESSED) % {"m": m}),
        corner=_(SERVICE),
    )


def survey_charts(
    results: SurveyResults, labels: SurveyLabels, _: Translate, lang: str = "en"
) -> SurveyCharts:
    """Every chart of a survey's results, its words in the language `_` translates to and the
    names of services, areas and segments in `lang` (else in English)."""
    titles = names_in(labels["services"], lang)
    segments, areas = names_in(labels["segments"], lang), names_in(labels["areas"], lang)
    groups = _groups(results, segments, areas, _)
    hours = any("hours" in f for f in results["overall"]["services"])
    return SurveyCharts(
        _matrix(results, titles, _),
        _need(results, titles, _),
        _heat(results, titles, groups, _, "more", _more_share, MORE_WORDS),
        _heat(results, titles, groups, _, "hours", _hours_sum, HOURS_WORDS) if hours else None,
    )


def _figure_of(f: ServiceFigures | None, figure: str) -> float | None:
    """One service's figure in one group, as a map shows it (None: not shown)."""
    if f is None:
        return None
    if figure == "value":
        value = f.get("value")
        return value["mean"] if value else None
    if figure == "satisfaction":
        sat = f.get("satisfaction")
        users = sat["users"] if sat else None
        return users["mean"] if users else None
    if figure == "need":
        need = f.get("need")
        return need["score"] if need else None
    more = f.get("more")
    return round(100 * more["any_share"], 1) if more else None


def survey_area_map(
    results: SurveyResults,
    labels: SurveyLabels,
    geo: GeoAreas,
    key_property: str,
    match: AreaMatch,
    _: Translate,
    lang: str = "en",
    *,
    service: str = "",
    figure: str = "more",
) -> Chart:
    """The council's areas coloured by one service's figure (`MAP_FIGURES`; default: who would
    do more), from the areas' suppressed figures: a hidden area is hatched. `service` defaults
    to the first service."""
    services = [f["service"] for f in results["overall"]["services"]]
    service = service if service in services else (services[0] if services else "")
    figure = figure if figure in MAP_FIGURES else "more"
    values: dict[str, float | None] = {}
    for group in results["areas"]:
        feature = match.matched.get(group["area"])
        if feature is None:
            continue
        figures = {f["service"]: f for f in group["services"]} if group["respondents"] else {}
        values[feature] = _figure_of(figures.get(service), figure)
    names = {
        match.matched[k]: v
        for k, v in names_in(labels["areas"], lang).items()
        if k in match.matched
    }
    titles = names_in(labels["services"], lang)
    return area_map.area_map(
        geo,
        values,
        key_property=key_property,
        title=_(MAP_TITLE)
        % {"figure": _(MAP_FIGURES[figure]), "service": titles.get(service, service)},
        description=_(MAP_DESC) % {"m": results["m"]},
        legend=charts.Legend(_(MAP_FIGURES[figure]), _(charts.SUPPRESSED) % {"m": results["m"]}),
        names=names,
        area_header=_(AREA),
    )


def default_area_map(
    results: SurveyResults,
    labels: SurveyLabels,
    geo: GeoAreas,
    key_property: str,
    match: AreaMatch,
    _: Translate,
    lang: str = "en",
) -> Chart:
    """The area map the report and the projector show (the console lets the facilitator choose
    another): the need score, by area, of the service people need most (the need ranking's
    first, else the first service). Who would do more is by area in the co-production chart
    already; need is where the focus list starts."""
    ranking = results["need_ranking"]
    return survey_area_map(
        results,
        labels,
        geo,
        key_property,
        match,
        _,
        lang,
        service=ranking[0] if ranking else "",
        figure="need",
    )
