"""Tests for the charter's files: covote-charter/1 JSON and Markdown (round trips, hostile files),
the diff between drafts, draft commitments from other meetings, the consent CSV and
`covote charter tabulate`."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import cli
from app.core.inputs import clean_text
from app.core.shapes import RoundRecord
from app.record import charter_file as cf
from app.record import charter_files as cfs
from app.record import charter_markdown as cm
from app.record.records import RecordError
from app.rules import charter_doc as cd
from app.rules.charter import (
    AmendmentStatus,
    CharterRule,
    Consent,
    Reason,
)
from app.rules.charter_count import ConsentBallot
from app.rules.tally import Rule


def sample() -> cd.Charter:
    """A charter using every field: both languages, an amendment, every source of commitment."""
    return cd.Charter(
        title="Ashdown Community Charter",
        title_cy="Siarter Gymunedol Ashdown",
        version=2,
        sections=(
            cd.Section(
                "housing",
                "Housing {#not-a-key}",
                "Tai",
                (
                    cd.Clause(
                        "repairs",
                        "Repairs are done within 28 days; **urgent** ones in 24 hours.",
                        "Mae atgyweiriadau'n cael eu gwneud o fewn 28 diwrnod.",
                        ("tenants", "disabled"),
                        (
                            cd.Amendment(
                                "repairs-a1",
                                "Repairs are done within 14 days.",
                                "Mae atgyweiriadau'n cael eu gwneud o fewn 14 diwrnod.",
                                AmendmentStatus.ACCEPTED,
                            ),
                            cd.Amendment("repairs-a2", "Never.", status=AmendmentStatus.DECLINED),
                        ),
                    ),
                    cd.Clause("heating", "Heating is checked before winter."),
                ),
            ),
            cd.Section("parks", "Parks", clauses=(cd.Clause("benches", "Benches every 200 m."),)),
        ),
        parties=(
            cd.Party(
                "council",
                "Ashdown Council",
                cd.PartyKind.COUNCIL,
                "Cyngor Ashdown",
                ("Jo Bloggs", "Sam Jones"),
            ),
            cd.Party("residents", "Residents of Ashdown", cd.PartyKind.RESIDENTS),
        ),
        commitments=(
            cd.Commitment(
                "k1",
                "council",
                "Report repair times every quarter",
                "Adrodd amseroedd atgyweirio bob chwarter",
                "repairs",
                "2027-03-31",
                "share of repairs done in 28 days",
                "cyfran yr atgyweiriadau o fewn 28 diwrnod",
            ),
            *cd.from_budget(
                [cd.BudgetItem("youth club", "Youth club", "Clwb ieuenctid")], "council"
            ),
            *cd.from_pledges(
                {"walk": ("Walk with a neighbour", 14), "none": ("x", 0)}, "residents"
            ),
        ),
    )


# --- JSON -------------------------------------------------------------------------------------


def test_json_export_import_export_is_identical() -> None:
    """A charter written as JSON reads back to the same charter and writes the same bytes."""
    text = cf.dump_charter(sample())
    again = cf.parse_charter(text)
    assert again == sample()
    assert cf.dump_charter(again) == text
    assert json.loads(text)["format"] == "covote-charter/1"


def test_markdown_export_import_export_is_identical() -> None:
    """The Markdown reads back to the same charter (Welsh lines, amendments, sources and all)."""
    text = cm.dump_markdown(sample())
    assert "1. Repairs are done within 28 days; **urgent** ones in 24 hours. {#repairs}" in text
    assert "   > cy: Mae atgyweiriadau'n cael eu gwneud o fewn 28 diwrnod." in text
    assert "  > source: lab (14 pledged): walk" in text
    again = cm.parse_markdown(text)
    assert again == sample()
    assert cm.dump_markdown(again) == text


def test_a_minimal_json_file_takes_defaults() -> None:
    """Only the format and title are required; everything else defaults to empty."""
    c = cf.parse_charter('{"format": "covote-charter/1", "title": "  Charter  "}')
    assert c == cd.Charter("Charter")


def problems_of(text: str, *, markdown: bool = False) -> list[str]:
    with pytest.raises(RecordError) as e:
        (cm.parse_markdown if markdown else cf.parse_charter)(text)
    return [f"{line}: {reason}" if line else reason for line, reason in e.value.errors]


def test_a_hostile_json_file_lists_every_problem_by_field_and_changes_nothing() -> None:
    """Every problem is listed with its field; a huge key is never echoed whole."""
    data = json.loads(cf.dump_charter(sample()))
    data["sections"][0]["clauses"][0]["text"] = "   "
    data["sections"][0]["clauses"][1]["key"] = "Bad Key"
    data["parties"][0]["kind"] = "mayor"
    data["commitments"][0]["by_when"] = "2027-02-29"  # not a date: 2027 is no leap year
    data["commitments"][0]["source"] = {"kind": "lab", "ref": "walk"}  # no pledges
    data["x" * 10_000] = 1
    found = problems_of(json.dumps(data))
    assert "sections[0].clauses[0].text: must not be empty" in found
    assert any(p.startswith("sections[0].clauses[1].key: must be 1-32 lowercase") for p in found)
    assert any(p.startswith("parties[0].kind: must be") for p in found)
    assert any(p.startswith("commitments[0].by_when: must be a date") for p in found)
    assert all(len(p) < 300 for p in found)


def test_cross_references_are_checked() -> None:
    """Keys used twice and a commitment naming an unknown party or clause are refused."""
    data = json.loads(cf.dump_charter(sample()))
    data["sections"][1]["clauses"][0]["key"] = "repairs"
    data["commitments"][0]["party"] = "mayor"
    data["commitments"][0]["clause"] = "gone"
    data["commitments"][1]["source"]["pledges"] = 3  # a budget commitment with pledges
    found = problems_of(json.dumps(data))
    assert "clauses and amendments: the key 'repairs' is used twice" in found
    assert "commitments[0].party: no party 'mayor'" in found
    assert "commitments[0].clause: no clause 'gone'" in found
    assert "commitments[1].source: pledges go with a lab's commitment" in found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1]", "must be a JSON object"),
        ('{"format": "covote-charter/1", "title": "x",', "invalid JSON"),
        ("[" * 10_000, "invalid JSON"),
        ('{"format": "covote-survey/1", "title": "x"}', 'format: must be "covote-charter/1"'),
        ('{"format": "covote-charter/1", "title": "x", "version": 0}', "version: must be >= 1"),
        ("x" * (cf.MAX_FILE_CHARS + 1), "is over 2,000,000 characters"),
    ],
)
def test_malformed_json_is_refused_with_a_reason(text: str, expected: str) -> None:
    """Not an object, bad syntax, too deep, another format, a bad version, too big: refused."""
    assert any(expected in p for p in problems_of(text))


def test_a_hostile_markdown_file_is_refused_by_line() -> None:
    """Lines that fit no part of the layout are listed by number; field problems follow."""
    text = cm.dump_markdown(sample()).replace("> party: council", "> party: council\n  > party: x")
    text = text.replace("Version 2", "Version 2\n\nSome stray prose " + "y" * 100_000)
    text += "  > colour: blue\n"
    found = problems_of(text, markdown=True)
    assert "6: a line of a charter is at most 5,000 characters" in found
    assert any('"party" is given twice' in p for p in found)
    assert any('"colour" is not a line a commitment has' in p for p in found)
    assert all(len(p) < 200 for p in found)
    untitled = problems_of("## Housing {#housing}\n1. A clause {#c1}\n", markdown=True)
    assert untitled == ['the first heading ("# Title") is missing']
    bad_key = problems_of("# T\n\n## Housing {#Housing}\n", markdown=True)
    assert any(p.startswith("sections[0].key: must be") for p in bad_key)


# --- the diff ---------------------------------------------------------------------------------


def test_diff_says_what_was_added_removed_reworded_and_moved() -> None:
    """Clauses matched by key: a reworded one gets a word diff (English and Welsh), a new one
    is added, a dropped one removed, one put in another section moved."""
    old = sample()
    housing, parks = old.sections
    repairs, heating = housing.clauses
    new_repairs = replace(
        repairs,
        text="Repairs are done within 14 days; **urgent** ones in 24 hours.",
        text_cy="Mae atgyweiriadau'n cael eu gwneud o fewn 14 diwrnod.",
    )
    new = replace(
        old,
        version=3,
        sections=(
            replace(housing, clauses=(new_repairs,)),
            replace(parks, clauses=(*parks.clauses, heating, cd.Clause("trees", "Plant trees."))),
        ),
        commitments=old.commitments[1:],
    )
    changes = cd.diff(old, new)
    kinds = [(c.thing, c.key, c.kind.value) for c in changes]
    assert kinds == [
        ("clause", "repairs", "reworded"),
        ("clause", "trees", "added"),
        ("clause", "heating", "moved"),
        ("commitment", "k1", "removed"),
    ]
    words = changes[0].words
    assert (cd.Op.DELETED, "28") in words and (cd.Op.INSERTED, "14") in words
    text = cd.render_diff(old, new, changes)
    assert text.splitlines()[0] == "Ashdown Community Charter: version 2 → version 3"
    assert "  Repairs are done within [-28-] {+14+} days; **urgent** ones in 24 hours." in text
    assert "  cy: Mae atgyweiriadau'n cael eu gwneud o fewn [-28-] {+14+} diwrnod." in text


def test_diff_of_a_charter_with_itself_is_empty() -> None:
    """No change, no lines: a charter compared with itself says so."""
    assert cd.diff(sample(), sample()) == ()
    assert cd.render_diff(sample(), sample(), ()).endswith("No changes.\n")


def test_adding_a_clause_does_not_move_the_others() -> None:
    """Only the added clause is reported; the ones after it did not move."""
    old = sample()
    housing = old.sections[0]
    new = replace(
        old,
        sections=(
            replace(housing, clauses=(cd.Clause("first", "New first."), *housing.clauses)),
            old.sections[1],
        ),
    )
    assert [(c.key, c.kind.value) for c in cd.diff(old, new)] == [("first", "added")]


def test_pledges_are_drafted_as_counts_never_names() -> None:
    """A lab's pledges become draft commitments carrying only a count; zero pledges none."""
    drafted = cd.from_pledges({"walk": ("Walk with a neighbour", 14), "none": ("x", 0)}, "res")
    assert [(c.key, c.source.pledges, c.source.kind.value) for c in drafted] == [
        ("lab-walk", 14, "lab")
    ]


