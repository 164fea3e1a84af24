"""memory resources: agentcore memories and idempotency tokens; event columns on messages

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

A memory resource owns a workspace; its events are messages, which gain the event's items
(`payload`, JSON bytes, sealed when the memory has a key), its branch and root event, a hash of
its client token and its expiry. The indexes on those columns are partial (only events carry
them), so other messages do not pay for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlalchemy.dialects.postgresql
from alembic import op

import mindkeeper.storage.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_ID = sa.String(length=21)


def _utc() -> mindkeeper.storage.types.UTCDateTime:
    return mindkeeper.storage.types.UTCDateTime(timezone=True)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def _where(condition: str) -> dict[str, Any]:
    return {"postgresql_where": sa.text(condition), "sqlite_where": sa.text(condition)}


def upgrade() -> None:
    op.create_table(
        "agentcore_memories",
        sa.Column("id", _KEY, autoincrement=True, nullable=False),
        sa.Column("public_id", _ID, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("observer_id", _ID, nullable=False),
        sa.Column("memory_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=48), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("settings", _json(), nullable=False),
        sa.Column("key_ref", sa.Text(), nullable=True),
        sa.Column("tags", _json(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.CheckConstraint(
            "status IN ('CREATING', 'ACTIVE', 'FAILED', 'UPDATING', 'DELETING')",
            name=op.f("ck_agentcore_memories_status"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.public_id"],
            name=op.f("fk_agentcore_memories_workspace_id_workspaces"),
        ),
        sa.ForeignKeyConstraint(
            ["observer_id"],
            ["peers.public_id"],
            name=op.f("fk_agentcore_memories_observer_id_peers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agentcore_memories")),
        sa.UniqueConstraint("public_id", name=op.f("uq_agentcore_memories_public_id")),
        sa.UniqueConstraint("workspace_id", name=op.f("uq_agentcore_memories_workspace_id")),
        sa.UniqueConstraint(
            "account_id", "memory_id", name=op.f("uq_agentcore_memories_account_id_memory_id")
        ),
        sa.UniqueConstraint(
            "account_id", "name", name=op.f("uq_agentcore_memories_account_id_name")
        ),
    )
    op.create_index(
        op.f("ix_agentcore_memories_account_id_created_at_id"),
        "agentcore_memories",
        ["account_id", "created_at", "id"],
    )
    op.create_table(
        "agentcore_requests",
        sa.Column("id", _KEY, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("result", _json(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.public_id"],
            name=op.f("fk_agentcore_requests_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agentcore_requests")),
        sa.UniqueConstraint(
            "account_id",
            "operation",
            "token",
            name=op.f("uq_agentcore_requests_account_id_operation_token"),
        ),
    )
    op.create_index(op.f("ix_agentcore_requests_created_at"), "agentcore_requests", ["created_at"])
    with op.batch_alter_table("messages") as b:
        b.add_column(sa.Column("payload", sa.LargeBinary(), nullable=True))
        b.add_column(sa.Column("branch", sa.String(length=100), nullable=True))
        b.add_column(sa.Column("branch_root", sa.String(length=128), nullable=True))
        b.add_column(sa.Column("client_token", sa.String(length=64), nullable=True))
        b.add_column(sa.Column("expires_at", _utc(), nullable=True))
    op.create_index(
        op.f("ix_messages_session_id_sender_id_created_at_id"),
        "messages",
        ["session_id", "sender_id", "created_at", "id"],
        **_where("payload IS NOT NULL"),
    )
    op.create_index(
        op.f("ix_messages_expires_at"),
        "messages",
        ["expires_at"],
        **_where("expires_at IS NOT NULL"),
    )
    op.create_index(
        op.f("ix_messages_workspace_id_client_token"),
        "messages",
        ["workspace_id", "client_token"],
        unique=True,
        **_where("client_token IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_messages_workspace_id_client_token"), table_name="messages")
    op.drop_index(op.f("ix_messages_expires_at"), table_name="messages")
    op.drop_index(op.f("ix_messages_session_id_sender_id_created_at_id"), table_name="messages")
    with op.batch_alter_table("messages") as b:
        b.drop_column("expires_at")
        b.drop_column("client_token")
        b.drop_column("branch_root")
        b.drop_column("branch")
        b.drop_column("payload")
    op.drop_index(op.f("ix_agentcore_requests_created_at"), table_name="agentcore_requests")
    op.drop_table("agentcore_requests")
    op.drop_index(
        op.f("ix_agentcore_memories_account_id_created_at_id"), table_name="agentcore_memories"
    )
    op.drop_table("agentcore_memories")
