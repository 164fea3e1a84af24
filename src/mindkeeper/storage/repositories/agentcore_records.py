"""Long-term records of memory resources: documents in one collection per namespace, kept
by the memory's observer peer, and the extraction jobs of the durable queue.

A collection's name is its namespace normalised to end in `/` (cut at 480 characters plus a
hash beyond that), so an exact namespace is one collection and a namespace path is the
collections whose name starts with it. A document's `metadata` holds what the record adds to
a document: `strategy_id`, the namespace as given, `timestamp`, `expires_at` (ISO 8601, UTC,
comparable as text) and the record's own `metadata`. Expired records are invisible before the
maintenance pass removes them.
"""

from __future__ import annotations

import builtins
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import (
    ColumnElement,
    LargeBinary,
    Select,
    delete,
    func,
    select,
    text,
    type_coerce,
    update,
)

from mindkeeper.core.entities import JSONObject
from mindkeeper.core.ports.agentcore import (
    EXTRACT,
    ExtractionJob,
    NamespaceScope,
    NewRecord,
    Record,
    RecordQuery,
)
from mindkeeper.core.ports.jobs import JobStatus
from mindkeeper.core.values import new_id
from mindkeeper.storage.dialects import json_contains
from mindkeeper.storage.dialects.vectors import (
    ANN_MIN_ROWS,
    EF_SEARCH,
    INDEXED_DIMENSIONS,
    cosine_distance,
    dimension_predicate,
)
from mindkeeper.storage.repositories.agentcore_events import fixed, insert_for
from mindkeeper.storage.repositories.base import DbRow, Repository
from mindkeeper.storage.tables import collections as c
from mindkeeper.storage.tables import documents as d
from mindkeeper.storage.tables import peers, sessions
from mindkeeper.storage.tables.agentcore import agentcore_memories
from mindkeeper.storage.tables.jobs import jobs

#: Characters of a normalised namespace kept in a collection name before the hash.
NAME_ROOM = 480
#: The collection of records written without a namespace.
NO_NAMESPACE = "~none"
_RECORD_COLUMNS = (
    d.c.id,
    d.c.public_id,
    d.c.content,
    d.c.metadata,
    d.c.created_at,
    d.c.session_id,
    d.c.observed_id,
)
_ANN_CHECK = text(
    "SELECT count(*) > :threshold AS large, "
    "(SELECT string_to_array(extversion, '.')::int[] >= ARRAY[0, 8] "
    " FROM pg_extension WHERE extname = 'vector') AS iterative "
    "FROM (SELECT 1 FROM documents WHERE workspace_id = :workspace_id "
    "AND embedding_dim = :dim LIMIT :limit) AS s"
)


def normalise(namespace: str) -> str:
    """A namespace ending in exactly one `/` (so `/a/b` and `/a/b/` are the same)."""
    return namespace if namespace.endswith("/") else namespace + "/"


def collection_name(namespace: str | None) -> str:
    """The name of the collection holding a namespace's records."""
    if namespace is None:
        return NO_NAMESPACE
    norm = normalise(namespace)
    if len(norm) <= NAME_ROOM:
        return norm
    return norm[:NAME_ROOM] + "#" + hashlib.sha256(norm.encode()).hexdigest()[:16]


