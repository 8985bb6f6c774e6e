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

The package: `main` (here) parses the command line and hands each command to the module that
owns it: `server` (serve, demo), `recounts` (recount), `tabulate` (survey, lab and charter
tabulate), `audit_log` (audit verify), `database` (db, people purge) and `reading` (what the
commands that read files share); `keypads` is `hardware.cli`'s.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from app.cli.audit_log import audit_verify
from app.cli.database import db_command, people_purge
from app.cli.reading import reading
from app.cli.recounts import recount, recount_command
from app.cli.server import serve, server_args, settings_from
from app.cli.tabulate import (
    charter_command,
    charter_tabulate,
    check_rule_args,
    lab_command,
    lab_tabulate,
    survey_tabulate,
)
from app.record import records
from app.rules.budget import COMPLETIONS
from app.rules.charter import DEFAULT_BLOCK_PERCENT

__all__ = [
    "audit_verify",
    "charter_tabulate",
    "db_command",
    "lab_tabulate",
    "main",
    "people_purge",
    "recount",
    "serve",
    "survey_tabulate",
]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="covote", description="Live voting for public meetings")
    sub = parser.add_subparsers(dest="command", required=True)
    server_args(sub.add_parser("serve", help="run the server"))
    server_args(sub.add_parser("demo", help="run the server with a sample meeting"))
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
        return reading("recount", lambda: recount_command(rc, args))
    if args.command == "survey":
        check_rule_args(st, args)
        return reading(
            "survey tabulate",
            lambda: survey_tabulate(args.responses, args.survey, args.population, args.m),
        )
    if args.command == "lab":
        return lab_command(lt, args)
    if args.command == "charter":
        return charter_command(ct, args)
    if args.command == "audit":
        if (args.ballots is None) != (args.meeting is None):
            av.error("--ballots and --meeting go together (the ballot file is read against it)")
        if args.groups is not None and args.ballots is None:
            av.error("--groups goes with --ballots")
        return reading(
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
    return serve(settings_from(args), with_demo=args.command == "demo")