# --- the consent CSV and the recount ----------------------------------------------------------

RULE = CharterRule(10, Rule(ratio=2, group_min=3))


def _ballots() -> list[ConsentBallot]:
    votes = []
    for i in range(12):
        segs = frozenset({"tenants"}) if i < 4 else frozenset({"staff"})
        answers = {"repairs": Consent.BLOCK if i < 4 else Consent.FULL, "repairs-a1": Consent.FULL}
        votes.append(ConsentBallot(f"v-{i:02d}", segs, answers))
    votes.append(ConsentBallot("v-99", frozenset({"disabled"}), {"benches": Consent.LIVE_WITH}))
    return votes


def _write(tmp_path: Path, charter: cd.Charter, ballots: list[ConsentBallot]) -> list[str]:
    """The round's public files as the server writes them; the tabulate command that reads them."""
    decisions = cfs.count_round(charter, ballots, RULE)
    consent = cfs.write_consent_csv(charter, cfs.public_consent(ballots))
    (tmp_path / "consent.csv").write_text(consent, encoding="utf-8")
    groups = cfs.write_groups_csv(cfs.group_rows(decisions))
    (tmp_path / "groups.csv").write_text(groups, encoding="utf-8")
    (tmp_path / "charter.json").write_text(cf.dump_charter(charter), encoding="utf-8")
    return [
        *("charter", "tabulate", str(tmp_path / "consent.csv")),
        *("--groups", str(tmp_path / "groups.csv"), "--charter", str(tmp_path / "charter.json")),
        *("--m", "3", "--r", "2", "--block-percent", "10"),
    ]


