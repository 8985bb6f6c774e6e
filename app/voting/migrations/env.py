"""Alembic's environment: runs on the connection `app.voting.db.upgrade` hands over (no ini file, no
URL of its own), inside the transaction that connection is already in."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from app.voting import models  # noqa: F401  (registers the tables)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
