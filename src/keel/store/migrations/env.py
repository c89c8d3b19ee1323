"""Alembic environment: Keel always passes an open connection (see keel.store.migrate)."""

from __future__ import annotations

from alembic import context

from keel.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable by running alembic by hand
    raise RuntimeError("Run migrations with `keel db upgrade`, not the alembic command.")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
