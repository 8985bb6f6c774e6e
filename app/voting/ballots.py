"""The ballot path: validate, store durably, then acknowledge.

Every ballot, whatever its channel, goes through `BallotWriter.cast`. Contract:
- it returns only after the ballot is committed (the caller acks after that, never before);
- one ballot per voter per activity's round: an upsert on the `(round_id, voter_id)` unique
  constraint, so the last ballot before the round closes is the one that counts;
- every answer is checked by its item's scale, which the round's activity kind states
  (`ActivityKind.scales`, app/voting/activity.py), and stored in the scale's canonical
  spelling; a ballot with one answer that is not one is refused whole, with the reason;
- a resend of the same `ballot_uid` with the same marks on the same channel (a phone that
  reconnected before seeing its ack) is harmless: it writes the same row again; the same id
  with other marks is a new version like any other;
- one person, one vote across channels: `cross_channel_refusal` applies the meeting's policy
  (a keypad holder votes by keypad; a round's ballot is replaced only on its own channel);
- every stored ballot version (not a resend) appends a `ballot` link to the meeting's audit log
  in the same transaction: its round and an opaque commitment, nothing that names the voter or
  the marks (app/voting/audit.py, README Anonymity);
- a survey round's stored counts (app/voting/survey_counts.py) change with its ballots in the
  same transaction: the new ballot's answers added, those of the ballot it replaces subtracted;
- a ballot for a round that is not open is refused, atomically with the close: the batch
  transaction reads the round's status under the write lock (SQLite BEGIN IMMEDIATE,
  PostgreSQL FOR SHARE), so a close either precedes the ballot (refused) or follows it (counted);
  so is a ballot for an archived meeting (its `archived_at` is read in the same query).

Group commit: casts that arrive while a transaction is being written wait in a queue and go
into the next transaction together, so one fsync serves many ballots at peak load while a lone
ballot is written at once. The database work runs in a worker thread; the event loop never blocks.

No input stops the writer (`BallotWriter`): numbers are bounded where they are parsed
(app/core/bounds.py), a batch that raises anything is split until the request at fault is alone (it
gets an error, the rest are stored), and a writer task that dies or wedges is logged at
CRITICAL and restarted, its callers answered. Ballot ids a client chooses and ids the server
makes (paper sheets, keypads) live in separate spaces (bounds.CLIENT_BALLOT_ID, SERVER_BALLOT_ID).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session, col

from app.core.bounds import CLIENT_BALLOT_ID, DB_INT_MAX, SERVER_BALLOT_ID
from app.core.errors import (
    BadInput,
    Conflict,
    CovoteError,
    NotFound,
    NotJoined,
    RoundClosed,
    StorageUnavailable,
)
from app.core.messages import N_
from app.core.vocab import (
    DEVICE_CHANNELS,
    SURVEY,
    Admission,
    Channel,
    ChannelPolicy,
    RoundStatus,
    admission,
    channel_policy,
)
from app.record import anonymity
from app.rules import survey as sv
from app.rules import survey_rows
from app.rules.scales import AnswerScale, Problem
from app.rules.survey_rows import CountKey
from app.voting import audit, survey_counts
from app.voting.db import transaction
from app.voting.kinds import kind_named
from app.voting.meetings import ENDED
from app.voting.models import Ballot, Keypad, Meeting, Round, Voter, utcnow

log = logging.getLogger(__name__)

CLIENT_UID = re.compile(CLIENT_BALLOT_ID)
SERVER_UID = re.compile(SERVER_BALLOT_ID)
# A ballot from a browser says "phone"; it is stored with its voter's channel (phone or remote,
# vocab.DEVICE_CHANNELS).


def server_ballot_id(source: str, key: str) -> str:
    """The id of a ballot the server casts itself (`paper`, `keypad`): in the server's id space
    (bounds.SERVER_BALLOT_ID), which no client's id can enter."""
    uid = f"{source}:{key}"
    if not SERVER_UID.match(uid):
        raise ValueError(f"not a server ballot id: {uid!r}")
    return uid


