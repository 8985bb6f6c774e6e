"""The console's Charter page (issue 17): the meeting's Community Charter, drafted and versioned.

`/console/{id}/charter`:
- import a charter file, uploaded or pasted, JSON (covote-charter/1) or Markdown: a refused
  file lists every problem and changes nothing; an accepted one is the next version
- export the current version (or `?version=N`) as JSON or Markdown
- the versions, and the readable difference between any two (`?from=N&to=M`:
  `charter_doc.diff`, word by word, in <del>/<ins> with their meaning in words)
- the rule's block share (the meeting's R and m are its set-up's)
- draft commitments from one of the facilitator's budget meetings (its last closed round's
  funded and protected proposals) or from the Lab's pledges: each a new version

Every change is a POST with the CSRF token, one transaction, a redirect (`forms.act`). The
consent round itself is opened from the Run page as any activity (kind `charter`).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.datastructures import UploadFile
from starlette.responses import Response

from app.console.charter_review import REVIEW_TITLE, review_context, review_title
from app.console.forms import act, confirm_first, facilitator_form, int_field, page, upload_text
from app.core.errors import BadInput, Conflict, InvalidForm, NotFound
from app.core.inputs import bounded_int
from app.core.messages import N_, Said, said
from app.core.vocab import CHARTER, RoundStatus
from app.record import charter_pdf, filenames
from app.record.charter_markdown import dump_markdown
from app.rules import charter_doc as cd
from app.rules import charter_sign as cs
from app.rules import charter_words
from app.rules.charter import AmendmentStatus
from app.rules.charter_amend import MAX_REASON, ProposalStatus, clause_numbers
from app.rules.charter_amend import MAX_TEXT as AMENDMENT_MAX
from app.rules.lab import IdeaStatus
from app.voting import (
    charter_amendments,
    charter_drafts,
    charter_signing,
    charters,
    lab,
    meetings,
    rounds,
)
from app.voting.models import Meeting
from app.web import auth, i18n
from app.web.deps import RowId, ServicesDep
from app.web.rendering import TEMPLATES
from app.web.services import Services

# Paths spelled whole: the PDF (/console/{id}/charter.pdf) sits beside the page, not under it.
router = APIRouter()
PAGE = "/console/{meeting_id}/charter"

MAX_PASTED = 2_000_000  # characters: the charter file's own bound (charter_file.MAX_FILE_CHARS)
PARTY_MAX = 32  # a party's key (charter_doc.KEY)

THINGS = {
    "section": N_("Section"),
    "clause": N_("Clause"),
    "amendment": N_("Amendment"),
    "party": N_("Party"),
    "commitment": N_("Commitment"),
}
CHANGES = {
    cd.ChangeKind.ADDED: N_("added"),
    cd.ChangeKind.REMOVED: N_("removed"),
    cd.ChangeKind.REWORDED: N_("reworded"),
    cd.ChangeKind.MOVED: N_("moved"),
    cd.ChangeKind.CHANGED: N_("changed"),
}
AMENDMENT_STATUS = {
    AmendmentStatus.PROPOSED: N_("proposed"),
    AmendmentStatus.ACCEPTED: N_("accepted"),
    AmendmentStatus.DECLINED: N_("declined"),
}
MADE_BY = {
    "imported": N_("imported"),
    "budget": N_("commitments from a budget meeting"),
    "lab": N_("commitments from the Lab's pledges"),
    "copied": N_("copied with the meeting"),
    "adopted": N_("a consent round's decisions adopted"),
    "amended": N_("an amendment accepted"),
    "review": N_("the charter under review"),
}
PROPOSAL_STATUS = {
    ProposalStatus.PROPOSED: N_("waiting"),
    ProposalStatus.ACCEPTED: N_("accepted"),
    ProposalStatus.DECLINED: N_("declined"),
    ProposalStatus.MERGED: N_("merged"),
}


TEMPLATES.env.globals["charter_reasons"] = charter_words.wording_reasons
TEMPLATES.env.globals["charter_category"] = charter_words.category_name
TEMPLATES.env.globals["charter_icons"] = charter_words.ICONS


def _number(value: str | None, label: str) -> int | None:
    """A version number from the query string, bounded; None when not given."""
    if value is None or value == "":
        return None
    return bounded_int(value, label, low=1, high=cd.MAX_VERSION)


def _context(
    request: Request, services: Services, meeting_id: int, old: int | None, new: int | None
) -> dict[str, Any]:
    grant = auth.grant_of(request)
    with services.read_session() as session:
        meeting = meetings.get_meeting(session, meeting_id)
        versions = charters.versions_of(session, meeting_id)
        charter = charters.charter_of(session, meeting_id)
        diff = None
        if old is not None and new is not None:
            before = charters.version(session, meeting_id, old)
            after = charters.version(session, meeting_id, new)
            diff = (before, after, cd.diff(before, after))
        sources = [
            (m, r)
            for m, r in charter_drafts.budget_rounds(session, meetings.list_meetings(session))
            if m.id != meeting_id and grant is not None and grant.allows(f"/console/{m.id}")
        ]
        pledged = sum(
            1 for r in lab.ideas_of(session, meeting_id, [IdeaStatus.APPROVED]) if r.helpers > 0
        )
        block = charters.block_percent(session, meeting_id)
        charter_rounds = [
            r
            for r in charters.charter_rounds(session, meeting_id)
            if r.status != RoundStatus.VOIDED
        ]
        signed = (
            []
            if charter is None
            else charter_signing.signed_parties(session, meeting_id, charter.parties)
        )
        adoptable = charter_signing.adoptable(session, meeting)
        proposals = charter_amendments.queue(session, meeting_id)
        amending = charter_amendments.is_open(session, meeting_id)
        review = review_context(session, meeting, charter)
        session.expunge_all()
    _ = i18n.gettext_for(i18n.choose_locale(request))
    return {
        "page": "charter",
        "meeting": meeting,
        "charter": charter,
        "versions": list(reversed(versions)),
        "diff": diff,
        "old": old,
        "new": new,
        "sources": sources,
        "pledged": pledged,
        "block_percent": block,
        "rule_text": charter_words.rule_text(block, meeting.ratio, meeting.group_min, _),
        "things": THINGS,
        "changes": CHANGES,
        "made_by": MADE_BY,
        "amendment_status": AMENDMENT_STATUS,
        "charter_rounds": sorted(charter_rounds, key=lambda r: r.number),
        "kind": CHARTER,
        "signed": signed,
        "adoptable": adoptable,
        "amending": amending,
        "proposals": [] if charter is None else charter_amendments.by_clause(proposals, charter),
        "waiting": sum(1 for p in proposals if p.status == ProposalStatus.PROPOSED),
        "numbers": {} if charter is None else clause_numbers(charter),
        "proposal_status": PROPOSAL_STATUS,
        "amendment_max": AMENDMENT_MAX,
        "reason_max": MAX_REASON,
        "round_open": any(r.status == RoundStatus.OPEN for r in charter_rounds),
        **review,
        "review_title": review_title(meeting.title, _(REVIEW_TITLE)),
    }


@router.get(PAGE)
async def charter_page(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    auth.require_facilitator(request)
    old = _number(request.query_params.get("from"), N_("The earlier version"))
    new = _number(request.query_params.get("to"), N_("The later version"))
    ctx = await asyncio.to_thread(_context, request, services, meeting_id, old, new)
    return page(request, "console/charter.html", ctx)


async def _with_problems(
    request: Request, services: Services, meeting_id: int, e: BadInput | Conflict | NotFound
) -> Response:
    """The Charter page again with the refusal listed (its status), nothing changed."""
    ctx = await asyncio.to_thread(_context, request, services, meeting_id, None, None)
    translate = i18n.gettext_for(i18n.choose_locale(request))
    ctx["problems"] = [translate(e.msgid, **e.params)]
    return page(request, "console/charter.html", ctx, status_code=e.status_code)


@router.post(PAGE + "/import")
async def import_charter(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """A charter file, uploaded (`file`) or pasted (`text`), becomes the next version. A refused
    file: the page again with every problem listed (status 400, 409 for a conflict), nothing
    saved."""
    form = await facilitator_form(request)
    pasted = str(form.get("text", ""))
    try:
        if len(pasted) > MAX_PASTED:
            raise BadInput(N_("A pasted charter is at most %(n)s characters."), n=MAX_PASTED)
        if pasted.strip():
            filename, text = "charter", pasted
            unused = form.get("file")
            if isinstance(unused, UploadFile):
                await unused.close()  # an empty file field is still a temporary file
        else:
            filename, text = await upload_text(form, "file")
        charter = charters.read_file(text, filename)

        def change(session: Session, meeting: Meeting) -> Said:
            saved = charters.save_charter(session, meeting, charter)
            if saved is None:
                return said(N_("The charter is the same as the current version: nothing is saved."))
            return said(N_("The charter is imported as version %(n)s."), n=saved.number)

        return await act(request, services, meeting_id, change, "/charter")
    except InvalidForm as e:
        problems, status = e.problems, e.status_code
    except (BadInput, Conflict) as e:
        problems, status = [("", e)], e.status_code
    ctx = await asyncio.to_thread(_context, request, services, meeting_id, None, None)
    translate = i18n.gettext_for(i18n.choose_locale(request))
    ctx["problems"] = [translate(e.msgid, **e.params) for _, e in problems]
    return page(request, "console/charter.html", ctx, status_code=status)


@router.post(PAGE + "/rule")
async def set_rule(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """The block share P, a whole percentage."""
    form = await facilitator_form(request)
    value = int_field(form, "block_percent", N_("The block share"))

    def change(session: Session, meeting: Meeting) -> Said:
        charters.set_block_percent(session, meeting, value)
        return said(N_("The block share is %(p)s%%."), p=value)

    return await act(request, services, meeting_id, change, "/charter")


def _party(form_value: object) -> str:
    return form_value[:PARTY_MAX] if isinstance(form_value, str) else ""


@router.post(PAGE + "/from-budget")
async def from_budget(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """Commitments for a party from another meeting's funded and protected proposals."""
    form = await facilitator_form(request)
    source_id = int_field(form, "source", N_("The budget meeting"))
    party = _party(form.get("party"))
    grant = auth.grant_of(request)
    if source_id == meeting_id or grant is None or not grant.allows(f"/console/{source_id}"):
        raise NotFound(N_("Choose one of your budget meetings."))

    def change(session: Session, meeting: Meeting) -> Said:
        source = meetings.get_meeting(session, source_id)
        n = charter_drafts.commitments_from_budget(session, meeting, source, party)
        return said(
            N_("%(n)s draft commitments from “%(title)s” are a new version."),
            n=n,
            title=source.title,
        )

    return await act(request, services, meeting_id, change, "/charter")


