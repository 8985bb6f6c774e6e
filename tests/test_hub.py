"""The hub: latest-wins mailboxes, coalescing ticker, resync on join."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from app.core.shapes import Snapshot
from app.live.hub import Hub
from app.live.mailbox import Mailbox, TooSlow
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
        "screen": {"mode": "auto", "page": 0, "proposal": None, "paused": False, "version": 0},
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


class FakeClock:
    """The throttle's time, moved by hand: no test waits for a real tick."""

    class _Timer:
        def __init__(self, clock: FakeClock, when: float, callback: Callable[[], None]) -> None:
            self.when, self.callback, self.cancelled = when, callback, False
            clock.timers.append(self)

        def cancel(self) -> None:
            self.cancelled = True

    def __init__(self) -> None:
        self.t = 1024.0  # and ticks of 1/8 s: sums stay exact in binary
        self.timers: list[FakeClock._Timer] = []

    def now(self) -> float:
        return self.t

    def call_at(self, when: float, callback: Callable[[], None]) -> FakeClock._Timer:
        return FakeClock._Timer(self, when, callback)

    def advance(self, seconds: float) -> None:
        self.t += seconds
        due = [t for t in self.timers if t.when <= self.t and not t.cancelled]
        self.timers = [t for t in self.timers if t not in due and not t.cancelled]
        for timer in due:
            timer.callback()


async def settle() -> None:
    """Let the hub's renderer run: renders are a worker-thread hop, not a timer."""
    for _ in range(20):
        await asyncio.sleep(0.005 * TIME_FACTOR)


class Counting:
    """A render whose voted count is whatever the test last set."""

    def __init__(self) -> None:
        self.voted = 0
        self.status = "open"
        self.renders = 0

    def __call__(self, _: int) -> Snapshot:
        self.renders += 1
        return snapshot(voted=self.voted, status=self.status)


def frames_in(box: Mailbox) -> list[dict[str, Any]]:
    """What the box holds right now (the newest snapshot only: latest wins)."""
    out = []
    while box._direct or box._snapshot is not None:
        out.append(json.loads(box._direct.popleft() if box._direct else box._snapshot or ""))
        if not box._direct:
            box._snapshot = None
    return out


async def quiet_room(clock: FakeClock, render: Counting) -> tuple[Hub, Mailbox]:
    """A hub with one connection that has taken everything, one tick after the last send."""
    hub = Hub(render, tick_hz=8, clock=clock)
    await hub.start()
    box = await hub.join(5)
    clock.advance(0.125)  # the join's own change (the connected count) goes out
    await settle()
    frames_in(box)
    clock.advance(1.0)  # quiet for longer than a tick
    return hub, box


async def test_a_change_in_a_quiet_room_is_sent_at_once() -> None:
    """Leading edge: no tick to wait for when nothing was sent within the last interval."""
    clock, render = FakeClock(), Counting()
    hub, box = await quiet_room(clock, render)
    try:
        render.voted = 1
        hub.changed(5)
        await settle()  # the clock does not move: no timer is involved
        frames = frames_in(box)
        assert [f["turnout"]["voted"] for f in frames] == [1]
    finally:
        await hub.aclose()


async def test_a_busy_room_sends_one_frame_per_interval_and_always_the_last_state() -> None:
    """Changes within an interval are coalesced into one trailing send with the newest state;
    nothing more goes out before the interval ends, and the final state is never lost."""
    clock, render = FakeClock(), Counting()
    hub, box = await quiet_room(clock, render)
    try:
        render.voted = 1
        hub.changed(5)
        await settle()
        assert [f["turnout"]["voted"] for f in frames_in(box)] == [1]  # leading edge
        renders = render.renders
        for voted in range(2, 50):
            render.voted = voted
            hub.changed(5)
        await settle()
        assert frames_in(box) == [] and render.renders == renders  # within the interval
        clock.advance(0.0625)
        await settle()
        assert frames_in(box) == []  # still within it
        clock.advance(0.0625)  # the interval ends: one trailing send, with the newest state
        await settle()
        assert [f["turnout"]["voted"] for f in frames_in(box)] == [49]
        assert render.renders == renders + 1
        clock.advance(1.0)  # nothing changed since: nothing more is sent
        await settle()
        assert frames_in(box) == []
    finally:
        await hub.aclose()


