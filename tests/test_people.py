"""The people list (issue 15): offers of help kept apart from the answers, private to the
facilitator, deletable, purged after their date, and absent from every other output.

Over HTTP on SQLite and PostgreSQL (the `settings` fixture), plus the pure checks."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import zipfile
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pypdfium2
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from app import cli
from app.config import Settings
from app.core.errors import BadInput, InvalidForm
from app.record.people_csv import PEOPLE_HEADER
from app.rules import people as rules
from app.voting import meetings
from app.voting.db import create_schema, make_engine, transaction
from app.voting.models import Contact
from app.web.pages import ballot_section
from tests.conftest import MEETING, LiveServer, Meeting, Phone, csrf_of, make_settings

NAME = "Gwenllian Zephaniah-Prydderch"
EMAIL = "gwen.zeph@example.org"
PHONE = "+44 29 2087 1234"


def london_today() -> date:
    """The test meeting's date today (its zone, Europe/London), as the server computes it."""
    return datetime.now(ZoneInfo("Europe/London")).date()


def offer(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": NAME,
        "phone": PHONE,
        "email": EMAIL,
        "help_text": "Saturday mornings",
        "help_with": ["library"],
        "consent": True,
        "proposals": ["library", "respite", "toilets"],
    }
    return {**fields, **changes}


# --- pure ----------------------------------------------------------------------------------


def test_an_offer_is_tidied_and_keeps_the_meetings_order() -> None:
    """Spaces collapse, the e-mail's domain is lower case, picked proposals follow the meeting."""
    got = rules.parse_offer(
        **offer(
            name="  Ann   Lewis ",
            email="Ann.L@Example.ORG",
            phone="",
            help_with=["toilets", "library", "library"],
        )
    )
    assert got == rules.Offer(
        "Ann Lewis", None, "Ann.L@example.org", "Saturday mornings", ("library", "toilets")
    )


def test_every_problem_of_an_offer_is_named_by_its_field_and_never_repeats_the_input() -> None:
    """No name, a bad phone and e-mail, an unknown proposal, no consent: all at once."""
    with pytest.raises(InvalidForm) as e:
        rules.parse_offer(
            **offer(
                name=" ",
                phone="call me 123",
                email="gwen@example",
                help_with=["zoo"],
                consent=False,
            )
        )
    fields = [field for field, _ in e.value.problems]
    assert fields == ["h-name", "h-phone", "h-email", "h-with", "h-consent"]
    assert all(
        "call me" not in err.message and "gwen@" not in err.message for _, err in e.value.problems
    )


@pytest.mark.parametrize(
    ("phone", "email", "ok"),
    [
        ("07700 900123", "", True),
        ("+44 7700 900123", "", True),
        ("12345", "", False),  # too few digits
        ("1234567890123456", "", False),  # more than E.164's 15
        ("=1+2", "", False),
        ("07700-900123", "", False),  # digits, spaces and a leading + only
        ("", "a@b.cy", True),
        ("", "a@@b.cy", False),
        ("", "a b@c.cy", False),
        ("", "a@" + "b" * 260 + ".cy", False),
        ("", "", False),  # one of them is needed
    ],
)
def test_phone_and_email_shapes(phone: str, email: str, ok: bool) -> None:
    """A phone is 6-15 digits with spaces and a leading +; an e-mail looks like name@host.tld."""
    if ok:
        rules.parse_offer(**offer(phone=phone, email=email))
    else:
        with pytest.raises(InvalidForm):
            rules.parse_offer(**offer(phone=phone, email=email))


def test_retention_dates_and_bounds() -> None:
    """Kept until the day given plus the days; gone the day after; days bounded 1..3650."""
    last = rules.delete_after(date(2026, 12, 5), 365)
    assert last == date(2027, 12, 5)
    assert not rules.expired(last, date(2027, 12, 5)) and rules.expired(last, date(2027, 12, 6))
    assert rules.retention_days(None, 365) == 365 and rules.retention_days(30, 365) == 30
    assert rules.parse_retention("90") == 90
    for bad in ("0", "3651", "ten", "1e3"):
        with pytest.raises(BadInput):
            rules.parse_retention(bad)
    with pytest.raises(ValueError):
        Settings(people_retention_days=0)


