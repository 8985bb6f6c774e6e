"""The people list's rules (issue 15): what an offer of help may hold, and how long it is kept.

Pure. A person who would help leaves a name, a phone number and/or an e-mail address, what they
would like to help with (their own words, and/or some of the meeting's proposals) and their
consent to be contacted; `parse_offer` checks all of it at once and raises `InvalidForm` with
every problem by field, so the phone's page shows each next to its input and nothing is kept.
Messages never repeat what was typed: an error may be logged, personal data must not be.

Retention: every offer is kept until a date fixed when it is given (`delete_after`: the day
given plus the meeting's number of days, else the server's `people_retention_days`) and the
first purge after that day deletes it (`expired`, given today's date by the caller).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from app.core.errors import BadInput, CovoteError, InvalidForm
from app.core.inputs import bounded_int, clean_text
from app.core.messages import N_

MAX_NAME = 100
MAX_PHONE = 32  # characters as typed: "+44 29 2087 2087" is 16
# E.164 allows at most 15 digits; fewer than 6 is no number anyone can ring back.
MIN_PHONE_DIGITS = 6
MAX_PHONE_DIGITS = 15
MAX_EMAIL = 254  # RFC 5321's longest forward path, less the angle brackets
MAX_HELP_TEXT = 500
# How long details may be kept: one day to ten years (a council's longest usual schedule).
MIN_RETENTION_DAYS = 1
MAX_RETENTION_DAYS = 3650
MAX_KEEPER = 200
# A meeting's list is bounded: a script filling it gets this far and no further (a hall is
# hundreds, an online survey of a borough a few thousand).
MAX_CONTACTS = 20_000

# The phone form's inputs, by id: problems are shown next to them.
FIELD_NAME = "h-name"
FIELD_PHONE = "h-phone"
FIELD_EMAIL = "h-email"
FIELD_HELP = "h-help"
FIELD_WITH = "h-with"
FIELD_CONSENT = "h-consent"

_PHONE = re.compile(r"\+?[0-9][0-9 ]*")
# local@domain.tld: no spaces, one @, a dot inside the domain. Deliverability is the
# facilitator's to find out; the shape catches typos ("name.example.org", "name@example").
_EMAIL = re.compile(r"[^\s@]{1,64}@[^\s@.]+(\.[^\s@.]+)+")


@dataclass(frozen=True, slots=True)
class Offer:
    """A checked offer of help, as stored."""

    name: str
    phone: str | None
    email: str | None
    help_text: str | None
    help_with: tuple[str, ...]  # proposal keys, in the meeting's order


def _one_line(value: str) -> str:
    return " ".join(clean_text(value).split())


def parse_offer(
    *,
    name: str,
    phone: str,
    email: str,
    help_text: str,
    help_with: Sequence[str],
    consent: bool,
    proposals: Sequence[str],
) -> Offer:
    """The offer the phone's form posted, checked and tidied (spaces collapsed, e-mail's
    domain in lower case, proposals in the meeting's order).

    Raises:
        InvalidForm: every problem, each with its input's id; nothing is kept.
    """
    problems: list[tuple[str, CovoteError]] = []
    name = _one_line(name)
    if not name:
        problems.append((FIELD_NAME, BadInput(N_("Give your name."))))
    elif len(name) > MAX_NAME:
        problems.append(
            (FIELD_NAME, BadInput(N_("Your name can be at most %(n)s characters."), n=MAX_NAME))
        )
    phone = _one_line(phone)
    if phone and not _phone_ok(phone):
        problems.append(
            (
                FIELD_PHONE,
                BadInput(
                    N_(
                        "A phone number has %(low)s to %(high)s digits, with spaces and a + in "
                        "front if you like."
                    ),
                    low=MIN_PHONE_DIGITS,
                    high=MAX_PHONE_DIGITS,
                ),
            )
        )
    email = _one_line(email)
    if email and (len(email) > MAX_EMAIL or not _EMAIL.fullmatch(email)):
        problems.append(
            (
                FIELD_EMAIL,
                BadInput(N_("Check your e-mail address: it looks like name@example.org.")),
            )
        )
    if not phone and not email:
        problems.append(
            (FIELD_PHONE, BadInput(N_("Give a phone number or an e-mail address, or both.")))
        )
    help_text = clean_text(help_text).strip()
    if len(help_text) > MAX_HELP_TEXT:
        problems.append(
            (
                FIELD_HELP,
                BadInput(N_("Say it in at most %(n)s characters."), n=MAX_HELP_TEXT),
            )
        )
    picked = set(help_with)
    if not picked <= set(proposals):
        problems.append((FIELD_WITH, BadInput(N_("Choose only from the list."))))
    if not consent:
        problems.append(
            (FIELD_CONSENT, BadInput(N_("Tick the box to agree to be contacted, or go back.")))
        )
    if problems:
        raise InvalidForm(problems)
    if email:
        local, _, domain = email.rpartition("@")
        email = f"{local}@{domain.lower()}"
    return Offer(
        name=name,
        phone=phone or None,
        email=email or None,
        help_text=help_text or None,
        help_with=tuple(key for key in proposals if key in picked),
    )


def _phone_ok(phone: str) -> bool:
    if len(phone) > MAX_PHONE or not _PHONE.fullmatch(phone):
        return False
    digits = sum(c.isdigit() for c in phone)
    return MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS


def retention_days(meeting_days: int | None, default: int) -> int:
    """The days a new offer is kept: the meeting's own number, else the server's default."""
    return meeting_days if meeting_days is not None else default


def delete_after(given_on: date, days: int) -> date:
    """The last day an offer given on `given_on` is kept."""
    return given_on + timedelta(days=days)


def expired(last_day: date, today: date) -> bool:
    """Whether an offer kept until `last_day` must be gone by `today`."""
    return last_day < today


def parse_retention(text: object) -> int:
    """The days typed in the console.

    Raises:
        BadInput: not a whole number from MIN_RETENTION_DAYS to MAX_RETENTION_DAYS.
    """
    return bounded_int(text, "Days kept", low=MIN_RETENTION_DAYS, high=MAX_RETENTION_DAYS)


def parse_keeper(text: str) -> str | None:
    """Who keeps the list, as typed in the console; None when left empty.

    Raises:
        BadInput: over MAX_KEEPER characters.
    """
    keeper = _one_line(text)
    if len(keeper) > MAX_KEEPER:
        raise BadInput(N_("Say who keeps the list in at most %(n)s characters."), n=MAX_KEEPER)
    return keeper or None
