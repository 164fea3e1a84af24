"""Fixtures of the storage suite: an empty database on each backend."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from mindkeeper.config import normalise_database_url
from tests.conftest import _with_database


@pytest.fixture
async def empty_database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (no schema at all)."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    admin: str = request.getfixturevalue("pg_admin_dsn")
    name = f"mk_empty_{tmp_path.name[-20:].replace('-', '_').lower()}"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return normalise_database_url(_with_database(admin, name))
