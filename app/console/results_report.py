"""The results report in the console: inside its navigation, as one self-contained page, and
as an A4 PDF (app/record/report.py builds it, app/record/report_pdf.py prints it), from the
meeting's record read in one transaction (`record_snapshot`). Facilitator only.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from app.console.exports import Named
from app.console.forms import page
from app.console.record_snapshot import snapshot
from app.record import report, report_pdf
from app.web import auth, i18n
from app.web.deps import RowId, ServicesDep
from app.web.rendering import TEMPLATES

router = APIRouter()


def report_html_text(model: report.Report, _: i18n.Translator) -> str:
    """The report as one self-contained HTML page in the language of `_`."""
    return TEMPLATES.env.get_template("record/report.html").render(report=model, _=_)


def translator(request: Request) -> i18n.Translator:
    """The translator of the request's language (the report's and the bundle's README)."""
    return i18n.gettext_for(i18n.choose_locale(request))


@router.get("/console/{meeting_id}/report")
async def report_in_console(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """The results report inside the console (its navigation, back to the Run page), with
    "Download PDF", "Print" (the console left out of the print) and "Open on its own"."""
    auth.require_facilitator(request)
    snap = await asyncio.to_thread(snapshot, services, meeting_id, translator(request))
    return page(request, "console/report.html", {"meeting": snap.meeting, "report": snap.report})


@router.get("/console/{meeting_id}/report.html")
async def report_html(
    request: Request, meeting_id: RowId, services: ServicesDep, download: bool = False
) -> Response:
    """The results report as one self-contained page; `?download=1` saves it as a file."""
    auth.require_facilitator(request)
    _ = translator(request)
    snap = await asyncio.to_thread(snapshot, services, meeting_id, _)
    headers = snap.named.disposition("report.html") if download else {}
    return HTMLResponse(report_html_text(snap.report, _), headers=headers)


@router.get("/console/{meeting_id}/report.pdf")
async def report_pdf_view(
    request: Request, meeting_id: RowId, services: ServicesDep, download: bool = False
) -> Response:
    """The results report as an A4 PDF (opens in the browser; `?download=1` saves it)."""
    auth.require_facilitator(request)
    _ = translator(request)

    def make() -> tuple[bytes, Named]:
        snap = snapshot(services, meeting_id, _)
        return report_pdf.render(snap.report), snap.named

    pdf, named = await asyncio.to_thread(make)
    kind = "attachment" if download else "inline"
    return Response(
        pdf, media_type="application/pdf", headers=named.disposition("report.pdf", kind)
    )