def test_the_ballot_section_of_a_survey_round_links_to_the_form() -> None:
    """A survey round's ballot section (open or closed) links to /m/CODE/helping; a vote's not."""

    def section(kind: str, status: str) -> str:
        state: Any = {
            "meeting": {"code": "ABC123"},
            "round": {
                "id": 1,
                "number": 1,
                "status": status,
                "revealed": False,
                "kind": kind,
                "proposals": [],
            },
        }
        return ballot_section(state, "cy")

    for status in ("open", "closed"):
        assert "/m/ABC123/helping" in section("survey", status)
        assert "/m/ABC123/helping" not in section("room_vote", status)


# --- over HTTP -------------------------------------------------------------------------------


def engine_of(server: LiveServer) -> Engine:
    engine: Engine = server.app.state.services.engine
    return engine


def contacts(server: LiveServer) -> int:
    with transaction(engine_of(server)) as s:
        return int(s.execute(select(func.count()).select_from(Contact)).scalar_one())


def send(client: httpx.Client, code: str, **changes: Any) -> httpx.Response:
    """Open the form (notice first) and send it, as a phone without JavaScript does."""
    csrf = csrf_of(client, f"/m/{code}/helping")
    fields = offer(**changes)
    data: dict[str, Any] = {k: v for k, v in fields.items() if k not in ("proposals", "consent")}
    if fields["consent"]:
        data["consent"] = "yes"
    return client.post(f"/m/{code}/helping", data={"csrf": csrf, **data}, follow_redirects=False)


def test_the_notice_comes_first_and_the_facilitator_alone_sees_the_offer(
    server: LiveServer, meeting: Meeting
) -> None:
    """The phone reads who sees the details, what for, until when, how to delete and that they
    are not linked to the answers, before the form; the offer lands on the People page and in
    people.csv (formula-safe, named after the meeting), never on a helper's screen."""
    phone = server.browser()
    page = phone.get(f"/m/{meeting.code}/helping?lang=en").text
    until = (london_today() + timedelta(days=365)).strftime("%-d %B %Y")
    notice = page.index("Who sees them:")
    for words in ("What for:", until, "To have them deleted sooner:", "not linked to your votes"):
        assert notice < page.index(words) < page.index('name="consent"'), words
    r = send(phone, meeting.code)
    assert r.status_code == 303 and r.headers["location"] == f"/m/{meeting.code}/helping/thanks"
    thanks = phone.get(r.headers["location"]).text
    assert "Thank you" in thanks and until in thanks and meeting.code in thanks
    assert NAME not in thanks  # the browser is told nothing it did not type

    listing = meeting.f.get(f"/console/{meeting.id}/people")
    assert listing.status_code == 200 and listing.headers["cache-control"] == "no-store"
    assert NAME in listing.text and EMAIL in listing.text and "Mobile library" in listing.text
    r = meeting.f.get(f"/console/{meeting.id}/people/people.csv")
    assert r.headers["cache-control"] == "no-store"
    assert re.search(
        r'filename="test-budget-\d{4}-\d\d-\d\d-people\.csv"', r.headers["content-disposition"]
    )
    rows = list(csv.reader(io.StringIO(r.text)))
    assert tuple(rows[0]) == PEOPLE_HEADER
    assert rows[1][:5] == [NAME, "'" + PHONE, EMAIL, "Mobile library", "Saturday mornings"]

    helper_key = meeting.f.post(
        f"/console/{meeting.id}/access",
        data={"csrf": meeting.csrf, "role": "meeting", "label": "Runner"},
        follow_redirects=True,
    ).text
    key = re.search(r"/facilitator\?key=([A-Za-z0-9_-]+)", helper_key)
    assert key
    helper = server.browser()
    assert helper.get(f"/facilitator?key={key.group(1)}", follow_redirects=True).status_code == 200
    run_page = helper.get(f"/console/{meeting.id}")
    assert run_page.status_code == 200 and f"/console/{meeting.id}/people" not in run_page.text
    for path in ("/people", "/people/people.csv"):
        assert helper.get(f"/console/{meeting.id}{path}").status_code == 403, path
    csrf = csrf_of(helper, f"/console/{meeting.id}")
    r = helper.post(
        f"/console/{meeting.id}/people/delete-all", data={"csrf": csrf, "confirm": "yes"}
    )
    assert r.status_code == 403 and contacts(server) == 1
    assert phone.get(f"/console/{meeting.id}/people").status_code == 403


