"""jobs: the durable job queue of the deriver, and HNSW indexes on document vectors

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21

The HNSW indexes exist on PostgreSQL only (one per indexed dimension, an expression over
`embedding::vector(N)` restricted to `embedding_dim = N`). On SQLite each gets an empty
placeholder index of the same name (`WHERE 0`: it never holds a row), so that both databases
show the models' index names to schema comparison. Building them on a large existing table
takes a while (about 30 s per 100k 384-d vectors on 2 cores).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mindkeeper.storage.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
HNSW_DIMENSIONS = (384, 768, 1024, 1536)


def _utc() -> mindkeeper.storage.types.UTCDateTime:
    return mindkeeper.storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", _KEY, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("workspace_id", sa.String(length=21), nullable=False),
        sa.Column("peer_id", sa.String(length=21), nullable=False),
        sa.Column("session_id", sa.String(length=21), nullable=False),
        sa.Column("message_id", sa.String(length=21), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("run_after", _utc(), nullable=False),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_token", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", _utc(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("finished_at", _utc(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'done', 'dead')", name=op.f("ck_jobs_status")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.public_id"], name=op.f("fk_jobs_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["peer_id"], ["peers.public_id"], name=op.f("fk_jobs_peer_id_peers")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.public_id"], name=op.f("fk_jobs_session_id_sessions")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.public_id"],
            name=op.f("fk_jobs_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_jobs_session_id_status_id"), ["session_id", "status", "id"]
        )
        batch_op.create_index(batch_op.f("ix_jobs_status_id"), ["status", "id"])
        batch_op.create_index(batch_op.f("ix_jobs_updated_at"), ["updated_at"])

    postgres = op.get_bind().dialect.name == "postgresql"
    for dim in HNSW_DIMENSIONS:
        name = f"ix_documents_embedding_hnsw_{dim}"
        if postgres:
            op.execute(
                f"CREATE INDEX {name} ON documents USING hnsw "
                f"((embedding::vector({dim})) vector_cosine_ops) WHERE embedding_dim = {dim}"
            )
        else:
            op.execute(f"CREATE INDEX {name} ON documents (embedding) WHERE 0")


def downgrade() -> None:
    for dim in HNSW_DIMENSIONS:
        op.execute(f"DROP INDEX IF EXISTS ix_documents_embedding_hnsw_{dim}")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_updated_at"))
        batch_op.drop_index(batch_op.f("ix_jobs_status_id"))
        batch_op.drop_index(batch_op.f("ix_jobs_session_id_status_id"))
    op.drop_table("jobs")
