"""Issue 16: the Co-Production Lab in the room: challenges, ideas and helpers' pledges.

Three new tables: `lab_challenge` (a meeting's challenges, English and Welsh titles),
`lab_idea` (an idea: its challenge, text, description, kind, moderation status, the idea it was
merged into, the channel it came by, its author voter, never exported; the segments it affects;
whether it is shortlisted, and why when its affected segments rejected it) and `lab_pledge` ("I
would help": one row per idea and voter). No row is rewritten.

Written while another revision numbered 0013 was being written on another branch: this one
revises 0012 there; at merge it revises 0013 (one line below).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision: str | None = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lab_challenge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("title_cy", sa.String(length=300), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "key"),
    )
    op.create_index(
        op.f("ix_lab_challenge_meeting_id"), "lab_challenge", ["meeting_id"], unique=False
    )
    op.create_table(
        "lab_idea",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(length=280), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("merged_into", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("affected", sa.JSON(), nullable=False),
        sa.Column("shortlisted", sa.Boolean(), nullable=False),
        sa.Column("shortlist_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["voter.id"]),
        sa.ForeignKeyConstraint(["challenge_id"], ["lab_challenge.id"]),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "key"),
    )
    for column in ("author_id", "challenge_id", "meeting_id", "status"):
        op.create_index(op.f(f"ix_lab_idea_{column}"), "lab_idea", [column], unique=False)
    op.create_table(
        "lab_pledge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("voter_id", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["idea_id"], ["lab_idea.id"]),
        sa.ForeignKeyConstraint(["voter_id"], ["voter.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idea_id", "voter_id"),
    )
    op.create_index(op.f("ix_lab_pledge_idea_id"), "lab_pledge", ["idea_id"], unique=False)
    op.create_index(op.f("ix_lab_pledge_voter_id"), "lab_pledge", ["voter_id"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported (docs/developing.md, Migrations)")
