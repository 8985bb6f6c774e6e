"""Pabulib `.pb` files: read and write approval elections, and recount them with MES.

The format (https://pabulib.org/format) is UTF-8 text in three sections, each a title line
(`META`, `PROJECTS`, `VOTES`), a header line and rows, cells separated by `;`:

    META                       PROJECTS                      VOTES
    key;value                  project_id;cost;name;...      voter_id;vote;...
    description;...            1;600;Park                    v1;1,2
    budget;2500                2;800;Library                 v2;
    vote_type;approval
    ...

Contract:

* Pure: text in, values out; the caller does the file I/O.
* `read_pb` accepts what published files contain: spaces around cells, a byte order mark,
  quoted cells, blank lines, extra columns (ignored), a decimal comma in amounts ("8000,0", as
  pabutools reads it; "1,000" is refused as ambiguous). It refuses, with `file:line: reason`
  for every problem (`records.RecordError`): missing or misordered sections, a META header
  other than `key;value`, a missing or negative budget, a vote type other than approval
  (`choose-1` is approval too), duplicate or unknown ids, a bad cost, `num_projects` or
  `num_votes` that do not match the rows.
* A `.pb` file has no drawn tie-break order: the PROJECTS order is used as one. Covote's own
  export lists the projects in the meeting's drawn order, so a recount ties the same way.
* `recount_pb` runs `app.rules.budget.equal_shares` (with the chosen completion) and `greedy` over
  every voter of the file, including those who approve nothing (they count in n), and returns
  the same record as a budget round: `budget_to_json` with the per-project list as `funding`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction

from app.core.inputs import MAX_NUMBER_DIGITS
from app.core.shapes import FundingKeys
from app.record.csvfiles import neutralise, restore
from app.record.records import Problems
from app.rules import budget as mes

SECTIONS = ("meta", "projects", "votes")
APPROVAL_TYPES = ("approval", "choose-1")
_AMOUNT = re.compile(r"[0-9]+(?:[.,][0-9]+)?|[0-9]*[.,][0-9]+")


@dataclass(frozen=True, slots=True)
class Project:
    """A PROJECTS row: `cost` exact; `votes` (approvals) and `selected` (1 funded, 0 not) are
    optional columns that `write_pb` writes when given."""

    id: str
    cost: Fraction
    name: str = ""
    votes: int | None = None
    selected: int | None = None


@dataclass(frozen=True, slots=True)
class Election:
    """An approval election read from a `.pb` file: META as written, projects in file order."""

    meta: dict[str, str]
    budget: Fraction
    projects: tuple[Project, ...]
    voters: tuple[tuple[str, frozenset[str]], ...]  # (voter_id, approved project ids)


def _rows(text: str, p: Problems) -> list[tuple[int, list[str]]]:
    """`(first line, stripped cells)` of every non-blank row."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=";")
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            stripped = [c.strip() for c in cells]
            if any(stripped):
                rows.append((start, stripped))
            start = reader.line_num + 1
    except csv.Error as e:
        p.add(reader.line_num, f"malformed line: {e}")
    return rows


def parse_amount(cell: str) -> Fraction | None:
    """An amount cell ("2500", "8000,0", "12.50") exactly, or None if it is not one.

    A comma is a decimal comma (as pabutools reads it), except before exactly three digits:
    "1,000" could be a thousand or one, so it is refused rather than guessed.
    """
    if len(cell) > 2 * MAX_NUMBER_DIGITS:
        return None  # not an amount: an attack on the parser (int() refuses 4,300 digits)
    if not _AMOUNT.fullmatch(cell) or re.search(r",[0-9]{3}$", cell):
        return None
    return Fraction(cell.replace(",", "."))


def _bad_amount(name: str, cell: str, example: str) -> str:
    if re.fullmatch(r"[0-9]+,[0-9]{3}", cell):
        return f"{name}: {_q(cell)} is ambiguous (a thousands separator or a decimal comma?)"
    return f"{name}: must be an amount such as {example}, not {_q(cell)}"


def _q(value: str) -> str:
    """Quote a value from the file for a message, escaping what would confuse a terminal."""
    return json.dumps(value, ensure_ascii=False)


