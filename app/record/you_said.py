"""The public "You said" page's words and tables ("We asked, you said, we did", as Citizen
Space's pages): what the survey asked, in one language, and its own questions' answers as
tables safe to publish. The charts are survey_charts'; "We did" is we_did's.

Pure: the caller gives the survey, the results (`survey_tally.tabulate`, already suppressed by
group) and a translator. A custom choice question's table shows no count under m: each such
count reads "fewer than m"; in a single choice question, where the counts add up to the
answers, one hidden count would be the answers minus the others, so the smallest count shown
is hidden too. A short text's answers are never published (they may name someone): only how
many there were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from app.core.messages import N_
from app.core.shapes import Distribution, MeanFigure, SurveyResults
from app.rules import survey as sv

Translate = Callable[[str], str]

FEWER = N_("fewer than %(m)s")
AREA_QUESTION = N_("Which area do you live in?")
SCALE_WORDS = N_("1 (least) to 5 (most)")
TEXT_WORDS = N_("a short answer of your own")


@dataclass(frozen=True, slots=True)
class AskedQuestion:
    text: str
    answers: tuple[str, ...] = ()  # the choices offered, or how it was answered


@dataclass(frozen=True, slots=True)
class AskedGroup:
    """The questions about one service, or the survey's own questions (`service` None)."""

    title: str
    questions: tuple[AskedQuestion, ...]
    service: str | None = None


@dataclass(frozen=True, slots=True)
class AnswerRow:
    label: str
    count: str  # a number, or "fewer than m"
    share: str  # a percentage, or "" when the count is hidden


@dataclass(frozen=True, slots=True)
class CustomTable:
    """One custom question's answers as published: rows (choices), a mean (1-5) or a count
    of texts; `hidden` when the tally suppressed the whole figure."""

    question: str
    type: sv.CustomType
    n: int | None
    rows: tuple[AnswerRow, ...] = ()
    mean: float | None = None
    hidden: bool = False


def _own(texts: sv.Translations, lang: str, name: str, english: str) -> str:
    return texts.get(lang, {}).get(name) or english


def _choice(q: sv.CustomQuestion, value: str, english: str, lang: str) -> str:
    return _own(q.translations, lang, f"choice:{value}", english)


def asked(survey: sv.Survey, _: Translate, lang: str) -> list[AskedGroup]:
    """What the survey asked, in `lang`: each service's standard questions (worded around the
    service's name in that language), then the survey's own questions and the area."""
    groups = []
    for s in survey.services:
        name = _own(s.translations, lang, "title", s.title)
        scales = sv.STANDARD_SCALES
        questions = tuple(
            AskedQuestion(
                _(sv.QUESTION_TEXT[q]) % {"service": name},
                tuple(_(c.label) for c in getattr(scales[q], "choices", ())),
            )
            for q in s.questions
        )
        groups.append(AskedGroup(name, questions, s.key))
    own: list[AskedQuestion] = []
    for q in survey.custom:
        title = _own(q.translations, lang, "title", q.title)
        if q.type is sv.CustomType.SCALE:
            answers: tuple[str, ...] = (_(SCALE_WORDS),)
        elif q.type is sv.CustomType.TEXT:
            answers = (_(TEXT_WORDS),)
        else:
            answers = tuple(_choice(q, c.value, c.label, lang) for c in q.choices)
        own.append(AskedQuestion(title, answers))
    if survey.areas:
        own.append(
            AskedQuestion(
                _(AREA_QUESTION),
                tuple(_own(a.translations, lang, "label", a.label) for a in survey.areas),
            )
        )
    if own:
        groups.append(AskedGroup("", tuple(own)))
    return groups


def _rows(
    q: sv.CustomQuestion, figure: Distribution, m: int, _: Translate, lang: str
) -> tuple[AnswerRow, ...]:
    counts = {c.value: figure["counts"].get(c.value, 0) for c in q.choices}
    hidden = {v for v, n in counts.items() if n < m}
    if q.type is sv.CustomType.SINGLE and len(hidden) == 1 and counts[next(iter(hidden))] > 0:
        # The one hidden count = the answers - the others: hide the smallest shown too.
        shown = sorted((n, v) for v, n in counts.items() if v not in hidden)
        if shown:
            hidden.add(shown[0][1])
    fewer = _(FEWER) % {"m": m}
    n = figure["n"]
    return tuple(
        AnswerRow(
            _choice(q, c.value, c.label, lang),
            fewer if c.value in hidden else str(counts[c.value]),
            "" if c.value in hidden or not n else f"{round(100 * counts[c.value] / n)} %",
        )
        for c in q.choices
    )


def custom_tables(
    survey: sv.Survey, results: SurveyResults, _: Translate, lang: str
) -> list[CustomTable]:
    """The survey's own questions' answers, overall, as the page publishes them."""
    m = results["m"]
    by_key = {q.key: q for q in survey.custom}
    out = []
    for f in results["overall"]["custom"]:
        q = by_key.get(f["question"])
        if q is None:
            continue
        title = _own(q.translations, lang, "title", q.title)
        figure = f["figure"]
        if figure is None:
            out.append(CustomTable(title, q.type, None, hidden=True))
        elif q.type in (sv.CustomType.SINGLE, sv.CustomType.MULTIPLE):
            dist = cast(Distribution, figure)
            out.append(CustomTable(title, q.type, dist["n"], _rows(q, dist, m, _, lang)))
        elif q.type is sv.CustomType.SCALE:
            mean = cast(MeanFigure, figure)
            out.append(CustomTable(title, q.type, mean["n"], mean=mean["mean"]))
        else:
            out.append(CustomTable(title, q.type, figure["n"]))  # a CountFigure
    return out
