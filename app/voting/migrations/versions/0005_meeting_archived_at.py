"""Issue 13: a meeting can be archived (read-only, still exported).

`meeting.archived_at` (nullable): when the facilitator archived the meeting; NULL, what every
meeting stored before this revision keeps, means not archived. No row is rewritten, so the
upgrade is one ALTER TABLE on SQLite and PostgreSQL alike.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("meeting", sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported (docs/developing.md, Migrations)")
