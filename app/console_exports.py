"""The console's exports: the public record of a meeting, downloadable at any time.

meeting.json, proposals.csv, ballots.csv, results.json and audit.jsonl (the hash-chained audit
log, app/audit.py) for the meeting; ballots.csv,
results.json and pabulib.pb for one round. Facilitator only. results.json is exactly what
`covote recount ballots.csv --meeting meeting.json` prints for the same files.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from starlette.responses import Response

from app import audit, auth, csvfiles, meetings, pabulib, records, results, rounds
from app import budget as budget_mod
from app.deps import Services, ServicesDep
from app.errors import BadInput

router = APIRouter()


def _download(text: str, filename: str, media_type: str) -> Response:
    return Response(
        text,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _export(services: Services, meeting_id: int, what: str, number: int | None) -> str:
    with services.session() as session:
        meeting = meetings.get_meeting(session, meeting_id)
        if what == "meeting.json":
            return records.dump_meeting(meetings.meeting_file(session, meeting))
        if what == "audit.jsonl":
            return audit.export_lines(session, meeting_id)
        if what == "proposals.csv":
            pfs = [meetings.proposal_file(p) for p in meetings.proposals_of(session, meeting_id)]
            return csvfiles.write_proposals_csv(pfs)
        chosen = (
            [rounds.get_round(session, meeting, number)]
            if number is not None
            else rounds.rounds_of(session, meeting_id)
        )
        if what == "ballots.csv":
            rows = [row for rnd in chosen for row in rounds.ballot_rows(session, rnd)]
            return csvfiles.write_ballot_csv(rows)
        # results.json: exactly what `covote recount` prints for the same ballots
        return results.dumps_result(
            {
                "rounds": [
                    {"round": str(rnd.number), **rounds.round_record(session, meeting, rnd)}
                    for rnd in chosen
                    # A round nobody voted in has no ballot rows, so a recount cannot see it.
                    if rounds.has_ballots(session, rnd)
                ]
            }
        )


EXPORTS = {
    "meeting.json": "application/json",
    "proposals.csv": "text/csv; charset=utf-8",
    "ballots.csv": "text/csv; charset=utf-8",
    "results.json": "application/json",
    "audit.jsonl": "application/jsonl",
}


@router.get("/console/{meeting_id}/export/{what}")
async def export(request: Request, meeting_id: int, what: str, services: ServicesDep) -> Response:
    auth.require_facilitator(request)
    if what not in EXPORTS:
        raise BadInput(f"Unknown export {what!r}; choose one of {', '.join(EXPORTS)}.")
    text = await asyncio.to_thread(_export, services, meeting_id, what, None)
    return _download(text, f"meeting-{meeting_id}-{what}", EXPORTS[what])


def _export_pb(services: Services, meeting_id: int, number: int) -> str:
    """The round as a Pabulib approval election: what MES ran on (see rounds.pabulib_election)."""
    with services.session() as session:
        meeting = meetings.get_meeting(session, meeting_id)
        rnd = rounds.get_round(session, meeting, number)
        budget = meetings.budget_of(meeting)
        voters, costs, funded = rounds.pabulib_election(session, meeting, rnd)
        titles = {p.key: p.title for p in meetings.proposals_of(session, meeting_id)}
    assert budget is not None  # pabulib_election refuses a meeting without one
    wants = {pid: sum(pid in approved for _, approved in voters) for pid in costs}
    projects = [
        pabulib.Project(pid, cost, titles[pid], wants[pid], int(pid in funded))
        for pid, cost in costs.items()
    ]
    return pabulib.write_pb(
        pabulib.round_meta(
            title=meeting.title,
            number=number,
            opened=rnd.opened_at,
            closed=rnd.closed_at,
            currency=budget.currency,
            completion=budget.completion,
        ),
        budget_mod.amount(budget.pot),
        projects,
        [(voter, sorted(approved)) for voter, approved in voters],
    )


@router.get("/console/{meeting_id}/rounds/{number}/export/{what}")
async def export_round(
    request: Request, meeting_id: int, number: int, what: str, services: ServicesDep
) -> Response:
    auth.require_facilitator(request)
    if what == "pabulib.pb":
        text = await asyncio.to_thread(_export_pb, services, meeting_id, number)
        name = f"meeting-{meeting_id}-round-{number}.pb"
        return _download(text, name, "text/plain; charset=utf-8")
    if what not in ("ballots.csv", "results.json"):
        raise BadInput("A round exports ballots.csv, results.json or pabulib.pb.")
    text = await asyncio.to_thread(_export, services, meeting_id, what, number)
    return _download(text, f"meeting-{meeting_id}-round-{number}-{what}", EXPORTS[what])
