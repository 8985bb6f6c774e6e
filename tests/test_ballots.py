"""The ballot writer: group commit, one ballot per voter per round, closes are atomic, and no
input stops it (hostile batches are split, a dead or wedged writer is restarted)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import select

from app.core.errors import BadInput, CovoteError, NotFound, RoundClosed, StorageUnavailable
from app.demo import riverside
from app.rules.tally import Mark
from app.voting import ballots
from app.voting.ballots import BallotWriter, CastRequest, Receipt
from app.voting.db import create_schema, make_engine, transaction
from app.voting.meetings import create_meeting
from app.voting.models import Ballot, Round
from app.voting.rounds import close_round, open_round
from app.voting.voters import join


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    create_schema(engine)
    yield engine
    engine.dispose()


def setup_round(engine: Engine, voters: int) -> tuple[int, int, list[int]]:
    with transaction(engine) as s:
        m = create_meeting(s, riverside())
        rnd = open_round(s, m, ["mobile-library", "day-centre"])
        ids = [join(s, m).id for _ in range(voters)]
        assert m.id and rnd.id and None not in ids
        return m.id, rnd.id, [i for i in ids if i is not None]


def req(mid: int, rid: int, vid: int, uid: str, mark: Mark = Mark.WANT) -> CastRequest:
    return CastRequest(mid, rid, vid, uid, {"mobile-library": mark})


async def test_concurrent_casts_are_all_stored_once_each(engine: Engine) -> None:
    """300 voters casting at once (twice each) leave exactly 300 ballots, the later ones."""
    mid, rid, voters = setup_round(engine, 300)
    writer = BallotWriter(engine, batch_max=64)
    writer.start()
    try:
        first = [writer.cast(req(mid, rid, v, f"first-{v:05d}")) for v in voters]
        second = [writer.cast(req(mid, rid, v, f"second-{v:05d}", Mark.DONT_WANT)) for v in voters]
        receipts = await asyncio.gather(*first, *second)
    finally:
        await writer.aclose()
    assert len(receipts) == 600
    with transaction(engine) as s:
        stored = s.exec(select(Ballot)).all()
    assert len(stored) == 300
    assert {b.marks["mobile-library"] for b in stored} == {"dont_want"}


async def test_a_refused_ballot_does_not_spoil_its_batch(engine: Engine) -> None:
    """In one batch, a ballot for an unknown proposal fails alone; the others are stored."""
    mid, rid, voters = setup_round(engine, 3)
    writer = BallotWriter(engine)
    writer.start()
    try:
        bad = CastRequest(mid, rid, voters[1], "bad-ballot", {"cycle-path": Mark.WANT})
        results = await asyncio.gather(
            writer.cast(req(mid, rid, voters[0], "good-one-1")),
            writer.cast(bad),
            writer.cast(req(mid, rid, voters[2], "good-one-2")),
            return_exceptions=True,
        )
    finally:
        await writer.aclose()
    assert isinstance(results[1], BadInput)
    assert not isinstance(results[0], Exception) and not isinstance(results[2], Exception)
    with transaction(engine) as s:
        assert len(s.exec(select(Ballot)).all()) == 2


async def test_close_and_cast_race_leaves_no_ballot_after_the_close(engine: Engine) -> None:
    """Every ballot acknowledged is stored; every ballot refused came after the close."""
    mid, rid, voters = setup_round(engine, 200)
    writer = BallotWriter(engine, batch_max=8)
    writer.start()

    def close() -> None:
        with transaction(engine) as s:
            from app.voting.meetings import get_meeting

            close_round(s, get_meeting(s, mid), 1)

    try:
        casts = [
            asyncio.ensure_future(writer.cast(req(mid, rid, v, f"race-{v:05d}"))) for v in voters
        ]
        await asyncio.sleep(0)
        await asyncio.to_thread(close)
        results = await asyncio.gather(*casts, return_exceptions=True)
    finally:
        await writer.aclose()
    acked = {voters[i] for i, r in enumerate(results) if not isinstance(r, Exception)}
    refused = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(r, RoundClosed) for r in refused)
    with transaction(engine) as s:
        stored = {b.voter_id for b in s.exec(select(Ballot))}
        closed = s.get(Round, rid)
        assert closed is not None and closed.status == "closed"
    assert stored == acked


async def test_shape_errors_are_refused_before_the_database(engine: Engine) -> None:
    """An empty ballot or a bad ballot id never reaches a transaction."""
    writer = BallotWriter(engine)  # not started: a shape error must not wait for it
    with pytest.raises(BadInput):
        await writer.cast(CastRequest(1, 1, 1, "abcdefgh", {}))
    with pytest.raises(BadInput):
        await writer.cast(CastRequest(1, 1, 1, "bad id!", {"x": Mark.WANT}))


def test_the_database_itself_refuses_a_second_ballot_row(engine: Engine) -> None:
    """One person, one ballot per round is a unique constraint, not only code."""
    _, rid, voters = setup_round(engine, 1)
    with pytest.raises(IntegrityError), transaction(engine) as s:
        s.add(Ballot(round_id=rid, voter_id=voters[0], ballot_uid="a" * 8, marks={}))
        s.add(Ballot(round_id=rid, voter_id=voters[0], ballot_uid="b" * 8, marks={}))


# --- hostile input: the writer keeps storing everyone else's ballots ---------------------------

HOSTILE = {"hostile-overflow": OverflowError, "hostile-value": ValueError}
HOSTILE_RUNTIME = "hostile-runtime"


def poison_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make storing a hostile ballot raise inside the batch's transaction, as the sqlite3 driver
    does for a round id of 2**63 (OverflowError), or as any bug could (ValueError, RuntimeError)."""
    real_row = ballots._row

    def row(req: CastRequest, accepted: ballots._Accepted) -> dict[str, object]:
        for prefix, exc in HOSTILE.items():
            if req.ballot_uid.startswith(prefix):
                raise exc("Python int too large to convert to SQLite INTEGER")
        if req.ballot_uid.startswith(HOSTILE_RUNTIME):
            raise RuntimeError("injected")
        return real_row(req, accepted)

    monkeypatch.setattr(ballots, "_row", row)


