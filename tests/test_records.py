"""Tests for app.record.records: meeting JSON, ballot and proposals CSV, errors and the recount."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.record.csvfiles import (
    BallotRow,
    read_ballot_csv,
    read_proposals_csv,
    write_ballot_csv,
    write_proposals_csv,
)
from app.record.records import (
    MAX_ERRORS,
    MeetingFile,
    ProposalFile,
    RecordError,
    RuleFile,
    SegmentFile,
    dump_meeting,
    parse_meeting,
)
from app.record.results import dumps_result, recount
from app.rules.tally import Mark, ProposalSpec, Rule, VoterBallot, count_round, result_to_json

MEETING: dict[str, Any] = {
    "title": "Budget consultation — Nörth ward",
    "rule": {"ratio": 2, "group_min": 5},
    "segments": [
        {"id": "carer", "label": "Carers", "protects": True},
        {"id": "user", "label": "Service users", "protects": True},
        {"id": "staff", "label": "Council staff", "protects": False},
    ],
    "proposals": [
        {
            "id": "daycentre",
            "title": "Keep: Elm Street day centre",
            "description": "Open five days a week.",
            "kind": "keep",
            "affected_groups": ["carer", "staff"],
            "cost": None,
            "saving": 120000,
        },
        {
            "id": "library",
            "title": "Keep: mobile library",
            "kind": "keep",
            "affected_groups": ["user", "staff"],
            "cost": None,
            "saving": 45000.5,
        },
        {
            "id": "park",
            "title": "Fund: new play park",
            "kind": "fund",
            "affected_groups": [],
            "cost": 80000,
            "saving": None,
        },
    ],
    "tie_break": ["library", "park", "daycentre"],
    "results_hidden": False,
}


def meeting_text(**changes: Any) -> str:
    return json.dumps({**MEETING, **changes}, ensure_ascii=False)


def with_proposal(i: int, **changes: Any) -> str:
    proposals = [dict(p) for p in MEETING["proposals"]]
    proposals[i].update(changes)
    return meeting_text(proposals=proposals)


def problems(excinfo: pytest.ExceptionInfo[RecordError]) -> list[tuple[int | None, str]]:
    return excinfo.value.errors


@pytest.fixture
def meeting() -> MeetingFile:
    return parse_meeting(meeting_text())


# --- meeting JSON ------------------------------------------------------------------------


def test_meeting_round_trips_through_dump_and_parse(meeting: MeetingFile) -> None:
    """dump_meeting then parse_meeting gives the same meeting, and dumping again the same text."""
    text = dump_meeting(meeting)
    assert parse_meeting(text) == meeting
    assert dump_meeting(parse_meeting(text)) == text


def test_dump_meeting_is_canonical(meeting: MeetingFile) -> None:
    """The dump keeps field order, non-ASCII text, amounts as given and ends with a newline."""
    text = dump_meeting(meeting)
    assert text.endswith("}\n")
    assert "Nörth" in text
    assert list(json.loads(text)) == [
        *("title", "rule", "segments", "proposals", "tie_break", "results_hidden")
    ]
    amounts = [(p["cost"], p["saving"]) for p in json.loads(text)["proposals"]]
    assert amounts == [(None, 120000), (None, 45000.5), (80000, None)]
    assert '"saving": 120000\n' in text


def test_meeting_defaults_and_unknown_keys() -> None:
    """Missing rule, description, tie_break and results_hidden take defaults; extra keys ignored."""
    m = parse_meeting(
        json.dumps(
            {
                "title": "T",
                "proposals": [{"id": "p", "title": "P", "kind": "fund", "future": 1}],
                "added_later": {"x": 1},
            }
        )
    )
    assert m.rule == RuleFile(ratio=2, group_min=5)
    assert m.rule.to_rule() == Rule()
    assert (m.segments, m.tie_break, m.results_hidden) == ([], [], True)
    assert m.proposals[0].description == ""
    assert m.proposals[0].affected_groups == []
    assert (m.proposals[0].cost, m.proposals[0].saving) == (None, None)


def test_meeting_null_tie_break_means_proposal_order() -> None:
    """A null tie_break is accepted and left empty (= proposal order)."""
    assert parse_meeting(meeting_text(tie_break=None)).tie_break == []


def test_meeting_error_names_file_and_path() -> None:
    """A bad kind is reported as `meeting.json: proposals[2].kind: must be "keep" or "fund"`."""
    with pytest.raises(RecordError) as excinfo:
        parse_meeting(with_proposal(2, kind="build"))
    assert str(excinfo.value) == 'meeting.json: proposals[2].kind: must be "keep" or "fund"'
    assert excinfo.value.filename == "meeting.json"
    assert excinfo.value.line is None
    assert excinfo.value.reason == 'proposals[2].kind: must be "keep" or "fund"'


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (meeting_text(title=""), "title: must not be empty"),
        (meeting_text(title="x" * 201), "title: must be at most 200 characters"),
        (meeting_text(rule={"ratio": 0}), "rule.ratio: must be >= 1"),
        (meeting_text(rule={"group_min": "5"}), "rule.group_min: must be a whole number"),
        (meeting_text(results_hidden="yes"), "results_hidden: must be true or false"),
        (with_proposal(0, id=""), "proposals[0].id: must not be empty"),
        (with_proposal(0, id="x" * 65), "proposals[0].id: must be at most 64 characters"),
        (with_proposal(0, id="a;b"), 'proposals[0].id: must not contain ";" or ","'),
        (with_proposal(0, id="a,b"), 'proposals[0].id: must not contain ";" or ","'),
        (with_proposal(0, id=" a"), "proposals[0].id: must not start or end with a space"),
        (with_proposal(1, cost=-1), "proposals[1].cost: must not be negative"),
        (with_proposal(1, saving="45000"), "proposals[1].saving: must be a number or null"),
        (with_proposal(1, saving=True), "proposals[1].saving: must be a number or null"),
        (with_proposal(1, title=None), "proposals[1].title: must be a string"),
        (with_proposal(2, affected_groups="carer"), "proposals[2].affected_groups: must be a list"),
        (
            with_proposal(2, affected_groups=["carer", "nobody"]),
            'proposals[2].affected_groups: unknown segment "nobody"',
        ),
        (
            with_proposal(2, affected_groups=["carer", "carer"]),
            'proposals[2].affected_groups: segment "carer" is listed twice',
        ),
        (meeting_text(proposals=None), "proposals: must be a list"),
        (meeting_text(segments=[{"id": "s", "label": "S"}]), "segments[0].protects: is required"),
        (meeting_text(segments=["carer"]), "segments[0]: must be an object"),
        (
            meeting_text(tie_break=["park", "nope", "library", "daycentre"]),
            'tie_break[1]: unknown proposal "nope"',
        ),
        (
            meeting_text(tie_break=["park", "library"]),
            'tie_break: must list every proposal; missing "daycentre"',
        ),
        (
            meeting_text(tie_break=["park", "park", "library", "daycentre"]),
            'tie_break[1]: proposal "park" is listed twice',
        ),
        ("[1, 2]", "must be a JSON object"),
        ('{"title": NaN}', "invalid JSON: NaN is not a number"),
    ],
)
def test_meeting_validation_reason(text: str, reason: str) -> None:
    """Each malformed meeting file is refused with a reason naming the field."""
    with pytest.raises(RecordError) as excinfo:
        parse_meeting(text, filename="m.json")
    assert reason in [r for _, r in problems(excinfo)]
    assert excinfo.value.filename == "m.json"


def test_meeting_duplicate_segment_id_is_refused() -> None:
    """Two segments with one id are refused, naming the second."""
    segments = [*MEETING["segments"], {"id": "carer", "label": "Again", "protects": True}]
    with pytest.raises(RecordError) as excinfo:
        parse_meeting(meeting_text(segments=segments))
    assert problems(excinfo) == [(None, 'segments[3].id: duplicate id "carer"')]


def test_meeting_reports_every_problem_at_once() -> None:
    """All field problems of a meeting file are reported together, not just the first."""
    proposals = [dict(p) for p in MEETING["proposals"]]
    proposals[0]["kind"] = "cut"
    proposals[2]["title"] = ""
    with pytest.raises(RecordError) as excinfo:
        parse_meeting(meeting_text(rule={"ratio": 0, "group_min": 0}, proposals=proposals))
    assert [r for _, r in problems(excinfo)] == [
        "rule.ratio: must be >= 1",
        "rule.group_min: must be >= 1",
        'proposals[0].kind: must be "keep" or "fund"',
        "proposals[2].title: must not be empty",
    ]
    assert str(excinfo.value).count("\n") == 3


def test_meeting_reports_every_reference_problem_at_once() -> None:
    """Cross-reference problems (groups, ids, tie_break) are all listed together too."""
    proposals = [dict(p) for p in MEETING["proposals"]]
    proposals[0]["affected_groups"] = ["ghost"]
    proposals[2]["id"] = "library"
    with pytest.raises(RecordError) as excinfo:
        parse_meeting(meeting_text(proposals=proposals, tie_break=["park"]))
    assert [r for _, r in problems(excinfo)] == [
        'proposals[2].id: duplicate id "library"',
        'proposals[0].affected_groups: unknown segment "ghost"',
        'tie_break[0]: unknown proposal "park"',
        'tie_break: must list every proposal; missing "daycentre", "library", "library"',
    ]


def test_meeting_invalid_json_has_a_line_number() -> None:
    """A JSON syntax error is reported with its line."""
    with pytest.raises(RecordError) as excinfo:
        parse_meeting('{\n  "title": "x",\n  "proposals": [}\n')
    assert excinfo.value.line == 3
    assert str(excinfo.value).startswith("meeting.json:3: invalid JSON: ")


def test_meeting_errors_are_capped() -> None:
    """Past MAX_ERRORS problems are counted, not listed."""
    proposals = [{"id": f"p{i}", "title": "T", "kind": "?"} for i in range(MAX_ERRORS + 10)]
    with pytest.raises(RecordError) as excinfo:
        parse_meeting(meeting_text(proposals=proposals, tie_break=[]))
    assert len(excinfo.value.errors) == MAX_ERRORS
    assert excinfo.value.omitted == 10
    assert str(excinfo.value).endswith("meeting.json: ... and 10 more problems")


def test_meeting_accepts_a_byte_order_mark() -> None:
    """A meeting file saved with a UTF-8 BOM parses."""
    assert parse_meeting("\ufeff" + meeting_text()).title == MEETING["title"]


def test_models_validate_when_built_in_code() -> None:
    """Building MeetingFile directly applies the same checks (as a pydantic ValidationError)."""
    p = ProposalFile(id="p", title="P", kind="keep", affected_groups=["ghost"])
    with pytest.raises(ValueError, match='unknown segment "ghost"'):
        MeetingFile(title="T", segments=[], proposals=[p])
    with pytest.raises(ValueError):
        SegmentFile(id="a;b", label="A", protects=True)


def test_record_error_formats_line_and_lineless_problems() -> None:
    """RecordError prints `file:line: reason`, or `file: reason` without a line."""
    err = RecordError("b.csv", [(3, "bad mark"), (None, "and this")])
    assert str(err) == "b.csv:3: bad mark\nb.csv: and this"
    assert (err.filename, err.line, err.reason) == ("b.csv", 3, "bad mark")
    assert isinstance(err, ValueError)


# --- ballot CSV --------------------------------------------------------------------------

HEADER = "round,voter,channel,segments,proposal,mark\n"


def row(voter: str, proposal: str, mark: str, segments: str = "", rnd: str = "1") -> BallotRow:
    return BallotRow(
        rnd, voter, "phone", tuple(segments.split(";")) if segments else (), proposal, Mark(mark)
    )


def test_ballot_csv_round_trips(meeting: MeetingFile) -> None:
    """write_ballot_csv then read_ballot_csv gives the same rows back."""
    rows = [
        row("v1", "daycentre", "want", "carer;staff"),
        row("v1", "park", "neutral", "carer;staff"),
        row("v2", "library", "dont_want"),
        row("v2", "library", "want", rnd="2"),
    ]
    text = write_ballot_csv(rows)
    assert text.startswith(HEADER)
    assert "1,v1,phone,carer;staff,daycentre,want\n" in text
    assert "\r" not in text
    assert read_ballot_csv(text, meeting) == rows
    assert write_ballot_csv(read_ballot_csv(text, meeting)) == text


def test_ballot_csv_accepts_bom_and_crlf(meeting: MeetingFile) -> None:
    """A ballot CSV saved by Excel (BOM, CRLF line endings) reads the same."""
    text = "\ufeff" + (HEADER + "1,v1,paper,user,park,want\n").replace("\n", "\r\n")
    assert read_ballot_csv(text, meeting) == [
        BallotRow("1", "v1", "paper", ("user",), "park", Mark.WANT)
    ]


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("", 1, "empty file: the first line must be round,voter,channel,segments,proposal,mark"),
        (
            "round,voter,channel,segment,proposal,mark\n",
            1,
            'column 4 is "segment", expected "segments"',
        ),
        ("round,voter,channel,segments,proposal\n", 1, 'missing column "mark"'),
        (HEADER.replace("\n", ",when\n"), 1, 'unexpected column "when"'),
        (HEADER + "1,v1,phone,,park\n", 2, "expected 6 fields, got 5"),
        (HEADER + "1,v1,phone,,park,want,x\n", 2, "expected 6 fields, got 7"),
        (HEADER + "1,v1,phone,,pool,want\n", 2, 'proposal: unknown proposal "pool"'),
        (HEADER + "1,v1,phone,carer;ghost,park,want\n", 2, 'segments: unknown segment "ghost"'),
        (HEADER + "1,v1,phone,carer;;user,park,want\n", 2, "segments: empty segment id"),
        (
            HEADER + "1,v1,phone,,park,yes\n",
            2,
            'mark: must be want, dont_want or neutral, not "yes"',
        ),
        (HEADER + "1,,phone,,park,want\n", 2, "voter: must not be empty"),
        (HEADER + ",v1,phone,,park,want\n", 2, "round: must not be empty"),
        (
            HEADER + "1,v1,phone,,park,want\n1,v2,web,,park,want\n1,v1,phone,,park,dont_want\n",
            4,
            'voter "v1" already marked "park" in round "1" on line 2',
        ),
        (
            HEADER + "1,v1,phone,carer,park,want\n1,v1,phone,user,library,want\n",
            3,
            'voter "v1" has other segments on line 2 in round "1"',
        ),
        (
            HEADER + "1,v1,phone,,park,want\n1,v1,keypad,,library,want\n",
            3,
            'voter "v1" has channel "phone" on line 2 in round "1"',
        ),
        (HEADER + '1,v1,"pho"ne,,park,want\n', 2, "malformed CSV: ',' expected after '\"'"),
    ],
)
def test_ballot_csv_malformed_line(meeting: MeetingFile, text: str, line: int, reason: str) -> None:
    """Each malformed ballot CSV is refused with the file name, line number and reason."""
    with pytest.raises(RecordError) as excinfo:
        read_ballot_csv(text, meeting, filename="round1.csv")
    assert (line, reason) in problems(excinfo)
    assert f"round1.csv:{line}: {reason}" in str(excinfo.value).splitlines()


def test_ballot_csv_same_voter_in_another_round_may_change() -> None:
    """Segments and channel only have to agree within one round."""
    m = parse_meeting(meeting_text())
    text = HEADER + "1,v1,phone,carer,park,want\n2,v1,keypad,user,park,want\n"
    assert len(read_ballot_csv(text, m)) == 2


def test_ballot_csv_reports_all_bad_lines(meeting: MeetingFile) -> None:
    """Every bad line is reported, with line numbers that count quoted line breaks."""
    text = (
        HEADER
        + '1,v1,"pho\nne",,park,want\n'  # lines 2-3: one record spanning two lines
        + "1,v2,phone,,pool,want\n"  # line 4
        + "\n"  # line 5: blank lines are skipped
        + "1,v3,phone,,park,maybe\n"  # line 6
    )
    with pytest.raises(RecordError) as excinfo:
        read_ballot_csv(text, meeting)
    assert problems(excinfo) == [
        (4, 'proposal: unknown proposal "pool"'),
        (6, 'mark: must be want, dont_want or neutral, not "maybe"'),
    ]


# --- proposals CSV -----------------------------------------------------------------------

PROPOSALS_HEADER = "id,title,description,kind,cost,saving,affected_groups\n"
SEGMENT_IDS = {"carer", "user", "staff"}


def test_proposals_csv_round_trips(meeting: MeetingFile) -> None:
    """write_proposals_csv then read_proposals_csv gives the same proposals back."""
    text = write_proposals_csv(meeting.proposals)
    assert text.startswith(PROPOSALS_HEADER)
    assert (
        "daycentre,Keep: Elm Street day centre,Open five days a week.,keep,,120000,carer;staff\n"
        in text
    )
    assert read_proposals_csv(text, SEGMENT_IDS) == meeting.proposals
    assert write_proposals_csv(read_proposals_csv(text, SEGMENT_IDS)) == text


def test_proposals_csv_accepts_bom_and_quoted_commas() -> None:
    """A proposals CSV with a BOM and a quoted description with commas reads correctly."""
    text = "\ufeff" + PROPOSALS_HEADER + 'p1,"Keep: baths","Pool, sauna, gym",keep,,1.5e3,\n'
    [p] = read_proposals_csv(text, SEGMENT_IDS)
    assert (p.description, p.saving, p.cost, p.affected_groups) == (
        "Pool, sauna, gym",
        1500.0,
        None,
        [],
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("p1,T,,cut,,,\n", 'kind: must be "keep" or "fund"'),
        ("p1,,,keep,,,\n", "title: must not be empty"),
        ('"p;1",T,,keep,,,\n', 'id: must not contain ";" or ","'),
        ("p1,T,,keep,£5,,\n", 'cost: must be a number or empty, not "£5"'),
        ('p1,T,,keep,,"1,500",\n', 'saving: must be a number or empty, not "1,500"'),
        ("p1,T,,keep,-5,,\n", "cost: must not be negative"),
        ("p1,T,,keep,,,carer;ghost\n", 'affected_groups: unknown segment "ghost"'),
        ("p1,T,,keep,,\n", "expected 7 fields, got 6"),
    ],
)
def test_proposals_csv_malformed_line(body: str, reason: str) -> None:
    """Each malformed proposals CSV line is refused with file name, line 2 and the reason."""
    with pytest.raises(RecordError) as excinfo:
        read_proposals_csv(PROPOSALS_HEADER + body, SEGMENT_IDS)
    assert (2, reason) in problems(excinfo)
    assert f"proposals.csv:2: {reason}" in str(excinfo.value).splitlines()


def test_proposals_csv_duplicate_id_and_bad_header() -> None:
    """A repeated id names the first line; a wrong header is reported on line 1."""
    with pytest.raises(RecordError) as excinfo:
        read_proposals_csv(PROPOSALS_HEADER + "p1,A,,keep,,,\np1,B,,fund,,,\n", SEGMENT_IDS)
    assert problems(excinfo) == [(3, 'id: duplicate id "p1" (first on line 2)')]
    with pytest.raises(RecordError) as excinfo:
        read_proposals_csv("id,title,kind\n", SEGMENT_IDS, filename="p.csv")
    assert (
        str(excinfo.value).splitlines()[0] == 'p.csv:1: column 3 is "kind", expected "description"'
    )


# --- recount -----------------------------------------------------------------------------


def hand_worked_rows() -> list[BallotRow]:
    """Round 1 of a 20-person meeting; round 2 revotes the library alone.

    c0-c5 carers:  daycentre WANT,      library DON'T WANT, park WANT
    s0-s4 staff:   daycentre DON'T WANT, library WANT,      park WANT
    r0-r8 others:  daycentre DON'T WANT, library DON'T WANT; r0-r3 park DON'T WANT, rest unmarked;
                   r0-r2 are service users.
    """
    rows: list[BallotRow] = []
    for i in range(6):
        for pid, mark in (("daycentre", "want"), ("library", "dont_want"), ("park", "want")):
            rows.append(row(f"c{i}", pid, mark, "carer"))
    for i in range(5):
        for pid, mark in (("daycentre", "dont_want"), ("library", "want"), ("park", "want")):
            rows.append(row(f"s{i}", pid, mark, "staff"))
    for i in range(9):
        segments = "user" if i < 3 else ""
        rows.append(row(f"r{i}", "daycentre", "dont_want", segments))
        rows.append(row(f"r{i}", "library", "dont_want", segments))
        if i < 4:
            rows.append(row(f"r{i}", "park", "dont_want", segments))
    rows += [row(f"s{i}", "library", "want", "staff", rnd="2") for i in range(5)]
    rows += [row(f"r{i}", "library", "want", rnd="2") for i in range(3, 9)]
    return rows


def test_recount_hand_worked_meeting(meeting: MeetingFile) -> None:
    """Carers protect the day centre, staff cannot save the library, the park is supported."""
    result = recount(meeting, hand_worked_rows())
    first, second = result["rounds"]
    assert first["round"] == "1"
    summary = {
        p["id"]: (p["V"], p["W"], p["D"], p["N"], p["category"], p["reason"], p["groups"])
        for p in first["proposals"]
    }
    assert summary == {
        "daycentre": (20, 6, 14, 0, "PROTECTED", "affected-group", ["carer"]),
        "library": (20, 5, 15, 0, "REJECTED", "qualified-opposition", []),
        "park": (20, 11, 4, 5, "SUPPORTED", "more-want", []),
    }
    assert [p["id"] for p in first["proposals"]] == ["daycentre", "library", "park"]
    assert first["ranking"] == ["park", "daycentre", "library"]
    daycentre, library, _ = first["proposals"]
    assert daycentre["affected"] == [
        {"group": "carer", "V": 6, "W": 6, "D": 0, "protects": True, "objects": False,
         "suppressed": False},
    ]  # fmt: skip
    assert library["affected"] == [
        {
            "group": "user",
            "V": None,
            "W": None,
            "D": None,
            "protects": False,
            "objects": False,
            "suppressed": True,
        },
    ]  # fmt: skip  (a suppressed group's counts are never published)
    assert second["round"] == "2"
    assert [(p["id"], p["V"], p["W"], p["category"]) for p in second["proposals"]] == [
        ("library", 11, 11, "SUPPORTED")
    ]


def test_recount_lets_a_protecting_segment_protect(meeting: MeetingFile) -> None:
    """If staff were allowed to protect, their 5 WANTs would keep the library."""
    staff = meeting.segments[2].model_copy(update={"protects": True})
    m = meeting.model_copy(update={"segments": [*meeting.segments[:2], staff]})
    library = recount(m, hand_worked_rows())["rounds"][0]["proposals"][1]
    assert (library["category"], library["groups"]) == ("PROTECTED", ["staff"])


def test_recount_uses_the_meeting_tie_break() -> None:
    """Exact ties rank in the meeting's drawn order, or proposal order when none is stored."""
    rows = [row("v", pid, "want") for pid in ("daycentre", "library", "park")]
    drawn = parse_meeting(meeting_text())
    assert recount(drawn, rows)["rounds"][0]["ranking"] == ["library", "park", "daycentre"]
    undrawn = parse_meeting(meeting_text(tie_break=[]))
    assert recount(undrawn, rows)["rounds"][0]["ranking"] == ["daycentre", "library", "park"]