async def test_a_change_while_rendering_is_sent_by_the_trailing_send() -> None:
    """A ballot committed while the previous state is being read is not lost."""
    clock = FakeClock()
    started, release = threading.Event(), threading.Event()
    state = {"voted": 0, "block": False}

    def render(_: int) -> Snapshot:
        voted = state["voted"]
        if state["block"]:
            started.set()
            release.wait(5)
        return snapshot(voted=int(voted))

    hub = Hub(render, tick_hz=8, clock=clock)
    await hub.start()
    try:
        box = await hub.join(5)
        clock.advance(0.125)
        await settle()
        frames_in(box)
        clock.advance(1.0)
        state.update(voted=1, block=True)
        hub.changed(5)
        await asyncio.to_thread(started.wait, 5)  # the render read voted=1 and is blocked
        state.update(voted=2, block=False)
        hub.changed(5)  # arrives mid-render
        release.set()
        await settle()
        assert [f["turnout"]["voted"] for f in frames_in(box)] == [1]
        clock.advance(0.125)
        await settle()
        assert [f["turnout"]["voted"] for f in frames_in(box)] == [2]
    finally:
        release.set()
        await hub.aclose()


async def test_frames_reach_a_connection_in_seq_order_with_none_lost() -> None:
    """Through the socket's fast path and its writer alike: every frame a connection gets has
    a higher seq than the one before, and the last state always arrives."""
    from app.web.ws import _writer

    clock, render = FakeClock(), Counting()
    hub = Hub(render, tick_hz=8, clock=clock)
    await hub.start()
    sent: list[dict[str, Any]] = []
    writable = [True]

    def sink(wire: bytes) -> bool:
        if not writable[0]:
            return False
        sent.append(json.loads(wire[2:] if wire[1] < 126 else wire[4:]))
        return True

    class Socket:
        async def send_text(self, frame: str) -> None:
            await asyncio.sleep(0)
            sent.append(json.loads(frame))

    try:
        box = await hub.join(5)
        box.sink = sink
        writer = asyncio.create_task(_writer(Socket(), box, 5.0))  # type: ignore[arg-type]
        for voted in range(1, 40):
            render.voted = voted
            writable[0] = voted % 3 != 0  # now and then the socket cannot take a frame at once
            hub.changed(5)
            box.push(f'{{"type":"ack","ballot_id":"b{voted}","round":1}}')
            clock.advance(0.125)
            await settle()
        writable[0] = True
        clock.advance(0.125)
        await settle()
        writer.cancel()
        seqs = [f["seq"] for f in sent if f["type"] in ("snapshot", "turnout")]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        last = [f for f in sent if f["type"] in ("snapshot", "turnout")][-1]
        assert last["turnout"]["voted"] == 39
        acks = [f["ballot_id"] for f in sent if f["type"] == "ack"]
        assert acks == [f"b{i}" for i in range(1, 40)]  # personal frames: all, in order
    finally:
        await hub.aclose()


async def test_a_phone_whose_socket_cannot_take_frames_does_not_hold_up_the_others() -> None:
    """A socket that refuses the fast path gets the newest frame through its writer (with its
    deadline); the others are written at once, and the hub never waits for anyone."""
    clock, render = FakeClock(), Counting()
    hub, fast_box = await quiet_room(clock, render)
    fast: list[bytes] = []

    def fast_sink(wire: bytes) -> bool:
        fast.append(wire)
        return True

    fast_box.sink = fast_sink
    slow_box = await hub.join(5)
    slow_box.sink = lambda wire: False  # its TCP window is full
    try:
        clock.advance(1.0)
        await settle()
        frames_in(slow_box)
        fast.clear()
        for voted in (1, 2, 3):
            render.voted = voted
            hub.changed(5)
            clock.advance(0.125)
            await settle()
        assert len(fast) == 3  # every state, written at once
        assert [f["turnout"]["voted"] for f in frames_in(slow_box)] == [3]  # only the newest
    finally:
        await hub.aclose()


