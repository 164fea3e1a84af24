"""Helpers shared by repositories: pagination, filters and database-error translation."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Select, Table, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from mindkeeper.core.values import MetadataFilter, Page, PageRequest
from mindkeeper.errors import AlreadyExists, Invalid, NotFound
from mindkeeper.storage.dialects import json_contains

T = TypeVar("T")

#: A result row (typed loosely: SQLAlchemy 2.0 and 2.1 spell row generics differently).
DbRow = Any


class Repository:
    """Holds the connection and dialect name."""

    def __init__(self, conn: AsyncConnection, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect

    def with_filter(self, stmt: Select[Any], table: Table, filter: MetadataFilter) -> Select[Any]:
        """Add `metadata @> filter` when a non-empty filter is given."""
        if filter:
            return stmt.where(json_contains(self.dialect, table.c.metadata, filter))
        return stmt

    async def first(self, stmt: Select[Any], to_entity: Callable[[DbRow], T]) -> T | None:
        """Run a select and map its first row, if any."""
        row = (await self.conn.execute(stmt)).first()
        return None if row is None else to_entity(row)

    async def paginate(
        self,
        stmt: Select[Any],
        table: Table,
        page: PageRequest,
        to_entity: Callable[[DbRow], T],
        known_total: int | None = None,
        order: Sequence[Any] = (),
    ) -> Page[T]:
        """Run one page of `stmt` ordered by `order` then insertion, plus a count of all
        matches."""
        if known_total is None:
            # maintain_column_froms: without a WHERE clause naming the table, `SELECT count(*)`
            # would otherwise lose its FROM and count one row.
            count_stmt = stmt.with_only_columns(func.count(), maintain_column_froms=True).order_by(
                None
            )
            total = int((await self.conn.execute(count_stmt)).scalar_one())
        else:
            total = known_total
        if total <= page.offset:
            return Page(items=[], total=total, page=page.page, size=page.size)
        keys = [*order, table.c.id]
        by = [k.desc() if page.reverse else k.asc() for k in keys]
        rows = await self.conn.execute(stmt.order_by(*by).limit(page.size).offset(page.offset))
        return Page(items=[to_entity(r) for r in rows], total=total, page=page.page, size=page.size)


def storable(*texts: str) -> bool:
    """False when a text cannot be in any row (PostgreSQL's text refuses NUL characters, and
    no write lets one in): a lookup by it is a miss, not a database error."""
    return not any("\x00" in text for text in texts)


@contextmanager
def translate_integrity(
    conflict_message: str, missing_message: str = "Referenced resource not found"
) -> Iterator[None]:
    """Turn unique violations into AlreadyExists and foreign-key violations into NotFound."""
    try:
        yield
    except IntegrityError as exc:
        text = str(exc.orig).lower()
        if "unique" in text or "duplicate key" in text:
            raise AlreadyExists(conflict_message) from exc
        if "foreign key" in text:
            raise NotFound(missing_message) from exc
        if "check constraint" in text:
            raise Invalid(conflict_message) from exc
        raise
