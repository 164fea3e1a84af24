"""Run SQLite statements on the event-loop thread instead of hopping to a driver thread.

A SQLite statement on a local file takes microseconds; handing each one to a worker thread
(as aiosqlite does) costs more than the statement itself and contends for the GIL. Writers
are already serialised in-process by the unit of work's lock, so the only wait left is the
busy timeout when another process holds the write lock, a wait that would serialise the
work anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import Connection, CursorResult

T = TypeVar("T")


class InlineConnection:
    """The subset of `AsyncConnection` the repositories use, over a sync connection."""

    def __init__(self, sync: Connection) -> None:
        self.sync_connection = sync

    async def execute(self, statement: Any, parameters: Any = None) -> CursorResult[Any]:
        """Execute a statement; returns a fully usable (sync) result."""
        return self.sync_connection.execute(statement, parameters)

    async def exec_driver_sql(self, sql: str) -> CursorResult[Any]:
        """Execute a raw SQL string."""
        return self.sync_connection.exec_driver_sql(sql)

    async def run_sync(self, fn: Callable[[Connection], T]) -> T:
        """Call `fn` with the sync connection."""
        return fn(self.sync_connection)

    async def begin(self) -> None:
        """Begin a transaction."""
        self.sync_connection.begin()

    async def commit(self) -> None:
        """Commit the transaction."""
        self.sync_connection.commit()

    async def rollback(self) -> None:
        """Roll back the transaction."""
        self.sync_connection.rollback()

    async def close(self) -> None:
        """Return the connection to the pool."""
        self.sync_connection.close()


class InlineEngine:
    """Hands out `InlineConnection`s from a sync engine."""

    def __init__(self, engine: Engine) -> None:
        self.sync_engine = engine

    async def connect(self) -> InlineConnection:
        """Check a connection out of the pool."""
        return InlineConnection(self.sync_engine.connect())

    async def dispose(self) -> None:
        """Close pooled connections."""
        self.sync_engine.dispose()