def test_public_consent_has_no_segments_and_only_voters_who_answered() -> None:
    """No voter's segments are published beside their answers; a voter who answered nothing
    has no row."""
    public = cfs.public_consent([*_ballots(), ConsentBallot("v-50", frozenset({"tenants"}), {})])
    assert [b.voter for b in public] == [*(f"v-{i:02d}" for i in range(12)), "v-99"]
    assert all(not b.segments for b in public)


def test_consent_and_groups_csv_round_trip_and_tabulate_reproduces_the_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`covote charter tabulate` prints, byte for byte, the results the server counted on the
    voters' true segments, from the consent CSV and the groups CSV."""
    charter = sample()
    decisions = cfs.count_round(charter, _ballots(), RULE)
    public = cfs.public_consent(_ballots())
    csv_text = cfs.write_consent_csv(charter, public)
    assert csv_text.splitlines()[:2] == ["voter,item,answer", "v-00,repairs,5"]
    assert cfs.read_consent_csv(csv_text, charter) == public
    rows = cfs.group_rows(decisions)
    groups_text = cfs.write_groups_csv(rows)
    assert groups_text.splitlines() == [  # the one disabled voter (under m) is not published
        "item,segment,voters,support,change,block",
        "repairs,tenants,4,0,0,4",
        "repairs-a1,tenants,4,4,0,0",
    ]
    assert cfs.read_groups_csv(groups_text, charter, 3) == rows
    expected = cfs.dumps_charter_results(decisions, RULE)
    assert cfs.dumps_charter_results(cfs.tabulate(charter, public, RULE, rows), RULE) == expected
    results = json.loads(expected)
    repairs, benches = results["clauses"]
    assert (repairs["clause"], repairs["adopted"], repairs["decision"]) == (
        "repairs",
        "repairs-a1",
        "ADOPTED",
    )
    assert repairs["wordings"][0]["groups"] == ["tenants"]  # 4 tenants block the original
    assert benches["wordings"][0]["affected"] == []
    assert cli.main(_write(tmp_path, charter, _ballots())) == 0
    assert capsys.readouterr().out == expected


