"""Issue 13, the record for the minutes: times in the meeting's own zone (GMT/BST), download
names from the meeting's title and date, the PDF's real creation date and metadata, the venue,
chair and "Approved by" blocks, and the report inside the console."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import httpx
import pypdfium2 as pdfium
import pytest

from app.core import localtime
from app.record import filenames, records, report, report_pdf
from tests.conftest import MEETING, LiveServer, Meeting
from tests.test_report import budget_results, pdf_text, text_of, vote_round

LONDON = ZoneInfo("Europe/London")


# --- time zones ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("utc", "shown"),
    [
        # Spring: clocks go forward at 01:00 UTC on Sunday 29 March 2026.
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "2026-03-29 00:30 GMT"),
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "2026-03-29 02:30 BST"),
        # Autumn: back at 01:00 UTC on Sunday 25 October 2026 (01:30 happens twice).
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "2026-10-25 01:30 BST"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "2026-10-25 01:30 GMT"),
        # Stored naive (SQLite): UTC.
        (datetime(2026, 7, 1, 18, 0), "2026-07-01 19:00 BST"),
        (datetime(2026, 12, 5, 19, 40), "2026-12-05 19:40 GMT"),
    ],
)
def test_times_are_shown_in_the_meetings_zone_across_the_clock_changes(
    utc: datetime, shown: str
) -> None:
    assert localtime.show(utc, LONDON) == shown


def test_the_meeting_day_is_the_local_day_the_first_round_opened() -> None:
    """23:30 UTC on 30 June is 00:30 BST on 1 July: the meeting was on 1 July."""
    created = datetime(2026, 6, 20, 10, 0, tzinfo=UTC)
    opened = [datetime(2026, 7, 1, 9, 0, tzinfo=UTC), datetime(2026, 6, 30, 23, 30, tzinfo=UTC)]
    assert filenames.meeting_day(created, opened, LONDON) == date(2026, 7, 1)
    assert filenames.meeting_day(created, opened, UTC) == date(2026, 6, 30)
    assert filenames.meeting_day(created, [], LONDON) == date(2026, 6, 20)


@pytest.mark.parametrize(
    "zone", ["", "Europe/../etc/passwd", "Europe London", "x" * 65, "/Europe/London", "Mars\n"]
)
def test_a_malformed_time_zone_is_refused_in_a_meeting_file(zone: str) -> None:
    spec = {**MEETING, "time_zone": zone}
    with pytest.raises(records.RecordError, match="time_zone"):
        records.parse_meeting(json.dumps(spec))


def test_zone_venue_and_chair_are_in_the_meeting_file_only_when_set() -> None:
    """A meeting without them writes exactly what it wrote before they existed."""
    plain = records.parse_meeting(json.dumps(MEETING))
    text = records.dump_meeting(plain)
    assert "time_zone" not in text and "venue" not in text and "chair" not in text
    spec = {**MEETING, "time_zone": "Europe/Dublin", "venue": " Neuadd y Dref ", "chair": "Cllr Ŵ"}
    placed = json.loads(records.dump_meeting(records.parse_meeting(json.dumps(spec))))
    assert (placed["time_zone"], placed["venue"], placed["chair"]) == (
        "Europe/Dublin",
        "Neuadd y Dref",
        "Cllr Ŵ",
    )
    with pytest.raises(records.RecordError, match=r"venue.*at most 200"):
        records.parse_meeting(json.dumps({**MEETING, "venue": "v" * 201}))


def settings_form(meeting: Meeting, **fields: str) -> httpx.Response:
    data = {"csrf": meeting.csrf, "title": "Test budget", "ratio": "2", "group_min": "5"}
    data["results_hidden"] = "on"
    return meeting.f.post(
        f"/console/{meeting.id}/settings", data={**data, **fields}, follow_redirects=False
    )


def test_setup_saves_the_zone_venue_and_chair_and_refuses_an_unknown_zone(
    facilitator: httpx.Client,
) -> None:
    """Set-up's Meeting section: a zone the time zone database does not know is refused with a
    reason and nothing is changed; a known one, the venue and the chair are saved, exported in
    the meeting file, and a file that carries them imports them."""
    meeting = Meeting(facilitator)
    page = facilitator.get(f"/console/{meeting.id}/setup").text
    assert 'name="time_zone"' in page and 'value="Europe/London"' in page
    for bad in ("Europe/Lundun", "Mars/Olympus_Mons", "GMT+1/x", "y" * 100):
        r = settings_form(meeting, time_zone=bad, venue="Somewhere")
        assert r.status_code == 400, bad
    assert "time_zone" not in facilitator.get(f"/console/{meeting.id}/export/meeting.json").text
    assert "Somewhere" not in facilitator.get(f"/console/{meeting.id}/setup").text
    r = settings_form(meeting, time_zone="America/New_York", venue="Town Hall", chair="Cllr Jones")
    assert r.status_code == 303
    exported = facilitator.get(f"/console/{meeting.id}/export/meeting.json").json()
    assert (exported["time_zone"], exported["venue"], exported["chair"]) == (
        "America/New_York",
        "Town Hall",
        "Cllr Jones",
    )
    copy = Meeting(facilitator, exported)
    again = facilitator.get(f"/console/{copy.id}/export/meeting.json").json()
    assert again["time_zone"] == "America/New_York" and again["chair"] == "Cllr Jones"
    # Back to the default: the key leaves the file again.
    assert settings_form(meeting, time_zone="Europe/London", venue="", chair="").status_code == 303
    text = facilitator.get(f"/console/{meeting.id}/export/meeting.json").text
    assert "time_zone" not in text and "venue" not in text and "chair" not in text


def test_an_unknown_zone_in_an_imported_meeting_file_is_refused(facilitator: httpx.Client) -> None:
    r = facilitator.post(
        "/console/import",
        data={"csrf": Meeting(facilitator).csrf},
        files={"file": ("m.json", json.dumps({**MEETING, "time_zone": "Europe/Atlantis"}))},
        follow_redirects=False,
    )
    assert r.status_code == 400 and "Unknown time zone" in r.text


def test_console_times_are_in_the_meetings_zone(
    server: LiveServer, facilitator: httpx.Client
) -> None:
    """A round's opened and closed times on its results page, in the meeting's zone."""
    meeting = Meeting(facilitator, {**MEETING, "time_zone": "Asia/Tokyo"})
    meeting.open_round()
    meeting.close_round(1)
    page = text_of(facilitator.get(f"/console/{meeting.id}/rounds/1").text)
    assert re.search(r"Opened \d{4}-\d\d-\d\d \d\d:\d\d JST, closed .* JST", page), page
    sessions = text_of(facilitator.get("/console/sessions").text)
    assert re.search(r"\d\d:\d\d (GMT|BST)", sessions)


# --- file names ----------------------------------------------------------------------------------


DAY = date(2026, 12, 5)


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("Riverside community budget", "riverside-community-budget-2026-12-05-report.pdf"),
        ("Cyllideb Gŵyl Tŷ'r Dref", "cyllideb-gwyl-ty-r-dref-2026-12-05-report.pdf"),
        ("  ???  ", "meeting-2026-12-05-report.pdf"),
        ("Budget 2027/28: £1,000,000!", "budget-2027-28-1-000-000-2026-12-05-report.pdf"),
    ],
)
def test_download_names_come_from_the_title_and_date(title: str, name: str) -> None:
    assert filenames.download_name(title, DAY, "report.pdf") == name


def test_a_very_long_title_is_cut_at_a_word() -> None:
    title = "The annual participatory budgeting meeting of the Riverside and Northfield wards"
    name = filenames.download_name(title, DAY, "round-2-ballots.csv")
    stem = name.removesuffix("-2026-12-05-round-2-ballots.csv")
    assert len(stem) <= filenames.MAX_SLUG and not stem.endswith("-")
    assert title.lower().replace(" ", "-").startswith(stem)
    assert (
        filenames.download_name("x" * 200, DAY, "bundle.zip") == "x" * 60 + "-2026-12-05-bundle.zip"
    )


def test_a_welsh_title_gets_an_rfc_5987_name_too() -> None:
    header = filenames.content_disposition("attachment", "Gŵyl y Dref", DAY, "bundle.zip")
    plain, extended = header.split("; filename*=UTF-8''")
    assert plain == 'attachment; filename="gwyl-y-dref-2026-12-05-bundle.zip"'
    assert unquote(extended) == "gŵyl-y-dref-2026-12-05-bundle.zip"
    ascii_header = filenames.content_disposition("inline", "Town Hall", DAY, "report.pdf")
    assert ascii_header == 'inline; filename="town-hall-2026-12-05-report.pdf"'


def test_every_download_is_named_after_the_meeting(
    server: LiveServer, facilitator: httpx.Client
) -> None:
    """Over HTTP: each export, the round's files, the bundle and the report."""
    meeting = Meeting(facilitator, {**MEETING, "title": "Cyllideb Gŵyl 2026"})
    vote_round(server, meeting)
    meeting.close_round(1)
    day = datetime.now(LONDON).date().isoformat()
    stem = f"cyllideb-gwyl-2026-{day}"
    routes = {
        "export/meeting.json": "meeting.json",
        "export/ballots.csv": "ballots.csv",
        "export/results.json": "results.json",
        "export/audit.jsonl": "audit.jsonl",
        "rounds/1/export/ballots.csv": "round-1-ballots.csv",
        "rounds/1/export/groups.csv": "round-1-groups.csv",
        "export/bundle.zip": "bundle.zip",
        "report.pdf?download=1": "report.pdf",
        "report.html?download=1": "report.html",
    }
    for route, what in routes.items():
        r = facilitator.get(f"/console/{meeting.id}/{route}")
        assert r.status_code == 200, route
        header = r.headers["content-disposition"]
        assert header.startswith(f'attachment; filename="{stem}-{what}"; filename*='), header
        assert unquote(header.split("UTF-8''")[1]) == f"cyllideb-gŵyl-2026-{day}-{what}"


