"""The Set-up page's Survey section: the questions of the facilitator's own (single choice,
multiple choice, 1-5, short text), their fields as the page draws them and as posted, read back
into the survey (app/console/survey.py saves it through the section's one save path).

A question's inputs are named `cq-N-…` (was, key, type, title, title_cy, most, max_length,
remove) and its choices' `cq-N-c-M-…` (was, key, label, label_cy, remove); N and M count from 0
while `…-was` is there, as in the other set-up tables. Input ids equal the names, so a problem
points at its field. Without JavaScript the form has a fixed number of blank rows; "more rows"
(`more`: `question`, or a question's N for its choices) draws the page again with what was typed
and more blanks, saving nothing. `move` (`N:up`, `N:down`) saves with question N moved.

What the form does not show (other languages than Welsh) is kept from the stored survey by the
rows' `was` keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from app.console.forms import checked
from app.console.setup_form import MAX_ROWS
from app.core.errors import BadInput, CovoteError, InvalidForm
from app.core.inputs import bounded_int, slug
from app.core.messages import N_
from app.rules import survey as sv
from app.rules.scales import TEXT_MAX_LENGTH, Choice
from app.voting.models import Meeting
from app.voting.sections import WELSH

BLANK_QUESTIONS = 1  # a blank question under the others: room to add one per save
BLANK_CHOICES = 3  # blank choice rows under each question's choices ("more rows" adds these)
MAX_CHOICE_KEY = 64  # a choice's id, as the survey file bounds it (survey_file.Key)
DEFAULT_MAX_LENGTH = 200  # a short text's limit when none is typed (the survey file's default)
TYPE_NAMES = {
    sv.CustomType.SINGLE: N_("Single choice"),
    sv.CustomType.MULTIPLE: N_("Multiple choice"),
    sv.CustomType.SCALE: N_("Scale of 1 to 5"),
    sv.CustomType.TEXT: N_("Short text"),
}


@dataclass
class ChoiceRow:
    was: str = ""
    key: str = ""
    label: str = ""
    label_cy: str = ""
    remove: bool = False

    def blank(self) -> bool:
        return not (self.was or self.key or self.label or self.label_cy)


@dataclass
class QuestionRow:
    """One question's fieldset, as drawn or posted (text as typed: nothing parsed yet)."""

    was: str = ""
    key: str = ""
    type: str = sv.CustomType.SINGLE.value
    title: str = ""
    title_cy: str = ""
    most: str = ""
    max_length: str = ""
    remove: bool = False
    choices: list[ChoiceRow] = field(default_factory=list)

    def blank(self) -> bool:
        texts = (self.was, self.key, self.title, self.title_cy, self.most, self.max_length)
        return not any(texts) and all(c.blank() for c in self.choices)


def _blank_choices(n: int = BLANK_CHOICES) -> list[ChoiceRow]:
    return [ChoiceRow() for _ in range(n)]


def question_row(q: sv.CustomQuestion | None) -> QuestionRow:
    """A stored question's fieldset (None: a blank one), with blank choice rows under it."""
    if q is None:
        return QuestionRow(choices=_blank_choices())
    cy = q.translations.get(WELSH, {})
    return QuestionRow(
        was=q.key,
        key=q.key,
        type=q.type.value,
        title=q.title,
        title_cy=cy.get("title", ""),
        most="" if q.most is None else str(q.most),
        max_length=str(q.max_length) if q.type is sv.CustomType.TEXT else "",
        choices=[
            ChoiceRow(c.value, c.value, c.label, cy.get(f"choice:{c.value}", "")) for c in q.choices
        ]
        + _blank_choices(),
    )


def context(survey: sv.Survey | None) -> dict[str, Any]:
    """What the questions' form reads (survey_form.survey_context adds it)."""
    rows = [question_row(q) for q in (survey.custom if survey else ())]
    rows += [question_row(None) for _ in range(BLANK_QUESTIONS)]
    return {
        "cq_rows": rows,
        "cq_types": list(TYPE_NAMES.items()),
        "cq_max_choices": sv.MAX_CHOICES,
        "cq_text_max": TEXT_MAX_LENGTH,
        "cq_unsaved": False,
    }


def _text(form: FormData, name: str) -> str:
    return str(form.get(name, "")).strip()


