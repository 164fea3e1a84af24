"""Conclusions: documents with a level, in the collection an observer keeps about a peer.

Every read joins the observer and observed peers and (outer) the provenance session, so the
records carry names; soft-deleted rows and documents without a level (v1 documents of other
collections) are never returned. Filters compile against the logical columns of
`CONCLUSION_COLUMNS`; the names are those of the joined rows.

A pair's collection is found by (workspace, observer, observed). A peer's own collection is
the one the v1 deriver writes, named `honcho`; a collection about another peer is named
`honcho.<observed public id>`. Both are created with `INSERT ... ON CONFLICT DO NOTHING`, so
two writers racing to create one both end up with the same row.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Select, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from mindkeeper.core.entities import Collection
from mindkeeper.core.filters import Node
from mindkeeper.core.ports.derived import Conclusion, NewConclusion, Order, Pair
from mindkeeper.core.values import RESERVED_COLLECTION, Page, PageRequest, new_id
from mindkeeper.storage.dialects import vectors
from mindkeeper.storage.filters import apply_filter
from mindkeeper.storage.repositories.base import DbRow, Repository
from mindkeeper.storage.tables import collections, documents, peers, sessions, workspaces

d = documents
_OBSERVER = peers.alias("observer")
_OBSERVED = peers.alias("observed")
_SESSION = sessions.alias("provenance")

_RECORD = (
    d.c.id,
    d.c.public_id,
    d.c.content,
    d.c.workspace_id,
    d.c.peer_id,
    d.c.observed_id,
    _OBSERVER.c.name.label("observer_name"),
    _OBSERVED.c.name.label("observed_name"),
    d.c.session_id,
    _SESSION.c.name.label("session_name"),
    d.c.level,
    d.c.source_ids,
    d.c.times_derived,
    d.c.metadata,
    d.c.created_at,
)
_FROM = d.join(_OBSERVER, _OBSERVER.c.public_id == d.c.peer_id).join(
    _OBSERVED, _OBSERVED.c.public_id == d.c.observed_id
)
_FROM = _FROM.outerjoin(
    _SESSION,
    (_SESSION.c.public_id == d.c.session_id) & (_SESSION.c.workspace_id == d.c.workspace_id),
)

#: Logical column -> SQL, for filters (`CONCLUSION_COLUMNS`).
COLUMNS: dict[str, ColumnElement[Any]] = {
    "id": d.c.public_id,
    "content": d.c.content,
    "level": d.c.level,
    "observer": _OBSERVER.c.name,
    "observed": _OBSERVED.c.name,
    "session": _SESSION.c.name,
    "workspace": select(workspaces.c.name)
    .where(workspaces.c.public_id == d.c.workspace_id)
    .scalar_subquery(),
    "created_at": d.c.created_at,
    "deleted_at": d.c.deleted_at,
    "times_derived": d.c.times_derived,
    "source_ids": d.c.source_ids,
    "metadata": d.c.metadata,
}


def to_conclusion(row: DbRow) -> Conclusion:
    """Map a joined row to the record."""
    return Conclusion(
        key=row.id,
        id=row.public_id,
        content=row.content,
        workspace_id=row.workspace_id,
        observer_id=row.peer_id,
        observed_id=row.observed_id,
        observer=row.observer_name,
        observed=row.observed_name,
        session_id=row.session_id,
        session=row.session_name,
        level=row.level,
        source_ids=row.source_ids,
        times_derived=row.times_derived,
        metadata=row.metadata,
        created_at=row.created_at,
    )


def collection_name(observer_id: str, observed_id: str) -> str:
    """The name of the pair's collection."""
    if observer_id == observed_id:
        return RESERVED_COLLECTION
    return f"{RESERVED_COLLECTION}.{observed_id}"


def _live() -> list[ColumnElement[bool]]:
    return [d.c.deleted_at.is_(None), d.c.level.is_not(None)]


def _records() -> Select[Any]:
    return select(*_RECORD).select_from(_FROM).where(*_live())