def test_a_refused_form_keeps_nothing_and_says_why_in_welsh(
    server: LiveServer, meeting: Meeting
) -> None:
    """Without consent and with a bad e-mail: 400, the form again with each problem by its
    field (in the phone's language) and what was typed; nothing stored."""
    phone = server.browser()
    phone.get(f"/m/{meeting.code}/helping?lang=cy")
    r = send(phone, meeting.code, consent=False, email="gwen@example", phone="")
    assert r.status_code == 400 and contacts(server) == 0
    assert 'href="#h-email"' in r.text and 'href="#h-consent"' in r.text
    assert 'aria-invalid="true"' in r.text and NAME in r.text  # typed values come back
    assert "Tick the box" not in r.text  # in Welsh
    r = send(phone, meeting.code, help_with=["not-a-proposal"])
    assert r.status_code == 400 and contacts(server) == 0


def test_offers_are_limited_per_address(tmp_path: Any) -> None:
    """Past limit_offers_per_address a post is refused (429, Retry-After) before it is read."""
    with LiveServer(make_settings(tmp_path, limit_offers_per_address="2/minute")) as server:
        f = server.browser()
        f.get("/facilitator?key=test-facilitator-key")
        meeting = Meeting(f)
        phone = server.browser()
        assert [send(phone, meeting.code).status_code for _ in range(2)] == [303, 303]
        r = send(phone, meeting.code)
        assert r.status_code == 429 and "Retry-After" in r.headers
        assert contacts(server) == 2


def test_deleting_one_or_all_asks_first_and_names_nobody_afterwards(
    server: LiveServer, meeting: Meeting
) -> None:
    """Delete one and delete all ask first (nothing changes until confirmed); the message after
    names no one; an archived meeting takes no offer but its list can still be deleted."""
    for name in ("Ann", "Bob", "Cai"):
        assert send(server.browser(), meeting.code, name=name).status_code == 303
    page = meeting.f.get(f"/console/{meeting.id}/people").text
    first = re.search(rf"/console/{meeting.id}/people/(\d+)/delete", page)
    assert first
    path = f"/console/{meeting.id}/people/{first.group(1)}/delete"
    asked = meeting.f.post(path, data={"csrf": meeting.csrf})
    assert asked.status_code == 200 and "Delete the details of Ann?" in asked.text
    assert contacts(server) == 3
    r = meeting.post(f"/people/{first.group(1)}/delete", confirm="yes")
    after = meeting.f.get(r.headers["location"]).text
    assert "One person&#39;s details are deleted." in after and "Ann" not in after
    assert contacts(server) == 2
    assert meeting.f.post(path, data={"csrf": meeting.csrf, "confirm": "yes"}).status_code == 404

    meeting.post("/people/notice", keeper="Riverside Council, engage@example.org", days="30")
    notice = server.browser().get(f"/m/{meeting.code}/helping").text
    assert "Riverside Council, engage@example.org" in notice
    assert (london_today() + timedelta(days=30)).strftime("%-d %B %Y") in notice

    late = server.browser()  # opened the form before the meeting was archived
    csrf = csrf_of(late, f"/m/{meeting.code}/helping")
    r = meeting.f.post(f"/console/meetings/{meeting.id}/archive", data={"csrf": meeting.csrf})
    assert r.status_code == 303
    assert "no longer takes details" in late.get(f"/m/{meeting.code}/helping").text
    data = {"csrf": csrf, "name": "Dai", "email": EMAIL, "consent": "yes"}
    assert late.post(f"/m/{meeting.code}/helping", data=data).status_code == 409
    assert contacts(server) == 2  # archived: kept until their date
    asked = meeting.f.post(f"/console/{meeting.id}/people/delete-all", data={"csrf": meeting.csrf})
    assert "Delete the whole people list (2 people)?" in asked.text and contacts(server) == 2
    meeting.post("/people/delete-all", confirm="yes")
    assert contacts(server) == 0


