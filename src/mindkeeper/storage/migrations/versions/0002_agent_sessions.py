"""agent sessions: sessions, invocations, invocation steps and tags of the Bedrock surface

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mindkeeper.storage.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc() -> mindkeeper.storage.types.UTCDateTime:
    return mindkeeper.storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "agent_sessions",
        sa.Column("id", _KEY, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("metadata", sa.LargeBinary(), nullable=False),
        sa.Column("key_ref", sa.Text(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("last_updated_at", _utc(), nullable=False),
        sa.Column("ended_at", _utc(), nullable=True),
        sa.CheckConstraint(
            "status IN ('ACTIVE', 'ENDED', 'EXPIRED')", name=op.f("ck_agent_sessions_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_sessions")),
        sa.UniqueConstraint(
            "account_id", "public_id", name=op.f("uq_agent_sessions_account_id_public_id")
        ),
    )
    with op.batch_alter_table("agent_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agent_sessions_account_id_created_at_id"),
            ["account_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_agent_sessions_last_updated_at"), ["last_updated_at"], unique=False
        )

    op.create_table(
        "invocations",
        sa.Column("id", _KEY, autoincrement=True, nullable=False),
        sa.Column("session_key", _KEY, nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_key"],
            ["agent_sessions.id"],
            name=op.f("fk_invocations_session_key_agent_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invocations")),
        sa.UniqueConstraint(
            "session_key", "public_id", name=op.f("uq_invocations_session_key_public_id")
        ),
    )
    with op.batch_alter_table("invocations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invocations_session_key_created_at_id"),
            ["session_key", "created_at", "id"],
            unique=False,
        )

    op.create_table(
        "invocation_steps",
        sa.Column("id", _KEY, autoincrement=True, nullable=False),
        sa.Column("session_key", _KEY, nullable=False),
        sa.Column("invocation_key", _KEY, nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("step_time", _utc(), nullable=False),
        sa.Column("step_time_digits", sa.SmallInteger(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.CheckConstraint(
            "step_time_digits BETWEEN 0 AND 6", name=op.f("ck_invocation_steps_step_time_digits")
        ),
        sa.ForeignKeyConstraint(
            ["invocation_key"],
            ["invocations.id"],
            name=op.f("fk_invocation_steps_invocation_key_invocations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_key"],
            ["agent_sessions.id"],
            name=op.f("fk_invocation_steps_session_key_agent_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invocation_steps")),
        sa.UniqueConstraint(
            "session_key", "public_id", name=op.f("uq_invocation_steps_session_key_public_id")
        ),
    )
    with op.batch_alter_table("invocation_steps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invocation_steps_invocation_key_step_time_id"),
            ["invocation_key", "step_time", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_invocation_steps_session_key_step_time_id"),
            ["session_key", "step_time", "id"],
            unique=False,
        )

    op.create_table(
        "agent_session_tags",
        sa.Column("session_key", _KEY, nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_key"],
            ["agent_sessions.id"],
            name=op.f("fk_agent_session_tags_session_key_agent_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_key", "key", name=op.f("pk_agent_session_tags")),
    )


def downgrade() -> None:
    op.drop_table("agent_session_tags")
    with op.batch_alter_table("invocation_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invocation_steps_session_key_step_time_id"))
        batch_op.drop_index(batch_op.f("ix_invocation_steps_invocation_key_step_time_id"))

    op.drop_table("invocation_steps")
    with op.batch_alter_table("invocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invocations_session_key_created_at_id"))

    op.drop_table("invocations")
    with op.batch_alter_table("agent_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_sessions_last_updated_at"))
        batch_op.drop_index(batch_op.f("ix_agent_sessions_account_id_created_at_id"))

    op.drop_table("agent_sessions")
