"""The Co-Production Lab in the room (issue 16): challenges, ideas from phones and flip charts,
moderation (approve, hide, correct, merge keeping helpers and ratings), bounds and limits.

Over HTTP on SQLite and PostgreSQL (the `settings` fixture), plus the service's pure parts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import col

from app.core.errors import InvalidForm
from app.rules.lab import IDEA_TEXT_MAX, IdeaKind
from app.voting import lab
from app.voting.db import make_engine, transaction
from app.voting.models import LabIdea, LabPledge
from tests.conftest import LiveServer, Meeting, Phone, csrf_of, join, make_settings

CHALLENGES = ["library", "respite"]


# --- pure ----------------------------------------------------------------------------------


def test_an_idea_is_checked_field_by_field_all_at_once() -> None:
    """No challenge, too long a text and no kind: three problems, each by its field."""
    with pytest.raises(InvalidForm) as e:
        lab.parse_idea(CHALLENGES, challenge="nope", text="x" * (IDEA_TEXT_MAX + 1), kind="?")
    assert [field for field, _ in e.value.problems] == ["idea-challenge", "idea-text", "idea-kind"]


def test_an_ideas_text_is_cleaned_of_invisible_and_direction_characters() -> None:
    """Control and bidi characters go; spaces are trimmed; the kind is the enum."""
    got = lab.parse_idea(
        CHALLENGES, challenge="library", text="  Share\u202e the van\u200b ", kind="co_deliver"
    )
    assert got == lab.IdeaDraft("library", "Share the van", "", IdeaKind.CO_DELIVER)


def test_a_merged_ideas_rating_counts_for_its_target_unless_the_voter_rated_both() -> None:
    """Ratings move to the target; the target's own rating wins over the merged one's."""
    into = {"a": "t", "b": "t"}
    assert lab.merged_ratings({"a": "agree", "x": "pass"}, into) == {"t": "agree", "x": "pass"}
    assert lab.merged_ratings({"a": "agree", "t": "disagree"}, into) == {"t": "disagree"}
    # Two merged ideas rated, target not: the first by key, whatever the order given.
    assert lab.merged_ratings({"b": "pass", "a": "agree"}, into) == {"t": "agree"}


# --- over HTTP ----------------------------------------------------------------------------


def add_challenge(meeting: Meeting, title: str, title_cy: str = "") -> None:
    meeting.post("/lab/challenges", title=title, title_cy=title_cy)


def challenge_keys(meeting: Meeting) -> list[str]:
    page = meeting.f.get(f"/console/{meeting.id}/lab").text
    return re.findall(r'/lab/challenges/(c\d+)/edit"', page)


def suggest(phone: httpx.Client, code: str, **fields: Any) -> httpx.Response:
    csrf = csrf_of(phone, f"/m/{code}/lab")
    data = {"csrf": csrf, "kind": "redesign", **fields}
    return phone.post(f"/m/{code}/lab", data=data, follow_redirects=False)


def ideas(settings_url: str, meeting_id: int) -> list[LabIdea]:
    engine = make_engine(settings_url)
    try:
        with transaction(engine) as session:
            rows = list(
                session.scalars(
                    select(LabIdea)
                    .where(col(LabIdea.meeting_id) == meeting_id)
                    .order_by(col(LabIdea.id))
                )
            )
            session.expunge_all()
            return rows
    finally:
        engine.dispose()


def pledges(settings_url: str, idea_id: int) -> int:
    engine = make_engine(settings_url)
    try:
        with transaction(engine) as session:
            q = select(func.count()).select_from(LabPledge).where(col(LabPledge.idea_id) == idea_id)
            return int(session.execute(q).scalar_one())
    finally:
        engine.dispose()


def test_a_phone_suggests_an_idea_that_waits_for_the_facilitator(
    server: LiveServer, meeting: Meeting
) -> None:
    """The notice, the form; after sending, "waiting for the facilitator"; pending in the queue
    with the author's pledge; not on the wall until approved."""
    add_challenge(meeting, "Keep the library open for less", "Cadw'r llyfrgell ar agor")
    (key,) = challenge_keys(meeting)
    phone = server.browser()
    join(phone, meeting.code)
    page = phone.get(f"/m/{meeting.code}/lab").text
    assert "Do not include personal details" in page and "Keep the library open" in page
    r = suggest(phone, meeting.code, challenge=key, text="Run it from the school", help="yes")
    assert r.status_code == 303
    after = phone.get(r.headers["location"]).text
    assert "Your idea is waiting for the facilitator" in after
    assert "Run it from the school" in after and "waiting for the facilitator" in after
    url = server.app.state.services.settings.resolved_database_url()
    (row,) = ideas(url, meeting.id)
    assert (row.status, row.channel, row.kind) == ("pending", "phone", "redesign")
    assert row.id is not None and pledges(url, row.id) == 1
    console = meeting.f.get(f"/console/{meeting.id}/lab").text
    queue = console.split('id="queue-h"')[1].split('id="key-h"')[0]
    wall = console.split('id="wall-h"')[1]
    assert "Run it from the school" in queue and "Run it from the school" not in wall
    meeting.post(f"/lab/ideas/{row.key}/approve")
    wall = meeting.f.get(f"/console/{meeting.id}/lab").text.split('id="wall-h"')[1]
    assert "Run it from the school" in wall and "would help: 1" in wall
    # In Welsh, the challenge in Welsh and the phone's status in Welsh.
    cy = phone.get(f"/m/{meeting.code}/lab?lang=cy").text
    assert "Cadw&#39;r llyfrgell ar agor" in cy or "Cadw'r llyfrgell ar agor" in cy


