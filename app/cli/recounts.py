"""`covote recount`: a meeting's ballots recounted offline from its exported files (every round of
every kind, with the audit log, survey and charter files it needs), or a Pabulib election run
with MES (`--pb`); prints the results JSON."""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from app.cli.reading import print_errors
from app.record import chain, csvfiles, kind_rounds, records, results
from app.rules.budget import Completion


def recount(
    ballots_path: Path,
    meeting_path: Path,
    groups_path: Path | None = None,
    audit_path: Path | None = None,
    survey_path: Path | None = None,
    charter_paths: Sequence[Sequence[str]] = (),
    review_paths: Sequence[Sequence[str]] = (),
) -> int:
    """`covote recount`: the results of a ballot file (and its group totals, groups.csv) as
    JSON, byte for byte the meeting's results.json. With the audit log (`--audit`), the rounds
    it marks final or voided say so, as results.json does, and a round it opened as another
    activity kind (a survey, a Lab rating, a scale) is counted as that kind counts it (the
    kind's offline hook, `ActivityKind.offline`; a survey round also needs `--survey`, a
    charter round `--charter N CHARTER CONSENT GROUPS`: the version it asked, which the log
    names, its consent CSV, which must be its rows of the ballots, and its groups CSV; a
    charter review round `--review N CHARTER`: the version it asked, which the log names). Exit 1
    when the files contradict each other (a group with more votes than the room) or the log is
    not intact; 2 for unreadable input, or a round of another kind it cannot count."""
    from app.record import anonymity, charter_files, survey_file

    try:
        meeting_text = meeting_path.read_text(encoding="utf-8-sig")
        ballots_text = ballots_path.read_text(encoding="utf-8-sig")
        groups_text = groups_path.read_text(encoding="utf-8-sig") if groups_path else None
        audit_text = audit_path.read_text(encoding="utf-8-sig") if audit_path else None
        survey_text = survey_path.read_text(encoding="utf-8-sig") if survey_path else None
        charter_texts = {
            number: tuple(
                (Path(name), Path(name).read_text(encoding="utf-8-sig")) for name in names
            )
            for number, *names in charter_paths
        }
        review_texts = _read_reviews(review_paths)
    except (OSError, UnicodeDecodeError) as e:
        print(f"covote recount: {e}", file=sys.stderr)
        return 2
    try:
        meeting = records.parse_meeting(meeting_text, filename=meeting_path.name)
        survey = (
            survey_file.parse_survey(survey_text, filename=survey_path.name)
            if survey_text is not None and survey_path is not None
            else None
        )
        charters = {n: _charter_files(f, meeting) for n, f in charter_texts.items()}
        reviews = _parse_reviews(review_texts)
    except records.RecordError as e:
        return print_errors(e)
    log: chain.Verified | None = None
    offline: dict[str, kind_rounds.OfflineRound] = {}
    cannot: dict[str, str] = {}  # round -> why it cannot be counted offline
    if audit_text is not None and audit_path is not None:
        log = chain.verify(audit_text, filename=audit_path.name)
        if log.problems:
            print(f"covote recount: {log.problems[0]}", file=sys.stderr)
            return 1
        try:
            public = kind_rounds.PublicFiles(meeting, survey, log.links, charters, reviews)
            offline, cannot = _offline_rounds(log.links, public)
            saved = kind_rounds.saved_survey(log.links)
            asked = {n: kind_rounds.charter_saved(log.links, n) for n in [*charters, *reviews]}
            sealed = {n: kind_rounds.charter_seal(log.links, n) for n in charters}
        except (KeyError, TypeError, ValueError) as e:
            print(f"covote recount: a round link lacks its data ({e!r})", file=sys.stderr)
            return 1
        if stray := sorted(n for n in charters if n not in offline or offline[n].charter is None):
            print(
                f"covote recount: --charter {stray[0]}: round {stray[0]} is not a charter round "
                "of the audit log",
                file=sys.stderr,
            )
            return 2
        # A charter round's wordings and affected groups are the version it asked: that one.
        for n, files in charters.items():
            if files.sha256 != asked[n]:
                print(
                    f"covote recount: {files.charter_name} is not the charter round {n} asked "
                    f"(its sha256 is {files.sha256}, the audit log's {asked[n] or 'none'})",
                    file=sys.stderr,
                )
                return 1
            # Its groups' totals come from true segments, which no public file holds: sealed.
            groups_seal = anonymity.seal(charter_files.group_cells(files.groups))
            if sealed[n] is not None and groups_seal != sealed[n]:
                print(
                    f"covote recount: {files.groups_name}: its rows do not match round {n}'s "
                    "seal in the audit log (a row was changed, added or removed)",
                    file=sys.stderr,
                )
                return 1
        refused = _check_reviews(review_texts, offline, asked) or _check_survey(
            survey_text, survey_path, saved
        )
        if refused is not None:
            return refused
    elif charters or reviews:
        print(
            f"covote recount: {'--charter' if charters else '--review'} needs the audit log, "
            "--audit audit.jsonl, which names the charter version each round asked",
            file=sys.stderr,
        )
        return 2
    elif others := csvfiles.rounds_not_room_votes(ballots_text):
        print(
            f"covote recount: round(s) {', '.join(others)} of {ballots_path.name} are not room "
            "votes (their answers are not want, dont_want or neutral): give the audit log, "
            "--audit audit.jsonl, which names each round's kind (and --survey survey.json for "
            "a survey round)",
            file=sys.stderr,
        )
        return 2
    try:
        rows = csvfiles.read_ballot_csv(
            ballots_text,
            meeting,
            filename=ballots_path.name,
            other_rounds=cannot.keys(),
            scales={n: o.scales for n, o in offline.items()},
        )
        groups = (
            csvfiles.read_groups_csv(groups_text, meeting, filename=groups_path.name)
            if groups_text is not None and groups_path is not None
            else None
        )
    except records.RecordError as e:
        return print_errors(e)
    if uncounted := [n for n in dict.fromkeys(r.round for r in rows) if n in cannot]:
        for n in uncounted:
            print(f"covote recount: round {n}: {cannot[n]}", file=sys.stderr)
        return 2
    protecting = {sg.id for sg in meeting.segments if sg.protects}
    affected = any(set(p.affected_groups) & protecting for p in meeting.proposals)
    room = [r for r in rows if r.round not in offline]
    if groups is None and affected and room and not any(r.segments for r in room):
        print(
            f"covote recount: note: {ballots_path.name} lists no segments and no --groups file "
            "was given, so every affected group counts as smaller than m; pass the export's "
            "groups.csv with --groups",
            file=sys.stderr,
        )
    try:
        counted = results.recount_kinds(meeting, rows, groups, offline)
    except ValueError as e:
        print(f"covote recount: the files disagree: {e}", file=sys.stderr)
        return 1
    if log is not None:
        try:
            marks = chain.round_marks(log.links)
        except (KeyError, TypeError) as e:
            print(f"covote recount: a round link lacks its data ({e!r})", file=sys.stderr)
            return 1
        sys.stdout.write(results.dumps_result(results.with_marks(counted, marks)))
        return 0
    sys.stdout.write(results.dumps_result(counted))
    return 0


