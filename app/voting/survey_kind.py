"""The Community Survey as an activity kind (issue 15): a round of kind `survey` asks every item
of the meeting's survey (app/rules/survey.py `items`), each on its own scale.

Its items come from the stored survey (app/voting/surveys.py), built once per survey text: the
standard questions read "How much do you value Mobile library?", in each language of the
catalogues around the service's own title in that language (its Welsh title inside the Welsh
wording); custom questions and the area question carry their choices' translations as
`choice:VALUE` in the item's translations. Every item names its `group`, the screen the phone
asks it on: one per service, one for the custom questions, one for the area.

Its public record (results.json) is each answer's count (`CountingKind`); the screens also get
the survey's own figures (`results_view`: the answers counted as their ballots were stored,
app/voting/survey_counts.py, protected as the responses CSV publishes them and tabulated by
app/rules/survey_tally.py's `tabulate_counts`: the same bytes as `public_files`, which
`covote survey tabulate` reproduces), with the names its charts need. A question left out is
not answered (`unanswered` None: the ballot file writes no row for it). Keypads answer the
questions whose scale has keys (1-5, need, satisfaction, a single choice or the area of at most
9); the keypad steps go through those only (`keypads_some`), phones and paper answer the rest.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping, Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import ClassVar

from babel.support import Translations
from sqlmodel import Session

from app.core.messages import N_
from app.core.shapes import GroupView, ItemView, ProposalItem, SurveyView
from app.core.vocab import SURVEY
from app.record import kind_rounds, survey_charts, survey_files
from app.rules import answers, survey_tally
from app.rules import survey as sv
from app.rules.scales import AnswerScale, RangeScale
from app.voting import meetings, survey_counts, surveys
from app.voting.activity import (
    CountingKind,
    Item,
    Response,
    Views,
    public_responses,
    scale_item_view,
)
from app.voting.models import Meeting, Round

CATALOGUES = Path(__file__).parent.parent / "translations"
ENGLISH = "en"
# The screens of the questions that are not about a service, and the area question.
QUESTIONS_GROUP = "q."
QUESTIONS_TITLE = N_("A few more questions")
AREA_TITLE = N_("Where you live")
AREA_QUESTION = N_("Which area do you live in?")
# A range wider than this is typed as a number on the phone: the snapshot carries its bounds,
# not every answer (the hours question's 0-100 would be 101 answers per service).
LISTED_RANGE = 10


@cache
def _languages() -> tuple[str, ...]:
    """The languages other than English with a compiled catalogue (cy)."""
    found = sorted(p.parent.parent.name for p in CATALOGUES.glob("*/LC_MESSAGES/messages.mo"))
    return tuple(lang for lang in found if lang != ENGLISH)


@cache
def _catalogue(lang: str) -> gettext.NullTranslations:
    return Translations.load(str(CATALOGUES), [lang])


def _own(texts: sv.Translations, lang: str, name: str, default: str) -> str:
    text = texts.get(lang, {}).get(name, "")
    return text if text.strip() else default


def _group(key: str, title: str, texts: Mapping[str, str]) -> dict[str, object]:
    return {"id": key, "title": title, "translations": {k: {"title": v} for k, v in texts.items()}}


def _service_items(s: sv.Service) -> list[Item]:
    group = _group(
        s.key,
        s.title,
        {lang: _own(s.translations, lang, "title", s.title) for lang in _languages()},
    )
    out = []
    for q in s.questions:
        wording = sv.QUESTION_TEXT[q]
        texts = {
            lang: {
                "title": _catalogue(lang).gettext(wording)
                % {"service": _own(s.translations, lang, "title", s.title)}
            }
            for lang in _languages()
        }
        out.append(
            Item(
                sv.item_key(s.key, q),
                wording % {"service": s.title},
                sv.STANDARD_SCALES[q],
                translations=texts,
                extra={"group": group},
            )
        )
    return out


def _choice_texts(lang: str, labels: Sequence[tuple[str, sv.Translations, str]]) -> dict[str, str]:
    """`choice:VALUE` -> the label in `lang`, for the choices that have one."""
    return {
        f"choice:{value}": texts[lang][name]
        for value, texts, name in labels
        if texts.get(lang, {}).get(name, "").strip()
    }


def _custom_item(q: sv.CustomQuestion, scale: AnswerScale, group: dict[str, object]) -> Item:
    texts: dict[str, dict[str, str]] = {}
    for lang in _languages():
        words = {"title": _own(q.translations, lang, "title", q.title)}
        words.update(
            {k: v for k, v in q.translations.get(lang, {}).items() if k.startswith("choice:")}
        )
        texts[lang] = words
    return Item(
        sv.CUSTOM_PREFIX + q.key, q.title, scale, translations=texts, extra={"group": group}
    )


def _area_item(survey: sv.Survey, scale: AnswerScale) -> Item:
    texts = {}
    for lang in _languages():
        words = {"title": _catalogue(lang).gettext(AREA_QUESTION)}
        words.update(_choice_texts(lang, [(a.key, a.translations, "label") for a in survey.areas]))
        texts[lang] = words
    group = _group(
        sv.AREA_ITEM,
        AREA_TITLE,
        {lang: _catalogue(lang).gettext(AREA_TITLE) for lang in _languages()},
    )
    return Item(sv.AREA_ITEM, AREA_QUESTION, scale, translations=texts, extra={"group": group})


@lru_cache(maxsize=surveys.PARSED_KEPT)
def survey_items(text: str) -> tuple[Item, ...]:
    """The items of the survey stored as `text`, in the order a respondent meets them."""
    survey = surveys.parse_stored(text)
    questions = _group(
        QUESTIONS_GROUP,
        QUESTIONS_TITLE,
        {lang: _catalogue(lang).gettext(QUESTIONS_TITLE) for lang in _languages()},
    )
    out: list[Item] = []
    for s in survey.services:
        out += _service_items(s)
    for item in sv.items(survey):
        if item.custom is not None:
            out.append(_custom_item(item.custom, item.scale, questions))
        elif item.key == sv.AREA_ITEM:
            out.append(_area_item(survey, item.scale))
    return tuple(out)


class SurveyKind(CountingKind):
    """The meeting's Community Survey, asked whole in one round."""

    key: ClassVar[str] = SURVEY
    label: ClassVar[str] = N_("Community survey")
    noun: ClassVar[str] = "question"
    unanswered: ClassVar[str | None] = None
    asks_all: ClassVar[bool] = True
    keypads_some: ClassVar[bool] = True
    unknown_items: ClassVar[str] = N_("Question(s) not in survey round %(n)s: %(keys)s.")
    answer_scales: ClassVar[tuple[AnswerScale, ...]] = (
        sv.VALUE_SCALE,
        sv.NEED_SCALE,
        sv.SATISFACTION_SCALE,
        sv.HELP_SCALE,
    )
    views: ClassVar[Views] = Views(
        phone_intro=N_(
            "One service at a time: answer what you can and leave the rest. Your answers are "
            "saved as you go, and you can come back to them until the survey closes."
        ),
        phone_partly_answered=N_(
            "%(answered)s of %(total)s questions answered; the others are left unanswered"
        ),
        phone_items="phone/items_survey.html",
        paper_items="print/items_survey.html",
        key_item="console/key_item_survey.html",
        console_results="console/results_survey.html",
        projector="charts",
    )

    def available(self, session: Session, meeting_id: int) -> list[Item]:
        text = surveys.survey_text(session, meeting_id)
        return [] if text is None else list(survey_items(text))

    def offline(
        self, opened: kind_rounds.Opened, public: kind_rounds.PublicFiles
    ) -> kind_rounds.OfflineRound | None:
        """The survey file's items (`survey.items`: their scales) that the round opened on, in
        its order, as `items` reads them. None without the survey file."""
        if public.survey is None:
            return None
        scales = {i.key: i.scale for i in sv.items(public.survey)}
        items = [(key, scales[key]) for key in opened.keys if key in scales]
        return kind_rounds.OfflineRound(self.key, dict(items), items)

    def item_view(self, item: Item) -> ProposalItem | ItemView:
        view = scale_item_view(item)
        scale = item.scale
        if isinstance(scale, RangeScale) and scale.high - scale.low > LISTED_RANGE:
            view["scale"] = {**view["scale"], "answers": []}  # typed as a number
        group = item.extra.get("group")
        if isinstance(group, dict):
            view["group"] = GroupView(
                id=str(group["id"]), title=str(group["title"]), translations=group["translations"]
            )
        return view

    def result(self, session: Session, meeting: Meeting, rnd: Round) -> list[answers.ItemCount]:
        """Each answer's count (the record's results.json), read from the kept counts as the
        screens' are (`results_view`): the same as counting the responses read."""
        return self._totals(session, meeting, rnd, survey_counts.stored_counts(session, rnd))

    def _totals(
        self, session: Session, meeting: Meeting, rnd: Round, counted: survey_counts.StoredCounts
    ) -> list[answers.ItemCount]:
        assert meeting.id is not None
        items = self.items(session, meeting.id, rnd.proposal_keys)
        return answers.count_answer_totals(
            [(i.key, i.scale) for i in items], counted.totals().items()
        )

    def results_view(self, session: Session, meeting: Meeting, rnd: Round) -> SurveyView:
        """The counts, the survey's figures and the names its charts need."""
        assert meeting.id is not None
        text = surveys.survey_text(session, meeting.id)
        survey = surveys.parse_stored(text) if text is not None else sv.Survey("", ())
        segments = [
            (s.key, s.label, s.translations or {})
            for s in meetings.segments_of(session, meeting.id)
        ]
        population = surveys.population_of(session, meeting.id, survey)
        # Counted as the ballots were stored (issue 15: 100,000 respondents in about a
        # second), not read: the same counts as `view_of` and `public_files` over the
        # responses would make, so the same bytes (tests/test_survey_counts.py). The figures
        # do not depend on who is who, so no pseudonyms; the protection and the tabulation
        # are the record's.
        counted = survey_counts.stored_counts(session, rnd)
        items = self.items(session, meeting.id, rnd.proposal_keys)
        totals = self._totals(session, meeting, rnd, counted)
        people, given = survey_files.public_counts(
            survey, counted.people, counted.answers, meeting.group_min
        )
        table = survey_tally.count_table(survey, given)
        return {
            **answers.answers_to_json(totals),
            "items": [scale_item_view(i) for i in items],
            "survey": survey_tally.tabulate_counts(
                survey, people, table, meeting.group_min, population
            ),
            "labels": survey_charts.labels_of(survey, segments),
        }


def _published(
    survey: sv.Survey, responses: Sequence[tuple[str, Response]], m: int
) -> list[survey_files.PublicResponse]:
    pairs = [(p, survey_tally.SurveyResponse(r.segments, r.marks)) for p, r in responses]
    return survey_files.public_responses(survey, pairs, m)


def public_files(session: Session, meeting: Meeting, rnd: Round) -> tuple[str, str] | None:
    """A survey round's responses CSV and results JSON as the record publishes them (None: the
    meeting has no survey): `covote survey tabulate RESPONSES --survey survey.json --m M
    [--population survey-population.csv]`, M the meeting's m, prints the results JSON byte for
    byte."""
    assert meeting.id is not None
    text = surveys.survey_text(session, meeting.id)
    if text is None:
        return None
    survey = surveys.parse_stored(text)
    m = meeting.group_min
    published = _published(survey, public_responses(session, meeting, rnd), m)
    population = surveys.population_of(session, meeting.id, survey)
    results = survey_tally.tabulate(survey, survey_files.tally_input(published), m, population)
    return (
        survey_files.write_responses_csv(survey, published),
        survey_files.dumps_survey_results(results),
    )
