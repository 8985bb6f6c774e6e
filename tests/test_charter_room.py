"""The Community Charter in the room (issue 17): stored as versions, imported and exported
through the console (JSON and Markdown), compared version to version, commitments drafted from a
budget meeting and the Lab's pledges, and the consent round (kind `charter`) answered by phone
and keypad and decided on the voters' true segments.

Over HTTP on SQLite and PostgreSQL (the `settings` fixture)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from app.core import shapes
from app.record.charter_file import dump_charter, parse_charter
from app.record.charter_markdown import dump_markdown
from app.rules import charter_doc as cd
from tests.conftest import LiveServer, Meeting, Phone
from tests.test_budget_meeting import BUDGET_MEETING, vote_budget_round
from tests.test_keypads import capture, eventually, import_keypads
from tests.test_shapes import Conformance

CHARTER: dict[str, Any] = {
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
                },
                {
                    "key": "library",
                    "text": "The mobile library visits every village each week.",
                    "text_cy": "Mae'r llyfrgell deithiol yn ymweld â phob pentref bob wythnos.",
                    "affected_groups": ["north"],
                    "amendments": [
                        {
                            "key": "library-fortnight",
                            "text": "The mobile library visits every village each fortnight.",
                            "status": "accepted",
                        }
                    ],
                },
            ],
        }
    ],
    "parties": [
        {"key": "council", "name": "Ashdown Council", "kind": "council"},
        {"key": "residents", "name": "Residents", "kind": "residents"},
    ],
}


def upload(meeting: Meeting, text: str, name: str = "charter.json") -> httpx.Response:
    return meeting.f.post(
        f"/console/{meeting.id}/charter/import",
        data={"csrf": meeting.csrf},
        files={"file": (name, text.encode(), "application/octet-stream")},
        follow_redirects=False,
    )


def paste(meeting: Meeting, text: str) -> httpx.Response:
    return meeting.f.post(
        f"/console/{meeting.id}/charter/import",
        data={"csrf": meeting.csrf, "text": text},
        follow_redirects=False,
    )


def exported(meeting: Meeting, what: str = "charter.json", **query: Any) -> httpx.Response:
    r = meeting.f.get(f"/console/{meeting.id}/charter/{what}", params=query)
    assert r.status_code == 200, r.text
    return r


def versions(meeting: Meeting) -> list[int]:
    page = meeting.f.get(f"/console/{meeting.id}/charter").text
    return [int(n) for n in re.findall(r'charter\.json\?version=(\d+)"', page)]


def text_of(page: str) -> str:
    """A page's text without tags, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


# --- import, export, versions ----------------------------------------------------------------


def test_a_charter_round_trips_through_the_console_as_json_and_markdown(
    meeting: Meeting,
) -> None:
    """An upload is version 1, exported as the canonical file; importing either export back
    saves nothing; an edited Markdown paste is version 2, and each version stays exportable."""
    assert meeting.f.get(f"/console/{meeting.id}/charter/charter.json").status_code == 404
    r = upload(meeting, json.dumps(CHARTER))
    assert r.status_code == 303 and r.headers["location"] == f"/console/{meeting.id}/charter"
    page = meeting.f.get(r.headers["location"]).text
    assert "The charter is imported as version 1." in page
    nav = f'href="/console/{meeting.id}/charter" aria-current="page"'
    assert nav in page  # the nav link
    first = exported(meeting)
    charter = parse_charter(json.dumps(CHARTER))
    assert first.text == dump_charter(charter)  # stored and exported as the canonical file
    assert 'filename="' in first.headers["content-disposition"]
    assert "charter-v1.json" in first.headers["content-disposition"]

    # The export, and its Markdown, import back as the same charter: no new version.
    assert upload(meeting, first.text).status_code == 303
    md = exported(meeting, "charter.md")
    assert (
        md.text == dump_markdown(charter) and "charter-v1.md" in md.headers["content-disposition"]
    )
    r = upload(meeting, md.text, "charter.md")
    assert "nothing is saved" in meeting.f.get(r.headers["location"]).text
    assert versions(meeting) == [1]

    # A reworded clause, pasted as Markdown: version 2, the current one.
    edited = md.text.replace("every month.", "every fortnight.")
    assert edited != md.text
    assert paste(meeting, edited).status_code == 303
    assert versions(meeting) == [2, 1]
    now = parse_charter(exported(meeting).text)
    assert now.version == 2
    assert now.clauses()[0].text == "Carers get a respite break every fortnight."
    assert parse_charter(exported(meeting, version=1).text) == charter  # still there


