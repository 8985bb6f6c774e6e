"""The console's exports: the public record of a meeting, downloadable at any time.

meeting.json, proposals.csv, ballots.csv, groups.csv (the affected groups' totals that replace
each voter's segments; README, Anonymity), results.json and audit.jsonl (the hash-chained audit
log, app/voting/audit.py) for the meeting; ballots.csv, groups.csv, results.json and pabulib.pb for
one
round. Facilitator only. results.json is exactly what
`covote recount ballots.csv --meeting meeting.json` prints for the same files.

The results report (report.html, one self-contained page, and report.pdf; app/record/report.py) and
the export bundle (export/bundle.zip: every file above, the report, README.txt and SHA256SUMS)
are read in one transaction, so the hashes the report prints are those of the files beside it.

A Lab rating round (issue 16) adds its own four files to the bundle (`_lab_files`, the Lab
page's downloads) and README.txt the `covote lab tabulate` command that reproduces its results.
results.json keeps the round's bare answer counts: it is what `covote recount` reads from
ballots.csv (with the audit log, which names each round's kind and the Lab's merges), and the
Lab's figures need the ideas and groups files, which it does not read.

A charter consent round (issue 17) adds the charter version it asked, its consent and groups
CSV and its results JSON (`_charter_files`, `charter_kind.public_files`): the recount counts
it from ballots.csv with the first three (`--charter N ...`) and README.txt gives the
`covote charter tabulate` command that prints its results JSON from them.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import cast

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.responses import HTMLResponse, Response

from app.console import charter as charter_page
from app.console.forms import page
from app.core import localtime, shapes
from app.core.errors import BadInput, NotFound
from app.core.messages import N_
from app.core.vocab import CHARTER, LAB, ROOM_VOTE, SURVEY, RoundStatus
from app.record import (
    csvfiles,
    filenames,
    lab_files,
    pabulib,
    records,
    report,
    report_lab,
    report_pdf,
    results,
    survey_charts,
)
from app.record.figure import Chart
from app.rules import lab as lab_rules
from app.rules.mes import amount
from app.voting import (
    audit,
    charter_kind,
    charters,
    kinds,
    lab,
    lab_challenges,
    lab_kind,
    meetings,
    rounds,
    survey_kind,
    surveys,
    turnout,
)
from app.voting.models import Meeting, Round
from app.web import auth, i18n
from app.web.deps import RowId, ServicesDep
from app.web.rendering import TEMPLATES
from app.web.services import Services

router = APIRouter()


@dataclass(frozen=True, slots=True)
class _Named:
    """What a download is named after: the meeting's title and date (app/record/filenames.py)."""

    title: str
    day: date

    def disposition(self, what: str, kind: str = "attachment") -> dict[str, str]:
        """The Content-Disposition header for the file `what` ("report.pdf")."""
        header = filenames.content_disposition(kind, self.title, self.day, what)
        return {"Content-Disposition": header}


def _named(session: Session, meeting: Meeting) -> _Named:
    """The meeting's title and date: the day its first round opened in its zone, else the
    day it was created."""
    assert meeting.id is not None
    opened = [rnd.opened_at for rnd in rounds.rounds_of(session, meeting.id)]
    day = filenames.meeting_day(meeting.created_at, opened, meetings.zone_of(meeting))
    return _Named(meeting.title, day)


def _download(text: str, named: _Named, what: str, media_type: str) -> Response:
    return Response(text, media_type=media_type, headers=named.disposition(what))


def _export(
    services: Services, meeting_id: int, what: str, number: int | None
) -> tuple[str, _Named]:
    with services.read_session() as session:
        meeting = meetings.get_meeting(session, meeting_id)
        return _export_text(session, meeting, what, number), _named(session, meeting)


