"""What an export holds: every table of the schema, in foreign-key order, read by primary key.

The plan is derived from the table metadata (`storage/tables`), so a table added there is
exported and imported without further code. A table that must not travel is listed in
`EXCLUDED` with the reason; the tests fail for a table that is neither planned nor excluded.

A workspace export keeps the tables that carry a `workspace_id` column (the tenant key) and
the workspace's own row; tables that belong to no workspace (access keys, revocations, agent
sessions of accounts) are left out of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table

from mindkeeper.storage.tables import WORKSPACE_KEY, metadata, workspace_tables, workspaces
from mindkeeper.storage.transfer.format import column_kind

#: Tables never exported, with the reason (none today: every table travels).
EXCLUDED: dict[str, str] = {}
#: The tenant keys: every table but the global ones carries one of them.
TENANT_COLUMNS = (WORKSPACE_KEY, "account_id")


@dataclass(frozen=True, slots=True)
class TablePlan:
    """One table's part of an export: its columns with their kinds, key and identity."""

    table: Table
    columns: tuple[Column[Any], ...]
    kinds: tuple[str, ...]
    key: tuple[Column[Any], ...]
    #: Columns that say two rows with the same key are the same record (re-runs of an import).
    identity: tuple[Column[Any], ...]
    #: The integer key whose PostgreSQL sequence an import moves past the imported rows.
    serial: Column[Any] | None

    @property
    def name(self) -> str:
        """The table's name."""
        return self.table.name

    def workspace_filter(self, workspace_id: str) -> Any | None:
        """The condition selecting the workspace's rows; None when the table has none."""
        if self.table is workspaces:
            return self.table.c.public_id == workspace_id
        column = self.table.c.get(WORKSPACE_KEY)
        return None if column is None else column == workspace_id


def _identity(table: Table) -> tuple[Column[Any], ...]:
    if "public_id" in table.c:
        return (table.c.public_id,)
    for constraint in sorted(table.constraints, key=lambda c: str(c.name)):
        columns = getattr(constraint, "columns", None)
        if constraint.__class__.__name__ == "UniqueConstraint" and columns is not None:
            return tuple(columns)
    return ()


def _serial(table: Table) -> Column[Any] | None:
    key = list(table.primary_key.columns)
    if len(key) == 1 and column_kind(key[0]) == "int" and key[0].autoincrement in (True, "auto"):
        return key[0]
    return None


def plan_table(table: Table) -> TablePlan:
    """The plan of one table; ValueError when a column has no export kind."""
    columns = tuple(table.columns)
    key = tuple(table.primary_key.columns)
    if not key:
        raise ValueError(f"table {table.name} has no primary key: it cannot be imported twice")
    return TablePlan(
        table=table,
        columns=columns,
        kinds=tuple(column_kind(c) for c in columns),
        key=key,
        identity=_identity(table),
        serial=_serial(table),
    )


def export_plan(workspace: bool = False) -> list[TablePlan]:
    """Every exported table in foreign-key order (parents first); with `workspace`, only those
    that hold rows of one workspace."""
    tables = [workspaces, *workspace_tables()] if workspace else metadata.sorted_tables
    return [plan_table(t) for t in tables if t.name not in EXCLUDED]


def planned_tables() -> dict[str, TablePlan]:
    """The plans by table name."""
    return {plan.name: plan for plan in export_plan()}