def _expired_contact(engine: Engine, meeting_id: int) -> None:
    with transaction(engine) as s:
        s.add(
            Contact(
                meeting_id=meeting_id,
                name="Expired Person",
                email="old@example.org",
                given_on=date(2020, 1, 1),
                delete_after=date(2020, 12, 31),
            )
        )


def test_expired_details_are_purged_at_start_up_on_reading_and_by_the_command(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Past their date, details go when the server starts, when the console reads the list
    (never shown even so) and with `covote people purge`; the others stay."""
    engine = make_engine(settings.resolved_database_url())
    create_schema(engine)
    from app.record.records import parse_meeting

    with transaction(engine) as s:
        made = meetings.create_meeting(s, parse_meeting(json.dumps(MEETING)))
        assert made.id is not None
        meeting_id = made.id
    _expired_contact(engine, meeting_id)
    with LiveServer(settings) as server:
        assert contacts(server) == 0  # purged at start-up
        _expired_contact(engine, meeting_id)
        f = server.browser()
        f.get("/facilitator?key=test-facilitator-key")
        page = f.get(f"/console/{meeting_id}/people").text
        assert "Expired Person" not in page and contacts(server) == 0
    _expired_contact(engine, meeting_id)
    args = ["people", "purge"]
    if settings.database_url:
        args += ["--database-url", settings.database_url]
    else:
        args += ["--data", str(settings.data_dir)]
    assert cli.main(args) == 0
    assert "1 " in capsys.readouterr().out
    with transaction(engine) as s:
        assert s.execute(select(func.count()).select_from(Contact)).scalar_one() == 0
    engine.dispose()


def _pdf_text(data: bytes) -> str:
    pdf = pypdfium2.PdfDocument(data)
    try:
        return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    finally:
        pdf.close()


def test_the_details_are_in_no_other_output(
    server: LiveServer, meeting: Meeting, caplog: pytest.LogCaptureFixture
) -> None:
    """A person's name, e-mail and phone are absent from the bundle (every file, the PDF's
    text), ballots and results, the report, the audit log, the meeting JSON, the public API and
    the server's log: only the People page and people.csv have them."""
    caplog.set_level(logging.DEBUG)
    meeting.open_round()
    phone = Phone(server.browser(), meeting.code)
    assert phone.vote({"library": "want"}).status_code == 200
    assert send(phone.c, meeting.code).status_code == 303
    assert send(phone.c, meeting.code, email="bad@", name=NAME).status_code == 400  # an error too
    meeting.close_round(1)
    meeting.reveal(1)
    secrets = (NAME, EMAIL, PHONE, PHONE.replace(" ", ""), "Zephaniah")

    outputs: dict[str, str] = {}
    bundle = meeting.f.get(f"/console/{meeting.id}/export/bundle.zip").content
    with zipfile.ZipFile(io.BytesIO(bundle)) as z:
        for name in z.namelist():
            body = z.read(name)
            outputs[f"bundle/{name}"] = _pdf_text(body) if name.endswith(".pdf") else body.decode()
    for what in (
        "meeting.json",
        "ballots.csv",
        "groups.csv",
        "results.json",
        "audit.jsonl",
        "proposals.csv",
    ):
        outputs[what] = meeting.f.get(f"/console/{meeting.id}/export/{what}").text
    outputs["round ballots"] = meeting.f.get(
        f"/console/{meeting.id}/rounds/1/export/ballots.csv"
    ).text
    outputs["report.html"] = meeting.f.get(f"/console/{meeting.id}/report.html").text
    outputs["report.pdf"] = _pdf_text(meeting.f.get(f"/console/{meeting.id}/report.pdf").content)
    outputs["api"] = phone.c.get(f"/api/m/{meeting.code}").text
    outputs["projector"] = phone.c.get(f"/p/{meeting.code}").text
    outputs["phone page"] = phone.c.get(f"/m/{meeting.code}").text
    outputs["log"] = "\n".join(r.getMessage() for r in caplog.records)
    assert "Mobile library" in outputs["report.pdf"]  # the PDF's text is read
    for where, text in outputs.items():
        for secret in secrets:
            assert secret not in text, (where, secret)
    assert NAME in meeting.f.get(f"/console/{meeting.id}/people/people.csv").text