def _export_text(session: Session, meeting: Meeting, what: str, number: int | None) -> str:
    """One export's text, read through the caller's session."""
    assert meeting.id is not None
    meeting_id = meeting.id
    if what == "meeting.json":
        return records.dump_meeting(meetings.meeting_file(session, meeting))
    if what == "audit.jsonl":
        return audit.export_lines(session, meeting_id)
    if what == "survey.json":  # the survey file as stored: canonical (app/voting/surveys.py)
        survey = surveys.survey_text(session, meeting_id)
        if survey is None:
            raise NotFound(N_("This meeting has no survey yet."))
        return survey
    if what == "proposals.csv":
        pfs = [meetings.proposal_file(p) for p in meetings.proposals_of(session, meeting_id)]
        return csvfiles.write_proposals_csv(pfs)
    chosen = (
        [rounds.get_round(session, meeting, number)]
        if number is not None
        else rounds.rounds_of(session, meeting_id)
    )
    if what == "ballots.csv":
        rows = [row for rnd in chosen for row in rounds.ballot_rows(session, meeting, rnd)]
        return csvfiles.write_ballot_csv(rows)
    if what == "groups.csv":
        totals = [row for rnd in chosen for row in rounds.group_rows(session, meeting, rnd)]
        return csvfiles.write_groups_csv(totals)
    # results.json: exactly what `covote recount` prints for the same ballots (with
    # `--audit audit.jsonl`, which reads the final and voided marks from the log)
    record = {
        "rounds": [
            {"round": str(rnd.number), **rounds.round_record(session, meeting, rnd)}
            for rnd in chosen
            # A round nobody voted in has no ballot rows, so a recount cannot see it.
            if rounds.has_ballots(session, rnd)
        ]
    }
    return results.dumps_result(results.with_marks(record, rounds.round_marks(chosen)))


EXPORTS = {
    "meeting.json": "application/json",
    "proposals.csv": "text/csv; charset=utf-8",
    "ballots.csv": "text/csv; charset=utf-8",
    "groups.csv": "text/csv; charset=utf-8",
    "results.json": "application/json",
    "audit.jsonl": "application/jsonl",
    "survey.json": "application/json",
}


# --- the results report and the export bundle ------------------------------------------------

BUNDLE_README = """\
Covote export of the meeting "%(title)s", made %(generated)s.

  meeting.json          the meeting: proposals, affected groups, the rule's R and m
  ballots.csv           every round's ballots (by a random pseudonym per round; no segments)
  ballots-round-N.csv   the same, one round per file
  groups.csv            each affected group's totals (groups of at least m voters only)
  groups-round-N.csv    the same, one round per file
  results.json          the results, exactly as `covote recount` prints them
  audit.jsonl           the hash-chained audit log of everything that changed an outcome
  report.html           the results report (one self-contained page); report.pdf the same
  SHA256SUMS            the SHA-256 of every file here: sha256sum -c SHA256SUMS

Recount (prints results.json, byte for byte):

  %(recount)s

Verify the audit log (the chain, its last hash as the report prints it, and that every closed
round's seal matches its rows in ballots.csv and groups.csv):

  %(verify)s

Both commands come with Covote (see its README to install it); neither needs the server.
"""

POPULATION_LINE = "  survey-population.csv          the population's shares it is weighted to\n"
# Added to README.txt when the meeting has a survey (a meeting without one keeps its bytes).
SURVEY_README = """
The survey:

  survey.json                    the survey's questions, services and areas (the codebook)
  survey-responses-round-N.csv   a survey round's answers, one row per person and question;
                                 segments and areas merged until every combination written
                                 holds at least m (%(m)s) people; short texts withheld
  survey-results-round-N.json    its figures, exactly as this prints them:
%(population)s
  covote survey tabulate survey-responses-round-N.csv --survey survey.json --m %(m)s%(weights)s
"""


# Added to README.txt when a Lab round has ratings (a meeting without one keeps its bytes).
LAB_README = """
The Co-Production Lab (per rating round N):

  lab-ideas-round-N.csv     every idea: challenge, kind, status (a merged one names the idea
                            it joined; a hidden one's text withheld), supporters and helpers
                            as counts, the segments that may reject it
  lab-votes-round-N.csv     each rating by a random pseudonym; segments merged until every
                            combination written holds at least m (%(m)s) voters, affected
                            segments left out (their totals are in the groups file)
  lab-groups-round-N.csv    the affected segments' totals per idea (at least m raters only)
  lab-results-round-N.json  opinion groups and each idea's support, exactly as this prints
                            (ballots.csv has the round's ratings as cast, a merged idea's
                            under its own key; results.json and `covote recount` count them
                            for the idea it joined, as the audit log's lab.merged says):

  covote lab tabulate lab-ideas-round-N.csv lab-votes-round-N.csv \\
      --groups lab-groups-round-N.csv --m %(m)s --r %(r)s --seed %(seed)s
"""


