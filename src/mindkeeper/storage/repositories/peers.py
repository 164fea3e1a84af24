"""Peers (Honcho users)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, insert, or_, select, update

from mindkeeper.core.entities import JSONObject, Peer
from mindkeeper.core.filters import Node
from mindkeeper.core.ports.scopes import SCOPE_PEER_PREFIX
from mindkeeper.core.values import MetadataFilter, Page, PageRequest, new_id
from mindkeeper.storage.filters import apply_filter
from mindkeeper.storage.repositories.base import (
    DbRow,
    Repository,
    storable,
    translate_integrity,
)
from mindkeeper.storage.tables import peers as t
from mindkeeper.storage.tables import workspaces

#: Logical columns of peer filters.
COLUMNS: dict[str, ColumnElement[Any]] = {
    "name": t.c.name,
    "created_at": t.c.created_at,
    "workspace": select(workspaces.c.name)
    .where(workspaces.c.public_id == t.c.workspace_id)
    .scalar_subquery(),
    "metadata": t.c.metadata,
}


def is_scope_peer(table: Any = t) -> ColumnElement[bool]:
    """True for the rows of `peers` (or an alias of it) that stand for scopes: hidden peers
    that no list of peers shows."""
    return and_(table.c.synthetic.is_(True), table.c.name.startswith(SCOPE_PEER_PREFIX))


def to_peer(row: DbRow) -> Peer:
    """Map a row to the entity."""
    return Peer(
        row.id,
        row.public_id,
        row.name,
        row.workspace_id,
        row.metadata,
        row.created_at,
        row.configuration,
        row.synthetic,
    )


class SqlPeerRepository(Repository):
    """SQL peers."""

    async def get(self, workspace_id: str, peer_id: str) -> Peer | None:
        """Return the peer of the workspace."""
        stmt = select(t).where(t.c.public_id == peer_id, t.c.workspace_id == workspace_id)
        return await self.first(stmt, to_peer)

    async def get_by_name(self, workspace_id: str, name: str) -> Peer | None:
        """Return the peer by exact name."""
        if not storable(name):
            return None
        stmt = select(t).where(t.c.workspace_id == workspace_id, t.c.name == name)
        return await self.first(stmt, to_peer)

    async def create(
        self,
        workspace_id: str,
        name: str,
        metadata: JSONObject,
        now: datetime,
        synthetic: bool = False,
        configuration: JSONObject | None = None,
    ) -> Peer:
        """Insert a peer."""
        with translate_integrity(
            "User with this name already exists", f"App with ID {workspace_id} not found"
        ):
            row = (
                await self.conn.execute(
                    insert(t)
                    .values(
                        public_id=new_id(),
                        name=name,
                        workspace_id=workspace_id,
                        metadata=metadata,
                        configuration=configuration or {},
                        synthetic=synthetic,
                        created_at=now,
                    )
                    .returning(t)
                )
            ).one()
        return to_peer(row)

    async def get_many(
        self, workspace_id: str, peer_ids: Sequence[str] = (), names: Sequence[str] = ()
    ) -> builtins.list[Peer]:
        """Return the workspace's peers with those public ids or names."""
        peer_ids = [p for p in peer_ids if storable(p)]
        names = [n for n in names if storable(n)]
        if not peer_ids and not names:
            return []
        stmt = select(t).where(
            t.c.workspace_id == workspace_id,
            or_(t.c.public_id.in_(list(peer_ids)), t.c.name.in_(list(names))),
        )
        return [to_peer(r) for r in await self.conn.execute(stmt)]

    async def list_by_creation(
        self, workspace_id: str, page: PageRequest, where: Node | None = None
    ) -> Page[Peer]:
        """Return a page of every peer of the workspace ordered by `created_at`."""
        stmt = select(t).where(t.c.workspace_id == workspace_id, ~is_scope_peer())
        stmt = apply_filter(stmt, where, COLUMNS, self.dialect)
        return await self.paginate(stmt, t, page, to_peer, order=[t.c.created_at])

    async def list(
        self,
        workspace_id: str,
        filter: MetadataFilter,
        page: PageRequest,
        include_synthetic: bool = False,
    ) -> Page[Peer]:
        """Return a page of the workspace's peers."""
        stmt = select(t).where(t.c.workspace_id == workspace_id)
        if not include_synthetic:
            stmt = stmt.where(t.c.synthetic.is_(False))
        stmt = self.with_filter(stmt, t, filter)
        return await self.paginate(stmt, t, page, to_peer)

    async def update(
        self,
        workspace_id: str,
        peer_id: str,
        name: str | None,
        metadata: JSONObject | None,
        synthetic: bool | None = None,
        configuration: JSONObject | None = None,
    ) -> Peer | None:
        """Change name, metadata, configuration (and whether the peer is the synthetic one)."""
        values: dict[str, Any] = {}
        if configuration is not None:
            values["configuration"] = configuration
        if synthetic is not None:
            values["synthetic"] = synthetic
        if name is not None:
            values["name"] = name
        if metadata is not None:
            values["metadata"] = metadata
        if not values:
            return await self.get(workspace_id, peer_id)
        with translate_integrity("User update failed - unique constraint violation"):
            row = (
                await self.conn.execute(
                    update(t)
                    .where(t.c.public_id == peer_id, t.c.workspace_id == workspace_id)
                    .values(**values)
                    .returning(t)
                )
            ).first()
        return None if row is None else to_peer(row)
