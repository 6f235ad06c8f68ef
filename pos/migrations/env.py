"""Alembic environment: runs on the connection that `pos.store.migrate` hands over."""

from alembic import context

from pos.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
context.run_migrations()
