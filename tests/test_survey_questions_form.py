"""The Set-up page's questions of the facilitator's own (issue 15): each of the four types
added, edited, moved and removed through the form as the page draws it, every refusal listed
by its field with nothing saved, "more rows" without JavaScript, Welsh beside every English
text, and the survey file exported and imported unchanged (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from app.record.records import RecordError
from app.record.survey_file import dump_survey, parse_survey
from app.rules import survey as sv
from tests.conftest import Meeting, Phone
from tests.test_survey_round import SURVEY, import_survey, open_survey, survey_text

Form = dict[str, Any]  # name -> value, or a list of values for a repeated name


class _FormReader(HTMLParser):
    """What a browser would post from the form with id `form_id`: its inputs' values, the
    selected options, the ticked checkboxes (no submit button: the caller adds the one
    pressed)."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.values: Form = {}
        self.select: str | None = None
        self.first_option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.values[a["name"]] = "on"
            elif a.get("type") != "file":
                self.values[a["name"]] = a.get("value", "")
        elif tag == "select":
            self.select, self.first_option = a["name"], None
        elif tag == "option" and self.select:
            if self.first_option is None:
                self.first_option = a.get("value", "")
                self.values.setdefault(self.select, self.first_option)
            if "selected" in a:
                self.values[self.select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None


def questions_form(meeting: Meeting, html: str | None = None) -> Form:
    """The questions' form of the set-up page, as drawn."""
    html = html if html is not None else meeting.f.get(f"/console/{meeting.id}/setup").text
    reader = _FormReader("survey-questions")
    reader.feed(html)
    assert reader.values, "no questions form on the set-up page"
    return reader.values


def post_questions(meeting: Meeting, form: Form, **pressed: str) -> httpx.Response:
    return meeting.f.post(
        f"/console/{meeting.id}/survey/questions",
        data={**form, **pressed},
        follow_redirects=False,
    )


def exported(meeting: Meeting) -> dict[str, Any]:
    r = meeting.f.get(f"/console/{meeting.id}/export/survey.json")
    assert r.status_code == 200, r.text
    return dict(json.loads(r.text))


def blank_question(form: Form) -> int:
    """The index of the first blank question's fieldset."""
    n = 0
    while f"cq-{n}-was" in form:
        if not form[f"cq-{n}-was"] and not form.get(f"cq-{n}-title"):
            return n
        n += 1
    raise AssertionError("no blank question")


def fill(form: Form, at: str, **fields: str) -> None:
    for name, value in fields.items():
        form[f"{at}-{name}"] = value


def summary(html: str) -> str:
    return html.split('id="error-summary"')[1].split("</div>")[0]


def test_each_type_is_added_with_its_welsh_and_exports_and_imports_unchanged(
    meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Starting from an imported survey (one single choice question), the form adds a
    multiple choice question with "at most 2", a 1-5 scale and a short text with a length
    limit, each with its Welsh; the export has them in the survey file's format and imports
    back byte for byte; the round asks them on their scales."""
    assert import_survey(meeting, survey_text()).status_code == 303
    form = questions_form(meeting)
    assert form["cq-0-was"] == "travel" and form["cq-0-title_cy"] == "Sut ydych chi'n teithio?"
    assert form["cq-0-c-0-label_cy"] == "Bws"
    at = f"cq-{blank_question(form)}"
    fill(form, at, title="What would you help with?", title_cy="Beth fyddech chi'n helpu ag ef?")
    fill(form, at, type="multiple", most="2")
    for j, (label, cy) in enumerate((("Litter picks", "Casglu sbwriel"), ("Lifts", "Lifftiau"))):
        fill(form, f"{at}-c-{j}", label=label, label_cy=cy)
    fill(form, f"{at}-c-2", label="Reading", key="read")
    assert post_questions(meeting, form).status_code == 303
    form = questions_form(meeting)
    at = f"cq-{blank_question(form)}"
    fill(form, at, title="How safe do you feel?", title_cy="Pa mor ddiogel ydych chi'n teimlo?")
    fill(form, at, type="scale")
    assert post_questions(meeting, form).status_code == 303
    form = questions_form(meeting)
    at = f"cq-{blank_question(form)}"
    fill(form, at, title="Any ideas?", title_cy="Unrhyw syniadau?", type="text", max_length="80")
    r = post_questions(meeting, form)
    assert r.status_code == 303, r.text

    questions = exported(meeting)["questions"]
    ids = ["travel", "what-would-you-help-with", "how-safe-do-you-feel", "any-ideas"]
    assert [q["id"] for q in questions] == ids
    assert questions[0] == SURVEY["questions"][0]  # untouched: exactly as imported
    assert questions[1] == {
        "id": "what-would-you-help-with",
        "type": "multiple",
        "title": "What would you help with?",
        "choices": [
            {
                "id": "litter-picks",
                "label": "Litter picks",
                "translations": {"cy": {"label": "Casglu sbwriel"}},
            },
            {"id": "lifts", "label": "Lifts", "translations": {"cy": {"label": "Lifftiau"}}},
            {"id": "read", "label": "Reading"},
        ],
        "most": 2,
        "translations": {"cy": {"title": "Beth fyddech chi'n helpu ag ef?"}},
    }
    assert questions[2] == {
        "id": "how-safe-do-you-feel",
        "type": "scale",
        "title": "How safe do you feel?",
        "translations": {"cy": {"title": "Pa mor ddiogel ydych chi'n teimlo?"}},
    }
    assert questions[3]["max_length"] == 80 and questions[3]["type"] == "text"
    # Export -> import: the same bytes stored again.
    text = meeting.f.get(f"/console/{meeting.id}/export/survey.json").text
    meeting.post("/survey/import", text=text)
    assert meeting.f.get(f"/console/{meeting.id}/export/survey.json").text == text
    assert dump_survey(parse_survey(text)) == text
    # The round asks them on their own scales: at most 2 of the 3 help choices.
    open_survey(meeting)
    items = {p["id"]: p for p in meeting.state()["round"]["proposals"]}
    assert items["q.what-would-you-help-with"]["scale"]["most"] == 2
    assert items["q.any-ideas"]["scale"]["max_length"] == 80
    phone = phones()
    page = phone.c.get(f"/m/{meeting.code}").text
    assert "Choose up to 2." in page  # the multiple choice says its "at most"


def test_a_question_is_edited_moved_and_removed(meeting: Meeting) -> None:
    """Edits keep what the form does not show; "move up" saves with the question moved; a
    ticked question or choice is removed; a changed type drops the choices it cannot have."""
    spec = json.loads(survey_text())
    spec["questions"].append({"id": "ideas", "type": "text", "title": "Ideas?", "max_length": 50})
    spec["questions"][0]["translations"]["fr"] = {"title": "Comment voyagez-vous ?"}
    assert import_survey(meeting, json.dumps(spec)).status_code == 303
    form = questions_form(meeting)
    fill(form, "cq-0", title="How do you usually travel?")
    fill(form, "cq-0-c-1", label="Car or van", label_cy="Car neu fan")
    fill(form, "cq-0-c-2", label="On foot", label_cy="Ar droed")
    fill(form, "cq-1", max_length="120", title_cy="Syniadau?")
    assert post_questions(meeting, form).status_code == 303
    q = exported(meeting)["questions"]
    assert q[0]["title"] == "How do you usually travel?"
    assert q[0]["translations"] == {
        "cy": {"title": "Sut ydych chi'n teithio?"},
        "fr": {"title": "Comment voyagez-vous ?"},  # kept: the form shows only Welsh
    }
    assert [(c["id"], c["label"]) for c in q[0]["choices"]] == [
        ("bus", "Bus"),
        ("car", "Car or van"),
        ("on-foot", "On foot"),
    ]
    assert q[0]["choices"][1]["translations"] == {"cy": {"label": "Car neu fan"}}
    assert q[1]["max_length"] == 120 and q[1]["translations"] == {"cy": {"title": "Syniadau?"}}

    # Move the second question up: saved in the new order, with anything typed meanwhile.
    form = questions_form(meeting)
    fill(form, "cq-1", title="Your ideas?")
    assert post_questions(meeting, form, move="1:up").status_code == 303
    q = exported(meeting)["questions"]
    assert [(x["id"], x["title"]) for x in q] == [
        ("ideas", "Your ideas?"),
        ("travel", "How do you usually travel?"),
    ]
    page = meeting.f.get(f"/console/{meeting.id}/setup").text
    assert 'name="move" value="1:up"' in page and 'name="move" value="0:down"' in page
    assert 'name="move" value="0:up"' not in page  # the first cannot move up

    # Remove a choice; then make the single choice a 1-5 scale (its choices go).
    form = questions_form(meeting)
    form["cq-1-c-0-remove"] = "on"
    assert post_questions(meeting, form).status_code == 303
    assert [c["id"] for c in exported(meeting)["questions"][1]["choices"]] == ["car", "on-foot"]
    form = questions_form(meeting)
    fill(form, "cq-1", type="scale")
    assert post_questions(meeting, form).status_code == 303
    assert "choices" not in exported(meeting)["questions"][1]
    # Remove a question.
    form = questions_form(meeting)
    form["cq-0-remove"] = "on"
    assert post_questions(meeting, form).status_code == 303
    assert [x["id"] for x in exported(meeting)["questions"]] == ["travel"]


def test_refusals_are_listed_by_field_and_nothing_is_saved(meeting: Meeting) -> None:
    """Every problem of the form comes back at once, each linked to its field and shown next
    to it with what was typed; the stored survey does not change."""
    assert import_survey(meeting, survey_text()).status_code == 303
    before = exported(meeting)
    form = questions_form(meeting)
    fill(form, "cq-0", title="", key="Bad Key!")  # no title, an id that is not an id
    fill(form, "cq-0-c-0", label="")  # a kept choice without a label
    at = f"cq-{blank_question(form)}"
    fill(form, at, title="Pick two", type="multiple", most="5")  # 5 of 1 choice
    fill(form, f"{at}-c-0", label="One")
    r = post_questions(meeting, form, more="")
    assert r.status_code == 400, r.text
    problems = summary(r.text)
    assert 'href="#cq-0-title"' in problems and "Give question 1 a title." in problems
    assert 'href="#cq-0-key"' in problems and "Bad Key!" in problems
    assert 'href="#cq-0-c-0-label"' in problems
    assert "Give choice 1 of question 1 a label." in problems
    assert f'href="#{at}-most"' in problems and "from 1 to 1" in problems
    # Next to each field, with what was typed.
    assert 'id="cq-0-title-error"' in r.text and 'aria-invalid="true"' in r.text
    assert 'value="Pick two"' in r.text and 'value="Bad Key!"' in r.text
    assert exported(meeting) == before

    # A single choice without choices, a text longer than the scales allow, ids that repeat.
    form = questions_form(meeting)
    n = blank_question(form)
    fill(form, f"cq-{n}", title="No choices", type="single")
    r = post_questions(meeting, form)
    assert r.status_code == 400 and f'href="#cq-{n}-c-0-label"' in summary(r.text)
    assert "needs at least one choice" in summary(r.text)
    fill(form, f"cq-{n}", title="Long", type="text", max_length="501", key="travel")
    r = post_questions(meeting, form)
    assert r.status_code == 400
    assert f'href="#cq-{n}-max_length"' in summary(r.text) and "from 1 to 500" in summary(r.text)
    fill(form, f"cq-{n}", max_length="abc")
    r = post_questions(meeting, form)
    assert r.status_code == 400 and f'href="#cq-{n}-max_length"' in summary(r.text)
    fill(form, f"cq-{n}", max_length="100")
    r = post_questions(meeting, form)
    assert r.status_code == 400
    assert "Two questions have the id “travel”" in summary(r.text)
    fill(form, f"cq-{n}", type="essay")
    r = post_questions(meeting, form)
    assert r.status_code == 400 and f'href="#cq-{n}-type"' in summary(r.text)
    assert exported(meeting) == before


def test_more_rows_without_javascript_save_nothing(meeting: Meeting) -> None:
    """ "More rows" draws the page again with what was typed and blank rows added (another
    question, or more choices for one), saving nothing; the new rows are then saved."""
    assert import_survey(meeting, survey_text()).status_code == 303
    before = exported(meeting)
    form = questions_form(meeting)
    choices = sum(1 for k in form if re.fullmatch(r"cq-0-c-\d+-was", k))
    fill(form, "cq-0", title="Typed, not saved")
    r = post_questions(meeting, form, more="0")
    assert r.status_code == 200
    again = questions_form(meeting, r.text)
    assert again["cq-0-title"] == "Typed, not saved"
    assert sum(1 for k in again if re.fullmatch(r"cq-0-c-\d+-was", k)) == choices + 3
    assert exported(meeting) == before
    questions = sum(1 for k in again if re.fullmatch(r"cq-\d+-was", k))
    r = post_questions(meeting, again, more="question")
    more = questions_form(meeting, r.text)
    assert sum(1 for k in more if re.fullmatch(r"cq-\d+-was", k)) == questions + 1
    # Fill both blank questions and the new choice rows; one save adds all of it.
    fill(more, f"cq-{questions - 1}", title="First new", type="scale")
    fill(more, f"cq-{questions}", title="Second new", type="text")
    fill(more, f"cq-0-c-{choices + 2}", label="Tram")
    assert post_questions(meeting, more).status_code == 303
    saved = exported(meeting)["questions"]
    assert [q["title"] for q in saved] == ["Typed, not saved", "First new", "Second new"]
    assert saved[0]["choices"][-1] == {"id": "tram", "label": "Tram"}
    assert exported(meeting)["services"] == before["services"]


def test_hostile_buttons_and_rows_change_nothing(meeting: Meeting) -> None:
    """Odd `more` and `move` values (huge, non-ASCII digits, out of range) never fail the
    request: "more rows" adds nothing, a move is ignored; a title past the bound is refused."""
    assert import_survey(meeting, survey_text()).status_code == 303
    before = exported(meeting)
    form = questions_form(meeting)
    for more in ("9" * 5000, "²", "-1", "99", "question"):
        assert post_questions(meeting, form, more=more).status_code == 200
    for move in ("9" * 5000 + ":up", "²:down", "0:sideways", "0:up", ":"):
        assert post_questions(meeting, form, move=move).status_code == 303
    assert exported(meeting) == before
    fill(form, "cq-0", title="x" * 201, title_cy="y" * 201)
    fill(form, "cq-0-c-1", label_cy="z" * 201)
    r = post_questions(meeting, form)
    assert r.status_code == 400 and 'href="#cq-0-title"' in summary(r.text)
    assert 'href="#cq-0-title_cy"' in summary(r.text)
    assert 'href="#cq-0-c-1-label_cy"' in summary(r.text)
    assert exported(meeting) == before


def test_an_answered_survey_asks_first_and_an_open_round_refuses(
    meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """The questions save through the section's path: with answers it asks first; while a
    survey round is open it refuses, and nothing changes."""
    assert import_survey(meeting, survey_text()).status_code == 303
    open_survey(meeting)
    assert phones().vote({"q.travel": "bus"}).status_code == 200
    form = questions_form(meeting)
    fill(form, "cq-0", title="Changed")
    r = post_questions(meeting, form)
    assert r.status_code == 200 and "Change the survey people have answered?" in r.text
    r = post_questions(meeting, form, confirm="yes")
    assert r.status_code == 409 and "close it before changing the survey" in r.text
    assert exported(meeting)["questions"][0]["title"] == "How do you travel?"
    meeting.close_round(1)
    assert post_questions(meeting, form, confirm="yes").status_code == 303
    assert exported(meeting)["questions"][0]["title"] == "Changed"


def test_a_meeting_without_a_survey_starts_one_with_a_question(meeting: Meeting) -> None:
    """Questions alone make a survey (titled after the meeting)."""
    form = questions_form(meeting)
    fill(form, "cq-0", title="Anything else?", type="text")
    assert post_questions(meeting, form).status_code == 303
    saved = exported(meeting)
    assert saved["title"] == "Test budget" and saved["questions"][0]["id"] == "anything-else"


def test_the_form_is_in_welsh(meeting: Meeting) -> None:
    """Every word of the questions' form has its Welsh."""
    page = meeting.f.get(f"/console/{meeting.id}/setup?lang=cy").text
    form = page.split('id="survey-questions"')[1].split("</form>")[0]
    for english in ("Questions of your own", "Save the questions", "Multiple choice", "More rows"):
        assert english not in form
    assert "Cwestiynau eich hun" in form


# --- the survey file's "at most" (pure) ---------------------------------------------------------


def test_the_survey_file_bounds_at_most() -> None:
    """`most` is kept for a multiple choice question within its choices, refused otherwise."""
    spec = json.loads(survey_text())
    spec["questions"] = [
        {"id": "pick", "type": "multiple", "title": "Pick", "most": 1,
         "choices": [{"id": "a", "label": "A"}, {"id": "b", "label": "B"}]},
    ]  # fmt: skip
    survey = parse_survey(json.dumps(spec))
    assert survey.custom[0].most == 1
    assert sv.items(survey)[-2].scale.parse("a;b") != "a;b"  # more than one: refused
    assert json.loads(dump_survey(survey))["questions"][0]["most"] == 1
    for most, single in ((3, False), (0, False), (1, True)):
        spec["questions"][0]["most"] = most
        spec["questions"][0]["type"] = "single" if single else "multiple"
        with pytest.raises(RecordError):
            parse_survey(json.dumps(spec))
