"""Workspaces (Honcho apps)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, insert, select, update

from mindkeeper.core.entities import JSONObject, Workspace
from mindkeeper.core.filters import Node
from mindkeeper.core.values import MetadataFilter, Page, PageRequest, new_id
from mindkeeper.storage.filters import apply_filter
from mindkeeper.storage.repositories.base import (
    DbRow,
    Repository,
    storable,
    translate_integrity,
)
from mindkeeper.storage.repositories.purge import purge_workspace
from mindkeeper.storage.tables import workspaces as t

#: Logical columns of workspace filters.
COLUMNS: dict[str, ColumnElement[Any]] = {
    "name": t.c.name,
    "created_at": t.c.created_at,
    "metadata": t.c.metadata,
}


def to_workspace(row: DbRow) -> Workspace:
    """Map a row to the entity."""
    return Workspace(
        row.id, row.public_id, row.name, row.metadata, row.created_at, row.configuration
    )


class SqlWorkspaceRepository(Repository):
    """SQL workspaces."""

    async def get(self, workspace_id: str) -> Workspace | None:
        """Return the workspace by public id."""
        return await self.first(select(t).where(t.c.public_id == workspace_id), to_workspace)

    async def get_by_name(self, name: str) -> Workspace | None:
        """Return the workspace by exact name."""
        if not storable(name):
            return None
        return await self.first(select(t).where(t.c.name == name), to_workspace)

    async def create(
        self,
        name: str,
        metadata: JSONObject,
        now: datetime,
        configuration: JSONObject | None = None,
    ) -> Workspace:
        """Insert a workspace."""
        with translate_integrity(f"App with name '{name}' already exists"):
            row = (
                await self.conn.execute(
                    insert(t)
                    .values(
                        public_id=new_id(),
                        name=name,
                        metadata=metadata,
                        configuration=configuration or {},
                        created_at=now,
                    )
                    .returning(t)
                )
            ).one()
        return to_workspace(row)

    async def list(self, filter: MetadataFilter, page: PageRequest) -> Page[Workspace]:
        """Return a page of workspaces."""
        return await self.paginate(self.with_filter(select(t), t, filter), t, page, to_workspace)

    async def list_by_creation(
        self, page: PageRequest, where: Node | None = None
    ) -> Page[Workspace]:
        """Return a page of workspaces ordered by `created_at`, then insertion."""
        stmt = apply_filter(select(t), where, COLUMNS, self.dialect)
        return await self.paginate(stmt, t, page, to_workspace, order=[t.c.created_at])

    async def purge(self, workspace_id: str) -> None:
        """Remove the workspace and every row that carries its id."""
        await purge_workspace(self.conn, workspace_id)

    async def update(
        self,
        workspace_id: str,
        name: str | None,
        metadata: JSONObject | None,
        configuration: JSONObject | None = None,
    ) -> Workspace | None:
        """Change name, metadata and/or configuration."""
        values: dict[str, Any] = {}
        if configuration is not None:
            values["configuration"] = configuration
        if name is not None:
            values["name"] = name
        if metadata is not None:
            values["metadata"] = metadata
        if not values:
            return await self.get(workspace_id)
        with translate_integrity("App update failed - unique constraint violation"):
            row = (
                await self.conn.execute(
                    update(t).where(t.c.public_id == workspace_id).values(**values).returning(t)
                )
            ).first()
        return None if row is None else to_workspace(row)
