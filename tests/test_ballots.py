"""The ballot writer: group commit, one ballot per voter per round, closes are atomic."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from app.ballots import BallotWriter, CastRequest
from app.db import create_schema, make_engine, transaction
from app.demo import riverside
from app.errors import BadInput, RoundClosed
from app.meetings import create_meeting
from app.models import Ballot, Round
from app.rounds import close_round, open_round
from app.tally import Mark
from app.voters import join


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    create_schema(engine)
    yield engine
    engine.dispose()


def setup_round(engine, voters: int) -> tuple[int, int, list[int]]:  # type: ignore[no-untyped-def]
    with transaction(engine) as s:
        m = create_meeting(s, riverside())
        rnd = open_round(s, m, ["mobile-library", "day-centre"])
        ids = [join(s, m).id for _ in range(voters)]
        assert m.id and rnd.id
        return m.id, rnd.id, ids  # type: ignore[return-value]


def req(mid: int, rid: int, vid: int, uid: str, mark: Mark = Mark.WANT) -> CastRequest:
    return CastRequest(mid, rid, vid, uid, {"mobile-library": mark})


async def test_concurrent_casts_are_all_stored_once_each(engine) -> None:  # type: ignore[no-untyped-def]
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


async def test_a_refused_ballot_does_not_spoil_its_batch(engine) -> None:  # type: ignore[no-untyped-def]
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


async def test_close_and_cast_race_leaves_no_ballot_after_the_close(engine) -> None:  # type: ignore[no-untyped-def]
    """Every ballot acknowledged is stored; every ballot refused came after the close."""
    mid, rid, voters = setup_round(engine, 200)
    writer = BallotWriter(engine, batch_max=8)
    writer.start()

    def close() -> None:
        with transaction(engine) as s:
            from app.meetings import get_meeting

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
        assert s.get(Round, rid).status == "closed"  # type: ignore[union-attr]
    assert stored == acked


async def test_shape_errors_are_refused_before_the_database(engine) -> None:  # type: ignore[no-untyped-def]
    """An empty ballot or a bad ballot id never reaches a transaction."""
    writer = BallotWriter(engine)  # not started: a shape error must not wait for it
    with pytest.raises(BadInput):
        await writer.cast(CastRequest(1, 1, 1, "abcdefgh", {}))
    with pytest.raises(BadInput):
        await writer.cast(CastRequest(1, 1, 1, "bad id!", {"x": Mark.WANT}))


def test_the_database_itself_refuses_a_second_ballot_row(engine) -> None:  # type: ignore[no-untyped-def]
    """One person, one ballot per round is a unique constraint, not only code."""
    _, rid, voters = setup_round(engine, 1)
    with pytest.raises(IntegrityError), transaction(engine) as s:
        s.add(Ballot(round_id=rid, voter_id=voters[0], ballot_uid="a" * 8, marks={}))
        s.add(Ballot(round_id=rid, voter_id=voters[0], ballot_uid="b" * 8, marks={}))