def test_a_bad_idea_comes_back_with_every_problem_and_nothing_is_kept(
    server: LiveServer, meeting: Meeting
) -> None:
    """Too long a text, too long a description, no challenge: 400, each by its field, no row;
    a browser that has not joined is refused (409) and nothing is kept."""
    add_challenge(meeting, "Fewer empty buses")
    phone = server.browser()
    join(phone, meeting.code)
    r = suggest(
        phone, meeting.code, text="x" * (IDEA_TEXT_MAX + 1), description="d" * 5000, kind="?"
    )
    assert r.status_code == 400
    for field in ("idea-challenge", "idea-text", "idea-description", "idea-kind"):
        assert f'href="#{field}"' in r.text
    stranger = server.browser()
    csrf = csrf_of(stranger, f"/m/{meeting.code}")  # the join form's: it has not joined
    (key,) = challenge_keys(meeting)
    r = stranger.post(
        f"/m/{meeting.code}/lab",
        data={"csrf": csrf, "challenge": key, "text": "Hello", "kind": "redesign"},
    )
    assert r.status_code == 409 and "Join the meeting first" in r.text
    url = server.app.state.services.settings.resolved_database_url()
    assert ideas(url, meeting.id) == []


def test_a_phone_sending_ideas_too_fast_is_refused_before_anything_is_kept(
    tmp_path: Path,
) -> None:
    """Past limit_ideas_per_voter a post is refused (429, Retry-After) and stores nothing;
    another phone is not affected."""
    from tests.conftest import FACILITATOR_KEY

    with LiveServer(make_settings(tmp_path, limit_ideas_per_voter="2/minute")) as server:
        f = server.browser()
        f.get(f"/facilitator?key={FACILITATOR_KEY}")
        meeting = Meeting(f)
        add_challenge(meeting, "Fewer empty buses")
        (key,) = challenge_keys(meeting)
        phone = server.browser()
        join(phone, meeting.code)
        for n in range(2):
            assert suggest(phone, meeting.code, challenge=key, text=f"Idea {n}").status_code == 303
        r = suggest(phone, meeting.code, challenge=key, text="Idea 3")
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        other = server.browser()
        join(other, meeting.code)
        assert suggest(other, meeting.code, challenge=key, text="Idea 4").status_code == 303
        url = server.app.state.services.settings.resolved_database_url()
        assert [i.text for i in ideas(url, meeting.id)] == ["Idea 0", "Idea 1", "Idea 4"]


