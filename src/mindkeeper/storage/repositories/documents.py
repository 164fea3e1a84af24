"""Documents with embeddings; nearest-neighbour search by cosine distance.

PostgreSQL orders by pgvector's `<=>`; SQLite loads the candidate vectors and ranks them with
numpy (exact search). Only vectors of the query's embedding model are ever compared.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from mindkeeper.core.entities import Collection, Document, JSONObject
from mindkeeper.core.ports import StoredVector
from mindkeeper.core.values import MetadataFilter, Page, PageRequest, new_id
from mindkeeper.storage.dialects import vectors
from mindkeeper.storage.repositories.base import DbRow, Repository
from mindkeeper.storage.tables import documents as t

_COLUMNS = (
    t.c.id,
    t.c.public_id,
    t.c.content,
    t.c.collection_id,
    t.c.workspace_id,
    t.c.peer_id,
    t.c.metadata,
    t.c.created_at,
)


def to_document(row: DbRow) -> Document:
    """Map a row to the entity."""
    return Document(
        row.id,
        row.public_id,
        row.content,
        row.collection_id,
        row.workspace_id,
        row.peer_id,
        row.metadata,
        row.created_at,
    )


def _vector_values(embedding: StoredVector | None) -> dict[str, Any]:
    if embedding is None:
        return {"embedding": None, "embedding_model": None, "embedding_dim": None}
    return {
        "embedding": embedding.vector,
        "embedding_model": embedding.model,
        "embedding_dim": int(embedding.vector.shape[0]),
    }


class SqlDocumentRepository(Repository):
    """SQL documents."""

    async def create(
        self,
        collection: Collection,
        content: str,
        metadata: JSONObject,
        embedding: StoredVector | None,
        now: datetime,
    ) -> Document:
        """Insert a document."""
        row = (
            await self.conn.execute(
                insert(t)
                .values(
                    public_id=new_id(),
                    content=content,
                    metadata=metadata,
                    collection_id=collection.id,
                    workspace_id=collection.workspace_id,
                    peer_id=collection.peer_id,
                    # Documents of a pair's collection are its conclusions.
                    observed_id=collection.observed_id,
                    level=None if collection.observed_id is None else "explicit",
                    created_at=now,
                    **_vector_values(embedding),
                )
                .returning(*_COLUMNS)
            )
        ).one()
        return to_document(row)

    def _scoped(self, workspace_id: str, peer_id: str, collection_id: str) -> Any:
        return select(*_COLUMNS).where(
            t.c.collection_id == collection_id,
            t.c.peer_id == peer_id,
            t.c.workspace_id == workspace_id,
            t.c.deleted_at.is_(None),
        )

    async def get(
        self, workspace_id: str, peer_id: str, collection_id: str, document_id: str
    ) -> Document | None:
        """Return one document of the collection."""
        stmt = self._scoped(workspace_id, peer_id, collection_id).where(
            t.c.public_id == document_id
        )
        return await self.first(stmt, to_document)

    async def list(
        self,
        workspace_id: str,
        peer_id: str,
        collection_id: str,
        filter: MetadataFilter,
        page: PageRequest,
    ) -> Page[Document]:
        """Return a page of the collection's documents."""
        stmt = self.with_filter(self._scoped(workspace_id, peer_id, collection_id), t, filter)
        return await self.paginate(stmt, t, page, to_document)

    async def update(
        self,
        workspace_id: str,
        peer_id: str,
        collection_id: str,
        document_id: str,
        content: str | None,
        metadata: JSONObject | None,
        embedding: StoredVector | None,
        now: datetime,
    ) -> Document | None:
        """Change content (re-embedded, `created_at` reset) and/or metadata."""
        values: dict[str, Any] = {}
        if content is not None:
            values.update(content=content, created_at=now, **_vector_values(embedding))
        if metadata is not None:
            values["metadata"] = metadata
        if not values:
            return await self.get(workspace_id, peer_id, collection_id, document_id)
        row = (
            await self.conn.execute(
                update(t)
                .where(
                    t.c.public_id == document_id,
                    t.c.collection_id == collection_id,
                    t.c.peer_id == peer_id,
                    t.c.workspace_id == workspace_id,
                )
                .values(**values)
                .returning(*_COLUMNS)
            )
        ).first()
        return None if row is None else to_document(row)

    async def delete(self, document_id: str) -> None:
        """Delete one document."""
        await self.conn.execute(delete(t).where(t.c.public_id == document_id))

    async def nearest(
        self,
        workspace_id: str,
        peer_id: str,
        collection_id: str,
        query: StoredVector,
        filter: MetadataFilter,
        top_k: int,
        max_distance: float | None = None,
    ) -> builtins.list[Document]:
        """Return the top_k closest documents of the same embedding model."""
        base = self.with_filter(self._scoped(workspace_id, peer_id, collection_id), t, filter)
        base = base.where(
            t.c.embedding_model == query.model,
            t.c.embedding_dim == int(query.vector.shape[0]),
        )
        if self.dialect == "postgresql":
            dim = int(query.vector.shape[0])
            approximate = await vectors.prefer_ann(self.conn, collection_id, dim)
            distance = vectors.cosine_distance(t.c.embedding, query.vector, dim, approximate)
            stmt = base
            if approximate:
                stmt = stmt.where(vectors.dimension_predicate(t.c.embedding_dim, dim))
            if max_distance is not None:
                stmt = stmt.where(distance < max_distance)
            rows = await self.conn.execute(stmt.order_by(distance, t.c.id).limit(top_k))
            return [to_document(r) for r in rows]
        keys = await vectors.sqlite_nearest_keys(
            self.conn, base, t, query.vector, top_k, max_distance
        )
        if not keys:
            return []
        found = {
            r.id: r for r in await self.conn.execute(select(*_COLUMNS).where(t.c.id.in_(keys)))
        }
        return [to_document(found[k]) for k in keys]
