"""people.csv: a meeting's people list, for the facilitator's follow-up (issue 15).

Pure. Not part of the public record: it is downloaded on its own from the console's People page,
never put in the bundle, the report or any export of answers. Cells are spreadsheet-safe like
every CSV Covote writes (`csvfiles.neutralise`: a phone number "+44..." is written "'+44...",
which a spreadsheet shows as the text it is). Dates are ISO 8601 days.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from app.record.csvfiles import neutralise

PEOPLE_HEADER = ("name", "phone", "email", "help_with", "help_text", "given_on", "delete_after")


@dataclass(frozen=True, slots=True)
class PersonRow:
    """One person as the file lists them: `help_with` the titles of the proposals they picked."""

    name: str
    phone: str
    email: str
    help_with: tuple[str, ...]
    help_text: str
    given_on: date
    delete_after: date


def write_people_csv(rows: Iterable[PersonRow]) -> str:
    """The file's text: the header, then one line per person (`help_with` joined by "; ")."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(PEOPLE_HEADER)
    for row in rows:
        cells = (
            row.name,
            row.phone,
            row.email,
            "; ".join(row.help_with),
            row.help_text,
            row.given_on.isoformat(),
            row.delete_after.isoformat(),
        )
        writer.writerow([neutralise(cell) for cell in cells])
    return buf.getvalue()
