"""A charter review round in the public record (issue 17): results.json has its scorecard, the
export bundle carries the charter version it asked (`review-charter-round-N.json`), and
README.txt's `covote recount` (with `--review N ...`) prints results.json byte for byte, the
scorecard included and a commitment rated by fewer than m left without figures. Also the pure
part: the scorecard's JSON and the history's."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from app import cli
from app.record import review_files
from app.rules import answers
from app.rules import charter_doc as cd
from app.rules.charter_review import RATING_SCALE, Rating, scorecard
from tests.conftest import LiveServer, Meeting, Phone
from tests.test_charter_review_room import ITEMS, rate, save_reports, signed_source, start_review
from tests.test_lab_record import bundle, commands

FILE = "review-charter-round-1.json"


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_bundles_recount_reproduces_a_review_rounds_scorecard_and_refuses_another_charter(
    server: LiveServer,
    meeting: Meeting,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A review round (the litter pick rated once, under m = 2): README.txt's recount with
    `--review 1 ...` prints results.json byte for byte; without the file it names the round;
    another charter, a round that is not a review, or no audit log are refused."""
    signed_source(meeting)
    review = start_review(meeting)
    assert save_reports(review, **{"respite-fund": ("38 nights.", "")}).status_code == 303
    review.post("/rounds", kind="charter_review", proposal=ITEMS)
    rate(
        review,
        lambda: Phone(server.browser(), review.code),
        [
            {"respite-fund": "kept", "library-van": "partly", "litter-picks": "not"},
            {"respite-fund": "partly", "library-van": "not"},
            {"respite-fund": "not"},
        ],
    )
    review.close_round(1)

    files = bundle(review)
    assert (
        FILE in files and "The charter review (per review round N)" in files["README.txt"].decode()
    )
    for name, body in files.items():
        (tmp_path / name).write_bytes(body)
    monkeypatch.chdir(tmp_path)
    run = commands(files["README.txt"].decode())
    (recount,) = [c for c in run if c[0] == "recount"]
    assert recount[-3:] == ["--review", "1", FILE]
    code, out, err = _run(recount, capsys)
    assert (code, err) == (0, "")
    assert out.encode("utf-8") == files["results.json"]
    (entry,) = json.loads(out)["rounds"]
    council, residents = entry["review"]["parties"]
    assert (council["score"], council["n"]) == (40, 5)  # (2*1 + 2) / (2*5)
    assert residents["commitments"][0]["suppressed"] and residents["score"] is None
    assert [a["id"] for a in entry["answers"]] == ["respite-fund", "library-van"]
    (verify,) = [c for c in run if c[:2] == ["audit", "verify"]]
    assert _run(verify, capsys)[0] == 0

    without = recount[: recount.index("--review")]
    code, out, err = _run(without, capsys)
    assert (code, out) == (2, "")
    assert err == (
        "covote recount: round 1: a charter review round: give the charter it asked with "
        f"--review 1 {FILE}\n"
    )
    code, out, err = _run([*without, "--review", "2", FILE], capsys)
    assert (code, out) == (2, "") and "--review 2: round 2 is not a charter review round" in err
    no_log = [a for a in recount if a not in ("--audit", "audit.jsonl")]
    code, out, err = _run(no_log, capsys)
    assert (code, out) == (2, "") and "--review needs the audit log" in err
    # Another charter: a commitment moved to the residents would change the scorecard.
    other = json.loads(files[FILE])
    other["commitments"][1]["party"] = "residents"
    Path(FILE).write_text(json.dumps(other), encoding="utf-8")
    code, out, err = _run(recount, capsys)
    assert (code, out) == (1, "")
    assert f"{FILE} is not the charter review round 1 asked" in err


CHARTER = cd.Charter(
    "Charter",
    parties=(
        cd.Party("council", "Council", cd.PartyKind.COUNCIL),
        cd.Party("bus", "Bus company", cd.PartyKind.PROVIDER),
    ),
    commitments=(
        cd.Commitment("repairs", "council", "Repairs in 28 days"),
        cd.Commitment("report", "council", "Report every quarter"),
    ),
)
K, P, N = Rating.KEPT, Rating.PARTLY, Rating.NOT_KEPT


def test_the_scorecards_json_publishes_nothing_under_m() -> None:
    """A commitment under m has nulls only, its counts are dropped from the answers, and a
    party without commitments in the round is left out."""
    lines = scorecard(CHARTER, {"repairs": [K, K, P], "report": [N]}, group_min=2)
    card = review_files.results_json(lines, 2)
    (council,) = card["parties"]
    assert (council["n"], council["score"]) == (3, 83)  # 5/6
    repairs, report = council["commitments"]
    assert repairs["score"] == 83 and not repairs["suppressed"]
    assert report == {
        "commitment": "report",
        "n": None,
        "kept": None,
        "partly": None,
        "not_kept": None,
        "score": None,
        "suppressed": True,
    }
    counted = answers.count_answers(
        [("repairs", RATING_SCALE), ("report", RATING_SCALE)],
        [{"repairs": "kept", "report": "not"}, {"repairs": "kept"}, {"repairs": "partly"}],
    )
    assert [c.id for c in review_files.shown_answers(counted, card)] == ["repairs"]


def test_the_history_gives_whole_percentages_and_changes_in_points() -> None:
    """Oldest first; a review without a shown score keeps its place and has no change; the
    next change is against the last shown score."""
    one = scorecard(CHARTER, {"repairs": [N, P]}, group_min=2)  # 25%
    two = scorecard(CHARTER, {"repairs": [K]}, group_min=2)  # under m: no score
    three = scorecard(CHARTER, {"repairs": [K, K, P, N]}, group_min=2)  # 5/8: 63%
    h = review_files.history_json([("2025", one), ("2026", two), ("2027", three)])
    assert h["reviews"] == ["2025", "2026", "2027"] and h["parties"] == ["council", "bus"]
    assert h["points"]["council"] == [
        {"score": 25, "n": 2, "change": None},
        {"score": None, "n": 0, "change": None},
        {"score": 63, "n": 4, "change": 38},
    ]
    assert [p["score"] for p in h["points"]["bus"]] == [None, None, None]
    assert Fraction(5, 8) == three[0].score


def test_the_review_charts_hatch_what_has_no_score() -> None:
    """The scorecard's bars and the history's grid say "no score" in words for a party
    without one, and carry their figures as tables."""
    from app.record.review_charts import review_charts
    from app.rules.explain import english

    lines = scorecard(CHARTER, {"repairs": [K, K]}, group_min=2)
    card = review_files.results_json(lines, 2)
    view = {
        "answers": [],
        "items": [],
        "review": card,
        "parties": review_files.names({"council": ("Council", "Cyngor")}),
        "commitments": {},
        "history": review_files.history_json([("2026", lines)]),
    }
    bars, grid = review_charts(view, english, "cy")  # type: ignore[arg-type]
    assert bars.table.rows[0][:2] == ("Cyngor", "100")
    assert "<svg" in bars.svg and "Cyngor" in grid.svg
    assert grid.table.rows[0][1] == "100"
