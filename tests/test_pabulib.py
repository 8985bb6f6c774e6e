"""Pabulib `.pb` files: reading, writing, `covote recount --pb`, and the round export.

The fixtures in tests/fixtures are small enough to check by hand (see each test's docstring).
pabutools (GPL, test-only) is an independent reader and MES where it is installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.cli import main as covote
from app.record.pabulib import (
    Election,
    Project,
    format_amount,
    one_line,
    parse_amount,
    read_pb,
    recount_pb,
    round_meta,
    write_pb,
)
from app.record.records import RecordError
from tests.conftest import Meeting, Phone
from tests.test_budget_meeting import FUNDED, vote_budget_round

FIXTURES = Path(__file__).parent / "fixtures"
VECTORS = json.loads((Path(__file__).parent / "vectors" / "budget.json").read_text("utf-8"))


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text("utf-8")


def problems(text: str, filename: str = "x.pb") -> list[tuple[int | None, str]]:
    with pytest.raises(RecordError) as e:
        read_pb(text, filename=filename)
    return e.value.errors


# --- reading -------------------------------------------------------------------------------


def test_reads_the_spaced_example_as_vector_m3() -> None:
    """m3_spaced.pb ("key; value" style) is vector M3: its costs, budget and ballots."""
    e = read_pb(fixture("m3_spaced.pb"))
    m3 = next(c for c in VECTORS["cases"] if c["id"] == "M3")
    assert e.budget == m3["budget"] and e.meta["country"] == "United Kingdom"
    assert {p.id: p.cost for p in e.projects} == m3["costs"]
    assert [p.name for p in e.projects][:2] == ["Bike racks", "Benches"]
    assert [sorted(v) for _, v in e.voters] == [sorted(b) for b in m3["ballots"]]
    assert [voter for voter, _ in e.voters] == [str(i) for i in range(1, 11)]


@pytest.mark.parametrize(("completion", "mode"), [("none", "mes"), ("add1", "mes_add1")])
def test_recount_of_m3_matches_the_vector(completion: Any, mode: str) -> None:
    """Plain MES funds 4; Add1 funds 4 then 1 (share 267); greedy 4 then 5: as the vector."""
    m3 = next(c for c in VECTORS["cases"] if c["id"] == "M3")
    out = recount_pb(read_pb(fixture("m3_spaced.pb")), completion=completion)
    assert out["funded"] == m3["expect"][mode] and out["greedy"] == m3["expect"]["greedy"]
    assert out["voters"] == 10 and out["budget"] == 2500


def test_reads_bom_crlf_quotes_decimal_comma_and_extra_columns() -> None:
    """bloc_and_minority.pb: BOM, CRLF, blank lines, a quoted name with ";" and doubled quotes,
    decimal commas (700,0 and 300,0), age/sex columns and a voter who approves nothing."""
    e = read_pb(fixture("bloc_and_minority.pb"))
    assert e.budget == 700 and e.meta["currency"] == "GBP"
    assert e.meta["description"].startswith("Hand-checked: a bloc of 4, a minority of 2; and")
    assert [(p.id, p.cost, p.name) for p in e.projects] == [
        ("big", Fraction(400), "Big park; with lake"),
        ("mid", Fraction(300), "Library"),
        ("small", Fraction(200), 'Youth "hub"'),
    ]
    assert dict(e.voters)["a2"] == {"big", "mid"} and dict(e.voters)["z"] == frozenset()
    assert len(e.voters) == 7


def test_bloc_and_minority_by_hand() -> None:
    """n = 7, B = 700, s = 100. big and mid both have rho 1/4 (4 supporters): the cheaper mid
    goes first, each of the 4 paying 75; big is then unaffordable (4 x 25 < 400); small's 2
    supporters pay 100 each. 500 spent, 200 left, nothing unfunded fits: Add1 changes
    nothing. Most approvals first funds mid and big, leaving the two with nothing."""
    out = recount_pb(read_pb(fixture("bloc_and_minority.pb")))
    assert out["funded"] == ["mid", "small"] and out["greedy"] == ["mid", "big"]
    assert (out["share"], out["spent"], out["left"], out["voters"]) == (100, 500, 200, 7)
    assert [f["paid"] for f in out["funding"]] == [
        [{"amount": 75, "voters": 4}],
        [{"amount": 100, "voters": 2}],
    ]


def test_malformed_file_reports_every_line() -> None:
    """Every bad line of malformed.pb is reported with its number and reason."""
    assert problems(fixture("malformed.pb"), "malformed.pb") == [
        (4, 'budget: must be an amount such as 2500, not "lots"'),
        (10, 'project "a" is already listed on line 9'),
        (11, 'cost: must be an amount such as 600, not "-5"'),
        (12, 'project_id: must not contain a comma, not "c,d"'),
        (15, 'vote: unknown project "zzz"'),
        (16, 'voter "v1" already voted on line 15'),
        (17, 'vote: project "a" is listed twice'),
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "cumulative.pb",
            [(5, 'vote_type is "cumulative": Covote recounts approval elections only')],
        ),
        (
            "misordered.pb",
            [
                (4, "sections must come in the order META, PROJECTS, VOTES"),
                (None, "missing the VOTES section"),
            ],
        ),
        (
            "counts_disagree.pb",
            [
                (4, "num_projects is 3 but the PROJECTS section has 2"),
                (5, "num_votes is 1 but the VOTES section has 2"),
            ],
        ),
    ],
)
def test_structural_problems_of_fixture_files(
    name: str, expected: list[tuple[int | None, str]]
) -> None:
    """Wrong vote type, misordered or missing sections and wrong counts are each named."""
    assert problems(fixture(name), name) == expected


HEAD = "META\nkey;value\nbudget;10\nvote_type;approval\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "",
            [
                (None, "missing the META section"),
                (None, "missing the PROJECTS section"),
                (None, "missing the VOTES section"),
            ],
        ),
        (
            "budget;10\n" + HEAD + "PROJECTS\nproject_id;cost\nVOTES\nvoter_id;vote\n",
            [(1, "a row before any section: a .pb file starts with META")],
        ),
        (
            "META\nk;v\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;cost\n"
            "VOTES\nvoter_id;vote\n",
            [(2, 'the META header must be "key;value"')],
        ),
        (
            "META\nkey;value\nvote_type;approval\nPROJECTS\nproject_id;cost\nVOTES\nvoter_id;vote\n",
            [(1, "META has no budget")],
        ),
        (
            "META\nkey;value\nbudget;1\nPROJECTS\nproject_id;cost\nVOTES\nvoter_id;vote\n",
            [(1, "META has no vote_type (Covote recounts approval elections)")],
        ),
        (
            "META\nkey;value\nbudget;1\nbudget;2\nvote_type;approval\nPROJECTS\nproject_id;cost\n"
            "VOTES\nvoter_id;vote\n",
            [(4, 'META key "budget" is already set on line 3')],
        ),
        (
            HEAD + "PROJECTS\nproject_id;name\n1;A\nVOTES\nvoter_id;vote\n",
            [(6, 'the header has no column "cost"')],
        ),
        (
            HEAD + "PROJECTS\nproject_id;cost\nVOTES\nvoter_id;points\n",
            [(8, 'the header has no column "vote"')],
        ),
        (
            HEAD + "PROJECTS\nVOTES\nvoter_id;vote\n",
            [(5, "the section has no header line (project_id;cost)")],
        ),
        (
            HEAD + "PROJECTS\nproject_id;cost\n1;5\nMETA\nkey;value\nVOTES\nvoter_id;vote\n",
            [(8, "a second META section")],
        ),
        (
            HEAD + "PROJECTS\nproject_id;cost\n;5\n2;1,000.5\nVOTES\nvoter_id;vote\n;2\n",
            [
                (7, "project_id: must not be empty"),
                (8, 'cost: must be an amount such as 600, not "1,000.5"'),
                (11, "voter_id: must not be empty"),
            ],
        ),
        (
            "META\nkey;value\nbudget;1,000\nvote_type;approval\nPROJECTS\nproject_id;cost\n"
            "VOTES\nvoter_id;vote\n",
            [(3, 'budget: "1,000" is ambiguous (a thousands separator or a decimal comma?)')],
        ),
    ],
)
def test_bad_files_are_refused_with_line_and_reason(
    text: str, expected: list[tuple[int | None, str]]
) -> None:
    """Each structural problem is reported at the line that shows it."""
    assert problems(text) == expected


def test_amounts_are_exact_with_a_decimal_point_or_comma() -> None:
    """ "8000,0" and "12.50" are read exactly; signs, exponents and words are not amounts."""
    assert parse_amount("8000,0") == 8000 and parse_amount("12.50") == Fraction(25, 2)
    assert parse_amount(".5") == Fraction(1, 2)
    for bad in ("-5", "1e3", "", "ten", "1.2.3", "1,000,000"):
        assert parse_amount(bad) is None
    assert format_amount(Fraction(25, 2)) == "12.5" and format_amount(Fraction(300)) == "300"
    with pytest.raises(ValueError, match="decimal"):
        format_amount(Fraction(1, 3))


def test_choose_one_is_read_as_approval() -> None:
    """A `choose-1` election is an approval election with one approval each."""
    e = read_pb(
        HEAD.replace("approval", "choose-1")
        + "PROJECTS\nproject_id;cost\n1;5\nVOTES\nvoter_id;vote\nv;1\n"
    )
    assert e.voters == (("v", frozenset({"1"})),)


# --- writing -------------------------------------------------------------------------------


TRICKY = [";", ",", '"', " ", "\n", "\r", "\u2028", "\x85", "\x1e", "\t"]


@st.composite
def elections(draw: st.DrawFn) -> Election:
    ids = draw(
        st.lists(
            st.from_regex(r"[A-Za-z0-9_\-]{1,6}", fullmatch=True),
            min_size=1,
            max_size=6,
            unique=True,
        )
    )
    names = st.text(
        st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from(TRICKY),
        max_size=12,
    )
    projects = tuple(
        Project(
            pid,
            Fraction(draw(st.integers(0, 10**6)), draw(st.sampled_from([1, 2, 4, 10]))),
            draw(names).strip(),
        )
        for pid in ids
    )
    n = draw(st.integers(0, 12))
    voters = tuple(
        (f"v{i}", frozenset(draw(st.lists(st.sampled_from(ids), unique=True)))) for i in range(n)
    )
    budget = Fraction(draw(st.integers(0, 10**7)), draw(st.sampled_from([1, 2, 5])))
    return Election(
        meta={"description": draw(names)}, budget=budget, projects=projects, voters=voters
    )


def written(e: Election) -> str:
    return write_pb(e.meta, e.budget, e.projects, [(v, sorted(a)) for v, a in e.voters])


@settings(max_examples=150, deadline=None)
@given(elections())
def test_write_then_read_gives_the_same_election(e: Election) -> None:
    """Whatever is written (names with ; and quotes, empty votes, fractions of a unit) reads
    back as the same budget, projects and approvals."""
    back = read_pb(written(e))
    assert back.budget == e.budget and back.voters == e.voters
    assert [(p.id, p.cost, p.name) for p in back.projects] == [
        (p.id, p.cost, one_line(p.name).strip()) for p in e.projects
    ]
    assert back.meta["vote_type"] == "approval"
    assert back.meta["num_votes"] == str(len(e.voters))
    assert back.meta["description"] == one_line(e.meta["description"]).strip()


def test_write_pb_puts_meta_in_pabulib_order_and_optional_columns() -> None:
    """META keys come in pabulib's order; votes and selected columns appear when every project
    has them."""
    text = write_pb(
        {
            "rule": "r",
            "description": "d",
            "country": "c",
            "unit": "u",
            "instance": "i",
            "extra": "x",
        },
        Fraction(10),
        [Project("a", Fraction(4), "A", 2, 1), Project("b", Fraction(6), "B", 0, 0)],
        [("v1", ["b", "a"]), ("v2", ["a"])],
    )
    assert text.splitlines() == [
        "META",
        "key;value",
        "description;d",
        "country;c",
        "unit;u",
        "instance;i",
        "num_projects;2",
        "num_votes;2",
        "budget;10",
        "vote_type;approval",
        "rule;r",
        "extra;x",
        "PROJECTS",
        "project_id;cost;votes;name;selected",
        "a;4;2;A;1",
        "b;6;0;B;0",
        "VOTES",
        "voter_id;vote",
        "v1;a,b",
        "v2;a",
    ]


def test_write_pb_refuses_what_it_cannot_write() -> None:
    """Duplicate or comma ids and votes for unknown projects raise ValueError."""
    p = Project("a", Fraction(1))
    for projects, votes in (
        ([p, p], []),
        ([Project("a,b", Fraction(1))], []),
        ([p], [("v", ["zz"])]),
    ):
        with pytest.raises(ValueError):
            write_pb({}, Fraction(1), projects, votes)


def test_round_meta_describes_a_covote_round() -> None:
    """The META of an exported round: unit, instance, dates, rule, ISO currency, comment."""
    from datetime import datetime

    meta = round_meta(
        title="Budget night",
        number=2,
        opened=datetime(2025, 3, 4, 19),
        closed=datetime(2025, 3, 4, 20),
        currency="£",
        completion="add1",
    )
    assert meta["unit"] == "Budget night" and meta["instance"] == "2025 round 2"
    assert (meta["date_begin"], meta["date_end"]) == ("04.03.2025", "04.03.2025")
    assert meta["rule"] == "equalshares/add1" and meta["currency"] == "GBP"
    assert meta["comment"].startswith("#1: ")
    other = round_meta(
        title="T",
        number=1,
        opened=datetime(2025, 1, 1),
        closed=None,
        currency="zł",
        completion="none",
    )
    assert "currency" not in other and other["rule"] == "equalshares"


# --- the pabutools cross-check (GPL, test-only) -----------------------------------------------


@pytest.fixture(scope="module")
def pabutools() -> SimpleNamespace:
    pytest.importorskip("pabutools", reason="cross-checks need pabutools==1.2.2 (test-only)")
    from pabutools.election import Cost_Sat
    from pabutools.election.pabulib import parse_pabulib_from_string
    from pabutools.rules import method_of_equal_shares
    from pabutools.tiebreaking import TieBreakingRule

    return SimpleNamespace(
        parse=parse_pabulib_from_string,
        Cost_Sat=Cost_Sat,
        mes=method_of_equal_shares,
        TieBreakingRule=TieBreakingRule,
    )


def as_pabutools(
    pb: SimpleNamespace, text: str
) -> tuple[Fraction, dict[str, Fraction], list[frozenset[str]], Any, Any]:
    instance, profile = pb.parse(text)
    costs = {p.name: Fraction(p.cost) for p in instance}
    voters = [frozenset(p.name for p in ballot) for ballot in profile]
    return Fraction(instance.budget_limit), costs, voters, instance, profile


@pytest.mark.parametrize("name", ["m3_spaced.pb", "bloc_and_minority.pb"])
def test_reader_agrees_with_pabutools(pabutools: SimpleNamespace, name: str) -> None:
    """pabutools reads the fixtures to the same budget, costs and approvals."""
    text = fixture(name).removeprefix("\ufeff")
    budget, costs, voters, _, _ = as_pabutools(pabutools, text)
    ours = read_pb(text)
    assert ours.budget == budget and {p.id: p.cost for p in ours.projects} == costs
    assert sorted(map(sorted, (v for _, v in ours.voters))) == sorted(map(sorted, voters))


def pence(amount: str) -> int:
    """A .pb amount ("700", "700,0", "700.5") x 100."""
    return int(Fraction(amount.strip().replace(",", ".")) * 100)


def in_pence(text: str) -> str:
    """A .pb file's budget and project costs x 100: the same election priced in pence."""
    out, section, header = [], "", False
    for line in text.splitlines():
        if line.strip() in ("META", "PROJECTS", "VOTES"):
            section, header = line.strip(), True
        elif header:
            header = False  # the section's column names
        elif section == "META" and line.split(";")[0].strip() == "budget":
            line = f"budget;{pence(line.split(';')[1])}"
        elif section == "PROJECTS" and line.strip():
            pid, cost, *rest = line.split(";", 2)
            line = ";".join([pid, str(pence(cost)), *rest])
        out.append(line)
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("unit", [1, 100])
@pytest.mark.parametrize("name", ["m3_spaced.pb", "bloc_and_minority.pb"])
def test_mes_add1_agrees_with_pabutools(pabutools: SimpleNamespace, name: str, unit: int) -> None:
    """pabutools' MES with voter_budget_increment=1 funds the same projects (ties broken as
    ours: lower cost, more approvals, file order), also with the pot and costs in pence, where
    pabutools climbs one penny at a time."""
    text = fixture(name).removeprefix("\ufeff")
    if unit == 100:
        pounds = read_pb(text)
        text = in_pence(text)
        assert read_pb(text).budget == 100 * pounds.budget
    e = read_pb(text)
    _, _, voters, instance, profile = as_pabutools(pabutools, text)
    wants = {p.id: sum(p.id in v for v in voters) for p in e.projects}
    position = {p.id: i for i, p in enumerate(e.projects)}
    rule = pabutools.TieBreakingRule(lambda _i, _p, x: (x.cost, -wants[x.name], position[x.name]))
    theirs = pabutools.mes(
        instance,
        profile.as_multiprofile(),
        sat_class=pabutools.Cost_Sat,
        voter_budget_increment=1,
        tie_breaking=rule,
    )
    assert recount_pb(e)["funded"] == [p.name for p in theirs]


