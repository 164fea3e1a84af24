"""Migrations build the schema on both databases, and the models match them."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from mindkeeper.storage import migrate


async def _table_names(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_upgrade_from_empty_to_head(empty_database_url: str) -> None:
    assert await migrate.current_revision(empty_database_url) is None
    await migrate.upgrade(empty_database_url)
    assert await migrate.current_revision(empty_database_url) == migrate.head_revision()
    tables = await _table_names(empty_database_url)
    assert {
        "workspaces",
        "peers",
        "sessions",
        "messages",
        "notes",
        "collections",
        "documents",
    } <= tables


async def test_upgrade_is_idempotent(empty_database_url: str) -> None:
    await migrate.upgrade(empty_database_url)
    await migrate.upgrade(empty_database_url)
    assert await migrate.current_revision(empty_database_url) == migrate.head_revision()


async def test_models_match_migrations(database_url: str) -> None:
    diff = await migrate.schema_diff(database_url)
    assert diff == [], f"models and migrations differ: {diff}"
