"""The audit chain as a public record: its format, and the checks anyone can run on an export.

Pure: text and rows in, findings out; no database, no clock. The writer that appends links to
a meeting's chain in the database is app/voting/audit.py; `covote audit verify` and the tests
use this module on exported files.

Each meeting has its own chain. A link is

    {"seq": 7, "at": "2026-11-25T19:02:11Z" | null, "kind": "round.closed", "data": {...},
     "prev": <hash of link 6>, "hash": sha256(canonical JSON of seq, at, kind, data, prev)}

with `prev` of link 1 = 64 zeros (`GENESIS`). Changing, removing or reordering any link breaks
every hash after it; cutting links off the end is caught by comparing the last hash with the one
printed in the results report. The exported log is JSON Lines, one link per line (`link_line`),
in `seq` order.

What is logged (kinds): meeting.created (the meeting file; a duplicate's also has
`duplicated_from`, the source's code) / meeting.settings / meeting.archived /
meeting.unarchived, segment.saved / segment.deleted,
proposal.saved / proposal.deleted / proposals.imported, round.opened / round.closed /
round.sealed / round.keypad_step / round.revealed / round.hidden, round.countdown /
round.countdown_cancelled (a closing countdown; the `round.closed` it ends in then has
`countdown_ended`), round.online / round.online_opened / round.online_extended (a survey
online for a set period: `opens_at` and `closes_at`, its scheduled opening coming, a new
`closes_at`; app/voting/online.py), round.reopened (its next `round.closed` seals it
again), round.voided (with its `reason`, if given), round.final (`final` true or false),
voter.segments, ballot,
tickets.issued / ticket.revoked / ticket.reissued / ticket.device_moved, keypad.registered /
keypad.swapped / keypad.revoked, keypad.auto_enrol, paper.counted, survey.saved (the survey
file's title, sha256 and how many items it asks; the file itself is its own download),
lab.shortlisted (an idea its affected segments rejected, shortlisted: the idea's key, the
segments and the facilitator's `reason`), the Lab's moderation: lab.approved (`idea`; ideas
keyed from flip charts also `"keyed": true`) / lab.hidden / lab.restored (back to the queue) /
lab.corrected (its text corrected) / lab.merged (`idea` merged `into` another) / lab.affected
(the `segments` that may reject it). Moderation links carry idea keys and segment ids only,
never an idea's text: a hidden idea's words stay out of the public record. The charter:
charter.saved (`version`, the file's `sha256`, how many `clauses`) / charter.rule
(`block_percent`) / charter.signed (`signature` number, `party`, `version`, the `name`, `role`
and `organisation` as typed, which the charter prints anyway, and `drawing_sha256`, the drawn
signature's hash or null: the drawing itself stays out) / charter.withdrawn (`signature`,
`party`, `version`), and amendments to its clauses: charter.amendments (`open`: phones may
propose them, or no longer), charter.amendment_proposed (`amendment` key, `clause`, `channel`
"phone" or "console") / charter.amendment_accepted (`amendment`, `clause`, the `version` that
puts it to the vote) / charter.amendment_declined (`amendment`) / charter.amendment_merged
(`amendment` merged `into` another). These carry keys only, never an amendment's text, the
reason it was declined or who proposed it: a phone's words may name someone, and an accepted
amendment's text is in the charter version anyway.

Anonymity (README, Anonymity): no link names a voter. A `ballot` link (one per stored ballot
version, however it arrived) holds only its round and an opaque `commit`ment, a keyed hash of
the version salted with a fresh random value (app/record/anonymity.py): it proves a version was
stored and counts versions, but nobody can open it or line it up with a published row. A
`voter.segments` link likewise holds only a `commit`. `round.closed` seals the round's public
rows: `ballots` (how many), `ballots_sha256` and `groups_sha256` (`anonymity.seal` of the rows
of ballots.csv and groups.csv), written in the transaction that closes the round. Tickets
appear only by number and keypads only by label; no names, ticket codes, addresses or user
agents. `ballot` and `voter.*` links carry no time (`at` is null: `UNTIMED`).

Checks: `verify` checks the chain, `check_seals` checks each closed round's published rows
against its seal (`replay` and `compare` check logs written before seals existed, whose ballot
links named the voter and the marks).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.core.inputs import JsonInputError, load_json
from app.record import anonymity
from app.record.csvfiles import BallotRow, GroupRow, ballot_cells, group_cells
from app.rules.tally import Mark

GENESIS = "0" * 64

# Links that must not carry a time (see the module docstring).
UNTIMED = frozenset({"ballot", "voter.segments"})


def canonical(value: Any) -> str:
    """The one JSON text of a value that hashes are taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def time_text(at: datetime) -> str:
    """A link's `at`: the time in UTC to the second, e.g. "2026-11-25T19:02:11Z" (naive
    datetimes are taken as UTC)."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def link_hash(seq: int, at: str | None, kind: str, data: Mapping[str, Any], prev: str) -> str:
    """The hash of a link from its parts (`data` as a value)."""
    return link_digest(seq, at, kind, canonical(data), prev)


def link_digest(seq: int, at: str | None, kind: str, data_text: str, prev: str) -> str:
    """sha256 of canonical({"seq", "at", "kind", "data", "prev"}) from the data's canonical
    text, spelled out in canonical key order (at, data, kind, prev, seq) so the writer
    serialises each link's data once."""
    body = (
        f'{{"at":{canonical(at)},"data":{data_text},"kind":{canonical(kind)},'
        f'"prev":{canonical(prev)},"seq":{seq}}}'
    )
    return hashlib.sha256(body.encode()).hexdigest()