def test_flip_chart_rows_go_on_the_wall_at_once_all_or_none(
    server: LiveServer, meeting: Meeting
) -> None:
    """Rows with text are stored approved from the console; one bad row stores none."""
    add_challenge(meeting, "Fewer empty buses")
    add_challenge(meeting, "Warm spaces")
    first, second = challenge_keys(meeting)
    bad = meeting.f.post(
        f"/console/{meeting.id}/lab/ideas",
        data={
            "csrf": meeting.csrf,
            "text_1": "Share the school bus",
            "challenge_1": first,
            "kind_1": "co_deliver",
            "text_2": "y" * (IDEA_TEXT_MAX + 1),
            "challenge_2": second,
            "kind_2": "redesign",
        },
    )
    assert bad.status_code == 400
    url = server.app.state.services.settings.resolved_database_url()
    assert ideas(url, meeting.id) == []
    meeting.post(
        "/lab/ideas",
        text_1="Share the school bus",
        challenge_1=first,
        kind_1="co_deliver",
        text_3="Open the chapel vestry",
        challenge_3=second,
        kind_3="cut_cost",
    )
    rows = ideas(url, meeting.id)
    assert [(i.text, i.status, i.channel) for i in rows] == [
        ("Share the school bus", "approved", "console"),
        ("Open the chapel vestry", "approved", "console"),
    ]


def test_merging_keeps_every_helper_once_and_suggests_the_duplicate(
    server: LiveServer, meeting: Meeting
) -> None:
    """Two phones send nearly the same idea, each would help, one also pledges the other:
    the console suggests the pair; merging moves the helpers (one per voter), marks the source
    merged, and a merged idea can no longer be approved."""
    add_challenge(meeting, "Fewer empty buses")
    (key,) = challenge_keys(meeting)
    a, b = server.browser(), server.browser()
    join(a, meeting.code)
    join(b, meeting.code)
    suggest(a, meeting.code, challenge=key, text="Share the school bus with the village", help="1")
    suggest(b, meeting.code, challenge=key, text="Share the school bus with villages", help="1")
    url = server.app.state.services.settings.resolved_database_url()
    first, second = ideas(url, meeting.id)
    page = meeting.f.get(f"/console/{meeting.id}/lab").text
    assert "Likely the same as:" in page
    meeting.post(f"/lab/ideas/{second.key}/merge", into=first.key)
    first, second = ideas(url, meeting.id)
    assert (second.status, second.merged_into) == ("merged", first.id)
    assert first.id is not None and second.id is not None
    assert pledges(url, first.id) == 2 and pledges(url, second.id) == 0
    r = meeting.f.post(
        f"/console/{meeting.id}/lab/ideas/{second.key}/approve", data={"csrf": meeting.csrf}
    )
    assert r.status_code == 409
    assert lab.merged_ratings({second.key: "agree"}, {second.key: first.key}) == {
        first.key: "agree"
    }


def test_the_facilitator_corrects_hides_and_restores_an_idea(
    server: LiveServer, meeting: Meeting
) -> None:
    """A corrected text is bounded like a phone's; hide takes it off the wall; restore puts it
    back in the queue; a challenge with ideas cannot be removed, an empty one can."""
    add_challenge(meeting, "Fewer empty buses")
    add_challenge(meeting, "Spare")
    key, spare = challenge_keys(meeting)
    phone = server.browser()
    join(phone, meeting.code)
    suggest(phone, meeting.code, challenge=key, text="Shair the bus")
    url = server.app.state.services.settings.resolved_database_url()
    (row,) = ideas(url, meeting.id)
    meeting.post(f"/lab/ideas/{row.key}/edit", text="Share the bus")
    too_long = meeting.f.post(
        f"/console/{meeting.id}/lab/ideas/{row.key}/edit",
        data={"csrf": meeting.csrf, "text": "z" * (IDEA_TEXT_MAX + 1)},
    )
    assert too_long.status_code == 400
    meeting.post(f"/lab/ideas/{row.key}/hide")
    (row,) = ideas(url, meeting.id)
    assert (row.text, row.status) == ("Share the bus", "hidden")
    meeting.post(f"/lab/ideas/{row.key}/restore")
    assert ideas(url, meeting.id)[0].status == "pending"
    r = meeting.f.post(
        f"/console/{meeting.id}/lab/challenges/{key}/remove", data={"csrf": meeting.csrf}
    )
    assert r.status_code == 409
    meeting.post(f"/lab/challenges/{spare}/remove")
    assert challenge_keys(meeting) == [key]


