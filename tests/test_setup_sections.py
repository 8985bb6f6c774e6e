"""Set-up by section (issue 13): one save for the meeting, one for all segments, one for all
proposals; all or nothing, what was typed kept on a problem, ids from labels, Welsh stored."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

import httpx

from tests.conftest import MEETING, LiveServer, Meeting, Phone


class _Form(HTMLParser):
    """The fields one form of a page would send as it stands (inputs, ticked boxes, textareas,
    selects' chosen options), in order."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self.textarea: str | None = None
        self.select: str | None = None
        self.types: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action") == self.action
        if not self.inside or "name" not in a or "disabled" in a:
            return
        if tag == "input":
            kind = a.get("type", "text")
            self.types[a["name"]] = kind
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "on")))
        elif tag == "textarea":
            self.textarea = a["name"]
            self.fields.append((a["name"], ""))
        elif tag == "select":
            self.select = a["name"]
        elif tag == "option" and self.select and "selected" in a:
            self.fields.append((self.select, a.get("value", "")))

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            name, text = self.fields[-1]
            self.fields[-1] = (name, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self.textarea = None
        elif tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None


def form_of(html: str, action: str) -> dict[str, Any]:
    """A form's fields as httpx sends them: one value, or a list for repeated names."""
    parser = _Form(action)
    parser.feed(html)
    out: dict[str, Any] = {}
    for name, value in parser.fields:
        if name in out:
            out[name] = [*out[name], value] if isinstance(out[name], list) else [out[name], value]
        else:
            out[name] = value
    return out


def setup_page(meeting: Meeting) -> str:
    r = meeting.f.get(f"/console/{meeting.id}/setup")
    assert r.status_code == 200
    return r.text


def section(meeting: Meeting, name: str, **changes: Any) -> httpx.Response:
    """Post a section's form as the set-up page draws it, with `changes` typed in."""
    action = {
        "meeting": f"/console/{meeting.id}/settings",
        "segments": f"/console/{meeting.id}/setup/segments",
        "proposals": f"/console/{meeting.id}/setup/proposals",
    }[name]
    data = form_of(setup_page(meeting), action)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return meeting.f.post(action, data=data, follow_redirects=False)


def exported(meeting: Meeting) -> dict[str, Any]:
    return dict(meeting.f.get(f"/console/{meeting.id}/export/meeting.json").json())


def test_one_save_adds_several_segments_with_ids_made_from_their_labels(meeting: Meeting) -> None:
    """Three blank rows filled in, one save: ids come from the labels, unique in the meeting;
    Welsh labels are stored; the page goes back to the segments section."""
    r = section(
        meeting,
        "segments",
        **{
            "seg-3-label": "Young people (16\u201324)",
            "seg-3-label_cy": "Pobl ifanc (16\u201324)",
            "seg-4-label": "Carer",  # "carer" is taken: carer-2
            "seg-5-label": "Area: South",
            "seg-5-key": "south",
        },
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"].endswith("/setup#segments")
    segs = exported(meeting)["segments"]
    assert [s["id"] for s in segs] == [
        "carer",
        "north",
        "staff",
        "young-people-16-24",
        "carer-2",
        "south",
    ]
    assert segs[3]["translations"] == {"cy": {"label": "Pobl ifanc (16\u201324)"}}
    assert "translations" not in segs[4] or not segs[4]["translations"]


def test_a_problem_in_one_row_saves_nothing_and_keeps_what_was_typed(meeting: Meeting) -> None:
    """A duplicate id in one row: no segment is added or changed, the page comes back with
    every typed value, the problem next to its field and in the summary."""
    before = exported(meeting)
    r = section(
        meeting,
        "segments",
        **{
            "seg-0-label": "Carers (unpaid)",
            "seg-3-label": "Older people",
            "seg-4-label": "Another north",
            "seg-4-key": "north",
        },
    )
    assert r.status_code == 400
    assert 'id="error-summary"' in r.text and 'href="#seg-4-key"' in r.text
    assert 'id="seg-4-key-error"' in r.text and "ids must differ" in r.text
    assert 'value="Older people"' in r.text and 'value="Carers (unpaid)"' in r.text
    assert exported(meeting) == before


def test_the_meeting_section_keeps_the_pot_typed_when_another_field_is_wrong(
    meeting: Meeting,
) -> None:
    """The issue's lost pot: a bad m with a pot typed shows both again; nothing is saved."""
    r = section(meeting, "meeting", budget_pot="35000", budget_currency="£", group_min="many")
    assert r.status_code == 400
    assert 'value="35000"' in r.text and 'value="many"' in r.text
    assert 'href="#s-m"' in r.text
    assert exported(meeting).get("budget") is None
    r = section(meeting, "meeting", budget_pot="35000", budget_currency="£", title_cy="Cyllideb")
    assert r.status_code == 303 and r.headers["location"].endswith("/setup#meeting")
    saved = exported(meeting)
    assert saved["budget"]["pot"] == 35000
    assert saved["translations"] == {"cy": {"title": "Cyllideb"}}


def test_proposals_are_added_edited_and_given_welsh_in_one_save(meeting: Meeting) -> None:
    """Edit one proposal, add one with groups chosen by their labels' boxes, both with Welsh."""
    page = setup_page(meeting)
    assert '<label for="prop-0-g2">Area: North</label>' in page
    r = section(
        meeting,
        "proposals",
        **{
            "prop-0-title_cy": "Llyfrgell symudol",
            "prop-0-description_cy": "Unwaith yr wythnos",
            "prop-3-title": "Skate park",
            "prop-3-title_cy": "Parc sglefrio",
            "prop-3-kind": "fund",
            "prop-3-cost": "£12,500",
            "prop-3-groups": ["carer", "north"],
        },
    )
    assert r.status_code == 303, r.text
    saved = exported(meeting)
    library, *_, skate = saved["proposals"]
    assert library["translations"] == {
        "cy": {"title": "Llyfrgell symudol", "description": "Unwaith yr wythnos"}
    }
    assert (skate["id"], skate["cost"], skate["kind"]) == ("skate-park", 12500, "fund")
    assert skate["affected_groups"] == ["carer", "north"]
    assert sorted(saved["tie_break"]) == ["library", "respite", "skate-park", "toilets"]


def test_renaming_an_id_moves_its_references_until_voting_starts(
    meeting: Meeting, phones: Any
) -> None:
    """Before any vote a segment's new id follows into the proposals' affected groups and a
    proposal's into the tie-break order; once voted on, an id change is refused."""
    r = section(meeting, "segments", **{"seg-1-key": "area-north"})
    assert r.status_code == 303, r.text
    saved = exported(meeting)
    assert saved["proposals"][0]["affected_groups"] == ["area-north"]
    r = section(meeting, "proposals", **{"prop-2-key": "park-toilets"})
    assert r.status_code == 303, r.text
    assert "park-toilets" in exported(meeting)["tie_break"]
    meeting.open_round("library")
    phones().vote({"library": "want"})
    r = section(meeting, "proposals", **{"prop-0-key": "mobile-library"})
    assert r.status_code == 409
    assert "cannot change" in r.text and 'value="mobile-library"' in r.text
    r = section(meeting, "segments", **{"seg-0-key": "carers"})
    assert r.status_code == 409 and "cannot change" in r.text
    assert exported(meeting)["proposals"][0]["id"] == "library"


def test_removing_asks_first_and_refuses_what_the_record_needs(meeting: Meeting) -> None:
    """A ticked remove asks for confirmation; a segment still an affected group is refused
    with the proposal named; an unused one goes once confirmed."""
    r = section(meeting, "proposals", **{"prop-2-remove": "on"})
    assert r.status_code == 200 and "Park toilets" in r.text and "Yes, save and remove" in r.text
    assert "toilets" in [p["id"] for p in exported(meeting)["proposals"]]
    r = section(meeting, "proposals", **{"prop-2-remove": "on", "confirm": "yes"})
    assert r.status_code == 303
    assert "toilets" not in exported(meeting)["tie_break"]
    r = section(meeting, "segments", **{"seg-0-remove": "on", "confirm": "yes"})
    assert r.status_code == 409 and "Respite breaks" in r.text
    section(meeting, "proposals", **{"prop-1-groups": "staff"})
    r = section(meeting, "segments", **{"seg-0-remove": "on", "confirm": "yes"})
    assert r.status_code == 303, r.text
    assert [s["id"] for s in exported(meeting)["segments"]] == ["north", "staff"]


def test_the_page_counts_texts_without_welsh(meeting: Meeting) -> None:
    """The meeting's title, 3 segment labels, 3 proposal titles: 7 texts without Welsh (the
    test meeting has no descriptions); one Welsh title later, 6."""
    assert "Texts with no Welsh yet: 7." in setup_page(meeting)
    section(meeting, "meeting", title_cy="Cyllideb prawf")
    assert "Texts with no Welsh yet: 6." in setup_page(meeting)


def test_a_voted_proposal_saves_unchanged_whatever_order_its_groups_were_listed_in(
    server: LiveServer, facilitator: httpx.Client
) -> None:
    """A meeting file listing a proposal's groups out of the segments' order: after a vote,
    saving the proposals section without changes is not taken for a change of its groups."""
    spec = json.loads(json.dumps(MEETING))
    spec["proposals"][1]["affected_groups"] = ["staff", "carer"]
    meeting = Meeting(facilitator, spec)
    meeting.open_round("respite")
    Phone(server.browser(), meeting.code).vote({"respite": "want"})
    r = section(meeting, "proposals", **{"prop-1-title_cy": "Seibiant"})
    assert r.status_code == 303, r.text
    respite = exported(meeting)["proposals"][1]
    assert respite["affected_groups"] == ["staff", "carer"]
    assert respite["translations"] == {"cy": {"title": "Seibiant"}}