def test_a_small_group_whose_members_hold_rare_combinations_still_blocks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three tenants block; each holds a combination of segments fewer than m share, so a
    consent CSV coarsened under m would show none of them as a tenant (the old recount adopted
    the clause). The rule counts their true segments and sends it back; the groups CSV carries
    the tenants' totals, and tabulate reproduces the decision byte for byte."""
    charter = sample()
    votes = [
        ConsentBallot("v-t1", frozenset({"tenants", "disabled"}), {"repairs": Consent.BLOCK}),
        ConsentBallot("v-t2", frozenset({"tenants", "staff"}), {"repairs": Consent.BLOCK}),
        ConsentBallot("v-t3", frozenset({"tenants"}), {"repairs": Consent.BLOCK}),
        *(ConsentBallot(f"v-{i:02d}", frozenset(), {"repairs": Consent.FULL}) for i in range(27)),
    ]
    # What the old path counted: combinations of the blocking segments under m lost them.
    from app.record.survey_files import protected_cells

    kept = [(b, frozenset(b.segments & {"tenants", "disabled"})) for b in votes]
    cells = protected_cells(Counter((None, s) for _, s in kept), RULE.rule.group_min)
    coarsened = [replace(b, segments=cells[(None, s)][1]) for b, s in kept]
    assert all(not b.segments for b in coarsened)
    old = cfs.count_round(charter, coarsened, RULE)
    assert old[0].adopted == "repairs"  # 3 blocks in 30 is not over 10 %: the tenants vanished

    new = cfs.count_round(charter, votes, RULE)
    original = new[0].wordings[0]
    assert (new[0].adopted, original.outcome.reasons, original.outcome.groups) == (
        None,
        (Reason.GROUP_BLOCKS,),
        ("tenants",),
    )
    expected = cfs.dumps_charter_results(new, RULE)
    tenants = json.loads(expected)["clauses"][0]["wordings"][0]["affected"][1]
    assert tenants == {
        "group": "tenants",
        "V": 3,
        "support": 0,
        "change": 0,
        "block": 3,
        "blocks": True,
        "suppressed": False,
    }
    assert cli.main(_write(tmp_path, charter, votes)) == 0
    assert capsys.readouterr().out == expected
    assert "tenants" not in (tmp_path / "consent.csv").read_text(encoding="utf-8")


