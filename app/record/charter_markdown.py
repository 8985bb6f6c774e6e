"""The charter as Markdown, for people to read and edit: `dump_markdown` writes it and
`parse_markdown` reads it back to the same charter (and so the same bytes), every problem in
one `RecordError`: lines that fit no part of the layout by line number, then the charter's own
problems by field (`charter_file.check_data`, as for the JSON file). Pure: strings in and out.

    # Ashdown Community Charter
    > cy: Siarter Gymunedol Ashdown

    Version 2

    ## Housing {#housing}
    > cy: Tai

    1. Repairs are done within 28 days. {#repairs}
       > cy: Mae atgyweiriadau'n cael eu gwneud o fewn 28 diwrnod.
       > affected: tenants, disabled
       - amendment: Repairs are done within 14 days. {#repairs-a1} (accepted)
         > cy: Mae atgyweiriadau'n cael eu gwneud o fewn 14 diwrnod.

    ## Parties

    - **Ashdown Council** {#council} (council)
      > cy: Cyngor Ashdown
      > representatives: Jo Bloggs; Sam Jones

    ## Commitments

    - **Report repair times every quarter** {#k1}
      > party: council
      > clause: repairs
      > by: 2027-03-31
      > measure: share of repairs done in 28 days
      > source: lab (14 pledged): walk-club

A section's heading ends with its {#key}; "## Parties" and "## Commitments" have none. Lines
starting "> " belong to the item above them; a line is left out when its value is empty.
"""

from __future__ import annotations

import re
from typing import Any

from app.record.charter_file import ECHO, FORMAT, MAX_FILE_CHARS, check_data
from app.record.records import Problems, RecordError, quote
from app.rules import charter_doc as cd

MAX_LINE = 5000  # a Markdown line: a clause (1,000 characters) and room for what cleaning removes


_H1 = re.compile(r"# (.+)")
_VERSION = re.compile(r"Version ([0-9]{1,7})")
_SECTION = re.compile(r"## (.+) \{#([^{}]*)\}")
_CLAUSE = re.compile(r"[0-9]{1,4}\. (.+) \{#([^{}]*)\}")
_AMENDMENT = re.compile(r" {2,4}- amendment: (.+) \{#([^{}]*)\} \(([a-z]+)\)")
_PARTY = re.compile(r"- \*\*(.+)\*\* \{#([^{}]*)\} \(([a-z]+)\)")
_COMMITMENT = re.compile(r"- \*\*(.+)\*\* \{#([^{}]*)\}")
_ATTR = re.compile(r" {0,6}> ([a-z ]{1,20}):(?: (.*))?")
_SOURCE = re.compile(r"(budget|lab)(?: \(([0-9]{1,9}) pledged\))?: (.+)")
# Each kind of item, the "> name: value" lines it takes and the field each fills.
_ATTRS: dict[str, dict[str, str]] = {
    "charter": {"cy": "title_cy"},
    "section": {"cy": "title_cy"},
    "clause": {"cy": "text_cy", "affected": "affected_groups"},
    "amendment": {"cy": "text_cy"},
    "party": {"cy": "name_cy", "representatives": "representatives"},
    "commitment": {
        "cy": "what_cy",
        "party": "party",
        "clause": "clause",
        "by": "by_when",
        "measure": "measure",
        "measure cy": "measure_cy",
        "source": "source",
    },
}


def _attrs(pairs: list[tuple[str, str]]) -> list[str]:
    return [f"> {name}: {value}" for name, value in pairs if value]


