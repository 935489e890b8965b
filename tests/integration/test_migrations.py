from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import loyalty.models  # noqa: F401
from loyalty.core.db import Base
from loyalty.core.migrate import current_revisions, head_revisions


def test_database_is_at_head(shared_db):
    assert current_revisions(shared_db.engine) == head_revisions()


def test_migrations_create_exactly_what_the_models_describe(shared_db):
    with shared_db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "models and migrations differ: run `loyalty db revision -m ...`"
