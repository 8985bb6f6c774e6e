"""The presenter view's screen (issue 13): the model's commands and bounds, the console POST
that changes it (facilitator, CSRF, bounded input), the snapshot that carries it to every
projector, the preview that is not counted as a screen, and the Redis store of several
processes."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from app.core.errors import BadInput, NotFound
from app.core.vocab import ScreenMode
from app.live import screen
from app.live.screen import AUTO, MAX_PAGE, Screen, command
from app.live.screens import LocalScreens, RedisScreens, from_json, to_json
from tests.conftest import LiveServer, Meeting, Phone, Socket

PROPOSALS = ("library", "respite", "toilets")

# ---- the model (pure) -------------------------------------------------------------------------


def test_a_new_screen_is_automatic() -> None:
    """Until the presenter acts, the screen follows its own course, at version 0."""
    assert AUTO.view() == {
        "mode": "auto",
        "page": 0,
        "proposal": None,
        "paused": False,
        "version": 0,
    }


def test_pause_next_previous_and_resume_move_through_the_pages() -> None:
    """Pause stays on the page shown; Next and Previous keep it paused; Resume lets it turn;
    every command is a new version."""
    s = command(AUTO, "pause", page=2)
    assert (s.mode, s.page, s.paused, s.version) == (ScreenMode.PAGE, 2, True, 1)
    s = command(s, "next")
    assert (s.page, s.paused) == (3, True)
    s = command(s, "previous", page=0)  # from the page the preview shows: never below 0
    assert (s.page, s.paused) == (0, True)
    s = command(s, "resume")
    assert (s.mode, s.page, s.paused, s.version) == (ScreenMode.PAGE, 0, False, 4)
    s = command(s, "next")
    assert (s.page, s.paused) == (1, False)  # turning, from page 1
    assert command(s, "auto").view() == {**AUTO.view(), "version": 6}


def test_showing_a_page_pauses_unless_the_pages_were_turning() -> None:
    """A page chosen from the automatic course turns on from there; from a proposal it stays."""
    assert command(AUTO, "page", page=5).paused is False
    on_card = command(AUTO, "proposal", proposal="library", proposals=PROPOSALS)
    assert command(on_card, "page", page=5).paused is True
    assert command(on_card, "next").page == 0  # the pages start again at the first


def test_blank_covers_the_screen_and_unblank_brings_it_back() -> None:
    """Blank keeps what was shown under it; Unblank shows it again (a new version)."""
    card = command(AUTO, "proposal", proposal="respite", proposals=PROPOSALS)
    blank = command(card, "blank")
    assert blank.mode == ScreenMode.BLANK and blank.view()["proposal"] is None
    back = command(blank, "unblank")
    assert (back.mode, back.proposal, back.version) == (ScreenMode.PROPOSAL, "respite", 3)
    assert back.under is None
    # Blank twice, and Unblank once: still what was there before the first.
    assert command(command(blank, "blank"), "unblank").proposal == "respite"


def test_ranking_and_join_code() -> None:
    """Show the ranking, show the join code: modes of their own."""
    assert command(AUTO, "ranking").mode == ScreenMode.RANKING
    assert command(AUTO, "join").mode == ScreenMode.JOIN


@pytest.mark.parametrize(
    ("action", "kwargs", "error"),
    [
        ("dance", {}, BadInput),
        ("page", {}, BadInput),
        ("page", {"page": -1}, BadInput),
        ("page", {"page": MAX_PAGE}, BadInput),
        ("proposal", {}, BadInput),
        ("proposal", {"proposal": "pool"}, NotFound),
    ],
)
def test_bad_commands_are_refused(action: str, kwargs: dict[str, Any], error: type) -> None:
    """An unknown action, a page out of bounds, no proposal or one the meeting lacks."""
    with pytest.raises(error):
        command(AUTO, action, proposals=PROPOSALS, **kwargs)


@pytest.mark.parametrize("raw", ["-1", "1000", "1e3", "٣", " 3", "3.0", "99999999999999", "x"])
def test_a_posted_page_is_digits_below_the_bound(raw: str) -> None:
    """Pages come as 0..999 in ASCII digits; anything else is refused where it is parsed."""
    with pytest.raises(BadInput):
        screen.parse_page(raw)


def test_a_posted_page_parses() -> None:
    """No page posted is None; digits are the page."""
    assert screen.parse_page(None) is None
    assert screen.parse_page("") is None
    assert screen.parse_page("0") == 0
    assert screen.parse_page("999") == 999


def test_a_stored_screen_round_trips_and_garbage_reads_as_automatic() -> None:
    """The Redis form keeps everything, what blank covers too; unreadable is automatic."""
    s = command(command(AUTO, "pause", page=4), "blank")
    assert from_json(to_json(s)) == s
    assert from_json(None) == AUTO
    assert from_json('{"mode": "dance"}') == AUTO
    assert from_json(b"not json") == AUTO


def test_local_screens_apply_changes_in_turn() -> None:
    """The in-memory store: each meeting its own screen, each change on the latest."""
    store = LocalScreens()
    store.update(1, lambda s: command(s, "join"))
    store.update(1, lambda s: command(s, "blank"))
    assert store.get(1).mode == ScreenMode.BLANK and store.get(1).version == 2
    assert store.get(2) == AUTO
    store.forget(1)
    assert store.get(1) == AUTO


@pytest.mark.redis
def test_processes_sharing_redis_share_the_screen() -> None:
    """Two stores on one Redis (two processes): a change through one is read by the other;
    another deployment (namespace) does not see it."""
    import redis

    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as e:
        pytest.skip(f"no Redis at {url}: {e}")
    namespace = uuid.uuid4().hex
    a, b = RedisScreens(url, namespace), RedisScreens(url, namespace)
    other = RedisScreens(url, uuid.uuid4().hex)
    try:
        a.update(7, lambda s: command(s, "pause", page=3))
        b.update(7, lambda s: command(s, "next"))
        assert a.get(7) == Screen(ScreenMode.PAGE, 4, None, True, 2)
        assert other.get(7) == AUTO
    finally:
        a._delete(7)


def test_an_unreachable_redis_reads_automatic_and_refuses_changes() -> None:
    """Redis down: the projector goes on (automatic); a change says it could not be made."""
    from app.core.errors import StorageUnavailable

    store = RedisScreens("redis://127.0.0.1:1/0", "x")
    assert store.get(1) == AUTO
    with pytest.raises(StorageUnavailable):
        store.update(1, lambda s: command(s, "join"))


# ---- the console POST and the snapshot ----------------------------------------------------


def post_screen(meeting: Meeting, client: httpx.Client | None = None, **data: Any) -> Any:
    return (client or meeting.f).post(
        f"/console/{meeting.id}/screen",
        data={"csrf": meeting.csrf, **data},
        follow_redirects=False,
    )


def test_a_command_changes_the_snapshot_and_redirects_back(meeting: Meeting) -> None:
    """A plain form: 303 to the presenter view, and the snapshot (API) carries the screen."""
    r = post_screen(meeting, action="proposal", proposal="respite")
    assert r.status_code == 303 and r.headers["location"] == f"/console/{meeting.id}/present"
    assert meeting.state()["screen"] == {
        "mode": "proposal",
        "page": 0,
        "proposal": "respite",
        "paused": False,
        "version": 1,
    }


def test_the_script_gets_the_new_screen_as_json(meeting: Meeting) -> None:
    """With Accept: application/json (present.js) the answer is the new screen."""
    r = meeting.f.post(
        f"/console/{meeting.id}/screen",
        data={"csrf": meeting.csrf, "action": "pause", "page": "2"},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 200
    assert r.json()["screen"]["mode"] == "page" and r.json()["screen"]["page"] == 2


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"action": "proposal", "proposal": "swimming-pool"}, 404),
        ({"action": "page", "page": "1000"}, 400),
        ({"action": "page", "page": "-3"}, 400),
        ({"action": "page", "page": "two"}, 400),
        ({"action": "page"}, 400),
        ({"action": "explode"}, 400),
    ],
)
def test_bad_commands_change_nothing(meeting: Meeting, data: dict[str, str], status: int) -> None:
    """An unknown proposal, a page out of bounds or not a number, an unknown action: refused
    with the reason, and the screen stays as it was."""
    r = meeting.f.post(
        f"/console/{meeting.id}/screen",
        data={"csrf": meeting.csrf, **data},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == status, r.text
    assert r.json()["error"]["message"]
    assert meeting.state()["screen"]["version"] == 0


def test_only_the_facilitator_with_the_token_changes_the_screen(
    meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Without the CSRF token, or from an attendee's browser (its own token): 403, unchanged;
    the presenter view itself is the facilitator's."""
    r = meeting.f.post(f"/console/{meeting.id}/screen", data={"action": "blank"})
    assert r.status_code == 403
    phone = phones()
    r = phone.c.post(f"/console/{meeting.id}/screen", data={"csrf": phone.csrf, "action": "blank"})
    assert r.status_code == 403
    assert phone.c.get(f"/console/{meeting.id}/present").status_code == 403
    assert meeting.state()["screen"]["mode"] == "auto"