@dataclass
class _Section:
    line: int  # of the title
    header: list[str] | None = None
    header_line: int = 0
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


def read_pb(text: str, *, filename: str = "election.pb") -> Election:
    """Parse a Pabulib approval election.

    Raises:
        RecordError: every problem found, each with its line (see the module docstring).
    """
    p = Problems(filename)
    sections: dict[str, _Section] = {}
    target: _Section | None = None
    for line, cells in _rows(text, p):
        title = cells[0].lower()
        if title in SECTIONS and not any(cells[1:]):
            if title in sections:
                p.add(line, f"a second {title.upper()} section")
            elif any(SECTIONS.index(seen) > SECTIONS.index(title) for seen in sections):
                p.add(line, "sections must come in the order META, PROJECTS, VOTES")
            target = _Section(line)
            sections.setdefault(title, target)
        elif target is None:
            p.add(line, "a row before any section: a .pb file starts with META")
        elif target.header is None:
            target.header, target.header_line = cells, line
        else:
            target.rows.append((line, cells))
    for name in SECTIONS:
        if name not in sections:
            p.add(None, f"missing the {name.upper()} section")
    p.raise_if_any()

    lines, meta = _read_meta(sections["meta"], p)
    budget = _read_budget(lines, meta, sections["meta"].line, p)
    projects, listed = _read_projects(sections["projects"], p)
    voters = _read_votes(sections["votes"], listed, p)
    clean = not p.errors  # rows with problems were dropped: their counts would mislead
    for key, found, name in (
        ("num_projects", len(projects), "PROJECTS"),
        ("num_votes", len(voters), "VOTES"),
    ):
        if key in meta and clean:
            value = meta[key]
            if not (value.isascii() and value.isdigit() and len(value) <= MAX_NUMBER_DIGITS):
                p.add(lines[key], f"{key}: must be a whole number, not {_q(value)}")
            elif int(value) != found:
                p.add(lines[key], f"{key} is {value} but the {name} section has {found}")
    p.raise_if_any()
    assert budget is not None
    return Election(meta=meta, budget=budget, projects=tuple(projects), voters=tuple(voters))


def _read_meta(section: _Section, p: Problems) -> tuple[dict[str, int], dict[str, str]]:
    """META rows as ({key: line}, {key: value})."""
    if section.header is None or [h.lower() for h in section.header[:2]] != ["key", "value"]:
        p.add(section.header_line or section.line, 'the META header must be "key;value"')
    lines: dict[str, int] = {}
    values: dict[str, str] = {}
    for line, cells in section.rows:
        key, value = cells[0], restore(cells[1]) if len(cells) > 1 else ""
        if not key:
            p.add(line, "a META row without a key")
        elif key in lines:
            p.add(line, f"META key {_q(key)} is already set on line {lines[key]}")
        else:
            lines[key], values[key] = line, value
    return lines, values


def _read_budget(
    lines: dict[str, int], meta: dict[str, str], title_line: int, p: Problems
) -> Fraction | None:
    vote_type = meta.get("vote_type")
    if vote_type is None:
        p.add(title_line, "META has no vote_type (Covote recounts approval elections)")
    elif vote_type.lower() not in APPROVAL_TYPES:
        p.add(
            lines["vote_type"],
            f"vote_type is {_q(vote_type)}: Covote recounts approval elections only",
        )
    if "budget" not in meta:
        p.add(title_line, "META has no budget")
        return None
    budget = parse_amount(meta["budget"])
    if budget is None:
        p.add(lines["budget"], _bad_amount("budget", meta["budget"], "2500"))
    return budget


def _columns(section: _Section, required: Sequence[str], p: Problems) -> dict[str, int] | None:
    """Column positions by lower-cased name (the first of a repeated name), if the header has
    every required column."""
    if section.header is None:
        p.add(section.line, f"the section has no header line ({';'.join(required)})")
        return None
    cols: dict[str, int] = {}
    for i, name in enumerate(section.header):
        cols.setdefault(name.lower(), i)
    missing = [name for name in required if name not in cols]
    if missing:
        p.add(section.header_line, f"the header has no column {', '.join(map(_q, missing))}")
        return None
    return cols


