"""The Community Survey's tabulation: every figure of the results, for everyone, each segment
and each area, with small groups suppressed, and optionally weighted to the population.

Pure: no I/O, no clock. `tabulate(survey, responses, m, population)` gives the results JSON
(`shapes.SurveyResults`); the server and `covote survey tabulate` call it on the same public
responses, so their JSON agrees byte for byte (`survey_files.dumps_survey_results`).

**How.** One pass counts every answer by item and by *cell* (a respondent's area, or None, and
segments); everything else is computed from those counts, so the work after the pass grows
with the cells, not the respondents. Sums run through `math.fsum` over counts (exact, so no
order of the responses changes a bit); floats are rounded for display once, at the end
(`ROUND_TO`).

**Figures.** Per service: value (mean, 95 % interval), satisfaction (mean over those who use
it, interval, the share who don't), need (distribution and a score 0-100), what people already
do and would do more (by way, and "any"), hours offered (sum, median), the priority-matrix
quadrant; the need ranking; custom questions' distributions or means; a text question's
answers are counted, never tabulated. Intervals are t-based (`scipy.special.stdtrit`, df =
n - 1; weighted: Kish's effective n) and kept within the scale.

**The priority matrix** splits value and satisfaction at the median of the services' overall
means, not at the scale's midpoint 3: people rarely call a public service worthless, so against
3 nearly every service is "high value" and the matrix sorts nothing, while the median splits
the council's services into the halves it must choose between (Importance-Performance
Analysis's data-centred axes; the median so that one outlying service does not move the
lines). With fewer than two services to compare it falls back to the midpoint (`Axes.basis`).
A mean on an axis counts as high. Every group's quadrant uses the overall axes; the weighted
figures use axes from the weighted means.

**Suppression.** Each figure is computed from a group: the respondents of everyone, a segment
or an area who answered its question (its *family*: a question's answers; satisfaction's users
are a family of their own). A group under m is suppressed, and so is any group whose showing
would let a smaller one be worked out from the others (overall minus the areas shown, a segment
minus an area...). The rule (`_shown`): the groups shown, and the weights' classes when
weighted, divide the family's respondents into classes that no shown figure tells apart; every
figure shown is a sum over whole classes, so any group anyone can derive by adding and
subtracting shown figures is a union of classes. Groups are admitted largest first only while
every class stays empty or at least m, so no derivable group is under m. (Answer counts within
a shown group are shown, as a round's group totals are.) The overall number of respondents is
always shown, as a round's turnout is.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from app.core.shapes import (
    Axes,
    CountFigure,
    CustomFigures,
    Distribution,
    GroupFigures,
    HelpFigure,
    HoursFigure,
    MeanFigure,
    NeedFigure,
    SatisfactionFigure,
    ServiceFigures,
    SurveyResults,
    WeightedResults,
)
from app.core.vocab import Quadrant
from app.rules import survey as sv
from app.rules.scales import MULTI_SEPARATOR, ChoiceScale, MultiChoiceScale, TextScale
from app.rules.survey_weights import Cell, Population, cell_order, rake

FORMAT: Literal["covote-survey-results/1"] = "covote-survey-results/1"
ROUND_TO = 3  # decimals of every mean, share, score and interval: 3.417, 0.125, 62.5
CONFIDENCE = 0.95
MIDPOINT = 3.0  # of the 1-5 scales
NEED_POINTS = {sv.NEED_NEVER: 0.0, sv.NEED_SOMETIMES: 50.0, sv.NEED_OFTEN: 100.0}
WAYS = tuple(c.value for c in sv.HELP_WAYS)

Group = tuple[str, str]  # ("area", key) or ("segment", id)
Data = Counter[tuple[str, float]]  # (answer, weight) -> respondents


@dataclass(frozen=True, slots=True)
class SurveyResponse:
    """One respondent's answers: their meeting segments and their stored answer by item key
    (`SERVICE.value`, `q.KEY`, `area`; app/rules/survey.py)."""

    segments: frozenset[str]
    marks: Mapping[str, str]


def _cell(r: SurveyResponse) -> Cell:
    return (r.marks.get(sv.AREA_ITEM), r.segments)


Answer = tuple[Cell, str, str, int]  # (cell, item key, answer, respondents who gave it)


def count(
    survey: sv.Survey, responses: Iterable[SurveyResponse]
) -> tuple[Counter[Cell], dict[str, dict[Cell, Counter[str]]]]:
    """Respondents by cell, and each item's answers by cell: the one pass over the responses
    (then `count_table`).

    Raises:
        ValueError: an answer its item's scale does not take.
    """
    number: dict[Cell, int] = {}  # cells by a small number: cheaper to hash 3 million times
    rows = [(number.setdefault(_cell(r), len(number)), r.marks) for r in responses]
    cells = list(number)
    people = Counter({cells[i]: n for i, n in Counter(i for i, _ in rows).items()})
    # One C-level count of every (cell, item, answer), then a look at each distinct one: the
    # pass over 3 million answers is the whole cost, so nothing else happens in it.
    answers = Counter((i, k, v) for i, marks in rows for k, v in marks.items())
    return people, count_table(survey, ((cells[i], k, v, n) for (i, k, v), n in answers.items()))


def count_table(
    survey: sv.Survey, answers: Iterable[Answer]
) -> dict[str, dict[Cell, Counter[str]]]:
    """Each item's answers by cell from `(cell, item, answer, respondents)` counts, however
    they were counted (`count` in Python, `app/voting/survey_counts.py` in SQL): a
    `(cell, item, answer)` may come more than once, its respondents are added.

    Counts of items the survey does not ask are ignored (a text's value is never looked at).

    Raises:
        ValueError: an answer its item's scale does not take.
    """
    items = {i.key: i for i in sv.items(survey)}
    table: dict[str, dict[Cell, Counter[str]]] = {k: {} for k in items}
    checked: set[tuple[str, str]] = set()
    for cell, key, value, n in answers:
        item = items.get(key)
        if item is None:
            continue
        if isinstance(item.scale, TextScale):
            value = ""  # counted, never tabulated
        elif (key, value) not in checked:
            if item.scale.parse(value) != value:
                raise ValueError(f"{key}: {value!r} is not an answer to it")
            checked.add((key, value))
        table[key].setdefault(cell, Counter())[value] += n
    return table


# --- suppression ------------------------------------------------------------------------------


def _members(group: Group, cell: Cell) -> bool:
    return cell[0] == group[1] if group[0] == "area" else group[1] in cell[1]


def _acceptable(
    sizes: Mapping[Cell, int], label: Mapping[Cell, tuple[object, ...]], m: int
) -> bool:
    classes: Counter[tuple[object, ...]] = Counter()
    for cell, lab in label.items():
        classes[lab] += sizes[cell]
    return all(n >= m for n in classes.values())


def _shown(
    sizes: Mapping[Cell, int], groups: Sequence[Group], m: int, *, always: bool = False
) -> tuple[bool, set[Group], dict[Cell, tuple[object, ...]]]:
    """Which of a family's figures may be shown: overall (always, for the respondents), and
    which groups; with the classes of cells the shown groups leave together (module doc)."""
    total = sum(sizes.values())
    label: dict[Cell, tuple[object, ...]] = {c: () for c, n in sizes.items() if n}
    if total < m:
        return always, set(), label
    size = {g: sum(n for c, n in sizes.items() if _members(g, c)) for g in groups}
    shown: set[Group] = set()
    for g in sorted(groups, key=lambda g: (-size[g], groups.index(g))):
        if size[g] < m:
            continue
        trial = {c: (*lab, _members(g, c)) for c, lab in label.items()}
        if _acceptable(sizes, trial, m):
            label, shown = trial, shown | {g}
    return True, shown, label


def shown_groups(sizes: Mapping[Cell, int], groups: Sequence[Group], m: int) -> set[Group]:
    """The groups whose counts may be shown of people counted by cell (`sizes`), by the rule
    above (`_shown`): none when fewer than m in all. For other counts than the survey's (the
    Lab's pledges, app/rules/lab_pledges.py)."""
    return _shown(sizes, groups, m)[1]


# --- figures ----------------------------------------------------------------------------------


def _data(
    counts: Mapping[Cell, Counter[str]], cells: Iterable[Cell], weight: Mapping[Cell, float]
) -> Data:
    data: Data = Counter()
    for cell in cells:
        for value, n in counts.get(cell, Counter()).items():
            data[(value, weight.get(cell, 1.0))] += n
    return data


def _n(data: Data) -> int:
    return sum(data.values())


def _wsum(data: Data, f: Callable[[str], float] = lambda v: 1.0) -> float:
    return math.fsum(w * n * f(v) for (v, w), n in data.items())


def _t_quantile(df: float, p: float) -> float:
    """Student's t quantile (df may be fractional: Kish's effective n - 1)."""
    # Imported here: scipy takes most of a second to import, which every `covote serve` and
    # test server would otherwise pay at start-up for a figure only survey results need.
    from scipy.special import stdtrit

    return float(stdtrit(df, p))


def _mean(data: Data, low: float = 1.0, high: float = 5.0) -> MeanFigure:
    n = _n(data)
    if not n:
        return {"n": 0, "mean": None, "ci": None}
    sw = _wsum(data)
    # Clamped: a weighted sum may round past the scale's end in its last bit.
    mean = min(max(_wsum(data, float) / sw, low), high)
    effective = sw * sw / math.fsum(w * w * k for (_, w), k in data.items())
    if n < 2 or effective <= 1.0:
        return {"n": n, "mean": mean, "ci": None}
    squares = math.fsum(w * k * (float(v) - mean) ** 2 for (v, w), k in data.items())
    se = math.sqrt(squares / sw * effective / (effective - 1) / effective)
    t = _t_quantile(effective - 1, (1 + CONFIDENCE) / 2)
    return {"n": n, "mean": mean, "ci": [max(mean - t * se, low), min(mean + t * se, high)]}


def _distribution(data: Data, choices: Sequence[str], multiple: bool) -> Distribution:
    def has(choice: str) -> Callable[[str], float]:
        if multiple:
            return lambda v: float(choice in v.split(MULTI_SEPARATOR))
        return lambda v: float(v == choice)

    sw = _wsum(data)
    counts = {c: sum(n for (v, _), n in data.items() if has(c)(v)) for c in choices}
    shares = {c: _wsum(data, has(c)) / sw if sw else 0.0 for c in choices}
    return {"n": _n(data), "counts": counts, "shares": shares}


def _need(data: Data) -> NeedFigure:
    d = _distribution(data, list(NEED_POINTS), multiple=False)
    sw = _wsum(data)
    score = _wsum(data, lambda v: NEED_POINTS[v]) / sw if sw else 0.0
    return {**d, "score": score}


def _help(data: Data) -> HelpFigure:
    d = _distribution(data, WAYS, multiple=True)
    return {
        **d,
        "any": d["n"] - d["counts"][sv.NONE],
        "any_share": 1.0 - d["shares"][sv.NONE] if d["n"] else 0.0,
    }


def _hours(data: Data) -> HoursFigure:
    merged = _merged(data)
    n = sum(merged.values())

    def at(position: int) -> int:  # the position-th smallest answer (0-based)
        for value in sorted(merged):
            position -= merged[value]
            if position < 0:
                return value
        raise AssertionError("position beyond the answers")

    median = (at((n - 1) // 2) + at(n // 2)) / 2
    return {"n": n, "sum": sum(v * k for v, k in merged.items()), "median": median}


def _merged(data: Data) -> Counter[int]:
    """Whole-number answers and how many gave each, weights aside."""
    out: Counter[int] = Counter()
    for (v, _), n in data.items():
        out[int(v)] += n
    return out


def _satisfaction(data: Data, users: MeanFigure | None) -> SatisfactionFigure:
    dont = sum(n for (v, _), n in data.items() if v == sv.DONT_USE)
    sw = _wsum(data)
    share = _wsum(data, lambda v: float(v == sv.DONT_USE)) / sw if sw else 0.0
    return {"n": _n(data), "dont_use": dont, "dont_use_share": share, "users": users}


# --- one group's figures ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Family:
    """A question's answers by cell, and what of them may be shown."""

    counts: Mapping[Cell, Counter[str]]
    overall: bool
    groups: set[Group]
    label: Mapping[Cell, tuple[object, ...]]


def _family(
    counts: Mapping[Cell, Counter[str]], groups: Sequence[Group], m: int, *, always: bool = False
) -> _Family:
    sizes = {c: sum(v.values()) for c, v in counts.items()}
    overall, shown, label = _shown(sizes, groups, m, always=always)
    return _Family(counts, overall, shown, label)


def _users(counts: Mapping[Cell, Counter[str]]) -> dict[Cell, Counter[str]]:
    return {c: Counter({v: n for v, n in k.items() if v != sv.DONT_USE}) for c, k in counts.items()}


class _Tabulation:
    """The families of one survey's counts, and the figures of any group from them."""

    def __init__(
        self,
        survey: sv.Survey,
        people: Mapping[Cell, int],
        table: Mapping[str, Mapping[Cell, Counter[str]]],
        groups: Sequence[Group],
        m: int,
    ) -> None:
        self.survey, self.m, self.groups = survey, m, groups
        self.cells = sorted(people, key=cell_order)
        everyone = {c: Counter({"": n}) for c, n in people.items()}
        self.families = {"": _family(everyone, groups, m, always=True)}
        for key, counts in table.items():
            self.families[key] = _family(counts, groups, m)
            if key.endswith("." + sv.Standard.SATISFACTION):
                self.families[key + ":users"] = _family(_users(counts), groups, m)

    def _shows(self, fam: _Family, group: Group | None, weight: Mapping[Cell, float]) -> bool:
        if group is not None:
            return group in fam.groups
        if not fam.overall:
            return False
        if not weight:
            return True
        sizes = {c: sum(v.values()) for c, v in fam.counts.items()}
        label = {c: (*lab, weight[c]) for c, lab in fam.label.items()}
        return _acceptable(sizes, label, self.m)

    def data(self, key: str, group: Group | None, weight: Mapping[Cell, float]) -> Data | None:
        """A family's answers within `group` (None: everyone), or None when suppressed."""
        fam = self.families[key]
        if not self._shows(fam, group, weight):
            return None
        cells = [c for c in self.cells if group is None or _members(group, c)]
        return _data(fam.counts, cells, weight)

    def service(
        self, s: sv.Service, group: Group | None, w: Mapping[Cell, float]
    ) -> ServiceFigures:
        out: ServiceFigures = {"service": s.key, "quadrant": None}  # placed by `_place`
        for q in s.questions:
            key = sv.item_key(s.key, q)
            data = self.data(key, group, w)
            if q is sv.Standard.VALUE:
                out["value"] = None if data is None else _mean(data)
            elif q is sv.Standard.NEED:
                out["need"] = None if data is None else _need(data)
            elif q is sv.Standard.SATISFACTION:
                users = self.data(key + ":users", group, w)
                mean = None if users is None else _mean(users)
                out["satisfaction"] = None if data is None else _satisfaction(data, mean)
            elif q is sv.Standard.CONTRIBUTES:
                out["contributes"] = None if data is None else _help(data)
            elif q is sv.Standard.MORE:
                out["more"] = None if data is None else _help(data)
            elif not w:  # hours: offers of real people, never weighted
                out["hours"] = None if data is None else _hours(data)
        return out

    def custom(
        self, q: sv.CustomQuestion, group: Group | None, w: Mapping[Cell, float]
    ) -> CustomFigures:
        data = self.data(sv.CUSTOM_PREFIX + q.key, group, w)
        figure: Distribution | MeanFigure | CountFigure | None = None
        if data is not None:
            scale = sv.custom_scale(q)
            if isinstance(scale, ChoiceScale | MultiChoiceScale):
                choices = [c.value for c in scale.choices]
                figure = _distribution(data, choices, isinstance(scale, MultiChoiceScale))
            elif isinstance(scale, TextScale):
                figure = {"n": _n(data)}
            else:
                figure = _mean(data)
        return {"question": q.key, "type": q.type.value, "figure": figure}

    def group(self, group: Group | None, weight: Mapping[Cell, float]) -> GroupFigures:
        everyone = self.data("", group, {})
        return {
            "respondents": None if everyone is None else _n(everyone),
            "services": [self.service(s, group, weight) for s in self.survey.services],
            "custom": [self.custom(q, group, weight) for q in self.survey.custom],
        }


# --- the matrix and the ranking -----------------------------------------------------------------


def _means(f: ServiceFigures) -> tuple[float, float] | None:
    value, sat = f.get("value"), f.get("satisfaction")
    users = sat["users"] if sat else None
    if value and users and value["mean"] is not None and users["mean"] is not None:
        return value["mean"], users["mean"]
    return None


def axes(overall: GroupFigures) -> Axes:
    """The priority matrix's axes (module doc): the medians of the services' means when at
    least two services have both, else the scale's midpoint."""
    pairs = [p for f in overall["services"] if (p := _means(f)) is not None]
    if len(pairs) < 2:
        return {"basis": "midpoint", "value": MIDPOINT, "satisfaction": MIDPOINT}
    return {
        "basis": "median",
        "value": statistics.median(v for v, _ in pairs),
        "satisfaction": statistics.median(s for _, s in pairs),
    }


def quadrant(value: float, satisfaction: float, ax: Axes) -> Quadrant:
    high_value, high_satisfaction = value >= ax["value"], satisfaction >= ax["satisfaction"]
    if high_value:
        return Quadrant.KEEP_UP if high_satisfaction else Quadrant.FIX_FIRST
    return Quadrant.SAVINGS if high_satisfaction else Quadrant.LOW_PRIORITY


def _place(group: GroupFigures, ax: Axes) -> None:
    for f in group["services"]:
        if (p := _means(f)) is not None:
            f["quadrant"] = quadrant(*p, ax).value


def need_ranking(overall: GroupFigures) -> list[str]:
    """Services by need score, highest first (ties: the survey's order); suppressed left out."""
    scored = [(f["service"], need["score"]) for f in overall["services"] if (need := f.get("need"))]
    return [key for key, _ in sorted(scored, key=lambda ks: -ks[1])]


# --- the results ------------------------------------------------------------------------------


def _rounded(obj: Any) -> Any:
    """The one place floats are rounded for display (`ROUND_TO` decimals; no -0.0)."""
    if isinstance(obj, float):
        return round(obj, ROUND_TO) + 0.0
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rounded(v) for v in obj]
    return obj


def tabulate(
    survey: sv.Survey,
    responses: Iterable[SurveyResponse],
    m: int,
    population: Population | None = None,
) -> SurveyResults:
    """The survey's results (module doc; `shapes.SurveyResults`), deterministic in key order
    and independent of the responses' order.

    Args:
        m: the meeting's group_min, the smallest group whose figures may be shown (>= 1).
        population: shares to weight to; None (or empty): no weighted figures.

    Raises:
        ValueError: m below 1, or an answer its item's scale does not take.
    """
    if m < 1:
        raise ValueError("m must be at least 1")
    return tabulate_counts(survey, *count(survey, responses), m, population)


def tabulate_counts(
    survey: sv.Survey,
    people: Mapping[Cell, int],
    table: Mapping[str, Mapping[Cell, Counter[str]]],
    m: int,
    population: Population | None = None,
) -> SurveyResults:
    """`tabulate` from counts already made: respondents by cell and each item's answers by
    cell (`count`, or `count_table` over counts made elsewhere, e.g. in SQL). The same counts
    give the same results, byte for byte, however they were made or ordered.

    Raises:
        ValueError: m below 1.
    """
    if m < 1:
        raise ValueError("m must be at least 1")
    # In one order whatever the counter's: raking and the families then see the same dicts.
    people = {c: people[c] for c in sorted(people, key=cell_order) if people[c]}
    segments = sorted({s for cell in people for s in cell[1]})
    groups: list[Group] = [("area", a.key) for a in survey.areas]
    groups += [("segment", s) for s in segments]
    tab = _Tabulation(survey, people, table, groups, m)
    overall = tab.group(None, {})
    ax = axes(overall)
    by_segment = [{"segment": s, **tab.group(("segment", s), {})} for s in segments]
    by_area = [{"area": a.key, **tab.group(("area", a.key), {})} for a in survey.areas]
    for g in [overall, *by_segment, *by_area]:
        _place(cast(GroupFigures, g), ax)
    weighted: WeightedResults | None = None
    if population is not None and (population.areas or population.segments):
        w = rake(people, population)
        w_overall = tab.group(None, w.weights)
        w_axes = axes(w_overall)
        _place(w_overall, w_axes)
        weighted = {
            "margins": w.margins,
            "skipped": w.skipped,
            "effective_n": w.effective_n,
            "iterations": w.iterations,
            "converged": w.converged,
            "axes": w_axes,
            "overall": w_overall,
            "need_ranking": need_ranking(w_overall),
        }
    results: SurveyResults = {
        "format": FORMAT,
        "m": m,
        "axes": ax,
        "overall": overall,
        "need_ranking": need_ranking(overall),
        "segments": cast(Any, by_segment),
        "areas": cast(Any, by_area),
        "weighted": weighted,
    }
    return cast(SurveyResults, _rounded(results))


@dataclass(frozen=True, slots=True)
class Focus:
    """A service on the focus list and why: `high_need_low_satisfaction` (its need score at or
    above the services' median and its users' satisfaction below the matrix's split) or
    `low_value` (its value below the split): what the next step of the method takes up."""

    service: str
    reasons: tuple[str, ...]


HIGH_NEED_LOW_SATISFACTION = "high_need_low_satisfaction"
LOW_VALUE = "low_value"


def focus_list(results: SurveyResults) -> list[Focus]:
    """The services a Co-Production Lab or a budget meeting should take up next, from the
    overall figures (suppressed ones play no part), in the need ranking's order, then the
    others in the survey's order."""
    overall = results["overall"]["services"]
    ax = results["axes"]
    scores = sorted(need["score"] for f in overall if (need := f.get("need")))
    median_need = statistics.median(scores) if scores else None
    order = {key: i for i, key in enumerate(results["need_ranking"])}
    out = []
    for i, f in enumerate(overall):
        reasons = []
        need, sat, value = f.get("need"), f.get("satisfaction"), f.get("value")
        users = sat["users"] if sat else None
        if (
            need
            and median_need is not None
            and need["score"] >= median_need
            and users
            and users["mean"] is not None
            and users["mean"] < ax["satisfaction"]
        ):
            reasons.append(HIGH_NEED_LOW_SATISFACTION)
        if value and value["mean"] is not None and value["mean"] < ax["value"]:
            reasons.append(LOW_VALUE)
        if reasons:
            out.append(
                (order.get(f["service"], len(order) + i), Focus(f["service"], tuple(reasons)))
            )
    return [focus for _, focus in sorted(out, key=lambda pair: pair[0])]
