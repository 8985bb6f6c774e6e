"""Issue 15: the Community Survey's people list, personal data kept apart from the answers.

A new table `contact` (a meeting's people who offered to help: name, phone and/or e-mail, what
they would help with, the day given, the last day kept), with no link to voters or ballots; and
the meeting's privacy-notice settings `meeting.people_keeper` and
`meeting.people_retention_days` (nullable: NULL = the defaults). No row is rewritten.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision: str | None = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("meeting", sa.Column("people_keeper", sa.String(length=200), nullable=True))
    op.add_column("meeting", sa.Column("people_retention_days", sa.Integer(), nullable=True))
    op.create_table(
        "contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("help_text", sa.String(length=500), nullable=True),
        sa.Column("help_with", sa.JSON(), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("delete_after", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_contact_meeting_id"), "contact", ["meeting_id"], unique=False)
    op.create_index(op.f("ix_contact_delete_after"), "contact", ["delete_after"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported (docs/developing.md, Migrations)")
