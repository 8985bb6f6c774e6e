"""A round online for a set period (issue 15): the period as the facilitator types it, checked.

Pure: the caller passes the meeting's zone and the time now; nothing here reads the clock.
The Run page's "Open online" form gives an opening (or "now") and a closing, each as a local
date ("2026-12-18") and time ("17:00") in the meeting's zone; `moment` turns one into UTC, and
`period_problems` / `extension_problems` say every reason the period cannot be, each with the
form field it concerns (the page shows it there).

Bounds, and why: the opening may be at most `PAST_GRACE` in the past (a form filled in at
09:00 and sent at 09:00:40 still opens "at 09:00", but a date typed wrong by a day is caught);
the closing is after the opening; the period is at most `MAX_DAYS` long (a phase runs for
weeks, not a year, and the voter's cookie is kept for `MAX_DAYS` plus a margin: see
app/config.py `session_max_age_s`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from app.core.errors import BadInput, CovoteError
from app.core.messages import N_

MAX_DAYS = 90
PAST_GRACE = timedelta(minutes=1)

# The form's fields (their ids on the Run page), for InvalidForm's problems.
OPENS_FIELD = "online-opens-date"
CLOSES_FIELD = "online-closes-date"

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{1,2}:\d{2}")

Problems = list[tuple[str, CovoteError]]


def moment(day: str, clock: str, tz: tzinfo) -> datetime | None:
    """The UTC time of local date `day` ("YYYY-MM-DD") at `clock` ("HH:MM") in `tz`, or None
    if either is malformed (bounded: anything longer than the format is malformed). A local
    time that a clock change skips or repeats is read as the one before the change (fold 0)."""
    day, clock = day.strip(), clock.strip()
    if not _DATE.fullmatch(day) or not _TIME.fullmatch(clock):
        return None
    hours, minutes = (int(part) for part in clock.split(":"))
    try:
        local = datetime.combine(date.fromisoformat(day), time(hours, minutes), tzinfo=tz)
    except ValueError:  # 2026-02-30, 25:00
        return None
    return local.astimezone(UTC)


def period_problems(opens: datetime, closes: datetime, now: datetime) -> Problems:
    """Why an online period from `opens` to `closes` (UTC) cannot be scheduled `now` (empty:
    it can)."""
    problems: Problems = []
    if opens < now - PAST_GRACE:
        problems.append((OPENS_FIELD, BadInput(N_("The opening is in the past."))))
    problems += _closing_problems(opens, closes)
    return problems


def extension_problems(opens: datetime, closes: datetime, now: datetime) -> Problems:
    """Why a running period that opened (or opens) at `opens` cannot close at `closes`
    instead, `now` (empty: it can). The new closing may be earlier or later than the old, but
    not in the past: ending now is "End early", which asks first."""
    problems: Problems = []
    if closes <= now:
        problems.append((CLOSES_FIELD, BadInput(N_("The closing is in the past."))))
        return problems
    return _closing_problems(opens, closes)


def _closing_problems(opens: datetime, closes: datetime) -> Problems:
    if closes <= opens:
        return [(CLOSES_FIELD, BadInput(N_("The closing must be after the opening.")))]
    if closes - opens > timedelta(days=MAX_DAYS):
        return [
            (
                CLOSES_FIELD,
                BadInput(N_("The period is at most %(days)s days long."), days=MAX_DAYS),
            )
        ]
    return []
