"""Database tables.

Public ids (`key`) of segments and proposals are the ones in the meeting file and ballot CSV;
integer primary keys stay inside the database. One person, one ballot per round is the
`(round_id, voter_id)` unique constraint on `ballot`: the database, not the code, enforces it.
Tallies are computed from stored ballots. The one exception is `survey_count`: a survey round's
answers counted by the ballot writer in the ballot's own transaction, so the counts cannot drift
from the ballots, and rebuilt from them on demand (app/voting/survey_counts.py).

Schema changes are Alembic revisions (app/voting/migrations, run by db.upgrade); a test checks that
the
revisions build exactly these tables. Columns added after the first release are nullable; the
code that reads them treats NULL as the documented default. Money is stored as integer pence
(`Money`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, Column, Dialect, Text, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.shapes import Turnout
from app.core.vocab import (
    ROOM_VOTE,
    Admission,
    ChannelPolicy,
    RoundStatus,
    TicketStatus,
    admission,
    channel_policy,
)
from app.record.anonymity import new_secret


def utcnow() -> datetime:
    return datetime.now(UTC)


class Money(TypeDecorator[float]):
    """An amount of money, stored exactly as integer pence (BIGINT), never as a float.

    Python code sees the amount as it did before (a float of pounds, e.g. 48000.0 or 60000.1):
    the meeting file accepts at most two decimals (records.Amount), and such a number, up to
    records.MAX_AMOUNT, survives pounds -> pence -> pounds exactly."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: float | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, int):
            return value * 100
        exact = Decimal(repr(float(value))) * 100
        if exact != exact.to_integral_value():
            raise ValueError(f"{value!r} is not a whole number of pence")
        return int(exact)

    def process_result_value(self, value: int | None, dialect: Dialect) -> float | None:
        return None if value is None else value / 100


