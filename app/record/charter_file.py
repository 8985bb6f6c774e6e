"""The charter file: a Community Charter as JSON (`covote-charter/1`), for import and export,
and as the codebook of its consent CSV (`covote charter tabulate`).

Pure (strings in, strings out). `parse_charter` reads and checks a file and gives the
`charter_doc.Charter`, reporting every problem in one `RecordError` (by field; a value or key
from the file is quoted at most `ECHO` characters long); `dump_charter` writes the canonical
text, so a file written here reads back to the same charter and is written again byte for
byte. `check_data` is the one check of a charter, whichever format it came in.

    {
      "format": "covote-charter/1",
      "title": "Ashdown Community Charter", "title_cy": "Siarter Gymunedol Ashdown",
      "version": 2,
      "sections": [{"key": "housing", "title": "Housing", "title_cy": "Tai",
                    "clauses": [{"key": "repairs", "text": "Repairs are done within 28 days.",
                                 "text_cy": "...", "affected_groups": ["tenants"]}]}],
      "parties": [{"key": "council", "name": "Ashdown Council", "name_cy": "Cyngor Ashdown",
                   "kind": "council", "representatives": ["Jo Bloggs"]}],
      "commitments": [{"key": "k1", "party": "council", "what": "Report repair times",
                       "what_cy": "", "clause": "repairs", "by_when": "2027-03-31",
                       "measure": "share done in 28 days", "measure_cy": "",
                       "source": {"kind": "drafted", "ref": "", "pledges": null}}]
    }

Only `format`, `title` and the keys of what is listed are required; the rest default to empty.
The Markdown (app/record/charter_markdown.py) is the same charter for people to read and edit.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from app.core.inputs import JsonInputError, clean_text, load_json
from app.record.records import Problems, RecordError, describe_error
from app.rules import charter_doc as cd
from app.rules.charter import AmendmentStatus

FORMAT: Literal["covote-charter/1"] = "covote-charter/1"
MAX_FILE_CHARS = 2_000_000  # 300 clauses and 1,000 commitments in both languages fit in 1 MB
MAX_PLEDGES = 10_000_000  # people pledging: more than a large city's population is a typo
MAX_GROUPS = 50  # affected groups of one clause: more segments than a meeting has
MAX_AMENDMENTS = 20  # of one clause: past this the room is redrafting, not amending
ECHO = 40  # a refused value or key is quoted this far: enough to find it, never a flood


def _text(most: int, *, required: bool) -> Any:
    def check(value: str) -> str:
        value = clean_text(value).strip()
        if required and not value:
            raise PydanticCustomError("text", "must not be empty")
        if len(value) > most:
            raise PydanticCustomError("text", f"must be at most {most} characters")
        return value

    return AfterValidator(check)


def _key(value: str) -> str:
    if not cd.KEY.fullmatch(value):
        raise PydanticCustomError(
            "key", "must be 1-32 lowercase letters, digits, - or _, starting with a letter or digit"
        )
    return value


def _date(value: str) -> str:
    if value and not cd.is_date(value):
        raise PydanticCustomError("date", "must be a date such as 2027-03-31, or empty")
    return value


def _name(value: str) -> str:
    if ";" in value:
        raise PydanticCustomError("name", 'must not contain ";"')  # Markdown lists them with ;
    return value


Key = Annotated[str, AfterValidator(_key)]
OptionalKey = Annotated[str, AfterValidator(lambda v: v and _key(v))]
Name = Annotated[str, _text(cd.MAX_NAME, required=True)]
OptionalName = Annotated[str, _text(cd.MAX_NAME, required=False)]
Text = Annotated[str, _text(cd.MAX_TEXT, required=True)]
OptionalText = Annotated[str, _text(cd.MAX_TEXT, required=False)]
Representative = Annotated[str, _text(cd.MAX_NAME, required=True), AfterValidator(_name)]
Ref = Annotated[str, _text(64, required=False)]  # a budget proposal's or a pledge's id


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceFile(_Strict):
    kind: Literal["drafted", "budget", "lab"] = "drafted"
    ref: Ref = ""
    pledges: Annotated[int, Field(ge=0, le=MAX_PLEDGES)] | None = None


class AmendmentFile(_Strict):
    key: Key
    text: Text
    text_cy: OptionalText = ""
    status: Literal["proposed", "accepted", "declined"] = "proposed"


class ClauseFile(_Strict):
    key: Key
    text: Text
    text_cy: OptionalText = ""
    affected_groups: list[Key] = Field(default_factory=list, max_length=MAX_GROUPS)
    amendments: list[AmendmentFile] = Field(default_factory=list, max_length=MAX_AMENDMENTS)


class SectionFile(_Strict):
    key: Key
    title: Name
    title_cy: OptionalName = ""
    clauses: list[ClauseFile] = Field(default_factory=list, max_length=cd.MAX_CLAUSES)


class PartyFile(_Strict):
    key: Key
    name: Name
    name_cy: OptionalName = ""
    kind: Literal["council", "provider", "community", "residents"]
    representatives: list[Representative] = Field(
        default_factory=list, max_length=cd.MAX_REPRESENTATIVES
    )


class CommitmentFile(_Strict):
    key: Key
    party: Key
    what: Text
    what_cy: OptionalText = ""
    clause: OptionalKey = ""
    by_when: Annotated[str, AfterValidator(_date)] = ""
    measure: OptionalText = ""
    measure_cy: OptionalText = ""
    source: SourceFile = Field(default_factory=SourceFile)


class CharterFile(_Strict):
    format: Literal["covote-charter/1"]
    title: Name
    title_cy: OptionalName = ""
    version: Annotated[int, Field(ge=1, le=cd.MAX_VERSION)] = 1
    sections: list[SectionFile] = Field(default_factory=list, max_length=cd.MAX_SECTIONS)
    parties: list[PartyFile] = Field(default_factory=list, max_length=cd.MAX_PARTIES)
    commitments: list[CommitmentFile] = Field(default_factory=list, max_length=cd.MAX_COMMITMENTS)


def _source_problem(s: SourceFile) -> str | None:
    if s.kind == "drafted" and (s.ref or s.pledges is not None):
        return "a drafted commitment has no ref or pledges"
    if s.kind != "drafted" and not s.ref:
        return f"a {s.kind} commitment needs the ref it came from"
    if s.kind == "budget" and s.pledges is not None:
        return "pledges go with a lab's commitment"
    if s.kind == "lab" and s.pledges is None:
        return "a lab's commitment gives its number of pledges"
    return None


def to_charter(f: CharterFile) -> cd.Charter:
    """The charter a checked file describes."""
    return cd.Charter(
        title=f.title,
        title_cy=f.title_cy,
        version=f.version,
        sections=tuple(
            cd.Section(
                s.key,
                s.title,
                s.title_cy,
                tuple(
                    cd.Clause(
                        c.key,
                        c.text,
                        c.text_cy,
                        tuple(c.affected_groups),
                        tuple(
                            cd.Amendment(a.key, a.text, a.text_cy, AmendmentStatus(a.status))
                            for a in c.amendments
                        ),
                    )
                    for c in s.clauses
                ),
            )
            for s in f.sections
        ),
        parties=tuple(
            cd.Party(p.key, p.name, cd.PartyKind(p.kind), p.name_cy, tuple(p.representatives))
            for p in f.parties
        ),
        commitments=tuple(
            cd.Commitment(
                key=c.key,
                party=c.party,
                what=c.what,
                what_cy=c.what_cy,
                clause=c.clause,
                by_when=c.by_when,
                measure=c.measure,
                measure_cy=c.measure_cy,
                source=cd.Source(cd.SourceKind(c.source.kind), c.source.ref, c.source.pledges),
            )
            for c in f.commitments
        ),
    )


def _describe(err: ErrorDetails) -> str:
    """`describe_error`, with the path's keys (which come from the file) cut to `ECHO`."""
    loc = tuple(p if isinstance(p, int) or len(p) <= ECHO else p[:ECHO] + "…" for p in err["loc"])
    return describe_error({**err, "loc": loc})


