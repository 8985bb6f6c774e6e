"""`covote survey tabulate`, `covote lab tabulate` and `covote charter tabulate`: an activity's
results from its own public files; each prints its results JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli.reading import print_errors, reading
from app.record import records
from app.rules.charter import CharterRule
from app.rules.tally import Rule as TallyRule


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
        return print_errors(e)
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
        return print_errors(e)
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
        return print_errors(e)
    try:
        decisions = charter_files.tabulate(charter, ballots, rule, groups)
    except ValueError as e:
        print(f"covote charter tabulate: the files disagree: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(charter_files.dumps_charter_results(decisions, rule))
    return 0


def check_rule_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """The command's --m and --r (where it has them) within a meeting file's bounds."""
    for flag in ("m", "r"):
        value = getattr(args, flag, None)
        if value is not None and not 1 <= value <= records.MAX_RULE_PARAMETER:
            parser.error(f"--{flag} must be from 1 to {records.MAX_RULE_PARAMETER}")


def lab_command(lt: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """`covote lab tabulate`, its arguments checked."""
    check_rule_args(lt, args)
    from app.rules.lab import SEED_MAX  # scikit-learn loads only for this command

    if not 0 <= args.seed <= SEED_MAX:
        lt.error(f"--seed must be from 0 to {SEED_MAX}")
    return reading(
        "lab tabulate",
        lambda: lab_tabulate(args.ideas, args.votes, args.m, args.r, args.seed, args.groups),
    )


def charter_command(ct: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """`covote charter tabulate`, its arguments checked."""
    check_rule_args(ct, args)
    if not 0 <= args.block_percent <= 100:
        ct.error("--block-percent must be from 0 to 100")
    rule = CharterRule(args.block_percent, TallyRule(ratio=args.r, group_min=args.m))
    return reading(
        "charter tabulate",
        lambda: charter_tabulate(args.consent, args.charter, args.groups, rule),
    )
