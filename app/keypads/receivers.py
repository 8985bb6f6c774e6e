"""The keypad desk: keypad receivers' presses become ballots in the same rounds as phones.

`hardware/` knows nothing about meetings; this module is the bridge. Contract:
- One consumer task reads the receiver manager's merged, de-duplicated presses in order.
- A press counts only from a registered, not revoked keypad of the meeting the desk serves,
  while a keypad round is open: it answers the item on the projector with the answer its key
  gives on that item's scale (the room vote's: 1 WANT, 2 DON'T WANT, 3 NEUTRAL; a 1-5
  rating's: the key itself; app/rules/scales.py) and replaces that keypad's earlier answer
  on it. The receivers are armed with as many choices as the item's scale has keys. The
  keypad's whole ballot then goes
  through `BallotWriter` like a phone's (channel `keypad`), so validation, one ballot per voter
  per round and exports are shared. The desk is the only writer of keypad voters' ballots, so
  it keeps their marks in memory (loaded from the database when a round starts).
- Unknown keypads and impossible press rates count nothing and raise a visible alert.
- Roll call binds the next unregistered keypad to a label; "ask a segment" lets keypad holders
  declare one (press 1 yes, 2 no) before they vote.
- On start the desk re-opens the receivers the facilitator opened in the console
  (app/keypads/remembered.py) and serves the meeting they served. A receiver that cannot be
  re-opened (its device gone, its file outside the allowed directories) is logged and listed
  in `status()["reopen_failed"]` and the alerts; start-up never fails because of one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from app.core.errors import BadInput, CovoteError
from app.core.shapes import KeypadPrompt
from app.core.vocab import Channel, RoundStatus
from app.keypads import registration as keypads
from app.keypads import remembered
from app.keypads.receiver_urls import ReceiverPolicy
from app.rules.scales import AnswerScale
from app.voting.ballots import CastRequest, Receipt, server_ballot_id
from app.voting.db import read_transaction, transaction
from app.voting.kinds import kind_of
from app.voting.models import Ballot, Meeting, Round, Voter
from app.voting.voters import declare_segments
from hardware import (
    KeypadPress,
    KeypadReceiver,
    ReceiverConfigError,
    ReceiverManager,
    ReceiverState,
)

log = logging.getLogger(__name__)

# A person pressing to change their mind manages 3-4 presses in 2 s; 8 is a stuck key or a
# spoofing transmitter (keypads.md 1.9).
RATE_WINDOW_S = 2.0
RATE_MAX = 8
ROLLCALL_S = 30.0  # keypads.md 5.8: "press any key now" waits this long
ALERTS_KEPT = 50


@dataclass
class _Round:
    meeting_id: int
    round_id: int | None = None
    number: int = 0
    keys: list[str] = field(default_factory=list)
    scales: list[AnswerScale] = field(default_factory=list)  # the items' scales, as `keys`
    step: int | None = None
    auto_enrol: bool = False

    def scale(self) -> AnswerScale | None:
        """The scale of the item keypads answer now, or None (no keypad step)."""
        if self.round_id is None or self.step is None or not 0 <= self.step < len(self.scales):
            return None
        return self.scales[self.step]


@dataclass
class RollCall:
    label: str
    segments: list[str]
    deadline: float


class KeypadDesk:
    def __init__(
        self,
        engine: Engine,
        cast: Callable[[CastRequest], Awaitable[Receipt]],
        changed: Callable[[int], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        manager: ReceiverManager | None = None,
        policy: ReceiverPolicy | None = None,
    ) -> None:
        self._engine = engine
        self.policy = policy or ReceiverPolicy()
        self._cast = cast
        self._changed = changed
        self._clock = clock
        self.manager = manager or ReceiverManager()
        self.meeting_id: int | None = None
        self.alerts: deque[dict[str, str]] = deque(maxlen=ALERTS_KEPT)
        self.rollcall: RollCall | None = None
        self.ask: str | None = None  # segment key being asked ("press 1 if you are ...")
        self.last_press: dict[str, Any] | None = None
        self.seen: set[str] = set()  # keypads heard in the current round
        self.counted = 0
        self._stale = True
        self._round: _Round | None = None
        self._registry: dict[str, tuple[int, bool]] = {}
        self._marks: dict[int, dict[str, str]] = {}  # voter id -> answers in the current round
        # One re-read at a time: a press's re-read and a resync's can run in two worker threads
        # at once, and the later one, having started before the round was known, would load the
        # round's marks again from before the press's ballot was stored and lose it from the
        # Run page's live count (the ballot itself stays counted).
        self._refresh_lock = threading.Lock()
        self._recent: dict[str, deque[float]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._consumer: asyncio.Task[None] | None = None
        self._resync: asyncio.Future[None] | None = None
        # Remembered receivers that could not be re-opened on start: {"url", "error"}.
        self.reopen_failed: list[dict[str, str]] = []
        # The receivers the console opened, by URL: "Forget" stops the one for a URL.
        self._console_names: dict[str, str] = {}
        self._watcher: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, urls: list[str]) -> None:
        """Supervise the operator's `urls` (settings: a bad one stops start-up, as it should),
        then re-open the remembered receivers (`reopen`: failures never stop start-up)."""
        for url in urls:
            self.add_receiver(url)
        self.manager.start()
        self._consumer = asyncio.create_task(self._consume(), name="keypad-desk")
        self._watcher = asyncio.create_task(self._watch(), name="keypad-desk-receivers")
        await self.reopen(skip=set(urls))

    async def _watch(self) -> None:
        """Tell the room when keypads start or stop being able to vote (a receiver connects,
        is unplugged): "present" counts them only while one serves the meeting (turnout)."""
        subscription = self.manager.statuses()
        was: tuple[int | None, bool] = (None, False)
        try:
            async for _ in subscription:
                meeting_id = self.meeting_id
                now = (meeting_id, meeting_id is not None and self.receiving(meeting_id))
                if now != was and meeting_id is not None:
                    self._changed(meeting_id)
                was = now
        finally:
            subscription.close()

    async def reopen(self, *, skip: Collection[str] = ()) -> None:
        """Re-open the receivers the console remembered (except `skip`, already open) and serve
        the meeting they served. Each failure is logged, alerted and kept in `reopen_failed`."""

        def read() -> list[tuple[str, int | None]]:
            with read_transaction(self._engine) as session:
                return [(r.url, r.meeting_id) for r in remembered.remembered(session)]

        try:
            rows = await asyncio.to_thread(read)
        except Exception:  # a database that cannot say must not stop the meeting starting
            log.exception("could not read the remembered keypad receivers")
            return
        for url, _ in rows:
            if url in skip:
                continue
            try:
                await self.add_console_receiver(url)
            except Exception as e:  # one receiver that cannot open must not stop the others
                message = e.message if isinstance(e, CovoteError) else str(e) or type(e).__name__
                log.warning("could not re-open keypad receiver %s: %s", url, message)
                self.reopen_failed.append({"url": url, "error": message})
                self._alert("receiver", url, f"Could not re-open this receiver: {message}")
        served = next((m for _, m in reversed(rows) if m is not None), None)
        if served is not None and self.meeting_id is None:
            # `_refresh` finds a deleted meeting gone and serves none.
            self.serve(served)

    def receiving(self, meeting_id: int) -> bool:
        """Whether a receiver is connected and serving `meeting_id` (keypads can vote in it).

        Called from worker threads too (turnout): it only reads, and retries the snapshot
        if a receiver was added on the loop meanwhile."""
        if meeting_id != self.meeting_id:
            return False
        for _ in range(3):
            try:
                states = [s.state for s in self.manager.status()]
            except RuntimeError:  # the receivers changed while we read them
                continue
            return ReceiverState.CONNECTED in states
        return False

    def add_receiver(self, url: str) -> str:
        """Supervise the receiver for an operator's URL (settings); returns its name."""
        return self._supervise(self.policy.build(url))

    async def add_console_receiver(self, url: str) -> str:
        """A URL typed in the console: its path checked, built off the loop, then supervised."""
        name = self._supervise(await self.policy.build_checked(url))
        self._console_names[url] = name
        return name

    async def remove_console_receiver(self, url: str) -> bool:
        """Stop and close the receiver the console opened for `url` (and forget that it failed
        to re-open). False if none is open for it."""
        self.reopen_failed = [f for f in self.reopen_failed if f["url"] != url]
        name = self._console_names.pop(url, None)
        if name is None:
            return False
        with contextlib.suppress(KeyError):  # already gone
            await self.manager.remove(name)
        return True

    def _supervise(self, receiver: KeypadReceiver) -> str:
        try:
            return self.manager.add(receiver)
        except ReceiverConfigError as e:
            raise BadInput(str(e)) from None

    async def aclose(self) -> None:
        await self.manager.aclose()
        if self._resync is not None:
            self._resync.cancel()
        for task in (self._consumer, self._watcher):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for task in list(self._tasks):
            with contextlib.suppress(Exception):
                await task

    async def _consume(self) -> None:
        async for press in self.manager.presses():
            try:
                await self.handle(press)
            except Exception:  # one bad press must not stop keypad voting
                log.exception("keypad press %s failed", press)

    # -- what the console tells the desk ------------------------------------------------------

    def serve(self, meeting_id: int) -> None:
        """Receivers now vote in this meeting."""
        if meeting_id != self.meeting_id:
            self.meeting_id, self.rollcall, self.ask = meeting_id, None, None
        self.invalidate(meeting_id)

    def invalidate(self, meeting_id: int) -> None:
        """The meeting changed (round opened/closed/stepped, keypads registered): re-read it
        soon, and arm or disarm the receivers to match (keypads show whether they may vote)."""
        if meeting_id == self.meeting_id:
            self._stale = True
            if self._resync is None or self._resync.done():
                self._resync = asyncio.ensure_future(self._resync_now())

    async def _resync_now(self) -> None:
        try:
            if self._stale and self.meeting_id is not None:
                await asyncio.to_thread(self._refresh)
            await self._sync_arm()
        except Exception:  # the next press or status poll tries again
            log.exception("keypad desk could not re-read meeting %s", self.meeting_id)

    async def _sync_arm(self) -> None:
        rnd = self._round
        want = None  # (question, choices) while a keypad round is open
        scale = rnd.scale() if rnd is not None else None
        if rnd is not None and rnd.step is not None and scale is not None:
            want = (rnd.step + 1, scale.keypad_choices)
        if want == self.manager.armed:
            return
        if want is None:
            await self.manager.disarm()
        else:
            await self.manager.arm(want[0], choices=want[1])

    def start_rollcall(self, meeting_id: int, label: str, segments: list[str]) -> None:
        self.serve(meeting_id)
        self.rollcall = RollCall(label.strip(), segments, self._clock() + ROLLCALL_S)

    def ask_segment(self, meeting_id: int, segment: str | None) -> None:
        self.serve(meeting_id)
        self.ask = segment
        self._changed(meeting_id)

    # -- presses -----------------------------------------------------------------------------

    def _alert(self, kind: str, keypad: str, message: str) -> None:
        now = datetime.now(UTC).strftime("%H:%M:%S")
        self.alerts.appendleft({"at": now, "kind": kind, "keypad": keypad, "message": message})

    def _too_fast(self, press: KeypadPress) -> bool:
        recent = self._recent.setdefault(press.keypad, deque())
        now = self._clock()
        recent.append(now)
        while recent and now - recent[0] > RATE_WINDOW_S:
            recent.popleft()
        return len(recent) > RATE_MAX

    async def handle(self, press: KeypadPress) -> None:
        """One de-duplicated press; never raises for a press that cannot count."""
        self.last_press = {"keypad": press.keypad, "key": press.key, "receiver": press.receiver}
        if self._too_fast(press):
            if len(self._recent[press.keypad]) == RATE_MAX + 1:
                self._alert(
                    "press_rate",
                    press.keypad,
                    f"More than {RATE_MAX} presses in {RATE_WINDOW_S:.0f} s: ignored.",
                )
            return
        if self.meeting_id is None:
            return
        if self._stale:
            await asyncio.to_thread(self._refresh)
        entry = self._registry.get(press.keypad)
        if self.rollcall is not None and await self._roll_call(press, entry):
            return
        if entry is None and self._round is not None and self._round.auto_enrol:
            try:
                await asyncio.to_thread(self._enrol, press.keypad)
            except CovoteError as e:  # e.g. the meeting switched to tickets since the refresh
                self._alert("auto_enrol", press.keypad, e.message)
                return
            entry = self._registry.get(press.keypad)
        if entry is None:
            self._alert(
                "unknown_keypad", press.keypad, "Unregistered keypad: its presses count nothing."
            )
            return
        voter_id, revoked = entry
        if revoked:
            self._alert("revoked", press.keypad, "Revoked keypad: its presses count nothing.")
            return
        if self.ask is not None:
            await self._answer_segment(press, voter_id)
            return
        self._vote(press, voter_id)

    async def _roll_call(self, press: KeypadPress, entry: tuple[int, bool] | None) -> bool:
        rc = self.rollcall
        assert rc is not None and self.meeting_id is not None
        if self._clock() > rc.deadline:
            self.rollcall = None
            self._alert("roll_call", "", f"Roll call for {rc.label} timed out.")
            return False
        if entry is not None:
            self._alert("roll_call", press.keypad, "Already registered; press a new keypad.")
            return True
        meeting_id = self.meeting_id

        def bind() -> None:
            with transaction(self._engine) as session:
                meeting = session.get(Meeting, meeting_id)
                assert meeting is not None
                keypads.register(session, meeting, press.keypad, rc.label, rc.segments)

        try:
            await asyncio.to_thread(bind)
        except CovoteError as e:
            self._alert("roll_call", press.keypad, e.message)
        else:
            self._alert("roll_call", press.keypad, f"Bound to label {rc.label}.")
        self.rollcall = None
        self._stale = True
        self._changed(meeting_id)
        return True

    async def _answer_segment(self, press: KeypadPress, voter_id: int) -> None:
        if press.choice not in (1, 2) or self.meeting_id is None or self.ask is None:
            return
        meeting_id, segment, add = self.meeting_id, self.ask, press.choice == 1

        def write() -> None:
            with transaction(self._engine) as session:
                meeting, voter = session.get(Meeting, meeting_id), session.get(Voter, voter_id)
                assert meeting is not None and voter is not None
                chosen = (
                    (set(voter.segments) | {segment}) if add else set(voter.segments) - {segment}
                )
                declare_segments(session, meeting, voter, sorted(chosen))

        try:
            await asyncio.to_thread(write)
        except CovoteError as e:
            self._alert("segments", press.keypad, e.message)

    def _vote(self, press: KeypadPress, voter_id: int) -> None:
        rnd = self._round
        scale = rnd.scale() if rnd is not None else None
        mark = scale.answer_for_key(press.choice or 0) if scale is not None else None
        if rnd is None or rnd.round_id is None or rnd.step is None or mark is None:
            self._spawn(self.manager.feedback(press.keypad, False, seq=press.seq))
            return
        self.seen.add(press.keypad)
        marks = self._marks.setdefault(voter_id, {})
        marks[rnd.keys[rnd.step]] = mark
        req = CastRequest(
            rnd.meeting_id,
            rnd.round_id,
            voter_id,
            server_ballot_id("keypad", uuid.uuid4().hex),
            dict(marks),
            channel=Channel.KEYPAD,
        )
        self._spawn(self._store(req, press))

    async def _store(self, req: CastRequest, press: KeypadPress) -> None:
        try:
            await self._cast(req)
        except CovoteError as e:
            self._alert("refused", press.keypad, e.message)
            await self.manager.feedback(press.keypad, False, seq=press.seq)
            return
        self.counted += 1
        await self.manager.feedback(press.keypad, True, seq=press.seq)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- database reads (worker thread) ---------------------------------------------------------

    def _refresh(self) -> None:
        with self._refresh_lock:
            self._refresh_locked()

    def _refresh_locked(self) -> None:
        assert self.meeting_id is not None
        with read_transaction(self._engine) as session:
            meeting = session.get(Meeting, self.meeting_id)
            if meeting is None:
                self.meeting_id = None
                return
            self._registry = keypads.registry(session, self.meeting_id)
            q = select(Round).where(
                Round.meeting_id == self.meeting_id, Round.status == RoundStatus.OPEN
            )
            rnd = session.exec(q).first()
            previous = self._round.round_id if self._round else None
            # A meeting switched to tickets after auto-enrol was set keeps its flag: ignore it.
            auto_enrol = meeting.keypad_auto_enrol and keypads.may_make_voters(meeting)
            info = _Round(self.meeting_id, auto_enrol=auto_enrol)
            if rnd is not None and rnd.id is not None:
                info.round_id, info.number, info.keys = rnd.id, rnd.number, list(rnd.proposal_keys)
                info.step = rnd.keypad_step
                scales = kind_of(rnd).scales(session, self.meeting_id, info.keys)
                info.scales = [scales[k] for k in info.keys]
            if info.round_id != previous:
                self.seen.clear()
                self._marks = self._load_marks(session, info.round_id)
            self._round = info
        self._stale = False

    def _load_marks(self, session: Any, round_id: int | None) -> dict[int, dict[str, str]]:
        if round_id is None:
            return {}
        voters = {v for v, _ in self._registry.values()}
        q = select(Ballot).where(Ballot.round_id == round_id, col(Ballot.voter_id).in_(voters))
        return {b.voter_id: dict(b.marks) for b in session.exec(q)}

    def _enrol(self, keypad: str) -> None:
        assert self.meeting_id is not None
        with transaction(self._engine) as session:
            meeting = session.get(Meeting, self.meeting_id)
            assert meeting is not None
            label = f"auto-{len(self._registry) + 1}"
            keypads.register(session, meeting, keypad, label, [])
            self._registry = keypads.registry(session, self.meeting_id)
        self._alert("auto_enrol", keypad, "Enrolled automatically.")

    # -- what the console and projector show ---------------------------------------------------

    def prompt(self, meeting_id: int) -> KeypadPrompt | None:
        if meeting_id != self.meeting_id or self.ask is None:
            return None
        return {"ask_segment": self.ask}

    async def fresh_status(self, meeting_id: int) -> dict[str, Any]:
        """`status`, after re-reading the meeting if it changed since the last press."""
        if meeting_id == self.meeting_id and self._stale:
            await asyncio.to_thread(self._refresh)
        return self.status(meeting_id)

    def status(self, meeting_id: int) -> dict[str, Any]:
        rnd = self._round if meeting_id == self.meeting_id else None
        step = None
        scale = rnd.scale() if rnd is not None else None
        if rnd is not None and rnd.step is not None and scale is not None:
            key = rnd.keys[rnd.step]
            # The keys the item takes, each with the answer it gives and that answer's label
            # (a msgid: the route translates it); the keypad answers so far, by answer.
            answers = [
                {"key": k, "value": answer, "label": scale.label(answer)}
                for k in range(1, scale.keypad_choices + 1)
                if (answer := scale.answer_for_key(k)) is not None
            ]
            counts = {a["value"]: 0 for a in answers}
            for marks in self._marks.values():
                if marks.get(key) in counts:
                    counts[marks[key]] += 1
            step = {
                "index": rnd.step,
                "of": len(rnd.keys),
                "proposal": key,
                "counts": counts,
                "answers": answers,
            }
        return {
            "serving": meeting_id == self.meeting_id,
            "receivers": [_receiver_view(s) for s in self.manager.status()],
            "alerts": list(self.alerts),
            "rollcall": None if self.rollcall is None else self.rollcall.label,
            "ask": self.ask if meeting_id == self.meeting_id else None,
            "last_press": self.last_press,
            "seen": sorted(self.seen) if rnd else [],
            "step": step,
            "reopen_failed": list(self.reopen_failed),
        }


def _receiver_view(s: Any) -> dict[str, Any]:
    return {
        "name": s.receiver,
        "kind": s.kind,
        "state": str(s.state),
        "presses": s.presses,
        "duplicates": s.duplicates,
        "error": s.error,
        "experimental": s.experimental,
        "last_press_ago_s": None
        if s.last_press_at is None
        else round(time.monotonic() - s.last_press_at, 1),
    }
