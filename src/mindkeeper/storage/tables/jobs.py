"""Tables of background work: the durable job queue, and the vector indexes of documents.

`jobs` holds one row per unit of work (today: derive facts and summaries from one message).
A claim sets `status='running'`, a random `lease_token` and `lease_expires_at`; every later
change names the token. `updated_at` moves on every state change (not on lease renewals), so
`max(updated_at)` is the time of the queue's last progress.

HNSW indexes: `documents.embedding` is a `vector` without a fixed dimension (vectors of
several models live side by side), and pgvector indexes only fixed-dimension vectors, so each
index covers one dimension through an expression and a partial predicate:
`USING hnsw ((embedding::vector(384)) vector_cosine_ops) WHERE embedding_dim = 384`.
They exist on PostgreSQL only; the SQLite migration creates an empty placeholder index of the
same name (`WHERE 0`) so that schema comparison sees the same index names on both databases.
"""

from __future__ import annotations

from pgvector.sqlalchemy import VECTOR
from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    cast,
    text,
)

from mindkeeper.storage.schema import metadata
from mindkeeper.storage.tables.memory import PUBLIC_ID_LENGTH, documents
from mindkeeper.storage.types import IdentityKey, JSONType, UTCDateTime

#: Dimensions with an HNSW index: MiniLM / bge-small (384), nomic / bge-base (768),
#: bge-large / mxbai (1024) and OpenAI text-embedding-3-small / ada-002 (1536).
HNSW_DIMENSIONS = (384, 768, 1024, 1536)
ERROR_MAX = 2000

jobs = Table(
    "jobs",
    metadata,
    Column("id", IdentityKey, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column(
        "workspace_id", String(PUBLIC_ID_LENGTH), ForeignKey("workspaces.public_id"), nullable=False
    ),
    Column("peer_id", String(PUBLIC_ID_LENGTH), ForeignKey("peers.public_id"), nullable=True),
    Column("session_id", String(PUBLIC_ID_LENGTH), ForeignKey("sessions.public_id"), nullable=True),
    Column("message_id", String(PUBLIC_ID_LENGTH), ForeignKey("messages.public_id"), nullable=True),
    # What a job needs beyond its ids (observers of a derivation, a webhook event, ...).
    Column("payload", JSONType, nullable=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("run_after", UTCDateTime(), nullable=False),
    Column("lease_owner", String(128), nullable=True),
    Column("lease_token", String(64), nullable=True),
    Column("lease_expires_at", UTCDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    CheckConstraint("status IN ('pending', 'running', 'done', 'dead')", name="status"),
    # Claiming: the unfinished jobs of a session in order (the head is the first).
    Index(None, "session_id", "status", "id"),
    # Claiming and the backlog: unfinished jobs across sessions, oldest first.
    Index(None, "status", "id"),
    # Last progress of the queue (readiness).
    Index(None, "updated_at"),
)


def hnsw_index(table: Table, dim: int) -> Index:
    """A per-dimension HNSW index on `table.embedding` (PostgreSQL only)."""
    index = Index(
        f"ix_{table.name}_embedding_hnsw_{dim}",
        cast(table.c.embedding, VECTOR(dim)).label(f"embedding_{dim}"),
        postgresql_using="hnsw",
        postgresql_ops={f"embedding_{dim}": "vector_cosine_ops"},
        postgresql_where=text(f"embedding_dim = {dim}"),
    )
    return index.ddl_if(dialect="postgresql")


HNSW_INDEXES = tuple(hnsw_index(documents, dim) for dim in HNSW_DIMENSIONS)
