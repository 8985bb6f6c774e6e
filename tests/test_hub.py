"""The hub: latest-wins mailboxes, coalescing ticker, resync on join."""

from __future__ import annotations

import asyncio
import json

import pytest

from app.core.shapes import Snapshot
from app.live.hub import Hub, Mailbox, TooSlow
from tests.conftest import TIME_FACTOR


def snapshot(*, title: str = "Riverside", status: str = "open", voted: int = 0) -> Snapshot:
    """A fresh room state as `Services.room_state` renders it: a round open on no proposals."""
    return {
        "type": "snapshot",
        "meeting": {
            "id": 1,
            "title": title,
            "code": "7KMQRA",
            "join_url": "http://127.0.0.1:8000/m/7KMQRA",
            "rule": {"ratio": 2, "group_min": 5},
            "segments": [],
            "translations": {},
            "currency": "GBP",
        },
        "round": {
            "id": 1,
            "number": 1,
            "status": status,
            "revealed": False,
            "keypad_step": None,
            "proposals": [],
            "kind": "room_vote",
            "view": "room_vote",
        },
        "turnout": {
            "registered": None,
            "present": 3,
            "voted": voted,
            "by_channel": {"phone": voted},
            "surge": None,
        },
        "show_channels": False,
        "results": None,
        "keypad_prompt": None,
    }


async def test_a_slow_reader_skips_to_the_newest_snapshot() -> None:
    """Offers that pile up are replaced, so a slow phone only ever gets the latest."""
    box = Mailbox(limit=4)
    for i in range(100):
        box.offer(f"snapshot {i}")
    assert await box.take() == "snapshot 99"
    box.offer("snapshot 100")
    assert await box.take() == "snapshot 100"


async def test_personal_frames_come_first_and_in_order() -> None:
    """Acks are never dropped or reordered, and go before the snapshot."""
    box = Mailbox(limit=4)
    box.offer("snapshot")
    box.push("ack 1")
    box.push("ack 2")
    assert [await box.take() for _ in range(3)] == ["ack 1", "ack 2", "snapshot"]


async def test_a_connection_that_lets_personal_frames_pile_up_is_too_slow() -> None:
    """Past the backlog limit the hub gives up on the connection instead of growing."""
    box = Mailbox(limit=2)
    box.push("a")
    box.push("b")
    with pytest.raises(TooSlow):
        box.push("c")


async def test_many_changes_within_a_tick_cost_one_render() -> None:
    """500 changes in one tick are rendered once and sent once per connection."""
    renders: list[int] = []

    def render(meeting_id: int) -> Snapshot:
        renders.append(meeting_id)
        return snapshot(title=f"render {len(renders)}")

    hub = Hub(render, tick_hz=20)
    await hub.start()
    try:
        box = await hub.join(7)
        first = json.loads(await box.take())
        await asyncio.sleep(0.15 * TIME_FACTOR)  # let the join's own change settle
        while box._snapshot is not None:  # drain what the join caused
            await box.take()
        before = len(renders)
        for _ in range(500):
            hub.changed(7)
        frame = json.loads(await asyncio.wait_for(box.take(), 5 * TIME_FACTOR))
        assert len(renders) == before + 1
        assert frame["seq"] > first["seq"]
        assert frame["turnout"]["connected"] == 1
    finally:
        await hub.aclose()


async def test_seq_keeps_increasing_across_a_restart() -> None:
    """A new hub (server restart) starts above the old one's sequence numbers."""

    def render(_: int) -> Snapshot:
        return snapshot()

    old = Hub(render, tick_hz=10)
    seq_old = json.loads(await (await old.join(1)).take())["seq"]
    await asyncio.sleep(0.01)
    new = Hub(render, tick_hz=10)
    seq_new = json.loads(await (await new.join(1)).take())["seq"]
    assert seq_new > seq_old


async def test_a_phone_that_stops_reading_is_closed_and_does_not_hold_up_others() -> None:
    """A send that never completes hits the deadline (close 4008); other mailboxes still flow."""
    from app.web.ws import _writer

    class Stuck:
        async def send_text(self, frame: str) -> None:
            await asyncio.Event().wait()  # a phone whose TCP window never opens

    class Quick:
        def __init__(self) -> None:
            self.frames: list[str] = []

        async def send_text(self, frame: str) -> None:
            self.frames.append(frame)

    stuck_box, quick_box = Mailbox(limit=4), Mailbox(limit=4)
    quick = Quick()
    stuck_task = asyncio.create_task(_writer(Stuck(), stuck_box, 0.2 * TIME_FACTOR))  # type: ignore[arg-type]
    quick_task = asyncio.create_task(_writer(quick, quick_box, 0.2 * TIME_FACTOR))  # type: ignore[arg-type]
    for i in range(50):
        stuck_box.offer(f"s{i}")
        quick_box.offer(f"s{i}")
        await asyncio.sleep(0.005)
    assert await asyncio.wait_for(stuck_task, 5 * TIME_FACTOR) == (4008, "too slow")
    assert quick.frames[-1] == "s49"
    quick_task.cancel()


