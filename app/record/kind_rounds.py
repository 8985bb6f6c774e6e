"""Rounds of every activity kind in the public record: what `covote recount` needs to count a
round that is not a room vote from the exported files, without a database.

Pure: the audit log's links, the meeting and survey files and the ballot rows in, counts out.

A round's kind is named by its `round.opened` link (`kind`; a room vote's link has none, as
before kinds existed), with the items it opened on (`proposals`). The kind's offline hook
(`ActivityKind.offline`, app/voting/activity.py) turns that into an `OfflineRound`: every
item key a row of the round may answer, with its scale (what `csvfiles.read_ballot_csv`
checks each row against), and the items the result lists, in order. The count is the one
the server's kind makes: `answers.count_answers` (app/rules/answers.py) over each voter's
answers, after the kind's `rewrite` (a Lab round's merged ideas counted for their targets).

A Lab round's items change while it runs (app/voting/lab_round.py): ideas approved join it, ideas
hidden, sent back or merged leave it, and its result lists the ideas still approved when the
record is read. Every one of those changes is an audit link (`lab.approved`, `lab.hidden`,
`lab.restored`, `lab.merged`), so `lab_round` replays them.

A charter round (issue 17) is read against the charter version in force when it opened: the
last `charter.saved` link before its `round.opened` names that version's sha256
(`charter_saved`), so the charter file given to the recount must be that one; its block share
is the last `charter.rule` link's (`charter_block_percent`: it cannot change once a charter
round has answers). Its record adds the decisions (`OfflineRound.charter`), counted from the
ballot rows and the groups CSV's totals (`charter_files.tabulate`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.core.shapes import (
    AnswersRecord,
    CharterRecord,
    CharterResults,
    ReviewRecord,
    ReviewResults,
)
from app.record import charter_files, review_files
from app.record.csvfiles import BallotRow
from app.record.records import MeetingFile
from app.rules import answers
from app.rules import charter_doc as cd
from app.rules.charter import DEFAULT_BLOCK_PERCENT, CharterRule, Consent
from app.rules.charter_count import ConsentBallot
from app.rules.charter_review import RATING_SCALE, Rating, scorecard
from app.rules.scales import AnswerScale
from app.rules.survey import Survey

Answers = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Opened:
    """A round the log opened as another kind: its `kind` key and the items it opened on."""

    round: str
    kind: str
    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CharterFiles:
    """A charter round's public files, read (`covote recount --charter N ...`): the charter
    version it asked with the sha256 of its text, its consent CSV's ballots and its groups
    CSV's rows, and their file names (for messages)."""

    charter: cd.Charter
    sha256: str
    consent: Sequence[ConsentBallot]
    groups: Sequence[charter_files.GroupRow]
    charter_name: str = "charter.json"
    consent_name: str = "consent.csv"
    groups_name: str = "groups.csv"


@dataclass(frozen=True, slots=True)
class PublicFiles:
    """What an offline hook may read: the meeting file, the survey file (None: not given),
    the audit log's links (already verified: `chain.verify`) and each charter round's files
    by round number (those given)."""

    meeting: MeetingFile
    survey: Survey | None
    links: Sequence[Mapping[str, Any]]
    charters: Mapping[str, CharterFiles] = field(default_factory=dict)
    # Each charter review round's charter version (`covote recount --review N CHARTER`).
    reviews: Mapping[str, cd.Charter] = field(default_factory=dict)


def _same(ballot: Answers) -> Answers:
    return ballot


@dataclass(frozen=True, slots=True)
class OfflineRound:
    """How to count one round of another kind from its ballot rows.

    `scales`: every item a row may answer, with its scale (more than `items` where the file
    keeps answers the result moves or drops, like a Lab's merged ideas). `items`: the items
    the result lists, in order, each with its scale. `rewrite`: a voter's answers as the kind
    counts them (by default as written). `charter`: a charter round's decisions from its rows
    (its record's `charter` key), None for any other kind. `review`: a charter review round's
    scorecard from its rows (its record's `review` key; the counts of the commitments it
    suppresses are left out of `answers`), None for any other kind."""

    kind: str
    scales: Mapping[str, AnswerScale]
    items: Sequence[tuple[str, AnswerScale]]
    rewrite: Callable[[Answers], Answers] = field(default=_same)
    charter: Callable[[Sequence[BallotRow]], CharterResults] | None = None
    review: Callable[[Sequence[BallotRow]], ReviewResults] | None = None

    def record(self, rows: Sequence[BallotRow]) -> AnswersRecord | CharterRecord | ReviewRecord:
        """The round's results.json entry (without `round`): each answer's count per item,
        and a charter round's decisions after them.

        Raises:
            ValueError: a voter answers an item twice, or an answer the items do not take;
                a charter round's files disagree with its rows (`charter_round`).
        """
        ballots: dict[str, dict[str, str]] = {}
        for row in rows:
            mine = ballots.setdefault(row.voter, {})
            if row.proposal in mine:
                raise ValueError(f"voter {row.voter!r} answered {row.proposal!r} twice")
            mine[row.proposal] = str(row.mark)
        counted = answers.count_answers(self.items, [self.rewrite(b) for b in ballots.values()])
        if self.review is not None:
            card = self.review(rows)
            shown = review_files.shown_answers(counted, card)
            return {"answers": answers.answers_to_json(shown)["answers"], "review": card}
        record = answers.answers_to_json(counted)
        if self.charter is None:
            return record
        return {"answers": record["answers"], "charter": self.charter(rows)}