def _read_projects(section: _Section, p: Problems) -> tuple[list[Project], set[str]]:
    """The valid projects, and every id the section lists (so that a vote for a project whose
    row has a problem is not reported a second time as unknown)."""
    cols = _columns(section, ("project_id", "cost"), p)
    if cols is None:
        return [], set()
    first: dict[str, int] = {}
    projects: list[Project] = []
    width = len(section.header or ())
    for line, cells in section.rows:
        cells = cells + [""] * (width - len(cells))
        pid, cost_cell = cells[cols["project_id"]], cells[cols["cost"]]
        bad = []
        if not pid:
            bad.append("project_id: must not be empty")
        elif "," in pid:
            bad.append(f"project_id: must not contain a comma, not {_q(pid)}")
        elif (seen := first.setdefault(pid, line)) != line:
            bad.append(f"project {_q(pid)} is already listed on line {seen}")
        cost = parse_amount(cost_cell)
        if cost is None:
            bad.append(_bad_amount("cost", cost_cell, "600"))
        for reason in bad:
            p.add(line, reason)
        if not bad:
            assert cost is not None
            name = restore(cells[cols["name"]]) if "name" in cols else ""
            projects.append(Project(pid, cost, name))
    return projects, set(first)


def _read_votes(
    section: _Section, known: set[str], p: Problems
) -> list[tuple[str, frozenset[str]]]:
    cols = _columns(section, ("voter_id", "vote"), p)
    if cols is None:
        return []
    first: dict[str, int] = {}
    voters: list[tuple[str, frozenset[str]]] = []
    width = len(section.header or ())
    for line, cells in section.rows:
        cells = cells + [""] * (width - len(cells))
        voter, vote = cells[cols["voter_id"]], cells[cols["vote"]]
        approved = [v.strip() for v in vote.split(",")] if vote else []
        bad = []
        if not voter:
            bad.append("voter_id: must not be empty")
        elif (seen := first.setdefault(voter, line)) != line:
            bad.append(f"voter {_q(voter)} already voted on line {seen}")
        for k, pid in enumerate(approved):
            if pid not in known:
                bad.append(f"vote: unknown project {_q(pid)}")
            elif pid in approved[:k]:
                bad.append(f"vote: project {_q(pid)} is listed twice")
        for reason in bad:
            p.add(line, reason)
        if not bad:
            voters.append((voter, frozenset(approved)))
    return voters


# --- writing -----------------------------------------------------------------------------

# The order pabulib's own files use; other keys follow in the order given.
META_ORDER = (
    *("description", "country", "unit", "subunit", "instance", "num_projects", "num_votes"),
    *("budget", "vote_type", "rule", "date_begin", "date_end", "language", "edition"),
    *("district", "currency", "comment"),
)
_RULES = {
    "add1": "equalshares/add1",
    "add1+greedy": "equalshares/add1+greedy",
    "none": "equalshares",
}
_CURRENCY_CODES = {"£": "GBP", "€": "EUR"}


def round_meta(
    *,
    title: str,
    number: int,
    opened: datetime,
    closed: datetime | None,
    currency: str,
    completion: mes.Completion,
    country: str = "United Kingdom",
) -> dict[str, str]:
    """META for a Covote round: the meeting as `unit`, the round as `instance`, its dates, the
    rule Covote ran, the currency as an ISO code when it is one (or £, €), and a comment saying
    what the votes are."""
    meta = {
        "description": f"{title}, round {number} (Covote)",
        "country": country,
        "unit": title,
        "instance": f"{opened:%Y} round {number}",
        "rule": _RULES[completion],
        "date_begin": f"{opened:%d.%m.%Y}",
        "date_end": f"{closed or opened:%d.%m.%Y}",
    }
    code = _CURRENCY_CODES.get(currency, currency)
    if re.fullmatch("[A-Z]{3}", code):
        meta["currency"] = code
    meta["comment"] = (
        "#1: Exported by Covote from a room vote. The projects are the fund proposals that the "
        "minority-protection rule left eligible, in the meeting's drawn tie-break order. A vote "
        "lists the projects a voter marked WANT (empty: none of them, and the voter still counts "
        "in the equal shares). selected: funded by the Method of Equal Shares "
        f"(completion {completion})."
    )
    return meta


