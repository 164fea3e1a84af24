"""Schema migrations: upgrade to head, read the current and head revisions, compare models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from mindkeeper.storage import location
from mindkeeper.storage.engine import async_engine
from mindkeeper.storage.tables import metadata

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    """Return an Alembic config pointing at the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str | None:
    """Return the newest revision shipped with this version."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _upgrade(connection: Connection, target: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, target)


def current_revision_sync(connection: Connection) -> str | None:
    """Return the revision of the database behind a sync connection."""
    return MigrationContext.configure(connection).get_current_revision()


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def _run(database_url: str, fn: Any) -> Any:
    engine = async_engine(database_url, poolclass=NullPool)
    try:
        async with location.begin(engine, database_url) as conn:
            if engine.dialect.name == "sqlite":
                await conn.execute(text("PRAGMA foreign_keys=OFF"))
            return await conn.run_sync(fn)
    finally:
        await engine.dispose()


async def upgrade(database_url: str, target: str = "head") -> None:
    """Bring the database schema to `target` (head by default)."""
    await _run(database_url, lambda c: _upgrade(c, target))


async def current_revision(database_url: str) -> str | None:
    """Return the revision the database is at, or None when unmigrated."""
    return await _run(database_url, current_revision_sync)  # type: ignore[no-any-return]


async def schema_diff(database_url: str) -> list[Any]:
    """Return the differences between the models and the migrated schema (empty when equal)."""
    return await _run(database_url, _diff)  # type: ignore[no-any-return]