async def test_a_turnout_frame_never_replaces_a_snapshot_not_yet_sent() -> None:
    """A screen that has not taken the 'round closed' snapshot gets it, not a bare turnout."""
    states = [snapshot(status="open", voted=1)]

    def render(_: int) -> Snapshot:
        # A copy: the hub writes `connected` into the turnout it is given.
        state: Snapshot = json.loads(json.dumps(states[-1]))
        return state

    hub = Hub(render, tick_hz=50)
    await hub.start()
    try:
        box = await hub.join(3)
        await box.take()
        await asyncio.sleep(0.1 * TIME_FACTOR)
        while box.pending:
            await box.take()
        states.append(snapshot(status="closed", voted=1))
        hub.changed(3)
        await asyncio.sleep(0.1 * TIME_FACTOR)  # the closing snapshot is offered, not taken
        states.append(snapshot(status="closed", voted=2))
        hub.changed(3)
        await asyncio.sleep(0.1 * TIME_FACTOR)  # a turnout-only tick follows
        frame = json.loads(await box.take())
        assert frame["type"] == "snapshot" and frame["round"]["status"] == "closed"
        assert frame["turnout"]["voted"] == 2
    finally:
        await hub.aclose()


async def test_phones_get_the_ballot_section_drawn_once_per_round_state_and_language() -> None:
    """200 phones in two languages: a round change draws the ballot section twice (once per
    language), every phone's frame carries its own language's, screens get none; a change
    that leaves the round as it was draws nothing again."""
    state = {"status": "open", "title": "Riverside"}
    drawn: list[tuple[str, str]] = []

    def render(_: int) -> Snapshot:
        return snapshot(status=state["status"], title=state["title"])

    def phone_render(s: Snapshot, locale: str) -> str:
        assert s["round"] is not None
        drawn.append((locale, s["round"]["status"]))
        return f'<section id="ballot" lang="{locale}">{s["round"]["status"]}</section>'

    hub = Hub(render, tick_hz=20, phone_render=phone_render)
    await hub.start()
    try:
        phones = [await hub.join(7, i, "cy" if i % 4 == 0 else "en") for i in range(200)]
        screen = await hub.join(7)
        assert sorted(set(drawn)) == [("cy", "open"), ("en", "open")]
        first = json.loads(await phones[1].take())
        assert first["ballot_html"] == '<section id="ballot" lang="en">open</section>'
        assert "ballot_html" not in json.loads(await screen.take())
        await asyncio.sleep(0.15 * TIME_FACTOR)  # the joins' own change (turnout) settles
        assert len(drawn) == 2
        for box in [*phones, screen]:
            while box.pending:
                await box.take()
        drawn.clear()
        state["status"] = "closed"
        hub.changed(7)
        frames = [json.loads(await asyncio.wait_for(b.take(), 5 * TIME_FACTOR)) for b in phones]
        assert sorted(drawn) == [("cy", "closed"), ("en", "closed")]
        for i, frame in enumerate(frames):
            lang = "cy" if i % 4 == 0 else "en"
            assert frame["round"]["status"] == "closed"
            assert frame["ballot_html"] == f'<section id="ballot" lang="{lang}">closed</section>'
        screen_frame = json.loads(await asyncio.wait_for(screen.take(), 5 * TIME_FACTOR))
        assert "ballot_html" not in screen_frame and screen_frame["round"]["status"] == "closed"
        drawn.clear()
        state["title"] = "Riverside Hall"  # the meeting's texts: drawn again
        hub.changed(7)
        frame = json.loads(await asyncio.wait_for(phones[0].take(), 5 * TIME_FACTOR))
        assert frame["meeting"]["title"] == "Riverside Hall"
        assert sorted(drawn) == [("cy", "closed"), ("en", "closed")]
    finally:
        await hub.aclose()


async def test_a_failing_ballot_drawing_still_updates_screens_and_phones() -> None:
    """A broken template must not stop the room: everyone still gets the snapshot (phones
    without the section, so their page fetches it)."""
    state = {"status": "open"}

    def render(_: int) -> Snapshot:
        return snapshot(status=state["status"])

    def phone_render(s: Snapshot, locale: str) -> str:
        raise RuntimeError("template broken")

    hub = Hub(render, tick_hz=20, phone_render=phone_render)
    await hub.start()
    try:
        phone, screen = await hub.join(3, 1, "en"), await hub.join(3)
        assert "ballot_html" not in json.loads(await phone.take())
        await screen.take()
        state["status"] = "closed"
        hub.changed(3)
        for box in (phone, screen):
            while True:
                frame = json.loads(await asyncio.wait_for(box.take(), 5 * TIME_FACTOR))
                if frame["type"] == "snapshot" and frame["round"]["status"] == "closed":
                    break
            assert "ballot_html" not in frame
    finally:
        await hub.aclose()