def opened_kinds(links: Iterable[Mapping[str, Any]]) -> dict[str, Opened]:
    """Every round the log opened as another kind than a room vote, by round number.

    Raises:
        KeyError / TypeError: a `round.opened` link lacks its round or proposals.
    """
    found: dict[str, Opened] = {}
    for link in links:
        data = link["data"]
        if link["kind"] == "round.opened" and "kind" in data:
            n = str(data["round"])
            found[n] = Opened(n, str(data["kind"]), tuple(str(k) for k in data["proposals"]))
    return found


def saved_survey(links: Iterable[Mapping[str, Any]]) -> str | None:
    """The sha256 of the survey file the log saved last (`survey.saved`), or None.

    Raises:
        KeyError / TypeError: a `survey.saved` link lacks its hash.
    """
    found = None
    for link in links:
        if link["kind"] == "survey.saved":
            found = str(link["data"]["sha256"])
    return found


# The Lab's moderation links and the status each leaves an idea in (lab.py `_STATUS_LINKS`).
_LAB_STATUS = {
    "lab.approved": "approved",
    "lab.hidden": "hidden",
    "lab.restored": "pending",
    "lab.merged": "merged",
}


@dataclass(frozen=True, slots=True)
class LabRound:
    """A Lab round as the log tells it: `items`, the ideas its result lists (those in the
    round when the log ends that are still approved, in the round's order); `ideas`, every
    idea the log names (a ballot row may rate any: the ballot path keeps ratings as cast);
    `into`, each merged idea's key -> the idea it now counts for."""

    items: tuple[str, ...]
    ideas: tuple[str, ...]
    into: Mapping[str, str]


def lab_round(links: Iterable[Mapping[str, Any]], number: str) -> LabRound:
    """Replay the log for Lab round `number`: it opens on its `round.opened` proposals; while
    it is open (until `round.closed` or `round.voided`, again after `round.reopened`) an idea
    approved joins it at the end and an idea hidden, sent back or merged leaves it
    (`lab_round.join_open_round`, `lab_round.leave_open_round`). Merges are kept flat, as
    `lab_moderation.merge` keeps them: ideas merged into one that is merged later follow it.

    Raises:
        KeyError / TypeError: a link lacks its data.
    """
    keys: dict[str, None] = {}  # an ordered set: a long log stays linear
    is_open = False
    status: dict[str, str] = {}
    merged: dict[str, str] = {}  # each merged idea -> the idea it was merged into then
    for link in links:
        kind, data = link["kind"], link["data"]
        if kind.startswith("round.") and "round" in data and str(data["round"]) == number:
            if kind == "round.opened":
                keys, is_open = dict.fromkeys(str(k) for k in data["proposals"]), True
                status.update((k, status.get(k, "approved")) for k in keys)
            elif kind in ("round.closed", "round.voided"):
                is_open = False
            elif kind == "round.reopened":
                is_open = True
        elif kind in _LAB_STATUS:
            idea = str(data["idea"])
            status[idea] = _LAB_STATUS[kind]
            if kind == "lab.merged":
                merged[idea] = str(data["into"])
                status.setdefault(merged[idea], "approved")
            if is_open and kind == "lab.approved":
                keys.setdefault(idea)
            elif is_open:
                keys.pop(idea, None)
    items = tuple(k for k in keys if status.get(k) == "approved")
    return LabRound(items, tuple(status), _flat(merged))


def _flat(merged: Mapping[str, str]) -> dict[str, str]:
    """Each merged idea -> the idea its merges end at (`lab_moderation.merge` re-points ideas
    merged into one that is merged later). A cycle, which no log Covote writes has, ends where
    it repeats."""
    into: dict[str, str] = {}
    for source in merged:
        path: dict[str, None] = {}
        node = source
        while node in merged and node not in into and node not in path:
            path[node] = None
            node = merged[node]
        end = node if node in path else into.get(node, node)
        into.update(dict.fromkeys(path, end))  # each idea resolved once: linear in the merges
    return into