def question_rows(form: FormData) -> list[QuestionRow]:
    """The questions' fieldsets as posted (`cq-N-…` while `cq-N-was` is there)."""
    rows = []
    for i in range(MAX_ROWS):
        at = f"cq-{i}"
        if f"{at}-was" not in form:
            break
        choices = []
        for j in range(sv.MAX_CHOICES + MAX_ROWS):
            c = f"{at}-c-{j}"
            if f"{c}-was" not in form:
                break
            choices.append(
                ChoiceRow(
                    _text(form, f"{c}-was"),
                    _text(form, f"{c}-key"),
                    _text(form, f"{c}-label"),
                    _text(form, f"{c}-label_cy"),
                    checked(form, f"{c}-remove"),
                )
            )
        rows.append(
            QuestionRow(
                was=_text(form, f"{at}-was"),
                key=_text(form, f"{at}-key"),
                type=_text(form, f"{at}-type"),
                title=_text(form, f"{at}-title"),
                title_cy=_text(form, f"{at}-title_cy"),
                most=_text(form, f"{at}-most"),
                max_length=_text(form, f"{at}-max_length"),
                remove=checked(form, f"{at}-remove"),
                choices=choices,
            )
        )
    return rows


def typed(form: FormData) -> dict[str, Any]:
    """The questions as posted, so a refused save (or "more rows") shows what was typed, with
    the blanks "more rows" asked for (`more`: `question`, or a question's N); {} when the form
    had no questions."""
    rows = question_rows(form)
    if not rows:
        return {}
    more = _text(form, "more")
    if more == "question" and len(rows) < sv.MAX_CUSTOM_QUESTIONS + BLANK_QUESTIONS:
        rows.append(question_row(None))
    elif (at := _index(more)) is not None and at < len(rows):
        asked = rows[at]
        if len(asked.choices) < sv.MAX_CHOICES + BLANK_CHOICES:
            asked.choices += _blank_choices()
    return {"cq_rows": rows, "cq_unsaved": True}


