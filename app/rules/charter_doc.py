"""The Community Charter as a document: sections, clauses, parties and their commitments; the
readable difference between two drafts; draft commitments from a budget meeting and a lab.

Pure (plain values in and out). The files (`covote-charter/1` JSON and Markdown) are
app/record/charter_file.py; the adoption rule is app/rules/charter.py, the review scorecard
app/rules/charter_review.py.

Keys are short ids (`KEY`) that never change once a draft is shared: a clause keeps its key
when it is reworded or moved, which is what lets `diff` say "reworded" rather than "removed
and added", and lets consent answers and review ratings name it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from app.core.shapes import RoundRecord
from app.rules.charter import AmendmentStatus
from app.rules.charter_count import ClauseDecision, ClauseVote

KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")  # a section's, clause's, party's or commitment's key
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # by_when: an ISO date (is_date checks it)
MAX_TEXT = 1000  # a clause is a sentence or a short paragraph, never a chapter
MAX_NAME = 200  # titles and names fit a projector line (records.MAX_TITLE)
MAX_SECTIONS = 50
MAX_CLAUSES = 300  # in the whole charter: a long evening at one minute a clause
MAX_PARTIES = 100
MAX_REPRESENTATIVES = 20
MAX_COMMITMENTS = 1000
MAX_VERSION = 1_000_000


def is_date(value: str) -> bool:
    """True for a real calendar date written YYYY-MM-DD (2027-02-29 is not one)."""
    if not DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


class PartyKind(StrEnum):
    """Who signs the charter."""

    COUNCIL = "council"
    PROVIDER = "provider"
    COMMUNITY = "community"
    RESIDENTS = "residents"


class SourceKind(StrEnum):
    """Where a commitment came from."""

    DRAFTED = "drafted"  # typed by the drafters
    BUDGET = "budget"  # a budget meeting's funded or protected proposal (`ref`: its id)
    LAB = "lab"  # a lab's pledges, as a count of people (`ref`: the pledge's id)


@dataclass(frozen=True, slots=True)
class Source:
    """A commitment's origin. A lab's pledges are carried as a count (`pledges`), never names."""

    kind: SourceKind = SourceKind.DRAFTED
    ref: str = ""
    pledges: int | None = None


@dataclass(frozen=True, slots=True)
class Amendment:
    """Another wording of a clause, proposed from the floor; once the moderator accepts it, it
    is answered beside the original in the same round (its key is the item the answers name)."""

    key: str
    text: str
    text_cy: str = ""
    status: AmendmentStatus = AmendmentStatus.PROPOSED


@dataclass(frozen=True, slots=True)
class Clause:
    key: str
    text: str
    text_cy: str = ""
    affected_groups: tuple[str, ...] = ()  # segment ids that may block it (charter.ClauseVote)
    amendments: tuple[Amendment, ...] = ()


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    title: str
    title_cy: str = ""
    clauses: tuple[Clause, ...] = ()


@dataclass(frozen=True, slots=True)
class Party:
    key: str
    name: str
    kind: PartyKind
    name_cy: str = ""
    representatives: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Commitment:
    """What a party will do (`what`), by when (an ISO date) and how it will be measured; `clause`
    is the clause it serves ("" for none yet)."""

    key: str
    party: str
    what: str
    what_cy: str = ""
    clause: str = ""
    by_when: str = ""
    measure: str = ""
    measure_cy: str = ""
    source: Source = field(default_factory=Source)


@dataclass(frozen=True, slots=True)
class Charter:
    title: str
    title_cy: str = ""
    version: int = 1
    sections: tuple[Section, ...] = ()
    parties: tuple[Party, ...] = ()
    commitments: tuple[Commitment, ...] = ()

    def clauses(self) -> tuple[Clause, ...]:
        """Every clause, in document order."""
        return tuple(c for s in self.sections for c in s.clauses)


def problems(charter: Charter) -> list[str]:
    """What is wrong with a charter beyond each field's own form: repeated keys, and
    commitments naming a party or clause it does not have. Empty: none."""
    found: list[str] = []

    def unique(what: str, keys: Sequence[str]) -> None:
        for i, k in enumerate(keys):
            if k in keys[:i]:
                found.append(f"{what}: the key {k!r} is used twice")

    unique("sections", [s.key for s in charter.sections])
    clause_keys = [c.key for c in charter.clauses()]
    unique(
        "clauses and amendments",
        [*clause_keys, *(a.key for c in charter.clauses() for a in c.amendments)],
    )
    party_keys = [p.key for p in charter.parties]
    unique("parties", party_keys)
    unique("commitments", [c.key for c in charter.commitments])
    if len(clause_keys) > MAX_CLAUSES:
        found.append(f"clauses: at most {MAX_CLAUSES} in a charter, not {len(clause_keys)}")
    for i, c in enumerate(charter.commitments):
        if c.party not in party_keys:
            found.append(f"commitments[{i}].party: no party {c.party!r}")
        if c.clause and c.clause not in clause_keys:
            found.append(f"commitments[{i}].clause: no clause {c.clause!r}")
    return found


def clause_votes(charter: Charter, keys: Sequence[str]) -> list[ClauseVote]:
    """What a consent round on the clauses `keys` puts to the room: each with its accepted
    amendments, in the charter's order (keys it does not have are ignored)."""
    return [
        ClauseVote(
            c.key,
            tuple(a.key for a in c.amendments if a.status is AmendmentStatus.ACCEPTED),
            c.affected_groups,
        )
        for c in charter.clauses()
        if c.key in keys
    ]


