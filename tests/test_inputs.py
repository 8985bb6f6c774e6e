"""Property tests over every parser and importer: any input ends in a value or the reader's own
error (RecordError, BadInput, JsonInputError), and what we write we read back exactly."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import unicodedata
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.errors import BadInput, Conflict
from app.core.inputs import (
    MAX_INT,
    MIN_INT,
    JsonInputError,
    bounded_int,
    clean_text,
    forbidden_chars,
    id_problem,
    load_json,
    read_text,
    slug,
)
from app.keypads import registration as keypads
from app.live import protocol
from app.record import chain, csvfiles, pabulib, records
from app.record.csvfiles import BallotRow, neutralise, restore
from app.record.records import MAX_ID, ProposalFile, RecordError, check_id
from app.rules.tally import Mark
from app.voting import meetings
from app.voting.db import create_schema, make_engine, transaction
from tests.conftest import MEETING

FAST = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Characters the hygiene rules are about, mixed into ordinary text so hypothesis meets them often.
NASTY = st.sampled_from(
    ["\x00", "\x07", "\x1b", "\x85", "\u202e", "\u2066", "\u200b", "\u200f", "\ufeff", "\u061c",
     "=", "+", "-", "@", "'", "\t", "\r", "\n", ",", ";", '"', "e\u0301", "\u00e9"]
)  # fmt: skip
TEXT = st.lists(st.one_of(st.text(max_size=5), NASTY), max_size=12).map("".join)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@FAST
@given(TEXT, st.booleans())
def test_clean_text_is_idempotent_nfc_and_free_of_hidden_characters(
    text: str, multiline: bool
) -> None:
    """clean_text leaves no control, bidi or zero-width character, is NFC and idempotent."""
    cleaned = clean_text(text, multiline=multiline)
    assert forbidden_chars(cleaned.replace("\n", "")) == []
    assert multiline or "\n" not in cleaned
    assert unicodedata.is_normalized("NFC", cleaned)
    assert clean_text(cleaned, multiline=multiline) == cleaned


@FAST
@given(st.one_of(TEXT, st.integers(), st.none()), st.integers(1, 40), st.booleans())
def test_read_text_is_clean_stripped_and_read_only_a_little_past_its_limit(
    raw: object, limit: int, multiline: bool
) -> None:
    """read_text gives "" for anything not a string, else the cleaned, stripped text of at most
    2 x limit + 16 characters: enough to tell "too long", never the whole of a huge field."""
    got = read_text(raw, limit, multiline=multiline)
    if not isinstance(raw, str):
        assert got == ""
        return
    assert got == clean_text(raw[: limit * 2 + 16], multiline=multiline).strip()
    assert read_text("x" * 10_000, limit) == "x" * (limit * 2 + 16)


@FAST
@given(TEXT)
def test_an_id_with_a_hidden_character_or_a_leading_quote_is_refused(text: str) -> None:
    """id_problem refuses exactly the ids holding hidden characters, a leading ' or non-NFC."""
    bad = (
        bool(forbidden_chars(text))
        or text.startswith("'")
        or not unicodedata.is_normalized("NFC", text)
    )
    assert (id_problem(text) is not None) == bad


@FAST
@given(TEXT)
def test_neutralise_is_undone_exactly_and_leaves_no_formula(cell: str) -> None:
    """restore(neutralise(c)) == c, and a neutralised cell never starts like a formula."""
    assert restore(neutralise(cell)) == cell
    assert not neutralise(cell).startswith(csvfiles.FORMULA_STARTS)


@FAST
@given(st.one_of(st.text(max_size=30), st.integers().map(str), st.just("9" * 400)))
def test_bounded_int_returns_an_int_in_range_or_bad_input(text: str) -> None:
    """Any form text gives an int within the database's 64-bit range, or BadInput."""
    try:
        value = bounded_int(text, "N")
    except BadInput as e:
        assert "N must be a whole number" in e.message
        return
    assert MIN_INT <= value <= MAX_INT


@FAST
@given(st.one_of(st.text(max_size=60), JSON_VALUES.map(json.dumps)))
def test_load_json_returns_a_value_or_json_input_error(text: str) -> None:
    """Any text: a JSON value with finite, bounded numbers, or JsonInputError with a reason."""
    try:
        load_json(text)
    except JsonInputError as e:
        assert e.reason


def test_load_json_bounds_depth_before_parsing() -> None:
    """100,000 levels of nesting are refused by the depth scan, without recursion."""
    try:
        load_json("[" * 100_000)
    except JsonInputError as e:
        assert "nested more than" in e.reason
    else:
        raise AssertionError("deep JSON accepted")


