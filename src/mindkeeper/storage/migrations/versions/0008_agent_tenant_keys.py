"""agent tenant keys: invocations, invocation steps and session tags carry their account

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

The children of `agent_sessions` gain `account_id`, copied from their session, so that every
table carries its tenant key and every query can filter by it. The listing indexes on
(session, time, id) become (account, session, time, id); they still serve the keyset pages
in order, as every listing filters by both. The steps' (invocation, time, id) index stays as
it is: the ON DELETE CASCADE from `invocations` looks steps up by `invocation_key` alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACCOUNT = sa.String(length=12)
TABLES = ("invocations", "invocation_steps", "agent_session_tags")
#: Listing indexes by table: (time column) of (session_key, time, id).
LISTINGS = {"invocations": "created_at", "invocation_steps": "step_time"}


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as b:
            b.add_column(sa.Column("account_id", _ACCOUNT, nullable=True))
        op.execute(
            f"UPDATE {table} SET account_id = (SELECT agent_sessions.account_id "
            f"FROM agent_sessions WHERE agent_sessions.id = {table}.session_key)"
        )
        with op.batch_alter_table(table) as b:
            b.alter_column("account_id", existing_type=_ACCOUNT, nullable=False)
            time = LISTINGS.get(table)
            if time is not None:
                b.drop_index(b.f(f"ix_{table}_session_key_{time}_id"))
                b.create_index(
                    b.f(f"ix_{table}_account_id_session_key_{time}_id"),
                    ["account_id", "session_key", time, "id"],
                    unique=False,
                )


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as b:
            time = LISTINGS.get(table)
            if time is not None:
                b.drop_index(b.f(f"ix_{table}_account_id_session_key_{time}_id"))
                b.create_index(
                    b.f(f"ix_{table}_session_key_{time}_id"),
                    ["session_key", time, "id"],
                    unique=False,
                )
            b.drop_column("account_id")
