"""Paper ballots: printable sheets, double keying, counting only what both keyings agree on."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from app.core.errors import BadInput, Conflict
from app.rules.scales import WANT_SCALE
from app.rules.tally import Mark
from app.scrutiny import paper, tickets
from app.scrutiny.paper_keying import (
    Difference,
    Entry,
    KeyedOnce,
    SheetForm,
    read_entry,
    reconcile,
    sheet_ranges,
)
from app.voting.ballots import CastRequest
from app.voting.meetings import get_meeting
from app.voting.models import Ballot, Round, Ticket, Voter
from app.web.services import Services
from tests.conftest import MEETING, LiveServer, Meeting, Phone
from tests.test_audit import exports_verify
from tests.test_recount import recount_exports

ALL = ["library", "respite", "toilets"]

# --- pure: reconcile -------------------------------------------------------------------------


def entry(sheet: int, ticket: int | None = None, segments: str = "", **marks: str) -> Entry:
    return Entry(
        sheet=sheet,
        ticket=ticket,
        segments=frozenset(s for s in segments.split(",") if s),
        marks={k: Mark(v) for k, v in marks.items()},
    )


def test_reconcile_sorts_sheets_into_matched_mismatched_and_keyed_once() -> None:
    """Equal entries match; any differing field is a mismatch; a lone entry is keyed once."""
    first = [
        entry(1, library="want"),
        entry(2, library="want", respite="dont_want"),
        entry(3, library="neutral"),
        entry(5, toilets="want"),
    ]
    second = [
        entry(4, library="want"),
        entry(2, library="want", respite="dont_want"),
        entry(1, library="dont_want"),
        entry(3),
    ]
    found = reconcile(first, second)
    assert [e.sheet for e in found.matched] == [2]
    assert [(m.sheet, m.differences) for m in found.mismatched] == [
        (1, (Difference("mark", "library", Mark.WANT, Mark.DONT_WANT),)),
        # NEUTRAL ticked and a blank box count the same, but the keyings read the paper
        # differently: someone must look.
        (3, (Difference("mark", "library", Mark.NEUTRAL, None),)),
    ]
    assert found.keyed_once == [KeyedOnce(4, 2), KeyedOnce(5, 1)]


def test_reconcile_names_every_differing_field_with_both_values() -> None:
    """Ticket, each segment box and each proposal are compared separately."""
    a = entry(7, 12, "carer,north", library="want", toilets="neutral")
    b = entry(7, 21, "north,staff", library="want", respite="want")
    (mismatch,) = reconcile([a], [b]).mismatched
    assert mismatch.differences == (
        Difference("ticket", "", 12, 21),
        Difference("segment", "carer", True, False),
        Difference("segment", "staff", False, True),
        Difference("mark", "respite", None, Mark.WANT),
        Difference("mark", "toilets", Mark.NEUTRAL, None),
    )


def test_reconcile_refuses_a_sheet_twice_in_one_keying() -> None:
    """One keying holds one entry per sheet (the database's unique constraint)."""
    with pytest.raises(ValueError, match="sheet 3 appears twice in keying 1"):
        reconcile([entry(3), entry(3)], [])


def test_sheet_ranges_are_compact() -> None:
    assert sheet_ranges([8, 1, 2, 3, 5, 7, 2]) == "1\u20133, 5, 7\u20138"
    assert sheet_ranges([]) == ""


# --- pure: reading a keying form ---------------------------------------------------------------


def read(form: SheetForm, tickets: bool = False) -> Entry:
    scales = dict.fromkeys(ALL, WANT_SCALE)
    return read_entry(form, scales=scales, segments={"carer", "north"}, tickets=tickets)


def test_read_entry_leaves_blank_marks_out() -> None:
    got = read(SheetForm("0007", "", ("carer",), {"library": "want", "respite": ""}))
    assert got == entry(7, None, "carer", library="want")


@pytest.mark.parametrize(
    ("form", "tickets", "message"),
    [
        (SheetForm("0"), False, "sheet number must be a whole number from 1 to 999999"),
        (SheetForm("-3"), False, "sheet number must be a whole number"),
        (SheetForm("7.5"), False, "sheet number must be a whole number"),
        (SheetForm("\u0663"), False, "sheet number must be a whole number"),  # Arabic-Indic 3
        (SheetForm("1000000"), False, "from 1 to 999999"),
        (SheetForm(""), False, "sheet number must be a whole number"),
        (SheetForm("4"), True, "Sheet 4 needs the ticket number written on it"),
        (SheetForm("4", "x"), True, "ticket number must be a whole number"),
        (SheetForm("4", "12"), False, "does not use tickets"),
        (SheetForm("4", "", ("elves",)), False, "Unknown segment(s): elves"),
        (SheetForm("4", "", (), {"castle": "want"}), False, "not in this round: castle"),
        (SheetForm("4", "", (), {"library": "maybe"}), False, "not 'maybe'"),
    ],
)
def test_read_entry_refuses_wrong_input_clearly(
    form: SheetForm, tickets: bool, message: str
) -> None:
    with pytest.raises(BadInput) as e:
        read(form, tickets)
    assert message in e.value.message


# --- the console, on a real server -------------------------------------------------------------


def services_of(server: LiveServer) -> Services:
    services: Services = server.app.state.services
    return services


def key(
    meeting: Meeting,
    keying: int,
    sheet: int | str,
    marks: dict[str, str],
    segments: tuple[str, ...] = (),
    ticket: int | str | None = None,
    number: int = 1,
    csrf: str | None = None,
) -> httpx.Response:
    data: dict[str, Any] = {"csrf": meeting.csrf if csrf is None else csrf, "sheet": str(sheet)}
    data.update({f"mark:{k}": v for k, v in marks.items()})
    if segments:
        data["segment"] = list(segments)
    if ticket is not None:
        data["ticket"] = str(ticket)
    return meeting.f.post(
        f"/console/{meeting.id}/rounds/{number}/paper/key/{keying}",
        data=data,
        follow_redirects=False,
    )


def key_both(meeting: Meeting, sheet: int, marks: dict[str, str], **kw: Any) -> None:
    for keying in (1, 2):
        r = key(meeting, keying, sheet, marks, **kw)
        assert r.status_code == 303, r.text


def count(meeting: Meeting, number: int = 1) -> httpx.Response:
    return meeting.f.post(
        f"/console/{meeting.id}/rounds/{number}/paper/count",
        data={"csrf": meeting.csrf},
        follow_redirects=False,
    )


def flash_after(meeting: Meeting, response: httpx.Response) -> str:
    """The message the redirect's page shows."""
    assert response.status_code == 303, response.text
    html = meeting.f.get(response.headers["location"]).text
    m = re.search(r'<p class="notice" role="status">(.*?)</p>', html, re.S)
    assert m, "no message on the page"
    return m.group(1)


def status_page(meeting: Meeting, number: int = 1) -> str:
    return meeting.f.get(f"/console/{meeting.id}/rounds/{number}/paper").text


def ballots_csv(meeting: Meeting) -> list[list[str]]:
    text = meeting.f.get(f"/console/{meeting.id}/export/ballots.csv").text
    return [line.split(",") for line in text.splitlines()[1:]]


def audit_links(meeting: Meeting) -> list[dict[str, Any]]:
    text = meeting.f.get(f"/console/{meeting.id}/export/audit.jsonl").text
    return [json.loads(line) for line in text.splitlines()]


def test_print_page_has_every_proposal_with_three_boxes_and_segment_boxes(
    meeting: Meeting,
) -> None:
    """Numbered A4 sheets: each proposal worded as on the phone, WANT/DON'T WANT/NEUTRAL."""
    meeting.open_round()
    r = meeting.f.get(f"/console/{meeting.id}/rounds/1/paper/print?from=7&count=3")
    assert r.status_code == 200
    html = r.text
    assert "@page { size: A4" in html and 'src="/static/print/paper_print.js"' in html
    assert "<script>" not in html  # no inline script
    sheets = re.findall(r'<section class="sheet"[^>]*data-sheet="(\d+)"', html)
    assert sheets == ["7", "8", "9"]
    assert "Sheet 0007" in html and "Sheet 0009" in html
    sheet = html.split('data-sheet="8"')[1].split("</section>")[0]
    assert "Tick one box for each proposal. A proposal left blank counts as neutral." in sheet
    assert "Keep: Mobile library" in sheet and "Fund: Respite breaks" in sheet
    for p in ALL:
        row = sheet.split(f'data-proposal="{p}"')[1].split("</tr>")[0]
        assert re.findall(r'data-mark="(\w+)"', row) == ["want", "dont_want", "neutral"]
        assert row.count('class="box"') == 3
    assert re.findall(r'data-segment="(\w+)"', sheet) == ["carer", "north", "staff"]
    assert "About you (tick any that apply)" in sheet
    assert "data-ticket-box" not in html  # an open meeting: no ticket number
    assert meeting.f.get("/static/print/paper_print.js").status_code == 200


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("count=0", "number of sheets (count) must be a whole number from 1 to 500"),
        ("count=501", "from 1 to 500"),
        ("from=abc", "first sheet (from) must be a whole number"),
        ("from=999999&count=2", "Sheet numbers stop at 999999"),
    ],
)
def test_print_page_refuses_impossible_ranges(meeting: Meeting, query: str, message: str) -> None:
    meeting.open_round()
    r = meeting.f.get(f"/console/{meeting.id}/rounds/1/paper/print?{query}")
    assert r.status_code == 400
    assert message in r.text


