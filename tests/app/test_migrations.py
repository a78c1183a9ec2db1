"""The Alembic history matches the models and runs on both databases."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from kb.db import Base, database
from kb.migrate import current_revision, head_revision, upgrade
from tests.conftest import both_backends


@both_backends
def test_migrations_reach_head_and_match_the_models(app, backend: str) -> None:
    engine = database(app).engine
    upgrade(engine)  # already at head: must be a no-op
    assert current_revision(engine) == head_revision(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert diff == []
