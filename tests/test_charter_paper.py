"""A charter consent round on paper (issue 17): the sheet printed in English and in English with
Welsh beside it (each section, each clause numbered, the amendment marked under its clause, the
consent scale's numbers and labels), keyed twice with a mismatch found and keyed again,
counted, and the paper answers entering the round's decisions exactly as the same answers from
phones do (the carers' block, the amendment that wins), then adopted.

Over HTTP on SQLite and PostgreSQL (the `settings` fixture)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from tests.conftest import Meeting, Phone
from tests.test_charter_room import exported, text_of, upload
from tests.test_paper import count, flash_after, key, status_page

PAPER_CHARTER: dict[str, Any] = {
    "format": "covote-charter/1",
    "title": "Ashdown Community Charter",
    "title_cy": "Siarter Gymunedol Ashdown",
    "sections": [
        {
            "key": "care",
            "title": "Care",
            "title_cy": "Gofal",
            "clauses": [
                {
                    "key": "respite",
                    "text": "Carers get a respite break every month.",
                    "text_cy": "Mae gofalwyr yn cael seibiant bob mis.",
                    "affected_groups": ["carer"],
                }
            ],
        },
        {
            "key": "places",
            "title": "Places",
            "title_cy": "Lleoedd",
            "clauses": [
                {
                    "key": "library",
                    "text": "The mobile library visits every village each week.",
                    "text_cy": "Mae'r llyfrgell deithiol yn ymweld â phob pentref bob wythnos.",
                    "affected_groups": ["north"],
                    "amendments": [
                        {
                            "key": "library-fortnight",
                            "text": "The mobile library visits every village each fortnight.",
                            "text_cy": "Mae'r llyfrgell deithiol yn ymweld â phob pentref bob "
                            "pythefnos.",
                            "status": "accepted",
                        }
                    ],
                }
            ],
        },
    ],
    "parties": [
        {"key": "council", "name": "Ashdown Council", "kind": "council"},
        {"key": "residents", "name": "Residents", "kind": "residents"},
    ],
}
WORDINGS = ["respite", "library", "library-fortnight"]
# The room (the meeting's rule: R 2, m 2): two carers block the respite clause, the others
# support it; everyone prefers the library's amendment to its first wording.
CARER = {"respite": "5", "library": "3", "library-fortnight": "1"}
OTHER = {"respite": "1", "library": "4", "library-fortnight": "2"}
SHEETS: list[tuple[tuple[str, ...], dict[str, str]]] = [
    (("carer",), CARER),
    (("carer", "north"), CARER),
    ((), OTHER),
    (("north",), OTHER),
    ((), {**OTHER, "library": "3"}),
]


def charter_round(meeting: Meeting) -> None:
    assert upload(meeting, json.dumps(PAPER_CHARTER)).status_code == 303
    meeting.post("/rounds", kind="charter", proposal=WORDINGS)


def printed(meeting: Meeting, query: str = "", number: int = 1) -> str:
    r = meeting.f.get(f"/console/{meeting.id}/rounds/{number}/paper/print?from=3&count=1{query}")
    assert r.status_code == 200, r.text
    return r.text


def row(html: str, item: str) -> str:
    return html.split(f'data-proposal="{item}"')[1].split("</tr>")[0]


def test_the_sheet_prints_sections_numbered_clauses_the_amendment_and_the_consent_scale(
    meeting: Meeting,
) -> None:
    charter_round(meeting)
    html = printed(meeting, "&lang=en")
    assert re.findall(r'<tr data-proposal="([^"]+)">', html) == ["respite", "library"]
    assert re.findall(r'<tr data-proposal="([^"]+)" class="amendment"', html) == [
        "library-fortnight"
    ]
    assert re.findall(r'<tr class="section"><th scope="rowgroup" colspan="2">([^<]+)<', html) == [
        "Care",
        "Places",
    ]
    assert "1. Carers get a respite break every month." in row(html, "respite")
    assert "2. The mobile library visits every village each week." in row(html, "library")
    amendment = text_of(row(html, "library-fortnight"))
    assert "Amendment to clause 2: The mobile library visits every village each fortnight." in (
        amendment
    )
    # The five answers, each with its number (a keypad's key) and its label.
    answers = text_of(row(html, "respite"))
    for n, label in enumerate(
        (
            "Fully support",
            "Support with reservations",
            "Can live with it",
            "Need a change",
            "Block",
        ),
        start=1,
    ):
        assert f"{n} {label}" in answers
    assert re.findall(r'data-mark="(\d)"', row(html, "library-fortnight")) == list("12345")
    assert "tick one box: 1 fully support, 2 support with reservations" in html
    assert 'lang="cy"' not in html.split("<main>")[1]  # English only
    assert "one A4 page each" in html and 'class="sheet-no"' not in html  # three fit a page

    welsh = printed(meeting, "&lang=cy")
    assert "1. Mae gofalwyr yn cael seibiant bob mis." in row(welsh, "respite")
    assert "Carers get a respite break" not in welsh.split("<main>")[1]

    both = printed(meeting, "&lang=en+cy")
    respite = row(both, "respite")
    assert (
        '1. Carers get a respite break every month.<span class="alt" lang="cy">'
        "Mae gofalwyr yn cael seibiant bob mis.</span>"
    ) in respite
    assert 'Fully support <span class="alt-inline" lang="cy">Cefnogi&#39;n llawn</span>' in (
        respite
    )
    assert 'Block <span class="alt-inline" lang="cy">Rhwystro</span>' in respite
    fortnight = row(both, "library-fortnight")
    assert "bob pythefnos." in fortnight and "Amendment to clause 2:" in fortnight
    assert '<span class="alt" lang="cy">Gwelliant i gymal 2:</span>' in fortnight
    assert 'Care<span class="alt" lang="cy">Gofal</span>' in both
    assert '<span class="alt" lang="cy">Ar gyfer pob cymal, ticiwch un blwch' in both

    # The keying form follows the sheet: the amendment marked, each answer's number.
    form = meeting.f.get(f"/console/{meeting.id}/rounds/1/paper/key/1?lang=en").text
    assert "<legend>Amendment to the clause above: The mobile library visits every" in form
    assert '<span class="word">5 Block</span>' in form
    form_cy = meeting.f.get(f"/console/{meeting.id}/rounds/1/paper/key/1?lang=cy").text
    assert "<legend>Mae gofalwyr yn cael seibiant bob mis.</legend>" in form_cy


def decisions(meeting: Meeting, number: int) -> dict[str, Any]:
    rounds = meeting.f.get(f"/console/{meeting.id}/export/results.json").json()["rounds"]
    (record,) = [r for r in rounds if r["round"] == str(number)]
    return {c["clause"]: c for c in record["charter"]["clauses"]}


def test_paper_answers_keyed_twice_and_counted_decide_as_phone_answers_do(
    meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Five sheets keyed twice; keying 2 misreads one answer on sheet 4 (listed with both
    labels, not counted) and keys it again; the five count as paper ballots. The round's
    decisions (the carers' block on paper, the amendment winning) are those of a second round
    where phones give the same answers; the paper round's decisions are adopted."""
    charter_round(meeting)
    for sheet, (segments, marks) in enumerate(SHEETS, start=1):
        assert key(meeting, 1, sheet, marks, segments=segments).status_code == 303
        wrong = {**marks, "respite": "2"} if sheet == 4 else marks
        assert key(meeting, 2, sheet, wrong, segments=segments).status_code == 303
    page = status_page(meeting)
    assert '<dd data-count="mismatched">1</dd>' in page
    rows = re.findall(r'<tr data-sheet="4" data-field="([^"]+)">(.*?)</tr>', page, re.S)
    assert [field for field, _ in rows] == ["mark:respite"]
    cells = re.findall(r"<td>(.*?)</td>", rows[0][1], re.S)
    assert cells == [
        "Carers get a respite break every month.",
        "Fully support",
        "Support with reservations",
    ]
    segments, marks = SHEETS[3]
    assert "It replaces this keying" in flash_after(
        meeting, key(meeting, 2, 4, marks, segments=segments)
    )
    assert "Counted 5 sheet(s): 1\u20135." in flash_after(meeting, count(meeting))
    assert meeting.state()["turnout"]["by_channel"]["paper"] == 5
    meeting.close_round(1)

    meeting.post("/rounds", kind="charter", proposal=WORDINGS)
    for segments, marks in SHEETS:
        phone = phones()
        if segments:
            assert phone.segments(*segments).status_code == 200
        assert phone.vote(marks).status_code == 200
    meeting.close_round(2)

    on_paper, by_phone = decisions(meeting, 1), decisions(meeting, 2)
    assert on_paper == by_phone
    respite = on_paper["respite"]
    assert respite["decision"] == "SENT_BACK" and respite["wordings"][0]["groups"] == ["carer"]
    assert "group-blocks" in respite["wordings"][0]["reasons"]
    assert on_paper["library"]["adopted"] == "library-fortnight"
    ballots = meeting.f.get(f"/console/{meeting.id}/export/ballots.csv").text.splitlines()
    assert sum(",paper," in line or line.endswith(",paper") for line in ballots) > 0

    meeting.post("/charter/adopt", round="1", confirm="yes")
    now = exported(meeting).json()
    library = now["sections"][1]["clauses"][0]
    assert library["text"] == "The mobile library visits every village each fortnight."
    assert library["text_cy"].endswith("bob pythefnos.")