def check_data(data: object, problems: Problems) -> cd.Charter:
    """The charter a decoded JSON value describes; every problem added to `problems`, which
    is raised if there are any."""
    if not isinstance(data, dict):
        problems.add(None, "must be a JSON object")
        problems.raise_if_any()
    try:
        checked = CharterFile.model_validate(data, strict=True)
    except ValidationError as e:
        for err in e.errors():
            problems.add(None, _describe(err))
        problems.raise_if_any()
        raise AssertionError("unreachable") from None
    for i, c in enumerate(checked.commitments):
        if (reason := _source_problem(c.source)) is not None:
            problems.add(None, f"commitments[{i}].source: {reason}")
    charter = to_charter(checked)
    for reason in cd.problems(charter):
        problems.add(None, reason)
    problems.raise_if_any()
    return charter


def parse_charter(text: str, *, filename: str = "charter.json") -> cd.Charter:
    """Read a charter JSON file.

    Raises:
        RecordError: every problem found, by field (`sections[0].clauses[2].text: must not be
            empty`), JSON syntax errors with their line, then cross-references (keys used
            twice, a commitment's unknown party or clause).
    """
    if len(text) > MAX_FILE_CHARS:
        raise RecordError(filename, [(None, f"is over {MAX_FILE_CHARS:,} characters")])
    try:
        data = load_json(text.removeprefix("\ufeff"))
    except JsonInputError as e:
        raise RecordError(filename, [(e.line, f"invalid JSON: {e.reason}")]) from None
    return check_data(data, Problems(filename))


def charter_json(c: cd.Charter) -> dict[str, object]:
    """The charter as the file's JSON object, every key written (canonical)."""
    return {
        "format": FORMAT,
        "title": c.title,
        "title_cy": c.title_cy,
        "version": c.version,
        "sections": [
            {
                "key": s.key,
                "title": s.title,
                "title_cy": s.title_cy,
                "clauses": [
                    {
                        "key": cl.key,
                        "text": cl.text,
                        "text_cy": cl.text_cy,
                        "affected_groups": list(cl.affected_groups),
                        "amendments": [
                            {
                                "key": a.key,
                                "text": a.text,
                                "text_cy": a.text_cy,
                                "status": a.status.value,
                            }
                            for a in cl.amendments
                        ],
                    }
                    for cl in s.clauses
                ],
            }
            for s in c.sections
        ],
        "parties": [
            {
                "key": p.key,
                "name": p.name,
                "name_cy": p.name_cy,
                "kind": p.kind.value,
                "representatives": list(p.representatives),
            }
            for p in c.parties
        ],
        "commitments": [
            {
                "key": k.key,
                "party": k.party,
                "what": k.what,
                "what_cy": k.what_cy,
                "clause": k.clause,
                "by_when": k.by_when,
                "measure": k.measure,
                "measure_cy": k.measure_cy,
                "source": {
                    "kind": k.source.kind.value,
                    "ref": k.source.ref,
                    "pledges": k.source.pledges,
                },
            }
            for k in c.commitments
        ],
    }


def dump_charter(c: cd.Charter) -> str:
    """The canonical text of a charter file (indent 2, this module's key order, final newline)."""
    return json.dumps(charter_json(c), indent=2, ensure_ascii=False) + "\n"
