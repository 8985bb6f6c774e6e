"""The facilitator's console: one router for all of it (app/main.py includes only `router`).

Its parts: `access` (signed-in browsers, access keys), `lifecycle` (the meeting list;
duplicating, archiving and deleting meetings), `setup` (sign-in, new meetings, set-up),
`survey` (the set-up page's Survey section), `run` (the Run page: opening, closing and
revealing rounds), `online` (the Run page's survey online for a set period), `present` (the
presenter view: the big screen), `keypads` (the keypad desk), `paper` (paper ballots),
`tickets` (voting tickets), `people` (the people list: who offered to help; the
facilitator's alone), `lab` (the Co-Production Lab: challenges, ideas, moderation),
`charter` (the Community Charter: versions, diffs, drafted commitments),
`charter_amend` (the Charter page's amendments: the switch, proposing, moderating),
`charter_review` (its review meetings and the parties' reports), `results_report` (the results
report: in the console, as a page, as a PDF), `bundle` (the export bundle) and `exports` (each
export on its own); `forms` holds what their pages share, `record_snapshot` the meeting's record
read in one transaction for the report and the bundle, and `confirm` the words of the
irreversible actions.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.console import (
    access,
    bundle,
    charter,
    charter_amend,
    charter_review,
    exports,
    keypads,
    lab,
    lifecycle,
    online,
    paper,
    people,
    present,
    results_report,
    run,
    setup,
    survey,
    tickets,
)

router = APIRouter()
# `access` first: /console/sessions must not be read as /console/{meeting_id} (run's routes);
# `bundle` before `exports`: /export/bundle.zip must not be read as /export/{what}.
for part in (
    access,
    lifecycle,
    setup,
    survey,
    run,
    online,
    present,
    keypads,
    paper,
    tickets,
    people,
    lab,
    charter_review,
    charter,
    charter_amend,
    results_report,
    bundle,
    exports,
):
    router.include_router(part.router)

__all__ = ["router"]