# Added to README.txt when a charter round has answers (a meeting without one keeps its bytes).
CHARTER_README = """
The Community Charter (per consent round N):

  charter-round-N.json          the charter version the round asked (its codebook; the audit
                                log's charter.saved link holds its SHA-256)
  charter-consent-round-N.csv   each answer (1 fully support .. 5 block) by the round's random
                                pseudonyms, no segments: the round's rows of ballots.csv
  charter-groups-round-N.csv    each affected group's totals per wording, counted on its
                                members' true segments (groups of at least m (%(m)s) only)
  charter-results-round-N.json  each clause's decision, exactly as this prints it (and as
                                results.json's `charter` for the round):
"""
CHARTER_TABULATE = """
  covote charter tabulate charter-consent-round-%(n)s.csv --groups charter-groups-round-%(n)s.csv \\
      --charter charter-round-%(n)s.json --m %(m)s --r %(r)s --block-percent %(p)s
"""


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """The meeting's export files and its report, all read in one transaction."""

    files: dict[str, str]  # name -> text, in bundle order
    report: report.Report
    generated_at: datetime
    named: _Named
    tz: tzinfo  # the meeting's zone: README.txt says when it was made in it
    meeting: Meeting
    lab_seeds: tuple[int, ...] = ()  # each Lab round's seed, when the bundle has Lab files
    charter_rounds: tuple[int, ...] = ()  # the charter rounds whose files the bundle has
    block_percent: int = 0  # the meeting's charter block share (README.txt's tabulate)


def _survey_files(session: Session, meeting: Meeting, all_rounds: list[Round]) -> dict[str, str]:
    """The survey's record: its file (the codebook) and, for each survey round with answers,
    its responses and results as `covote survey tabulate` reproduces them."""
    assert meeting.id is not None
    text = surveys.survey_text(session, meeting.id)
    if text is None:
        return {}
    files = {"survey.json": text}
    population = surveys.population_of(session, meeting.id, surveys.parse_stored(text))
    if population is not None:
        stored = surveys.population_text(session, meeting.id)
        assert stored is not None
        files["survey-population.csv"] = stored
    for rnd in all_rounds:
        if rnd.kind != SURVEY or rnd.status == RoundStatus.VOIDED:
            continue
        if not rounds.has_ballots(session, rnd):
            continue
        published = survey_kind.public_files(session, meeting, rnd)
        if published is not None:
            files[f"survey-responses-round-{rnd.number}.csv"] = published[0]
            files[f"survey-results-round-{rnd.number}.json"] = published[1]
    return files


def _lab_files(
    session: Session, meeting: Meeting, all_rounds: list[Round]
) -> tuple[dict[str, str], dict[int, lab_files.Published]]:
    """The Lab's record for each `lab` round with ratings, not voided: its ideas, votes and
    groups CSV and its results JSON, as `covote lab tabulate` reproduces them
    (`lab_kind.lab_published`, the same as the Lab page's downloads); with each round's
    published results by number, for the report."""
    files: dict[str, str] = {}
    published: dict[int, lab_files.Published] = {}
    for rnd in all_rounds:
        if rnd.kind != LAB or rnd.status == RoundStatus.VOIDED:
            continue
        if not rounds.has_ballots(session, rnd):
            continue
        made = lab_kind.lab_published(session, meeting, rnd)
        ideas = lab_kind.idea_rows(session, meeting, made.result)
        n = rnd.number
        files[f"lab-ideas-round-{n}.csv"] = lab_files.write_ideas_csv(ideas)
        files[f"lab-votes-round-{n}.csv"] = lab_files.write_votes_csv(made.voters)
        files[f"lab-groups-round-{n}.csv"] = lab_files.write_groups_csv(made.groups)
        files[f"lab-results-round-{n}.json"] = lab_files.dumps_lab_results(made.result)
        published[n] = made
    return files, published


def _charter_files(session: Session, meeting: Meeting, all_rounds: list[Round]) -> dict[str, str]:
    """Each `charter` round with answers (voided too: results.json lists it): the charter
    version it asked, its consent and groups CSV and its results JSON
    (`charter_kind.public_files`)."""
    files: dict[str, str] = {}
    for rnd in all_rounds:
        if rnd.kind != CHARTER or not rounds.has_ballots(session, rnd):
            continue
        made = charter_kind.public_files(session, meeting, rnd)
        if made is not None:
            n = rnd.number
            files[f"charter-round-{n}.json"] = made.charter
            files[f"charter-consent-round-{n}.csv"] = made.consent
            files[f"charter-groups-round-{n}.csv"] = made.groups
            files[f"charter-results-round-{n}.json"] = made.results
    return files