def _meeting_variants() -> st.SearchStrategy[str]:
    """Meeting files: the sample with one field replaced by any JSON value, or any text."""
    keys = ["title", "rule", "segments", "proposals", "tie_break", "budget", "translations"]

    def variant(key: str, value: Any) -> str:
        return json.dumps({**MEETING, key: value})

    return st.one_of(st.builds(variant, st.sampled_from(keys), JSON_VALUES), TEXT)


@FAST
@given(_meeting_variants())
def test_parse_meeting_raises_only_record_error(text: str) -> None:
    """Any meeting file parses or raises RecordError; what parses dumps and re-parses equal."""
    try:
        meeting = records.parse_meeting(text)
    except RecordError:
        return
    assert records.parse_meeting(records.dump_meeting(meeting)) == meeting


def _as_id(text: str) -> str:
    text = clean_text(text).replace(";", "").replace(",", "").strip().lstrip("'")
    return text[:64].strip()


IDS = TEXT.map(_as_id).filter(lambda s: bool(s) and id_problem(s) is None)
TITLES = TEXT.map(clean_text).filter(lambda s: s.strip() != "" and len(s) <= 200)


@FAST
@given(
    st.lists(
        st.builds(
            ProposalFile,
            id=IDS,
            title=TITLES,
            description=TEXT.map(lambda s: clean_text(s, multiline=True)),
            kind=st.sampled_from(["keep", "fund"]),
            cost=st.none() | st.integers(0, 10**15),
            saving=st.none() | st.integers(0, 10**15),
        ),
        max_size=4,
        unique_by=lambda p: p.id,
    )
)
def test_proposals_csv_reads_back_what_it_wrote(proposals: list[ProposalFile]) -> None:
    """write_proposals_csv then read_proposals_csv is the identity, formulas included."""
    text = csvfiles.write_proposals_csv(proposals)
    assert csvfiles.read_proposals_csv(text, set()) == proposals


ROWS = st.lists(
    st.builds(
        BallotRow,
        round=st.integers(1, 3).map(str),
        voter=IDS,
        channel=st.sampled_from(["phone", "keypad", "paper"]),
        segments=st.just(()),
        proposal=st.sampled_from([p["id"] for p in MEETING["proposals"]]),
        mark=st.sampled_from(list(Mark)),
    ),
    max_size=8,
    unique_by=lambda r: (r.round, r.voter, r.proposal),
)


@FAST
@given(ROWS)
def test_ballot_csv_reads_back_what_it_wrote(rows: list[BallotRow]) -> None:
    """write_ballot_csv then read_ballot_csv is the identity, with any (valid) pseudonym."""
    meeting = records.parse_meeting(json.dumps(MEETING))
    by_voter: dict[tuple[str, str], str] = {}
    rows = [r for r in rows if by_voter.setdefault((r.round, r.voter), r.channel) == r.channel]
    text = csvfiles.write_ballot_csv(rows)
    assert csvfiles.read_ballot_csv(text, meeting) == rows


@FAST
@given(TEXT, TEXT)
def test_csv_readers_raise_only_record_error(header_noise: str, body: str) -> None:
    """The ballot and proposals CSV readers turn any text into rows or RecordError."""
    meeting = records.parse_meeting(json.dumps(MEETING))
    for text in (body, ",".join(csvfiles.BALLOT_HEADER) + "\n" + body, header_noise + body):
        with contextlib.suppress(RecordError):
            csvfiles.read_ballot_csv(text, meeting)
        with contextlib.suppress(RecordError):
            csvfiles.read_proposals_csv(",".join(csvfiles.PROPOSAL_HEADER) + "\n" + text, {"a"})


LINK_DATA = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries(
        {
            "round": st.one_of(st.text(max_size=3), st.just("9" * 30), st.integers()),
            "voter": JSON_VALUES,
            "channel": JSON_VALUES,
            "marks": JSON_VALUES,
            "proposals": JSON_VALUES,
            "segments": JSON_VALUES,
        }
    ),
)


@FAST
@given(
    st.lists(
        st.tuples(st.sampled_from(["ballot", "round.opened", "round.closed", "voter.segments"]),
                  LINK_DATA),
        max_size=6,
    ),
    TEXT,
)  # fmt: skip
def test_audit_verify_and_replay_never_raise_anything_else(
    links: list[tuple[str, Any]], noise: str
) -> None:
    """verify reports problems for any text; replay gives rows or ValueError for any links."""
    prev, lines = chain.GENESIS, []
    for seq, (kind, data) in enumerate(links, start=1):
        digest = chain.link_hash(seq, None, kind, data, prev)
        link = {"seq": seq, "at": None, "kind": kind, "data": data, "prev": prev, "hash": digest}
        lines.append(json.dumps(link))
        prev = digest
    for text in ("\n".join(lines), "\n".join(lines) + "\n" + noise):
        checked = chain.verify(text)
        try:
            replayed = chain.replay(checked.links)
        except ValueError:
            continue
        chain.compare(replayed, [])