def test_a_refused_charter_lists_every_problem_and_changes_nothing(meeting: Meeting) -> None:
    """Bad JSON fields and a bad Markdown line each come back with where; no version is made."""
    assert upload(meeting, json.dumps(CHARTER)).status_code == 303
    bad = json.loads(json.dumps(CHARTER))
    bad["sections"][0]["clauses"][0]["text"] = ""
    bad["sections"][0]["clauses"][1]["key"] = "Not A Key"
    bad["commitments"] = [{"key": "k1", "party": "nobody", "what": "Do it"}]
    r = upload(meeting, json.dumps(bad))
    assert r.status_code == 400
    body = text_of(r.text)
    assert "sections[0].clauses[0].text: must not be empty" in body
    assert "sections[0].clauses[1].key" in body, body
    r = paste(meeting, "# Title\n\nthis line is not part of a charter\n")
    assert r.status_code == 400 and "charter:" in text_of(r.text)
    r = paste(meeting, "{not json")
    assert r.status_code == 400 and "invalid JSON" in text_of(r.text)
    assert versions(meeting) == [1]
    assert parse_charter(exported(meeting).text) == parse_charter(json.dumps(CHARTER))


def test_the_difference_between_two_versions_is_shown_word_by_word(meeting: Meeting) -> None:
    """Reworded (words in <del>/<ins>, named in words for screen readers), added, removed; in
    Welsh too; a version that does not exist or a bad number is refused."""
    assert upload(meeting, json.dumps(CHARTER)).status_code == 303
    two = json.loads(json.dumps(CHARTER))
    clauses = two["sections"][0]["clauses"]
    clauses[0]["text"] = "Carers get a respite break every fortnight."
    clauses[0]["text_cy"] = "Mae gofalwyr yn cael seibiant bob pythefnos."
    del clauses[1]
    clauses.append({"key": "toilets", "text": "Park toilets stay open in summer."})
    assert upload(meeting, json.dumps(two)).status_code == 303
    page = meeting.f.get(f"/console/{meeting.id}/charter", params={"from": 1, "to": 2}).text
    assert "Changes from version 1 to version 2" in page
    assert re.search(r"<del><span[^>]*>\[removed: </span>month\.<", page)
    assert re.search(r"<ins><span[^>]*>\[added: </span>fortnight\.<", page)
    assert '<del lang="cy">' in page and "pythefnos." in page
    words = text_of(page)
    assert "Clause respite : reworded" in words
    assert "Clause library : removed" in words and "Clause toilets : added" in words
    assert "Amendment library-fortnight : removed" in words
    # Welsh page: the same changes in Welsh words.
    cy = meeting.f.get(
        f"/console/{meeting.id}/charter", params={"from": 1, "to": 2, "lang": "cy"}
    ).text
    assert "<del" in cy and "<ins" in cy
    for bad, status in (({"from": 1, "to": 9}, 404), ({"from": 0, "to": 2}, 400)):
        assert meeting.f.get(f"/console/{meeting.id}/charter", params=bad).status_code == status
    assert meeting.f.get(f"/console/{meeting.id}/charter?from=x&to=2").status_code == 400