def test_a_frame_is_framed_as_websockets_itself_frames_it() -> None:
    """The pre-encoded frame is byte for byte what the websockets library would send."""
    from websockets.frames import Frame, Opcode

    from app.live.protocol import wire_text

    for text in ("", "a" * 125, "é" * 63, "b" * 126, "c" * 65535, "d" * 65536):
        ours = wire_text(text)
        theirs = Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])
        assert ours == theirs


async def test_a_connection_that_raises_never_stops_the_renderer() -> None:
    """An error while offering one meeting's frame is logged; later changes still go out."""
    clock, render = FakeClock(), Counting()
    hub, box = await quiet_room(clock, render)

    def broken(wire: bytes) -> bool:
        raise RuntimeError("transport gone")

    try:
        box.sink = broken
        render.voted = 1
        hub.changed(5)
        await settle()
        box.sink = None
        clock.advance(1.0)
        render.voted = 2
        hub.changed(5)
        await settle()
        assert [f["turnout"]["voted"] for f in frames_in(box)] == [2]
    finally:
        await hub.aclose()


async def test_ballots_during_a_countdown_send_phones_nothing() -> None:
    """A countdown's seconds left tick down between renders: a ballot then is a turnout frame
    for screens, not a snapshot to every phone once a second; the countdown starting is one."""
    states = [snapshot(voted=1)]

    def render(_: int) -> Snapshot:
        state: Snapshot = json.loads(json.dumps(states[-1]))
        return state

    def counting(voted: int, left: int) -> Snapshot:
        state = snapshot(voted=voted)
        assert state["round"] is not None
        state["round"]["closes_at"] = "2026-12-05T19:00:30Z"
        state["round"]["closes_in"] = left
        return state

    hub = Hub(render, tick_hz=50)
    await hub.start()
    try:
        phone, screen = await hub.join(4, voter_id=7), await hub.join(4)
        for box in (phone, screen):
            await box.take()
        states.append(counting(1, 30))
        hub.changed(4)
        for box in (phone, screen):
            frame = json.loads(await box.take())
            assert frame["type"] == "snapshot" and frame["round"]["closes_in"] == 30
        states.append(counting(2, 29))
        hub.changed(4)
        assert json.loads(await screen.take())["type"] == "turnout"
        await asyncio.sleep(0.1 * TIME_FACTOR)
        assert not phone.pending
    finally:
        await hub.aclose()


async def test_a_phone_joining_during_a_countdown_gets_the_seconds_left_now() -> None:
    """The seconds left are counted when the snapshot is made: a connection that arrives a
    while after the countdown started gets a fresh count, not the one from its start."""
    left = [30]

    def render(_: int) -> Snapshot:
        state = snapshot()
        assert state["round"] is not None
        state["round"]["closes_at"] = "2026-12-05T19:00:30Z"
        state["round"]["closes_in"] = left[0]
        return state

    hub = Hub(render, tick_hz=50)
    await hub.start()
    try:
        first = await hub.join(5)
        assert json.loads(await first.take())["round"]["closes_in"] == 30
        left[0] = 20
        await asyncio.sleep(1.2)  # the countdown runs on; nothing else happens in the room
        later = await hub.join(5, voter_id=9)
        assert json.loads(await later.take())["round"]["closes_in"] == 20
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


class CountingTurnout:
    """A turnout render over the same counts as `Counting`, which counts its own calls; it
    declines (None) while `declines` is set, as for a round that changed meanwhile."""

    def __init__(self, render: Counting) -> None:
        self.render, self.calls, self.declines = render, 0, False

    def __call__(self, _: int, previous: Snapshot) -> Any:
        self.calls += 1
        if self.declines:
            return None
        return {**previous["turnout"], "voted": self.render.voted}


async def turnout_room(
    clock: FakeClock, render: Counting, turnout: CountingTurnout
) -> tuple[Hub, Mailbox, Mailbox]:
    """A quiet hub with a screen and a phone, whole renders at 8 Hz and turnout at 32 Hz."""
    hub = Hub(render, tick_hz=8, clock=clock, turnout_render=turnout, turnout_hz=32)
    await hub.start()
    screen = await hub.join(5)
    phone = await hub.join(5, voter_id=1)
    clock.advance(0.125)
    await settle()
    frames_in(screen), frames_in(phone)
    clock.advance(1.0)
    return hub, screen, phone


