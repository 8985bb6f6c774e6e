"""The `covote` command.

    covote serve  [--host H] [--port P] [--data DIR] [--public-url URL] [--database-url URL]
                  [--tls | --tls-cert FILE --tls-key FILE] [--forwarded-allow-ips IPS]
    covote demo   (same options; also creates the sample meeting if it is not there yet)
    covote recount BALLOTS.csv [--groups GROUPS.csv] --meeting MEETING.json [--audit AUDIT.jsonl]
                   [--survey SURVEY.json] [--charter N CHARTER.json CONSENT.csv GROUPS.csv]...
                   [--review N CHARTER.json]...
    covote recount --pb ELECTION.pb [--completion add1|add1+greedy|none]
    covote survey tabulate RESPONSES.csv --survey SURVEY.json [--population POP.csv] [--m N]
    covote lab tabulate IDEAS.csv VOTES.csv [--groups GROUPS.csv] [--m N] [--r R] [--seed S]
    covote charter tabulate CONSENT.csv --groups GROUPS.csv --charter CHARTER.json [--m N] [--r N]
                            [--block-percent P]
    covote audit verify AUDIT.jsonl [--ballots BALLOTS.csv [--groups GROUPS.csv]
                        --meeting MEETING.json] [--head HASH]
    covote db upgrade|current|history|survey-counts [--data DIR] [--database-url URL]
    covote keypads monitor URL [--arm N] [--limit N] [--duration S]
    covote keypads record URL FILE [--note TEXT] [--arm N] [--limit N] [--duration S]
    covote keypads simulate [--keypads N] [--seed S] [--csv FILE] [--duration S]

Exit codes: 0 success, 1 a check failed (audit verify: what failed on stderr), 2 bad input
(with file, line and reason on stderr). Commands that read files never end in a traceback: a
reader that fails in a way it did not foresee is reported as unreadable input too (exit 2).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from app.config import Settings
from app.record import chain, csvfiles, kind_rounds, records, results
from app.rules.budget import COMPLETIONS, Completion
from app.rules.charter import DEFAULT_BLOCK_PERCENT, CharterRule
from app.rules.tally import Rule as TallyRule


def _server_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default=None, help="interface to listen on (default 0.0.0.0: all)")
    p.add_argument("--port", type=int, default=None, help="port (default 8000)")
    p.add_argument("--data", type=Path, default=None, help="data directory (default ./data)")
    p.add_argument("--public-url", default=None, help="URL phones open (default: LAN address)")
    p.add_argument(
        "--database-url", default=None, help="e.g. postgresql://host/db (default SQLite)"
    )
    p.add_argument("--broadcast-url", default=None, help="redis://host for several processes")
    p.add_argument(
        "--keypads",
        action="append",
        default=None,
        metavar="URL",
        help="keypad receiver to supervise, e.g. serial:///dev/ttyACM0 (repeatable)",
    )
    p.add_argument(
        "--tls",
        action="store_true",
        default=None,
        help="HTTPS with a self-signed certificate for this network, kept in the data directory",
    )
    p.add_argument("--tls-cert", type=Path, default=None, help="your own certificate (PEM)")
    p.add_argument("--tls-key", type=Path, default=None, help="its private key (PEM)")
    p.add_argument(
        "--forwarded-allow-ips",
        default=None,
        metavar="IPS",
        help="behind a reverse proxy: its addresses, trusted for X-Forwarded-For/-Proto",
    )


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {
        "host": args.host,
        "port": args.port,
        "data_dir": args.data,
        "public_url": args.public_url,
        "database_url": args.database_url,
        "broadcast_url": args.broadcast_url,
        "keypad_urls": args.keypads,
        "tls": args.tls,
        "tls_cert": args.tls_cert,
        "tls_key": args.tls_key,
        "forwarded_allow_ips": args.forwarded_allow_ips,
    }
    return Settings(**{k: v for k, v in overrides.items() if v is not None}).with_secrets()


def serve(settings: Settings, *, with_demo: bool = False) -> int:
    import uvicorn

    from app.console import demo_charter, demo_lab, demo_survey
    from app.core import datadir
    from app.demo import samples
    from app.main import create_app
    from app.voting.db import make_engine, transaction, upgrade
    from app.voting.meetings import create_meeting, list_meetings
    from app.web import netinfo, tls

    os.umask(datadir.PRIVATE_UMASK)  # everything this server writes is for its user only
    datadir.secure(settings.data_dir, settings.resolved_database_url())
    try:
        certificate = tls.resolve(settings)
    except tls.TlsError as e:
        print(f"covote serve: {e}", file=sys.stderr)
        return 2
    scheme = "https" if certificate else "http"
    base = (settings.public_url or netinfo.lan_base_url(settings.port, scheme)).rstrip("/")
    engine = make_engine(settings.resolved_database_url())
    upgrade(engine, backup_dir=settings.data_dir / "backups")
    with transaction(engine) as session:
        demos = []
        for demo in samples() if with_demo else []:
            existing = [m for m in list_meetings(session) if m.title == demo.title]
            demos.append(existing[0] if existing else create_meeting(session, demo))
        surveyed = [m for m in list_meetings(session) if m.title == demo_survey.TITLE]
        chartered = [m for m in list_meetings(session) if m.title == demo_charter.TITLE]
    if with_demo:
        # The survey meeting, with made-up answers already in (through the ballot path), going
        # on into a Co-Production Lab with made-up ideas and ratings (app/console/demo_lab.py).
        labbed = surveyed[0] if surveyed else demo_lab.seed(engine, demo_survey.seed(engine))
        demos.append(labbed)
        # The charter meeting: its budget voted, the charter drafted from that and the Lab's
        # pledges, agreed clause by clause and signed (app/console/demo_charter.py).
        demos.append(chartered[0] if chartered else demo_charter.seed(engine, labbed))
    with transaction(engine) as session:
        known = list_meetings(session)
    engine.dispose()

    local = f"{scheme}://127.0.0.1:{settings.port}"
    print("Covote is starting.")
    print(f"  Facilitator (keep it private): {local}/facilitator?key={settings.facilitator_key}")
    print(f"  Attendees join at:             {base}/  (then type the meeting code)")
    for m in known[:5]:
        print(f"  “{m.title}”  code {m.code}")
        print(f"      phones {base}/m/{m.code}   projector {local}/p/{m.code}")
    for m in demos:
        print(f"  Demo meeting code: {m.code}  ({m.title})")
    if base.startswith("http://127.") and not settings.public_url:
        print("  Warning: no network found; phones cannot reach this laptop until it joins one.")
    if certificate is not None:
        made = " (made now)" if certificate.made else ""
        print(f"  TLS certificate{made}: {certificate.cert}")
        print(f"  Certificate SHA-256 fingerprint: {certificate.fingerprint}")
        print("  Browsers warn once about it: accept it only if they show this fingerprint.")
    print(f"  Data: {settings.resolved_database_url()}")

    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        ws="websockets-sansio",
        ws_per_message_deflate=False,  # ~200-byte frames: deflate costs 2-7x memory per phone
        ws_max_size=settings.ws_max_message_bytes,
        http="httptools",
        loop="uvloop",
        timeout_graceful_shutdown=5,
        log_level="warning",
        ssl_certfile=str(certificate.cert) if certificate else None,
        ssl_keyfile=str(certificate.key) if certificate else None,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    uvicorn.Server(config).run()
    return 0


def _report(e: records.RecordError) -> int:
    for line, reason in e.errors:
        where = f"{e.filename}:{line}" if line is not None else e.filename
        print(f"{where}: {reason}", file=sys.stderr)
    if e.omitted:
        print(f"{e.filename}: ... and {e.omitted} more problems", file=sys.stderr)
    return 2


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
        return _report(e)
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
        return _report(e)
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
        return _report(e)
    result = pabulib.recount_pb(election, completion=completion)
    sys.stdout.write(results.dumps_result(result))
    return 0


def survey_tabulate(
    responses_path: Path, survey_path: Path, population_path: Path | None, m: int
) -> int:
    """`covote survey tabulate`: a survey's results from its public responses CSV and survey
    file (and population shares), as JSON: byte for byte the survey's results JSON, when `m`
    is the meeting's group_min."""
    from app.record import survey_file, survey_files
    from app.rules import survey_tally

    try:
        survey_text = survey_path.read_text(encoding="utf-8-sig")
        responses_text = responses_path.read_text(encoding="utf-8-sig")
        population_text = (
            population_path.read_text(encoding="utf-8-sig") if population_path else None
        )
    except (OSError, UnicodeDecodeError) as e:
        print(f"covote survey tabulate: {e}", file=sys.stderr)
        return 2
    try:
        survey = survey_file.parse_survey(survey_text, filename=survey_path.name)
        rows = survey_files.read_responses_csv(responses_text, survey, filename=responses_path.name)
        population = (
            survey_files.read_population(population_text, survey, filename=population_path.name)
            if population_text is not None and population_path is not None
            else None
        )
    except records.RecordError as e:
        return _report(e)
    results = survey_tally.tabulate(survey, survey_files.tally_input(rows), m, population)
    sys.stdout.write(survey_files.dumps_survey_results(results))
    return 0