@dataclass(frozen=True, slots=True)
class CastRequest:
    meeting_id: int
    round_id: int
    voter_id: int
    ballot_uid: str
    # Item key -> the answer as sent (bounded by the caller's parser); `validate_batch` checks
    # each with its item's scale and stores the canonical spelling.
    marks: dict[str, str]
    channel: str = Channel.PHONE
    # The sending browser's device key (auth.device_key): a ticket voter's browser ballots
    # count only from the device the ticket is bound to, checked in the ballot's transaction.
    device_key: str | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    ballot_uid: str
    round_id: int
    meeting_id: int


_CHANNELS = frozenset(Channel)


def check_shape(req: CastRequest) -> None:
    """Checks that need no database: raise BadInput with a reason a person can act on."""
    if req.channel not in _CHANNELS:
        raise BadInput(f"Unknown channel {req.channel!r}.")
    if not all(1 <= n <= DB_INT_MAX for n in (req.meeting_id, req.round_id, req.voter_id)):
        raise NotFound("That round does not exist in this meeting.")
    if req.channel in DEVICE_CHANNELS:
        # Whatever a client sends, its id stays in the client's space (bounds.py).
        if not CLIENT_UID.match(req.ballot_uid):
            raise BadInput("ballot_id must be 8-64 letters, digits, '-' or '_'.")
    elif not SERVER_UID.match(req.ballot_uid):
        raise BadInput(f"A {req.channel} ballot needs a server-made ballot id.")
    if not req.marks:
        raise BadInput("A ballot needs at least one mark.")


# Outcomes of a batch that could not be stored (the caller's future gets one of these).
UNAVAILABLE = N_("Your ballot could not be stored. Please try again.")
REFUSED = N_("This ballot could not be stored: the server refused its contents.")
# A round online from a given time, before it (app/voting/online.py).
NOT_YET = N_("Round %(n)s is not open yet; your answers were not saved.")
# What the database itself raises when it is busy, gone or full: no request is to blame.
_DATABASE_DOWN = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)
# A supervisor restarting a writer that dies at once waits this long first (no busy loop).
RESTART_BACKOFF_S = 1.0
# How long what a batch found about an open round's items refuses bad answers before the queue
# (`BallotWriter.cast`); each batch of the round renews it, `forget_rounds` drops it at once.
OPEN_ROUND_TTL_S = 5.0


@dataclass(frozen=True, slots=True)
class OpenRound:
    """What a batch's transaction found about an open round: enough to refuse an answer that
    its items do not take without a transaction (`BallotWriter.cast`)."""

    meeting_id: int
    number: int
    kind: str
    scales: Mapping[str, AnswerScale]
    at: float  # time.monotonic() of the batch that found it


Pending = tuple[CastRequest, "asyncio.Future[Receipt]"]


def _threads() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="ballot-writer")


