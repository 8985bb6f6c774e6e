"""`covote audit verify`: an exported audit log's hash chain checked, and replayed against the
ballots file."""

from __future__ import annotations

import sys
from pathlib import Path

from app.cli.reading import print_errors
from app.record import chain, csvfiles, records


def audit_verify(
    log_path: Path,
    ballots_path: Path | None,
    meeting_path: Path | None,
    head: str | None,
    groups_path: Path | None = None,
) -> int:
    """`covote audit verify`: the chain is intact, ends at `head` (the report prints it), and
    every closed round's rows in the ballot file (and groups.csv) match the round's seal.
    Prints what it checked; exit 1 if anything failed."""
    try:
        text = log_path.read_text(encoding="utf-8")
        ballots_text = ballots_path.read_text(encoding="utf-8-sig") if ballots_path else None
        meeting_text = meeting_path.read_text(encoding="utf-8-sig") if meeting_path else None
        groups_text = groups_path.read_text(encoding="utf-8-sig") if groups_path else None
    except (OSError, UnicodeDecodeError) as e:
        print(f"covote audit verify: {e}", file=sys.stderr)
        return 2
    checked = chain.verify(text, filename=log_path.name)
    problems = list(checked.problems)
    if head is not None and checked.head != head.strip().lower():
        problems.append(
            f"{log_path.name}: the last link's hash is {checked.head}, not {head.strip()} "
            "(links were cut off the end, or this is another meeting's log)"
        )
    print(f"{log_path.name}: {len(checked.links)} links, last hash {checked.head}")
    if ballots_text is not None and meeting_text is not None and ballots_path and meeting_path:
        try:
            meeting = records.parse_meeting(meeting_text, filename=meeting_path.name)
            rows = csvfiles.read_ballot_csv(
                ballots_text,
                meeting,
                filename=ballots_path.name,
                other_rounds=chain.other_kind_rounds(checked.links),
            )
            groups = (
                csvfiles.read_groups_csv(groups_text, meeting, filename=groups_path.name)
                if groups_text is not None and groups_path is not None
                else None
            )
        except records.RecordError as e:
            return print_errors(e)
        try:
            sealed = chain.check_seals(checked.links, rows, groups)
        except (KeyError, TypeError, ValueError) as e:
            problems.append(f"{log_path.name}: a link lacks the data its kind needs ({e!r})")
            sealed = chain.SealCheck()
        problems += [f"{ballots_path.name}: {d}" for d in sealed.problems]
        for note in sealed.notes:
            print(f"{ballots_path.name}: {note}")
        if not sealed.problems:
            files = ballots_path.name + (f" and {groups_path.name}" if groups_path else "")
            print(f"{files}: the rows of {sealed.sealed} closed rounds match their seals")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(
        "FAILED" if problems else "OK: the chain is intact",
        file=sys.stderr if problems else sys.stdout,
    )
    return 1 if problems else 0