def link_line(seq: int, at: str | None, kind: str, data_text: str, prev: str, digest: str) -> str:
    """One link of the exported log: its canonical JSON (keys sorted) and a newline, with the
    data's canonical text written as it was hashed."""
    return (
        f'{{"at":{canonical(at)},"data":{data_text},"hash":{canonical(digest)},'
        f'"kind":{canonical(kind)},"prev":{canonical(prev)},"seq":{seq}}}\n'
    )


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
            link = load_json(line)
        except JsonInputError as e:
            out.problems.append(f"{where}: not JSON ({e.reason})")
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


def replay(links: Iterable[Mapping[str, Any]]) -> list[BallotRow]:
    """The ballot file the log implies: what `ballots.csv` must contain, row for row.

    A voter's last `ballot` link in a round counts (links after the round's `round.closed`
    would be a bug: they are ignored here, so the comparison shows them); segments are the
    voter's latest `voter.segments`; a proposal of the round (from `round.opened`) that the
    ballot left unmarked is NEUTRAL, as in the export.

    Raises:
        ValueError: a link lacks the data its kind needs, or has it in the wrong shape
            (callers report it as a malformed log).
    """
    try:
        return _replay(links)
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        raise ValueError(f"a link lacks the data its kind needs ({e!r})") from None


def _replay(links: Iterable[Mapping[str, Any]]) -> list[BallotRow]:
    segments: dict[str, tuple[str, ...]] = {}
    proposals: dict[str, list[str]] = {}
    closed: set[str] = set()
    final: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}
    for link in links:
        kind, data = link["kind"], link["data"]
        if kind == "voter.segments" and "voter" in data:
            segments[str(data["voter"])] = tuple(sorted(data["segments"]))
        elif kind == "round.opened":
            proposals[str(data["round"])] = [str(k) for k in data["proposals"]]
        elif kind == "round.closed":
            closed.add(str(data["round"]))
        elif kind == "round.reopened":
            closed.discard(str(data["round"]))
        elif kind == "ballot" and "voter" in data and str(data["round"]) not in closed:
            final[(str(data["round"]), str(data["voter"]))] = (
                str(data["channel"]),
                {str(k): str(v) for k, v in data["marks"].items()},
            )
    rows = []
    for (rnd, voter), (channel, marks) in sorted(
        final.items(), key=lambda kv: (int_or(kv[0][0]), kv[0][1])
    ):
        for key in proposals.get(rnd, sorted(marks)):
            mark = Mark(marks.get(key, Mark.NEUTRAL))
            rows.append(BallotRow(rnd, voter, channel, segments.get(voter, ()), key, mark))
    return rows


