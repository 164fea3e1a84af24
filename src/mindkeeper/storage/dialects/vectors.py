"""Vector search on PostgreSQL: exact scans for small collections, HNSW for large ones.

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
from sqlalchemy import ColumnElement, Float, bindparam, cast, literal_column, text

from mindkeeper.storage.types import Embedding

#: Below this many vectors in a collection an exact scan is fast (a few ms) and exact.
ANN_MIN_ROWS = 10_000
#: HNSW candidate list per query (pgvector's default is 40; 100 keeps recall@10 near 0.96).
EF_SEARCH = 100
INDEXED_DIMENSIONS = frozenset({384, 768, 1024, 1536})

_LARGE = text(
    "SELECT count(*) > :threshold AS large, "
    "(SELECT string_to_array(extversion, '.')::int[] >= ARRAY[0, 8] "
    " FROM pg_extension WHERE extname = 'vector') AS iterative "
    "FROM (SELECT 1 FROM documents WHERE collection_id = :collection_id "
    "AND embedding_dim = :dim LIMIT :limit) AS s"
)


async def prefer_ann(conn: Any, collection_id: str, dim: int) -> bool:
    """True when the collection is large enough for HNSW; then tune this transaction for it."""
    if dim not in INDEXED_DIMENSIONS:
        return False
    row = (
        await conn.execute(
            _LARGE,
            {
                "threshold": ANN_MIN_ROWS,
                "collection_id": collection_id,
                "dim": dim,
                "limit": ANN_MIN_ROWS + 1,
            },
        )
    ).one()
    if not row.large:
        return False
    settings = f"SELECT set_config('hnsw.ef_search', '{EF_SEARCH}', true)"
    if row.iterative:
        settings += ", set_config('hnsw.iterative_scan', 'strict_order', true)"
    await conn.execute(text(settings))
    return True


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