PB_HEAD = "META\nkey;value\nvote_type;approval\nbudget;100\nPROJECTS\nproject_id;cost\n"


@FAST
@given(TEXT, st.lists(st.tuples(TEXT, TEXT), max_size=4))
def test_pabulib_reader_raises_only_record_error(noise: str, cells: list[tuple[str, str]]) -> None:
    """read_pb turns any text into an election or RecordError."""
    body = "\n".join(f"{a};{b}" for a, b in cells)
    for text in (noise, PB_HEAD + body, PB_HEAD + "1;5\nVOTES\nvoter_id;vote\n" + body):
        with contextlib.suppress(RecordError):
            pabulib.read_pb(text)


@FAST
@given(st.one_of(TEXT, JSON_VALUES.map(json.dumps)))
def test_protocol_parse_client_raises_only_bad_input(raw: str) -> None:
    """Any WebSocket frame is a message or BadInput with a reason."""
    try:
        protocol.parse_client(raw)
    except BadInput as e:
        assert e.message


KEYPAD_CELLS = st.one_of(TEXT, st.just("carer"), st.just("carer;north"), st.just("9" * 50))


@pytest.fixture(scope="module")
def keypad_meeting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, int]]:
    """A meeting with the sample segments in a SQLite file, for the keypad CSV importer."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('kp') / 'k.db'}")
    create_schema(engine)
    with transaction(engine) as session:
        meeting = meetings.create_meeting(session, records.parse_meeting(json.dumps(MEETING)))
        assert meeting.id is not None
        meeting_id = meeting.id
    yield engine, meeting_id
    engine.dispose()


@FAST
@given(st.lists(st.lists(KEYPAD_CELLS, min_size=0, max_size=4), max_size=5), TEXT)
def test_keypad_csv_import_registers_or_raises_bad_input(
    keypad_meeting: tuple[Engine, int], rows: list[list[str]], noise: str
) -> None:
    """The keypad CSV import registers every row or raises BadInput/Conflict; nothing else."""
    engine, meeting_id = keypad_meeting
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    body = buf.getvalue()
    for text in ("keypad,label,segments\n" + body, noise + body):
        with Session(engine) as session:
            meeting = meetings.get_meeting(session, meeting_id)
            try:
                count = keypads.import_csv(session, meeting, text, "k.csv")
            except (BadInput, Conflict) as e:
                assert e.message
            else:
                assert count >= 0
            session.rollback()


@FAST
@given(st.lists(TITLES.map(pabulib.one_line), min_size=1, max_size=4), TITLES.map(pabulib.one_line))
def test_pabulib_names_are_spreadsheet_safe_and_read_back(names: list[str], note: str) -> None:
    """Project names and META texts are neutralised in a .pb file and read back exactly."""
    projects = [pabulib.Project(f"p{i}", Fraction(5), name) for i, name in enumerate(names)]
    text = pabulib.write_pb({"description": note}, Fraction(10), projects, [("v1", ["p0"])])
    for line in text.splitlines():
        for cell in next(csv.reader([line], delimiter=";")):
            assert not cell.startswith(csvfiles.FORMULA_STARTS), line
    election = pabulib.read_pb(text)
    assert [p.name for p in election.projects] == [p.name.strip() for p in projects]
    assert election.meta["description"] == note.strip()


@pytest.mark.parametrize(
    ("label", "taken", "made"),
    [
        ("Area: North", set(), "area-north"),
        ("Young people (16\u201324)", set(), "young-people-16-24"),
        ("Gwasanaeth ŵyl", set(), "gwasanaeth-wyl"),
        ("Carer", {"carer"}, "carer-2"),
        ("Carer", {"carer", "carer-2"}, "carer-3"),
        ("£££", set(), "item"),
        ("x" * 80, set(), "x" * 64),
        ("x" * 80, {"x" * 64}, "x" * 62 + "-2"),
    ],
)
def test_ids_made_from_labels_are_plain_bounded_and_unique(
    label: str, taken: set[str], made: str
) -> None:
    """Set-up's ids from labels: a-z, 0-9 and hyphens, at most 64 characters, -2, -3… when
    taken, and a fallback when nothing is left of the label; always a valid meeting-file id."""
    assert slug(label, taken, limit=MAX_ID, fallback="item") == made
    assert check_id(made) == made