def test_the_room_rates_the_ideas_by_api_and_keypad_including_one_approved_while_open(
    server: LiveServer, meeting: Meeting
) -> None:
    """A `lab` round asks every approved idea on the agree/disagree/pass scale; an idea approved
    while it runs joins the round; keypad 2 on the idea on screen is "disagree"; a merged idea's
    rating counts for its target (target's own rating kept); the console shows the results."""
    from tests.test_keypads import capture, eventually, import_keypads

    assert import_keypads(meeting, "keypad,label,segments\nwedge:7,K7,\n").status_code == 303
    add_challenge(meeting, "Fewer empty buses")
    (key,) = challenge_keys(meeting)
    meeting.post(
        "/lab/ideas",
        text_1="Share the school bus",
        challenge_1=key,
        kind_1="co_deliver",
        text_2="A bus on demand",
        challenge_2=key,
        kind_2="redesign",
    )
    url = server.app.state.services.settings.resolved_database_url()
    bus, demand = ideas(url, meeting.id)
    assert 'name="kind" value="lab"' in meeting.f.get(f"/console/{meeting.id}").text
    meeting.post("/rounds", kind="lab", keypads="on")
    rnd = meeting.state()["round"]
    assert rnd["kind"] == "lab"
    assert [p["id"] for p in rnd["proposals"]] == [bus.key, demand.key]
    assert [a["label"] for a in rnd["proposals"][0]["scale"]["answers"]] == [
        "Agree",
        "Disagree",
        "Pass",
    ]
    phones = [Phone(server.browser(), meeting.code) for _ in range(3)]
    assert phones[0].vote({bus.key: "agree", demand.key: "disagree"}).status_code == 200
    assert phones[1].vote({bus.key: "agree", demand.key: "agree"}).status_code == 200
    assert phones[2].vote({bus.key: "maybe"}).status_code == 400
    # Approved while the round runs: a phone's idea joins the round and can be rated.
    suggest(phones[2].c, meeting.code, challenge=key, text="Share the school bus, please")
    late = ideas(url, meeting.id)[-1]
    meeting.post(f"/lab/ideas/{late.key}/approve")
    assert [p["id"] for p in meeting.state()["round"]["proposals"]] == [
        bus.key,
        demand.key,
        late.key,
    ]
    assert phones[2].vote({late.key: "agree", demand.key: "pass"}).status_code == 200
    # A keypad rates the idea on the big screen: 2 is disagree.
    assert capture(meeting, "7 2").json()["accepted"] is True
    eventually(lambda: meeting.state()["turnout"]["voted"] == 4)
    # The late idea is merged into the bus: phone 2's agree counts for the bus.
    meeting.post(f"/lab/ideas/{late.key}/merge", into=bus.key)
    # It leaves the round's items (phones, projector and keypads agree on the rest), yet a
    # phone re-sending its whole ballot with it is still taken.
    assert [p["id"] for p in meeting.state()["round"]["proposals"]] == [bus.key, demand.key]
    assert phones[2].vote({late.key: "agree", demand.key: "pass"}).status_code == 200
    meeting.close_round(1)
    meeting.reveal(1)
    results = meeting.state()["results"]
    counts = {a["id"]: a["counts"] for a in results["answers"]}
    assert counts[bus.key] == {"agree": 3, "disagree": 1, "pass": 0}
    assert counts[demand.key] == {"agree": 1, "disagree": 1, "pass": 1}
    assert set(counts) == {bus.key, demand.key}
    page = meeting.f.get(f"/console/{meeting.id}/lab").text
    assert 'id="results-h"' in page
    table = page.split('id="results-h"')[1]
    # bus: agree from phones 0, 1 and (merged) 2, the keypad's disagree: 3 of 4 = 75%.
    assert "Share the school bus" in table and "75%" in table


