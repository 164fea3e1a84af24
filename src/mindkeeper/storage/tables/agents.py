"""Tables of the agent-session store: sessions, invocations, invocation steps and session tags.

Children reference their parent's integer key with ON DELETE CASCADE, so deleting or purging a
session is one statement. `metadata` and `payload` are opaque bytes: the JSON as received, or
its AES-GCM sealed form when the session names an encryption key (`key_ref`).

Every row carries its tenant key, `account_id` (children copy their session's), and every
query of a session's data filters by it. Every listing (newest first) has an index that
serves its order: (account, parent, time, id). The one exception, (invocation, time, id),
leads with the invocation because the ON DELETE CASCADE from `invocations` looks steps up by
`invocation_key` alone; its listing filters the account on the rows the index finds.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from mindkeeper.storage.schema import metadata
from mindkeeper.storage.types import IdentityKey, UTCDateTime

UUID_LENGTH = 36
ACCOUNT_MAX = 64
#: Children's copy of their session's account: AWS account ids are 12 digits.
ACCOUNT_ID_LENGTH = 12

agent_sessions = Table(
    "agent_sessions",
    metadata,
    Column("id", IdentityKey, primary_key=True, autoincrement=True),
    Column("public_id", String(UUID_LENGTH), nullable=False),
    Column("account_id", String(ACCOUNT_MAX), nullable=False),
    Column("status", String(16), nullable=False),
    Column("metadata", LargeBinary, nullable=False),
    Column("key_ref", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_updated_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime(), nullable=True),
    UniqueConstraint("account_id", "public_id"),
    CheckConstraint("status IN ('ACTIVE', 'ENDED', 'EXPIRED')", name="status"),
    Index(None, "account_id", "created_at", "id"),
    Index(None, "last_updated_at"),
)

invocations = Table(
    "invocations",
    metadata,
    Column("id", IdentityKey, primary_key=True, autoincrement=True),
    Column(
        "session_key",
        IdentityKey,
        ForeignKey("agent_sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("account_id", String(ACCOUNT_ID_LENGTH), nullable=False),
    Column("public_id", String(UUID_LENGTH), nullable=False),
    Column("description", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("session_key", "public_id"),
    Index(None, "account_id", "session_key", "created_at", "id"),
)

invocation_steps = Table(
    "invocation_steps",
    metadata,
    Column("id", IdentityKey, primary_key=True, autoincrement=True),
    Column(
        "session_key",
        IdentityKey,
        ForeignKey("agent_sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "invocation_key",
        IdentityKey,
        ForeignKey("invocations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("account_id", String(ACCOUNT_ID_LENGTH), nullable=False),
    Column("public_id", String(UUID_LENGTH), nullable=False),
    Column("step_time", UTCDateTime(), nullable=False),
    Column("step_time_digits", SmallInteger, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("session_key", "public_id"),
    CheckConstraint("step_time_digits BETWEEN 0 AND 6", name="step_time_digits"),
    Index(None, "account_id", "session_key", "step_time", "id"),
    Index(None, "invocation_key", "step_time", "id"),
)

agent_session_tags = Table(
    "agent_session_tags",
    metadata,
    Column(
        "session_key",
        IdentityKey,
        ForeignKey("agent_sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("account_id", String(ACCOUNT_ID_LENGTH), nullable=False),
    Column("key", String(128), nullable=False),
    Column("value", String(256), nullable=False),
    PrimaryKeyConstraint("session_key", "key"),
)
