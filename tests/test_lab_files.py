"""The Co-Production Lab's public files (app/record/lab_files.py) and `covote lab tabulate`:
what is written reads back to the same results, hostile files are refused line by line, rare
segment combinations are coarsened, segments that may object are published only as group
totals (so coarsening never silences them), and the command prints the server's JSON byte for
byte."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.cli import main as covote
from app.record import lab_files
from app.record.lab_files import IdeaRow
from app.record.records import RecordError
from app.rules import lab, lab_json, lab_tally
from app.rules.lab import IdeaKind, IdeaStatus, LabVoter, Rating
from app.rules.tally import Rule

A, D, P = Rating.AGREE, Rating.DISAGREE, Rating.PASS


def idea(key: str, status: IdeaStatus = IdeaStatus.APPROVED, **kw: object) -> IdeaRow:
    fields: dict[str, object] = {
        "key": key,
        "challenge": "library",
        "kind": IdeaKind.REDESIGN,
        "status": status,
        "merged_into": "",
        "text": f"=Open on Sundays ({key})",  # a formula-like cell: neutralised and restored
        "text_cy": f"Syniad {key}: agor ar y Sul",
        "supporters": 3,
        "helpers": 1,
        "affected": (),
    }
    fields.update(kw)
    return IdeaRow(**fields)  # type: ignore[arg-type]


IDEAS = [
    *(idea(f"c{c}-{j}") for c in range(2) for j in range(5)),
    idea("common", affected=("tenants",)),
    idea("old", IdeaStatus.MERGED, merged_into="common"),
    idea("rude", IdeaStatus.HIDDEN, text="", text_cy=""),
    idea("new", IdeaStatus.PENDING),
]


def lab_voters(seed: int = 2) -> list[LabVoter]:
    """Two camps of 15 (each agreeing with its own ideas), everyone for `common`; segments
    `tenants` for most, and a rare combination held by two voters."""
    rng = random.Random(seed)
    out = []
    for c in range(2):
        for n in range(15):
            ratings = {f"c{o}-{j}": A if o == c else D for o in range(2) for j in range(5)}
            ratings = {k: P if rng.random() < 0.1 else r for k, r in ratings.items()}
            ratings.update({"common": A, "old": D, "rude": D})
            segments = ("tenants", "young") if n < 2 else ("tenants",) if n % 2 else ()
            out.append(LabVoter(f"v-{c}{n:02d}", segments, ratings))
    return out


def approved(ideas: list[IdeaRow]) -> list[lab.LabIdea]:
    return [lab.LabIdea(i.key, i.challenge, i.affected) for i in ideas if i.status == "approved"]


def published(
    voters: list[LabVoter], m: int = 5, ratio: int = 2, seed: int = 0, ideas: list[IdeaRow] = IDEAS
) -> lab_files.Published:
    """What the server publishes (module doc of lab_files)."""
    return lab_files.publish(approved(ideas), voters, Rule(ratio=ratio, group_min=m), seed=seed)


def served(voters: list[LabVoter], m: int = 5, ratio: int = 2, seed: int = 0) -> str:
    return lab_json.dumps_lab_results(published(voters, m, ratio, seed).result)


def write_files(tmp_path: Path, pub: lab_files.Published, ideas: list[IdeaRow] = IDEAS) -> None:
    (tmp_path / "ideas.csv").write_text(lab_files.write_ideas_csv(ideas), encoding="utf-8")
    (tmp_path / "votes.csv").write_text(lab_files.write_votes_csv(pub.voters), encoding="utf-8")
    (tmp_path / "groups.csv").write_text(lab_files.write_groups_csv(pub.groups), encoding="utf-8")


def test_the_files_read_back_to_the_same_results() -> None:
    pub = published(lab_voters())
    ideas_text = lab_files.write_ideas_csv(IDEAS)
    votes_text = lab_files.write_votes_csv(pub.voters)
    groups_text = lab_files.write_groups_csv(pub.groups)
    ideas = lab_files.read_ideas_csv(ideas_text)
    assert sorted(ideas, key=lambda i: i.key) == sorted(IDEAS, key=lambda i: i.key)
    back = lab_files.read_votes_csv(votes_text, ideas)
    groups = lab_files.read_groups_csv(groups_text, ideas, 5)
    assert groups == pub.groups and groups  # `tenants` (15 voters) rated every idea
    result = lab_files.tabulate_files(ideas, back, 5, 2, 0, groups=groups)
    assert lab_files.dumps_lab_results(result) == served(lab_voters())
    assert [g.size for g in result.groups] == [15, 15]
    assert result.ideas[0].key == "common" and result.ideas[0].is_bridging


def test_names_hidden_texts_and_rare_segments_stay_out() -> None:
    hidden = idea("rude", IdeaStatus.HIDDEN, text="Something cruel about a named person")
    text = lab_files.write_ideas_csv([hidden])
    assert "cruel" not in text  # a hidden idea's text is withheld
    public = lab_files.public_voters(lab_voters(), 5)
    combos = Counter(v.segments for v in public)
    assert ("tenants", "young") not in combos  # two voters: written without segments
    assert all(n >= 5 for n in combos.values())
    withheld = lab_files.public_voters(lab_voters(), 5, withheld={"tenants"})
    assert Counter(v.segments for v in withheld) == {(): 30}  # `young` alone: 2, coarsened
    assert "'=Open on Sundays (common)" in lab_files.write_ideas_csv(
        IDEAS
    )  # no formula reaches a spreadsheet


@settings(max_examples=40, deadline=None)
@given(
    segments=st.lists(st.sets(st.sampled_from(["a", "b", "c"])), min_size=1, max_size=40),
    m=st.integers(1, 8),
)
def test_every_written_combination_holds_at_least_m(segments: list[set[str]], m: int) -> None:
    voters = [LabVoter(f"v{n:02d}", tuple(s), {"x": A}) for n, s in enumerate(segments)]
    combos = Counter(v.segments for v in lab_files.public_voters(voters, m))
    assert all(n >= m for n in combos.values()) or sum(combos.values()) < m


def test_covote_lab_tabulate_prints_the_servers_json_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(tmp_path, published(lab_voters(), m=4, ratio=3, seed=11))
    args = ["lab", "tabulate", str(tmp_path / "ideas.csv"), str(tmp_path / "votes.csv")]
    groups = ["--groups", str(tmp_path / "groups.csv")]
    assert covote([*args, *groups, "--m", "4", "--r", "3", "--seed", "11"]) == 0
    assert capsys.readouterr().out == served(lab_voters(), m=4, ratio=3, seed=11)
    write_files(tmp_path, published(lab_voters(), m=5))
    assert covote([*args, *groups]) == 0  # defaults: the meeting rule's defaults, seed 0
    assert capsys.readouterr().out == served(lab_voters(), m=5)


def rare_minority() -> tuple[list[IdeaRow], list[LabVoter]]:
    """The camps of `lab_voters`, and six wheelchair users, each also in a ward no other voter
    is in (a rare combination), who all disagree with `ramp` (which affects them) while
    everyone else agrees with it: the room supports it, the wheelchair users object."""
    ideas = [*IDEAS, idea("ramp", affected=("wheelchair",))]
    voters = [LabVoter(v.pseudonym, v.segments, {**v.ratings, "ramp": A}) for v in lab_voters()]
    for n in range(6):
        voters.append(LabVoter(f"w-{n}", ("wheelchair", f"ward-{n}"), {"ramp": D, "common": A}))
    return ideas, voters


def test_a_small_affected_segment_in_rare_combinations_still_rejects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Coarsening writes each wheelchair user without segments (their combinations are rare):
    counted on the vote file's segments their objection vanished. Decided on the true segments
    and published as group totals, it stands, and the three files recount it byte for byte."""
    ideas, voters = rare_minority()
    rule = Rule(ratio=2, group_min=5)
    coarsened = lab_files.public_voters(voters, 5)
    assert not any("wheelchair" in v.segments for v in coarsened)
    old = lab_tally.tabulate(approved(ideas), coarsened, rule)
    ramp = next(i for i in old.ideas if i.key == "ramp")
    assert ramp.rejected_by == () and ramp.agree > ramp.disagree  # the objection was lost
    pub = published(voters, ideas=ideas)
    decided = lab_tally.tabulate(
        approved(ideas), voters, rule
    )  # the server's decision: true segments
    by_key = {i.key: i for i in pub.result.ideas}
    assert by_key["ramp"].rejected_by == ("wheelchair",)
    assert [i.rejected_by for i in pub.result.ideas] == [i.rejected_by for i in decided.ideas]
    assert lab_files.GroupRow("ramp", "wheelchair", 6, 0, 6) in pub.groups
    write_files(tmp_path, pub, ideas)
    assert "wheelchair" not in (tmp_path / "votes.csv").read_text(encoding="utf-8")
    assert "ward-" not in (tmp_path / "votes.csv").read_text(encoding="utf-8")
    args = ["lab", "tabulate", str(tmp_path / "ideas.csv"), str(tmp_path / "votes.csv")]
    assert covote([*args, "--groups", str(tmp_path / "groups.csv")]) == 0
    out = capsys.readouterr().out
    assert out == lab_json.dumps_lab_results(pub.result)
    assert '"rejected_by": [\n        "wheelchair"\n      ]' in out
    assert covote(args) == 0  # without the group totals, the objection is not in the files
    assert '"wheelchair"' not in capsys.readouterr().out


