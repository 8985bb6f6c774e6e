"""The audit log: an append-only, hash-chained record of everything that changes an outcome.

Each meeting has its own chain. A link is

    {"seq": 7, "at": "2026-11-25T19:02:11Z" | null, "kind": "round.closed", "data": {...},
     "prev": <hash of link 6>, "hash": sha256(canonical JSON of seq, at, kind, data, prev)}

with `prev` of link 1 = 64 zeros. Changing, removing or reordering any link breaks every hash
after it; cutting links off the end is caught by comparing the last hash with the one printed in
the results report. The exported log is JSON Lines, one link per line, in `seq` order.

What is logged (kinds): meeting.created / meeting.settings, segment.saved / segment.deleted,
proposal.saved / proposal.deleted / proposals.imported, round.opened / round.closed /
round.keypad_step / round.revealed / round.hidden, voter.segments, ballot, tickets.issued /
ticket.revoked / ticket.reissued / ticket.device_moved, keypad.registered / keypad.swapped /
keypad.revoked, paper.counted.

Anonymity: voters appear only by pseudonym; tickets only by number, never in the same link as
a pseudonym; no names, ticket codes, addresses or user agents. `ballot` and `voter.*` links
carry no time (`at` is null), so the log cannot be lined up against when someone was seen
voting.

Contract for writers: call `record` inside the transaction that makes the change, after the
change (the head row is locked, so appends from concurrent transactions and processes
serialise and the chain never forks). Pure functions below (`link_hash`, `verify`, `replay`)
touch no database; `covote audit verify` uses them on exported files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from app.models import AuditEvent, AuditHead

GENESIS = "0" * 64

# Links that must not carry a time (see the module docstring).
UNTIMED = frozenset({"ballot", "voter.segments"})


def canonical(value: Any) -> str:
    """The one JSON text of a value that hashes are taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link_hash(seq: int, at: str | None, kind: str, data: Mapping[str, Any], prev: str) -> str:
    body = canonical({"seq": seq, "at": at, "kind": kind, "data": data, "prev": prev})
    return hashlib.sha256(body.encode()).hexdigest()


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- writing (inside the caller's transaction) -------------------------------------------------


def record(session: Session, meeting_id: int, kind: str, data: Mapping[str, Any]) -> None:
    """Append one link for `meeting_id`; see `append`."""
    append(session, meeting_id, [(kind, data)])


def append(
    session: Session, meeting_id: int, links: Sequence[tuple[str, Mapping[str, Any]]]
) -> None:
    """Append links in order. Locks the chain's head row until the caller's transaction ends."""
    if not links:
        return
    head = session.exec(
        select(AuditHead).where(AuditHead.meeting_id == meeting_id).with_for_update()
    ).first()
    if head is None:
        head = AuditHead(meeting_id=meeting_id, seq=0, hash=GENESIS)
    seq, prev = head.seq, head.hash
    at_now = now_text()
    rows = []
    for kind, data in links:
        seq += 1
        at = None if kind in UNTIMED else at_now
        payload = json.loads(canonical(data))  # what is stored is exactly what was hashed
        digest = link_hash(seq, at, kind, payload, prev)
        rows.append(
            AuditEvent(
                meeting_id=meeting_id,
                seq=seq,
                at=at,
                kind=kind,
                data=payload,
                prev=prev,
                hash=digest,
            )
        )
        prev = digest
    head.seq, head.hash = seq, prev
    session.add_all([*rows, head])
    session.flush()


def head_of(session: Session, meeting_id: int) -> tuple[int, str]:
    """(number of links, hash of the last link) of a meeting's chain."""
    head = session.get(AuditHead, meeting_id)
    return (0, GENESIS) if head is None else (head.seq, head.hash)


def export_lines(session: Session, meeting_id: int) -> str:
    """The meeting's log as JSON Lines, oldest first."""
    q = select(AuditEvent).where(AuditEvent.meeting_id == meeting_id).order_by(col(AuditEvent.seq))
    return "".join(
        canonical(
            {
                "seq": e.seq,
                "at": e.at,
                "kind": e.kind,
                "data": e.data,
                "prev": e.prev,
                "hash": e.hash,
            }
        )
        + "\n"
        for e in session.exec(q)
    )


# --- checking (pure) ---------------------------------------------------------------------------


@dataclass
class Verified:
    """What `verify` found: `problems` empty means the chain is intact."""

    links: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def head(self) -> str:
        return self.links[-1]["hash"] if self.links else GENESIS


def verify(text: str, *, filename: str = "audit.jsonl") -> Verified:
    """Parse an exported log and check every link: shape, sequence, `prev` and `hash`.

    Problems are reported as `file:line: reason`; checking goes on after a broken link (each
    link is checked against the one before it as written), so one edit shows up once.
    """
    out = Verified()
    prev = GENESIS
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{filename}:{line_no}"
        try:
            link = json.loads(line)
        except json.JSONDecodeError as e:
            out.problems.append(f"{where}: not JSON ({e.msg})")
            continue
        if not _well_formed(link):
            out.problems.append(
                f"{where}: a link needs seq (number), at, kind, data (object), prev and hash"
            )
            continue
        expected_seq = len(out.links) + 1
        if link["seq"] != expected_seq:
            out.problems.append(
                f"{where}: link {link['seq']} where link {expected_seq} should be "
                "(a link was removed, added or moved)"
            )
        if link["prev"] != prev:
            out.problems.append(f"{where}: prev does not match the hash of the link before it")
        digest = link_hash(link["seq"], link["at"], link["kind"], link["data"], link["prev"])
        if digest != link["hash"]:
            out.problems.append(f"{where}: hash does not match the link's contents (edited)")
        out.links.append(link)
        prev = link["hash"]
    if not out.links and not out.problems:
        out.problems.append(f"{filename}: the log is empty")
    return out


def _well_formed(link: object) -> bool:
    return (
        isinstance(link, dict)
        and isinstance(link.get("seq"), int)
        and (link.get("at") is None or isinstance(link.get("at"), str))
        and isinstance(link.get("kind"), str)
        and isinstance(link.get("data"), dict)
        and isinstance(link.get("prev"), str)
        and isinstance(link.get("hash"), str)
    )


@dataclass(frozen=True, slots=True)
class ReplayedBallot:
    round: str
    voter: str
    channel: str
    segments: tuple[str, ...]
    marks: Mapping[str, str]


def replay(links: Iterable[Mapping[str, Any]]) -> dict[str, list[ReplayedBallot]]:
    """The ballots that count, per round number, as the log tells it.

    A voter's last `ballot` link in a round before that round's `round.closed` counts (later
    ones would be a bug the comparison then shows); segments are the voter's latest
    `voter.segments` before that ballot. Rounds are keyed by number as text, as in ballots.csv.
    """
    segments: dict[str, tuple[str, ...]] = {}
    closed: set[str] = set()
    final: dict[str, dict[str, ReplayedBallot]] = {}
    for link in links:
        kind, data = link["kind"], link["data"]
        if kind == "voter.segments":
            segments[str(data["voter"])] = tuple(sorted(data.get("segments", [])))
        elif kind == "round.closed":
            closed.add(str(data["round"]))
        elif kind == "ballot":
            rnd, voter = str(data["round"]), str(data["voter"])
            if rnd in closed:
                continue
            final.setdefault(rnd, {})[voter] = ReplayedBallot(
                round=rnd,
                voter=voter,
                channel=str(data["channel"]),
                segments=segments.get(voter, ()),
                marks=dict(data["marks"]),
            )
    return {rnd: sorted(by.values(), key=lambda b: b.voter) for rnd, by in final.items()}