async def test_ballots_reach_screens_as_turnout_frames_without_a_whole_render() -> None:
    """`counted` (a ballot committed) reads only the turnout: screens get a turnout frame at
    once, phones nothing, and the room's snapshot is not read again."""
    clock, render = FakeClock(), Counting()
    turnout = CountingTurnout(render)
    hub, screen, phone = await turnout_room(clock, render, turnout)
    try:
        renders, calls = render.renders, turnout.calls
        render.voted = 1
        hub.counted(5)
        await settle()
        frames = frames_in(screen)
        assert [(f["type"], f["turnout"]["voted"], f["turnout"]["connected"]) for f in frames] == [
            ("turnout", 1, 2)
        ]
        assert frames_in(phone) == []
        assert render.renders == renders and turnout.calls == calls + 1
    finally:
        await hub.aclose()


async def test_turnout_frames_go_at_the_turnout_rate_and_whole_renders_at_the_tick() -> None:
    """A stream of ballots gives screens one turnout frame per turnout interval (1/32 s here),
    always with the newest count; a change of the round among them still waits for the whole
    render's interval (1/8 s) after the last whole render, then reaches everyone."""
    clock, render = FakeClock(), Counting()
    turnout = CountingTurnout(render)
    hub, screen, phone = await turnout_room(clock, render, turnout)
    try:
        render.voted = 1
        hub.changed(5)  # a whole change: rendered at once (quiet room)
        await settle()
        frames_in(screen), frames_in(phone)
        renders = render.renders
        seen: list[int] = []
        for step in range(2, 6):  # four turnout intervals of ballots
            render.voted = step
            hub.counted(5)
            clock.advance(1 / 32)
            await settle()
            seen += [f["turnout"]["voted"] for f in frames_in(screen)]
        assert seen == [2, 3, 4, 5] and render.renders == renders
        assert frames_in(phone) == []
        render.voted, render.status = 6, "closed"
        hub.changed(5)  # the round closing: 4/32 s after the last whole render
        await settle()
        assert frames_in(phone) == [] and render.renders == renders  # not yet: 1/8 s apart
        clock.advance(1 / 32)
        await settle()
        assert render.renders == renders + 1
        assert [f["type"] for f in frames_in(phone)] == ["snapshot"]
        assert [(f["type"], f["turnout"]["voted"]) for f in frames_in(screen)] == [("snapshot", 6)]
    finally:
        await hub.aclose()


async def test_a_new_connection_gets_the_turnout_sent_since_the_last_whole_render() -> None:
    clock, render = FakeClock(), Counting()
    turnout = CountingTurnout(render)
    hub, screen, _ = await turnout_room(clock, render, turnout)
    try:
        render.voted = 7
        hub.counted(5)
        await settle()
        sent = frames_in(screen)
        late = await hub.join(5)
        first = frames_in(late)
        assert [(f["type"], f["turnout"]["voted"]) for f in first] == [("snapshot", 7)]
        assert first[0]["seq"] >= sent[-1]["seq"]
    finally:
        await hub.aclose()


async def test_when_the_turnout_alone_cannot_stand_the_room_is_rendered_whole() -> None:
    """The turnout render declines (the round it showed is no longer the open one): the
    change is not lost, the whole room is rendered instead."""
    clock, render = FakeClock(), Counting()
    turnout = CountingTurnout(render)
    hub, screen, _ = await turnout_room(clock, render, turnout)
    try:
        renders = render.renders
        turnout.declines = True
        render.voted = 3
        hub.counted(5)
        await settle()
        assert render.renders == renders + 1
        assert [f["turnout"]["voted"] for f in frames_in(screen)] == [3]
    finally:
        await hub.aclose()