SEGMENTS = ["tenants", "young", "ward-1", "ward-2"]


@settings(max_examples=25, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.dictionaries(
                st.sampled_from(["common", "c0-0", "c1-0"]), st.sampled_from([A, D, P])
            ),
            st.sets(st.sampled_from(SEGMENTS)),
        ),
        max_size=25,
    ),
    m=st.integers(1, 6),
)
def test_any_lab_recounts_from_its_three_files_with_the_servers_decision(
    rows: list[tuple[dict[str, Rating], set[str]]], m: int
) -> None:
    """For any voters and m: the written files read back to the published JSON byte for byte,
    and its `rejected_by` is the decision on the voters' true segments."""
    voters = [LabVoter(f"v{n:02d}", tuple(sorted(seg)), r) for n, (r, seg) in enumerate(rows)]
    pub = published(voters, m=m)
    ideas = lab_files.read_ideas_csv(lab_files.write_ideas_csv(IDEAS))
    back = lab_files.read_votes_csv(lab_files.write_votes_csv(pub.voters), ideas)
    groups = lab_files.read_groups_csv(lab_files.write_groups_csv(pub.groups), ideas, m)
    result = lab_files.tabulate_files(ideas, back, m, 2, 0, groups=groups)
    assert lab_json.dumps_lab_results(result) == lab_json.dumps_lab_results(pub.result)
    decided = lab_tally.tabulate(approved(IDEAS), voters, Rule(ratio=2, group_min=m))
    assert {i.key: i.rejected_by for i in result.ideas} == {
        i.key: i.rejected_by for i in decided.ideas
    }