# --- the report: blocks, zone, PDF metadata ------------------------------------------------------


def summer_report(venue: str = "", chair: str = "") -> report.Report:
    """A budget round opened at 18:30 UTC on 1 July 2026 (19:30 BST), made at 21:05 UTC."""
    opened = datetime(2026, 7, 1, 18, 30, tzinfo=UTC)
    meeting = report.MeetingInfo(
        title="Cyllideb Gŵyl y Dref",
        ratio=2,
        group_min=5,
        segments=(report.SegmentInfo("carer", "Carer", True),),
        proposals=(
            report.ProposalInfo("respite", "Respite breaks", "fund", ("carer",)),
            report.ProposalInfo("toilets", "Park toilets", "keep", ()),
        ),
        created_at=datetime(2026, 6, 1, 12, 0, tzinfo=UTC),
        venue=venue,
        chair=chair,
    )
    rnd = report.RoundInput(
        number=1,
        status="closed",
        revealed=True,
        opened_at=opened,
        closed_at=datetime(2026, 7, 1, 19, 15, tzinfo=UTC),
        results=budget_results(),
        turnout={"registered": None, "present": 10, "voted": 10, "by_channel": {"phone": 10}},
        turnout_at_close=True,
    )
    record = report.RecordInput("a" * 64, "b" * 64, 42, "c" * 64)
    made = datetime(2026, 7, 1, 21, 5, 9, tzinfo=UTC)
    return report.build(meeting, [rnd], record, generated_at=made, tz=LONDON)