def test_recount_refuses_inconsistent_rows(meeting: MeetingFile) -> None:
    """recount raises ValueError on a repeated mark or an unknown proposal."""
    with pytest.raises(ValueError, match="twice"):
        recount(meeting, [row("v", "park", "want"), row("v", "park", "dont_want")])
    with pytest.raises(ValueError, match="not in the meeting"):
        recount(meeting, [row("v", "pool", "want")])


def test_recount_text_matches_count_round_byte_for_byte(meeting: MeetingFile) -> None:
    """The CSV recount and count_round on the same ballots encode to identical JSON text."""
    rows = [r for r in hand_worked_rows() if r.round == "1"]
    text = write_ballot_csv(rows)
    [recounted] = recount(meeting, read_ballot_csv(text, meeting))["rounds"]
    ballots: dict[str, VoterBallot] = {}
    for r in rows:
        b = ballots.setdefault(r.voter, VoterBallot(r.voter, frozenset(r.segments), {}))
        b.marks[r.proposal] = r.mark  # type: ignore[index]
    specs = [ProposalSpec(p.id, tuple(p.affected_groups)) for p in meeting.proposals]
    live = count_round(
        specs,
        ballots.values(),
        Rule(),
        protecting=frozenset({"carer", "user"}),
        tie_break=meeting.tie_break,
    )
    record = {k: v for k, v in recounted.items() if k != "round"}
    assert dumps_result(record) == dumps_result(result_to_json(live))


