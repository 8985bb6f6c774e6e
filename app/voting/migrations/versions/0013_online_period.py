"""Issue 15: a survey round online for a set period (opens and closes at given times).

`round.opens_at` (nullable): while a round waits for its scheduled opening, when it opens
(ballots before it are refused; the server's CountdownCloser performs the opening and clears
it); NULL, what every stored round keeps, means it is not waiting. `round.online` (nullable
boolean): the round runs online for a set period, `opened_at` to `closes_at`, shown as dates
rather than a closing countdown; NULL, as stored rounds keep it, reads as false. No row is
rewritten, so the upgrade is two ALTER TABLEs on SQLite and PostgreSQL alike.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision: str | None = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("round", sa.Column("opens_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("round", sa.Column("online", sa.Boolean(), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported (docs/developing.md, Migrations)")
