"""The public "You said" page of a survey (issue 15): /m/CODE/you-said, no sign-in. Not
published (404) until a survey round's results are shown to the room; then what was asked,
the charts with their tables (the projector's figures and suppression), the survey's own
questions' answers with no count under m, and "We did" as the facilitator wrote it, in English
and Welsh; never a pseudonym (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from app.core.errors import InvalidForm
from app.record import we_did
from app.record.survey_file import parse_survey
from app.record.you_said import custom_tables
from app.rules import survey as sv
from app.rules.scales import Choice
from tests.conftest import LiveServer, Meeting, Phone
from tests.test_survey_round import import_survey, open_survey, survey_text

ANSWERS = [
    {"library.value": "5", "library.need": "often", "library.satisfaction": "2",
     "library.more": "volunteer", "parks.value": "3", "parks.satisfaction": "4",
     "q.travel": "bus", "area": "north"},
    {"library.value": "4", "library.need": "sometimes", "library.satisfaction": "1",
     "library.more": "none", "parks.value": "2", "parks.satisfaction": "5",
     "q.travel": "bus", "area": "north"},
    {"library.value": "5", "library.need": "often", "library.satisfaction": "3",
     "library.more": "group", "parks.value": "2", "parks.satisfaction": "4",
     "q.travel": "car", "area": "south"},
]  # fmt: skip


def answered(meeting: Meeting, phones: Callable[[], Phone]) -> list[Phone]:
    """The survey imported, asked and answered by three people (m is 2); the round closed."""
    assert import_survey(meeting, survey_text()).status_code == 303
    open_survey(meeting)
    people = []
    for marks in ANSWERS:
        phone = phones()
        assert phone.vote(marks).status_code == 200
        people.append(phone)
    meeting.close_round(1)
    return people


def tables(html: str) -> list[str]:
    return re.findall(r"<table.*?</table>", html, re.S)


def test_nothing_is_published_before_the_results_are_shown(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """No survey: 404. A closed round whose results are hidden: 404 "not published yet",
    with no figure, and the phone page has no link to it."""
    public = server.browser()
    r = public.get(f"/m/{meeting.code}/you-said")
    assert r.status_code == 404 and "no survey" in r.text
    assert public.get("/m/ZZZZZZ/you-said").status_code == 404
    people = answered(meeting, phones)
    r = public.get(f"/m/{meeting.code}/you-said")
    assert r.status_code == 404 and 'id="not-published"' in r.text
    assert "<svg" not in r.text and "<table" not in r.text
    assert r.headers["cache-control"] == "no-cache"
    assert "you-said-link" not in people[0].c.get(f"/m/{meeting.code}").text


def test_once_revealed_it_shows_what_was_asked_said_and_done(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """After the reveal: the questions, the four charts each with its table (the console's
    tables, the same figures and suppression), the own question with no count under m, "We
    did" once written; cached a minute, with an ETag; the phones link to it."""
    people = answered(meeting, phones)
    meeting.reveal(1)
    public = server.browser()
    r = public.get(f"/m/{meeting.code}/you-said")
    assert r.status_code == 200, r.text
    page = r.text
    asked = page.split('id="we-asked"')[1].split("</section>")[0]
    assert "How much do you value Mobile library?" in asked
    assert "How satisfied are you with Parks?" in asked
    assert "How often do you or your household need or use Parks?" not in asked  # not asked
    assert "How do you travel?" in asked and "Bus; Car" in asked
    assert "Which area do you live in?" in asked and "North ward; South ward" in asked
    said = page.split('id="you-said"')[1]
    assert said.count('<svg xmlns="http://www.w3.org/2000/svg"') == 4
    assert "3 people answered." in said
    console = meeting.f.get(f"/console/{meeting.id}/rounds/1").text
    titles = ("The service map", "Need: how often", "Co-production")
    charts = [t for t in tables(console) if any(title in t for title in titles)]
    assert len(charts) == 4  # the service map, need, would do more, hours offered
    for table in charts:
        assert table in page  # the very tables of the console: same figures, same suppression
    more = next(t for t in tables(page) if "Co-production" in t)
    cells = re.findall(r"<td>(.*?)</td>", more.split("Mobile library</th>")[1])
    assert cells == ["66.7", "No answers, or fewer than 2", "No answers, or fewer than 2"]
    # Travel: bus 2, car 1. The car's 1 is under m, and bus would give it away (3 - 2).
    travel = next(t for t in tables(page) if "How do you travel?" in t)
    assert re.findall(r"<td>(.*?)</td>", travel) == ["fewer than 2", "", "fewer than 2", ""]
    # No pseudonym, ballot or person: nothing but figures.
    assert not re.search(r"v-[0-9a-f]{16}", page) and "ballot" not in page.lower()
    assert r.headers["cache-control"] == "private, max-age=60"
    assert "Cookie" in r.headers["vary"]
    again = public.get(f"/m/{meeting.code}/you-said", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    assert 'id="we-did"' not in page  # nothing written yet
    link = people[0].c.get(f"/m/{meeting.code}").text
    assert f'href="/m/{meeting.code}/you-said"' in link

    # We did: written on the round's console page, overall and for one service.
    round_page = meeting.f.get(f"/console/{meeting.id}/rounds/1").text
    assert 'id="wd-overall-en"' in round_page and 'id="wd-s-library-cy"' in round_page
    meeting.post(
        "/rounds/1/we-did",
        **{
            "wd-overall-en": "We kept every service open.\nThank you for taking part.",
            "wd-overall-cy": "Cadwon ni bob gwasanaeth ar agor.",
            "wd-s-library-en": "The mobile library now stops at the north ward too.",
            "wd-s-library-cy": "Mae'r llyfrgell deithiol bellach yn aros yn ward y gogledd hefyd.",
            "wd-s-parks-en": "  ",
        },
    )
    assert "We kept every service open." in meeting.f.get(f"/console/{meeting.id}/rounds/1").text
    page = public.get(f"/m/{meeting.code}/you-said").text
    did = page.split('id="we-did"')[1].split("</section>")[0]
    assert "We kept every service open.\nThank you for taking part." in did
    assert "<h3>Mobile library</h3>" in did and "now stops at the north ward" in did
    assert "Parks" not in did  # nothing written for it
    welsh = public.get(f"/m/{meeting.code}/you-said?lang=cy").text
    did = welsh.split('id="we-did"')[1].split("</section>")[0]
    assert "Cadwon ni bob gwasanaeth ar agor." in did and "<h3>Llyfrgell deithiol</h3>" in did
    assert "We kept" not in did


def test_the_page_is_in_welsh(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Every word is Welsh on the Welsh page, the services' and choices' Welsh names too."""
    answered(meeting, phones)
    meeting.reveal(1)
    page = server.browser().get(f"/m/{meeting.code}/you-said?lang=cy").text
    assert '<html lang="cy">' in page
    for english in ("We asked", "You said", "people answered", "Other questions"):
        assert english not in page
    assert "Llyfrgell deithiol" in page and "Bws" in page and "Ward y Gogledd" in page
    assert "Gwasanaethau yn Ashdown" in page


def test_a_hidden_again_round_is_not_published(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Hiding the results again takes the page down."""
    answered(meeting, phones)
    meeting.reveal(1)
    public = server.browser()
    assert public.get(f"/m/{meeting.code}/you-said").status_code == 200
    meeting.post("/rounds/1/hide")
    assert public.get(f"/m/{meeting.code}/you-said").status_code == 404


# --- pure: the published tables and the "We did" texts --------------------------------------


def test_a_count_under_m_is_never_shown_nor_derivable() -> None:
    """Single choice: a count under m is hidden, and so is the smallest other (else the
    answers minus the others give it); multiple choice: only those under m."""
    survey = parse_survey(survey_text())
    pick = sv.CustomQuestion(
        "pick",
        sv.CustomType.MULTIPLE,
        "Pick",
        tuple(Choice(k, None, k.upper()) for k in ("a", "b", "c")),
    )
    survey = sv.Survey(survey.title, survey.services, (*survey.custom, pick), survey.areas)
    results = {
        "m": 3,
        "overall": {
            "custom": [
                {"question": "travel", "type": "single",
                 "figure": {"n": 9, "counts": {"bus": 7, "car": 2}, "shares": {}}},
                {"question": "pick", "type": "multiple",
                 "figure": {"n": 9, "counts": {"a": 9, "b": 1, "c": 4}, "shares": {}}},
            ]
        },
    }  # fmt: skip
    travel, picked = custom_tables(survey, results, lambda s: s, "en")  # type: ignore[arg-type]
    assert [(r.count, r.share) for r in travel.rows] == [("fewer than 3", "")] * 2
    assert [(r.label, r.count, r.share) for r in picked.rows] == [
        ("A", "9", "100 %"),
        ("B", "fewer than 3", ""),
        ("C", "4", "44 %"),
    ]
    results["overall"]["custom"][0]["figure"] = None  # type: ignore[index]
    assert custom_tables(survey, results, lambda s: s, "en")[0].hidden  # type: ignore[arg-type]


def test_we_did_is_cleaned_bounded_and_read_back() -> None:
    """Texts are cleaned (line breaks kept), empty ones left out, each bounded; what is
    stored reads back the same, and a broken store reads as nothing written."""
    said = we_did.from_fields(
        {"en": " Done.\r\nAll of it.\u202e ", "cy": ""}, {"library": {"en": "", "cy": " "}}
    )
    assert said == we_did.WeDid({"en": "Done.\nAll of it."}, {})
    assert said.overall_in("cy") == "Done.\nAll of it."  # no Welsh: the English
    assert we_did.parse_we_did(we_did.dump_we_did(said)) == said
    assert we_did.dump_we_did(we_did.WeDid()) is None
    assert we_did.parse_we_did("{broken").empty()
    with pytest.raises(InvalidForm) as e:
        we_did.from_fields({}, {"library": {"cy": "x" * (we_did.MAX_TEXT + 1)}})
    assert [where for where, _ in e.value.problems] == ["wd-s-library-cy"]
