"""Issue 15: the survey's "We did" texts, for the public "You said" page.

`meeting_survey.we_did` (nullable text: NULL = nothing written yet), the JSON of
app/record/we_did.py. No row is rewritten: one ALTER TABLE on SQLite and PostgreSQL alike.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision: str | None = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("meeting_survey", sa.Column("we_did", sa.Text(), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported (docs/developing.md, Migrations)")
