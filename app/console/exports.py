"""The console's exports: a meeting's public record, one file at a time, downloadable at any time.

meeting.json, proposals.csv, ballots.csv, groups.csv (the affected groups' totals that replace
each voter's segments; README, Anonymity), results.json, audit.jsonl (the hash-chained audit
log, app/voting/audit.py) and survey.json for the meeting; ballots.csv, groups.csv,
results.json and pabulib.pb for one round. Facilitator only. results.json is exactly what
`covote recount ballots.csv --meeting meeting.json` prints for the same files.

The results report is `results_report`'s; the export bundle (every file here, the report and
the kinds' own files in one zip) is `bundle`'s, read through `record_snapshot`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.responses import Response

from app.core.errors import BadInput, NotFound
from app.core.messages import N_
from app.record import csvfiles, filenames, pabulib, records, results
from app.rules.mes import amount
from app.voting import audit, meetings, rounds, surveys
from app.voting.models import Meeting
from app.web import auth
from app.web.deps import RowId, ServicesDep
from app.web.services import Services

router = APIRouter()


@dataclass(frozen=True, slots=True)
class Named:
    """What a download is named after: the meeting's title and date (app/record/filenames.py)."""

    title: str
    day: date

    def disposition(self, what: str, kind: str = "attachment") -> dict[str, str]:
        """The Content-Disposition header for the file `what` ("report.pdf")."""
        header = filenames.content_disposition(kind, self.title, self.day, what)
        return {"Content-Disposition": header}


def named_after(session: Session, meeting: Meeting) -> Named:
    """The meeting's title and date: the day its first round opened in its zone, else the
    day it was created."""
    assert meeting.id is not None
    opened = [rnd.opened_at for rnd in rounds.rounds_of(session, meeting.id)]
    day = filenames.meeting_day(meeting.created_at, opened, meetings.zone_of(meeting))
    return Named(meeting.title, day)


def _download(text: str, named: Named, what: str, media_type: str) -> Response:
    return Response(text, media_type=media_type, headers=named.disposition(what))


def _export(
    services: Services, meeting_id: int, what: str, number: int | None
) -> tuple[str, Named]:
    with services.read_session() as session:
        meeting = meetings.get_meeting(session, meeting_id)
        return export_text(session, meeting, what, number), named_after(session, meeting)


def export_text(session: Session, meeting: Meeting, what: str, number: int | None) -> str:
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


@router.get("/console/{meeting_id}/export/{what}")
async def export(request: Request, meeting_id: RowId, what: str, services: ServicesDep) -> Response:
    """One of the meeting's `EXPORTS` as a download. Raises BadInput for any other name."""
    auth.require_facilitator(request)
    if what not in EXPORTS:
        raise BadInput(f"Unknown export {what!r}; choose one of {', '.join(EXPORTS)}.")
    text, named = await asyncio.to_thread(_export, services, meeting_id, what, None)
    return _download(text, named, what, EXPORTS[what])


def _export_pb(services: Services, meeting_id: int, number: int) -> tuple[str, Named]:
    """The round as a Pabulib approval election: what MES ran on (see rounds.pabulib_election)."""
    with services.read_session() as session:
        meeting = meetings.get_meeting(session, meeting_id)
        rnd = rounds.get_round(session, meeting, number)
        budget = meetings.budget_of(meeting)
        voters, costs, funded = rounds.pabulib_election(session, meeting, rnd)
        titles = {p.key: p.title for p in meetings.proposals_of(session, meeting_id)}
        named = named_after(session, meeting)
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
    """One round's ballots.csv, groups.csv, results.json or pabulib.pb as a download."""
    auth.require_facilitator(request)
    if what == "pabulib.pb":
        text, named = await asyncio.to_thread(_export_pb, services, meeting_id, number)
        return _download(text, named, f"round-{number}.pb", "text/plain; charset=utf-8")
    if what not in ("ballots.csv", "groups.csv", "results.json"):
        raise BadInput("A round exports ballots.csv, groups.csv, results.json or pabulib.pb.")
    text, named = await asyncio.to_thread(_export, services, meeting_id, what, number)
    return _download(text, named, f"round-{number}-{what}", EXPORTS[what])