def _in_pair(pair: Pair) -> list[ColumnElement[bool]]:
    conditions = [
        d.c.workspace_id == pair.workspace_id,
        d.c.peer_id == pair.observer_id,
        d.c.observed_id == pair.observed_id,
    ]
    if pair.session_ids is not None:
        conditions.append(d.c.session_id.in_(pair.session_ids))
    return conditions


class SqlConclusionRepository(Repository):
    """SQL conclusions."""

    def _insert_ignoring_conflicts(self, values: dict[str, Any]) -> Any:
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        return dialect.insert(collections).values(**values).on_conflict_do_nothing()

    async def pair_collection(
        self, workspace_id: str, observer_id: str, observed_id: str, now: datetime
    ) -> Collection:
        """Return the pair's collection, created when missing."""
        name = collection_name(observer_id, observed_id)
        found = await self._collection(workspace_id, observer_id, name)
        if found is None:
            await self.conn.execute(
                self._insert_ignoring_conflicts(
                    {
                        "public_id": new_id(),
                        "name": name,
                        "workspace_id": workspace_id,
                        "peer_id": observer_id,
                        "observed_id": observed_id,
                        "metadata": {},
                        "created_at": now,
                    }
                )
            )
            found = await self._collection(workspace_id, observer_id, name)
            assert found is not None
        if found.observed_id != observed_id:  # a `honcho` collection of an older release
            await self.conn.execute(
                update(collections)
                .where(collections.c.public_id == found.id)
                .values(observed_id=observed_id)
            )
        return Collection(
            found.key,
            found.id,
            found.name,
            found.peer_id,
            found.workspace_id,
            found.metadata,
            found.created_at,
            observed_id,
        )

    async def _collection(self, workspace_id: str, peer_id: str, name: str) -> Collection | None:
        c = collections.c
        row = (
            await self.conn.execute(
                select(collections).where(
                    c.workspace_id == workspace_id, c.peer_id == peer_id, c.name == name
                )
            )
        ).first()
        if row is None:
            return None
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

    async def add_many(
        self, collection: Collection, items: Sequence[NewConclusion], now: datetime
    ) -> builtins.list[Conclusion]:
        """Insert conclusions in order and return them in that order."""
        if not items:
            return []
        assert collection.observed_id is not None, "not a pair collection"
        rows = [
            {
                "public_id": new_id(),
                "content": item.content,
                "metadata": item.metadata,
                "collection_id": collection.id,
                "workspace_id": collection.workspace_id,
                "peer_id": collection.peer_id,
                "observed_id": collection.observed_id,
                "session_id": item.session_id,
                "level": item.level,
                "source_ids": item.source_ids,
                "times_derived": 1,
                "embedding": np.asarray(item.vector, dtype=np.float32),
                "embedding_model": item.model,
                "embedding_dim": int(item.vector.shape[0]),
                "created_at": now,
            }
            for item in items
        ]
        await self.conn.execute(insert(d), rows)
        ids = [str(r["public_id"]) for r in rows]
        found = {c.id: c for c in await self.get_many(collection.workspace_id, ids)}
        return [found[i] for i in ids]

    async def get(self, workspace_id: str, conclusion_id: str) -> Conclusion | None:
        """Return one live conclusion of the workspace."""
        stmt = _records().where(d.c.workspace_id == workspace_id, d.c.public_id == conclusion_id)
        return await self.first(stmt, to_conclusion)

    async def get_many(
        self, workspace_id: str, conclusion_ids: Sequence[str]
    ) -> builtins.list[Conclusion]:
        """Return the live conclusions with those ids."""
        if not conclusion_ids:
            return []
        stmt = _records().where(
            d.c.workspace_id == workspace_id, d.c.public_id.in_(list(conclusion_ids))
        )
        return [to_conclusion(r) for r in await self.conn.execute(stmt)]

    async def list(
        self,
        workspace_id: str,
        observer_id: str | None,
        observed_id: str | None,
        where: Node | None,
        page: PageRequest,
    ) -> Page[Conclusion]:
        """A page, newest first (or oldest first with `page.reverse`)."""
        stmt = _records().where(d.c.workspace_id == workspace_id)
        if observer_id is not None:
            stmt = stmt.where(d.c.peer_id == observer_id)
        if observed_id is not None:
            stmt = stmt.where(d.c.observed_id == observed_id)
        stmt = apply_filter(stmt, where, COLUMNS, self.dialect)
        flipped = PageRequest(page=page.page, size=page.size, reverse=not page.reverse)
        return await self.paginate(stmt, d, flipped, to_conclusion)

    async def _collection_id(self, pair: Pair) -> str | None:
        c = collections.c
        stmt = (
            select(c.public_id)
            .where(
                c.workspace_id == pair.workspace_id,
                c.peer_id == pair.observer_id,
                c.observed_id == pair.observed_id,
            )
            .order_by(c.id)
            .limit(1)
        )
        return (await self.conn.execute(stmt)).scalar()

    async def nearest(
        self,
        pair: Pair,
        vector: np.ndarray,
        model: str,
        where: Node | None,
        top_k: int,
        max_distance: float | None = None,
    ) -> builtins.list[Conclusion]:
        """The pair's closest conclusions of the same embedding model."""
        collection_id = await self._collection_id(pair)
        if collection_id is None or top_k <= 0:
            return []
        dim = int(vector.shape[0])
        # The distances are ranked over the documents alone (joins only when a filter names a
        # peer's or session's name); the records of the best are read afterwards.
        base = _records() if where is not None else select(d.c.id).where(*_live())
        base = base.where(
            *_in_pair(pair),
            d.c.collection_id == collection_id,
            d.c.embedding_model == model,
            d.c.embedding_dim == dim,
        )
        base = apply_filter(base, where, COLUMNS, self.dialect)
        if self.dialect == "postgresql":
            approximate = await vectors.prefer_ann(self.conn, collection_id, dim)
            distance = vectors.cosine_distance(d.c.embedding, vector, dim, approximate)
            stmt = base.with_only_columns(d.c.id)
            if approximate:
                stmt = stmt.where(vectors.dimension_predicate(d.c.embedding_dim, dim))
            if max_distance is not None:
                stmt = stmt.where(distance < max_distance)
            rows = await self.conn.execute(stmt.order_by(distance, d.c.id).limit(top_k))
            return await self._by_keys([int(r[0]) for r in rows])
        keys = await vectors.sqlite_nearest_keys(self.conn, base, d, vector, top_k, max_distance)
        return await self._by_keys(keys)

    async def _by_keys(self, keys: Sequence[int]) -> builtins.list[Conclusion]:
        if not keys:
            return []
        rows = await self.conn.execute(_records().where(d.c.id.in_(list(keys))))
        found = {r.id: to_conclusion(r) for r in rows}
        return [found[k] for k in keys if k in found]

    async def ranked(
        self, pair: Pair, order: Order, limit: int, exclude: Sequence[int] = ()
    ) -> builtins.list[Conclusion]:
        """The pair's newest or most often derived conclusions."""
        if limit <= 0:
            return []
        stmt = _records().where(*_in_pair(pair))
        if exclude:
            stmt = stmt.where(d.c.id.not_in(list(exclude)))
        by = [d.c.id.desc()]
        if order is Order.FREQUENT:
            by.insert(0, d.c.times_derived.desc())
        rows = await self.conn.execute(stmt.order_by(*by).limit(limit))
        return [to_conclusion(r) for r in rows]

    async def soft_delete(self, workspace_id: str, conclusion_id: str, now: datetime) -> bool:
        """Mark a live conclusion deleted."""
        result = await self.conn.execute(
            update(d)
            .where(d.c.workspace_id == workspace_id, d.c.public_id == conclusion_id, *_live())
            .values(deleted_at=now)
        )
        return bool(result.rowcount)

    async def session_ids(self, workspace_id: str, names: Sequence[str]) -> dict[str, str]:
        """Public ids of the named sessions of the workspace."""
        if not names:
            return {}
        stmt = select(sessions.c.name, sessions.c.public_id).where(
            sessions.c.workspace_id == workspace_id, sessions.c.name.in_(list(names))
        )
        return {r.name: r.public_id for r in await self.conn.execute(stmt)}
