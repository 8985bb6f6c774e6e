"""The console's keypad pages: receivers, roster, roll call, capture. Facilitator only."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.responses import Response

from app.console.forms import act, checked, confirm_first, facilitator_form, page, upload_text
from app.console.run import keypads_idle
from app.core.errors import BadInput, Conflict
from app.core.inputs import JsonInputError, id_problem, load_json
from app.core.messages import N_, Said, said
from app.core.vocab import RoundStatus
from app.keypads import registration as keypads
from app.keypads import remembered
from app.voting import audit, meetings, rounds
from app.voting.models import Meeting
from app.web import auth, i18n
from app.web.deps import RowId, ServicesDep
from app.web.services import Services
from hardware import SCHEMES, KeypadPress
from hardware.discovery import discover

router = APIRouter(prefix="/console/{meeting_id}/keypads")
MAX_RECEIVER_URL = 1000  # the keypad_receiver.url column


def _segments(form: Any) -> list[str]:
    return [str(s) for s in form.getlist("segment")]


def _context(services: Services, meeting_id: int) -> dict[str, Any]:
    with services.read_session() as session:
        meeting = meetings.get_meeting(session, meeting_id)
        return {
            "meeting": meeting,
            "segments": meetings.segments_of(session, meeting_id),
            "roster": keypads.roster(session, meeting_id),
            "schemes": SCHEMES,
            # Devices plugged in now, offered as one-click receiver URLs.
            "candidates": discover(),
            # Receivers re-opened when Covote starts; each may be forgotten.
            "saved": [r.url for r in remembered.remembered(session)],
        }


@router.get("")
async def keypads_page(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    auth.require_facilitator(request)
    ctx = await asyncio.to_thread(_context, services, meeting_id)
    ctx["desk"] = await services.desk.fresh_status(meeting_id)
    return page(request, "console/keypads.html", ctx)


def _idle(services: Services, meeting_id: int) -> dict[str, Any] | None:
    """The Run page's "registered keypads are not counting" alert, as it stands now."""
    receiving = services.desk.receiving(meeting_id)
    with services.read_session() as session:
        meeting = meetings.get_meeting(session, meeting_id)
        open_round = next(
            (r for r in rounds.rounds_of(session, meeting_id) if r.status == RoundStatus.OPEN),
            None,
        )
        return keypads_idle(session, meeting, open_round, receiving)


@router.get("/status.json")
async def keypads_status(request: Request, meeting_id: RowId, services: ServicesDep) -> Any:
    """What the keypads page refreshes every second: receivers, alerts, the live step count
    (`step`: the item keypads answer now, the keys it takes with their answers' labels in the
    page's language, and the keypad answers so far by answer); and what the Run page refreshes
    every few seconds: `idle`, why registered keypads are not counting (run.keypads_idle), or
    null."""
    auth.require_facilitator(request)
    status = await services.desk.fresh_status(meeting_id)
    status["idle"] = await asyncio.to_thread(_idle, services, meeting_id)
    if status["step"] is not None:  # its answers' labels in the page's language
        translate = i18n.gettext_for(i18n.choose_locale(request))
        for answer in status["step"]["answers"]:
            answer["label"] = translate(answer["label"])
    return status