ids = st.sampled_from(["daycentre", "library", "park"])


@given(
    voters=st.lists(
        st.tuples(
            st.frozensets(st.sampled_from(["carer", "user", "staff"])),
            st.dictionaries(ids, st.sampled_from(Mark), min_size=1),
            st.sampled_from(["phone", "keypad", "paper", "web"]),
        ),
        max_size=25,
    )
)
def test_recount_through_csv_equals_count_round(
    voters: list[tuple[frozenset[str], dict[str, Mark], str]],
) -> None:
    """Random final ballots, exported to CSV and recounted, give what count_round gives."""
    meeting = parse_meeting(meeting_text())
    rows = [
        BallotRow("1", f"v{i}", channel, tuple(sorted(segments)), pid, mark)
        for i, (segments, marks, channel) in enumerate(voters)
        for pid, mark in marks.items()
    ]
    recounted = recount(meeting, read_ballot_csv(write_ballot_csv(rows), meeting))["rounds"]
    named = {r.proposal for r in rows}
    specs = [ProposalSpec(p.id, tuple(p.affected_groups)) for p in meeting.proposals]
    live = count_round(
        [s for s in specs if s.id in named],
        [VoterBallot(f"v{i}", segs, marks) for i, (segs, marks, _) in enumerate(voters)],
        meeting.rule.to_rule(),
        protecting=frozenset({"carer", "user"}),
        tie_break=meeting.tie_break,
    )
    expected = [{"round": "1", **result_to_json(live)}] if rows else []
    assert dumps_result(recounted) == dumps_result(expected)


def test_dumps_result_is_canonical() -> None:
    """dumps_result: indent 2, keys in given order, non-ASCII kept, final newline."""
    assert dumps_result({"b": 1, "a": ["Ünion"]}) == '{\n  "b": 1,\n  "a": [\n    "Ünion"\n  ]\n}\n'


def test_ballot_csv_quoting_error_in_header_is_reported_once(meeting: MeetingFile) -> None:
    """A broken first line is reported as malformed CSV, not also as an empty file."""
    with pytest.raises(RecordError) as excinfo:
        read_ballot_csv('"round"x,voter\n', meeting)
    assert [line for line, _ in problems(excinfo)] == [1]
    assert problems(excinfo)[0][1].startswith("malformed CSV: ")
