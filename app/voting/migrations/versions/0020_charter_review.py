"""Issue 17: the charter's review meetings.

`meeting_charter.review_of`: on a review meeting, the meeting whose charter it reviews (the
first one: a review of a review points where its source points), so the reviews of one charter
are found together. Not a foreign key: deleting the source keeps its reviews and their history.
One new table, `charter_report`: a party's own report on one commitment (English and Welsh),
entered on the review meeting before the room rates it. No existing row is touched.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision: str | None = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("meeting_charter", sa.Column("review_of", sa.Integer(), nullable=True))
    op.create_index(
        op.f("ix_meeting_charter_review_of"), "meeting_charter", ["review_of"], unique=False
    )
    op.create_table(
        "charter_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("commitment", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_cy", sa.Text(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "commitment"),
    )
    op.create_index(
        op.f("ix_charter_report_meeting_id"), "charter_report", ["meeting_id"], unique=False
    )


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported (docs/developing.md, Migrations)")
