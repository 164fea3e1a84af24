"""Engine construction for SQLite (WAL, busy timeout, foreign keys) and PostgreSQL (pooled)."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any, Protocol

import orjson
from sqlalchemy import create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from mindkeeper.config import Settings
from mindkeeper.storage import location
from mindkeeper.storage.dialects import sqlite as sqlite_dialect
from mindkeeper.storage.dialects.inline import InlineEngine

_LONG_NUMBER = re.compile(rb"\d{19}")


def _json_loads(data: str | bytes) -> Any:
    """Parse with orjson, unless a number may exceed 64 bits (orjson would make it a float)."""
    raw = data.encode() if isinstance(data, str) else data
    if _LONG_NUMBER.search(raw):
        return json.loads(raw)
    return orjson.loads(raw)


def _json_dumps(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # integers beyond 64 bits: JSON allows them, orjson does not
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Connector(Protocol):
    """Something that hands out connections with the `AsyncConnection` call shape."""

    async def connect(self) -> Any:
        """Return an open connection."""
        ...


class _AsyncConnector:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def connect(self) -> Any:
        return await self.engine.connect()


class Database:
    """The engines of one database plus what the unit of work needs to know about it.

    `engine` is an async engine for ad-hoc use (readiness, admin, tests); the unit of work
    takes connections from `connector`, which on SQLite runs statements on the loop thread.
    """

    def __init__(self, engine: AsyncEngine, inline: InlineEngine | None = None) -> None:
        self.engine = engine
        self.inline = inline
        self.connector: Connector = inline if inline is not None else _AsyncConnector(engine)
        self.dialect = engine.dialect.name
        self.is_sqlite = self.dialect == "sqlite"
        #: SQLite has one writer; queueing writers in-process beats busy-wait polling.
        self.write_lock = asyncio.Lock() if self.is_sqlite else None

    async def dispose(self) -> None:
        """Close every pooled connection."""
        if self.inline is not None:
            await self.inline.dispose()
        await self.engine.dispose()


def async_engine(database_url: str, **options: Any) -> AsyncEngine:
    """Create an async engine; every engine starts here, after `location.prepare`."""
    location.prepare(database_url)
    return create_async_engine(database_url, **options)


def _sqlite_engines(settings: Settings, common: dict[str, Any]) -> Database:
    busy = settings.sqlite_busy_timeout_ms
    engine = async_engine(
        settings.database_url,
        connect_args={"timeout": busy / 1000},
        **common,
    )
    sync_url = settings.database_url.replace("sqlite+aiosqlite://", "sqlite+pysqlite://", 1)
    sync_engine = create_engine(
        sync_url,
        pool_size=max(settings.db_pool_size, 4),
        pool_use_lifo=True,  # the most recently used connection has a warm page cache
        max_overflow=settings.db_max_overflow,
        connect_args={"timeout": busy / 1000, "check_same_thread": False},
        **common,
    )
    for target in (engine.sync_engine, sync_engine):

        @event.listens_for(target, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            sqlite_dialect.configure_connection(dbapi_connection, busy)

    return Database(engine, InlineEngine(sync_engine))


def create_database(settings: Settings) -> Database:
    """Build the engines for the configured URL."""
    common: dict[str, Any] = {
        "json_serializer": _json_dumps,
        "json_deserializer": _json_loads,
        "echo": settings.sql_echo,
    }
    if settings.is_sqlite:
        return _sqlite_engines(settings, common)
    engine = async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=True,
        pool_recycle=300,
        # Plan each statement with its real values: a cached generic plan for a prepared
        # page query cannot know which session it reads and may pick a full sort.
        connect_args={
            "server_settings": {
                "application_name": "mindkeeper",
                "plan_cache_mode": "force_custom_plan",
            }
        },
        **common,
    )
    return Database(engine)