def lab_tabulate(
    ideas_path: Path,
    votes_path: Path,
    m: int,
    ratio: int,
    seed: int,
    groups_path: Path | None = None,
) -> int:
    """`covote lab tabulate`: the Co-Production Lab's results from its public ideas, vote and
    groups files, as JSON: byte for byte the Lab's results JSON, given the meeting's m, R and
    seed (the JSON records all three). Without `groups_path`, affected segments are counted on
    the vote file's coarsened segments (which the server's results are not)."""
    from app.record import lab_files

    try:
        ideas_text = ideas_path.read_text(encoding="utf-8-sig")
        votes_text = votes_path.read_text(encoding="utf-8-sig")
        groups_text = None if groups_path is None else groups_path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        print(f"covote lab tabulate: {e}", file=sys.stderr)
        return 2
    try:
        ideas = lab_files.read_ideas_csv(ideas_text, filename=ideas_path.name)
        voters = lab_files.read_votes_csv(votes_text, ideas, filename=votes_path.name)
        groups = None
        if groups_path is not None and groups_text is not None:
            groups = lab_files.read_groups_csv(groups_text, ideas, m, filename=groups_path.name)
    except records.RecordError as e:
        return _report(e)
    try:
        result = lab_files.tabulate_files(ideas, voters, m, ratio, seed, groups=groups)
    except ValueError as e:  # group totals the ideas and vote files contradict
        print(f"covote lab tabulate: {groups_path}: {e}", file=sys.stderr)
        return 2
    sys.stdout.write(lab_files.dumps_lab_results(result))
    return 0


