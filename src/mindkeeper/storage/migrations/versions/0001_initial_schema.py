"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import mindkeeper.storage.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.create_table(
        "workspaces",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=21), nullable=False),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "created_at", mindkeeper.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.CheckConstraint("length(name) <= 512", name=op.f("ck_workspaces_name_length")),
        sa.CheckConstraint("length(public_id) = 21", name=op.f("ck_workspaces_public_id_length")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspaces")),
        sa.UniqueConstraint("name", name=op.f("uq_workspaces_name")),
        sa.UniqueConstraint("public_id", name=op.f("uq_workspaces_public_id")),
    )
    op.create_table(
        "peers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=21), nullable=False),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "created_at", mindkeeper.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("workspace_id", sa.String(length=21), nullable=False),
        sa.CheckConstraint("length(name) <= 512", name=op.f("ck_peers_name_length")),
        sa.CheckConstraint("length(public_id) = 21", name=op.f("ck_peers_public_id_length")),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.public_id"],
            name=op.f("fk_peers_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_peers")),
        sa.UniqueConstraint("public_id", name=op.f("uq_peers_public_id")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_peers_workspace_id_name")),
    )
    op.create_table(
        "collections",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=21), nullable=False),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "created_at", mindkeeper.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("workspace_id", sa.String(length=21), nullable=False),
        sa.Column("peer_id", sa.String(length=21), nullable=False),
        sa.CheckConstraint("length(name) <= 512", name=op.f("ck_collections_name_length")),
        sa.CheckConstraint("length(public_id) = 21", name=op.f("ck_collections_public_id_length")),
        sa.ForeignKeyConstraint(
            ["peer_id"], ["peers.public_id"], name=op.f("fk_collections_peer_id_peers")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.public_id"],
            name=op.f("fk_collections_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collections")),
        sa.UniqueConstraint("peer_id", "name", name=op.f("uq_collections_peer_id_name")),
        sa.UniqueConstraint("public_id", name=op.f("uq_collections_public_id")),
    )
    op.create_table(
        "sessions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=21), nullable=False),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "created_at", mindkeeper.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("(true)"), nullable=False),
        sa.Column("message_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("workspace_id", sa.String(length=21), nullable=False),
        sa.Column("peer_id", sa.String(length=21), nullable=False),
        sa.CheckConstraint("length(public_id) = 21", name=op.f("ck_sessions_public_id_length")),
        sa.ForeignKeyConstraint(
            ["peer_id"], ["peers.public_id"], name=op.f("fk_sessions_peer_id_peers")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.public_id"],
            name=op.f("fk_sessions_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        sa.UniqueConstraint("public_id", name=op.f("uq_sessions_public_id")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sessions_peer_id_id"), ["peer_id", "id"], unique=False)

    op.create_table(
        "documents",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=21), nullable=False),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "created_at", mindkeeper.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("embedding", mindkeeper.storage.types.Embedding(), nullable=True),
        sa.Column("embedding_model", sa.String(length=200), nullable=True),
        sa.Column("embedding_dim", sa.Integer(), nullable=True),
        sa.Column("collection_id", sa.String(length=21), nullable=False),
        sa.Column("workspace_id", sa.String(length=21), nullable=False),
        sa.Column("peer_id", sa.String(length=21), nullable=False),
        sa.CheckConstraint("length(content) <= 65535", name=op.f("ck_documents_content_length")),
        sa.CheckConstraint("length(public_id) = 21", name=op.f("ck_documents_public_id_length")),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collections.public_id"],
            name=op.f("fk_documents_collection_id_collections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["peer_id"], ["peers.public_id"], name=op.f("fk_documents_peer_id_peers")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.public_id"],
            name=op.f("fk_documents_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("public_id", name=op.f("uq_documents_public_id")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_documents_collection_id_id"), ["collection_id", "id"], unique=False
        )

    op.create_table(
        "messages",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=21), nullable=False),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "created_at", mindkeeper.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("session_id", sa.String(length=21), nullable=False),
        sa.Column("is_user", sa.Boolean(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("workspace_id", sa.String(length=21), nullable=False),
        sa.Column("peer_id", sa.String(length=21), nullable=False),
        sa.CheckConstraint("length(content) <= 65535", name=op.f("ck_messages_content_length")),
        sa.CheckConstraint("length(public_id) = 21", name=op.f("ck_messages_public_id_length")),
        sa.ForeignKeyConstraint(
            ["peer_id"], ["peers.public_id"], name=op.f("fk_messages_peer_id_peers")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.public_id"], name=op.f("fk_messages_session_id_sessions")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.public_id"],
            name=op.f("fk_messages_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("public_id", name=op.f("uq_messages_public_id")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_messages_session_id_id"), ["session_id", "id"], unique=False
        )

    op.create_table(
        "notes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=21), nullable=False),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "created_at", mindkeeper.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("session_id", sa.String(length=21), nullable=True),
        sa.Column("message_id", sa.String(length=21), nullable=True),
        sa.Column("workspace_id", sa.String(length=21), nullable=False),
        sa.Column("peer_id", sa.String(length=21), nullable=False),
        sa.CheckConstraint("length(content) <= 65535", name=op.f("ck_notes_content_length")),
        sa.CheckConstraint("length(label) <= 512", name=op.f("ck_notes_label_length")),
        sa.CheckConstraint("length(public_id) = 21", name=op.f("ck_notes_public_id_length")),
        sa.CheckConstraint(
            "message_id IS NULL OR session_id IS NOT NULL",
            name=op.f("ck_notes_message_needs_session"),
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.public_id"], name=op.f("fk_notes_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["peer_id"], ["peers.public_id"], name=op.f("fk_notes_peer_id_peers")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.public_id"], name=op.f("fk_notes_session_id_sessions")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.public_id"],
            name=op.f("fk_notes_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
        sa.UniqueConstraint("public_id", name=op.f("uq_notes_public_id")),
    )
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notes_message_id_label_id"), ["message_id", "label", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_notes_peer_id_label_id"), ["peer_id", "label", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_notes_session_id_label_id"), ["session_id", "label", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notes_session_id_label_id"))
        batch_op.drop_index(batch_op.f("ix_notes_peer_id_label_id"))
        batch_op.drop_index(batch_op.f("ix_notes_message_id_label_id"))

    op.drop_table("notes")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_session_id_id"))

    op.drop_table("messages")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_collection_id_id"))

    op.drop_table("documents")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sessions_peer_id_id"))

    op.drop_table("sessions")
    op.drop_table("collections")
    op.drop_table("peers")
    op.drop_table("workspaces")
