"""Issue 12: each round is an activity's round and names its activity kind.

`round.kind` (VARCHAR(32), nullable) holds the kind's key (app/voting/kinds.py). Rounds stored
before this revision keep NULL, which the code reads as "room_vote", the one kind they could
be: no row is rewritten, so the upgrade is one ALTER TABLE on SQLite and PostgreSQL alike, and
every export of an earlier round stays byte for byte what it was. New rounds store their kind.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("round", sa.Column("kind", sa.String(length=32), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported (docs/developing.md, Migrations)")