def test_the_report_has_the_meeting_block_and_an_approved_by_block() -> None:
    model = summer_report(venue="Neuadd y Dref, Aberteifi", chair="Cllr Siân Ŵen")
    assert [(r.label, r.value) for r in model.details] == [
        ("Meeting", "Cyllideb Gŵyl y Dref"),
        ("Date", "2026-07-01"),
        ("Venue", "Neuadd y Dref, Aberteifi"),
        ("Chair", "Cllr Siân Ŵen"),
    ]
    assert model.rounds[0].times == "Opened 2026-07-01 19:30 BST, closed 2026-07-01 20:15 BST"
    assert model.generated == "Report made 2026-07-01 22:05 BST"
    html = text_of(report_html(model))
    assert "Venue Neuadd y Dref, Aberteifi" in html and "Chair Cllr Siân Ŵen" in html
    assert "Approved by" in html and "Name Role Signature Date" in html
    text = pdf_text(report_pdf.render(model))
    assert "Neuadd y Dref, Aberteifi" in text and "Cllr Siân Ŵen" in text
    assert "Approved by" in text and "Signature" in text and "19:30 BST" in text
    # Without a venue or chair, their lines are left out (not shown empty).
    assert [r.label for r in summer_report().details] == ["Meeting", "Date"]