def int_or(text: str) -> tuple[int, str]:
    """Sort key: round numbers numerically."""
    return (int(text), "") if text.isascii() and text.isdigit() and len(text) < 19 else (0, text)


def compare(replayed: Sequence[BallotRow], exported: Sequence[BallotRow]) -> list[str]:
    """Differences between the log's ballots and a ballot file, one line each (empty: equal)."""

    def by_voter(rows: Sequence[BallotRow]) -> dict[tuple[str, str], set[tuple[str, ...]]]:
        out: dict[tuple[str, str], set[tuple[str, ...]]] = {}
        for r in rows:
            cells = (r.channel, ";".join(sorted(r.segments)), r.proposal, str(r.mark))
            out.setdefault((r.round, r.voter), set()).add(cells)
        return out

    log, file = by_voter(replayed), by_voter(exported)
    problems = []
    for key in sorted(set(log) | set(file), key=lambda k: (int_or(k[0]), k[1])):
        where = f"round {key[0]}, voter {key[1]}"
        if key not in file:
            problems.append(f"{where}: a ballot in the log is missing from the ballot file")
        elif key not in log:
            problems.append(f"{where}: a ballot in the ballot file is not in the log")
        elif log[key] != file[key]:
            only_log = ", ".join(":".join(c) for c in sorted(log[key] - file[key]))
            only_file = ", ".join(":".join(c) for c in sorted(file[key] - log[key]))
            problems.append(f"{where}: the log says {only_log}; the file says {only_file}")
    return problems


@dataclass(frozen=True, slots=True)
class RoundMark:
    """A round's place in the decision, as its `round.final` / `round.voided` links say."""

    final: bool = False
    voided: bool = False
    reason: str = ""


def round_marks(links: Iterable[Mapping[str, Any]]) -> dict[str, RoundMark]:
    """The rounds the log marks final (the last `round.final` link counts; reopening or
    voiding the round takes the mark off) or voided (with the reason), by round number as
    text; rounds with neither are left out."""
    marks: dict[str, RoundMark] = {}
    for link in links:
        kind, data = link["kind"], link["data"]
        if kind not in ("round.final", "round.voided", "round.reopened"):
            continue
        rnd = str(data["round"])
        mark = marks.get(rnd, RoundMark())
        if kind == "round.final":
            mark = RoundMark(bool(data["final"]), mark.voided, mark.reason)
        elif kind == "round.reopened":  # reopening takes a final mark off (rounds.reopen_round)
            mark = RoundMark(False, mark.voided, mark.reason)
        else:  # and so does voiding (rounds.void_round)
            mark = RoundMark(False, True, str(data.get("reason", "")))
        marks[rnd] = mark
    return {n: m for n, m in marks.items() if m.final or m.voided}


