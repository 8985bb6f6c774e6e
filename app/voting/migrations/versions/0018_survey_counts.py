"""Issue 15: a survey round's answers counted as its ballots arrive.

One new table, `survey_count` (app/voting/survey_counts.py): a survey round's respondents and
answers by stored cell, kept by the ballot writer in each ballot's transaction. Every survey
round that exists already is counted from its ballots here (`survey_counts.rebuild_all`, raw
SQL over `ballot` and `voter`), so the writer's differences start from the right rows. No
existing row is touched.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision: str | None = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "survey_count",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("area", sa.Text(), nullable=True),
        sa.Column("segments", sa.Text(), nullable=False),
        sa.Column("item", sa.Text(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["round.id"]),
        sa.PrimaryKeyConstraint("round_id", "key"),
    )
    from app.voting import survey_counts

    survey_counts.rebuild_all(op.get_bind())


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported (docs/developing.md, Migrations)")
