"""Alembic migrations; run them with ``neuvo init`` (see :mod:`kb.migrate`)."""