def test_a_rejected_idea_is_shortlisted_only_with_a_reason_and_the_shortlist_becomes_proposals(
    server: LiveServer, meeting: Meeting
) -> None:
    """Carers, the group an idea affects, reject it by the meeting's rule: it is marked; it is
    shortlisted only with a reason (audited); the shortlist becomes a new budget meeting's
    proposals with the affected groups and the helpers' count, never who."""
    import json

    add_challenge(meeting, "Respite for carers")
    (key,) = challenge_keys(meeting)
    helper = Phone(server.browser(), meeting.code)
    suggest(helper.c, meeting.code, challenge=key, text="Close the day centre", help="yes")
    url = server.app.state.services.settings.resolved_database_url()
    (centre,) = ideas(url, meeting.id)
    meeting.post(f"/lab/ideas/{centre.key}/approve")
    meeting.post("/lab/ideas", text_1="Volunteer sitters", challenge_1=key, kind_1="co_deliver")
    sitters = ideas(url, meeting.id)[-1]
    meeting.post(f"/lab/ideas/{centre.key}/affected", segment=["carer"])
    r = meeting.f.post(
        f"/console/{meeting.id}/lab/ideas/{centre.key}/affected",
        data={"csrf": meeting.csrf, "segment": "nobody"},
    )
    assert r.status_code == 400
    meeting.post("/rounds", kind="lab")
    carers = [Phone(server.browser(), meeting.code) for _ in range(2)]
    for p in carers:
        assert p.segments("carer").status_code == 200
        assert p.vote({centre.key: "disagree", sitters.key: "agree"}).status_code == 200
    assert helper.vote({centre.key: "agree", sitters.key: "agree"}).status_code == 200
    meeting.close_round(1)
    page = meeting.f.get(f"/console/{meeting.id}/lab").text
    assert "Rejected by: Carer" in page
    no_reason = meeting.f.post(
        f"/console/{meeting.id}/lab/shortlist",
        data={"csrf": meeting.csrf, "idea": [centre.key, sitters.key]},
    )
    assert no_reason.status_code == 400 and "give your reason" in no_reason.text
    assert not any(i.shortlisted for i in ideas(url, meeting.id))
    meeting.post(
        "/lab/shortlist",
        idea=[centre.key, sitters.key],
        **{f"reason:{centre.key}": "The only idea that meets the savings target"},
    )
    (link,) = [
        json.loads(line)
        for line in meeting.f.get(f"/console/{meeting.id}/export/audit.jsonl").text.splitlines()
        if '"lab.shortlisted"' in line
    ]
    assert link["data"] == {
        "idea": centre.key,
        "reason": "The only idea that meets the savings target",
        "rejected_by": ["carer"],
    }
    r = meeting.f.post(
        f"/console/{meeting.id}/lab/proposals",
        data={"csrf": meeting.csrf, f"kind:{centre.key}": "keep", f"amount:{centre.key}": "x"},
    )
    assert r.status_code == 400
    r = meeting.f.post(
        f"/console/{meeting.id}/lab/proposals",
        data={
            "csrf": meeting.csrf,
            f"kind:{centre.key}": "keep",
            f"amount:{centre.key}": "£48,000",
            f"amount:{sitters.key}": "12.345",
        },
    )
    assert r.status_code == 400 and "whole pence" in r.text
    r = meeting.f.post(
        f"/console/{meeting.id}/lab/proposals",
        data={
            "csrf": meeting.csrf,
            f"kind:{centre.key}": "keep",
            f"amount:{centre.key}": "£48,000",
            f"amount:{sitters.key}": "1500.50",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    made = int(r.headers["location"].split("/")[2])
    spec = meeting.f.get(f"/console/{made}/export/meeting.json").json()
    by_id = {p["id"]: p for p in spec["proposals"]}
    assert set(by_id) == {centre.key, sitters.key}
    assert (by_id[centre.key]["kind"], by_id[centre.key]["affected_groups"]) == ("keep", ["carer"])
    assert (by_id[sitters.key]["kind"], by_id[sitters.key]["cost"]) == ("fund", 1500.5)
    assert by_id[centre.key]["saving"] == 48000
    assert "People who would help make it happen: 1." in by_id[centre.key]["description"]
    assert "People who would help make it happen: 0." in by_id[sitters.key]["description"]
    welsh = by_id[centre.key]["translations"]["cy"]["description"]
    assert "Pobl a fyddai'n helpu i'w wireddu: 1." in welsh
    assert [s["id"] for s in spec["segments"]] == ["carer", "north", "staff"]


def test_the_wall_shows_approved_ideas_by_challenge_and_the_idea_keypads_rate(
    server: LiveServer, meeting: Meeting
) -> None:
    """Pending and hidden ideas stay off the wall; approved ones show under their challenge
    with helpers' counts; in a keypad round the idea on screen and its keys; in Welsh too."""
    add_challenge(meeting, "Fewer empty buses", "Llai o fysiau gwag")
    (key,) = challenge_keys(meeting)
    phone = Phone(server.browser(), meeting.code)
    suggest(phone.c, meeting.code, challenge=key, text="Share the school bus", help="yes")
    suggest(phone.c, meeting.code, challenge=key, text="Still waiting")
    url = server.app.state.services.settings.resolved_database_url()
    shared, _still = ideas(url, meeting.id)
    wall = server.browser()
    assert "Share the school bus" not in wall.get(f"/p/{meeting.code}/wall?part=1").text
    meeting.post(f"/lab/ideas/{shared.key}/approve")
    part = wall.get(f"/p/{meeting.code}/wall?part=1").text
    assert "Fewer empty buses" in part and "Share the school bus" in part
    assert "would help: 1" in part and "Still waiting" not in part
    meeting.post("/rounds", kind="lab", keypads="on")
    part = wall.get(f"/p/{meeting.code}/wall?part=1").text
    assert "Rate this idea" in part and "press 1 Agree, 2 Disagree, 3 Pass" in part
    cy = wall.get(f"/p/{meeting.code}/wall?lang=cy").text
    assert "Llai o fysiau gwag" in cy and "lab_wall.js" in cy
    # Revealed: the wall no longer asks for ratings; read twice, it says the same (the second
    # from the figures kept for the unchanged ideas).
    meeting.close_round(1)
    meeting.reveal(1)
    once = wall.get(f"/p/{meeting.code}/wall?part=1").text
    assert "Rate this idea" not in once and "Share the school bus" in once
    assert wall.get(f"/p/{meeting.code}/wall?part=1").text == once


def test_a_phone_rates_one_idea_at_a_time_fewest_answers_first(
    server: LiveServer, meeting: Meeting
) -> None:
    """/m/CODE/rate shows the idea with fewest answers first, adds each rating to the voter's
    ballot (earlier ratings kept), can pledge help, refuses an answer off the scale, and says
    when every idea is rated."""
    add_challenge(meeting, "Fewer empty buses")
    (key,) = challenge_keys(meeting)
    meeting.post(
        "/lab/ideas",
        text_1="Share the school bus",
        challenge_1=key,
        kind_1="co_deliver",
        text_2="A bus on demand",
        challenge_2=key,
        kind_2="redesign",
    )
    url = server.app.state.services.settings.resolved_database_url()
    bus, demand = ideas(url, meeting.id)
    first = Phone(server.browser(), meeting.code)
    assert "No rating round is open" in first.c.get(f"/m/{meeting.code}/rate").text
    meeting.post("/rounds", kind="lab")
    assert first.vote({bus.key: "agree"}).status_code == 200
    # A second phone: the demand-responsive bus has no answer yet, so it comes first.
    second = Phone(server.browser(), meeting.code)
    page = second.c.get(f"/m/{meeting.code}/rate").text
    assert "A bus on demand" in page and "0 of 2 answered" in page
    assert f'href="/m/{meeting.code}/rate"' in second.c.get(f"/m/{meeting.code}").text
    csrf = csrf_of(second.c, f"/m/{meeting.code}/rate")
    bad = second.c.post(
        f"/m/{meeting.code}/rate", data={"csrf": csrf, "idea": demand.key, "rating": "maybe"}
    )
    assert bad.status_code == 400
    r = second.c.post(
        f"/m/{meeting.code}/rate",
        data={"csrf": csrf, "idea": demand.key, "rating": "disagree", "help": "yes"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = second.c.get(f"/m/{meeting.code}/rate").text
    assert "Share the school bus" in page and "1 of 2 answered" in page
    second.c.post(f"/m/{meeting.code}/rate", data={"csrf": csrf, "idea": bus.key, "rating": "pass"})
    assert "You have rated every idea" in second.c.get(f"/m/{meeting.code}/rate").text
    assert second.state()["you"]["ballot"]["marks"] == {demand.key: "disagree", bus.key: "pass"}
    assert demand.id is not None and pledges(url, demand.id) == 1


def test_challenges_come_from_the_survey_focus_list_in_english_and_welsh(
    meeting: Meeting, phones: Any
) -> None:
    """After a survey round closes, one button makes a challenge per focus-list service,
    worded by why it is there, with the service's Welsh title in the Welsh; twice adds none."""
    from tests.test_survey_round import import_survey, open_survey, survey_text

    assert "from the focus list" not in meeting.f.get(f"/console/{meeting.id}/lab").text
    assert import_survey(meeting, survey_text()).status_code == 303
    open_survey(meeting)
    for marks in (
        {"library.value": "5", "library.need": "often", "library.satisfaction": "2",
         "parks.value": "3", "parks.satisfaction": "4"},
        {"library.value": "4", "library.need": "sometimes", "library.satisfaction": "1",
         "parks.value": "2", "parks.satisfaction": "5"},
        {"library.value": "5", "library.need": "often", "library.satisfaction": "3",
         "parks.value": "2", "parks.satisfaction": "4"},
    ):  # fmt: skip
        assert phones().vote(marks).status_code == 200
    meeting.close_round(1)
    for _ in range(2):
        meeting.post("/lab/challenges/focus")
    page = meeting.f.get(f"/console/{meeting.id}/lab").text
    assert "How could Mobile library meet people&#39;s needs better?" in page
    assert "How could Parks cost less or be run differently?" in page
    assert challenge_keys(meeting) == ["c1", "c2"]
    welsh = meeting.f.get(f"/console/{meeting.id}/lab?lang=cy").text
    assert "Sut gallai Llyfrgell deithiol ddiwallu anghenion pobl yn well?" in welsh


def test_the_labs_public_files_recount_to_the_servers_results_byte_for_byte(
    server: LiveServer, meeting: Meeting, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After a rating round: the ideas, votes and groups CSV and the results JSON download;
    `covote lab tabulate` over the three files prints the JSON byte for byte; the carers'
    rejection is in it; the vote file names no carer segment (its totals are in groups)."""
    from app import cli

    add_challenge(meeting, "Respite for carers")
    (key,) = challenge_keys(meeting)
    meeting.post(
        "/lab/ideas",
        text_1="Close the day centre",
        challenge_1=key,
        kind_1="cut_cost",
        text_2="Volunteer sitters",
        challenge_2=key,
        kind_2="co_deliver",
    )
    url = server.app.state.services.settings.resolved_database_url()
    centre, sitters = ideas(url, meeting.id)
    meeting.post(f"/lab/ideas/{centre.key}/affected", segment=["carer"])
    assert meeting.f.get(f"/console/{meeting.id}/lab/lab-results.json").status_code == 404
    meeting.post("/rounds", kind="lab")
    for segments, ratings in (
        (["carer"], ("disagree", "agree")),
        (["carer"], ("disagree", "agree")),
        (["staff"], ("agree", "agree")),
        (["staff"], ("agree", "pass")),
    ):
        p = Phone(server.browser(), meeting.code)
        assert p.segments(*segments).status_code == 200
        assert p.vote(dict(zip((centre.key, sitters.key), ratings, strict=True))).status_code == 200
    meeting.close_round(1)
    files = {}
    for what in ("lab-ideas.csv", "lab-votes.csv", "lab-groups.csv", "lab-results.json"):
        r = meeting.f.get(f"/console/{meeting.id}/lab/{what}")
        assert r.status_code == 200, what
        assert what in r.headers["content-disposition"]
        files[what] = r.text
        (tmp_path / what).write_text(r.text, encoding="utf-8")
    assert "carer" not in files["lab-votes.csv"] and "carer" in files["lab-groups.csv"]
    results = json.loads(files["lab-results.json"])
    rejected = {i["key"]: i["rejected_by"] for i in results["ideas"]}
    assert rejected == {centre.key: ["carer"], sitters.key: []}
    args = ["lab", "tabulate", str(tmp_path / "lab-ideas.csv"), str(tmp_path / "lab-votes.csv")]
    args += ["--groups", str(tmp_path / "lab-groups.csv"), "--m", "2", "--r", "2"]
    assert cli.main(args) == 0
    assert capsys.readouterr().out == files["lab-results.json"]


def test_hostile_input_is_bounded_refused_clearly_and_changes_nothing(
    server: LiveServer, meeting: Meeting
) -> None:
    """A megabyte idea, a stranger's kind, an unknown idea or action, a merge into itself or
    into a hidden idea, a shortlist of a pending idea: 4xx, and nothing stored or changed."""
    add_challenge(meeting, "Fewer empty buses")
    (key,) = challenge_keys(meeting)
    phone = Phone(server.browser(), meeting.code)
    r = suggest(phone.c, meeting.code, challenge=key, text="x" * 1_000_000, kind="redesign")
    assert r.status_code == 400 and "x" * 1000 not in r.text
    r = suggest(phone.c, meeting.code, challenge=key, text="Fine", kind="<script>")
    assert r.status_code == 400
    url = server.app.state.services.settings.resolved_database_url()
    assert ideas(url, meeting.id) == []
    suggest(phone.c, meeting.code, challenge=key, text="Share the bus")
    suggest(phone.c, meeting.code, challenge=key, text="Hide me")
    shared, hidden = ideas(url, meeting.id)
    meeting.post(f"/lab/ideas/{hidden.key}/hide")

    def refused(path: str, **data: Any) -> int:
        r = meeting.f.post(f"/console/{meeting.id}{path}", data={"csrf": meeting.csrf, **data})
        return r.status_code

    assert refused("/lab/ideas/nope/approve") == 404
    assert refused(f"/lab/ideas/{'z' * 5000}/approve") == 404
    assert refused(f"/lab/ideas/{shared.key}/explode") == 400
    assert refused(f"/lab/ideas/{shared.key}/merge", into=shared.key) == 400
    assert refused(f"/lab/ideas/{shared.key}/merge", into=hidden.key) == 409
    assert refused("/lab/shortlist", idea=shared.key) == 409  # pending, not approved
    assert refused("/lab/challenges", title="") == 400
    assert refused("/lab/challenges", title="t" * 301) == 400
    assert refused("/lab/ideas") == 400  # no row with text
    assert [(i.status, i.shortlisted) for i in ideas(url, meeting.id)] == [
        ("pending", False),
        ("hidden", False),
    ]
    assert challenge_keys(meeting) == [key]


def test_hiding_the_idea_before_the_one_keypads_rate_keeps_that_one_on_screen(
    server: LiveServer, meeting: Meeting
) -> None:
    """Keypads rate the second idea; hiding the first keeps the second on the big screen and
    keypad presses still count for it; the round's only idea cannot be hidden while open."""
    from tests.test_keypads import capture, eventually, import_keypads

    assert import_keypads(meeting, "keypad,label,segments\nwedge:7,K7,\n").status_code == 303
    add_challenge(meeting, "Fewer empty buses")
    (key,) = challenge_keys(meeting)
    meeting.post(
        "/lab/ideas",
        text_1="First idea",
        challenge_1=key,
        kind_1="redesign",
        text_2="Second idea",
        challenge_2=key,
        kind_2="redesign",
    )
    url = server.app.state.services.settings.resolved_database_url()
    first, second = ideas(url, meeting.id)
    meeting.post("/rounds", kind="lab", keypads="on")
    meeting.post("/rounds/1/step", index="2")
    rnd = meeting.state()["round"]
    assert rnd["proposals"][rnd["keypad_step"]]["id"] == second.key
    meeting.post(f"/lab/ideas/{first.key}/hide")
    rnd = meeting.state()["round"]
    assert [p["id"] for p in rnd["proposals"]] == [second.key]
    assert rnd["proposals"][rnd["keypad_step"]]["id"] == second.key
    assert capture(meeting, "7 1").json()["accepted"] is True
    eventually(lambda: meeting.state()["turnout"]["voted"] == 1)
    r = meeting.f.post(
        f"/console/{meeting.id}/lab/ideas/{second.key}/hide", data={"csrf": meeting.csrf}
    )
    assert r.status_code == 409
    meeting.close_round(1)
    meeting.reveal(1)
    counts = {a["id"]: a["counts"] for a in meeting.state()["results"]["answers"]}
    assert counts == {second.key: {"agree": 1, "disagree": 0, "pass": 0}}