def test_a_bad_consent_csv_is_refused_by_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown or declined amendment, an answer outside 1-5, a repeat and a row of the old
    four fields are listed by line (exit 2)."""
    text = (
        "voter,item,answer\n"
        "v-1,repairs,6\n"
        "v-1,repairs-a2,1\n"
        "v-2,repairs,1\n"
        "v-2,repairs,2\n"
        "v-2,heating,2,tenants\n"
    )
    with pytest.raises(RecordError) as e:
        cfs.read_consent_csv(text, sample())
    assert [line for line, _ in e.value.errors] == [2, 3, 5, 6]
    assert "answer: must be 1, 2, 3, 4 or 5" in e.value.errors[0][1]
    assert "not a clause or amendment" in e.value.errors[1][1]
    assert "expected 3 fields" in e.value.errors[3][1]
    args = _write(tmp_path, sample(), _ballots())
    (tmp_path / "consent.csv").write_text(text, encoding="utf-8")
    assert cli.main(args) == 2
    assert "consent.csv:2: answer" in capsys.readouterr().err


def test_a_bad_groups_csv_is_refused_by_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A group under m, totals that do not add up, a group not affected by the clause, a
    count that is not a bounded whole number and a repeat are listed by line (exit 2)."""
    text = (
        "item,segment,voters,support,change,block\n"
        "repairs,disabled,2,0,0,2\n"
        "repairs-a1,disabled,5,1,1,1\n"
        "benches,tenants,4,0,0,4\n"
        "repairs-a1,tenants,4,4,0,-1\n"
        "nowhere,tenants,1234567890,0,0,1234567890\n"
        "repairs,tenants,4,0,0,4\n"
        "repairs,tenants,4,0,0,4\n"
    )
    with pytest.raises(RecordError) as e:
        cfs.read_groups_csv(text, sample(), 3)
    assert [(line, reason.split(":")[0]) for line, reason in e.value.errors] == [
        (2, "voters"),
        (3, "support + change + block must equal voters"),
        (4, "segment"),
        (5, "block"),
        (6, "item"),
        (6, "voters"),
        (6, "block"),
        (8, '"tenants" on "repairs" is already on line 7'),
    ]
    args = _write(tmp_path, sample(), _ballots())
    (tmp_path / "groups.csv").write_text(text, encoding="utf-8")
    assert cli.main(args) == 2
    assert "groups.csv:2: voters" in capsys.readouterr().err


def test_group_totals_the_consent_csv_contradicts_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A group with more blocks than the room gave is a disagreement between the files (exit 1),
    not a count."""
    args = _write(tmp_path, sample(), _ballots())
    (tmp_path / "groups.csv").write_text(
        "item,segment,voters,support,change,block\nrepairs,tenants,5,0,0,5\n", encoding="utf-8"
    )
    assert cli.main(args) == 1
    assert "more answers than the room" in capsys.readouterr().err
    with pytest.raises(ValueError, match="segments"):
        cfs.tabulate(sample(), _ballots(), RULE, [])


@settings(max_examples=150, deadline=None)
@given(
    votes=st.lists(
        st.tuples(
            st.frozensets(st.sampled_from(["tenants", "disabled", "staff"])),
            st.sampled_from(list(Consent)),
            st.none() | st.sampled_from(list(Consent)),
        ),
        max_size=30,
    ),
    group_min=st.integers(1, 5),
)
def test_the_public_files_recount_every_decision_exactly(
    votes: list[tuple[frozenset[str], Consent, Consent | None]], group_min: int
) -> None:
    """For any ballots: the consent CSV (no segments) plus the groups CSV (groups of m or more)
    give, byte for byte, the results counted on every voter's true segments."""
    rule = CharterRule(10, Rule(ratio=2, group_min=group_min))
    charter = sample()
    ballots = [
        ConsentBallot(
            f"v-{i:02d}",
            segs,
            {"repairs": a, **({"repairs-a1": b} if b is not None else {})},
        )
        for i, (segs, a, b) in enumerate(votes)
    ]
    expected = cfs.dumps_charter_results(cfs.count_round(charter, ballots, rule), rule)
    consent = cfs.read_consent_csv(
        cfs.write_consent_csv(charter, cfs.public_consent(ballots)), charter
    )
    rows = cfs.group_rows(cfs.count_round(charter, ballots, rule))
    groups = cfs.read_groups_csv(cfs.write_groups_csv(rows), charter, group_min)
    assert all(group_min <= r.counts.V for r in groups)
    assert cfs.dumps_charter_results(cfs.tabulate(charter, consent, rule, groups), rule) == expected


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_the_groups_reader_never_raises_anything_but_a_record_error(text: str) -> None:
    """Any text: rows or a RecordError with lines and reasons, never another exception."""
    for candidate in (text, "item,segment,voters,support,change,block\n" + text):
        try:
            cfs.read_groups_csv(candidate, sample(), 3)
        except RecordError as e:
            assert e.errors


