"""Issue 13: keypad receivers opened in the console are remembered across restarts.

`keypad_receiver` (new): one row per receiver URL the facilitator added, with the meeting it
serves (no foreign key: a receiver belongs to the laptop and outlives a deleted meeting). No
existing row is touched, so the upgrade is one CREATE TABLE on SQLite and PostgreSQL alike.

Revision ID: 0007
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "keypad_receiver",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("url"),
    )


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported (docs/developing.md, Migrations)")
