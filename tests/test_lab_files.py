"""The Co-Production Lab's public files (app/record/lab_files.py) and `covote lab tabulate`:
what is written reads back to the same results, hostile files are refused line by line, rare
segment combinations are coarsened, and the command prints the server's JSON byte for byte."""

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
from app.rules import lab
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


def served(voters: list[LabVoter], m: int = 5, ratio: int = 2, seed: int = 0) -> str:
    """What the server publishes: tabulate on the protected voters (module doc)."""
    public = lab_files.public_voters(voters, m)
    approved = [
        lab.LabIdea(i.key, i.challenge, i.affected) for i in IDEAS if i.status == "approved"
    ]
    return lab.dumps_lab_results(
        lab.tabulate(approved, public, Rule(ratio=ratio, group_min=m), seed=seed)
    )


def test_the_files_read_back_to_the_same_results() -> None:
    public = lab_files.public_voters(lab_voters(), 5)
    ideas_text = lab_files.write_ideas_csv(IDEAS)
    votes_text = lab_files.write_votes_csv(public)
    ideas = lab_files.read_ideas_csv(ideas_text)
    assert sorted(ideas, key=lambda i: i.key) == sorted(IDEAS, key=lambda i: i.key)
    back = lab_files.read_votes_csv(votes_text, ideas)
    result = lab_files.tabulate_files(ideas, back, 5, 2, 0)
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
    public = lab_files.public_voters(lab_voters(), 4)
    (tmp_path / "ideas.csv").write_text(lab_files.write_ideas_csv(IDEAS), encoding="utf-8")
    (tmp_path / "votes.csv").write_text(lab_files.write_votes_csv(public), encoding="utf-8")
    args = ["lab", "tabulate", str(tmp_path / "ideas.csv"), str(tmp_path / "votes.csv")]
    assert covote([*args, "--m", "4", "--r", "3", "--seed", "11"]) == 0
    assert capsys.readouterr().out == served(lab_voters(), m=4, ratio=3, seed=11)
    public = lab_files.public_voters(lab_voters(), 5)
    (tmp_path / "votes.csv").write_text(lab_files.write_votes_csv(public), encoding="utf-8")
    assert covote(args) == 0  # defaults: the meeting rule's defaults, seed 0
    assert capsys.readouterr().out == served(lab_voters(), m=5)


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
