"""The status words Covote stores, sends and compares, one StrEnum per vocabulary.

Pure. A StrEnum member *is* its string (`Admission.TICKETS == "tickets"`, and `json.dumps` and
the database see "tickets"), so stored values, exports and the wire stay byte-identical; what the
enums add is one place to read the words and mypy catching a typo. Columns stay plain strings
(their NULL means the documented default); read them through the accessors on the models
(`Meeting.uses_tickets`, `Meeting.policy`), which read NULL as the default.
"""

from __future__ import annotations

from enum import StrEnum


class Admission(StrEnum):
    """Who may vote in a meeting (`Meeting.admission`; NULL = OPEN)."""

    OPEN = "open"  # anyone with the join code; one voter per browser
    TICKETS = "tickets"  # one voter per one-time printed ticket


class ChannelPolicy(StrEnum):
    """What a second channel may do for the same voter (`Meeting.channel_policy`; NULL = ONE)."""

    ONE_CHANNEL = "one_channel"  # a keypad-bound voter votes only by keypad
    LATEST = "latest"  # the latest ballot on any channel counts


class Channel(StrEnum):
    """How a ballot reached Covote, in display order (turnout, the report, the exports)."""

    PHONE = "phone"  # a phone or browser in the room
    REMOTE = "remote"  # a browser outside the room
    KEYPAD = "keypad"
    PAPER = "paper"


# The channels a voter's own browser votes on (a voter's device channel; NULL = PHONE).
DEVICE_CHANNELS: tuple[Channel, ...] = (Channel.PHONE, Channel.REMOTE)


class RoundStatus(StrEnum):
    """A voting round's state (`Round.status`)."""

    OPEN = "open"
    CLOSED = "closed"
    VOIDED = "voided"  # closed and set aside: its ballots stay in the record, it did not count


# The activity kind of a round stored before kinds existed (`Round.kind` NULL), and of every
# round until another kind is chosen: app/voting/room_vote.py, registered in app/voting/kinds.py.
ROOM_VOTE = "room_vote"
# The Community Survey (issue 15): app/voting/survey_kind.py.
SURVEY = "survey"
# The Co-Production Lab's rating of ideas (issue 16; app/voting/lab_kind.py).
LAB = "lab"
# The Community Charter's consent round, clause by clause (issue 17; app/voting/charter_kind.py).
CHARTER = "charter"
# The charter's review: the room rates each commitment kept / partly / not kept (issue 17;
# app/voting/review_kind.py).
CHARTER_REVIEW = "charter_review"


class ScreenMode(StrEnum):
    """What the big screen shows, as the presenter view sets it (app/live/screen.py)."""

    AUTO = "auto"  # the screen's own course: results pages turn by themselves
    PAGE = "page"  # one results page, chosen by the presenter
    PROPOSAL = "proposal"  # one proposal's result card, large
    RANKING = "ranking"  # the ranked list of every proposal
    JOIN = "join"  # the QR code and join code, large, whatever the round
    BLANK = "blank"  # a black screen


class Quadrant(StrEnum):
    """A service's place in the survey's priority matrix: value against satisfaction
    (Importance-Performance Analysis's four quadrants, in the council's words)."""

    FIX_FIRST = "fix_first"  # high value, low satisfaction: where to act first
    KEEP_UP = "keep_up"  # high value, high satisfaction: keep up the good work
    SAVINGS = "savings_may_be_accepted"  # low value, high satisfaction: savings may be accepted
    LOW_PRIORITY = "low_priority"  # low value, low satisfaction: neither a priority nor a cut


class TicketStatus(StrEnum):
    """A voter ticket's state (`Ticket.status`); the console shows ISSUED as "unused"."""

    ISSUED = "issued"
    USED = "used"
    REVOKED = "revoked"


def admission(value: str | None) -> Admission:
    """A stored admission, NULL or an unknown word read as OPEN (the documented default)."""
    return Admission.TICKETS if value == Admission.TICKETS else Admission.OPEN


def channel_policy(value: str | None) -> ChannelPolicy:
    """A stored channel policy, NULL or an unknown word read as ONE_CHANNEL."""
    return ChannelPolicy.LATEST if value == ChannelPolicy.LATEST else ChannelPolicy.ONE_CHANNEL
