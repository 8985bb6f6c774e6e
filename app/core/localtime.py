"""Times as people read them: in the meeting's own time zone, with its abbreviation.

Pure: the caller passes the zone (a `tzinfo`, e.g. `meetings.zone_of(meeting)`, which looks the
IANA name up in the time zone database); nothing here reads the clock or a file. Every time a
person reads (the report, the console's pages) goes through `show`; the machine-readable
record (CSV, JSON, the audit chain) stays UTC ISO 8601 with a `Z` and never passes here.

Stored datetimes are UTC; a naive one (SQLite gives them back without a zone) is taken as UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, tzinfo

DEFAULT_ZONE = "Europe/London"
MAX_ZONE = 64  # the longest IANA name is 32 characters ("America/Argentina/ComodRivadavia")
# Offered in Set-up (any other IANA name may be typed): the UK and Ireland first, then the
# zones a UK council's partner towns are most often in.
COMMON_ZONES = (
    "Europe/London",
    "Europe/Dublin",
    "UTC",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "America/New_York",
    "Australia/Sydney",
)
# What an IANA zone name looks like: "Europe/London", "America/Port-au-Prince", "Etc/GMT+1",
# "UTC". Whether it exists is the time zone database's to say (meetings.check_zone).
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,3}")


def zone_name_problem(name: str) -> str | None:
    """Why `name` cannot be an IANA time zone name (None: it looks like one)."""
    if not name or len(name) > MAX_ZONE:
        return f"must be 1 to {MAX_ZONE} characters"
    if not _ZONE_NAME.fullmatch(name) or ".." in name:
        return 'must be an IANA time zone name such as "Europe/London"'
    return None


def local(at: datetime, tz: tzinfo) -> datetime:
    """`at` (UTC; naive means UTC, as stored) in `tz`."""
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(tz)


def show(at: datetime | None, tz: tzinfo, *, seconds: bool = False) -> str:
    """`at` for people: "2026-12-05 19:40 GMT" (its zone's abbreviation, BST in summer for
    Europe/London); "" for None."""
    if at is None:
        return ""
    moment = local(at, tz)
    text = f"{moment:%Y-%m-%d %H:%M:%S}" if seconds else f"{moment:%Y-%m-%d %H:%M}"
    return f"{text} {moment.tzname() or ''}".rstrip()


def local_date(at: datetime, tz: tzinfo) -> date:
    """The calendar day of `at` in `tz` (a meeting at 00:30 BST on 1 June was on 1 June)."""
    return local(at, tz).date()
