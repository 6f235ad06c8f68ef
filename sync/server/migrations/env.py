"""Alembic environment of the server: runs on the connection `sync.server.db.migrate` gives."""

from alembic import context

from sync.server.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
context.run_migrations()