@router.post("/serve")
async def serve(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    await facilitator_form(request)
    services.desk.serve(meeting_id)

    def change(session: Session, meeting: Meeting) -> Said:
        remembered.serve(session, meeting_id)  # and after a restart too
        return said(N_("Keypad presses now count in this meeting."))

    return await act(request, services, meeting_id, change, "/keypads")


@router.post("/receivers")
async def add_receiver(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    form = await facilitator_form(request)
    url = str(form.get("url", "")).strip()
    name = await services.desk.add_console_receiver(url)
    services.desk.serve(meeting_id)

    def change(session: Session, meeting: Meeting) -> Said:
        # Only a URL that opened is remembered; the desk re-opens it when Covote restarts.
        remembered.remember(session, url, meeting_id)
        return said(N_("Receiver %(name)s added; it connects in the background."), name=name)

    return await act(request, services, meeting_id, change, "/keypads")


@router.post("/receivers/forget")
async def forget_receiver(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """Close a saved receiver and stop re-opening it on start (asks first)."""
    form = await facilitator_form(request)
    url = str(form.get("url", "")).strip()
    if not url or len(url) > MAX_RECEIVER_URL:
        raise BadInput("Choose a saved receiver to remove.")
    asked = await confirm_first(
        request, services, form, "forget_receiver", back="/keypads", meeting_id=meeting_id, url=url
    )
    if asked is not None:
        return asked

    def change(session: Session, meeting: Meeting) -> Said:
        if not remembered.forget(session, url):
            raise BadInput("No saved receiver has that address.")
        return said(
            N_("Receiver %(url)s removed: it is closed and no longer opened on start."), url=url
        )

    response = await act(request, services, meeting_id, change, "/keypads", archived_ok=True)
    await services.desk.remove_console_receiver(url)
    return response


@router.post("/import")
async def import_keypads(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    form = await facilitator_form(request)
    filename, text = await upload_text(form, "file")

    def change(session: Session, meeting: Meeting) -> Said:
        return said(
            N_("Registered %(n)s keypad(s)."),
            n=keypads.import_csv(session, meeting, text, filename),
        )

    return await act(request, services, meeting_id, change, "/keypads")


@router.post("/register")
async def register(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    form = await facilitator_form(request)

    def change(session: Session, meeting: Meeting) -> Said:
        row = keypads.register(
            session,
            meeting,
            str(form.get("keypad", "")),
            str(form.get("label", "")),
            _segments(form),
        )
        return said(
            N_("Keypad %(keypad)s registered as %(label)s."), keypad=row.keypad, label=row.label
        )

    return await act(request, services, meeting_id, change, "/keypads")


@router.post("/rollcall")
async def rollcall(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    form = await facilitator_form(request)
    label = str(form.get("label", "")).strip()
    if not label:
        raise BadInput("Give the label printed on the keypad (or a seat number).")

    def change(session: Session, meeting: Meeting) -> Said:
        keypads.require_new_voters(meeting)
        return said(
            N_("Roll call: the next unregistered keypad pressed becomes %(label)s (30 s)."),
            label=label,
        )

    response = await act(request, services, meeting_id, change, "/keypads")
    services.desk.start_rollcall(meeting_id, label, _segments(form))
    return response


@router.post("/swap")
async def swap(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    form = await facilitator_form(request)

    def change(session: Session, meeting: Meeting) -> Said:
        label = str(form.get("label", "")).strip()
        row = keypads.swap(session, meeting, label, str(form.get("keypad", "")))
        return said(
            N_("%(label)s now votes with keypad %(keypad)s; the old one is revoked."),
            label=label,
            keypad=row.keypad,
        )

    return await act(request, services, meeting_id, change, "/keypads")


@router.post("/revoke")
async def revoke(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    form = await facilitator_form(request)
    keypad = str(form.get("keypad", ""))

    def label(session: Session, meeting: Meeting) -> dict[str, object]:
        assert meeting.id is not None
        found = (k.label for k in keypads.roster(session, meeting.id) if k.keypad == keypad)
        return {"label": next(found, keypad)}

    asked = await confirm_first(
        request,
        services,
        form,
        "revoke_keypad",
        back="/keypads",
        meeting_id=meeting_id,
        describe=label,
    )
    if asked is not None:
        return asked

    def change(session: Session, meeting: Meeting) -> Said:
        keypads.revoke(session, meeting, keypad)
        return said(N_("Keypad %(keypad)s revoked: its presses no longer count."), keypad=keypad)

    return await act(request, services, meeting_id, change, "/keypads")


@router.post("/ask")
async def ask_segment(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """Start or stop "press 1 if you are <segment>, 2 if not" for keypad holders."""
    form = await facilitator_form(request)
    segment = str(form.get("segment", "")).strip() or None

    def change(session: Session, meeting: Meeting) -> Said:
        if segment is not None and segment not in {
            s.key for s in meetings.segments_of(session, meeting_id)
        }:
            raise BadInput(f"Unknown segment {segment!r}.")
        if segment is None:
            return said(N_("Question stopped."))
        return said(N_("Keypad holders can now answer."))

    response = await act(request, services, meeting_id, change, "/keypads")
    services.desk.ask_segment(meeting_id, segment)
    return response


@router.post("/auto-enrol")
async def auto_enrol(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    form = await facilitator_form(request)
    on = checked(form, "on")

    def change(session: Session, meeting: Meeting) -> Said:
        if on and not keypads.may_make_voters(meeting):
            raise Conflict(keypads.NO_AUTO_ENROL)
        meeting.keypad_auto_enrol = on
        session.add(meeting)
        assert meeting.id is not None
        audit.record(session, meeting.id, "keypad.auto_enrol", {"on": on})
        if on:
            return said(N_("Unknown keypads now enrol themselves."))
        return said(N_("Auto-enrol is off."))

    return await act(request, services, meeting_id, change, "/keypads")


@router.get("/capture")
async def capture_page(request: Request, meeting_id: RowId, services: ServicesDep) -> Response:
    """A focused page that keyboard-wedge receivers type into (where evdev is not available)."""
    auth.require_facilitator(request)
    ctx = await asyncio.to_thread(_context, services, meeting_id)
    return page(request, "console/capture.html", ctx)


@router.post("/capture")
async def capture_line(request: Request, meeting_id: RowId, services: ServicesDep) -> Any:
    """One typed line, `<keypad id> <key>`, from the capture page."""
    auth.require_facilitator(request)
    auth.check_csrf(request, request.headers.get(auth.CSRF_HEADER))
    try:
        body = load_json((await request.body()).decode("utf-8"))
    except (UnicodeDecodeError, JsonInputError):
        body = None
    line = str(body.get("line", "")) if isinstance(body, dict) else ""
    parts = line.replace(",", " ").split()
    if len(parts) != 2 or len(parts[0]) > 48 or len(parts[1]) > 3 or id_problem(line.strip()):
        raise BadInput("A capture line is '<keypad id> <key>', e.g. '0417 2'.")
    services.desk.serve(meeting_id)
    press = KeypadPress("capture", f"wedge:{parts[0]}", parts[1].upper(), None, time.monotonic())
    await services.desk.handle(press)
    return {"accepted": True, "keypad": press.keypad, "key": press.key}