def _check_survey(text: str | None, path: Path | None, saved: str | None) -> int | None:
    """The survey's questions decide how its rows read: the file given (if any) must be the one
    the log saved last (else 1); None when it is."""
    given = hashlib.sha256(text.encode("utf-8")).hexdigest() if text else None
    if given is not None and path is not None and given != saved:
        print(
            f"covote recount: {path.name} is not the survey the audit log saved "
            f"last (its sha256 is {given}, the log's {saved or 'none'})",
            file=sys.stderr,
        )
        return 1
    return None


def _read_reviews(review_paths: Sequence[Sequence[str]]) -> dict[str, tuple[Path, str]]:
    """`--review N CHARTER`'s files by round, read.

    Raises:
        OSError / UnicodeDecodeError: a file cannot be read.
    """
    return {
        number: (Path(name), Path(name).read_text(encoding="utf-8-sig"))
        for number, name in review_paths
    }


def _parse_reviews(texts: Mapping[str, tuple[Path, str]]) -> dict[str, Any]:
    """`--review N CHARTER`'s charters by round (`charter_doc.Charter`), parsed.

    Raises:
        RecordError: a file is not a charter file (with where).
    """
    from app.record import charter_file

    return {
        n: charter_file.parse_charter(text, filename=path.name) for n, (path, text) in texts.items()
    }


def _check_reviews(
    review_texts: Mapping[str, tuple[Path, str]],
    offline: Mapping[str, kind_rounds.OfflineRound],
    asked: Mapping[str, str | None],
) -> int | None:
    """`--review N CHARTER`'s checks: round N is a review round of the log (else 2) and the
    file is the version it asked, whose sha256 the log's `charter.saved` holds (else 1); None
    when every file passes."""
    if stray := sorted(n for n in review_texts if n not in offline or offline[n].review is None):
        print(
            f"covote recount: --review {stray[0]}: round {stray[0]} is not a charter review "
            "round of the audit log",
            file=sys.stderr,
        )
        return 2
    # A review round's commitments and parties are the version it asked: that one.
    for n, (path, text) in review_texts.items():
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if digest != asked[n]:
            print(
                f"covote recount: {path.name} is not the charter review round {n} asked "
                f"(its sha256 is {digest}, the audit log's {asked[n] or 'none'})",
                file=sys.stderr,
            )
            return 1
    return None