def dump_markdown(c: cd.Charter) -> str:
    """The charter as Markdown (the layout above): readable, and read back by `parse_markdown`."""
    out = [f"# {c.title}", *_attrs([("cy", c.title_cy)]), "", f"Version {c.version}", ""]
    for s in c.sections:
        out += [f"## {s.title} {{#{s.key}}}", *_attrs([("cy", s.title_cy)]), ""]
        for n, cl in enumerate(s.clauses, start=1):
            out.append(f"{n}. {cl.text} {{#{cl.key}}}")
            attrs = [("cy", cl.text_cy), ("affected", ", ".join(cl.affected_groups))]
            out += ["   " + a for a in _attrs(attrs)]
            for a in cl.amendments:
                out.append(f"   - amendment: {a.text} {{#{a.key}}} ({a.status.value})")
                out += ["     " + line for line in _attrs([("cy", a.text_cy)])]
        if s.clauses:
            out.append("")
    if c.parties:
        out += ["## Parties", ""]
        for p in c.parties:
            out.append(f"- **{p.name}** {{#{p.key}}} ({p.kind.value})")
            attrs = [("cy", p.name_cy), ("representatives", "; ".join(p.representatives))]
            out += ["  " + a for a in _attrs(attrs)]
        out.append("")
    if c.commitments:
        out += ["## Commitments", ""]
        for k in c.commitments:
            out.append(f"- **{k.what}** {{#{k.key}}}")
            source = ""
            if k.source.kind is not cd.SourceKind.DRAFTED:
                counted = f" ({k.source.pledges} pledged)" if k.source.pledges is not None else ""
                source = f"{k.source.kind.value}{counted}: {k.source.ref}"
            attrs = [
                ("cy", k.what_cy),
                ("party", k.party),
                ("clause", k.clause),
                ("by", k.by_when),
                ("measure", k.measure),
                ("measure cy", k.measure_cy),
                ("source", source),
            ]
            out += ["  " + a for a in _attrs(attrs)]
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def parse_markdown(text: str, *, filename: str = "charter.md") -> cd.Charter:
    """Read a charter written as `dump_markdown` writes it.

    Raises:
        RecordError: every line that does not fit the layout, by line number (`charter.md:7:
            ...`), then every problem of the charter it describes, by field (as `parse_charter`).
    """
    if len(text) > MAX_FILE_CHARS:
        raise RecordError(filename, [(None, f"is over {MAX_FILE_CHARS:,} characters")])
    p = Problems(filename)
    data: dict[str, Any] = {"format": FORMAT, "sections": [], "parties": [], "commitments": []}
    part = "top"  # top, section, parties, commitments: where in the document the line is
    item: dict[str, Any] | None = None  # what "> name: value" lines describe, and its kind
    kind = ""
    # Split on line feeds only: str.splitlines would also split at U+2028 and the like, which
    # a clause may hold (clean_text keeps them), and the text would not read back the same.
    for n, raw in enumerate(text.removeprefix("\ufeff").split("\n"), start=1):
        line = raw.rstrip()
        if not line.strip():
            continue
        if len(line) > MAX_LINE:
            p.add(n, f"a line of a charter is at most {MAX_LINE:,} characters")
            continue
        m: re.Match[str] | None
        if (m := _ATTR.fullmatch(line)) is not None and item is not None:
            if reason := _set_attr(kind, item, m.group(1), m.group(2) or ""):
                p.add(n, reason)
        elif part == "top" and "title" not in data and (m := _H1.fullmatch(line)):
            data["title"], item, kind = m.group(1), data, "charter"
        elif part == "top" and "version" not in data and (m := _VERSION.fullmatch(line)):
            data["version"], item = int(m.group(1)), None
        elif line in ("## Parties", "## Commitments"):
            part, item = line[3:].lower(), None
        elif part in ("top", "section") and (m := _SECTION.fullmatch(line)):
            item, kind, part = (
                {"key": m.group(2), "title": m.group(1), "clauses": []},
                "section",
                "section",
            )
            data["sections"].append(item)
        elif part == "section" and (m := _CLAUSE.fullmatch(line)):
            item, kind = {"key": m.group(2), "text": m.group(1), "amendments": []}, "clause"
            data["sections"][-1]["clauses"].append(item)
        elif kind in ("clause", "amendment") and (m := _AMENDMENT.fullmatch(line)):
            clause = data["sections"][-1]["clauses"][-1]
            item = {"key": m.group(2), "text": m.group(1), "status": m.group(3)}
            kind = "amendment"
            clause["amendments"].append(item)
        elif part == "parties" and (m := _PARTY.fullmatch(line)):
            item, kind = {"key": m.group(2), "name": m.group(1), "kind": m.group(3)}, "party"
            data["parties"].append(item)
        elif part == "commitments" and (m := _COMMITMENT.fullmatch(line)):
            item, kind = {"key": m.group(2), "what": m.group(1)}, "commitment"
            data["commitments"].append(item)
        else:
            p.add(n, f"not part of a charter here: {quote(line[:ECHO])}")
    if "title" not in data:
        p.add(None, 'the first heading ("# Title") is missing')
    p.raise_if_any()
    return check_data(data, p)


def _set_attr(kind: str, item: dict[str, Any], name: str, value: str) -> str | None:
    """Put one "> name: value" line on `item` (of `kind`); why not, or None."""
    field = _ATTRS[kind].get(name)
    if field is None:
        return f"{quote(name)} is not a line a {kind} has"
    if field in item:
        return f"{quote(name)} is given twice"
    if field == "affected_groups":
        item[field] = [g.strip() for g in value.split(",")]
    elif field == "representatives":
        item[field] = [r.strip() for r in value.split(";")]
    elif field == "source":
        m = _SOURCE.fullmatch(value)
        if m is None:
            return 'source: must be "budget: REF" or "lab (N pledged): REF"'
        pledges = int(m.group(2)) if m.group(2) is not None else None
        item[field] = {"kind": m.group(1), "ref": m.group(3), "pledges": pledges}
    else:
        item[field] = value
    return None
