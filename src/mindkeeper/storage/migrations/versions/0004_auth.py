"""auth: revoked bearer-key ids and Bedrock access keys

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mindkeeper.storage.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc() -> mindkeeper.storage.types.UTCDateTime:
    return mindkeeper.storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "revoked_keys",
        sa.Column("id", _KEY, autoincrement=True, nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revoked_keys")),
        sa.UniqueConstraint("key_id", name=op.f("uq_revoked_keys_key_id")),
    )
    op.create_table(
        "access_keys",
        sa.Column("id", _KEY, autoincrement=True, nullable=False),
        sa.Column("access_key_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("sealed_secret", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("revoked_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_keys")),
        sa.UniqueConstraint("access_key_id", name=op.f("uq_access_keys_access_key_id")),
    )


def downgrade() -> None:
    op.drop_table("access_keys")
    op.drop_table("revoked_keys")
