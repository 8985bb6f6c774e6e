"""The names the record's files are downloaded under, from the meeting's title and date.

Pure. `download_name("Riverside community budget", date(2026, 12, 5), "report.pdf")` is
`riverside-community-budget-2026-12-05-report.pdf`: a clerk filing a year of meetings can tell
them apart without opening them. `content_disposition` makes the header: `filename=` is the
ASCII name every browser understands; a title with letters outside ASCII (Welsh ŵ, ŷ) also gets
RFC 5987's `filename*=UTF-8''...` with them kept, which browsers prefer when they know it.

The date is the meeting's date as the report prints it (`meeting_day`): the day its first round
opened, in the meeting's time zone, or the day it was created if no round has opened yet.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime, tzinfo
from urllib.parse import quote

from app.core.localtime import local_date

MAX_SLUG = 60  # of the title's part: the whole name stays well under 100 characters
FALLBACK = "meeting"  # a title with nothing to keep ("???", only emoji)
_NOT_ASCII_WORD = re.compile(r"[^a-z0-9]+")
_NOT_WORD = re.compile(r"[\W_]+")


def _bounded(slug: str) -> str:
    """At most MAX_SLUG characters, cut at a hyphen where there is one."""
    if len(slug) <= MAX_SLUG:
        return slug
    cut = slug[:MAX_SLUG]
    if "-" in cut and slug[MAX_SLUG] != "-":
        cut = cut.rsplit("-", 1)[0]
    return cut.strip("-")


def slug(title: str) -> str:
    """The title in ASCII lower case with hyphens: "Gŵyl y Dref" -> "gwyl-y-dref"."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    return _bounded(_NOT_ASCII_WORD.sub("-", ascii_text.lower()).strip("-")) or FALLBACK


def unicode_slug(title: str) -> str:
    """As `slug`, but letters outside ASCII are kept (NFC): "gŵyl-y-dref"."""
    text = unicodedata.normalize("NFC", title.lower())
    return _bounded(_NOT_WORD.sub("-", text).strip("-")) or FALLBACK


def meeting_day(created_at: datetime, opened: Iterable[datetime], tz: tzinfo) -> date:
    """The meeting's date: the day its first round opened (in `tz`), else the day it was
    created. A meeting set up a week before it is held is filed under the day it was held."""
    first = min(opened, default=created_at)
    return local_date(first, tz)


def download_name(title: str, day: date, what: str, *, ascii_only: bool = True) -> str:
    """`{slug}-{YYYY-MM-DD}-{what}`, e.g. `what` = "round-2-ballots.csv"."""
    stem = slug(title) if ascii_only else unicode_slug(title)
    return f"{stem}-{day.isoformat()}-{what}"


def content_disposition(kind: str, title: str, day: date, what: str) -> str:
    """The Content-Disposition header's value (`kind` "attachment" or "inline")."""
    plain = download_name(title, day, what)
    header = f'{kind}; filename="{plain}"'
    full = download_name(title, day, what, ascii_only=False)
    if full != plain:
        header += f"; filename*=UTF-8''{quote(full, safe='')}"
    return header
