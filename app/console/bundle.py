"""The export bundle: every export, the results report as HTML and PDF, each kind's own files,
README.txt (the commands that reproduce and verify them) and SHA256SUMS, in one zip read in
one transaction (`record_snapshot`), so the hashes the report prints are those of the files
beside it. Facilitator only.

A Lab rating round (issue 16) adds README.txt's `covote lab tabulate` command that reproduces
its results; a charter consent round (issue 17) the `covote charter tabulate` command that
prints its results JSON; a meeting with a charter its PDF (app/console/charter.py). A meeting
without them keeps its bundle's bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.console import charter as charter_page
from app.console.exports import Named
from app.console.record_snapshot import snapshot
from app.console.results_report import report_html_text, translator
from app.core import localtime
from app.record import report_pdf
from app.web import auth, i18n
from app.web.deps import RowId, ServicesDep
from app.web.services import Services

router = APIRouter()

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

# Added to README.txt when a charter review round has answers.
REVIEW_README = """
The charter review (per review round N):

  review-charter-round-N.json   the charter version the round asked: its commitments and their
                                parties (the audit log's charter.saved link holds its SHA-256).
                                The recount above reads it (--review N) and prints the round's
                                scorecard as results.json's `review`: a commitment rated by
                                fewer than m (%(m)s) people has no figures.
"""

CHARTER_PDF_README = """
The Community Charter (charter.pdf): every clause with its support and decision, the
amendments, each party's commitments, the signatures and the audit log's head hash when this
bundle was made.
"""


def bundle(services: Services, meeting_id: int, _: i18n.Translator) -> tuple[bytes, Named]:
    """The zip: every export, the report as HTML and PDF, README.txt and SHA256SUMS."""
    snap = snapshot(services, meeting_id, _)
    data = {name: text.encode("utf-8") for name, text in snap.files.items()}
    data["report.html"] = report_html_text(snap.report, _).encode("utf-8")
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
    if any(name.startswith("review-charter-round-") for name in snap.files):
        readme += REVIEW_README % {"m": snap.meeting.group_min}
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


# Registered before /export/{what} (app/console/__init__.py includes this router before
# `exports`'), which would otherwise take "bundle.zip" as an unknown export.
@router.get("/console/{meeting_id}/export/bundle.zip")
async def export_bundle(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """The export bundle as a download (`bundle`), README.txt in the request's language."""
    auth.require_facilitator(request)
    body, named = await asyncio.to_thread(bundle, services, meeting_id, translator(request))
    return Response(body, media_type="application/zip", headers=named.disposition("bundle.zip"))