def test_the_group_totals_never_show_a_coarsened_voter_by_subtraction() -> None:
    """A segment that may object is never on a vote row, so its totals cannot be set against
    the vote file's count of it to find how the coarsened few rated."""
    ideas, voters = rare_minority()
    pub = published(voters, ideas=ideas)
    shown = {s for v in pub.voters for s in v.segments}
    assert shown.isdisjoint({g.segment for g in pub.groups})
    assert shown.isdisjoint(lab_tally.withheld_segments(approved(ideas), None))
    assert all(g.raters >= 5 for g in pub.groups)


def test_covote_lab_tabulate_refuses_group_totals_the_files_contradict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ideas, voters = rare_minority()
    write_files(tmp_path, published(voters, ideas=ideas), ideas)
    args = ["lab", "tabulate", str(tmp_path / "ideas.csv"), str(tmp_path / "votes.csv")]
    groups = tmp_path / "groups.csv"
    groups.write_text(f"{GROUPS_HEADER}\nramp,wheelchair,99,0,99\n", encoding="utf-8")
    assert covote([*args, "--groups", str(groups)]) == 2
    assert "more ratings than the room" in capsys.readouterr().err
    old = lab_files.write_votes_csv(lab_files.public_voters(lab_voters(), 5))  # tenants shown
    (tmp_path / "votes.csv").write_text(old, encoding="utf-8")
    groups.write_text(f"{GROUPS_HEADER}\n", encoding="utf-8")
    assert covote([*args, "--groups", str(groups)]) == 2
    assert "'tenants', which group totals give" in capsys.readouterr().err


