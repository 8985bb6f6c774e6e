"""Database tables.

Public ids (`key`) of segments and proposals are the ones in the meeting file and ballot CSV;
integer primary keys stay inside the database. One person, one ballot per round is the
`(round_id, voter_id)` unique constraint on `ballot`: the database, not the code, enforces it.
Tallies are always computed from stored ballots; there are no counter columns to drift.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Meeting(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=6, unique=True, index=True)
    title: str = Field(max_length=200)
    ratio: int = 2
    group_min: int = 5
    results_hidden: bool = True
    # A budget meeting's pot, shared by the `fund` proposals with a cost (all three set, or
    # none), and a savings target for the `keep` proposals with a saving. Nullable columns, so
    # db.create_schema can add them to a database made before they existed.
    budget_pot: float | None = None
    budget_currency: str | None = Field(default=None, max_length=8)
    budget_completion: str | None = Field(default=None, max_length=16)  # "add1" | ... | "none"
    savings_target: float | None = None
    # Drawn when the meeting is created, before any vote, so nobody can choose it after.
    tie_break: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Bumped on every set-up change; cached results are keyed by it.
    revision: int = 0
    # Presses from unregistered keypads enrol them as anonymous voters (informal meetings only:
    # radio keypads can be spoofed).
    keypad_auto_enrol: bool = False
    current_round_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    # The meeting file's texts in other languages: {"cy": {"title": "..."}} (nullable, so
    # db.create_schema adds the column to older databases). Also on Segment and Proposal.
    translations: dict[str, dict[str, str]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )


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
    cost: float | None = None
    saving: float | None = None
    affected_groups: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    position: int = 0
    translations: dict[str, dict[str, str]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )


class Round(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("meeting_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    number: int
    proposal_keys: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = "open"  # "open" | "closed"
    revealed: bool = False
    # Keypads have no screen: in a keypad round the projector shows one proposal at a time and
    # a press counts for that one. None = keypads do not vote in this round.
    keypad_step: int | None = None
    opened_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None


class Voter(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    # What exports show: random, never a name, address or device detail.
    pseudonym: str = Field(max_length=16, unique=True)
    segments: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    joined_at: datetime = Field(default_factory=utcnow)


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
