"""Issue 17: amendments to the charter proposed from phones and the console, moderated.

One new table, `charter_amendment`: each proposed amendment (its clause, text and Welsh, the
channel, the proposing voter for rate limits only, the moderator's decision, reason and the
charter version that took it). `meeting_charter` gains `amendments_open` (false for every
existing row: phones propose only once the facilitator opens amendments).

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision: str | None = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "charter_amendment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("clause", sa.String(length=32), nullable=False),
        sa.Column("text", sa.String(length=600), nullable=False),
        sa.Column("text_cy", sa.String(length=600), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("merged_into", sa.String(length=32), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"]),
        sa.ForeignKeyConstraint(["author_id"], ["voter.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "key"),
    )
    op.create_index(
        op.f("ix_charter_amendment_meeting_id"), "charter_amendment", ["meeting_id"], unique=False
    )
    op.create_index(
        op.f("ix_charter_amendment_author_id"), "charter_amendment", ["author_id"], unique=False
    )
    op.add_column(
        "meeting_charter",
        sa.Column("amendments_open", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported (docs/developing.md, Migrations)")