# --- drafts from other meetings ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BudgetItem:
    """A budget meeting's proposal that was funded or protected (the caller picks those)."""

    id: str
    title: str
    title_cy: str = ""


def _keys(prefix: str, ids: Sequence[str], taken: Collection[str]) -> list[str]:
    """A commitment key per outside id (`prefix-` + the id made a KEY: lowercase, other
    characters as `-`, cut to fit), made distinct with `-2`, `-3`... when two come out alike
    or the charter has it already (`taken`)."""
    out: list[str] = []
    for i in ids:
        slug = re.sub(r"[^a-z0-9_-]+", "-", i.lower()).strip("-") or "item"
        key = f"{prefix}-{slug}"[:32].rstrip("-")
        n = 1
        while key in out or key in taken:
            n += 1
            key = f"{prefix}-{slug}"[: 31 - len(str(n))].rstrip("-") + f"-{n}"
        out.append(key)
    return out


def budget_items(record: RoundRecord, titles: Mapping[str, tuple[str, str]]) -> list[BudgetItem]:
    """A budget round's funded proposals (its record's `funded`) and PROTECTED ones, in the
    round's order, titled from `titles` ({id: (English, Welsh)}; the id when missing)."""
    funded = set(record.get("funded", []))
    return [
        BudgetItem(p["id"], *titles.get(p["id"], (p["id"], "")))
        for p in record["proposals"]
        if p["id"] in funded or p["category"] == "PROTECTED"
    ]


def from_budget(
    items: Sequence[BudgetItem], party: str, *, clause: str = "", taken: Collection[str] = ()
) -> list[Commitment]:
    """Draft commitments for `party` from a budget meeting's funded and protected proposals:
    one each, keyed `budget-<id>` (not one of `taken`), worded as the proposal's title, to be
    edited."""
    return [
        Commitment(
            key=key,
            party=party,
            what=i.title,
            what_cy=i.title_cy,
            clause=clause,
            source=Source(SourceKind.BUDGET, i.id),
        )
        for key, i in zip(_keys("budget", [i.id for i in items], taken), items, strict=True)
    ]