def report_html(model: report.Report) -> str:
    from app.web.rendering import TEMPLATES

    return TEMPLATES.env.get_template("record/report.html").render(
        report=model, _=lambda s, **kw: s % kw if kw else s
    )


def test_the_pdf_carries_its_real_creation_date_and_metadata() -> None:
    """CreationDate and ModDate are when the report was made (not ReportLab's fixed 2000);
    the same model, made at the same time, still gives the same bytes."""
    model = summer_report(chair="Cllr Jones")
    data = report_pdf.render(model)
    meta = pdfium.PdfDocument(data).get_metadata_dict()
    assert meta["Title"] == "Cyllideb Gŵyl y Dref"
    assert meta["Author"] == "Covote" and meta["Creator"] == "Covote"
    assert meta["Subject"] == "Results report · Meeting date: 2026-07-01"
    assert meta["CreationDate"].startswith("D:20260701210509")
    assert meta["ModDate"].startswith("D:20260701210509")
    assert report_pdf.render(model) == data


def test_the_pdf_over_http_is_dated_now(server: LiveServer, facilitator: httpx.Client) -> None:
    meeting = Meeting(facilitator)
    before = datetime.now(UTC).replace(microsecond=0)
    data = facilitator.get(f"/console/{meeting.id}/report.pdf").content
    stamp = pdfium.PdfDocument(data).get_metadata_dict()["CreationDate"]
    made = datetime.strptime(stamp[2:16], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    assert made >= before and made.year > 2000


# --- the report inside the console ---------------------------------------------------------------


def test_the_report_opens_inside_the_console(server: LiveServer, facilitator: httpx.Client) -> None:
    """The console's page: its navigation, back to the Run page, Download PDF, Print, Open on
    its own; the report's content; the Run page links here, not to the bare page."""
    meeting = Meeting(facilitator, {**MEETING, "venue": "Town Hall"})
    vote_round(server, meeting)
    r = facilitator.get(f"/console/{meeting.id}/report")
    assert r.status_code == 200
    page = r.text
    assert 'class="console-nav"' in page and 'class="report-doc"' in page
    for href in (
        f'href="/console/{meeting.id}"',
        f'href="/console/{meeting.id}/report.pdf?download=1"',
        f'href="/console/{meeting.id}/report.html"',
    ):
        assert href in page, href
    assert 'id="report-print"' in page and "/static/console/report.js" in page
    assert page.count("<main") == 1  # the report's own <main> is a <div> here
    text = text_of(page)
    assert "Venue Town Hall" in text and "Approved by" in text and "Interim report" in text
    run = facilitator.get(f"/console/{meeting.id}").text
    assert f'href="/console/{meeting.id}/report"' in run
    assert server.browser().get(f"/console/{meeting.id}/report").status_code == 403
