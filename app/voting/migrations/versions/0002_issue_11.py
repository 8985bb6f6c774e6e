"""Issue 11: facilitator sign-in keys and sessions, and each meeting's record secret.

Every meeting already stored gets its own secret here (app/record/anonymity.py: it keys the public
pseudonyms and audit commitments); new meetings draw theirs when they are made.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "facilitatorkey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_facilitatorkey_key_hash"), "facilitatorkey", ["key_hash"], unique=True)
    op.create_index(
        op.f("ix_facilitatorkey_meeting_id"), "facilitatorkey", ["meeting_id"], unique=False
    )
    op.create_table(
        "facilitatorsession",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("user_agent", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["key_id"], ["facilitatorkey.id"]),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_facilitatorsession_key_id"), "facilitatorsession", ["key_id"], unique=False
    )
    op.create_index(
        op.f("ix_facilitatorsession_meeting_id"),
        "facilitatorsession",
        ["meeting_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_facilitatorsession_token_hash"),
        "facilitatorsession",
        ["token_hash"],
        unique=True,
    )
    op.add_column("meeting", sa.Column("record_secret", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    meetings = sa.table("meeting", sa.column("id", sa.Integer), sa.column("record_secret"))
    for (meeting_id,) in conn.execute(sa.select(meetings.c.id)).all():
        conn.execute(
            meetings.update()
            .where(meetings.c.id == meeting_id)
            .values(record_secret=secrets.token_hex(32))
        )


def downgrade() -> None:
    raise NotImplementedError("issue 11's tables and secrets are not removed")
