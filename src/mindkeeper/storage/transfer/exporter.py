"""Export: read every planned table by primary key, in one read transaction, as JSON Lines.

One snapshot (SQLite: a read transaction in WAL mode; PostgreSQL: REPEATABLE READ), read in
keyset batches, so memory stays constant whatever the size and the server keeps serving.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import func, or_, select, tuple_

from mindkeeper import __version__
from mindkeeper.errors import NotFound
from mindkeeper.storage import migrate
from mindkeeper.storage.engine import Database
from mindkeeper.storage.tables import workspaces
from mindkeeper.storage.transfer.format import ENCODERS, FORMAT, VERSION, dumps
from mindkeeper.storage.transfer.plan import TablePlan, export_plan
from mindkeeper.storage.uow import SqlUnitOfWork

BATCH = 1000


class Progress(Protocol):
    """Told what a transfer is doing (a progress bar on a terminal, nothing otherwise)."""

    def start(self, table: str, total: int | None) -> None:
        """A table begins; `total` rows are expected (None: unknown)."""
        ...

    def advance(self, rows: int) -> None:
        """`rows` more rows of the current table are done."""
        ...

    def finish(self) -> None:
        """The current table is done."""
        ...


class NoProgress:
    """Progress that shows nothing."""

    def start(self, table: str, total: int | None) -> None:
        """Nothing."""

    def advance(self, rows: int) -> None:
        """Nothing."""

    def finish(self) -> None:
        """Nothing."""


@dataclass
class Summary:
    """Rows by table, in the order they were written or read."""

    tables: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        """Rows in all tables."""
        return sum(self.tables.values())


def nullable_json(plan: TablePlan) -> list[int]:
    """Positions of JSON columns that may be SQL NULL (written wrapped: see `format`)."""
    return [
        i
        for i, (c, k) in enumerate(zip(plan.columns, plan.kinds, strict=True))
        if k == "json" and c.nullable
    ]


def section_columns(plan: TablePlan) -> list[list[str]]:
    """The `columns` of a section line: name and kind (`json?` for nullable JSON)."""
    wrapped = set(nullable_json(plan))
    return [
        [c.name, "json?" if i in wrapped else k]
        for i, (c, k) in enumerate(zip(plan.columns, plan.kinds, strict=True))
    ]


def _after(key: Sequence[Any], last: tuple[Any, ...]) -> Any:
    if len(key) == 1:
        return key[0] > last[0]
    return tuple_(*key) > tuple_(*last)


async def resolve_workspace(db: Database, workspace: str) -> str:
    """The public id of a workspace given by public id or name; NotFound otherwise."""
    async with SqlUnitOfWork(db, write=False) as uow:
        found = (
            await uow.connection.execute(
                select(workspaces.c.public_id).where(
                    or_(workspaces.c.public_id == workspace, workspaces.c.name == workspace)
                )
            )
        ).first()
    if found is None:
        raise NotFound(f"no workspace with the id or name {workspace!r}")
    return str(found[0])


async def export_lines(
    db: Database,
    *,
    workspace_id: str | None = None,
    progress: Progress | None = None,
    summary: Summary | None = None,
) -> AsyncIterator[bytes]:
    """Yield the export as chunks of lines (header, sections, trailer)."""
    progress = progress or NoProgress()
    summary = summary if summary is not None else Summary()
    plans = export_plan(workspace=workspace_id is not None)
    async with SqlUnitOfWork(db, write=False) as uow:
        conn = uow.connection
        revision = await conn.run_sync(migrate.current_revision_sync)
        yield dumps(
            {
                "format": FORMAT,
                "version": VERSION,
                "schema_revision": revision,
                "mindkeeper": __version__,
                "database": db.dialect,
                "created_at": datetime.now(UTC).isoformat(),
                "workspace": workspace_id,
                "tables": [p.name for p in plans],
            }
        )
        for plan in plans:
            condition = None if workspace_id is None else plan.workspace_filter(workspace_id)
            scope = [] if condition is None else [condition]
            total = (
                await conn.execute(select(func.count()).select_from(plan.table).where(*scope))
            ).scalar_one()
            progress.start(plan.name, int(total))
            yield dumps({"table": plan.name, "columns": section_columns(plan)})
            count = 0
            async for chunk, rows in _table_rows(conn, plan, scope):
                count += rows
                progress.advance(rows)
                yield chunk
            summary.tables[plan.name] = count
            progress.finish()
            yield dumps({"end": plan.name, "rows": count})
    yield dumps({"end": None, "rows": summary.rows, "tables": summary.tables})


async def _table_rows(
    conn: Any, plan: TablePlan, scope: list[Any]
) -> AsyncIterator[tuple[bytes, int]]:
    """Yield (lines, row count) per keyset batch of one table."""
    wrapped = nullable_json(plan)
    flags = [plan.columns[i].is_(None).label(f"null_{i}") for i in wrapped]
    encoders = [ENCODERS[k] for k in plan.kinds]
    width = len(plan.columns)
    key_at = [plan.columns.index(c) for c in plan.key]
    base = select(*plan.columns, *flags).order_by(*plan.key).limit(BATCH)
    last: tuple[Any, ...] | None = None
    while True:
        where = list(scope) if last is None else [*scope, _after(plan.key, last)]
        rows = (await conn.execute(base.where(*where))).all()
        if not rows:
            return
        lines = []
        for row in rows:
            values = [encode(row[i]) for i, encode in enumerate(encoders)]
            for n, i in enumerate(wrapped):
                values[i] = None if row[width + n] else [values[i]]
            lines.append(dumps(values))
        last = tuple(rows[-1][i] for i in key_at)
        yield b"".join(lines), len(rows)
        if len(rows) < BATCH:
            return
