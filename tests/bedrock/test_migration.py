"""Revision 0002 (agent sessions) matches the table models and downgrades cleanly."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from mindkeeper.storage import migrate

AGENT_TABLES = {"agent_sessions", "invocations", "invocation_steps", "agent_session_tags"}


async def _on_connection(url: str, fn: Any) -> Any:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(fn)
    finally:
        await engine.dispose()


def _table_names(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def _downgrade_to_0001(conn: Connection) -> None:
    cfg = migrate.alembic_config()
    cfg.attributes["connection"] = conn
    command.downgrade(cfg, "0001")


async def test_head_matches_models(database_url: str) -> None:
    assert await migrate.current_revision(database_url) == migrate.head_revision()
    assert await migrate.schema_diff(database_url) == []
    assert await _on_connection(database_url, _table_names) >= AGENT_TABLES


async def test_downgrade_to_0001_and_back(database_url: str) -> None:
    await _on_connection(database_url, _downgrade_to_0001)
    assert await migrate.current_revision(database_url) == "0001"
    assert not AGENT_TABLES & await _on_connection(database_url, _table_names)
    await migrate.upgrade(database_url)
    assert await migrate.schema_diff(database_url) == []
    assert await _on_connection(database_url, _table_names) >= AGENT_TABLES
