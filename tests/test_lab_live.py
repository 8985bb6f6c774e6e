"""The idea wall's live opinion groups (issue 16, app/web/lab_live.py): worked out at most once
a second per meeting and only when the ratings changed, shown while the round runs, stale
figures marked with when to ask again, kept off by ?groups=0 until the round is revealed."""

from __future__ import annotations

import re
import time

import pytest

from app.rules import lab as rules
from app.rules import lab_tally
from app.rules.tally import Rule
from app.web import lab_live
from app.web.lab_live import LiveCache
from tests.conftest import LiveServer, Meeting, Phone
from tests.test_keypads import eventually
from tests.test_lab_room import add_challenge, challenge_keys, ideas


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_figures_are_recomputed_at_most_once_a_second_and_only_when_ratings_change() -> None:
    clock = FakeClock()
    cache: LiveCache[str] = LiveCache(interval_s=1.0, clock=clock)
    assert cache.get(1, "a", lambda: "A") == lab_live.Live("A", None)
    # The same ratings: the kept figures, nothing worked out again, however often asked.
    for _ in range(5):
        assert cache.get(1, "a", lambda: "never") == lab_live.Live("A", None)
    assert cache.computations == 1
    # New ratings within the second: the old figures, and when to ask again.
    clock.t += 0.3
    stale = cache.get(1, "b", lambda: "never")
    assert stale.figures == "A" and stale.retry_s == pytest.approx(0.7)
    # Another meeting is not held back by this one.
    assert cache.get(2, "x", lambda: "X").figures == "X"
    clock.t += 0.7
    assert cache.get(1, "c", lambda: "C") == lab_live.Live("C", None)
    assert cache.computations == 3


def test_a_computation_running_holds_back_others_for_the_same_meeting() -> None:
    clock = FakeClock()
    cache: LiveCache[str] = LiveCache(interval_s=1.0, clock=clock)
    inner: list[lab_live.Live[str]] = []

    def slow() -> str:
        clock.t += 5  # a second request arrives while this one still works
        inner.append(cache.get(1, "b", lambda: "never"))
        return "A"

    assert cache.get(1, "a", slow).figures == "A"
    assert inner == [lab_live.Live(None, 1.0)]  # nothing yet; ask again in a second


def test_a_failed_computation_does_not_block_the_next() -> None:
    cache: LiveCache[str] = LiveCache(interval_s=0.0)

    def boom() -> str:
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        cache.get(1, "a", boom)
    assert cache.get(1, "a", lambda: "A").figures == "A"


def test_the_wall_never_shows_a_group_under_m() -> None:
    """Three voters with m = 5: one group of three, which the wall does not show."""
    ideas_ = [rules.LabIdea(k, "c") for k in "abc"]
    voters = [
        rules.LabVoter(f"v{n}", (), dict.fromkeys("abc", rules.Rating.AGREE)) for n in range(3)
    ]
    shown = lab_live.wall_groups(lab_tally.tabulate(ideas_, voters, Rule(ratio=2, group_min=5)))
    assert shown.groups == () and shown.bridging == () and shown.voters_rated == 3


def part(server: LiveServer, code: str, query: str = "") -> str:
    return server.browser().get(f"/p/{code}/wall?part=1{query}").text


def test_the_wall_shows_opinion_groups_and_bridging_ideas_live_as_ratings_arrive(
    server: LiveServer, meeting: Meeting, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two camps of three phones (m = 2) split on two ideas and agree on a third: the wall
    shows two groups and the third as bridging, with each group's support, while the round
    runs; a later rating shows after at most a second (the wall is told when to ask again);
    ?groups=0 keeps them off until the round is revealed."""
    monkeypatch.setattr(lab_live, "CACHE", LiveCache())
    add_challenge(meeting, "Fewer empty buses")
    (key,) = challenge_keys(meeting)
    meeting.post(
        "/lab/ideas",
        text_1="A bus on demand",
        challenge_1=key,
        kind_1="redesign",
        text_2="Cut the evening buses",
        challenge_2=key,
        kind_2="cut_cost",
        text_3="Volunteer drivers for the villages",
        challenge_3=key,
        kind_3="co_deliver",
    )
    url = server.app.state.services.settings.resolved_database_url()
    demand, cut, drivers = ideas(url, meeting.id)
    meeting.post("/rounds", kind="lab")
    assert "Opinion groups appear when enough people" in part(server, meeting.code)
    phones = [Phone(server.browser(), meeting.code) for _ in range(6)]
    for n, phone in enumerate(phones):
        yes, no = ("agree", "disagree") if n < 3 else ("disagree", "agree")
        marks = {demand.key: yes, cut.key: no, drivers.key: "agree"}
        assert phone.vote(marks).status_code == 200
    eventually(lambda: meeting.state()["turnout"]["voted"] == 6)
    time.sleep(lab_live.LIVE_INTERVAL_S)  # the first look above was under a second ago

    wall = part(server, meeting.code)
    assert "Group 1: 3 people" in wall and "Group 2: 3 people" in wall
    bridging = wall.split('class="lab-bridging"')[1].split("</ol>")[0]
    assert "Volunteer drivers for the villages" in bridging
    assert "group 1: 100% agree" in bridging and "group 2: 100% agree" in bridging
    assert "A bus on demand" not in bridging and "data-retry-ms" not in wall
    assert part(server, meeting.code, "&groups=0").count("Opinion groups") == 0

    # A seventh phone joins the first camp: within the second, the old figures and when to
    # ask again; asked again then, the new ones.
    late = Phone(server.browser(), meeting.code)
    assert late.vote({demand.key: "agree", cut.key: "disagree", drivers.key: "agree"}).status_code
    eventually(lambda: meeting.state()["turnout"]["voted"] == 7)
    wall = part(server, meeting.code)
    retry = re.search(r'data-retry-ms="(\d+)"', wall)
    if retry is not None:  # (a slow machine may have passed the second already)
        assert "Group 1: 3 people" in wall and 0 < int(retry.group(1)) <= 1000
        time.sleep(int(retry.group(1)) / 1000)
        wall = part(server, meeting.code)
    assert "Group 1: 4 people" in wall and "Group 2: 3 people" in wall
    assert "data-retry-ms" not in wall
    computed = lab_live.CACHE.computations
    for _ in range(3):
        assert part(server, meeting.code) == wall  # no new rating: nothing worked out again
    assert lab_live.CACHE.computations == computed

    meeting.close_round(1)
    assert "Group 1: 4 people" in part(server, meeting.code)
    assert "Opinion groups" not in part(server, meeting.code, "&groups=0")
    meeting.reveal(1)
    assert "Group 1: 4 people" in part(server, meeting.code, "&groups=0")
    welsh = part(server, meeting.code, "&lang=cy")
    assert "Grŵp 1: 4 o bobl" in welsh
