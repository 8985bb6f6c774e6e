"""Issue 13: the meeting's time zone, venue and chair, for the record read by people.

`meeting.time_zone` (nullable string: NULL = Europe/London), `meeting.venue` and
`meeting.chair` (nullable strings: NULL = not given). No row is rewritten, so the upgrade is
three ALTER TABLEs on SQLite and PostgreSQL alike.

Revision ID: 0009
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision: str | None = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("meeting", sa.Column("time_zone", sa.String(length=64), nullable=True))
    op.add_column("meeting", sa.Column("venue", sa.String(length=200), nullable=True))
    op.add_column("meeting", sa.Column("chair", sa.String(length=200), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported (docs/developing.md, Migrations)")