def _charter_files(
    files: Sequence[tuple[Path, str]], meeting: records.MeetingFile
) -> kind_rounds.CharterFiles:
    """A charter round's files as `--charter N CHARTER CONSENT GROUPS` names them, read.

    Raises:
        RecordError: a file is malformed (by line), or names a wording the charter lacks.
    """
    from app.record import charter_file, charter_files

    (charter_path, charter_text), (consent_path, consent_text), (groups_path, groups_text) = files
    charter = charter_file.parse_charter(charter_text, filename=charter_path.name)
    return kind_rounds.CharterFiles(
        charter=charter,
        sha256=hashlib.sha256(charter_text.encode("utf-8")).hexdigest(),
        consent=charter_files.read_consent_csv(consent_text, charter, filename=consent_path.name),
        groups=charter_files.read_groups_csv(
            groups_text, charter, meeting.rule.group_min, filename=groups_path.name
        ),
        charter_name=charter_path.name,
        consent_name=consent_path.name,
        groups_name=groups_path.name,
    )


def _offline_rounds(
    links: Sequence[Mapping[str, Any]], public: kind_rounds.PublicFiles
) -> tuple[dict[str, kind_rounds.OfflineRound], dict[str, str]]:
    """Each round the log opened as another kind: how its kind counts it offline (by round),
    and why it cannot, for the rounds whose kind has no offline hook here or lacks a file."""
    from app.core.vocab import CHARTER, CHARTER_REVIEW, SURVEY
    from app.voting import kinds

    offline: dict[str, kind_rounds.OfflineRound] = {}
    cannot: dict[str, str] = {}
    for n, opened in kind_rounds.opened_kinds(links).items():
        kind = kinds.kinds().get(opened.kind)
        counted = kind.offline(opened, public) if kind is not None else None
        if counted is not None:
            offline[n] = counted
        elif kind is None:
            cannot[n] = f"a {opened.kind!r} activity, which this version of Covote does not know"
        elif opened.kind == SURVEY and public.survey is None:
            cannot[n] = "a survey round: give the survey file with --survey survey.json"
        elif opened.kind == CHARTER and n not in public.charters:
            cannot[n] = (
                f"a charter round: give its files with --charter {n} charter-round-{n}.json "
                f"charter-consent-round-{n}.csv charter-groups-round-{n}.csv"
            )
        elif opened.kind == CHARTER_REVIEW and n not in public.reviews:
            cannot[n] = (
                f"a charter review round: give the charter it asked with --review {n} "
                f"review-charter-round-{n}.json"
            )
        else:
            cannot[n] = f"a {opened.kind!r} activity, which covote recount cannot count offline"
    return offline, cannot


def recount_pb(path: Path, completion: Completion) -> int:
    """`covote recount --pb FILE`: MES on a Pabulib approval election, as JSON."""
    from app.record import pabulib

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        print(f"covote recount: {e}", file=sys.stderr)
        return 2
    try:
        election = pabulib.read_pb(text, filename=path.name)
    except records.RecordError as e:
        return print_errors(e)
    result = pabulib.recount_pb(election, completion=completion)
    sys.stdout.write(results.dumps_result(result))
    return 0


def recount_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.pb is not None:
        if args.ballots is not None or args.meeting is not None:
            parser.error("recount takes either BALLOTS --meeting MEETING or --pb FILE, not both")
        return recount_pb(args.pb, args.completion or "add1")
    if args.completion is not None:
        parser.error("--completion goes with --pb (a meeting file brings its own)")
    if args.ballots is None or args.meeting is None:
        parser.error("recount needs BALLOTS --meeting MEETING, or --pb FILE")
    for number, *_ in args.charter or ():
        if not number.isdigit() or len(number) > 9:
            parser.error(f"--charter takes a round number first, not {number[:20]!r}")
    if len({c[0] for c in args.charter or ()}) != len(args.charter or ()):
        parser.error("--charter names a round twice")
    for number, _ in args.review or ():
        if not number.isdigit() or len(number) > 9:
            parser.error(f"--review takes a round number first, not {number[:20]!r}")
    if len({c[0] for c in args.review or ()}) != len(args.review or ()):
        parser.error("--review names a round twice")
    return recount(
        args.ballots,
        args.meeting,
        args.groups,
        args.audit,
        args.survey,
        args.charter or (),
        args.review or (),
    )
