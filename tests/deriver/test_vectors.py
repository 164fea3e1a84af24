"""Vector search: the same order on both databases (ties by id), HNSW on large PG collections."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from sqlalchemy import event, insert

from mindkeeper.bootstrap import AppRuntime, build_runtime
from mindkeeper.core.ports import StoredVector
from mindkeeper.core.ports.derived import SearchScope
from mindkeeper.core.services import collections, peers, workspaces
from mindkeeper.core.values import new_id
from mindkeeper.storage.dialects import vectors
from mindkeeper.storage.repositories.message_index import SqlMessageIndexRepository
from mindkeeper.storage.tables import documents
from mindkeeper.storage.tables import messages as messages_table
from mindkeeper.storage.tables import peers as peers_table
from mindkeeper.storage.tables import sessions as sessions_table
from mindkeeper.storage.tables.derived import message_vectors
from tests.conftest import make_settings

DIM = 384


@pytest.fixture
async def runtime(database_url: str) -> AsyncIterator[AppRuntime]:
    rt = build_runtime(
        make_settings(database_url, embedder="none", worker_enabled=False),
        embedder=None,
        chat_model=None,
    )
    yield rt
    await rt.close()


async def _collection(rt: AppRuntime) -> Any:
    ws = await workspaces.create(rt.uow(), "v", {})
    peer = await peers.create(rt.uow(), ws.id, "u", {})
    return await collections.create(rt.uow(), ws.id, peer.id, "docs", {})


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


async def test_exact_order_is_the_same_on_both_databases(runtime: AppRuntime) -> None:
    rng = np.random.default_rng(7)
    base = _unit(rng, 40)
    # Duplicates tie exactly: the older document (lower id) must come first everywhere.
    vecs = np.vstack([base, base[3:4], base[3:4], base[10:11]])
    coll = await _collection(runtime)
    now = datetime.now(UTC)
    async with runtime.uow() as uow:
        docs = [
            await uow.documents.create(coll, f"doc {i}", {"i": i}, StoredVector(v, "m"), now)
            for i, v in enumerate(vecs)
        ]
        other = StoredVector(_unit(rng, 1)[0], "other-model")
        await uow.documents.create(coll, "other model", {}, other, now)
        await uow.commit()
    query = base[3] * 0.9 + base[10] * 0.1
    query /= np.linalg.norm(query)
    distances = 1.0 - vecs @ query
    expected = sorted(range(len(vecs)), key=lambda i: (round(float(distances[i]), 5), i))[:10]
    async with runtime.uow(write=False) as uow:
        found = await uow.documents.nearest(
            coll.workspace_id, coll.peer_id, coll.id, StoredVector(query, "m"), None, 10
        )
        bounded = await uow.documents.nearest(
            coll.workspace_id, coll.peer_id, coll.id, StoredVector(query, "m"), {"i": 3}, 5, 0.5
        )
    assert [d.id for d in found] == [docs[i].id for i in expected]
    assert found[:3] == [docs[3], docs[40], docs[41]]  # the tie, broken by id
    assert [d.content for d in bounded] == ["doc 3"]
    assert all(d.content != "other model" for d in found)  # never compared across models


async def test_large_postgres_collections_use_the_hnsw_index(
    runtime: AppRuntime, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("HNSW is PostgreSQL's")
    coll = await _collection(runtime)
    now = datetime.now(UTC)
    rows = [
        {
            "public_id": new_id(),
            "content": f"d{i}",
            "metadata": {},
            "created_at": now,
            "collection_id": coll.id,
            "workspace_id": coll.workspace_id,
            "peer_id": coll.peer_id,
            "embedding": None,  # counted by the size check, cheap to insert (not indexed)
            "embedding_model": "m",
            "embedding_dim": DIM,
        }
        for i in range(vectors.ANN_MIN_ROWS + 1)
    ]
    async with runtime.database.engine.begin() as conn:
        await conn.execute(insert(documents), rows)
        await conn.exec_driver_sql("ANALYZE documents")
    query = StoredVector(_unit(np.random.default_rng(1), 1)[0], "m")
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "FROM documents" in statement and "<=>" in statement:
            captured.append((statement, params))

    sync_engine = runtime.database.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", capture)
    try:
        async with runtime.uow(write=False) as uow:
            assert await vectors.prefer_ann(uow.connection, coll.id, DIM)
            await uow.documents.nearest(coll.workspace_id, coll.peer_id, coll.id, query, None, 10)
    finally:
        event.remove(sync_engine, "before_cursor_execute", capture)
    (statement, params), *_ = captured
    assert "CAST(documents.embedding AS VECTOR(384)) <=>" in statement
    assert "documents.embedding_dim = 384" in statement
    async with runtime.database.engine.connect() as conn:
        plan = await conn.exec_driver_sql("EXPLAIN " + statement, params)
        text = "\n".join(row[0] for row in plan)
    assert "Index Scan using ix_documents_embedding_hnsw_384" in text, text
    async with runtime.uow(write=False) as uow:  # a small collection stays exact
        small = await _collection_small(runtime)
        assert not await vectors.prefer_ann(uow.connection, small, DIM)


async def _collection_small(rt: AppRuntime) -> str:
    ws = await workspaces.create(rt.uow(), "small", {})
    peer = await peers.create(rt.uow(), ws.id, "u", {})
    return (await collections.create(rt.uow(), ws.id, peer.id, "docs", {})).id


async def _sessions_with_vectors(rt: AppRuntime, sessions: int, per_session: int) -> list[str]:
    """A workspace whose sessions hold embedded messages; returns its id and session ids."""
    ws = await workspaces.create(rt.uow(), "plans", {})
    now = datetime.now(UTC)
    async with rt.database.engine.begin() as conn:
        sender = new_id()
        await conn.execute(
            insert(peers_table),
            [
                {
                    "public_id": sender,
                    "workspace_id": ws.id,
                    "name": "p",
                    "metadata": {},
                    "configuration": {},
                    "created_at": now,
                }
            ],
        )
        ids = [new_id() for _ in range(sessions)]
        await conn.execute(
            insert(sessions_table),
            [
                {
                    "public_id": s,
                    "workspace_id": ws.id,
                    "name": s,
                    "metadata": {},
                    "configuration": {},
                    "created_at": now,
                }
                for s in ids
            ],
        )
        rows = [(new_id(), s, n) for n in range(per_session) for s in ids]
        await conn.execute(
            insert(messages_table),
            [
                {
                    "public_id": m,
                    "workspace_id": ws.id,
                    "session_id": s,
                    "sender_id": sender,
                    "is_user": True,
                    "content": f"message {n}",
                    "metadata": {},
                    "created_at": now,
                    "seq": n + 1,
                    "token_count": 2,
                }
                for m, s, n in rows
            ],
        )
        vecs = _unit(np.random.default_rng(3), len(rows))
        await conn.execute(
            insert(message_vectors),
            [
                {
                    "workspace_id": ws.id,
                    "message_id": m,
                    "embedding": vec,
                    "embedding_model": "m",
                    "embedding_dim": DIM,
                    "created_at": now,
                }
                for (m, _, _), vec in zip(rows, vecs, strict=True)
            ],
        )
        if conn.dialect.name == "postgresql":
            await conn.exec_driver_sql("ANALYZE")
    return [ws.id, *ids]


async def test_session_search_reads_the_sessions_messages_first(runtime: AppRuntime) -> None:
    """Search within a session starts from the session's messages (by meaning and by text),
    not from every vector or message of the workspace."""
    workspace_id, session_id, *_ = await _sessions_with_vectors(runtime, 20, 50)
    scope = SearchScope(workspace_id, session_id)
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().startswith("SELECT messages.id"):
            captured.append((statement, params))

    engine = runtime.database.engine
    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with engine.connect() as conn:
            index = SqlMessageIndexRepository(conn, conn.dialect.name)
            query = _unit(np.random.default_rng(2), 1)[0]
            assert len(await index.nearest(scope, query, "m", 5)) == 5
            assert len(await index.text_matches(scope, "message 4", 5)) == 5
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    assert len(captured) == 2
    sqlite = engine.dialect.name == "sqlite"
    async with engine.connect() as conn:
        for statement, params in captured:
            prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
            rows = await conn.exec_driver_sql(prefix + statement, params)
            plan = [str(row[-1]) for row in rows]
            # SQLite's first loop is the outermost; PostgreSQL's plan names it somewhere.
            if sqlite:
                read = next(p for p in plan if "SCAN" in p or "SEARCH" in p)
            else:
                read = "\n".join(plan)
            assert "ix_messages_session_id_id" in read, plan
            assert "workspace_id_id" not in "\n".join(plan), plan