def from_pledges(
    pledges: Mapping[str, tuple[str, int]],
    party: str,
    *,
    clause: str = "",
    taken: Collection[str] = (),
) -> list[Commitment]:
    """Draft commitments for `party` (usually the residents) from a lab's pledges: `{pledge id:
    (what, how many pledged)}`, by id. Only the count is carried: a charter names no resident."""
    pledged = [(pid, what, count) for pid, (what, count) in sorted(pledges.items()) if count > 0]
    return [
        Commitment(
            key=key, party=party, what=what, clause=clause, source=Source(SourceKind.LAB, pid, n)
        )
        for key, (pid, what, n) in zip(
            _keys("lab", [p[0] for p in pledged], taken), pledged, strict=True
        )
    ]


# --- the difference between two drafts --------------------------------------------------------


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    REWORDED = "reworded"  # same key, other text (English or Welsh)
    MOVED = "moved"  # same key, another section or out of order in its own
    CHANGED = "changed"  # a party or commitment whose fields differ


class Op(StrEnum):
    """A piece of a word-level diff."""

    SAME = "same"
    DELETED = "deleted"
    INSERTED = "inserted"


Words = tuple[tuple[Op, str], ...]


@dataclass(frozen=True, slots=True)
class Change:
    """One difference: what kind of thing (`section`, `clause`, `party`, `commitment`), its key,
    the kind of change, and word-level diffs of its English and Welsh text (empty when the
    text did not change)."""

    thing: str
    key: str
    kind: ChangeKind
    words: Words = ()
    words_cy: Words = ()