def test_commitments_are_drafted_from_a_budget_meetings_funded_and_protected_proposals(
    server: LiveServer, meeting: Meeting, facilitator: httpx.Client
) -> None:
    """Choose a budget meeting with a closed round: each funded or protected proposal becomes
    a commitment of the chosen party, sourced to it, in a new version; refusals change nothing."""
    budget = Meeting(facilitator, BUDGET_MEETING)
    vote_budget_round(budget, lambda: Phone(server.browser(), budget.code))
    assert upload(meeting, json.dumps(CHARTER)).status_code == 303
    page = meeting.f.get(f"/console/{meeting.id}/charter").text
    assert f'<option value="{budget.id}">Budget night' in page
    # Refused: an unknown party, a meeting without a budget round, this meeting itself.
    for data, status in (
        ({"source": budget.id, "party": "nobody"}, 400),
        ({"source": meeting.id, "party": "council"}, 404),
        ({"source": "x", "party": "council"}, 400),
    ):
        r = meeting.f.post(
            f"/console/{meeting.id}/charter/from-budget",
            data={"csrf": meeting.csrf, **data},
            follow_redirects=False,
        )
        assert r.status_code == status, r.text
    assert versions(meeting) == [1]
    meeting.post("/charter/from-budget", source=budget.id, party="council")
    assert versions(meeting) == [2, 1]
    drafted = parse_charter(exported(meeting).text).commitments
    record = budget.f.get(f"/console/{budget.id}/export/results.json").json()["rounds"][0]
    expected = [
        p["id"]
        for p in record["proposals"]
        if p["id"] in record["funded"] or p["category"] == "PROTECTED"
    ]
    assert {"park", "cycle", "youth", "respite"} <= set(expected)
    assert [c.source.ref for c in drafted] == expected
    assert {c.party for c in drafted} == {"council"}
    assert all(c.source.kind is cd.SourceKind.BUDGET for c in drafted)
    titles = {p["id"]: p["title"] for p in BUDGET_MEETING["proposals"]}
    assert [c.what for c in drafted] == [titles[k] for k in expected]
    assert [c.key for c in drafted] == [f"budget-{k}" for k in expected]
    # Again: new keys, never a repeat of one the charter has.
    meeting.post("/charter/from-budget", source=budget.id, party="residents")
    again = parse_charter(exported(meeting).text).commitments
    assert len({c.key for c in again}) == len(again) == 2 * len(expected)


# --- the consent round -------------------------------------------------------------------------