def test_an_unknown_meeting_has_no_screen(meeting: Meeting) -> None:
    """A command for a meeting that does not exist is a 404 and stores nothing."""
    r = meeting.f.post("/console/999999/screen", data={"csrf": meeting.csrf, "action": "join"})
    assert r.status_code == 404


def test_a_screen_change_reaches_a_connected_projector(
    server: LiveServer, meeting: Meeting
) -> None:
    """A projector's socket gets a snapshot with the new screen as soon as it changes."""
    with Socket(server, meeting.code) as projector:
        first = projector.until(lambda m: m["type"] == "snapshot")
        assert first["screen"]["mode"] == "auto"
        post_screen(meeting, action="join")
        joined = projector.until(
            lambda m: m["type"] == "snapshot" and m["screen"]["mode"] == "join"
        )
        assert joined["seq"] > first["seq"] and joined["screen"]["version"] == 1
        post_screen(meeting, action="blank")
        projector.until(lambda m: m["type"] == "snapshot" and m["screen"]["mode"] == "blank")


def test_the_preview_is_not_counted_as_a_screen(server: LiveServer, meeting: Meeting) -> None:
    """The presenter view's preview (?preview=1) gets snapshots but is not in `connected`."""
    with Socket(server, meeting.code) as projector:
        projector.until(lambda m: m["type"] == "snapshot")
        with connect(server.ws_url(meeting.code) + "?preview=1", compression=None) as preview:
            assert json.loads(preview.recv(timeout=5))["type"] == "snapshot"
            with Socket(server, meeting.code) as second:
                # Every frame rendered after the second screen joined counts all three sockets.
                joined_at = second.until(lambda m: m["type"] == "snapshot")["seq"]
                later = projector.until(lambda m: "turnout" in m and m["seq"] > joined_at)
                assert later["turnout"]["connected"] == 2