def _lab_input(
    session: Session, meeting: Meeting, result: lab_rules.LabResult
) -> report_lab.LabInput:
    """The meeting's challenges and ideas with a Lab round's published results, for the report."""
    assert meeting.id is not None
    return report_lab.LabInput(
        challenges=tuple(
            report_lab.ChallengeInfo(c.key, c.title, c.title_cy or "")
            for c in lab_challenges.challenges_of(session, meeting.id)
        ),
        ideas=tuple(
            report_lab.IdeaInfo(
                key=r.idea.key,
                challenge=r.challenge,
                text=r.idea.text,
                status=lab_rules.IdeaStatus(r.idea.status),
                helpers=r.helpers,
                shortlisted=r.idea.shortlisted,
                reason=r.idea.shortlist_reason or "",
            )
            for r in lab.ideas_of(session, meeting.id)
        ),
        result=result,
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _snapshot(services: Services, meeting_id: int, _: i18n.Translator) -> _Snapshot:
    generated_at = datetime.now(UTC)
    receiving = services.desk.receiving(meeting_id)
    with services.read_session() as session:
        if session.get_bind().dialect.name == "postgresql":
            # One snapshot for every read below, so the hashes match the counts shown.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        meeting = meetings.get_meeting(session, meeting_id)
        all_rounds = rounds.rounds_of(session, meeting_id)
        files = {
            "meeting.json": _export_text(session, meeting, "meeting.json", None),
            "ballots.csv": _export_text(session, meeting, "ballots.csv", None),
        }
        files["groups.csv"] = _export_text(session, meeting, "groups.csv", None)
        for rnd in all_rounds:
            if rounds.has_ballots(session, rnd):
                for what in ("ballots", "groups"):
                    name = f"{what}-round-{rnd.number}.csv"
                    files[name] = _export_text(session, meeting, f"{what}.csv", rnd.number)
        files["results.json"] = _export_text(session, meeting, "results.json", None)
        # The kinds the recount reads from the log (of rounds in results.json: with ballots).
        other_kinds = tuple(
            sorted(
                {
                    rnd.kind
                    for rnd in all_rounds
                    if rnd.kind not in (None, ROOM_VOTE) and rounds.has_ballots(session, rnd)
                }
            )
        )
        files["audit.jsonl"] = audit.export_lines(session, meeting_id)
        files.update(_survey_files(session, meeting, all_rounds))
        lab_record, lab_published = _lab_files(session, meeting, all_rounds)
        files.update(lab_record)
        charter_record = _charter_files(session, meeting, all_rounds)
        files.update(charter_record)
        charter_rounds = tuple(
            rnd.number for rnd in all_rounds if f"charter-round-{rnd.number}.json" in files
        )
        block_percent = charters.block_percent(session, meeting_id)
        links, head = audit.head_of(session, meeting_id)
        info = report.MeetingInfo(
            title=meeting.title,
            ratio=meeting.ratio,
            group_min=meeting.group_min,
            segments=tuple(
                report.SegmentInfo(s.key, s.label, s.protects)
                for s in meetings.segments_of(session, meeting_id)
            ),
            proposals=tuple(
                report.ProposalInfo(p.key, p.title, p.kind, tuple(p.affected_groups))
                for p in meetings.proposals_of(session, meeting_id)
            ),
            created_at=meeting.created_at,
            venue=meeting.venue or "",
            chair=meeting.chair or "",
        )
        named = _named(session, meeting)
        tz = meetings.zone_of(meeting)
        boundaries = surveys.boundaries_of(session, meeting_id)
        inputs = []
        for rnd in all_rounds:
            view = rounds.results_view(session, meeting, rnd)
            area_map = _report_area_map(boundaries, view, _) if rnd.kind == SURVEY else None
            inputs.append(
                report.RoundInput(
                    number=rnd.number,
                    status=rnd.status,
                    revealed=rnd.revealed,
                    opened_at=rnd.opened_at,
                    closed_at=rnd.closed_at,
                    results=view,
                    turnout=(
                        rnd.turnout
                        if rnd.status != RoundStatus.OPEN and rnd.turnout
                        else turnout.counts(
                            session,
                            meeting,
                            rnd,
                            receiver_open=receiving and rnd.status == RoundStatus.OPEN,
                        )
                    ),
                    turnout_at_close=rnd.status != RoundStatus.OPEN and bool(rnd.turnout),
                    view=kinds.kind_of(rnd).views.projector,
                    final=bool(rnd.final),
                    voided_at=rnd.voided_at if rnd.status == RoundStatus.VOIDED else None,
                    void_reason=rnd.void_reason or "",
                    area_map=area_map,
                    lab=(
                        _lab_input(session, meeting, lab_published[rnd.number].result)
                        if rnd.number in lab_published
                        else None
                    ),
                )
            )
    record = report.RecordInput(
        ballots_sha256=_sha256(files["ballots.csv"]),
        groups_sha256=_sha256(files["groups.csv"]),
        results_sha256=_sha256(files["results.json"]),
        audit_links=links,
        audit_head=head,
        other_kinds=other_kinds,
        charter_rounds=charter_rounds,
    )
    model = report.build(
        info,
        inputs,
        record,
        generated_at=generated_at,
        tz=tz,
        _=_,
        lang=_.locale,
    )
    seeds = tuple(p.result.seed for p in lab_published.values())
    return _Snapshot(
        files, model, generated_at, named, tz, meeting, seeds, charter_rounds, block_percent
    )


def _report_area_map(
    boundaries: surveys.Boundaries | None, view: shapes.KindResults, _: i18n.Translator
) -> Chart | None:
    """A survey round's area map for the report, when its survey has boundaries (the one the
    projector shows: `survey_charts.default_area_map`)."""
    if boundaries is None or "survey" not in view:
        return None
    survey = cast(shapes.SurveyView, view)
    return survey_charts.default_area_map(
        survey["survey"],
        survey["labels"],
        boundaries.areas,
        boundaries.key_property,
        boundaries.match,
        _,
        _.locale,
    )


def _report_html(model: report.Report, _: i18n.Translator) -> str:
    return TEMPLATES.env.get_template("record/report.html").render(report=model, _=_)


def _translator(request: Request) -> i18n.Translator:
    return i18n.gettext_for(i18n.choose_locale(request))


@router.get("/console/{meeting_id}/report")
async def report_in_console(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """The results report inside the console (its navigation, back to the Run page), with
    "Download PDF", "Print" (the console left out of the print) and "Open on its own"."""
    auth.require_facilitator(request)
    snap = await asyncio.to_thread(_snapshot, services, meeting_id, _translator(request))
    return page(request, "console/report.html", {"meeting": snap.meeting, "report": snap.report})


@router.get("/console/{meeting_id}/report.html")
async def report_html(
    request: Request, meeting_id: RowId, services: ServicesDep, download: bool = False
) -> Response:
    """The results report as one self-contained page; `?download=1` saves it as a file."""
    auth.require_facilitator(request)
    _ = _translator(request)
    snap = await asyncio.to_thread(_snapshot, services, meeting_id, _)
    headers = snap.named.disposition("report.html") if download else {}
    return HTMLResponse(_report_html(snap.report, _), headers=headers)


@router.get("/console/{meeting_id}/report.pdf")
async def report_pdf_view(
    request: Request, meeting_id: RowId, services: ServicesDep, download: bool = False
) -> Response:
    """The results report as an A4 PDF (opens in the browser; `?download=1` saves it)."""
    auth.require_facilitator(request)
    _ = _translator(request)

    def make() -> tuple[bytes, _Named]:
        snap = _snapshot(services, meeting_id, _)
        return report_pdf.render(snap.report), snap.named

    pdf, named = await asyncio.to_thread(make)
    kind = "attachment" if download else "inline"
    return Response(
        pdf, media_type="application/pdf", headers=named.disposition("report.pdf", kind)
    )


def _bundle(services: Services, meeting_id: int, _: i18n.Translator) -> tuple[bytes, _Named]:
    """The zip: every export, the report as HTML and PDF, README.txt and SHA256SUMS."""
    snap = _snapshot(services, meeting_id, _)
    data = {name: text.encode("utf-8") for name, text in snap.files.items()}
    data["report.html"] = _report_html(snap.report, _).encode("utf-8")
    data["report.pdf"] = report_pdf.render(snap.report)
    charter = charter_page.bundle_pdf(services, meeting_id, _, snap.generated_at)
    if charter is not None:  # a meeting without a charter keeps its bundle's bytes
        data["charter.pdf"] = charter
    readme = BUNDLE_README % {
        "title": snap.report.title,
        "generated": localtime.show(snap.generated_at, snap.tz),
        "recount": snap.report.check.commands[0],
        "verify": snap.report.check.commands[1],
    }
    if "survey.json" in snap.files:
        weighted = "survey-population.csv" in snap.files
        readme += SURVEY_README % {
            "m": snap.meeting.group_min,
            "population": POPULATION_LINE if weighted else "",
            "weights": " \\\n      --population survey-population.csv" if weighted else "",
        }
    if snap.lab_seeds:
        # One seed for the meeting (`lab_kind.lab_published`'s); every round's results say it.
        readme += LAB_README % {
            "m": snap.meeting.group_min,
            "r": snap.meeting.ratio,
            "seed": snap.lab_seeds[0],
        }
    if charter is not None:
        readme += CHARTER_PDF_README
    if snap.charter_rounds:
        readme += CHARTER_README % {"m": snap.meeting.group_min} + "".join(
            CHARTER_TABULATE
            % {
                "n": n,
                "m": snap.meeting.group_min,
                "r": snap.meeting.ratio,
                "p": snap.block_percent,
            }
            for n in snap.charter_rounds
        )
    data["README.txt"] = readme.encode("utf-8")
    data["SHA256SUMS"] = "".join(
        f"{hashlib.sha256(body).hexdigest()}  {name}\n" for name, body in data.items()
    ).encode("utf-8")
    out = io.BytesIO()
    stamp = snap.generated_at.timetuple()[:6]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in data.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, body)
    return out.getvalue(), snap.named


CHARTER_PDF_README = """
The Community Charter (charter.pdf): every clause with its support and decision, the
amendments, each party's commitments, the signatures and the audit log's head hash when this
bundle was made.
"""


# Registered before /export/{what}, which would otherwise take "bundle.zip" as an unknown export.
@router.get("/console/{meeting_id}/export/bundle.zip")
async def export_bundle(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    auth.require_facilitator(request)
    body, named = await asyncio.to_thread(_bundle, services, meeting_id, _translator(request))
    return Response(body, media_type="application/zip", headers=named.disposition("bundle.zip"))


@router.get("/console/{meeting_id}/export/{what}")
async def export(request: Request, meeting_id: RowId, what: str, services: ServicesDep) -> Response:
    auth.require_facilitator(request)
    if what not in EXPORTS:
        raise BadInput(f"Unknown export {what!r}; choose one of {', '.join(EXPORTS)}.")
    text, named = await asyncio.to_thread(_export, services, meeting_id, what, None)
    return _download(text, named, what, EXPORTS[what])


def _export_pb(services: Services, meeting_id: int, number: int) -> tuple[str, _Named]:
    """The round as a Pabulib approval election: what MES ran on (see rounds.pabulib_election)."""
    with services.read_session() as session:
        meeting = meetings.get_meeting(session, meeting_id)
        rnd = rounds.get_round(session, meeting, number)
        budget = meetings.budget_of(meeting)
        voters, costs, funded = rounds.pabulib_election(session, meeting, rnd)
        titles = {p.key: p.title for p in meetings.proposals_of(session, meeting_id)}
        named = _named(session, meeting)
    assert budget is not None  # pabulib_election refuses a meeting without one
    wants = {pid: sum(pid in approved for _, approved in voters) for pid in costs}
    projects = [
        pabulib.Project(pid, cost, titles[pid], wants[pid], int(pid in funded))
        for pid, cost in costs.items()
    ]
    text = pabulib.write_pb(
        pabulib.round_meta(
            title=meeting.title,
            number=number,
            opened=rnd.opened_at,
            closed=rnd.closed_at,
            currency=budget.currency,
            completion=budget.completion,
        ),
        amount(budget.pot),
        projects,
        [(voter, sorted(approved)) for voter, approved in voters],
    )
    return text, named


@router.get("/console/{meeting_id}/rounds/{number}/export/{what}")
async def export_round(
    request: Request, meeting_id: RowId, number: RowId, what: str, services: ServicesDep
) -> Response:
    auth.require_facilitator(request)
    if what == "pabulib.pb":
        text, named = await asyncio.to_thread(_export_pb, services, meeting_id, number)
        return _download(text, named, f"round-{number}.pb", "text/plain; charset=utf-8")
    if what not in ("ballots.csv", "groups.csv", "results.json"):
        raise BadInput("A round exports ballots.csv, groups.csv, results.json or pabulib.pb.")
    text, named = await asyncio.to_thread(_export, services, meeting_id, what, number)
    return _download(text, named, f"round-{number}-{what}", EXPORTS[what])
