"""Money as integer pence, not floats.

The budget pot, the savings target, and each proposal's cost and saving.

Each FLOAT column is replaced by a BIGINT column of the same name holding the amount times 100.
Old values are converted exactly, through the shortest decimal that reads back as the stored
float (48000.0 -> 4800000, 60000.1 -> 6000010); a value with more than two decimals cannot be,
so the upgrade stops and names it rather than round money. Add, fill, drop, rename: SQLite
(3.35+) and PostgreSQL both do this in place, without rebuilding `meeting`, which every other
table references.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None

MONEY = (
    ("meeting", "budget_pot"),
    ("meeting", "savings_target"),
    ("proposal", "cost"),
    ("proposal", "saving"),
)


def pence(table: str, column: str, row_id: int, value: float | int) -> int:
    exact = Decimal(repr(float(value))) * 100
    if exact != exact.to_integral_value():
        raise RuntimeError(
            f"{table}.{column} of row {row_id} is {value!r}, which has more than two decimals: "
            "set it to a whole number of pence with the release that stored it, then upgrade"
        )
    return int(exact)


def upgrade() -> None:
    conn = op.get_bind()
    for table, column in MONEY:
        new = f"{column}_pence"
        op.add_column(table, sa.Column(new, sa.BigInteger(), nullable=True))
        t = sa.table(table, sa.column("id", sa.Integer), sa.column(column), sa.column(new))
        rows = conn.execute(sa.select(t.c.id, t.c[column]).where(t.c[column].is_not(None)))
        for row_id, value in rows.all():
            conn.execute(
                t.update()
                .where(t.c.id == row_id)
                .values({new: pence(table, column, row_id, value)})
            )
        op.drop_column(table, column)
        op.alter_column(table, new, new_column_name=column)


def downgrade() -> None:
    raise NotImplementedError("money is not turned back into floats")