# --- properties: any charter round-trips through both formats ---------------------------------

# Clean text (what the files keep): no controls, direction or invisible marks, no edge spaces;
# U+2028 and Markdown's own marks ({#, **, >, 1.) included on purpose.
_CHARS = st.characters(
    blacklist_categories=("Cc", "Cs", "Cf", "Co", "Cn"), blacklist_characters="\u061c"
)
_SPICE = st.sampled_from(["{#x}", "**", "> cy: ", "1. ", "## ", "\u2028", " (council)", ";"])


def _clean(most: int) -> st.SearchStrategy[str]:
    raw = st.lists(st.one_of(_CHARS, _SPICE), min_size=1, max_size=8).map("".join)
    return raw.map(lambda s: clean_text(s).strip()[:most].strip()).filter(
        lambda s: bool(s) and clean_text(s).strip() == s
    )


_keys = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,6}", fullmatch=True)
_welsh = st.one_of(st.just(""), _clean(50))


@st.composite
def charters(draw: st.DrawFn) -> cd.Charter:
    keys = iter(draw(st.lists(_keys, min_size=30, max_size=30, unique=True)))
    sections = []
    for _ in range(draw(st.integers(0, 2))):
        clauses = tuple(
            cd.Clause(
                next(keys),
                draw(_clean(60)),
                draw(_welsh),
                tuple(draw(st.lists(_keys, max_size=2, unique=True))),
                tuple(
                    cd.Amendment(
                        next(keys), draw(_clean(40)), draw(_welsh), draw(st.sampled_from(AS))
                    )
                    for _ in range(draw(st.integers(0, 2)))
                ),
            )
            for _ in range(draw(st.integers(0, 3)))
        )
        sections.append(cd.Section(next(keys), draw(_clean(40)), draw(_welsh), clauses))
    names = _clean(40).filter(lambda s: ";" not in s)
    parties = tuple(
        cd.Party(
            next(keys),
            draw(_clean(40)),
            draw(st.sampled_from(list(cd.PartyKind))),
            draw(_welsh),
            tuple(draw(st.lists(names, max_size=2))),
        )
        for _ in range(draw(st.integers(1, 2)))
    )
    clause_keys = ["", *(c.key for s in sections for c in s.clauses)]
    sources = st.one_of(
        st.just(cd.Source()),
        st.builds(cd.Source, st.just(cd.SourceKind.BUDGET), _clean(20)),
        st.builds(cd.Source, st.just(cd.SourceKind.LAB), _clean(20), st.integers(0, 10**6)),
    )
    commitments = tuple(
        cd.Commitment(
            next(keys),
            draw(st.sampled_from([p.key for p in parties])),
            draw(_clean(60)),
            draw(_welsh),
            draw(st.sampled_from(clause_keys)),
            draw(st.sampled_from(["", "2027-03-31"])),
            draw(st.one_of(st.just(""), _clean(40))),
            draw(_welsh),
            draw(sources),
        )
        for _ in range(draw(st.integers(0, 3)))
    )
    return cd.Charter(
        draw(_clean(40)),
        draw(_welsh),
        draw(st.integers(1, 99)),
        tuple(sections),
        parties,
        commitments,
    )


AS = list(AmendmentStatus)


@settings(max_examples=80, deadline=None)
@given(charters())
def test_any_charter_round_trips_through_json_and_markdown(charter: cd.Charter) -> None:
    """Whatever the texts hold, both formats read back to the same charter, byte for byte."""
    text = cf.dump_charter(charter)
    assert cf.parse_charter(text) == charter
    md = cm.dump_markdown(charter)
    assert cm.parse_markdown(md) == charter
    assert cm.dump_markdown(cm.parse_markdown(md)) == md