def test_covote_lab_tabulate_reports_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ideas = tmp_path / "ideas.csv"
    ideas.write_text(lab_files.write_ideas_csv(IDEAS), encoding="utf-8")
    bad = tmp_path / "votes.csv"
    bad.write_text("voter,segments,idea,rating\nv-1,,common,maybe\n", encoding="utf-8")
    assert covote(["lab", "tabulate", str(ideas), str(bad)]) == 2
    assert "votes.csv:2: rating" in capsys.readouterr().err
    assert covote(["lab", "tabulate", str(ideas), str(tmp_path / "nope.csv")]) == 2
    for flag in (["--m", "0"], ["--r", "0"], ["--seed", "-1"], ["--seed", str(2**32)]):
        with pytest.raises(SystemExit) as stop:
            covote(["lab", "tabulate", str(ideas), str(bad), *flag])
        assert stop.value.code == 2


HEADER = ",".join(lab_files.IDEAS_HEADER)
GOOD = "a,library,redesign,approved,,Open on Sundays,,0,0,"


@pytest.mark.parametrize(
    ("row", "word"),
    [
        ("a,library,redesign,approved,,Open on Sundays,,0,0", "expected 10 fields"),
        ("a b;,library,redesign,approved,,Text,,0,0,", "key:"),
        ("a,,redesign,approved,,Text,,0,0,", "challenge: must not be empty"),
        ("a," + "c" * 301 + ",redesign,approved,,Text,,0,0,", "challenge: must be at most 300"),
        ("a,library,bribe,approved,,Text,,0,0,", "kind: must be one of"),
        ("a,library,redesign,winning,,Text,,0,0,", "status: must be one of"),
        ("a,library,redesign,approved,b,Text,,0,0,", "merged_into: a merged idea"),
        ("a,library,redesign,merged,,Text,,0,0,", "merged_into: a merged idea"),
        ("a,library,redesign,merged,a,Text,,0,0,", "merged into itself"),
        ("a,library,redesign,merged,zz,Text,,0,0,", "merged_into: no idea"),
        ("a,library,redesign,approved,,,,0,0,", "text: must not be empty"),
        ("a,library,redesign,approved,," + "t" * 281 + ",,0,0,", "text: must be at most 280"),
        ("a,library,redesign,approved,,Text,\u202eevil,0,0,", "text_cy: has control"),
        ("a,library,redesign,hidden,,Text,,0,0,", "hidden idea's texts are withheld"),
        ("a,library,redesign,approved,,Text,,-1,0,", "supporters: must be a whole number"),
        ("a,library,redesign,approved,,Text,,0,99999999,", "helpers: must be a whole number"),
        ("a,library,redesign,approved,,Text,,0,0,x;x", "affected: a segment is listed twice"),
        (GOOD + "\n" + GOOD, "is already on line 2"),
        (
            "a,library,redesign,merged,b,Text,,0,0,\nb,library,redesign,merged,a,Text,,0,0,",
            "go round in a circle",
        ),
    ],
)
def test_hostile_ideas_files_are_refused_by_line(row: str, word: str) -> None:
    with pytest.raises(RecordError) as caught:
        lab_files.read_ideas_csv(f"{HEADER}\n{row}\n")
    assert word in str(caught.value)


