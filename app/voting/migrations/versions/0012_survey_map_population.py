"""Issue 15: a survey's area boundaries (GeoJSON, for the area map) and population shares (CSV,
for weighted figures), each kept as the text the facilitator uploaded.

`meeting_survey.boundaries` and `meeting_survey.population` (nullable text: NULL = none). No
row is rewritten, so the upgrade is two ALTER TABLEs on SQLite and PostgreSQL alike.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision: str | None = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("meeting_survey", sa.Column("boundaries", sa.Text(), nullable=True))
    op.add_column("meeting_survey", sa.Column("population", sa.Text(), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported (docs/developing.md, Migrations)")