@settings(max_examples=60, deadline=None)
@given(elections())
def test_pabutools_reads_what_we_write(pabutools: SimpleNamespace, e: Election) -> None:
    """A file from write_pb parses in pabutools to the same budget, costs and approvals."""
    budget, costs, voters, _, _ = as_pabutools(pabutools, written(e))
    assert budget == e.budget and costs == {p.id: p.cost for p in e.projects}
    assert sorted(map(sorted, voters)) == sorted(map(sorted, (v for _, v in e.voters)))


# --- covote recount --pb -----------------------------------------------------------------------


def test_cli_recount_pb_prints_the_budget_record(capsys: pytest.CaptureFixture[str]) -> None:
    """`covote recount --pb FILE` prints funded, greedy, share, spent and left as JSON."""
    assert covote(["recount", "--pb", str(FIXTURES / "bloc_and_minority.pb")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {k: out[k] for k in ("funded", "greedy", "share", "spent", "left")} == {
        "funded": ["mid", "small"],
        "greedy": ["mid", "big"],
        "share": 100,
        "spent": 500,
        "left": 200,
    }
    assert out["completion"] == "add1"


def test_cli_completion_option(capsys: pytest.CaptureFixture[str]) -> None:
    """--completion none gives plain MES (M3: only project 4)."""
    assert covote(["recount", "--pb", str(FIXTURES / "m3_spaced.pb"), "--completion", "none"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["funded"] == ["4"] and out["completion"] == "none"


def test_cli_reports_a_malformed_pb_with_file_and_line(capsys: pytest.CaptureFixture[str]) -> None:
    """Bad input: `file:line: reason` on stderr, exit status 2, nothing on stdout."""
    assert covote(["recount", "--pb", str(FIXTURES / "malformed.pb")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert 'malformed.pb:15: vote: unknown project "zzz"' in captured.err
    assert "malformed.pb:4: budget" in captured.err
    assert covote(["recount", "--pb", str(FIXTURES / "misordered.pb")]) == 2
    assert "misordered.pb: missing the VOTES section" in capsys.readouterr().err
    assert covote(["recount", "--pb", str(FIXTURES / "nope.pb")]) == 2
    assert "No such file" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["recount", "b.csv", "--pb", "x.pb"],
        ["recount", "--meeting", "m.json", "--pb", "x.pb"],
        ["recount", "b.csv", "--meeting", "m.json", "--completion", "none"],
        ["recount", "b.csv"],
        ["recount"],
        ["recount", "--pb", "x.pb", "--completion", "greedy"],
    ],
)
def test_cli_refuses_mixed_or_missing_arguments(argv: list[str]) -> None:
    """Either BALLOTS --meeting MEETING or --pb FILE: other combinations exit with status 2."""
    with pytest.raises(SystemExit) as e:
        covote(argv)
    assert e.value.code == 2


# --- the round export ---------------------------------------------------------------------------


def test_round_export_then_recount_gives_what_the_projector_showed(
    tmp_path: Path, facilitator: httpx.Client, server: Any
) -> None:
    """Round trip: the console's Pabulib export of a budget round, recounted by
    `covote recount --pb`, funds what the projector showed, with the same record."""
    from tests.test_budget_meeting import BUDGET_MEETING

    m = Meeting(facilitator, BUDGET_MEETING)
    phones: Callable[[], Phone] = lambda: Phone(server.browser(), m.code)  # noqa: E731
    vote_budget_round(m, phones)
    shown = m.state()["results"]
    r = facilitator.get(f"/console/{m.id}/rounds/1/export/pabulib.pb")
    assert r.status_code == 200
    assert r.headers["content-disposition"].endswith('-round-1.pb"')  # test_record_minutes
    path = tmp_path / "round.pb"
    path.write_bytes(r.content)
    election = read_pb(r.text)
    assert [p.id for p in election.projects] == ["respite", "youth", "park", "cycle", "square"]
    assert len(election.voters) == 10 and election.budget == 300000
    assert election.meta["unit"] == "Budget night" and election.meta["currency"] == "GBP"
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "recount", "--pb", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    record = json.loads(out)
    assert record["funded"] == FUNDED
    keys = (
        "budget",
        "completion",
        "voters",
        "share",
        "funded",
        "greedy",
        "spent",
        "left",
        "funding",
    )
    assert record == {k: shown[k] for k in keys}
    selected = r.text.split("PROJECTS\n")[1].split("VOTES")[0].splitlines()
    assert selected[0] == "project_id;cost;votes;name;selected"
    assert "park;100000;8;Play park;1" in selected and "square;110000;5;Town square;0" in selected
