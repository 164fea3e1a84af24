"""Tables of derived memory beside documents: peer cards and message vectors.

`peer_cards` holds one short list of strings per (observer, observed) pair of a workspace.
`message_vectors` holds the embedding of a message for search by meaning, written after the
message (by the worker), so message inserts stay cheap; on PostgreSQL each indexed dimension
has an HNSW index, as for documents (see `tables/jobs.py`).

`MESSAGE_TEXT_INDEX` serves search by text on PostgreSQL: a GIN index over the English
`to_tsvector` of message contents (the expression the search uses). As for the HNSW indexes,
the SQLite migration creates an empty placeholder of the same name.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    func,
    text,
)

from mindkeeper.storage.schema import metadata
from mindkeeper.storage.tables.jobs import HNSW_DIMENSIONS, hnsw_index
from mindkeeper.storage.tables.memory import PUBLIC_ID_LENGTH, messages
from mindkeeper.storage.types import Embedding, IdentityKey, JSONType, UTCDateTime


def _ref(name: str, target: str, ondelete: str | None = None) -> Column[str]:
    return Column(
        name,
        String(PUBLIC_ID_LENGTH),
        ForeignKey(f"{target}.public_id", ondelete=ondelete),
        nullable=False,
    )


peer_cards = Table(
    "peer_cards",
    metadata,
    Column("id", IdentityKey, primary_key=True, autoincrement=True),
    _ref("workspace_id", "workspaces"),
    _ref("observer_id", "peers"),
    _ref("observed_id", "peers"),
    Column("card", JSONType, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("observer_id", "observed_id"),
)

message_vectors = Table(
    "message_vectors",
    metadata,
    Column("id", IdentityKey, primary_key=True, autoincrement=True),
    _ref("workspace_id", "workspaces"),
    _ref("message_id", "messages", ondelete="CASCADE"),
    Column("embedding", Embedding(), nullable=False),
    Column("embedding_model", String(200), nullable=False),
    Column("embedding_dim", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("message_id"),
    Index(None, "workspace_id", "id"),
)

MESSAGE_HNSW_INDEXES = tuple(hnsw_index(message_vectors, dim) for dim in HNSW_DIMENSIONS)

#: The text search configuration of message search (PostgreSQL).
TEXT_SEARCH_CONFIG = "english"
MESSAGE_TEXT_INDEX = Index(
    "ix_messages_content_fts",
    func.to_tsvector(text(f"'{TEXT_SEARCH_CONFIG}'::regconfig"), messages.c.content),
    postgresql_using="gin",
).ddl_if(dialect="postgresql")
