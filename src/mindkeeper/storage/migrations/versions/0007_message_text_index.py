"""message text index: a GIN index over the English text search vector of message contents

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05

Message search matches text with `to_tsvector('english'::regconfig, content) @@ ...` on
PostgreSQL; the index lets it find matches without computing every message's vector. SQLite
gets an empty placeholder index of the same name (`WHERE 0`), so that both databases list the
same index names.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_messages_content_fts"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE INDEX {NAME} ON messages USING gin "
            "(to_tsvector('english'::regconfig, content))"
        )
    else:
        op.execute(f"CREATE INDEX {NAME} ON messages (content) WHERE 0")


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {NAME}")
