"""Hard deletion of a workspace or a session, over every table that carries a workspace id.

The tables are walked in reverse foreign-key order (dependents first), so no row is left
pointing at a deleted one. A table added later is covered as soon as it carries a
`workspace_id` column (and, for session deletion, a `session_id` column or a `message_id`
that references messages). Tables without a workspace id (Bedrock agent sessions, keys) are
never touched.
"""

from __future__ import annotations

from sqlalchemy import Table, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from mindkeeper.storage.tables import messages, sessions, workspace_tables, workspaces


def _tenant_tables() -> list[Table]:
    """Tables with a workspace id, dependents first (the workspaces table itself excluded)."""
    return workspace_tables()[::-1]


def _references_messages(table: Table) -> bool:
    return "message_id" in table.c and any(
        fk.column.table is messages for fk in table.c.message_id.foreign_keys
    )


async def purge_workspace(conn: AsyncConnection, workspace_id: str) -> None:
    """Delete every row of the workspace, then the workspace."""
    for table in _tenant_tables():
        await conn.execute(delete(table).where(table.c.workspace_id == workspace_id))
    await conn.execute(delete(workspaces).where(workspaces.c.public_id == workspace_id))


async def purge_session(conn: AsyncConnection, workspace_id: str, session_id: str) -> None:
    """Delete a session's messages (and what references them), members, notes, the
    conclusions drawn from it and its jobs, then the session."""
    message_ids = select(messages.c.public_id).where(
        messages.c.workspace_id == workspace_id, messages.c.session_id == session_id
    )
    for table in _tenant_tables():
        if table is sessions:
            continue
        conditions = []
        if "session_id" in table.c:
            conditions.append(table.c.session_id == session_id)
        if table is not messages and _references_messages(table):
            conditions.append(table.c.message_id.in_(message_ids))
        if conditions:
            await conn.execute(
                delete(table).where(table.c.workspace_id == workspace_id, or_(*conditions))
            )
    await conn.execute(
        delete(sessions).where(
            sessions.c.workspace_id == workspace_id, sessions.c.public_id == session_id
        )
    )
