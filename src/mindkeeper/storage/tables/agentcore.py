"""Tables of memory resources (AgentCore memories) and their idempotency tokens.

A memory row belongs to an account and owns one workspace (`workspace_id`, the tenant key of
everything under it: peers, sessions, messages, collections, documents, jobs). Its settings
(strategies, indexed and namespace keys, expiry) are one JSON document; `observer_id` is the
synthetic peer that keeps the memory's record collections. Events are rows of `messages` (see
`tables/memory.py`: `payload`, `branch`, `branch_root`, `client_token`, `expires_at`).

`agentcore_requests` remembers the idempotency token of each write that carries one (except
CreateEvent, whose token is kept on its message): a hash of the token, a fingerprint of the
request and the result to answer a retry with.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from mindkeeper.storage.schema import metadata
from mindkeeper.storage.tables.memory import PUBLIC_ID_LENGTH
from mindkeeper.storage.types import IdentityKey, JSONType, UTCDateTime

ACCOUNT_MAX = 64
MEMORY_ID_MAX = 128
MEMORY_STATUSES = ("CREATING", "ACTIVE", "FAILED", "UPDATING", "DELETING")

agentcore_memories = Table(
    "agentcore_memories",
    metadata,
    Column("id", IdentityKey, primary_key=True, autoincrement=True),
    Column("public_id", String(PUBLIC_ID_LENGTH), nullable=False, unique=True),
    Column("account_id", String(ACCOUNT_MAX), nullable=False),
    Column(
        "workspace_id",
        String(PUBLIC_ID_LENGTH),
        ForeignKey("workspaces.public_id"),
        nullable=False,
        unique=True,
    ),
    Column("observer_id", String(PUBLIC_ID_LENGTH), ForeignKey("peers.public_id"), nullable=False),
    Column("memory_id", String(MEMORY_ID_MAX), nullable=False),
    Column("name", String(48), nullable=False),
    Column("status", String(16), nullable=False),
    Column("settings", JSONType, nullable=False),
    Column("key_ref", Text, nullable=True),
    Column("tags", JSONType, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("account_id", "memory_id"),
    UniqueConstraint("account_id", "name"),
    CheckConstraint(
        "status IN (" + ", ".join(f"'{s}'" for s in MEMORY_STATUSES) + ")", name="status"
    ),
    Index(None, "account_id", "created_at", "id"),
)

agentcore_requests = Table(
    "agentcore_requests",
    metadata,
    Column("id", IdentityKey, primary_key=True, autoincrement=True),
    Column("account_id", String(ACCOUNT_MAX), nullable=False),
    Column(
        "workspace_id", String(PUBLIC_ID_LENGTH), ForeignKey("workspaces.public_id"), nullable=False
    ),
    Column("operation", String(64), nullable=False),
    Column("token", String(64), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("result", JSONType, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("account_id", "operation", "token"),
    Index(None, "created_at"),
)