def test_the_presenter_view_shows_the_preview_and_every_control(meeting: Meeting) -> None:
    """The page: the projector framed with ?preview=1 and titled, the controls as plain POST
    forms with the token (no JavaScript needed), a Show button per proposal, the keys."""
    post_screen(meeting, action="pause", page="1")
    html = meeting.f.get(f"/console/{meeting.id}/present").text
    assert f'src="/p/{meeting.code}?preview=1"' in html
    assert 'title="Projector preview"' in html
    forms = re.findall(r'<form method="post" action="/console/\d+/screen"', html)
    assert len(forms) == 7 + len(PROPOSALS)
    for action in ("previous", "resume", "next", "auto", "ranking", "join", "blank"):
        assert f'name="action" value="{action}"' in html, action
    assert html.count(">Show on screen<") == len(PROPOSALS)
    assert "On the screen: results page 2, paused." in html
    assert "Keyboard shortcuts" in html
    # The projector may be framed by Covote's own pages, and only the projector.
    p = meeting.f.get(f"/p/{meeting.code}?preview=1")
    assert "frame-ancestors 'self'" in p.headers["content-security-policy"]
    console = meeting.f.get(f"/console/{meeting.id}/present")
    assert "frame-ancestors 'none'" in console.headers["content-security-policy"]


def test_the_run_page_and_the_nav_link_the_presenter_view(meeting: Meeting) -> None:
    """From the Run page (near the projector link) and from the console's navigation."""
    html = meeting.f.get(f"/console/{meeting.id}").text
    assert html.count(f'href="/console/{meeting.id}/present"') >= 2


def test_a_blanked_screen_is_black_from_its_first_paint(meeting: Meeting) -> None:
    """A projector opened (or reloaded) while blanked is rendered blank by the server."""
    post_screen(meeting, action="blank")
    html = httpx.get(str(meeting.f.base_url) + f"/p/{meeting.code}").text
    assert re.search(r'<div id="proj-blank"[^>]*aria-label="Screen blanked"[^>]*>', html)
    assert (
        'id="proj-blank" class="proj-blank" role="img" aria-label="Screen blanked" hidden'
        not in html
    )
