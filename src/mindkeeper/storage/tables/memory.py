"""Tables of the memory model: workspaces, peers, sessions and their members, messages, notes,
collections, documents.

Every table has a hidden integer `id` (the ordering key) and a 21-character public id, and
carries the public id of its workspace (the tenant key). Foreign keys reference public ids, so
scoped lookups need no joins.

Names: workspaces, peers and sessions are addressed by `name` on the Honcho v3 surface and by
public id on v1. A session's `peer_id` is its owner on the v1 surface (a v1 user) and is null
for sessions created on v3; who takes part is `session_peers`. A message's `sender_id` is the
peer that wrote it; its `peer_id` is the owner of its session (null on v3-only sessions).
A collection belongs to an observer peer (`peer_id`) and, when it holds conclusions, names the
observed peer (`observed_id`); its documents repeat both for scoped reads.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.schema import SchemaItem
from sqlalchemy.sql.elements import TextClause

from mindkeeper.storage.schema import metadata
from mindkeeper.storage.types import Embedding, IdentityKey, JSONType, UTCDateTime

PUBLIC_ID_LENGTH = 21
NAME_MAX = 512
CONTENT_MAX = 65_535
#: Levels of a conclusion (documents of the v1 surface have none).
LEVELS = ("explicit", "deductive", "inductive", "contradiction")


def _empty_object() -> TextClause:
    return text("'{}'")


def _ref(name: str, target: str, nullable: bool = False) -> Column[str]:
    return Column(
        name, String(PUBLIC_ID_LENGTH), ForeignKey(f"{target}.public_id"), nullable=nullable
    )


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
    Column("configuration", JSONType, nullable=False, server_default=_empty_object()),
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
    Column("configuration", JSONType, nullable=False, server_default=_empty_object()),
    # The application side of v1 messages (`is_user: false`), hidden from v1 user lists.
    Column("synthetic", Boolean, nullable=False, server_default=text("false")),
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
    Column("peer_id", String(PUBLIC_ID_LENGTH), ForeignKey("peers.public_id"), nullable=True),
    Column("name", Text, nullable=False),
    Column("configuration", JSONType, nullable=False, server_default=_empty_object()),
    UniqueConstraint("workspace_id", "name"),
    CheckConstraint(f"length(name) <= {NAME_MAX}", name="name_length"),
    Index(None, "peer_id", "id"),
    Index(None, "workspace_id", "id"),
)

session_peers = Table(
    "session_peers",
    metadata,
    Column("id", IdentityKey, primary_key=True, autoincrement=True),
    _ref("workspace_id", "workspaces"),
    _ref("session_id", "sessions"),
    _ref("peer_id", "peers"),
    Column("observe_me", Boolean, nullable=True),
    Column("observe_others", Boolean, nullable=True),
    Column("joined_at", UTCDateTime(), nullable=False),
    Column("left_at", UTCDateTime(), nullable=True),
    UniqueConstraint("session_id", "peer_id"),
    Index(None, "peer_id", "session_id"),
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
    Column("peer_id", String(PUBLIC_ID_LENGTH), ForeignKey("peers.public_id"), nullable=True),
    _ref("sender_id", "peers"),
    # Position in the session, from 1, without gaps.
    Column("seq", Integer, nullable=False),
    Column("token_count", Integer, nullable=False, server_default=text("0")),
    # Events of memory resources (tables/agentcore.py): the items as JSON bytes (sealed when
    # the memory has a key), the branch and its root event, a hash of the client token, and
    # when the event expires.
    Column("payload", LargeBinary, nullable=True),
    Column("branch", String(100), nullable=True),
    Column("branch_root", String(128), nullable=True),
    Column("client_token", String(64), nullable=True),
    Column("expires_at", UTCDateTime(), nullable=True),
    CheckConstraint(f"length(content) <= {CONTENT_MAX}", name="content_length"),
    Index(None, "session_id", "id"),
    Index(None, "workspace_id", "sender_id", "id"),
    # Partial indexes: only events carry these, so other messages cost them nothing.
    Index(
        None,
        "session_id",
        "sender_id",
        "created_at",
        "id",
        postgresql_where=text("payload IS NOT NULL"),
        sqlite_where=text("payload IS NOT NULL"),
    ),
    Index(
        None,
        "expires_at",
        postgresql_where=text("expires_at IS NOT NULL"),
        sqlite_where=text("expires_at IS NOT NULL"),
    ),
    Index(
        None,
        "workspace_id",
        "client_token",
        unique=True,
        postgresql_where=text("client_token IS NOT NULL"),
        sqlite_where=text("client_token IS NOT NULL"),
    ),
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
    _ref("observed_id", "peers", nullable=True),
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
    _ref("observed_id", "peers", nullable=True),
    # Provenance of a conclusion: the session its source messages came from.
    Column("session_id", String(PUBLIC_ID_LENGTH), nullable=True),
    Column("level", String(16), nullable=True),
    Column("source_ids", JSONType, nullable=True),
    Column("times_derived", Integer, nullable=False, server_default=text("1")),
    Column("deleted_at", UTCDateTime(), nullable=True),
    CheckConstraint(f"length(content) <= {CONTENT_MAX}", name="content_length"),
    CheckConstraint(
        "level IS NULL OR level IN ('explicit', 'deductive', 'inductive', 'contradiction')",
        name="level",
    ),
    Index(None, "collection_id", "id"),
    Index(None, "workspace_id", "peer_id", "observed_id", "id"),
)