async def test_hostile_ballots_fail_alone_and_voting_goes_on(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hostile casts mixed into honest batches get an error; honest ones are stored and acked,
    and afterwards every voter's ballots (the attackers' honest ones too) are still stored."""
    poison_rows(monkeypatch)
    mid, rid, voters = setup_round(engine, 40)
    writer = BallotWriter(engine, batch_max=16)
    writer.start()
    hostile_uids = ["hostile-overflow-1", "hostile-value-22", f"{HOSTILE_RUNTIME}-3"]
    try:
        first = []
        for i, v in enumerate(voters):
            uid = hostile_uids[i % 3] if i % 10 == 3 else f"honest-1-{v:05d}"
            first.append(req(mid, rid, v, uid))
        results = await asyncio.wait_for(
            asyncio.gather(*(writer.cast(r) for r in first), return_exceptions=True), 10
        )
        later = [req(mid, rid, v, f"honest-2-{v:05d}", Mark.DONT_WANT) for v in voters]
        again = await asyncio.wait_for(asyncio.gather(*(writer.cast(r) for r in later)), 10)
    finally:
        await writer.aclose()
    for r, result in zip(first, results, strict=True):
        if r.ballot_uid.startswith("honest"):
            assert not isinstance(result, BaseException), (r.ballot_uid, result)
        else:
            assert isinstance(result, BadInput), (r.ballot_uid, result)
            assert "refused its contents" in result.message
    assert len(again) == len(voters)
    with transaction(engine) as s:
        stored = {b.voter_id: b.ballot_uid for b in s.exec(select(Ballot))}
    assert stored == {v: f"honest-2-{v:05d}" for v in voters}


async def test_a_database_error_for_one_ballot_is_a_retryable_refusal(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lone ballot whose commit raises a database error gets 503 (resend) and its batch-mates
    are stored; a database that is itself down fails the batch at once, without splitting it."""
    mid, rid, voters = setup_round(engine, 3)
    real_row, real_commit = ballots._row, BallotWriter._commit
    commits: list[int] = []

    def row(r: CastRequest, accepted: ballots._Accepted) -> dict[str, object]:
        if r.ballot_uid == "conflicted":
            raise IntegrityError("INSERT", {}, Exception("concurrent writer"))
        if r.ballot_uid == "database-down":
            raise OperationalError("BEGIN", {}, Exception("database is locked"))
        return real_row(r, accepted)

    def commit(self: BallotWriter, batch: list[CastRequest]) -> list[Receipt | CovoteError]:
        commits.append(len(batch))
        return real_commit(self, batch)

    monkeypatch.setattr(ballots, "_row", row)
    monkeypatch.setattr(BallotWriter, "_commit", commit)
    writer = BallotWriter(engine)
    writer.start()
    try:
        results = await asyncio.wait_for(
            asyncio.gather(
                writer.cast(req(mid, rid, voters[0], "honest-aa")),
                writer.cast(req(mid, rid, voters[1], "conflicted")),
                writer.cast(req(mid, rid, voters[2], "honest-bb")),
                return_exceptions=True,
            ),
            10,
        )
        commits.clear()
        down = await asyncio.wait_for(
            asyncio.gather(
                writer.cast(req(mid, rid, voters[0], "honest-cc")),
                writer.cast(req(mid, rid, voters[1], "database-down")),
                return_exceptions=True,
            ),
            10,
        )
    finally:
        await writer.aclose()
    assert isinstance(results[1], StorageUnavailable)
    assert not isinstance(results[0], BaseException) and not isinstance(results[2], BaseException)
    assert all(isinstance(r, StorageUnavailable) for r in down) and commits == [2]