def merged_ratings(marks: Answers, into: Mapping[str, str]) -> dict[str, str]:
    """One voter's ratings with merged ideas' counting for their targets: a rating of a merged
    idea moves to the idea it was merged into unless the voter rated that one too (then the
    target's own rating stands). The order of `marks` does not matter."""
    kept = {k: v for k, v in marks.items() if k not in into}
    for key in sorted(k for k in marks if k in into):
        kept.setdefault(into[key], marks[key])
    return kept


def charter_saved(links: Iterable[Mapping[str, Any]], number: str) -> str | None:
    """The sha256 of the charter version in force when round `number` opened: the last
    `charter.saved` link before its `round.opened` (None: no charter was saved before it).

    Raises:
        KeyError / TypeError: a link lacks its data.
    """
    found = None
    for link in links:
        kind, data = link["kind"], link["data"]
        if kind == "charter.saved":
            found = str(data["sha256"])
        elif kind == "round.opened" and str(data["round"]) == number:
            return found
    return None


def charter_seal(links: Iterable[Mapping[str, Any]], number: str) -> str | None:
    """The seal of charter round `number`'s groups CSV (`charter_groups_sha256`) in its last
    `round.closed` or `round.sealed` link; None while it is open (reopened), or sealed
    without one.

    Raises:
        KeyError / TypeError: a link lacks its round.
    """
    found = None
    for link in links:
        kind, data = link["kind"], link["data"]
        if kind in ("round.closed", "round.sealed") and str(data["round"]) == number:
            sealed = data.get("charter_groups_sha256")
            found = None if sealed is None else str(sealed)
        elif kind == "round.reopened" and str(data["round"]) == number:
            found = None  # open again: its next `round.closed` is its seal
    return found


def charter_block_percent(links: Iterable[Mapping[str, Any]]) -> int:
    """The block share the log set last (`charter.rule`), or the default.

    Raises:
        KeyError / TypeError / ValueError: a `charter.rule` link lacks its share.
    """
    found = DEFAULT_BLOCK_PERCENT
    for link in links:
        if link["kind"] == "charter.rule":
            found = int(link["data"]["block_percent"])
    return found


def charter_round(
    number: str, files: CharterFiles, rule: CharterRule
) -> Callable[[Sequence[BallotRow]], CharterResults]:
    """What counts charter round `number`'s decisions from its ballot rows: the rows must be
    the consent CSV's answers exactly (the rows are sealed in the audit log; the consent CSV is
    what `covote charter tabulate` reads), the affected groups from the groups CSV's totals.

    The returned function raises ValueError when the consent CSV and the rows differ, or the
    groups' totals contradict the answers (`charter_files.tabulate`)."""

    def decide(rows: Sequence[BallotRow]) -> CharterResults:
        given: dict[str, dict[str, str]] = {}
        for row in rows:
            given.setdefault(row.voter, {})[row.proposal] = str(row.mark)
        published = {b.voter: {k: v.value for k, v in b.answers.items()} for b in files.consent}
        if given != published:
            voter = min(
                v for v in given.keys() | published.keys() if given.get(v) != published.get(v)
            )
            raise ValueError(
                f"{files.consent_name} is not round {number}'s ballots: voter {voter!r} answers "
                f"differently in it"
            )
        ballots = [
            ConsentBallot(voter, frozenset(), {k: Consent(v) for k, v in marks.items()})
            for voter, marks in given.items()
        ]
        decided = charter_files.tabulate(files.charter, ballots, rule, files.groups)
        return charter_files.results_json(decided, rule)

    return decide


def review_round(
    charter: cd.Charter, keys: Sequence[str], group_min: int
) -> tuple[list[tuple[str, AnswerScale]], Callable[[Sequence[BallotRow]], ReviewResults]]:
    """A charter review round's items (the commitments of `keys`, the round's, that the charter
    version it asked has, in the round's order) and what scores it from its ballot rows: the
    scorecard (`charter_review.scorecard`) under the meeting's m, as results.json has it."""
    known = {c.key for c in charter.commitments}
    items: list[tuple[str, AnswerScale]] = [(k, RATING_SCALE) for k in keys if k in known]
    asked = frozenset(k for k, _ in items)
    mine = cd.Charter(
        charter.title,
        parties=charter.parties,
        commitments=tuple(c for c in charter.commitments if c.key in asked),
    )

    def score(rows: Sequence[BallotRow]) -> ReviewResults:
        ratings: dict[str, list[Rating]] = {k: [] for k, _ in items}
        for row in rows:
            if row.proposal in asked:
                ratings[row.proposal].append(Rating(str(row.mark)))
        return review_files.results_json(scorecard(mine, ratings, group_min), group_min)

    return items, score
