"""Issue 13: the Run page's round actions: a closing countdown, void, final.

`round.closes_at` (nullable): while a countdown runs, when the server closes the round; NULL,
what every stored round keeps, means no countdown. `round.voided_at` and `round.void_reason`
(nullable): when and why a round was voided (its status is then "voided"); `round.final`
(nullable): the round is (part of) the meeting's decision; NULL reads as not final. No row is
rewritten, so the upgrade is four ALTER TABLEs on SQLite and PostgreSQL alike.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("round", sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("round", sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("round", sa.Column("void_reason", sa.String(length=200), nullable=True))
    op.add_column("round", sa.Column("final", sa.Boolean(), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported (docs/developing.md, Migrations)")