def word_diff(old: str, new: str) -> Words:
    """`old` → `new` word by word (spaces as separators): runs of same, deleted and inserted."""
    a, b = old.split(), new.split()
    out: list[tuple[Op, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append((Op.SAME, " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append((Op.DELETED, " ".join(a[i1:i2])))
        if j2 > j1:
            out.append((Op.INSERTED, " ".join(b[j1:j2])))
    return tuple(out)


def _place(charter: Charter) -> dict[str, tuple[str, int]]:
    return {c.key: (s.key, i) for s in charter.sections for i, c in enumerate(s.clauses)}


def diff(old: Charter, new: Charter) -> tuple[Change, ...]:
    """How `new` differs from `old`: sections, then clauses (in `new`'s order, removed ones
    after), amendments, clauses moved, then parties and commitments. Things are matched by key;
    an amendment's status is not a change of the draft (the round's results record it)."""
    changes: list[Change] = []

    def texts(
        thing: str, before: Mapping[str, tuple[str, str]], after: Mapping[str, tuple[str, str]]
    ) -> None:
        for key, (en, cy) in after.items():
            if key not in before:
                changes.append(Change(thing, key, ChangeKind.ADDED, word_diff("", en)))
            elif before[key] != (en, cy):
                was_en, was_cy = before[key]
                words = word_diff(was_en, en) if was_en != en else ()
                words_cy = word_diff(was_cy, cy) if was_cy != cy else ()
                changes.append(Change(thing, key, ChangeKind.REWORDED, words, words_cy))
        for key, (en, _) in before.items():
            if key not in after:
                changes.append(Change(thing, key, ChangeKind.REMOVED, word_diff(en, "")))

    texts(
        "section",
        {s.key: (s.title, s.title_cy) for s in old.sections},
        {s.key: (s.title, s.title_cy) for s in new.sections},
    )
    before = len(changes)
    texts(
        "clause",
        {c.key: (c.text, c.text_cy) for c in old.clauses()},
        {c.key: (c.text, c.text_cy) for c in new.clauses()},
    )
    new_or_gone = {c.key for c in changes[before:] if c.kind is not ChangeKind.REWORDED}
    texts(
        "amendment",
        {a.key: (a.text, a.text_cy) for c in old.clauses() for a in c.amendments},
        {a.key: (a.text, a.text_cy) for c in new.clauses() for a in c.amendments},
    )
    changes += [
        Change("clause", key, ChangeKind.MOVED)
        for key in _moved(old, new)
        if key not in new_or_gone
    ]
    for thing, a, b in (
        ("party", {p.key: p for p in old.parties}, {p.key: p for p in new.parties}),
        ("commitment", {c.key: c for c in old.commitments}, {c.key: c for c in new.commitments}),
    ):
        for key, value in b.items():
            if key not in a:
                changes.append(Change(thing, key, ChangeKind.ADDED))
            elif a[key] != value:
                changes.append(Change(thing, key, ChangeKind.CHANGED, *_field_words(a[key], value)))
        changes += [Change(thing, key, ChangeKind.REMOVED) for key in a if key not in b]
    return tuple(changes)


def _moved(old: Charter, new: Charter) -> list[str]:
    """The clauses both drafts have that moved, in `new`'s order: put in another section, or out
    of order among the clauses their section has in both (those outside the common order
    difflib finds), so adding or removing others moves nothing."""
    was, now = _place(old), _place(new)
    moved = {k for k in now if k in was and was[k][0] != now[k][0]}
    for s in new.sections:
        stayed = [c.key for c in s.clauses if c.key in was and was[c.key][0] == s.key]
        before = sorted(stayed, key=lambda k: was[k][1])
        matcher = difflib.SequenceMatcher(None, before, stayed, autojunk=False)
        in_order = {
            k for blk in matcher.get_matching_blocks() for k in stayed[blk.b : blk.b + blk.size]
        }
        moved |= set(stayed) - in_order
    return [k for k in now if k in moved]


def _field_words(a: Party | Commitment, b: Party | Commitment) -> tuple[Words, Words]:
    if isinstance(a, Party) and isinstance(b, Party):
        return word_diff(a.name, b.name), word_diff(a.name_cy, b.name_cy)
    assert isinstance(a, Commitment) and isinstance(b, Commitment)
    return word_diff(a.what, b.what), word_diff(a.what_cy, b.what_cy)


def adopt(charter: Charter, decisions: Sequence[ClauseDecision]) -> Charter:
    """The next version of the draft after a consent round: each clause whose adopted wording
    is an amendment takes its text (English and Welsh); every decided clause's amendments are
    cleared (they were answered). Clauses sent back or adopted as worded keep their text.

    Raises:
        ValueError: a decision about a clause the charter does not have, or adopting a wording
            that is neither the clause nor one of its amendments.
    """
    by_clause = {d.clause: d for d in decisions}
    known = {c.key for c in charter.clauses()}
    if unknown := sorted(set(by_clause) - known):
        raise ValueError(f"decisions about clauses the charter does not have: {unknown}")

    def next_clause(c: Clause) -> Clause:
        d = by_clause.get(c.key)
        if d is None:
            return c
        if d.adopted is None or d.adopted == c.key:
            return replace(c, amendments=())
        chosen = next((a for a in c.amendments if a.key == d.adopted), None)
        if chosen is None:
            raise ValueError(f"{d.adopted!r} is not a wording of clause {c.key!r}")
        return replace(c, text=chosen.text, text_cy=chosen.text_cy, amendments=())

    sections = tuple(
        replace(s, clauses=tuple(next_clause(c) for c in s.clauses)) for s in charter.sections
    )
    return replace(charter, version=charter.version + 1, sections=sections)


def render_words(words: Words) -> str:
    """A word diff as text: deletions in [-…-], insertions in {+…+} (as `git diff --word-diff`)."""
    marks = {Op.SAME: "{}", Op.DELETED: "[-{}-]", Op.INSERTED: "{{+{}+}}"}
    return " ".join(marks[op].format(text) for op, text in words)


def render_diff(old: Charter, new: Charter, changes: Sequence[Change]) -> str:
    """The changes as lines people read (English; the console words them in both languages)."""
    lines = [f"{old.title}: version {old.version} → version {new.version}"]
    if not changes:
        lines.append("No changes.")
    for c in changes:
        lines.append(f"{c.thing} {c.key}: {c.kind.value}")
        if c.words and any(op is not Op.SAME for op, _ in c.words):
            lines.append(f"  {render_words(c.words)}")
        if c.words_cy and any(op is not Op.SAME for op, _ in c.words_cy):
            lines.append(f"  cy: {render_words(c.words_cy)}")
    return "\n".join(lines) + "\n"