async def test_a_writer_that_dies_is_restarted_and_its_casters_answered(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killing the writer task mid-batch answers the batch's casters (503, resend) at once, and
    a new writer stores the next ballots."""
    mid, rid, voters = setup_round(engine, 2)
    gate = threading.Event()
    real_commit = BallotWriter._commit

    def commit(self: BallotWriter, batch: list[CastRequest]) -> list[Receipt | CovoteError]:
        gate.wait(5)
        return real_commit(self, batch)

    monkeypatch.setattr(BallotWriter, "_commit", commit)
    writer = BallotWriter(engine)
    writer.start()
    try:
        stuck = asyncio.ensure_future(writer.cast(req(mid, rid, voters[0], "in-flight-1")))
        while not writer._inflight:
            await asyncio.sleep(0.01)
        assert writer._task is not None
        writer._task.cancel()  # the task dies, whatever the cause
        with pytest.raises(StorageUnavailable):
            await asyncio.wait_for(stuck, 2)
        gate.set()
        receipt = await asyncio.wait_for(writer.cast(req(mid, rid, voters[1], "after-restart")), 5)
    finally:
        gate.set()
        await writer.aclose()
    assert receipt.ballot_uid == "after-restart" and writer.restarts == 1


async def test_a_wedged_writer_is_reported_and_restarted(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A batch stuck past the stall bound is logged at CRITICAL, its caster gets a 503 instead
    of waiting forever, and ballots after it are stored by a new writer."""
    mid, rid, voters = setup_round(engine, 2)
    gate = threading.Event()
    real_commit = BallotWriter._commit
    calls: list[int] = []

    def commit(self: BallotWriter, batch: list[CastRequest]) -> list[Receipt | CovoteError]:
        calls.append(len(batch))
        if len(calls) == 1:
            gate.wait(5)  # wedged (a lock, a disk) before its transaction begins
        return real_commit(self, batch)

    monkeypatch.setattr(BallotWriter, "_commit", commit)
    writer = BallotWriter(engine, stall_s=0.2)
    writer.start()
    try:
        with caplog.at_level(logging.CRITICAL, logger="app.voting.ballots"):
            with pytest.raises(StorageUnavailable):
                await asyncio.wait_for(writer.cast(req(mid, rid, voters[0], "wedged-01")), 3)
            receipt = await asyncio.wait_for(writer.cast(req(mid, rid, voters[1], "next-one")), 3)
    finally:
        gate.set()
        await writer.aclose()
    assert receipt.ballot_uid == "next-one" and writer.restarts == 1
    assert any("wedged" in r.getMessage() for r in caplog.records)


async def test_client_ids_cannot_enter_the_servers_id_space(engine: Engine) -> None:
    """A phone's ballot with a paper or keypad id is refused; the server's own casts need one."""
    mid, rid, voters = setup_round(engine, 1)
    writer = BallotWriter(engine)  # shape errors never wait for the writer
    for uid in ("paper:r1:s7", "keypad:" + "a" * 32, "paper-r1-s7x:"):
        with pytest.raises(BadInput):
            await writer.cast(req(mid, rid, voters[0], uid))
    with pytest.raises(BadInput):
        await writer.cast(CastRequest(mid, rid, voters[0], "a" * 16, {"x": Mark.WANT}, "paper"))
    with pytest.raises(ValueError):
        ballots.server_ballot_id("paper", "r1 s7")
    assert ballots.server_ballot_id("keypad", "ab12") == "keypad:ab12"


async def test_out_of_range_ids_are_refused_before_the_database(engine: Engine) -> None:
    """A round, voter or meeting id beyond the database's integers never reaches the writer."""
    writer = BallotWriter(engine)  # not started
    for ids in ((1, 2**63, 1), (1, 1, -(2**63) - 1), (2**31, 1, 1), (1, 0, 1)):
        with pytest.raises(NotFound):
            await writer.cast(CastRequest(*ids, "abcdefgh", {"x": Mark.WANT}))


async def test_a_bad_answer_is_refused_before_the_queue_once_the_round_is_known(
    engine: Engine,
) -> None:
    """After a batch of the open round, an answer its items do not take is refused without
    entering a batch (no transaction); the batch stays the authority once the meeting changed."""
    mid, rid, voters = setup_round(engine, 2)
    writer = BallotWriter(engine)
    batches: list[list[str]] = []
    commit = writer._commit

    def counted(batch: list[CastRequest]) -> list[Receipt | CovoteError]:
        batches.append([r.ballot_uid for r in batch])
        return commit(batch)

    writer._commit = counted  # type: ignore[method-assign]
    writer.start()
    bad_answer = CastRequest(mid, rid, voters[1], "bad-answer", {"mobile-library": "maybe"})
    bad_item = CastRequest(mid, rid, voters[1], "bad-item-1", {"cycle-path": Mark.WANT})
    try:
        await writer.cast(req(mid, rid, voters[0], "good-one-1"))
        with pytest.raises(BadInput):
            await writer.cast(bad_answer)
        with pytest.raises(BadInput, match="cycle-path"):
            await writer.cast(bad_item)
        assert batches == [["good-one-1"]]
        writer.forget_rounds(mid)  # e.g. the facilitator changed the meeting
        with pytest.raises(BadInput):
            await writer.cast(bad_answer)
        assert batches == [["good-one-1"], ["bad-answer"]]
        await writer.cast(req(mid, rid, voters[1], "good-one-2"))  # good ballots still pass
    finally:
        await writer.aclose()
    with transaction(engine) as s:
        assert sorted(b.ballot_uid for b in s.exec(select(Ballot)).all()) == [
            "good-one-1",
            "good-one-2",
        ]