async def test_turnout_frames_back_off_when_reading_the_turnout_is_costly() -> None:
    """Reading the turnout took 1/64 s of CPU (a big meeting): the next turnout frame waits
    four times that (1/16 s), not the 1/32 s interval, so counting for screens never crowds out
    ballots; however costly, never longer than a whole render's interval (1/8 s)."""
    clock, render = FakeClock(), Counting()
    cpu = {"t": 0.0, "cost": 1 / 64}

    class Costly(CountingTurnout):
        def __call__(self, meeting_id: int, previous: Snapshot) -> Any:
            cpu["t"] += cpu["cost"]  # the CPU time it takes
            return super().__call__(meeting_id, previous)

    hub = Hub(
        render,
        tick_hz=8,
        clock=clock,
        turnout_render=Costly(render),
        turnout_hz=32,
        cpu_clock=lambda: cpu["t"],
    )
    await hub.start()
    screen = await hub.join(5)
    try:
        clock.advance(1 / 8)  # the join's own change goes out
        await settle()
        frames_in(screen)
        clock.advance(1.0)  # then quiet
        render.voted = 1
        hub.counted(5)
        await settle()
        assert [f["turnout"]["voted"] for f in frames_in(screen)] == [1]
        render.voted = 2
        hub.counted(5)
        clock.advance(1 / 32)  # one turnout interval: too soon for a read costing 1/64 s
        await settle()
        assert frames_in(screen) == []
        clock.advance(1 / 32)
        await settle()
        assert [f["turnout"]["voted"] for f in frames_in(screen)] == [2]
        cpu["cost"] = 1.0  # very costly now: still a frame every whole render's interval
        for voted in (3, 4):
            render.voted = voted
            hub.counted(5)
            clock.advance(1 / 8)
            await settle()
            assert [f["turnout"]["voted"] for f in frames_in(screen)] == [voted]
    finally:
        await hub.aclose()


async def test_phones_joining_between_turnout_frames_each_get_their_ballot_section() -> None:
    """A Welsh phone's section is being drawn when turnout frames go out and an English phone
    joins (its join re-encodes the snapshot with the new turnout): both still get a snapshot
    with their ballot section, not one the phone would have to fetch."""
    clock, render = FakeClock(), Counting()
    started, release = threading.Event(), threading.Event()

    def phone_render(_: Snapshot, locale: str) -> str:
        if locale == "cy":
            started.set()
            release.wait(5 * TIME_FACTOR)
        return f"<p>{locale}</p>"

    hub = Hub(
        render,
        tick_hz=8,
        clock=clock,
        turnout_render=CountingTurnout(render),
        turnout_hz=32,
        phone_render=phone_render,
    )
    await hub.start()
    try:
        await hub.join(5)
        clock.advance(1.0)
        render.voted = 1
        hub.counted(5)
        await settle()
        welsh = asyncio.create_task(hub.join(5, voter_id=1, locale="cy"))
        assert await asyncio.to_thread(started.wait, 5 * TIME_FACTOR)
        clock.advance(1.0)
        render.voted = 2
        hub.counted(5)
        await settle()
        english = await hub.join(5, voter_id=2, locale="en")
        release.set()
        cy = await welsh
        assert frames_in(cy)[0]["ballot_html"] == "<p>cy</p>"
        assert frames_in(english)[0]["ballot_html"] == "<p>en</p>"
    finally:
        release.set()
        await hub.aclose()


async def test_a_socket_that_joins_while_the_state_is_read_is_counted_in_that_frame() -> None:
    """`connected` is this process's sockets when the frame goes out, not when its state
    began to be read: a screen that joined meanwhile sees itself counted."""
    clock = FakeClock()
    started, release = threading.Event(), threading.Event()
    calls = {"n": 0}

    def render(_: int) -> Snapshot:
        calls["n"] += 1
        if calls["n"] == 2:
            started.set()
            release.wait(5 * TIME_FACTOR)
        return snapshot(voted=calls["n"])

    hub = Hub(render, tick_hz=8, clock=clock)
    await hub.start()
    try:
        first = await hub.join(5)
        clock.advance(1.0)
        await settle()
        frames_in(first)
        hub.changed(5)
        assert await asyncio.to_thread(started.wait, 5 * TIME_FACTOR)
        second = await hub.join(5)
        release.set()
        await settle()
        assert frames_in(first)[0]["turnout"]["connected"] == 2
        frames_in(second)
    finally:
        release.set()
        await hub.aclose()
