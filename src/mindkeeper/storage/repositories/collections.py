"""Collections of a peer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from mindkeeper.core.entities import Collection, JSONObject
from mindkeeper.core.values import RESERVED_COLLECTION, MetadataFilter, Page, PageRequest, new_id
from mindkeeper.storage.repositories.base import DbRow, Repository, translate_integrity
from mindkeeper.storage.tables import collections as t
from mindkeeper.storage.tables import documents


def to_collection(row: DbRow) -> Collection:
    """Map a row to the entity."""
    return Collection(
        row.id,
        row.public_id,
        row.name,
        row.peer_id,
        row.workspace_id,
        row.metadata,
        row.created_at,
        row.observed_id,
    )


class SqlCollectionRepository(Repository):
    """SQL collections."""

    async def get(self, workspace_id: str, peer_id: str, collection_id: str) -> Collection | None:
        """Return the collection of that peer."""
        stmt = select(t).where(
            t.c.public_id == collection_id, t.c.peer_id == peer_id, t.c.workspace_id == workspace_id
        )
        return await self.first(stmt, to_collection)

    async def get_by_name(self, workspace_id: str, peer_id: str, name: str) -> Collection | None:
        """Return the peer's collection by exact name."""
        stmt = select(t).where(
            t.c.name == name, t.c.peer_id == peer_id, t.c.workspace_id == workspace_id
        )
        return await self.first(stmt, to_collection)

    async def create(
        self, workspace_id: str, peer_id: str, name: str, metadata: JSONObject, now: datetime
    ) -> Collection:
        """Insert a collection."""
        with translate_integrity(f"Collection with name '{name}' already exists"):
            row = (
                await self.conn.execute(
                    insert(t)
                    .values(
                        public_id=new_id(),
                        name=name,
                        peer_id=peer_id,
                        workspace_id=workspace_id,
                        metadata=metadata,
                        created_at=now,
                        # A peer's reserved collection holds its conclusions about itself.
                        observed_id=peer_id if name == RESERVED_COLLECTION else None,
                    )
                    .returning(t)
                )
            ).one()
        return to_collection(row)

    async def list(
        self, workspace_id: str, peer_id: str, filter: MetadataFilter, page: PageRequest
    ) -> Page[Collection]:
        """Return a page of the peer's collections."""
        stmt = select(t).where(t.c.workspace_id == workspace_id, t.c.peer_id == peer_id)
        return await self.paginate(self.with_filter(stmt, t, filter), t, page, to_collection)

    async def update(
        self,
        workspace_id: str,
        peer_id: str,
        collection_id: str,
        name: str | None,
        metadata: JSONObject | None,
    ) -> Collection | None:
        """Change name and/or metadata."""
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = name
        if metadata is not None:
            values["metadata"] = metadata
        if not values:
            return await self.get(workspace_id, peer_id, collection_id)
        with translate_integrity("Collection update failed - name already in use"):
            row = (
                await self.conn.execute(
                    update(t)
                    .where(
                        t.c.public_id == collection_id,
                        t.c.peer_id == peer_id,
                        t.c.workspace_id == workspace_id,
                    )
                    .values(**values)
                    .returning(t)
                )
            ).first()
        return None if row is None else to_collection(row)

    async def delete(self, collection_id: str) -> None:
        """Delete the collection and its documents."""
        await self.conn.execute(delete(documents).where(documents.c.collection_id == collection_id))
        await self.conn.execute(delete(t).where(t.c.public_id == collection_id))