class Meeting(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=6, unique=True, index=True)
    title: str = Field(max_length=200)
    ratio: int = 2
    group_min: int = 5
    results_hidden: bool = True
    # A budget meeting's pot, shared by the `fund` proposals with a cost (all three set, or
    # none), and a savings target for the `keep` proposals with a saving. Pence in the database.
    budget_pot: float | None = Field(default=None, sa_column=Column(Money, nullable=True))
    budget_currency: str | None = Field(default=None, max_length=8)
    budget_completion: str | None = Field(default=None, max_length=16)  # "add1" | ... | "none"
    savings_target: float | None = Field(default=None, sa_column=Column(Money, nullable=True))
    # Drawn when the meeting is created, before any vote, so nobody can choose it after.
    tie_break: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Bumped on every set-up change (meetings._touch). Nothing reads it: no cache is keyed by it.
    revision: int = 0
    # Presses from unregistered keypads enrol them as anonymous voters (informal meetings only:
    # radio keypads can be spoofed).
    keypad_auto_enrol: bool = False
    current_round_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    # The meeting file's texts in other languages: {"cy": {"title": "..."}}. Also on Segment and
    # Proposal.
    translations: dict[str, dict[str, str]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    # Who may vote: "open" (anyone with the join code; one voter per browser) or "tickets"
    # (one voter per one-time ticket handed out at the door). NULL = "open".
    admission: str | None = Field(default=Admission.OPEN.value, max_length=8)
    # What a second channel may do for the same voter: "one_channel" (a keypad-bound voter votes
    # only by keypad; a round's ballot is replaced only on the channel it was cast on) or
    # "latest" (the latest ballot on any channel counts). NULL = "one_channel".
    channel_policy: str | None = Field(default=ChannelPolicy.ONE_CHANNEL.value, max_length=16)
    # Show per-channel turnout with the results on the projector. NULL = no.
    show_channels: bool | None = False
    # Keys the per-round public pseudonyms and the audit commitments (app/record/anonymity.py).
    # Never
    # shown, exported or sent. Migration 0002 drew one for every meeting stored before it.
    record_secret: str | None = Field(default_factory=new_secret, max_length=64)
    # When the facilitator archived the meeting: read-only from then on (no rounds, no set-up
    # changes, no joins, no ballots), still exported (app/voting/lifecycle.py). NULL = not archived.
    archived_at: datetime | None = None
    # How many people the facilitator expects (set-up): only for the help beside R and m
    # (app/rules/guidance.py); the rule never reads it. NULL = not given.
    expected_attendance: int | None = None
    # The meeting's time zone (IANA name) for every time a person reads: the report, the
    # console. NULL = Europe/London (localtime.DEFAULT_ZONE). The record stays UTC.
    time_zone: str | None = Field(default=None, max_length=64)
    # Where the meeting is held and who chairs it, for the report's heading. NULL = not given.
    venue: str | None = Field(default=None, max_length=200)
    chair: str | None = Field(default=None, max_length=200)
    # The people list's privacy notice (app/voting/people.py): who keeps the list and deletes a
    # person's details on request ("Riverside Council, engage@riverside.gov.uk"), and how many
    # days a person's details are kept. NULL = "the facilitator of this meeting" and
    # Settings.people_retention_days.
    people_keeper: str | None = Field(default=None, max_length=200)
    people_retention_days: int | None = None

    @property
    def uses_tickets(self) -> bool:
        """Admission is by one-time ticket (NULL admission = open)."""
        return admission(self.admission) is Admission.TICKETS

    @property
    def policy(self) -> ChannelPolicy:
        """The channel policy, NULL read as one_channel."""
        return channel_policy(self.channel_policy)


class Segment(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("meeting_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    key: str = Field(max_length=64)
    label: str = Field(max_length=200)
    protects: bool = True
    position: int = 0
    translations: dict[str, dict[str, str]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )


class Proposal(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("meeting_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    key: str = Field(max_length=64)
    title: str = Field(max_length=200)
    description: str = ""
    kind: str = "keep"  # "keep" | "fund"
    cost: float | None = Field(default=None, sa_column=Column(Money, nullable=True))
    saving: float | None = Field(default=None, sa_column=Column(Money, nullable=True))
    affected_groups: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    position: int = 0
    translations: dict[str, dict[str, str]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )


class Round(SQLModel, table=True):
    """An activity's round: one run of an activity, with its own ballots and results. (The
    table keeps the name it had when the room vote was the only kind of activity.)"""

    __table_args__ = (UniqueConstraint("meeting_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    number: int
    # The activity's items (for the room vote, its proposals), in order: the marks' keys.
    proposal_keys: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The activity kind (app/voting/kinds.py). NULL = "room_vote" (rounds from before kinds).
    kind: str | None = Field(default=ROOM_VOTE, max_length=32)
    status: str = RoundStatus.OPEN.value  # vocab.RoundStatus
    revealed: bool = False
    # Keypads have no screen: in a keypad round the projector shows one proposal at a time and
    # a press counts for that one. None = keypads do not vote in this round.
    keypad_step: int | None = None
    opened_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None
    # Taken when the round closes (turnout.counts): registered, present, voted, by channel.
    turnout: Turnout | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # While a closing countdown runs: when the server closes the round (ballots arriving at or
    # after it are refused). None = no countdown.
    closes_at: datetime | None = None
    # A voided round (status "voided"): when and why. Its ballots stay; it did not count.
    voided_at: datetime | None = None
    void_reason: str | None = Field(default=None, max_length=200)
    # Part of the meeting's decision (the report's "The decision"). NULL = not final.
    final: bool | None = False
    # Online for a set period (issue 15, app/voting/online.py): `opened_at` to `closes_at`,
    # shown as dates, not a closing countdown. NULL = false (rounds from before it).
    online: bool | None = False
    # While the round waits for its scheduled opening: when it opens (ballots before it are
    # refused; the CountdownCloser opens it and clears this). None = not waiting.
    opens_at: datetime | None = None


class Voter(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    # What exports show: random, never a name, address or device detail.
    pseudonym: str = Field(max_length=16, unique=True)
    segments: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    joined_at: datetime = Field(default_factory=utcnow)
    # How this voter votes: "phone" (a device in the room), "remote" (a device elsewhere),
    # "keypad" or "paper". A device's ballots take this channel. NULL = "phone".
    channel: str | None = Field(default="phone", max_length=16)
    # Ticket voters: SHA-256 of the one device's key that may vote as this voter (a second
    # device needs the facilitator's approval). NULL = any browser holding the voter cookie.
    device_key: str | None = Field(default=None, max_length=64)
    # Set when the voter's ticket is revoked: new ballots are refused. NULL = not disabled.
    disabled: bool | None = False


class Ballot(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("round_id", "voter_id"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    voter_id: int = Field(foreign_key="voter.id", index=True)
    # Client-generated id of the latest version; a resend of it after a reconnect is a no-op.
    ballot_uid: str = Field(max_length=64)
    channel: str = Field(default="phone", max_length=16)
    marks: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    cast_at: datetime = Field(default_factory=utcnow)


class SurveyCount(SQLModel, table=True):
    """A survey round's final ballots counted (issue 15, app/voting/survey_counts.py): how
    many gave `answer` on `item` from one stored cell (their area answer, their segments as
    canonical JSON); `item` and `answer` NULL count the cell's respondents. `key` is a hash of
    the four (`survey_rows.row_key`), so the primary key stays short whatever an answer's
    length. Kept by the ballot writer in each ballot's transaction; `n` may be 0 (read as
    absent), never negative."""

    __tablename__ = "survey_count"
    round_id: int = Field(foreign_key="round.id", primary_key=True)
    key: str = Field(max_length=32, primary_key=True)
    area: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    segments: str = Field(sa_column=Column(Text, nullable=False))
    item: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    n: int


class Keypad(SQLModel, table=True):
    """A handheld keypad registered to a meeting: it votes as its own voter."""

    __table_args__ = (UniqueConstraint("meeting_id", "keypad"),)
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    # Namespaced radio id as the receiver reports it, e.g. "kpl:0A1B2C", "iclicker:82E9701B".
    keypad: str = Field(max_length=64)
    # The number printed on the keypad's sticker, what the facilitator reads out.
    label: str = Field(max_length=64)
    voter_id: int = Field(foreign_key="voter.id", index=True)
    revoked: bool = False
    registered_at: datetime = Field(default_factory=utcnow)


class KeypadReceiver(SQLModel, table=True):
    """A keypad receiver the facilitator opened in the console, re-opened when Covote starts.

    Receivers belong to the laptop they are plugged into, not to a meeting, so a row outlives
    the meeting it last served: `meeting_id` names the meeting whose keypads it counted ("use
    keypads"), with no foreign key, so deleting that meeting leaves the receiver remembered and
    the desk, finding the meeting gone, serves none.
    """

    __tablename__ = "keypad_receiver"
    id: int | None = Field(default=None, primary_key=True)
    # The URL as typed (`serial:///dev/ttyACM0`, `sim://?keypads=30`...): checked again on start.
    url: str = Field(max_length=1000, unique=True)
    meeting_id: int | None = None
    added_at: datetime = Field(default_factory=utcnow)


class Ticket(SQLModel, table=True):
    """A one-time voter ticket (admission "tickets"): one person, whichever channel they use.

    The card shows `number` (what the facilitator and stewards talk about) and `code` (what
    the voter types or the QR code carries). The ticket-to-voter link lives only here: exports
    and the audit log name voters by pseudonym and tickets by number, never both together.
    """

    __table_args__ = (UniqueConstraint("meeting_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    number: int
    code: str = Field(max_length=16, unique=True, index=True)
    status: str = Field(default=TicketStatus.ISSUED.value, max_length=8)  # vocab.TicketStatus
    voter_id: int | None = Field(default=None, foreign_key="voter.id", index=True)
    # The ticket this one replaces (reissue after a lost card or phone): same voter.
    replaces: int | None = None
    # A second device asking to take the ticket over: SHA-256 of its key, until approved.
    pending_device: str | None = Field(default=None, max_length=64)
    pending_at: datetime | None = None
    issued_at: datetime = Field(default_factory=utcnow)
    used_at: datetime | None = None


class PaperEntry(SQLModel, table=True):
    """One keying of one paper ballot sheet. Two independent keyings (`keying` 1 and 2) of a
    sheet must match before it counts; the counted sheet's voter is `voter_id`."""

    __table_args__ = (UniqueConstraint("round_id", "sheet", "keying"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    sheet: int
    keying: int  # 1 or 2
    # The ticket number written on the sheet (admission "tickets"), else None.
    ticket: int | None = None
    segments: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    marks: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    entered_at: datetime = Field(default_factory=utcnow)
    voter_id: int | None = Field(default=None, foreign_key="voter.id")
    # Set on both keyings when the sheet's ballot is stored and listed in `paper.counted`.
    counted_at: datetime | None = None


class AuditEvent(SQLModel, table=True):
    """One link of a meeting's append-only, hash-chained audit log (format: app/record/chain.py;
    writer: app/voting/audit.py)."""

    __table_args__ = (UniqueConstraint("meeting_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    # No index of its own: the (meeting_id, seq) unique index serves lookups by meeting.
    meeting_id: int = Field(foreign_key="meeting.id")
    seq: int
    at: str | None = Field(default=None, max_length=40)
    kind: str = Field(max_length=40)
    # The data's canonical JSON text (app/record/chain.py: canonical), stored as it was hashed.
    data: str = Field(sa_column=Column(Text, nullable=False))
    prev: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """The newest link of a meeting's chain; appending locks this row, so links never fork."""

    meeting_id: int = Field(foreign_key="meeting.id", primary_key=True)
    seq: int = 0
    hash: str = Field(max_length=64)


class FacilitatorKey(SQLModel, table=True):
    """A helper's sign-in link: one meeting, one role (app/web/facilitators.py).

    Only the SHA-256 of the key is kept; the link is shown once, when it is made."""

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    role: str = Field(max_length=16)  # "meeting" (all of one meeting) | "paper" (paper keying)
    label: str = Field(max_length=80)
    key_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class FacilitatorSession(SQLModel, table=True):
    """One signed-in console browser. The cookie holds a random token; this row holds its
    SHA-256, so a copied database cannot be turned into a cookie, and deleting the row signs
    the browser out at once, in every server process."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    # None = every meeting and the global pages (signed in with the server's facilitator key).
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id", index=True)
    role: str = Field(max_length=16)  # "all" | "meeting" | "paper"
    key_id: int | None = Field(default=None, foreign_key="facilitatorkey.id", index=True)
    # "Firefox on Windows": only for the console's list of signed-in browsers.
    user_agent: str = Field(default="", max_length=80)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class MeetingSurvey(SQLModel, table=True):
    """A meeting's Community Survey (issue 15): at most one per meeting. Its definition is kept
    as the canonical survey file text (app/record/survey_file.py: `dump_survey`), the same
    bytes the console exports and the public record's codebook; app/voting/surveys.py reads
    and writes it."""

    __tablename__ = "meeting_survey"
    meeting_id: int = Field(foreign_key="meeting.id", primary_key=True)
    definition: str = Field(sa_column=Column(Text, nullable=False))
    changed_at: datetime = Field(default_factory=utcnow)
    # The areas' boundaries as uploaded GeoJSON (the area map) and the population's shares as
    # uploaded CSV (weighted figures); each checked against the survey when saved. NULL: none.
    boundaries: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    population: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # "We did" (the public "You said" page): what the council did about the results, overall
    # and per service, in each language, as app/record/we_did.py's JSON. NULL: nothing yet.
    we_did: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Contact(SQLModel, table=True):
    """One person on a meeting's people list (issue 15): they offered to help and left a name
    and a phone number or e-mail address (app/voting/people.py).

    Personal data, kept apart on purpose: there is no link to a voter, a ballot or an answer
    (no voter id, no round, no time of day: only the day it was given), so the answers stay
    pseudonymous. Only the facilitator sees these rows; no export of the record, report, log
    or audit link reads this table. Deleted on request, with the meeting, or once
    `delete_after` has passed."""

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    name: str = Field(max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    # What they would like to help with: their own words, and the proposals they ticked (keys).
    help_text: str | None = Field(default=None, max_length=500)
    help_with: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The day it was given (the meeting's zone): a time could be matched to a ballot's.
    given_on: date
    # The last day it is kept; the first purge after that day deletes it.
    delete_after: date = Field(index=True)


class LabChallenge(SQLModel, table=True):
    """A challenge the Co-Production Lab's ideas answer (issue 16; app/voting/lab_challenges.py),
    in the facilitator's words (and in Welsh when given)."""

    __tablename__ = "lab_challenge"
    __table_args__ = (UniqueConstraint("meeting_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    key: str = Field(max_length=64)
    title: str = Field(max_length=300)  # rules.lab.CHALLENGE_MAX
    title_cy: str | None = Field(default=None, max_length=300)
    position: int = 0


class LabIdea(SQLModel, table=True):
    """One idea in the Lab: typed on a phone or keyed from a flip chart in the console.

    `author_id` is kept only to limit and show a voter their own ideas: no export, record or
    screen reads it (the record names ideas, never who wrote them). `merged_into` is the id of
    the idea this one was merged into (status "merged"); no foreign key, so a meeting's ideas
    delete in one statement whatever the order of merges."""

    __tablename__ = "lab_idea"
    __table_args__ = (UniqueConstraint("meeting_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    challenge_id: int = Field(foreign_key="lab_challenge.id", index=True)
    key: str = Field(max_length=64)
    text: str = Field(max_length=280)  # rules.lab.IDEA_TEXT_MAX
    description: str = Field(default="", max_length=1000)  # rules.lab.IDEA_DESCRIPTION_MAX
    kind: str = Field(max_length=16)  # rules.lab.IdeaKind
    status: str = Field(default="pending", max_length=16, index=True)  # rules.lab.IdeaStatus
    merged_into: int | None = None
    channel: str = Field(default="phone", max_length=16)  # "phone" | "console"
    author_id: int | None = Field(default=None, foreign_key="voter.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    # The meeting's segments the idea affects (the facilitator's call): those that may reject
    # it by the meeting's rule (rules.lab_tally.tabulate `rejected_by`).
    affected: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Shortlisted for a budget meeting; an idea its affected segments rejected needs a reason
    # (written to the audit chain as `lab.shortlisted`). NULL reason = none was needed.
    shortlisted: bool = False
    shortlist_reason: str | None = Field(default=None, max_length=500)


class LabPledge(SQLModel, table=True):
    """A helper's pledge ("I would help make this happen"): one voter, one idea. Counts are
    shown and travel with a proposal; names never (a pledge names a pseudonymous voter only)."""

    __tablename__ = "lab_pledge"
    __table_args__ = (UniqueConstraint("idea_id", "voter_id"),)
    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="lab_idea.id", index=True)
    voter_id: int = Field(foreign_key="voter.id", index=True)
    hours: int | None = None


class MeetingCharter(SQLModel, table=True):
    """A meeting's Community Charter settings (issue 17; app/voting/charters.py): at most one
    row per meeting, made with its first draft. `block_percent` is the adoption rule's P
    (app/rules/charter.py): the share of the room whose blocks send a clause back."""

    __tablename__ = "meeting_charter"
    meeting_id: int = Field(foreign_key="meeting.id", primary_key=True)
    block_percent: int = 10  # charter.DEFAULT_BLOCK_PERCENT
    changed_at: datetime = Field(default_factory=utcnow)
    # Phones may propose amendments to the clauses (app/voting/charter_amendments.py).
    amendments_open: bool = False
    # A review meeting's: the meeting whose charter it reviews (the first source: every review
    # of one charter names the same), app/voting/charter_reviews.py. No foreign key: deleting
    # the source keeps its reviews' history.
    review_of: int | None = Field(default=None, index=True)


class CharterVersion(SQLModel, table=True):
    """One saved draft of a meeting's charter, numbered from 1; the highest is the current.
    `definition` is the canonical charter file text (app/record/charter_file.py
    `dump_charter`), whose own `version` is `number`: the bytes the console exports."""

    __tablename__ = "charter_version"
    __table_args__ = (UniqueConstraint("meeting_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    number: int
    definition: str = Field(sa_column=Column(Text, nullable=False))
    saved_at: datetime = Field(default_factory=utcnow)
    # What made it, for the versions list: "imported", "budget", "lab" (charters.SAVED_BY).
    made_by: str = Field(default="imported", max_length=16)


class CharterAmendment(SQLModel, table=True):
    """An amendment proposed to a clause of the meeting's charter, from a phone or typed in the
    console (app/voting/charter_amendments.py), and the moderator's decision on it.

    `author_id` is kept only to limit a phone's proposals and to show the phone its own: no
    export, record, audit link or screen reads it. `text` is as proposed until accepted, then
    as accepted (the moderator may correct it); an accepted amendment's wording is in the
    charter version `version`. `reason` is the moderator's, for a declined one; `merged_into`
    the key of the proposal a merged one duplicates."""

    __tablename__ = "charter_amendment"
    __table_args__ = (UniqueConstraint("meeting_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    key: str = Field(max_length=32)  # charter_doc.KEY: the amendment's item in a round
    clause: str = Field(max_length=32)
    text: str = Field(max_length=600)  # charter_amend.MAX_TEXT
    text_cy: str = Field(default="", max_length=600)
    channel: str = Field(default="phone", max_length=16)  # "phone" | "console"
    author_id: int | None = Field(default=None, foreign_key="voter.id", index=True)
    status: str = Field(default="proposed", max_length=16)  # charter_amend.ProposalStatus
    reason: str | None = Field(default=None, max_length=300)  # charter_amend.MAX_REASON
    merged_into: str | None = Field(default=None, max_length=32)
    version: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None


class CharterReport(SQLModel, table=True):
    """A party's own report on one of its commitments, on a review meeting (issue 17,
    app/voting/charter_reviews.py): shown to the room before it rates the commitment."""

    __tablename__ = "charter_report"
    __table_args__ = (UniqueConstraint("meeting_id", "commitment"),)
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    commitment: str = Field(max_length=32)
    text: str = Field(sa_column=Column(Text, nullable=False))
    text_cy: str = Field(sa_column=Column(Text, nullable=False))
    saved_at: datetime = Field(default_factory=utcnow)


class CharterSignature(SQLModel, table=True):
    """A party's signature on one version of the meeting's charter (issue 17,
    app/voting/charter_signing.py): the representative's name, role and organisation as typed
    (public: they sign a public document) and the drawn signature, if any
    (`charter_sign.drawing_text`). A withdrawn signature keeps its row with `withdrawn_at` set,
    so the charter's signing history stays whole."""

    __tablename__ = "charter_signature"
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    party: str = Field(max_length=32)
    version: int
    name: str = Field(max_length=120)
    role: str = Field(max_length=120)
    organisation: str = Field(max_length=200)
    drawing: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    signed_at: datetime = Field(default_factory=utcnow)
    withdrawn_at: datetime | None = None