@router.post(PAGE + "/from-lab")
async def from_lab(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """Commitments for a party (usually the residents) from the Lab's pledges, as counts."""
    form = await facilitator_form(request)
    party = _party(form.get("party"))

    def change(session: Session, meeting: Meeting) -> Said:
        n = charter_drafts.commitments_from_lab(session, meeting, party)
        return said(N_("%(n)s draft commitments from the Lab's pledges are a new version."), n=n)

    return await act(request, services, meeting_id, change, "/charter")


# --- adoption and sign-off -------------------------------------------------------------------


@router.post(PAGE + "/adopt")
async def adopt(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """A closed consent round's decisions become the next version (asked first)."""
    form = await facilitator_form(request)
    number = int_field(form, "round", N_("The round"))
    asked = await confirm_first(
        request, services, form, "adopt_charter", back="/charter", meeting_id=meeting_id, n=number
    )
    if asked is not None:
        return asked

    def change(session: Session, meeting: Meeting) -> Said:
        saved = charter_signing.adopt_round(session, meeting, number)
        return said(
            N_("Round %(round)s's decisions are adopted as version %(n)s."),
            round=number,
            n=saved.number,
        )

    try:
        return await act(request, services, meeting_id, change, "/charter")
    except (BadInput, Conflict, NotFound) as e:
        return await _with_problems(request, services, meeting_id, e)


def _field(form_value: object, most: int) -> str:
    """A text field cut to `most` + 1 characters: over the bound still reads as too long, and
    nothing larger is carried further."""
    return form_value[: most + 1] if isinstance(form_value, str) else ""


@router.post(PAGE + "/sign")
async def sign(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """A party's representative signs the current version: name, role and organisation (all
    needed, bounded) and, if drawn, the signature (`charter_sign.parse_drawing`)."""
    form = await facilitator_form(request)
    signing = charter_signing.Signing(
        party=_party(form.get("party")),
        name=_field(form.get("name"), cs.MAX_NAME),
        role=_field(form.get("role"), cs.MAX_ROLE),
        organisation=_field(form.get("organisation"), cs.MAX_ORGANISATION),
        drawing=_field(form.get("drawing"), cs.MAX_DRAWING),
    )

    def change(session: Session, meeting: Meeting) -> Said:
        sig = charter_signing.sign(session, meeting, signing)
        return said(
            N_("%(name)s has signed version %(n)s of the charter."), name=sig.name, n=sig.version
        )

    try:
        return await act(request, services, meeting_id, change, "/charter#signoff-h")
    except (BadInput, Conflict, NotFound) as e:
        return await _with_problems(request, services, meeting_id, e)


@router.post(PAGE + "/withdraw")
async def withdraw(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """Withdraw a signature (asked first); the audit log keeps both."""
    form = await facilitator_form(request)
    signature = int_field(form, "signature", N_("The signature"))
    name = _field(form.get("name"), cs.MAX_NAME)
    asked = await confirm_first(
        request,
        services,
        form,
        "withdraw_signature",
        back="/charter",
        meeting_id=meeting_id,
        name=name,
    )
    if asked is not None:
        return asked

    def change(session: Session, meeting: Meeting) -> Said:
        sig = charter_signing.withdraw(session, meeting, signature)
        return said(N_("%(name)s's signature is withdrawn."), name=sig.name)

    return await act(request, services, meeting_id, change, "/charter#signoff-h")


def _pdf(services: Services, meeting_id: int, _: i18n.Translator) -> tuple[bytes, str]:
    with services.read_session() as session:
        meeting = meetings.get_meeting(session, meeting_id)
        doc = charter_signing.document(session, meeting, _)
        opened = [r.opened_at for r in rounds.rounds_of(session, meeting_id)]
        day = filenames.meeting_day(meeting.created_at, opened, meetings.zone_of(meeting))
        header = filenames.content_disposition(
            "attachment", meeting.title, day, f"charter-v{doc.version}.pdf"
        )
    return charter_pdf.render(doc), header


def bundle_pdf(
    services: Services, meeting_id: int, _: i18n.Translator, at: datetime
) -> bytes | None:
    """The charter PDF for the export bundle, printed `at` (the bundle's time); None when the
    meeting has no charter (its bundle keeps its bytes)."""
    with services.read_session() as session:
        meeting = meetings.get_meeting(session, meeting_id)
        if charters.current_version(session, meeting_id) is None:
            return None
        doc = charter_signing.document(session, meeting, _, at)
    return charter_pdf.render(doc)


@router.get(PAGE + ".pdf")
async def charter_pdf_view(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """The charter as an A4 PDF: clauses with their support, amendments, commitments per party,
    signatures and the audit log's head at printing."""
    auth.require_facilitator(request)
    _ = i18n.gettext_for(i18n.choose_locale(request))
    pdf, disposition = await asyncio.to_thread(_pdf, services, meeting_id, _)
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": disposition})


# --- export ----------------------------------------------------------------------------------

EXPORTS = {
    "charter.json": "application/json",
    "charter.md": "text/markdown; charset=utf-8",
}


def _export(services: Services, meeting_id: int, what: str, number: int | None) -> tuple[str, str]:
    with services.read_session() as session:
        meeting = meetings.get_meeting(session, meeting_id)
        if number is None:
            row = charters.current_version(session, meeting_id)
            if row is None:
                raise NotFound(N_("This meeting has no charter yet."))
            number, text = row.number, row.definition
        else:
            charters.version(session, meeting_id, number)  # NotFound when it has none
            text = next(
                v.definition
                for v in charters.versions_of(session, meeting_id)
                if v.number == number
            )
        if what == "charter.md":
            text = dump_markdown(charters.parse_stored(text))
        opened = [r.opened_at for r in rounds.rounds_of(session, meeting_id)]
        day = filenames.meeting_day(meeting.created_at, opened, meetings.zone_of(meeting))
        stem, dot, ext = what.partition(".")
        name = f"{stem}-v{number}{dot}{ext}"
        header = filenames.content_disposition("attachment", meeting.title, day, name)
    return text, header


@router.get(PAGE + "/{what}")
async def export_charter(
    request: Request, meeting_id: RowId, what: str, services: ServicesDep
) -> Response:
    """The charter as stored (JSON, canonical: it imports back to the same version) or as
    Markdown; the current version, or `?version=N`."""
    auth.require_facilitator(request)
    if what not in EXPORTS:
        raise NotFound(N_("There is no such charter file."))
    number = _number(request.query_params.get("version"), N_("The version"))
    text, disposition = await asyncio.to_thread(_export, services, meeting_id, what, number)
    return Response(text, media_type=EXPORTS[what], headers={"Content-Disposition": disposition})
