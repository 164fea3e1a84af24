"""Tables of the memory model: workspaces, peers, sessions, messages, notes, collections, documents.

Every table has a hidden integer `id` (the ordering key) and a 21-character public id.
Foreign keys reference public ids, so scoped lookups need no joins.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.schema import SchemaItem

from mindkeeper.storage.schema import metadata
from mindkeeper.storage.types import Embedding, IdentityKey, JSONType, UTCDateTime

PUBLIC_ID_LENGTH = 21
NAME_MAX = 512
CONTENT_MAX = 65_535


def _public_id() -> Column[str]:
    return Column("public_id", String(PUBLIC_ID_LENGTH), nullable=False, unique=True)


def _common() -> list[SchemaItem]:
    return [
        Column("id", IdentityKey, primary_key=True, autoincrement=True),
        _public_id(),
        Column("metadata", JSONType, nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        CheckConstraint(f"length(public_id) = {PUBLIC_ID_LENGTH}", name="public_id_length"),
    ]


workspaces = Table(
    "workspaces",
    metadata,
    *_common(),
    Column("name", Text, nullable=False, unique=True),
    CheckConstraint(f"length(name) <= {NAME_MAX}", name="name_length"),
)

peers = Table(
    "peers",
    metadata,
    *_common(),
    Column("name", Text, nullable=False),
    Column(
        "workspace_id", String(PUBLIC_ID_LENGTH), ForeignKey("workspaces.public_id"), nullable=False
    ),
    UniqueConstraint("workspace_id", "name"),
    CheckConstraint(f"length(name) <= {NAME_MAX}", name="name_length"),
)

sessions = Table(
    "sessions",
    metadata,
    *_common(),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    Column("message_count", Integer, nullable=False, server_default=text("0")),
    Column(
        "workspace_id", String(PUBLIC_ID_LENGTH), ForeignKey("workspaces.public_id"), nullable=False
    ),
    Column("peer_id", String(PUBLIC_ID_LENGTH), ForeignKey("peers.public_id"), nullable=False),
    Index(None, "peer_id", "id"),
)

messages = Table(
    "messages",
    metadata,
    *_common(),
    Column(
        "session_id", String(PUBLIC_ID_LENGTH), ForeignKey("sessions.public_id"), nullable=False
    ),
    Column("is_user", Boolean, nullable=False),
    Column("content", Text, nullable=False),
    Column(
        "workspace_id", String(PUBLIC_ID_LENGTH), ForeignKey("workspaces.public_id"), nullable=False
    ),
    Column("peer_id", String(PUBLIC_ID_LENGTH), ForeignKey("peers.public_id"), nullable=False),
    CheckConstraint(f"length(content) <= {CONTENT_MAX}", name="content_length"),
    Index(None, "session_id", "id"),
)

notes = Table(
    "notes",
    metadata,
    *_common(),
    Column("label", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("session_id", String(PUBLIC_ID_LENGTH), ForeignKey("sessions.public_id"), nullable=True),
    Column("message_id", String(PUBLIC_ID_LENGTH), ForeignKey("messages.public_id"), nullable=True),
    Column(
        "workspace_id", String(PUBLIC_ID_LENGTH), ForeignKey("workspaces.public_id"), nullable=False
    ),
    Column("peer_id", String(PUBLIC_ID_LENGTH), ForeignKey("peers.public_id"), nullable=False),
    CheckConstraint(f"length(content) <= {CONTENT_MAX}", name="content_length"),
    CheckConstraint(f"length(label) <= {NAME_MAX}", name="label_length"),
    CheckConstraint("message_id IS NULL OR session_id IS NOT NULL", name="message_needs_session"),
    Index(None, "peer_id", "label", "id"),
    Index(None, "session_id", "label", "id"),
    Index(None, "message_id", "label", "id"),
)

collections = Table(
    "collections",
    metadata,
    *_common(),
    Column("name", Text, nullable=False),
    Column(
        "workspace_id", String(PUBLIC_ID_LENGTH), ForeignKey("workspaces.public_id"), nullable=False
    ),
    Column("peer_id", String(PUBLIC_ID_LENGTH), ForeignKey("peers.public_id"), nullable=False),
    UniqueConstraint("peer_id", "name"),
    CheckConstraint(f"length(name) <= {NAME_MAX}", name="name_length"),
)

documents = Table(
    "documents",
    metadata,
    *_common(),
    Column("content", Text, nullable=False),
    Column("embedding", Embedding(), nullable=True),
    Column("embedding_model", String(200), nullable=True),
    Column("embedding_dim", Integer, nullable=True),
    Column(
        "collection_id",
        String(PUBLIC_ID_LENGTH),
        ForeignKey("collections.public_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "workspace_id", String(PUBLIC_ID_LENGTH), ForeignKey("workspaces.public_id"), nullable=False
    ),
    Column("peer_id", String(PUBLIC_ID_LENGTH), ForeignKey("peers.public_id"), nullable=False),
    CheckConstraint(f"length(content) <= {CONTENT_MAX}", name="content_length"),
    Index(None, "collection_id", "id"),
)