def _index(text: str) -> int | None:
    """A row's index as a button posts it (ASCII digits, a few of them), else None."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ROWS)):
        return None
    return int(text)


def _move(rows: list[QuestionRow], move: str) -> list[QuestionRow]:
    """`rows` with the one `move` names (`N:up`, `N:down`) moved one place; an unknown or
    impossible move changes nothing (a stale page's button, say)."""
    at, _, way = move.partition(":")
    i = _index(at)
    if i is None or way not in ("up", "down"):
        return rows
    j = i - 1 if way == "up" else i + 1
    if not (0 <= i < len(rows) and 0 <= j < len(rows)):
        return rows
    out = list(rows)
    out[i], out[j] = out[j], out[i]
    return out


def _key_problem(key: str, most: int) -> BadInput | None:
    if sv.KEY.fullmatch(key) and len(key) <= most:
        return None
    return BadInput(
        N_(
            "The id “%(id)s” must be lowercase letters, digits, - and _ "
            "(at most %(most)s characters)."
        ),
        id=key[:80],
        most=most,
    )


class _Reader:
    """Reads the posted rows into questions, gathering every problem by field."""

    def __init__(self, old: sv.Survey | None) -> None:
        self.by_key = {q.key: q for q in (old.custom if old else ())}
        self.problems: list[tuple[str, CovoteError]] = []

    def problem(self, where: str, error: CovoteError) -> None:
        self.problems.append((where, error))

    def choices(
        self, at: str, n: int, row: QuestionRow, base: sv.CustomQuestion | None
    ) -> tuple[list[Choice], dict[str, dict[str, str]]]:
        """The question's choices and their translations (Welsh from the form, others kept)."""
        kept = [(j, c) for j, c in enumerate(row.choices) if not c.remove and not c.blank()]
        taken = {c.key for _, c in kept if c.key}
        old_texts = base.translations if base else {}
        choices: list[Choice] = []
        texts: dict[str, dict[str, str]] = {}
        seen: set[str] = set()
        for j, c in kept:
            where = f"{at}-c-{j}"
            if not c.label:
                self.problem(
                    f"{where}-label",
                    BadInput(N_("Give choice %(c)s of question %(n)s a label."), c=j + 1, n=n),
                )
                continue
            if len(c.label) > sv.MAX_TEXT or len(c.label_cy) > sv.MAX_TEXT:
                too_long = N_("A choice's label is at most %(most)s characters.")
                where_long = f"{where}-label" if len(c.label) > sv.MAX_TEXT else f"{where}-label_cy"
                self.problem(where_long, BadInput(too_long, most=sv.MAX_TEXT))
                continue
            key = c.key or slug(c.label, taken, limit=sv.MAX_SERVICE_KEY, fallback="choice")
            taken.add(key)
            if (bad := _key_problem(key, MAX_CHOICE_KEY)) is not None:
                self.problem(f"{where}-key", bad)
                continue
            if key in seen:
                self.problem(
                    f"{where}-key",
                    BadInput(N_("Two choices have the id “%(id)s”; ids must differ."), id=key),
                )
                continue
            seen.add(key)
            choices.append(Choice(key, None, c.label))
            for lang, words in old_texts.items():
                if lang != WELSH and f"choice:{c.was}" in words:
                    texts.setdefault(lang, {})[f"choice:{key}"] = words[f"choice:{c.was}"]
            if c.label_cy:
                texts.setdefault(WELSH, {})[f"choice:{key}"] = c.label_cy
        if not kept:
            self.problem(
                f"{at}-c-0-label",
                BadInput(N_("Question %(n)s needs at least one choice."), n=n),
            )
        elif len(choices) > sv.MAX_CHOICES:
            self.problem(
                f"{at}-c-0-label",
                BadInput(
                    N_("Question %(n)s has more than %(most)s choices."), n=n, most=sv.MAX_CHOICES
                ),
            )
        return choices, texts

    def number(self, where: str, text: str, what: str, high: int) -> int | None:
        try:
            return bounded_int(text, what, low=1, high=high)
        except BadInput as e:
            self.problem(where, e)
            return None

    def question(self, i: int, row: QuestionRow, taken: set[str]) -> sv.CustomQuestion | None:
        at, n = f"cq-{i}", i + 1
        base = self.by_key.get(row.was)
        before = len(self.problems)
        try:
            kind = sv.CustomType(row.type)
        except ValueError:
            self.problem(f"{at}-type", BadInput(N_("Choose the type of question %(n)s."), n=n))
            kind = sv.CustomType.SINGLE
        if not row.title:
            self.problem(f"{at}-title", BadInput(N_("Give question %(n)s a title."), n=n))
        for name, text in (("title", row.title), ("title_cy", row.title_cy)):
            if len(text) > sv.MAX_TEXT:
                too_long = N_("A question's title is at most %(most)s characters.")
                self.problem(f"{at}-{name}", BadInput(too_long, most=sv.MAX_TEXT))
        key = row.key or slug(row.title, taken, limit=sv.MAX_QUESTION_KEY, fallback="question")
        taken.add(key)
        if (bad := _key_problem(key, sv.MAX_QUESTION_KEY)) is not None:
            self.problem(f"{at}-key", bad)
        choices: list[Choice] = []
        texts: dict[str, dict[str, str]] = {}
        most: int | None = None
        max_length = DEFAULT_MAX_LENGTH
        if kind in (sv.CustomType.SINGLE, sv.CustomType.MULTIPLE):
            choices, texts = self.choices(at, n, row, base)
        if kind is sv.CustomType.MULTIPLE and row.most:
            most = self.number(
                f"{at}-most",
                row.most,
                f"“At most” of question {n}",
                max(1, min(len(choices), sv.MAX_CHOICES)),
            )
        if kind is sv.CustomType.TEXT and row.max_length:
            max_length = (
                self.number(
                    f"{at}-max_length",
                    row.max_length,
                    f"The length limit of question {n}",
                    TEXT_MAX_LENGTH,
                )
                or DEFAULT_MAX_LENGTH
            )
        if len(self.problems) > before:
            return None
        # The title's translations: Welsh from the form, other languages kept.
        for lang, words in (base.translations if base else {}).items():
            if lang != WELSH and "title" in words:
                texts.setdefault(lang, {})["title"] = words["title"]
        if row.title_cy:
            texts.setdefault(WELSH, {})["title"] = row.title_cy
        return sv.CustomQuestion(
            key,
            kind,
            row.title,
            tuple(choices),
            max_length,
            {lang: words for lang, words in sorted(texts.items()) if words},
            most,
        )


def edited_questions(form: FormData, old: sv.Survey | None, meeting: Meeting) -> sv.Survey:
    """The survey with its custom questions as the form posts them, in the order posted (with
    `move` applied), the rest kept. Empty ids are made from the titles; removed and blank rows
    are left out.

    Raises:
        InvalidForm: every problem, each by its field (`cq-2-title`, `cq-2-c-0-label`...).
    """
    rows = question_rows(form)
    reader = _Reader(old)
    taken = {r.key for r in rows if r.key}
    read: list[tuple[QuestionRow, sv.CustomQuestion]] = []
    for i, row in enumerate(rows):
        if row.remove or (not row.was and row.blank()):
            continue
        q = reader.question(i, row, taken)
        if q is not None:
            read.append((row, q))
    keys = [q.key for _, q in read]
    for i, row in enumerate(rows):
        q = next((q for r, q in read if r is row), None)
        if q is not None and keys.count(q.key) > 1:
            reader.problem(
                f"cq-{i}-key",
                BadInput(N_("Two questions have the id “%(id)s”; ids must differ."), id=q.key),
            )
    if len(read) > sv.MAX_CUSTOM_QUESTIONS:
        reader.problem(
            "",
            BadInput(
                N_("A survey has at most %(most)s questions of your own."),
                most=sv.MAX_CUSTOM_QUESTIONS,
            ),
        )
    if reader.problems:
        raise InvalidForm(reader.problems)
    order = _move(rows, _text(form, "move"))
    questions = tuple(q for row in order for r, q in read if r is row)
    if old is None:
        return sv.Survey(meeting.title, (), custom=questions)
    return sv.Survey(old.title, old.services, questions, old.areas, old.translations)