def charter_tabulate(
    consent_path: Path, charter_path: Path, groups_path: Path, rule: CharterRule
) -> int:
    """`covote charter tabulate`: a consent round's results from its public consent CSV, its
    groups CSV (the affected groups' totals) and the charter file, as JSON: byte for byte the
    round's results JSON, given the meeting's m, R and block share. Exit 1 when the files
    disagree (a group with more answers than the room)."""
    from app.record import charter_file, charter_files

    try:
        charter_text = charter_path.read_text(encoding="utf-8-sig")
        consent_text = consent_path.read_text(encoding="utf-8-sig")
        groups_text = groups_path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        print(f"covote charter tabulate: {e}", file=sys.stderr)
        return 2
    m = rule.rule.group_min
    try:
        charter = charter_file.parse_charter(charter_text, filename=charter_path.name)
        ballots = charter_files.read_consent_csv(consent_text, charter, filename=consent_path.name)
        groups = charter_files.read_groups_csv(groups_text, charter, m, filename=groups_path.name)
    except records.RecordError as e:
        return _report(e)
    try:
        decisions = charter_files.tabulate(charter, ballots, rule, groups)
    except ValueError as e:
        print(f"covote charter tabulate: the files disagree: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(charter_files.dumps_charter_results(decisions, rule))
    return 0


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
            return _report(e)
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


def _reading(command: str, run: Callable[[], int]) -> int:
    """Run a command that reads files; an unforeseen failure is unreadable input (exit 2)."""
    try:
        return run()
    except Exception as e:  # RecursionError, MemoryError, a reader bug: not a traceback
        reason = records.quote(f"{type(e).__name__}: {e}"[:300])
        print(f"covote {command}: the input could not be read: {reason}", file=sys.stderr)
        return 2


def db_command(action: str, data: Path | None, database_url: str | None) -> int:
    """`covote db upgrade|current|history`: thin wrappers over Alembic (app/voting/migrations);
    `covote db survey-counts`: every survey round's kept counts rebuilt from its ballots
    (`survey_counts.rebuild_all`; the ballot writer keeps them, so only after ballots were
    written another way)."""
    from alembic.script import ScriptDirectory

    from app.core import datadir
    from app.voting.db import alembic_config, current_revision, head_revision, make_engine, upgrade

    if action == "history":
        for script in ScriptDirectory.from_config(alembic_config()).walk_revisions():
            print(f"{script.revision}  {(script.doc or '').splitlines()[0]}")
        return 0
    overrides: dict[str, Any] = {"data_dir": data, "database_url": database_url}
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    url = settings.resolved_database_url()
    sqlite = datadir.sqlite_file(url)
    if action == "current" and sqlite is not None and not sqlite.exists():
        print(f"covote db current: no database at {sqlite}", file=sys.stderr)
        return 1
    if action == "upgrade":
        os.umask(datadir.PRIVATE_UMASK)
        datadir.secure(settings.data_dir, url)
    engine = make_engine(url)
    try:
        if action == "current":
            print(current_revision(engine) or "none (empty, or made before migrations)")
            return 0
        if action == "survey-counts":
            return _survey_counts(engine, sqlite)
        backup = upgrade(engine, backup_dir=settings.data_dir / "backups")
    finally:
        engine.dispose()
    print(f"database at revision {head_revision()}" + (f" (backup: {backup})" if backup else ""))
    return 0


def _survey_counts(engine: Any, sqlite: Path | None) -> int:
    from app.voting import survey_counts
    from app.voting.db import current_revision, head_revision, transaction

    if sqlite is not None and not sqlite.exists():
        print(f"covote db survey-counts: no database at {sqlite}", file=sys.stderr)
        return 1
    if current_revision(engine) != head_revision():
        print("covote db survey-counts: run `covote db upgrade` first", file=sys.stderr)
        return 1
    with transaction(engine) as session:
        n = survey_counts.rebuild_all(session)
    print(f"{n} survey round(s) counted again from their ballots")
    return 0


def people_purge(data: Path | None, database_url: str | None) -> int:
    """`covote people purge`: delete every contact on a people list past its date (issue 15;
    the server also does it at start-up and whenever the console reads a list)."""
    from datetime import UTC, datetime

    from app.core import datadir
    from app.voting import people
    from app.voting.db import current_revision, head_revision, make_engine, transaction

    overrides: dict[str, Any] = {"data_dir": data, "database_url": database_url}
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    url = settings.resolved_database_url()
    sqlite = datadir.sqlite_file(url)
    if sqlite is not None and not sqlite.exists():
        print(f"covote people purge: no database at {sqlite}", file=sys.stderr)
        return 1
    engine = make_engine(url)
    try:
        if current_revision(engine) != head_revision():
            print("covote people purge: run `covote db upgrade` first", file=sys.stderr)
            return 1
        with transaction(engine) as session:
            purged = people.purge_expired(session, today=datetime.now(UTC).date())
    finally:
        engine.dispose()
    print(f"{purged} expired contact(s) deleted from the people lists")
    return 0


def _recount_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
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


def _check_rule_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """The command's --m and --r (where it has them) within a meeting file's bounds."""
    for flag in ("m", "r"):
        value = getattr(args, flag, None)
        if value is not None and not 1 <= value <= records.MAX_RULE_PARAMETER:
            parser.error(f"--{flag} must be from 1 to {records.MAX_RULE_PARAMETER}")


def _lab_command(lt: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """`covote lab tabulate`, its arguments checked."""
    _check_rule_args(lt, args)
    from app.rules.lab import SEED_MAX  # scikit-learn loads only for this command

    if not 0 <= args.seed <= SEED_MAX:
        lt.error(f"--seed must be from 0 to {SEED_MAX}")
    return _reading(
        "lab tabulate",
        lambda: lab_tabulate(args.ideas, args.votes, args.m, args.r, args.seed, args.groups),
    )


def _charter_command(ct: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """`covote charter tabulate`, its arguments checked."""
    _check_rule_args(ct, args)
    if not 0 <= args.block_percent <= 100:
        ct.error("--block-percent must be from 0 to 100")
    rule = CharterRule(args.block_percent, TallyRule(ratio=args.r, group_min=args.m))
    return _reading(
        "charter tabulate",
        lambda: charter_tabulate(args.consent, args.charter, args.groups, rule),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="covote", description="Live voting for public meetings")
    sub = parser.add_subparsers(dest="command", required=True)
    _server_args(sub.add_parser("serve", help="run the server"))
    _server_args(sub.add_parser("demo", help="run the server with a sample meeting"))
    rc = sub.add_parser("recount", help="recount a ballot file offline; prints JSON")
    rc.add_argument("ballots", type=Path, nargs="?", help="ballot CSV exported from Covote")
    rc.add_argument("--meeting", type=Path, help="meeting JSON exported from Covote")
    rc.add_argument("--groups", type=Path, help="group totals CSV (groups.csv) of the ballots")
    rc.add_argument(
        "--audit", type=Path, help="the audit log (audit.jsonl): rounds' kinds, final and voided"
    )
    rc.add_argument(
        "--survey", type=Path, help="the survey file (survey.json): a survey round's questions"
    )
    rc.add_argument(
        "--charter",
        nargs=4,
        action="append",
        metavar=("N", "CHARTER", "CONSENT", "GROUPS"),
        help="charter round N's files: the charter it asked, its consent and groups CSV",
    )
    rc.add_argument(
        "--review",
        nargs=2,
        action="append",
        metavar=("N", "CHARTER"),
        help="charter review round N's file: the charter version it asked",
    )
    rc.add_argument("--pb", type=Path, help="a Pabulib .pb approval election: run MES on it")
    rc.add_argument(
        "--completion",
        choices=COMPLETIONS,
        default=None,
        help="MES completion for --pb (default add1)",
    )
    sp = sub.add_parser("survey", help="a survey's public record")
    sp_sub = sp.add_subparsers(dest="action", required=True)
    st = sp_sub.add_parser("tabulate", help="a survey's results from its responses; prints JSON")
    st.add_argument("responses", type=Path, help="responses CSV exported from Covote")
    st.add_argument("--survey", type=Path, required=True, help="the survey JSON (its codebook)")
    st.add_argument("--population", type=Path, help="population shares CSV: weighted figures")
    st.add_argument(
        "--m",
        type=int,
        default=records.RuleFile.model_fields["group_min"].default,
        help="the meeting's m (group_min): the smallest group shown (default %(default)s)",
    )
    lp = sub.add_parser("lab", help="the Co-Production Lab's public record")
    lp_sub = lp.add_subparsers(dest="action", required=True)
    lt = lp_sub.add_parser("tabulate", help="the Lab's results from its public files; prints JSON")
    lt.add_argument("ideas", type=Path, help="ideas CSV exported from Covote")
    lt.add_argument("votes", type=Path, help="vote matrix CSV exported from Covote")
    lt.add_argument(
        "--groups", type=Path, help="groups CSV exported from Covote: affected segments' totals"
    )
    lt.add_argument(
        "--m",
        type=int,
        default=records.RuleFile.model_fields["group_min"].default,
        help="the meeting's m (group_min): the smallest group shown (default %(default)s)",
    )
    lt.add_argument(
        "--r",
        type=int,
        default=records.RuleFile.model_fields["ratio"].default,
        help="the meeting's R (ratio) for rejection by affected segments (default %(default)s)",
    )
    lt.add_argument("--seed", type=int, default=0, help="the clustering seed (default 0)")
    cp = sub.add_parser("charter", help="a Community Charter's public record")
    cp_sub = cp.add_subparsers(dest="action", required=True)
    ct = cp_sub.add_parser("tabulate", help="a consent round's results from its answers; JSON")
    ct.add_argument("consent", type=Path, help="consent CSV exported from Covote")
    ct.add_argument("--charter", type=Path, required=True, help="the charter JSON (its codebook)")
    ct.add_argument(
        "--groups", type=Path, required=True, help="groups CSV: the affected groups' totals"
    )
    ct.add_argument(
        "--m",
        type=int,
        default=records.RuleFile.model_fields["group_min"].default,
        help="the meeting's m (group_min): the smallest group shown (default %(default)s)",
    )
    ct.add_argument(
        "--r",
        type=int,
        default=records.RuleFile.model_fields["ratio"].default,
        help="the meeting's R (ratio) (default %(default)s)",
    )
    ct.add_argument(
        "--block-percent",
        type=int,
        default=DEFAULT_BLOCK_PERCENT,
        help="the share of blocks (percent) above which a clause goes back (default %(default)s)",
    )
    au = sub.add_parser("audit", help="check an exported audit log")
    au_sub = au.add_subparsers(dest="action", required=True)
    av = au_sub.add_parser("verify", help="check the hash chain and replay it against ballots")
    av.add_argument("log", type=Path, help="audit.jsonl exported from Covote")
    av.add_argument("--ballots", type=Path, help="ballots.csv to compare with the log's replay")
    av.add_argument("--groups", type=Path, help="groups.csv to check with the ballots")
    av.add_argument("--meeting", type=Path, help="meeting.json (needed with --ballots)")
    av.add_argument("--head", default=None, help="the last link's hash, as the report prints it")
    dbp = sub.add_parser("db", help="the database schema (migrations)")
    db_sub = dbp.add_subparsers(dest="action", required=True)
    for name, text in (
        ("upgrade", "upgrade the database to the newest revision (SQLite: after a backup copy)"),
        ("current", "print the database's revision"),
        ("history", "list the revisions"),
        ("survey-counts", "count every survey round again from its ballots"),
    ):
        action = db_sub.add_parser(name, help=text)
        action.add_argument("--data", type=Path, default=None, help="data directory (./data)")
        action.add_argument("--database-url", default=None, help="default: SQLite in --data")
    pp = sub.add_parser("people", help="the people lists (who offered to help)")
    pp_sub = pp.add_subparsers(dest="action", required=True)
    purge = pp_sub.add_parser("purge", help="delete every contact kept past its date")
    purge.add_argument("--data", type=Path, default=None, help="data directory (./data)")
    purge.add_argument("--database-url", default=None, help="default: SQLite in --data")
    kp = sub.add_parser("keypads", help="check a keypad receiver before a meeting")
    kp_sub = kp.add_subparsers(dest="action", required=True)
    for name, text in (
        ("monitor", "print decoded presses as JSON lines"),
        ("record", "record a kpcap/1 capture file"),
    ):
        action = kp_sub.add_parser(name, help=text)
        action.add_argument("url", help="receiver URL, e.g. serial:///dev/ttyACM0 or sim://")
        if name == "record":
            action.add_argument("file", type=Path, help="kpcap/1 file to write")
            action.add_argument("--note", default=None, help="a note stored in the capture")
        action.add_argument("--arm", type=int, default=None, help="open a vote with N choices")
        action.add_argument("--limit", type=int, default=None, help="stop after N presses")
        action.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    sim = kp_sub.add_parser("simulate", help="virtual keypads behind an emulated receiver")
    sim.add_argument("--keypads", type=int, default=30, help="how many keypads (default 30)")
    sim.add_argument("--seed", type=int, default=1, help="random seed: same keypad ids each run")
    sim.add_argument("--csv", type=Path, default=None, help="write the registration CSV here")
    sim.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    args = parser.parse_args(argv)
    if args.command == "recount":
        return _reading("recount", lambda: _recount_command(rc, args))
    if args.command == "survey":
        _check_rule_args(st, args)
        return _reading(
            "survey tabulate",
            lambda: survey_tabulate(args.responses, args.survey, args.population, args.m),
        )
    if args.command == "lab":
        return _lab_command(lt, args)
    if args.command == "charter":
        return _charter_command(ct, args)
    if args.command == "audit":
        if (args.ballots is None) != (args.meeting is None):
            av.error("--ballots and --meeting go together (the ballot file is read against it)")
        if args.groups is not None and args.ballots is None:
            av.error("--groups goes with --ballots")
        return _reading(
            "audit verify",
            lambda: audit_verify(args.log, args.ballots, args.meeting, args.head, args.groups),
        )
    if args.command == "db":
        return db_command(args.action, args.data, args.database_url)
    if args.command == "people":
        return people_purge(args.data, args.database_url)
    if args.command == "keypads":
        from hardware import cli as hw

        if args.action == "simulate":
            from hardware.rehearsal import simulate

            return simulate(args.keypads, seed=args.seed, csv=args.csv, duration=args.duration)
        limits = {"arm": args.arm, "limit": args.limit, "duration": args.duration}
        if args.action == "monitor":
            return hw.monitor(args.url, sys.stdout, err=sys.stderr, **limits)
        return hw.record(args.url, args.file, note=args.note, err=sys.stderr, **limits)
    if args.command in ("serve", "demo") and (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    return serve(_settings(args), with_demo=args.command == "demo")


if __name__ == "__main__":
    raise SystemExit(main())