def test_matching_keyings_count_as_paper_ballots_and_the_recount_agrees(
    tmp_path: Path, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Matched sheets become paper voters' ballots: CSV, turnout, results and recount agree."""
    meeting.open_round()
    assert '/rounds/1/paper"' in meeting.f.get(f"/console/{meeting.id}").text  # the link
    phone = phones()
    assert phone.segments("carer").status_code == 200
    assert phone.vote({"library": "want", "respite": "want"}).status_code == 200
    key_both(
        meeting,
        1,
        {"library": "want", "respite": "want", "toilets": "dont_want"},
        segments=("carer",),
    )
    key_both(meeting, 2, {"library": "dont_want", "toilets": "neutral"}, segments=("north",))
    key_both(meeting, 3, {"respite": "dont_want", "toilets": "dont_want"})
    r = key(meeting, 1, 4, {"library": "want"})
    assert "Sheet 4 saved (keying 1)." in flash_after(meeting, r)
    page = status_page(meeting)
    assert "Count 3 matching sheets" in page
    assert '<dd data-count="keyed_once">1</dd>' in page

    message = flash_after(meeting, count(meeting))
    assert "Counted 3 sheet(s): 1\u20133." in message
    assert meeting.state()["turnout"]["by_channel"]["paper"] == 3
    assert meeting.state()["turnout"]["voted"] == 4

    rows = ballots_csv(meeting)
    # The lone phone voter (< m) is merged with the paper voters in the public file, and no
    # row carries segments (README, Anonymity): the sheets' marks are there, unattributed.
    assert {(r[2], r[3]) for r in rows} == {("other", "")}
    ballots = {tuple(tuple(r[4:]) for r in rows if r[1] == v) for v in {r[1] for r in rows}}
    assert (("library", "want"), ("respite", "want"), ("toilets", "dont_want")) in ballots
    assert len(ballots) == 4

    meeting.close_round(1)
    out, exported = recount_exports(meeting.f, meeting.id, tmp_path)
    assert out == exported
    library = next(p for p in json.loads(out)["rounds"][0]["proposals"] if p["id"] == "library")
    assert (library["W"], library["D"], library["V"]) == (2, 1, 4)

    links = audit_links(meeting)
    counted = [x["data"] for x in links if x["kind"] == "paper.counted"]
    assert counted == [{"round": 1, "sheets": [1, 2, 3], "refused": []}]
    ballot_links = [x["data"] for x in links if x["kind"] == "ballot"]
    assert len(ballot_links) == 4  # the phone's and the three sheets', by commitment only
    assert all(set(d) == {"round", "commit"} for d in ballot_links)


def test_a_mismatch_is_listed_with_both_values_and_counts_only_once_rekeyed(
    meeting: Meeting,
) -> None:
    """One mark keyed differently: listed (sheet, field, both values), not counted; re-keying
    the wrong keying fixes it."""
    meeting.open_round()
    key(meeting, 1, 5, {"library": "want", "toilets": "neutral"})
    key(meeting, 2, 5, {"library": "dont_want", "toilets": "neutral"})
    page = status_page(meeting)
    row = page.split('data-sheet="5" data-field="mark:library"')[1].split("</tr>")[0]
    assert "Keep: Mobile library" in row
    assert re.findall(r"<td>([^<]*)</td>", row)[1:] == ["WANT", "DON&#39;T WANT"]
    assert "Count " not in page  # nothing to count
    assert '<dd data-count="mismatched">1</dd>' in page
    assert "no matching sheets" in flash_after(meeting, count(meeting))
    assert meeting.state()["turnout"]["voted"] == 0

    r = key(meeting, 2, 5, {"library": "want", "toilets": "neutral"})
    assert "It replaces this keying&#39;s earlier entry" in flash_after(meeting, r)
    page = status_page(meeting)
    assert 'id="mismatches"' not in page and "Count 1 matching sheets" in page
    assert "Counted 1 sheet(s): 5." in flash_after(meeting, count(meeting))
    assert meeting.state()["turnout"]["by_channel"]["paper"] == 1


def test_keying_pages_show_only_their_own_sheets(meeting: Meeting) -> None:
    """Independence: a keying page lists its own sheet numbers, never the other's values."""
    meeting.open_round()
    key(meeting, 1, 1, {"library": "want"})
    key(meeting, 1, 2, {"library": "want"})
    key(meeting, 1, 3, {"library": "want"})
    key(meeting, 2, 9, {"respite": "dont_want"}, segments=("staff",))
    one = meeting.f.get(f"/console/{meeting.id}/rounds/1/paper/key/1").text
    two = meeting.f.get(f"/console/{meeting.id}/rounds/1/paper/key/2").text
    assert "3 sheet(s): 1\u20133" in one and "9" not in one.split('id="keyed"')[1].split("<")[0]
    assert "1 sheet(s): 9" in two
    assert 'name="mark:library"' in one and "checked" in one  # blank is pre-selected
    assert 'name="ticket"' not in one  # open meeting
    assert 'value="want" checked' not in one and 'value="want" checked' not in two


def test_a_sheet_keyed_once_is_not_counted(meeting: Meeting) -> None:
    meeting.open_round()
    key(meeting, 2, 11, {"library": "want"})
    page = status_page(meeting)
    assert "Sheet 11: keying 2 only" in page
    assert "no matching sheets" in flash_after(meeting, count(meeting))
    assert meeting.state()["turnout"]["voted"] == 0


def test_counting_twice_never_makes_a_second_ballot(meeting: Meeting) -> None:
    """Count is idempotent: the sheet's ballot id is fixed; a counted sheet cannot be re-keyed."""
    meeting.open_round()
    key_both(meeting, 1, {"library": "want"})
    assert "Counted 1 sheet(s)" in flash_after(meeting, count(meeting))
    assert "no matching sheets" in flash_after(meeting, count(meeting))
    assert meeting.state()["turnout"]["voted"] == 1
    r = key(meeting, 1, 1, {"library": "dont_want"})
    assert r.status_code == 409
    assert "Sheet 1 is already counted: it cannot be keyed again." in r.text
    links = audit_links(meeting)
    assert sum(x["kind"] == "paper.counted" for x in links) == 1
    assert sum(x["kind"] == "ballot" for x in links) == 1
    assert "Counted sheets: 1" in status_page(meeting)


def test_a_retry_after_a_crash_reuses_the_sheets_voter(
    server: LiveServer, meeting: Meeting
) -> None:
    """If the server stopped after giving a sheet its voter but before its ballot, Count again
    casts for that same voter: one voter, one ballot."""
    meeting.open_round()
    key_both(meeting, 3, {"toilets": "want"}, segments=("north",))
    services = services_of(server)
    with services.session() as session:  # step 1 only, as if the process died after it
        (sheet,), _ = paper.assign_voters(session, get_meeting(session, meeting.id), 1)
    assert "Counted 1 sheet(s): 3." in flash_after(meeting, count(meeting))
    with services.read_session() as session:
        paper_voters = session.exec(select(Voter).where(Voter.channel == "paper")).all()
        ballot = session.exec(select(Ballot)).one()
    assert [v.id for v in paper_voters] == [sheet.voter_id] == [ballot.voter_id]
    assert paper_voters[0].segments == ["north"]
    assert ballot.ballot_uid == "paper:r1:s3" and ballot.channel == "paper"


def test_a_blank_sheet_is_refused(meeting: Meeting) -> None:
    """No box ticked on any proposal: not a ballot, listed with the reason."""
    meeting.open_round()
    key_both(meeting, 4, {}, segments=("carer",))
    assert "Blank sheet" in status_page(meeting)
    key_both(meeting, 5, {"library": "want"})
    message = flash_after(meeting, count(meeting))
    assert "Counted 1 sheet(s): 5." in message and "Sheet 4 refused: Blank sheet" in message
    assert meeting.state()["turnout"]["voted"] == 1
    (link,) = [x["data"] for x in audit_links(meeting) if x["kind"] == "paper.counted"]
    assert link == {"round": 1, "sheets": [5], "refused": [4]}


def test_a_closed_round_refuses_keying_and_counting(meeting: Meeting) -> None:
    meeting.open_round()
    key(meeting, 1, 1, {"library": "want"})
    meeting.close_round(1)
    closed = "Round 1 is closed: paper ballots are keyed and counted while the round is open."
    r = key(meeting, 2, 1, {"library": "want"})
    assert r.status_code == 409 and closed in r.text
    r = count(meeting)
    assert r.status_code == 409 and closed in r.text
    page = meeting.f.get(f"/console/{meeting.id}/rounds/1/paper/key/2").text
    assert closed in page and 'name="sheet"' not in page
    assert closed in status_page(meeting)
    assert meeting.state()["turnout"]["voted"] == 0


@pytest.mark.parametrize(
    ("path", "data", "status", "message"),
    [
        ("key/3", {"sheet": "1"}, 404, "two keyings"),
        ("key/1", {"sheet": "0"}, 400, "sheet number must be a whole number from 1"),
        ("key/1", {"sheet": "1", "segment": "elves"}, 400, "Unknown segment(s): elves"),
        ("key/1", {"sheet": "1", "mark:castle": "want"}, 400, "not in this round: castle"),
        ("key/1", {"sheet": "1", "mark:library": "yes"}, 400, "not &#39;yes&#39;"),
        ("key/1", {"sheet": "1", "ticket": "4"}, 400, "does not use tickets"),
    ],
)
def test_wrong_keying_input_is_refused_clearly(
    meeting: Meeting, path: str, data: dict[str, str], status: int, message: str
) -> None:
    meeting.open_round()
    r = meeting.f.post(
        f"/console/{meeting.id}/rounds/1/paper/{path}", data={"csrf": meeting.csrf, **data}
    )
    assert r.status_code == status
    assert message in r.text
    assert "sheet(s)" not in meeting.f.get(f"/console/{meeting.id}/rounds/1/paper/key/1").text


def test_paper_pages_are_for_the_facilitator_only(
    server: LiveServer, meeting: Meeting, phones: Callable[[], Phone]
) -> None:
    """Strangers and attendees get 403; a change without the page's CSRF token is refused."""
    meeting.open_round()
    base = f"/console/{meeting.id}/rounds/1/paper"
    stranger = server.browser()
    for path in ("", "/print", "/key/1"):
        assert stranger.get(base + path).status_code == 403
    phone = phones()
    r = phone.c.post(base + "/key/1", data={"csrf": phone.csrf, "sheet": "1"})
    assert r.status_code == 403
    assert phone.c.post(base + "/count", data={"csrf": phone.csrf}).status_code == 403
    assert key(meeting, 1, 1, {"library": "want"}, csrf="forged").status_code == 403
    r = meeting.f.post(base + "/count", data={})
    assert r.status_code == 403
    assert meeting.f.get(f"/console/{meeting.id}/rounds/2/paper").status_code == 404
    assert "sheet(s)" not in meeting.f.get(base + "/key/1").text


# --- tickets meetings ------------------------------------------------------------------------


def on_loop(services: Services, coro: Any) -> Any:
    """Run a coroutine on the server's event loop (the ballot writer lives there)."""
    return asyncio.run_coroutine_threadsafe(coro, services.loop).result(timeout=10)


def test_tickets_meeting_paper_ballots_need_a_valid_unused_ticket(
    server: LiveServer, facilitator: httpx.Client
) -> None:
    """No ticket: refused at keying. Unknown, revoked, twice-used tickets and a ticket whose
    holder already voted by phone are refused at counting, each with its reason; an unused
    ticket's sheet counts and uses the ticket. The audit link names sheets, never tickets."""
    meeting = Meeting(facilitator, {**MEETING, "voting": {"admission": "tickets"}})
    meeting.open_round()
    services = services_of(server)
    with services.session() as session:
        m = get_meeting(session, meeting.id)
        rnd = session.exec(select(Round).where(Round.meeting_id == meeting.id)).one()
        issued = tickets.issue(session, m, 3)  # Nos. 1, 2 and 3
        # No. 2's holder votes by phone; No. 3 is revoked.
        holder = tickets.redeem(session, issued[1].code, "d" * 64, "phone")
        tickets.revoke(session, m, 3)
        holder_id, round_id = holder.voter_id, rnd.id
    assert holder_id is not None and round_id is not None
    phone_marks: dict[str, str] = {"library": Mark.WANT}
    on_loop(
        services,
        services.cast(
            CastRequest(
                meeting.id, round_id, holder_id, "phone-ballot-1", phone_marks, device_key="d" * 64
            )
        ),
    )

    keying = meeting.f.get(f"/console/{meeting.id}/rounds/1/paper/key/1").text
    assert 'name="ticket"' in keying
    printed = meeting.f.get(f"/console/{meeting.id}/rounds/1/paper/print?count=1").text
    assert "data-ticket-box" in printed and "Ticket No." in printed
    r = key(meeting, 1, 1, {"library": "want"})
    assert r.status_code == 400
    assert "Sheet 1 needs the ticket number written on it" in r.text

    key_both(meeting, 1, {"library": "want", "toilets": "want"}, ticket=1, segments=("carer",))
    key_both(meeting, 2, {"library": "dont_want"}, ticket=2)  # the phone voter, on paper too
    key_both(meeting, 3, {"library": "want"}, ticket=3)  # revoked
    key_both(meeting, 4, {"library": "want"}, ticket=99)  # never issued
    key_both(meeting, 5, {"library": "dont_want"}, ticket=1)  # ticket 1 again
    page = status_page(meeting)
    assert "You have already voted by phone in this round; that ballot stands." in page

    message = flash_after(meeting, count(meeting))
    assert "Counted 1 sheet(s): 1." in message
    assert (
        "Sheet 2 refused: Ticket No. 2: You have already voted by phone in this round; that "
        "ballot stands." in message
    )
    assert "Sheet 3 refused: Ticket No. 3 is revoked or replaced: it no longer votes." in message
    assert "Sheet 4 refused: Ticket No. 99 was never issued in this meeting." in message
    assert "Sheet 5 refused: Ticket No. 1 is also on sheet 1: one ballot per ticket." in message
    refused = page_rows(status_page(meeting))
    assert sorted(refused) == [2, 3, 4, 5]

    with services.read_session() as session:
        ticket = session.exec(
            select(Ticket).where(Ticket.meeting_id == meeting.id, Ticket.number == 1)
        ).one()
        paper_voter = session.get(Voter, ticket.voter_id)
        held = session.exec(select(Ballot).where(Ballot.voter_id == holder_id)).one()
    assert ticket.status == "used" and ticket.used_at is not None
    assert paper_voter is not None and paper_voter.channel == "paper"
    assert paper_voter.segments == ["carer"]
    assert (held.channel, held.marks) == ("phone", {"library": "want"})  # the phone ballot stands
    assert meeting.state()["turnout"]["by_channel"] == {
        "phone": 1,
        "remote": 0,
        "keypad": 0,
        "paper": 1,
    }

    # The other way round: ticket No. 1 redeemed on a phone afterwards waits for approval, is
    # then the same voter, and its phone ballot is refused.
    with services.session() as session:
        asked = tickets.redeem(session, issued[0].code, "e" * 64, "phone")
        assert asked.voter_id is None
        tickets.approve(session, get_meeting(session, meeting.id), 1)
        taken = tickets.redeem(session, issued[0].code, "e" * 64, "phone")
    assert taken.voter_id == paper_voter.id and taken.voter_id is not None
    again = CastRequest(
        meeting.id,
        round_id,
        taken.voter_id,
        "phone-ballot-2",
        {"respite": Mark.WANT},
        device_key="e" * 64,
    )
    with pytest.raises(Conflict, match="already voted on paper in this round; that ballot"):
        on_loop(services, services.cast(again))
    assert meeting.state()["turnout"]["voted"] == 2

    links = audit_links(meeting)
    (link,) = [x for x in links if x["kind"] == "paper.counted"]
    assert link["data"] == {"round": 1, "sheets": [1], "refused": [2, 3, 4, 5]}
    assert "ticket" not in json.dumps(link).lower()
    assert [x["kind"] for x in links].count("ballot") == 2  # the phone's and sheet 1's


def page_rows(html: str) -> list[int]:
    """Sheet numbers in the status page's "Matched but not counted" table."""
    table = html.split('<table id="refused">')[1].split("</table>")[0]
    return [int(n) for n in re.findall(r'data-sheet="(\d+)"', table)]


def test_a_phone_can_neither_take_nor_fake_a_sheets_ballot(
    tmp_path: Path,
    meeting: Meeting,
    phones: Callable[[], Phone],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A phone's ballot with a paper or keypad id is refused; one with the old sheet id
    `paper-r1-s2` is only that phone's ballot: sheet 2 is still counted on paper, both ballots
    are stored, and the exports verify."""
    meeting.open_round()
    phone = phones()
    for uid in (paper.ballot_uid(1, 2), "keypad:" + "0" * 32):
        r = phone.vote({"library": "want"}, ballot_id=uid)
        assert r.status_code == 400 and "ballot_id" in r.text
    assert phone.vote({"library": "want"}, ballot_id="paper-r1-s2").status_code == 200
    key_both(meeting, 2, {"library": "dont_want"})
    assert "Counted 1 sheet(s): 2." in flash_after(meeting, count(meeting))
    turnout = meeting.state()["turnout"]
    assert turnout["voted"] == 2 and turnout["by_channel"]["paper"] == 1
    r = key(meeting, 1, 2, {"library": "want"})
    assert r.status_code == 409  # the sheet is counted: it cannot be keyed again
    meeting.close_round(1)
    assert exports_verify(meeting, tmp_path, capsys) == 0
