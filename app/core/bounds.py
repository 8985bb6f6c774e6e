"""The bounds of every number that comes from outside, defined once.

WebSocket frames (protocol.py), JSON bodies (api.py) and forms (pages.py) check their integers
against these types where they are parsed, so no out-of-range value reaches the database: an id
beyond them makes the database driver raise (sqlite3: OverflowError past 64 bits; PostgreSQL:
"integer out of range" past 32 bits, the type of every id column) instead of refusing the one
request with a reason. Path parameters and imports use the same types.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

DB_INT_MAX = 2**31 - 1  # PostgreSQL `integer` (SERIAL): every id column; SQLite accepts more
SEQ_MAX = 2**53 - 1  # a snapshot seq (wall-clock ms, then +1): JavaScript's largest exact int

DbId = Annotated[int, Field(ge=1, le=DB_INT_MAX)]
"""A database id (round, voter, meeting…), as sent by a client."""

Seq = Annotated[int, Field(ge=0, le=SEQ_MAX)]
"""A snapshot sequence number, as echoed by a client (hello's `last_seq`)."""

_DIGITS = frozenset("0123456789")


def db_id(text: str) -> int | None:
    """A form field's id if it is one (ASCII digits within DbId), else None.

    `int()` alone takes '-9223372036854775809', ' 7', '1_000' and non-ASCII digits, unbounded.
    """
    if not text or len(text) > len(str(DB_INT_MAX)) or not set(text) <= _DIGITS:
        return None
    n = int(text)
    return n if 1 <= n <= DB_INT_MAX else None


# Ballot ids live in two spaces no client can cross. A client (phone, online browser) chooses
# its ids from letters, digits, '-' and '_' (any JSON, form or frame is checked against this).
# The ballots the server casts itself (a paper sheet, a keypad press) get ids with a ':', which
# no client id can hold (ballots.server_ballot_id), so no client can take one over or pre-empt it.
CLIENT_BALLOT_ID = r"^[A-Za-z0-9_-]{8,64}$"
SERVER_BALLOT_ID = r"^(paper|keypad):[A-Za-z0-9_:-]{1,57}$"

# The closing countdown's choices on the Run page, in seconds ("Close in 30 s"): long enough to
# finish a ballot on a phone, short enough that the room does not wait.
COUNTDOWN_SECONDS: tuple[int, ...] = (10, 30, 60)
# A voided round's reason, as typed in the console (`Round.void_reason` holds this many).
VOID_REASON_MAX = 200