def format_amount(x: Fraction) -> str:
    """An amount for a `.pb` cell: "2500" or "12.5" (a decimal point, never a comma)."""
    written = mes.amount_to_json(x)
    if isinstance(written, str) and "/" in written:
        raise ValueError(f"{x} has no finite decimal form for a .pb file")
    return str(written)


def one_line(text: str) -> str:
    """`text` with every line break (as `str.splitlines` sees them: pabutools splits the file
    that way before reading cells, so a quoted cell must not contain one) made a space."""
    return " ".join(text.splitlines()) if text else text


def write_pb(
    meta: Mapping[str, str],
    budget: Fraction,
    projects: Sequence[Project],
    voters: Sequence[tuple[str, Sequence[str]]],
) -> str:
    """A `.pb` approval election. META gets `meta` (description, country, unit, instance,
    rule, ...) with num_projects, num_votes, budget and vote_type filled in; PROJECTS has
    `project_id;cost;votes;name;selected` (votes and selected only when every project has
    them); VOTES `voter_id;vote`. Names and META values are written on one line (`one_line`);
    ids must be unique, non-empty and free of commas and line breaks."""
    ids = [pr.id for pr in projects]
    if len(set(ids)) != len(ids) or any(
        "," in pid or one_line(pid) != pid or not pid for pid in ids
    ):
        raise ValueError(f"project ids must be unique, non-empty and without commas: {ids}")
    for voter, approved in voters:
        if not set(approved) <= set(ids):
            raise ValueError(f"voter {voter!r} approves unknown projects")
    given = {k: one_line(v) for k, v in meta.items()}
    given.update(
        num_projects=str(len(projects)),
        num_votes=str(len(voters)),
        budget=format_amount(budget),
        vote_type="approval",
    )
    full = {k: given[k] for k in META_ORDER if k in given}
    full.update({k: v for k, v in given.items() if k not in full})
    buf = io.StringIO()
    out = csv.writer(buf, delimiter=";", lineterminator="\n")
    out.writerow(["META"])
    out.writerow(["key", "value"])
    # Free texts (META values, names) are spreadsheet-safe (csvfiles.neutralise), stripped first
    # as the reader strips every cell; ids and votes stay as Pabulib tools expect them.
    out.writerows((key, neutralise(value.strip())) for key, value in full.items())
    columns = ["project_id", "cost"]
    if all(pr.votes is not None for pr in projects):
        columns.append("votes")
    columns.append("name")
    if all(pr.selected is not None for pr in projects):
        columns.append("selected")
    out.writerow(["PROJECTS"])
    out.writerow(columns)
    for pr in projects:
        cells = {
            "project_id": pr.id,
            "cost": format_amount(pr.cost),
            "votes": str(pr.votes),
            "name": neutralise(one_line(pr.name).strip()),
            "selected": str(pr.selected),
        }
        out.writerow([cells[c] for c in columns])
    out.writerow(["VOTES"])
    out.writerow(["voter_id", "vote"])
    order = {pid: i for i, pid in enumerate(ids)}
    for voter, approved in voters:
        out.writerow([voter, ",".join(sorted(approved, key=order.__getitem__))])
    return buf.getvalue()


# --- recount -----------------------------------------------------------------------------


def recount_pb(election: Election, *, completion: mes.Completion = "add1") -> FundingKeys:
    """MES (with `completion`) and "most approvals first" on the election; the PROJECTS order
    breaks the remaining ties. Returns `budget_to_json`'s record, its per-project list as
    `funding`."""
    costs = {pr.id: pr.cost for pr in election.projects}
    order = [pr.id for pr in election.projects]
    voters = [approved for _, approved in election.voters]
    outcome = mes.equal_shares(
        voters, costs, election.budget, completion=completion, tie_break=order
    )
    record = mes.budget_to_json(
        outcome, mes.greedy(voters, costs, election.budget, tie_break=order)
    )
    return mes.funding_keys(record)