# --- what a round's decisions and a budget meeting give the next draft -------------------------


def test_adopting_an_amendment_makes_the_next_version_with_its_wording() -> None:
    """An adopted amendment replaces the clause's text in the next version; the diff shows it."""
    charter = sample()
    decisions = cfs.count_round(charter, _ballots(), RULE)
    new = cd.adopt(charter, decisions)
    repairs = new.clauses()[0]
    assert new.version == 3
    assert (repairs.text, repairs.amendments) == ("Repairs are done within 14 days.", ())
    assert new.clauses()[2] == charter.clauses()[2]  # benches: adopted as worded, no amendments
    changes = cd.diff(charter, new)
    assert [(c.thing, c.key, c.kind.value) for c in changes] == [
        ("clause", "repairs", "reworded"),
        ("amendment", "repairs-a1", "removed"),
        ("amendment", "repairs-a2", "removed"),
    ]


def test_a_budget_rounds_funded_and_protected_proposals_become_draft_commitments() -> None:
    """Funded (MES) and PROTECTED proposals are drafted, in the round's order; others are not."""
    record: RoundRecord = json.loads(
        json.dumps(
            {
                "proposals": [
                    {"id": "Youth Club", "category": "SUPPORTED"},
                    {"id": "bus", "category": "PROTECTED"},
                    {"id": "pool", "category": "REJECTED"},
                    {"id": "library", "category": "SUPPORTED"},
                ],
                "ranking": [],
                "funded": ["Youth Club"],
            }
        )
    )
    items = cd.budget_items(record, {"bus": ("Night bus", "Bws nos")})
    assert [(i.id, i.title, i.title_cy) for i in items] == [
        ("Youth Club", "Youth Club", ""),
        ("bus", "Night bus", "Bws nos"),
    ]
    drafted = cd.from_budget(items, "council", taken={"budget-bus"})
    assert [c.key for c in drafted] == ["budget-youth-club", "budget-bus-2"]
    assert drafted[1].source == cd.Source(cd.SourceKind.BUDGET, "bus")


@pytest.mark.parametrize(
    "flags", [["--m", "0"], ["--r", "0"], ["--block-percent", "101"], ["--block-percent", "-1"]]
)
def test_tabulate_refuses_rule_parameters_out_of_bounds(
    tmp_path: Path, flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """m or R under 1, or a block share outside 0-100, is a usage error (exit 2), not a count."""
    args = ["charter", "tabulate", str(tmp_path / "c.csv"), "--charter", str(tmp_path / "c.json")]
    args += ["--groups", str(tmp_path / "g.csv")]
    with pytest.raises(SystemExit) as e:
        cli.main([*args, *flags])
    assert e.value.code == 2
    assert "must be from" in capsys.readouterr().err


def test_tabulate_reports_an_unreadable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing file is reported in one line (exit 2), never a traceback."""
    args = ["charter", "tabulate", str(tmp_path / "c.csv"), "--charter", str(tmp_path / "c.json")]
    assert cli.main([*args, "--groups", str(tmp_path / "g.csv")]) == 2
    assert capsys.readouterr().err.startswith("covote charter tabulate: ")


def test_the_results_json_has_exactly_the_keys_of_its_shape() -> None:
    """The results JSON, as printed, conforms to `shapes.CharterResults` key for key."""
    from app.core import shapes
    from tests.test_shapes import Conformance

    printed = json.loads(
        cfs.dumps_charter_results(cfs.count_round(sample(), _ballots(), RULE), RULE)
    )
    checker = Conformance()
    checker.check(printed, shapes.CharterResults, "results")
    assert checker.problems == []
    disabled, tenants = printed["clauses"][0]["wordings"][0]["affected"]
    assert disabled == {
        "group": "disabled",
        "V": None,
        "support": None,
        "change": None,
        "block": None,
        "blocks": False,
        "suppressed": True,
    }
    assert (tenants["V"], tenants["block"], tenants["blocks"]) == (4, 4, True)