def stamp(moment: datetime | None) -> str | None:
    """An instant as stored in record metadata: UTC, fixed width, comparable as text."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def unstamp(value: Any) -> datetime | None:
    """The instant of a stored stamp."""
    if not value:
        return None
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def to_record(row: DbRow, score: float | None = None) -> Record:
    """Map a document row to a record."""
    meta = dict(row.metadata or {})
    return Record(
        key=int(row.id),
        id=row.public_id,
        content=row.content,
        strategy_id=str(meta.get("strategy_id") or ""),
        namespace=meta.get("namespace"),
        created_at=row.created_at,
        timestamp=unstamp(meta.get("timestamp")),
        expires_at=unstamp(meta.get("expires_at")),
        metadata=dict(meta.get("metadata") or {}),
        score=score,
        session_id=row.session_id,
        observed_id=row.observed_id,
        expiry_days=meta.get("expiry_days"),
    )


#: Sorts after every stamp: a record without an expiry.
_NEVER = "9999-12-31T23:59:59.999999"


def _live(now: datetime) -> ColumnElement[bool]:
    expiry = d.c.metadata["expires_at"].as_string()
    return func.coalesce(expiry, _NEVER) > stamp(now)


def _scope(workspace_id: str, observer_id: str, scope: NamespaceScope) -> list[Any]:
    """Conditions on the collections (joined to their documents) of a namespace scope."""
    out: list[Any] = [c.c.workspace_id == workspace_id, c.c.peer_id == observer_id]
    if scope.namespace is not None:
        out.append(c.c.name == collection_name(scope.namespace))
    elif scope.path is not None:
        prefix = normalise(scope.path)[:NAME_ROOM]
        out.append(c.c.name != NO_NAMESPACE)
        if prefix != "/":
            out.append(func.substr(c.c.name, 1, len(prefix)) == prefix)
    return out


def _in_path(record: Record, scope: NamespaceScope) -> bool:
    """The exact check for paths longer than a collection name's room."""
    if scope.path is None or len(normalise(scope.path)) <= NAME_ROOM:
        return True
    return record.namespace is not None and normalise(record.namespace).startswith(
        normalise(scope.path)
    )