def test_a_consent_round_is_answered_by_phone_and_keypad_and_decided_on_true_segments(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Two carers block the respite clause (m = 2, R = 2): sent back as the group blocks it,
    though nine of eleven support it; the library clause's amendment is answered beside it and
    adopted with more net support. The console's round page and results.json say so."""
    assert upload(meeting, json.dumps(CHARTER)).status_code == 303
    assert import_keypads(meeting, "keypad,label,segments\nwedge:7,K7,\n").status_code == 303
    run = meeting.f.get(f"/console/{meeting.id}").text
    assert 'name="kind" value="charter"' in run
    meeting.post(
        "/rounds",
        kind="charter",
        proposal=["respite", "library", "library-fortnight"],
        keypads="on",
    )
    rnd = meeting.state()["round"]
    assert rnd["kind"] == "charter"
    assert [p["id"] for p in rnd["proposals"]] == ["respite", "library", "library-fortnight"]
    respite = rnd["proposals"][0]
    assert respite["translations"]["cy"]["title"] == "Mae gofalwyr yn cael seibiant bob mis."
    assert [a["key"] for a in respite["scale"]["answers"]] == [1, 2, 3, 4, 5]
    # No new version while a charter round is open.
    r = paste(meeting, exported(meeting, "charter.md").text.replace("every month", "weekly"))
    assert r.status_code == 409

    carers = [phones() for _ in range(2)]
    for c in carers:
        assert c.segments("carer").status_code == 200
        assert c.vote({"respite": "5", "library": "3", "library-fortnight": "1"}).status_code == 200
    for _ in range(8):
        p = phones()
        assert p.vote({"respite": "1", "library": "4", "library-fortnight": "2"}).status_code == 200
    # A refusal: not on the consent scale.
    assert phones().vote({"respite": "6"}).status_code == 400
    # A keypad on the first clause: key 1, fully support.
    assert capture(meeting, "7 1").json()["accepted"] is True
    eventually(lambda: meeting.state()["turnout"]["voted"] == 11)
    meeting.close_round(1)
    meeting.reveal(1)
    shape = Conformance()  # the revealed snapshot matches the shapes, key for key
    shape.check(meeting.state(), shapes.MeetingState, "charter revealed")
    assert shape.problems == []

    record = meeting.f.get(f"/console/{meeting.id}/export/results.json").json()["rounds"][0]
    decided = {c["clause"]: c for c in record["charter"]["clauses"]}
    assert record["charter"]["rule"] == {"block_percent": 10, "ratio": 2, "group_min": 2}
    first = decided["respite"]["wordings"][0]
    assert first["answers"] == [9, 0, 0, 0, 2]
    assert decided["respite"]["decision"] == "SENT_BACK"
    # 2 of 11 block (18%): over the block share too; the carers' block is the group's.
    assert first["reasons"] == ["block-share", "group-blocks"] and first["groups"] == ["carer"]
    (carer,) = first["affected"]
    assert carer == {
        "group": "carer",
        "V": 2,
        "support": 0,
        "change": 0,
        "block": 2,
        "blocks": True,
        "suppressed": False,
    }
    library = decided["library"]
    assert library["adopted"] == "library-fortnight"
    assert library["decision"] == "ADOPTED_WITH_RESERVATIONS"
    assert [w["answers"] for w in library["wordings"]] == [[0, 0, 2, 8, 0], [2, 8, 0, 0, 0]]
    by_item = {a["id"]: a for a in record["answers"]}
    assert by_item["respite"]["answered"] == 11

    page = meeting.f.get(f"/console/{meeting.id}/rounds/1").text
    words = text_of(page)
    # Numbered as the round's phones and projector number them, with the charter's key.
    assert "Clause 1 (respite): ↩ SENT BACK" in words
    assert "Amendment to clause 2 (library-fortnight)" in words
    assert "The people it affects block it: Carer." in words  # the segment's label
    assert "Blocking groups: Carer." in words
    assert "2 of the 11 who answered block it: more than 10%." in words
    assert "Adopted as amended by library-fortnight." in words
    cy = text_of(meeting.f.get(f"/console/{meeting.id}/rounds/1?lang=cy").text)
    assert "Cymal 1 (respite): ↩ ANFONWYD YN ÔL" in cy
    assert "Mae'r bobl y mae'n effeithio arnynt yn ei rwystro: Carer." in cy
    assert "Mae gofalwyr yn cael seibiant bob mis." in cy  # the clause's own Welsh


def test_a_small_affected_group_blocks_on_its_true_segments(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Twenty fully support; the only two in the north (one also a carer: a rare combination)
    block the library clause. Under the block share, yet sent back: the group blocks it,
    counted on the voters' true segments, whatever the public record coarsens."""
    spec = json.loads(json.dumps(CHARTER))
    spec["sections"][0]["clauses"][1]["amendments"] = []
    spec["block_percent"] = 0  # not a field: refused
    assert upload(meeting, json.dumps(spec)).status_code == 400
    del spec["block_percent"]
    assert upload(meeting, json.dumps(spec)).status_code == 303
    meeting.post("/charter/rule", block_percent="20")
    meeting.post("/rounds", kind="charter", proposal=["library"])
    north = [phones(), phones()]
    assert north[0].segments("north", "carer").status_code == 200
    assert north[1].segments("north").status_code == 200
    for p in north:
        assert p.vote({"library": "5"}).status_code == 200
    for _ in range(20):
        assert phones().vote({"library": "1"}).status_code == 200
    meeting.close_round(1)
    record = meeting.f.get(f"/console/{meeting.id}/export/results.json").json()["rounds"][0]
    (clause,) = record["charter"]["clauses"]
    assert record["charter"]["rule"]["block_percent"] == 20
    assert clause["decision"] == "SENT_BACK"
    assert clause["wordings"][0]["reasons"] == ["group-blocks"]
    assert clause["wordings"][0]["groups"] == ["north"]
    # The rule cannot change once people have answered.
    r = meeting.f.post(
        f"/console/{meeting.id}/charter/rule",
        data={"csrf": meeting.csrf, "block_percent": "50"},
        follow_redirects=False,
    )
    assert r.status_code == 409
    for bad in ("101", "-1", "ten"):
        r = meeting.f.post(
            f"/console/{meeting.id}/charter/rule",
            data={"csrf": meeting.csrf, "block_percent": bad},
            follow_redirects=False,
        )
        assert r.status_code == 400


def test_a_later_version_never_changes_a_closed_rounds_results(
    meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """The round is read against the version in force when it opened: removing the clause
    in a new draft leaves the closed round's items and decisions as they were."""
    assert upload(meeting, json.dumps(CHARTER)).status_code == 303
    meeting.post("/rounds", kind="charter", proposal=["respite"])
    assert phones().vote({"respite": "1"}).status_code == 200
    meeting.close_round(1)
    before = meeting.f.get(f"/console/{meeting.id}/export/results.json").json()
    spec = json.loads(json.dumps(CHARTER))
    del spec["sections"][0]["clauses"][0]
    assert upload(meeting, json.dumps(spec)).status_code == 303
    assert versions(meeting) == [2, 1]
    after = meeting.f.get(f"/console/{meeting.id}/export/results.json").json()
    assert after == before
    assert after["rounds"][0]["charter"]["clauses"][0]["decision"] == "ADOPTED"


@pytest.mark.parametrize("what", ["charter.pdf", "survey.json", "charter.json.bak"])
def test_only_the_charter_files_are_served(meeting: Meeting, what: str) -> None:
    assert upload(meeting, json.dumps(CHARTER)).status_code == 303
    assert meeting.f.get(f"/console/{meeting.id}/charter/{what}").status_code == 404


def test_commitments_are_drafted_from_the_labs_pledges_as_counts(
    server: LiveServer, meeting: Meeting
) -> None:
    """An approved idea two people pledged to help with becomes the residents' commitment,
    with the count and never a name; an idea nobody pledged to stays out."""
    from tests.conftest import join
    from tests.test_lab_room import add_challenge, challenge_keys, ideas, suggest

    assert upload(meeting, json.dumps(CHARTER)).status_code == 303
    add_challenge(meeting, "Fewer empty buses")
    (challenge,) = challenge_keys(meeting)
    for text, helps in (("Share the school bus", "yes"), ("Paint the shelters", "")):
        phone = server.browser()
        join(phone, meeting.code)
        assert suggest(phone, meeting.code, challenge=challenge, text=text, help=helps).status_code
    url = server.app.state.services.settings.resolved_database_url()
    rows = {r.text: r for r in ideas(url, meeting.id)}
    for row in rows.values():
        meeting.post(f"/lab/ideas/{row.key}/approve")
    page = meeting.f.get(f"/console/{meeting.id}/charter").text
    assert "Ideas with pledges: 1." in page
    meeting.post("/charter/from-lab", party="residents")
    (drafted,) = parse_charter(exported(meeting).text).commitments
    bus = rows["Share the school bus"]
    assert (drafted.party, drafted.what) == ("residents", "Share the school bus")
    assert drafted.source == cd.Source(cd.SourceKind.LAB, bus.key, 1)
    assert versions(meeting) == [2, 1]


def test_phones_show_each_clause_in_welsh_and_paper_prints_the_consent_scale(
    meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """The phone's form in Welsh gives each clause its own Welsh and the five answers; the
    printed sheet lists the clauses with the scale."""
    assert upload(meeting, json.dumps(CHARTER)).status_code == 303
    meeting.post("/rounds", kind="charter", proposal=["respite", "library"])
    phone = phones()
    page = phone.c.get(f"/m/{meeting.code}?lang=cy").text
    assert "Mae gofalwyr yn cael seibiant bob mis." in page
    assert all(f'name="mark:respite" value="{k}"' in page for k in "12345")
    # One screen per clause, its amendment beside it (survey.js pages them one at a time).
    meeting.close_round(1)
    meeting.post("/rounds", kind="charter", proposal=["respite", "library", "library-fortnight"])
    page = phone.c.get(f"/m/{meeting.code}?lang=en").text
    screens = re.findall(r'<fieldset class="survey-page"[^>]*data-group="([^"]+)"', page)
    assert screens == ["respite", "library"]
    library = page[page.index('data-group="library"') :]
    assert 'name="mark:library-fortnight"' in library
    assert "Amendment to clause 2, answered beside it:" in library
    assert "0 of 2 clauses answered" in page and "Clause 1 of 2" in page
    assert phone.vote({"library-fortnight": "2"}).status_code == 200
    assert "1 of 2 clauses answered" in phone.c.get(f"/m/{meeting.code}?lang=en").text
    meeting.close_round(2)
    sheet = meeting.f.get(f"/console/{meeting.id}/rounds/2/paper/print?from=1&count=1").text
    assert "Carers get a respite break every month." in sheet
    assert "Need a change" in sheet and "Block" in sheet
