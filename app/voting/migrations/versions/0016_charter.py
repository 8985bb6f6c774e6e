"""Issue 17: a meeting's Community Charter, stored and versioned.

Two new tables: `meeting_charter` (one row per meeting with a charter: the adoption rule's
block share) and `charter_version` (each saved draft: its number, its canonical charter file
text, when it was saved and what made it). No existing row is touched.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision: str | None = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meeting_charter",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("block_percent", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"]),
        sa.PrimaryKeyConstraint("meeting_id"),
    )
    op.create_table(
        "charter_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("made_by", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "number"),
    )
    op.create_index(
        op.f("ix_charter_version_meeting_id"), "charter_version", ["meeting_id"], unique=False
    )


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported (docs/developing.md, Migrations)")