class SqlAgentCoreRecords(Repository):
    """SQL records and extraction jobs of memory resources."""

    async def _collection(
        self, workspace_id: str, observer_id: str, namespace: str | None, now: datetime
    ) -> str:
        name = collection_name(namespace)
        find = select(c.c.public_id).where(c.c.peer_id == observer_id, c.c.name == name)
        found = (await self.conn.execute(find)).scalar()
        if found is not None:
            return str(found)
        stmt = (
            insert_for(self.dialect)(c)
            .values(
                public_id=new_id(),
                name=name,
                workspace_id=workspace_id,
                peer_id=observer_id,
                metadata={"namespace": namespace},
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["peer_id", "name"])
        )
        await self.conn.execute(stmt)
        return str((await self.conn.execute(find)).scalar_one())

    def _query(self, query: RecordQuery, *columns: Any) -> Select[Any]:
        # From the scope's collections to their documents: the planner walks the documents
        # through their (collection_id, id) index, never the whole memory.
        stmt = (
            select(*(columns or _RECORD_COLUMNS))
            .select_from(c.join(d, d.c.collection_id == c.c.public_id))
            .where(
                *_scope(query.workspace_id, query.observer_id, query.scope),
                d.c.workspace_id == query.workspace_id,
                d.c.peer_id == query.observer_id,
                d.c.deleted_at.is_(None),
                _live(query.now),
            )
        )
        if query.strategy_id is not None:
            stmt = stmt.where(
                json_contains(self.dialect, d.c.metadata, {"strategy_id": query.strategy_id})
            )
        return stmt

    async def add_record(self, new: NewRecord) -> Record:
        """Insert a record into its namespace's collection."""
        collection_id = await self._collection(
            new.workspace_id, new.observer_id, new.namespace, new.now
        )
        meta = {
            "strategy_id": new.strategy_id,
            "namespace": new.namespace,
            "timestamp": stamp(new.timestamp),
            "expires_at": stamp(new.expires_at),
            "expiry_days": new.expiry_days,
            "metadata": new.metadata,
        }
        vector = new.embedding
        key = (
            await self.conn.execute(
                d.insert()
                .values(
                    public_id=new.id,
                    content=new.content,
                    embedding=vector,
                    embedding_model=new.embedding_model if vector is not None else None,
                    embedding_dim=int(vector.shape[0]) if vector is not None else None,
                    collection_id=collection_id,
                    workspace_id=new.workspace_id,
                    peer_id=new.observer_id,
                    observed_id=new.observed_id,
                    session_id=new.session_id,
                    level=new.level,
                    source_ids=new.source_ids,
                    metadata=meta,
                    created_at=new.now,
                )
                .returning(d.c.id)
            )
        ).scalar_one()
        return Record(
            int(key),
            new.id,
            new.content,
            new.strategy_id,
            new.namespace,
            new.now,
            new.timestamp,
            new.expires_at,
            new.metadata,
            session_id=new.session_id,
            observed_id=new.observed_id,
            expiry_days=new.expiry_days,
        )

    async def get_record(self, workspace_id: str, record_id: str) -> Record | None:
        """One live (not deleted) record of the workspace."""
        stmt = select(*_RECORD_COLUMNS).where(
            d.c.workspace_id == workspace_id,
            d.c.public_id == record_id,
            d.c.deleted_at.is_(None),
            d.c.peer_id.in_(
                select(agentcore_memories.c.observer_id).where(
                    agentcore_memories.c.workspace_id == workspace_id
                )
            ),
        )
        return await self.first(stmt, to_record)

    async def replace_record(
        self,
        workspace_id: str,
        observer_id: str,
        record: Record,
        embedding: tuple[np.ndarray, str] | None,
        now: datetime,
    ) -> Record | None:
        """Write a live record's content, namespace, strategy, times and metadata as given
        (and its vector, when given); None when it no longer exists."""
        values: dict[str, Any] = {
            "content": record.content,
            "collection_id": await self._collection(
                workspace_id, observer_id, record.namespace, now
            ),
            "metadata": {
                "strategy_id": record.strategy_id,
                "namespace": record.namespace,
                "timestamp": stamp(record.timestamp),
                "expires_at": stamp(record.expires_at),
                "expiry_days": record.expiry_days,
                "metadata": record.metadata,
            },
        }
        if embedding is not None:
            vector, model = embedding
            values.update(
                embedding=vector, embedding_model=model, embedding_dim=int(vector.shape[0])
            )
        stmt = (
            update(d)
            .where(
                d.c.workspace_id == workspace_id,
                d.c.peer_id == observer_id,
                d.c.public_id == record.id,
                d.c.deleted_at.is_(None),
            )
            .values(**values)
            .returning(*_RECORD_COLUMNS)
        )
        row = (await self.conn.execute(stmt)).first()
        return None if row is None else to_record(row)

    async def delete_records(self, workspace_id: str, record_ids: Sequence[str]) -> list[str]:
        """Remove live records; return those that existed."""
        if not record_ids:
            return []
        found = select(d.c.public_id).where(
            d.c.workspace_id == workspace_id,
            d.c.public_id.in_(list(record_ids)),
            d.c.deleted_at.is_(None),
            d.c.peer_id.in_(
                select(agentcore_memories.c.observer_id).where(
                    agentcore_memories.c.workspace_id == workspace_id
                )
            ),
        )
        existing = [str(v) for v in (await self.conn.execute(found)).scalars()]
        if existing:
            await self.conn.execute(
                delete(d).where(d.c.workspace_id == workspace_id, d.c.public_id.in_(existing))
            )
        return existing

    async def list_records(self, query: RecordQuery) -> builtins.list[Record]:
        """Live records in the scope, newest first, before a key."""
        stmt = self._query(query)
        if query.before_key is not None:
            stmt = stmt.where(d.c.id < query.before_key)
        stmt = stmt.order_by(d.c.id.desc()).limit(fixed(query.limit))
        records = [to_record(row) for row in await self.conn.execute(stmt)]
        return [r for r in records if _in_path(r, query.scope)]

    async def record_candidates(
        self, query: RecordQuery, model_id: str | None
    ) -> builtins.list[tuple[Record, np.ndarray | None]]:
        """Every live record in the scope, with its vector when made by that model."""
        stmt = self._query(query, *_RECORD_COLUMNS, d.c.embedding, d.c.embedding_model)
        out: builtins.list[tuple[Record, np.ndarray | None]] = []
        for row in await self.conn.execute(stmt.order_by(d.c.id)):
            record = to_record(row)
            if not _in_path(record, query.scope):
                continue
            usable = row.embedding is not None and row.embedding_model == model_id
            out.append((record, np.asarray(row.embedding, dtype=np.float32) if usable else None))
        return out

    async def _prefer_ann(self, workspace_id: str, dim: int) -> bool:
        if self.dialect != "postgresql" or dim not in INDEXED_DIMENSIONS:
            return False
        params = {
            "threshold": ANN_MIN_ROWS,
            "workspace_id": workspace_id,
            "dim": dim,
            "limit": ANN_MIN_ROWS + 1,
        }
        row = (await self.conn.execute(_ANN_CHECK, params)).one()
        if not row.large:
            return False
        settings = f"SELECT set_config('hnsw.ef_search', '{EF_SEARCH}', true)"
        if row.iterative:
            settings += ", set_config('hnsw.iterative_scan', 'strict_order', true)"
        await self.conn.execute(text(settings))
        return True

    async def nearest_records(
        self, query: RecordQuery, vector: np.ndarray, model_id: str, top_k: int
    ) -> builtins.list[Record]:
        """The live records in the scope nearest to the vector, with cosine similarity."""
        dim = int(vector.shape[0])
        scoped = self._query(query).where(
            d.c.embedding_model == model_id, dimension_predicate(d.c.embedding_dim, dim)
        )
        if self.dialect == "postgresql":
            approximate = await self._prefer_ann(query.workspace_id, dim)
            distance = cosine_distance(d.c.embedding, vector, dim, approximate)
            stmt = scoped.add_columns(distance.label("distance")).order_by(distance, d.c.id)
            rows = (await self.conn.execute(stmt.limit(fixed(top_k)))).all()
            return [to_record(row, 1.0 - float(row.distance)) for row in rows]
        keys, similarity = await self._scan(scoped, vector)
        if keys.size == 0:
            return []
        if keys.size > top_k:
            best = np.argpartition(-similarity, top_k - 1)[:top_k]
            keys, similarity = keys[best], similarity[best]
        order = np.lexsort((keys, -similarity))
        ranked = [(int(keys[i]), float(similarity[i])) for i in order]
        found = await self.conn.execute(
            select(*_RECORD_COLUMNS).where(d.c.id.in_([k for k, _ in ranked]))
        )
        by_key = {row.id: row for row in found}
        return [to_record(by_key[key], score) for key, score in ranked]

    async def _scan(self, scoped: Select[Any], vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Keys and cosine similarities of every vector of the scope (SQLite: raw bytes, one
        numpy pass, and no ORDER BY, so SQLite never sorts the rows)."""
        stmt = scoped.with_only_columns(d.c.id, type_coerce(d.c.embedding, LargeBinary))
        result = await self.conn.execute(stmt.where(d.c.embedding.is_not(None)))
        cursor = getattr(result, "cursor", None)
        rows = cursor.fetchall() if cursor is not None else result.all()
        result.close()
        if not rows:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        query = np.asarray(vector, dtype=np.float32)
        keys = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4").reshape(len(rows), -1)
        # Embedders return unit vectors (the port's contract): the dot product is the cosine.
        return keys, matrix @ query

    async def records_in_namespace(
        self,
        workspace_id: str,
        observer_id: str,
        namespace: str,
        strategy_id: str,
        now: datetime,
    ) -> builtins.list[Record]:
        """Live records of one strategy in exactly that namespace, oldest first."""
        query = RecordQuery(
            workspace_id, observer_id, NamespaceScope(namespace=namespace), now, strategy_id
        )
        stmt = self._query(query).order_by(d.c.id)
        return [to_record(row) for row in await self.conn.execute(stmt)]

    async def purge_expired_records(self, now: datetime, limit: int) -> int:
        """Remove expired records of every memory."""
        expiry = d.c.metadata["expires_at"].as_string()
        doomed = (
            select(d.c.id)
            .where(
                d.c.workspace_id.in_(select(agentcore_memories.c.workspace_id)),
                d.c.peer_id.in_(select(agentcore_memories.c.observer_id)),
                expiry.is_not(None),
                expiry <= stamp(now),
            )
            .limit(limit)
        )
        keys = [row.id for row in await self.conn.execute(doomed)]
        if keys:
            await self.conn.execute(delete(d).where(d.c.id.in_(keys)))
        return len(keys)

    async def enqueue_extraction(
        self,
        workspace_id: str,
        peer_id: str,
        session_id: str,
        payload: JSONObject,
        now: datetime,
    ) -> None:
        """Queue one extraction job in the session's line of jobs."""
        await self.conn.execute(
            jobs.insert().values(
                kind=EXTRACT,
                status=JobStatus.PENDING.value,
                workspace_id=workspace_id,
                peer_id=peer_id,
                session_id=session_id,
                payload=payload,
                attempts=0,
                run_after=now,
                created_at=now,
                updated_at=now,
            )
        )

    async def list_extraction_jobs(
        self,
        workspace_id: str,
        failed_only: bool,
        session_id: str | None,
        peer_id: str | None,
        strategy_id: str | None,
        after: int | None,
        limit: int,
    ) -> builtins.list[ExtractionJob]:
        """Unfinished or dead extraction jobs in queue order."""
        statuses = [JobStatus.DEAD.value]
        if not failed_only:
            statuses += [JobStatus.PENDING.value, JobStatus.RUNNING.value]
        stmt = (
            select(
                jobs.c.id,
                jobs.c.status,
                jobs.c.payload,
                jobs.c.last_error,
                sessions.c.name.label("session"),
                peers.c.name.label("actor"),
            )
            .outerjoin(sessions, sessions.c.public_id == jobs.c.session_id)
            .outerjoin(peers, peers.c.public_id == jobs.c.peer_id)
            .where(
                jobs.c.workspace_id == workspace_id,
                jobs.c.kind == EXTRACT,
                jobs.c.status.in_(statuses),
            )
        )
        if session_id is not None:
            stmt = stmt.where(jobs.c.session_id == session_id)
        if peer_id is not None:
            stmt = stmt.where(jobs.c.peer_id == peer_id)
        if strategy_id is not None:
            stmt = stmt.where(
                json_contains(self.dialect, jobs.c.payload, {"strategy": strategy_id})
            )
        if after is not None:
            stmt = stmt.where(jobs.c.id > after)
        stmt = stmt.order_by(jobs.c.id).limit(limit)
        out = []
        for row in await self.conn.execute(stmt):
            payload = dict(row.payload or {})
            out.append(
                ExtractionJob(
                    key=int(row.id),
                    status=row.status,
                    session=row.session,
                    actor=row.actor,
                    strategy_id=payload.get("strategy"),
                    events=[(str(e), int(i)) for e, i in payload.get("messages") or []],
                    failure=row.last_error,
                )
            )
        return out

    async def restart_extraction_job(self, workspace_id: str, key: int, now: datetime) -> bool:
        """Dead jobs get fresh attempts; pending and running ones stay as they are."""
        mine = (
            jobs.c.id == key,
            jobs.c.workspace_id == workspace_id,
            jobs.c.kind == EXTRACT,
        )
        result = await self.conn.execute(
            update(jobs)
            .where(*mine, jobs.c.status == JobStatus.DEAD.value)
            .values(
                status=JobStatus.PENDING.value,
                attempts=0,
                run_after=now,
                updated_at=now,
                finished_at=None,
            )
        )
        if result.rowcount:
            return True
        unfinished = select(jobs.c.id).where(
            *mine, jobs.c.status.in_([JobStatus.PENDING.value, JobStatus.RUNNING.value])
        )
        return (await self.conn.execute(unfinished)).first() is not None
