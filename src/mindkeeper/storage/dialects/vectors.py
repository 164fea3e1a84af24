"""Vector search per database: a numpy scan on SQLite; on PostgreSQL, exact for small
collections and HNSW for large ones.

SQLite (`sqlite_nearest_keys`): the candidates' ids and raw float32 bytes are read (nothing
else: no row objects, no JSON, no sort in SQL), joined into one matrix and ranked by distance
then id, so ties keep id order, as on PostgreSQL where `ORDER BY distance, id` breaks them.

`documents.embedding` has no fixed dimension, so each HNSW index (migration 0003) covers one
dimension through the expression `embedding::vector(N)` and the predicate `embedding_dim = N`.
The planner uses such an index only when the query orders by the same expression, so the
choice is made here: `cosine_distance(..., approximate=True)` casts both sides to
`vector(N)`; the plain `embedding <=> q` (approximate=False) never matches the index and is an
exact scan.

A collection gets the approximate path when it holds more than `ANN_MIN_ROWS` documents of that
dimension (counted with an index-only scan that stops there) and the dimension has an index.
The query then sets, for its transaction only, `hnsw.ef_search` (candidate list) and, on
pgvector >= 0.8, `hnsw.iterative_scan = strict_order`, so that the other filters of the query
(collection, model, metadata, distance bound) do not starve the result and the order stays
exact among what is returned.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pgvector.sqlalchemy import VECTOR
from sqlalchemy import (
    ColumnElement,
    Float,
    LargeBinary,
    Select,
    TextClause,
    bindparam,
    cast,
    literal_column,
    text,
    type_coerce,
)

from mindkeeper.storage.types import Embedding

#: Below this many vectors in a collection an exact scan is fast (a few ms) and exact.
ANN_MIN_ROWS = 10_000
#: HNSW candidate list per query (pgvector's default is 40; 100 keeps recall@10 near 0.96).
EF_SEARCH = 100
INDEXED_DIMENSIONS = frozenset({384, 768, 1024, 1536})
#: Rounding slack of a float32 matrix product, beyond which two distances are not a tie.
_TIE_MARGIN = 1e-5


def _size_check(table: str, key: str) -> TextClause:
    """Whether more than `ANN_MIN_ROWS` rows of one dimension share a `key` (counting stops
    there), and whether pgvector is 0.8 or later (iterative index scans)."""
    return text(
        "SELECT count(*) > :threshold AS large, "
        "(SELECT string_to_array(extversion, '.')::int[] >= ARRAY[0, 8] "
        " FROM pg_extension WHERE extname = 'vector') AS iterative "
        f"FROM (SELECT 1 FROM {table} WHERE {key} = :key "
        "AND embedding_dim = :dim LIMIT :limit) AS s"
    )


_LARGE_COLLECTION = _size_check("documents", "collection_id")
_LARGE_MESSAGE_WORKSPACE = _size_check("message_vectors", "workspace_id")


async def _prefer(conn: Any, check: TextClause, key: str, dim: int) -> bool:
    if dim not in INDEXED_DIMENSIONS:
        return False
    params = {"threshold": ANN_MIN_ROWS, "key": key, "dim": dim, "limit": ANN_MIN_ROWS + 1}
    row = (await conn.execute(check, params)).one()
    if not row.large:
        return False
    settings = f"SELECT set_config('hnsw.ef_search', '{EF_SEARCH}', true)"
    if row.iterative:
        settings += ", set_config('hnsw.iterative_scan', 'strict_order', true)"
    await conn.execute(text(settings))
    return True


async def prefer_ann(conn: Any, collection_id: str, dim: int) -> bool:
    """True when the collection is large enough for HNSW; then tune this transaction for it."""
    return await _prefer(conn, _LARGE_COLLECTION, collection_id, dim)


async def prefer_ann_for_messages(conn: Any, workspace_id: str, dim: int) -> bool:
    """`prefer_ann` for the message vectors of a workspace."""
    return await _prefer(conn, _LARGE_MESSAGE_WORKSPACE, workspace_id, dim)


def cosine_distance(
    column: Any, vector: np.ndarray, dim: int, approximate: bool
) -> ColumnElement[float]:
    """`column <=> vector`, in the form the HNSW index of `dim` serves when `approximate`."""
    if approximate:
        query = cast(bindparam("query_vector", vector, type_=Embedding()), VECTOR(dim))
        return cast(column, VECTOR(dim)).op("<=>", return_type=Float())(query)
    query_param = bindparam("query_vector", vector, type_=Embedding())
    return column.op("<=>", return_type=Float())(query_param)  # type: ignore[no-any-return]


def dimension_predicate(column: Any, dim: int) -> ColumnElement[bool]:
    """`embedding_dim = N` with N inline, so that even a generic plan can use the partial index."""
    return column == literal_column(str(int(dim)))  # type: ignore[no-any-return]


async def sqlite_nearest_keys(
    conn: Any,
    scoped: Select[Any],
    table: Any,
    query: np.ndarray,
    top_k: int,
    max_distance: float | None,
) -> list[int]:
    """Rank the rows of `scoped` by cosine distance to `query`; return the best keys in order."""
    stmt = scoped.with_only_columns(table.c.id, type_coerce(table.c.embedding, LargeBinary)).where(
        table.c.embedding.is_not(None)
    )
    result = await conn.execute(stmt)
    # Plain DBAPI tuples: building 100k SQLAlchemy rows would cost as much as the read itself.
    cursor = getattr(result, "cursor", None)
    rows = cursor.fetchall() if cursor is not None else result.all()
    result.close()
    if not rows or top_k <= 0:
        return []
    vector = np.asarray(query, dtype=np.float32)
    keys = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4")
    matrix = matrix.reshape(len(rows), vector.shape[0])
    norms = np.linalg.norm(matrix, axis=1) * float(np.linalg.norm(vector))
    distances = 1.0 - (matrix @ vector) / (norms + 1e-12)
    # BLAS may round equal rows differently (a row in a kernel's remainder block), which would
    # break exact ties out of insertion order: the rows that can reach the top are measured
    # again, row by row, and ranked on that.
    bound = float(np.partition(distances, min(top_k, len(rows)) - 1)[min(top_k, len(rows)) - 1])
    if max_distance is not None:
        bound = min(bound, max_distance)
    near = np.nonzero(distances <= bound + _TIE_MARGIN)[0]
    exact = 1.0 - np.einsum("ij,j->i", matrix[near], vector) / (norms[near] + 1e-12)
    ranked = np.lexsort((keys[near], exact))
    if max_distance is not None:
        ranked = ranked[exact[ranked] < max_distance]
    return [int(k) for k in keys[near[ranked[:top_k]]]]
