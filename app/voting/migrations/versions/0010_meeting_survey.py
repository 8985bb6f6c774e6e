"""Issue 15: a meeting's Community Survey.

`meeting_survey` (new): one row per meeting that has a survey, its definition as the canonical
survey file text and when it was last changed. No existing row is touched, so the upgrade is
one CREATE TABLE on SQLite and PostgreSQL alike.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision: str | None = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meeting_survey",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"]),
        sa.PrimaryKeyConstraint("meeting_id"),
    )


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported (docs/developing.md, Migrations)")