@dataclass
class SealCheck:
    """What `check_seals` found: `problems` (a check failed) and `notes` (what was not checked)."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sealed: int = 0  # closed rounds whose rows matched their seal


def other_kind_rounds(links: Iterable[Mapping[str, Any]]) -> set[str]:
    """The rounds the log opened as another activity kind than a room vote (their
    `round.opened` names its `kind`: a Lab's rating, a survey, a scale question), whose ballot
    rows answer items that are not the meeting's proposals (`csvfiles.read_ballot_csv`)."""
    return {
        str(link["data"]["round"])
        for link in links
        if link["kind"] == "round.opened" and "kind" in link["data"]
    }


def check_seals(
    links: Iterable[Mapping[str, Any]],
    ballots: Sequence[BallotRow],
    groups: Sequence[GroupRow] | None,
) -> SealCheck:
    """Check the published rows of every closed round against its `round.closed` seal.

    A round still open is noted as not yet sealed; a round closed before seals existed is
    checked by replaying its `ballot` links (`replay`, `compare`). `groups` None: groups.csv
    was not given, so only the ballots are checked.

    Raises:
        KeyError / TypeError / ValueError: a link lacks the data its kind needs.
    """
    out = SealCheck()
    links = list(links)
    # Replaying checks the shape of every link the rounds depend on (opened rounds'
    # proposals, pre-seal ballot and segment links), so a malformed log fails here.
    replayed = replay(links)
    opened: set[str] = set()
    closed: dict[str, Mapping[str, Any]] = {}
    resealed: dict[str, Mapping[str, Any]] = {}
    versions: dict[str, int] = {}
    for link in links:
        kind, data = link["kind"], link["data"]
        if kind == "round.opened":
            opened.add(str(data["round"]))
        elif kind == "round.closed":
            closed[str(data["round"])] = data
        elif kind == "round.reopened":  # open again: its next `round.closed` is its seal
            closed.pop(str(data["round"]), None)
        elif kind == "round.sealed":
            resealed[str(data["round"])] = data
        elif kind == "ballot":
            rnd = str(data["round"])
            versions[rnd] = versions.get(rnd, 0) + 1
    ballot_rounds: dict[str, list[BallotRow]] = {}
    for row in ballots:
        ballot_rounds.setdefault(row.round, []).append(row)
    group_rounds: dict[str, list[GroupRow]] = {}
    for g in groups or ():
        group_rounds.setdefault(g.round, []).append(g)
    legacy: set[str] = set()
    names = set(opened) | set(closed) | set(ballot_rounds) | set(group_rounds) | set(versions)
    for rnd in sorted(names, key=int_or):
        where = f"round {rnd}"
        seal = closed.get(rnd)
        rows = ballot_rounds.get(rnd, [])
        totals = None if groups is None else group_rounds.get(rnd, [])
        if rnd not in opened:
            # A ballot link or a file row for a round the log never opened is a forged or
            # spliced entry, whichever file it is in.
            found = "ballot links in the log" if rnd in versions else "rows in the files"
            out.problems.append(f"{where}: {found}, but the log never opened it")
        elif seal is None:
            if rnd in ballot_rounds or rnd in group_rounds:
                out.notes.append(f"{where} is open: not yet sealed, its rows are not checked")
        elif "ballots_sha256" in seal:
            differences = _against_seal(where, rows, totals, seal, versions.get(rnd, 0))
            out.problems += differences
            out.sealed += not differences
        elif rnd in resealed and not _against_seal(
            where, rows, totals, resealed[rnd], versions.get(rnd, 0)
        ):
            # Closed before seals existed and sealed at the upgrade (`round.sealed`): today's
            # exports match that seal; the round's original exports are checked by replay.
            out.sealed += 1
        else:
            legacy.add(rnd)
    if legacy:
        replayed = [r for r in replayed if r.round in legacy]
        exported = [r for r in ballots if r.round in legacy]
        out.problems += compare(replayed, exported)
    return out


def _against_seal(
    where: str,
    rows: Sequence[BallotRow],
    groups: Sequence[GroupRow] | None,
    seal: Mapping[str, Any],
    versions: int,
) -> list[str]:
    """How a round's published rows differ from its seal (empty: they match). `groups` None:
    groups.csv was not given, so its seal is not checked."""
    problems = []
    voters = len({r.voter for r in rows})
    if voters != seal["ballots"]:
        problems.append(f"{where}: {voters} ballots in the ballot file, {seal['ballots']} sealed")
    if anonymity.seal(ballot_cells(rows)) != seal["ballots_sha256"]:
        problems.append(
            f"{where}: the ballot file's rows do not match the round's seal "
            "(a row was changed, added or removed)"
        )
    if groups is not None and anonymity.seal(group_cells(groups)) != seal["groups_sha256"]:
        problems.append(
            f"{where}: the group totals' rows do not match the round's seal "
            "(a row was changed, added or removed)"
        )
    if versions < seal["ballots"]:
        problems.append(
            f"{where}: {seal['ballots']} ballots sealed but only {versions} ballot versions logged"
        )
    return problems
