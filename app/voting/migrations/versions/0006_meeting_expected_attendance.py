"""Issue 13: the attendance a facilitator expects, for the help beside R and m on set-up.

`meeting.expected_attendance` (nullable integer): NULL, what every meeting stored before this
revision keeps, means not given. No row is rewritten, so the upgrade is one ALTER TABLE on
SQLite and PostgreSQL alike.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("meeting", sa.Column("expected_attendance", sa.Integer(), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported (docs/developing.md, Migrations)")
