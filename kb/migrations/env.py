"""Alembic environment: runs on the connection that :mod:`kb.migrate` hands over."""
from __future__ import annotations

from alembic import context

from kb.db import Base
import kb.models  # noqa: F401  (registers every table on Base.metadata)

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `neuvo init`")

context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
with context.begin_transaction():
    context.run_migrations()
