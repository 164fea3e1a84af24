"""Alembic environment: runs on a connection handed over by `mindkeeper.storage.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from mindkeeper.storage.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `mindkeeper migrate`")
_run(connection)