@pytest.mark.parametrize(
    ("rows", "word"),
    [
        (["v-1,,a"], "expected 4 fields"),
        (["v 1;,,a,agree"], "voter:"),
        (["v-1,,zz,agree"], "idea: not an idea"),
        (["v-1,,a,AGREE"], "rating: must be one of"),
        (["v-1,t;t,a,agree"], "segments: a segment is listed twice"),
        (["v-1,,a,agree", "v-1,,a,pass"], 'rated "a" on line 2'),
        (["v-1,,a,agree", "v-1,t,b,pass"], "other segments on line 2"),
        (['v-1,,"a,agree'], "malformed CSV"),
    ],
)
def test_hostile_vote_files_are_refused_by_line(rows: list[str], word: str) -> None:
    ideas = [idea("a"), idea("b")]
    text = "voter,segments,idea,rating\n" + "\n".join(rows) + "\n"
    with pytest.raises(RecordError) as caught:
        lab_files.read_votes_csv(text, ideas)
    assert word in str(caught.value)


GROUPS_HEADER = ",".join(lab_files.GROUPS_HEADER)


@pytest.mark.parametrize(
    ("rows", "word"),
    [
        (["common,tenants,5,0"], "expected 5 fields"),
        (["zz,tenants,5,0,5"], "idea: not an approved idea"),
        (["rude,tenants,5,0,5"], "idea: not an approved idea"),  # hidden: never counted
        (["common,owners,5,0,5"], "is no approved idea's affected segment"),
        (["common,tenants,4,0,4"], "fewer than 5 raters"),
        (["common,tenants,5,3,3"], "agree + disagree must not exceed raters"),
        (["common,tenants,-5,0,0"], "raters: must be a whole number"),
        (["common,tenants,5,x,0"], "agree: must be a whole number"),
        (["common,tenants,99999999,0,0"], "raters: must be a whole number from 0"),
        (["common,tenants,5,0,5", "common,tenants,6,0,6"], "is already on line 2"),
        (['common,"tenants,5,0,5'], "malformed CSV"),
    ],
)
def test_hostile_groups_files_are_refused_by_line(rows: list[str], word: str) -> None:
    text = f"{GROUPS_HEADER}\n" + "\n".join(rows) + "\n"
    with pytest.raises(RecordError) as caught:
        lab_files.read_groups_csv(text, IDEAS, 5)
    assert word in str(caught.value)


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_the_groups_reader_never_raises_anything_but_a_record_error(text: str) -> None:
    for candidate in (text, f"{GROUPS_HEADER}\n{text}"):
        try:
            lab_files.read_groups_csv(candidate, IDEAS, 5)
        except RecordError as e:
            assert e.errors


def test_a_file_without_its_header_is_refused() -> None:
    with pytest.raises(RecordError, match="column 1"):
        lab_files.read_votes_csv("pseudonym,segments,idea,rating\n", [idea("a")])
    with pytest.raises(RecordError, match="empty file"):
        lab_files.read_ideas_csv("")


def test_a_chain_of_merges_is_read() -> None:
    rows = [
        "a,library,redesign,merged,b,Text a,,0,0,",
        "b,library,redesign,merged,c,Text b,,2,0,",
        "c,library,co_deliver,approved,,Text c,Testun c,5,2,tenants;young",
    ]
    ideas = lab_files.read_ideas_csv(f"{HEADER}\n" + "\n".join(rows) + "\n")
    assert [(i.key, i.merged_into) for i in ideas] == [("a", "b"), ("b", "c"), ("c", "")]
    assert ideas[2].affected == ("tenants", "young") and ideas[2].text_cy == "Testun c"
    assert [i.key for i in lab_files.tally_input(ideas)] == ["c"]  # only approved ideas count