class BallotWriter:
    """The one task that stores ballots, supervised so that no input can stop it.

    - A batch whose commit raises is split in two and each half stored again (down to the one
      request at fault, which alone gets an error); only a database that is itself unavailable
      (`_DATABASE_DOWN`) fails the whole batch, which the phones resend.
    - If the task ever ends, its done-callback logs it at CRITICAL, fails the requests it held
      (no caster waits forever) and starts a new one.
    - A watchdog reports a batch still storing after `stall_s` and restarts the writer; the
      stalled thread's transaction may still commit later (a resend of it is harmless).
    - Commits run in the writer's own threads, never in the default pool that page views and
      snapshot renders share: 200 page views a second must not queue a ballot's commit behind
      them (scripts/bench, reads).
    """

    def __init__(self, engine: Engine, *, batch_max: int = 500, stall_s: float = 30.0) -> None:
        self._engine = engine
        self._batch_max = batch_max
        self._stall_s = stall_s
        self._queue: asyncio.Queue[Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._inflight: list[Pending] = []  # the batch the task is storing
        self._batch_started: float | None = None  # loop time its storing began
        self._closing = False
        self._last_restart = -RESTART_BACKOFF_S
        self.restarts = 0  # how often the supervisor restarted the task
        # Round id -> its items' scales, as the newest batch of that round found them. Filled
        # in the batch's worker thread (one dict store, atomic), read on the loop.
        self._open_rounds: dict[int, OpenRound] = {}
        # One commit at a time; more threads only so a restarted writer is not stuck behind
        # a stalled thread's commit.
        self._threads = _threads()

    def start(self) -> None:
        self._closing = False
        self._threads.shutdown(wait=False)
        self._threads = _threads()
        self._spawn()
        self._watchdog = asyncio.create_task(self._watch(), name="ballot-writer-watchdog")

    def _spawn(self) -> None:
        if self._closing:
            return
        self._task = asyncio.create_task(self._run(), name="ballot-writer")
        self._task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        """The supervisor: the writer runs until aclose; any other end is logged and undone."""
        if self._closing:
            return
        exc = None if task.cancelled() else task.exception()
        how = "was cancelled" if exc is None else f"died ({exc!r})"
        log.critical(
            "ballot writer %s holding %d ballot(s); restarting it",
            how,
            len(self._inflight),
            exc_info=exc,
        )
        self._fail_inflight(StorageUnavailable(UNAVAILABLE))
        self.restarts += 1
        loop = asyncio.get_running_loop()
        now = loop.time()
        delay = RESTART_BACKOFF_S if now - self._last_restart < RESTART_BACKOFF_S else 0.0
        self._last_restart = now + delay
        loop.call_later(delay, self._spawn)

    def _fail_inflight(self, err: CovoteError) -> None:
        inflight, self._inflight, self._batch_started = self._inflight, [], None
        for _, fut in inflight:
            if not fut.done():
                fut.set_exception(err)

    async def _watch(self) -> None:
        """Report and restart a writer wedged on one batch (a stuck lock, disk or driver)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self._stall_s / 4)
            started, task = self._batch_started, self._task
            if started is None or task is None or loop.time() - started <= self._stall_s:
                continue
            log.critical(
                "ballot writer wedged: a batch of %d has been storing for %.1f s; restarting it",
                len(self._inflight),
                loop.time() - started,
            )
            self._batch_started = None
            task.cancel()

    async def aclose(self) -> None:
        self._closing = True
        for task in (self._watchdog, self._task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._fail_inflight(StorageUnavailable(N_("The server is shutting down; resend.")))
        while not self._queue.empty():
            _, fut = self._queue.get_nowait()
            if not fut.done():
                fut.set_exception(StorageUnavailable(N_("The server is shutting down; resend.")))
        self._threads.shutdown(wait=False)

    async def cast(self, req: CastRequest) -> Receipt:
        """Store a ballot; returns once committed. Raises a CovoteError if refused.

        A ballot whose answers the round's items do not take is refused before the queue when a
        recent batch of the same open round saw its items (`OpenRound`, at most
        OPEN_ROUND_TTL_S old): it takes no place in a batch and no transaction. The batch's own
        check, in its transaction, stays the authority for every ballot that gets that far."""
        check_shape(req)
        self._refuse_answers(req)
        fut: asyncio.Future[Receipt] = asyncio.get_running_loop().create_future()
        await self._queue.put((req, fut))
        return await fut

    def _refuse_answers(self, req: CastRequest) -> None:
        known = self._open_rounds.get(req.round_id)
        if known is None or known.meeting_id != req.meeting_id:
            return
        if time.monotonic() - known.at > OPEN_ROUND_TTL_S:
            self._open_rounds.pop(req.round_id, None)
            return
        scales = known.scales
        for key, raw in req.marks.items():
            scale = scales.get(key)
            if scale is None or isinstance(scale.parse(raw), Problem):
                answers = _answers(req.marks, known, scales)  # the refusal, with its reason
                if isinstance(answers, CovoteError):
                    raise answers
                return

    def forget_rounds(self, meeting_id: int) -> None:
        """The meeting changed (its rounds or items may have): no early refusal for its rounds
        until a batch has looked at them again. Call on the loop."""
        for round_id, known in list(self._open_rounds.items()):
            if known.meeting_id == meeting_id:
                del self._open_rounds[round_id]

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch_max and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            self._inflight, self._batch_started = batch, loop.time()
            try:
                outcomes = await self._store([req for req, _ in batch])
            except Exception:  # a bug in the splitting itself: still never the loop's end
                log.critical("ballot batch of %d not stored", len(batch), exc_info=True)
                outcomes = [StorageUnavailable(UNAVAILABLE)] * len(batch)
            self._inflight, self._batch_started = [], None
            for (_, fut), outcome in zip(batch, outcomes, strict=True):
                if fut.done():  # the caster went away; the ballot is stored all the same
                    continue
                if isinstance(outcome, CovoteError):
                    fut.set_exception(outcome)
                else:
                    fut.set_result(outcome)

    async def _store(self, batch: list[CastRequest]) -> list[Receipt | CovoteError]:
        """Commit the batch; if that raises, split it until the request(s) at fault are alone.

        A batch with one hostile request costs about 2·log2(n) extra commits, in order, so a
        voter's later ballot in the batch still replaces their earlier one.
        """
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._threads, self._commit, batch)
        except _DATABASE_DOWN:
            log.exception("ballot batch of %d not stored: the database is unavailable", len(batch))
            return [StorageUnavailable(UNAVAILABLE)] * len(batch)
        except Exception as e:
            if len(batch) > 1:
                log.warning("ballot batch of %d failed (%r); splitting it", len(batch), e)
                half = len(batch) // 2
                return await self._store(batch[:half]) + await self._store(batch[half:])
            req = batch[0]
            log.error(
                "ballot refused: storing it raised (meeting %s, round %s, voter %s, channel %s)",
                req.meeting_id,
                req.round_id,
                req.voter_id,
                req.channel,
                exc_info=True,
            )
            # The database refusing this one request (a conflict with a concurrent writer) may
            # pass on a resend; a value it cannot hold (DataError) or anything raised before
            # the database saw it (OverflowError, ValueError…) is about the ballot's contents.
            if isinstance(e, DBAPIError) and not isinstance(e, DataError):
                return [StorageUnavailable(UNAVAILABLE)]
            return [BadInput(REFUSED)]

    def _commit(self, batch: list[CastRequest]) -> list[Receipt | CovoteError]:
        found: dict[int, OpenRound] = {}
        with transaction(self._engine) as session:
            # The clock, read once per batch at the edge (the checks stay a function of it): a
            # ballot stored at or after its round's `closes_at` is refused as closed.
            outcomes = validate_batch(session, batch, found, now=utcnow())
            accepted = [
                (req, out)
                for req, out in zip(batch, outcomes, strict=True)
                if isinstance(out, _Accepted)
            ]
            if accepted:
                rows = [_row(req, out) for req, out in accepted]
                session.execute(_upsert_for(self._engine.dialect.name), rows)
                counts: dict[int, Counter[CountKey]] = {}
                for req, out in accepted:
                    if out.counts:
                        counts.setdefault(req.round_id, Counter()).update(out.counts)
                survey_counts.apply(session, counts)
            links: dict[int, list[tuple[str, dict[str, Any]]]] = {}
            for _, out in accepted:
                if out.audit is not None:
                    links.setdefault(out.audit[0], []).append(("ballot", out.audit[1]))
            for meeting_id, meeting_links in sorted(links.items()):
                audit.append(session, meeting_id, meeting_links)
        self._open_rounds.update(found)  # committed: what the transaction saw was true then
        return [out.receipt if isinstance(out, _Accepted) else out for out in outcomes]


def cast_all(engine: Engine, requests: Sequence[CastRequest]) -> None:
    """Cast `requests` through a writer of their own, started and stopped here, from code with
    no event loop running: the demos' seeding at start-up (a live server casts through its
    Services' writer). Each request is acknowledged or refused as on any channel."""

    async def run() -> None:
        writer = BallotWriter(engine, batch_max=200, stall_s=30.0)
        writer.start()
        try:
            await asyncio.gather(*(writer.cast(r) for r in requests))
        finally:
            await writer.aclose()

    asyncio.run(run())


def _past(closes_at: datetime | None, now: datetime | None) -> bool:
    """Whether a countdown ending at `closes_at` has ended by `now` (SQLite returns naive UTC)."""
    if closes_at is None or now is None:
        return False
    return (closes_at if closes_at.tzinfo else closes_at.replace(tzinfo=UTC)) <= now


@dataclass(frozen=True, slots=True)
class _Accepted:
    """A ballot that passed validation, with what storing it needs."""

    receipt: Receipt
    channel: str  # resolved: a device's ballot takes its voter's channel (phone or remote)
    marks: dict[str, str]  # the answers as their scales spell them: what is stored
    audit: tuple[int, dict[str, Any]] | None  # (meeting id, `ballot` link); None for a resend
    # A survey round's: what storing it changes in the round's counts (survey_rows.difference).
    counts: Counter[CountKey] | None = None


# The batch's three queries, built once: building a SELECT costs more CPU than running it on
# SQLite, and a lone ballot (the usual case below peak load) is a batch of one.
_ROUNDS = (
    sa.select(
        col(Round.id),
        col(Round.meeting_id),
        col(Round.number),
        col(Round.status),
        col(Round.closes_at),
        col(Round.opens_at),
        col(Round.proposal_keys),
        col(Round.kind),
        col(Meeting.channel_policy),
        col(Meeting.admission),
        col(Meeting.record_secret),
        col(Meeting.archived_at),
    )
    .join(Meeting, col(Meeting.id) == col(Round.meeting_id))
    .where(col(Round.id).in_(sa.bindparam("rounds", expanding=True)))
    # Locked (FOR SHARE on PostgreSQL): see the module docstring.
    .with_for_update(read=True, of=Round.__table__)  # type: ignore[attr-defined]
)
_VOTERS = sa.select(
    col(Voter.id),
    col(Voter.meeting_id),
    col(Voter.pseudonym),
    col(Voter.channel),
    col(Voter.disabled),
    col(Voter.device_key),
    col(Voter.segments),
    sa.exists()
    .where(col(Keypad.voter_id) == col(Voter.id), col(Keypad.revoked).is_(False))
    .label("keypad"),
).where(col(Voter.id).in_(sa.bindparam("voters", expanding=True)))
_STORED = sa.select(
    col(Ballot.round_id),
    col(Ballot.voter_id),
    col(Ballot.ballot_uid),
    col(Ballot.channel),
    col(Ballot.marks),
).where(
    col(Ballot.round_id).in_(sa.bindparam("rounds", expanding=True)),
    col(Ballot.voter_id).in_(sa.bindparam("voters", expanding=True)),
)


def validate_batch(
    session: Session,
    batch: list[CastRequest],
    found: dict[int, OpenRound] | None = None,
    *,
    now: datetime | None = None,
) -> list[_Accepted | CovoteError]:
    """Three queries for the whole batch, none per ballot: rounds (with their kind and their
    meeting's channel policy), voters (with whether they hold a keypad) and the batch's stored
    ballots. Each round's scales are asked of its kind once (the room vote's need no query).
    Refusals say why, in words the voter can act on. `found` gets each open round's scales
    that were asked for (BallotWriter's early refusal). `now`: the time of the batch; a round
    whose closing countdown ends at or before it is closed to ballots, as is one whose
    scheduled online opening is after it (None: not checked)."""
    params = {
        "rounds": sorted({r.round_id for r in batch}),
        "voters": sorted({r.voter_id for r in batch}),
    }
    rounds: dict[int, Any] = {}
    policies: dict[int, ChannelPolicy] = {}
    ticketed: set[int] = set()
    for row in session.execute(_ROUNDS, params):
        rounds[row.id] = row
        policies[row.meeting_id] = channel_policy(row.channel_policy)
        if admission(row.admission) is Admission.TICKETS:
            ticketed.add(row.meeting_id)
    # Before reading the voters and stored ballots a survey's counts change by (survey_counts).
    surveys = {rid for rid, row in rounds.items() if row.kind == SURVEY}
    survey_counts.lock_rounds(session, surveys)
    voters = {row.id: row for row in session.execute(_VOTERS, params)}
    stored: dict[tuple[int, int], tuple[str, str, dict[str, str]]] = {
        (rid, vid): (uid, channel, marks)
        for rid, vid, uid, channel, marks in session.execute(_STORED, params)
    }
    scales: dict[int, Mapping[str, AnswerScale] | CovoteError] = {}
    out: list[_Accepted | CovoteError] = []
    for req in batch:
        rnd = rounds.get(req.round_id)
        voter = voters.get(req.voter_id)
        if rnd is None or rnd.meeting_id != req.meeting_id:
            out.append(NotFound("That round does not exist in this meeting."))
            continue
        if rnd.archived_at is not None:  # read with the round: no query of its own
            out.append(RoundClosed(ENDED))
            continue
        if rnd.status != RoundStatus.OPEN or _past(rnd.closes_at, now):
            closed = N_("Round %(n)s is closed; your ballot was not counted.")
            out.append(RoundClosed(closed, n=rnd.number))
            continue
        if now is not None and rnd.opens_at is not None and not _past(rnd.opens_at, now):
            # Online from a given time (app/voting/online.py): the clock, not the server's
            # opening pass, decides, as `closes_at` does.
            out.append(RoundClosed(NOT_YET, n=rnd.number))
            continue
        if voter is None or voter.meeting_id != req.meeting_id:
            out.append(NotFound(N_("Unknown voter: please rejoin the meeting.")))
            continue
        if rnd.id not in scales:
            scales[rnd.id] = got = _scales(session, rnd)
            if found is not None and not isinstance(got, CovoteError):
                found[rnd.id] = OpenRound(
                    rnd.meeting_id, rnd.number, rnd.kind, got, time.monotonic()
                )
        answers = _answers(req.marks, rnd, scales[rnd.id])
        if isinstance(answers, CovoteError):
            out.append(answers)
            continue
        if voter.disabled:
            out.append(NotJoined(N_("This ticket was revoked; ask the facilitator.")))
            continue
        channel = req.channel
        if channel in DEVICE_CHANNELS:
            # A ticket's voter votes from the one browser its ticket is bound to; the
            # facilitator may have moved it to another since this one connected.
            bound = voter.device_key is not None or req.meeting_id in ticketed
            if bound and (req.device_key is None or req.device_key != voter.device_key):
                out.append(NotJoined(MOVED))
                continue
            channel = voter.channel if voter.channel in DEVICE_CHANNELS else Channel.PHONE
        previous = stored.get((req.round_id, req.voter_id))
        refusal = cross_channel_refusal(
            policies.get(req.meeting_id, ChannelPolicy.ONE_CHANNEL),
            channel,
            keypad_bound=bool(voter.keypad),
            previous=previous[1] if previous is not None else None,
        )
        if refusal is not None:
            out.append(refusal)
            continue
        # A resend is the stored version itself; the same id with other marks is a new version.
        link: tuple[int, dict[str, Any]] | None = None
        if previous != (req.ballot_uid, channel, answers):  # a resend appends no link
            version = {
                "round": rnd.number,
                "voter": req.voter_id,
                "channel": channel,
                "marks": answers,
            }
            secret = anonymity.secret_or_fail(rnd.record_secret)
            commit = anonymity.commitment(secret, "ballot", version)
            link = (req.meeting_id, {"round": rnd.number, "commit": commit})
        counts: Counter[CountKey] | None = None
        if rnd.id in surveys and link is not None:
            old = (voter.segments, previous[2]) if previous is not None else None
            counts = survey_rows.difference(sv.AREA_ITEM, old, (voter.segments, answers))
        receipt = Receipt(req.ballot_uid, req.round_id, req.meeting_id)
        out.append(_Accepted(receipt, channel, answers, link, counts))
        # A second ballot from the same voter later in this batch sees this one as stored.
        stored[(req.round_id, req.voter_id)] = (req.ballot_uid, channel, answers)
    return out


def _scales(session: Session, rnd: Any) -> Mapping[str, AnswerScale] | CovoteError:
    """The scales of a round's items, from its kind (a kind this version lacks: its error)."""
    try:
        return kind_named(rnd.kind).scales(session, rnd.meeting_id, rnd.proposal_keys)
    except CovoteError as e:
        return e


def _answers(
    marks: Mapping[str, str], rnd: Any, scales: Mapping[str, AnswerScale] | CovoteError
) -> dict[str, str] | CovoteError:
    """The ballot's answers as stored (each item's scale's spelling), or why it is refused:
    an item the round does not have, or an answer its scale does not take."""
    if isinstance(scales, CovoteError):
        return scales
    if unknown := sorted(set(marks) - set(scales)):
        kind = kind_named(rnd.kind)
        return BadInput(kind.unknown_items, n=rnd.number, keys=", ".join(unknown))
    answers: dict[str, str] = {}
    for key, raw in marks.items():
        answer = scales[key].parse(raw)
        if isinstance(answer, Problem):
            return BadInput(answer.msgid, item=key, **answer.params)
        answers[key] = answer
    return answers


MOVED = N_("This ticket has moved to another device. Ask the facilitator.")
ALREADY_VOTED: dict[str, str] = {
    Channel.PHONE: N_("You have already voted by phone in this round; that ballot stands."),
    Channel.REMOTE: N_("You have already voted online in this round; that ballot stands."),
    Channel.KEYPAD: N_("You have already voted with a keypad in this round; that ballot stands."),
    Channel.PAPER: N_("You have already voted on paper in this round; that ballot stands."),
}


def cross_channel_refusal(
    policy: str, channel: str, *, keypad_bound: bool, previous: str | None
) -> CovoteError | None:
    """One person, one vote across channels: what the meeting's policy says of this ballot.

    `one_channel` (the default): a voter who holds a keypad votes only with it, and a round's
    ballot can only be replaced on the channel it was cast on. `latest`: any channel, the
    latest ballot counts (it replaces the stored one; never a second ballot either way).
    """
    if policy == ChannelPolicy.LATEST:
        return None
    if keypad_bound and channel != Channel.KEYPAD:
        return Conflict(N_("You hold a keypad in this meeting: vote with your keypad."))
    if previous is not None and previous != channel:
        return Conflict(ALREADY_VOTED.get(previous, ALREADY_VOTED[Channel.PHONE]))
    return None


def _row(req: CastRequest, accepted: _Accepted) -> dict[str, Any]:
    return {
        "round_id": req.round_id,
        "voter_id": req.voter_id,
        "ballot_uid": req.ballot_uid,
        "channel": accepted.channel,
        "marks": accepted.marks,
        "cast_at": utcnow(),
    }


@functools.cache
def _upsert_for(dialect_name: str) -> Any:
    """Built once per dialect: rebuilding it for every batch cost ~140 µs of CPU and garbage."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    # On the table, not the ORM class: the ORM's bulk insert path cost about a fifth of the
    # writer's time in collecting per-row commands; every column is given (`_row`).
    stmt = dialect.insert(Ballot.__table__)  # type: ignore[attr-defined]
    return stmt.on_conflict_do_update(
        index_elements=["round_id", "voter_id"],
        set_={c: stmt.excluded[c] for c in ("ballot_uid", "channel", "marks", "cast_at")},
    )
