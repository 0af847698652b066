"""Alembic environment: runs on a connection handed over by :mod:`hub.store.migrate`."""

from __future__ import annotations

from alembic import context

from hub.store.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached when someone runs the alembic CLI by hand
    raise RuntimeError("run migrations with `roamhub db upgrade`, which hands alembic a connection")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
