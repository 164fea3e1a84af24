"""Session members: which peers take part in a session, with their observation settings."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select

from mindkeeper.core.entities import Member
from mindkeeper.storage.repositories.base import DbRow, Repository
from mindkeeper.storage.tables import session_peers as t


def to_member(row: DbRow) -> Member:
    """Map a row to the entity."""
    return Member(
        row.session_id,
        row.peer_id,
        row.workspace_id,
        row.observe_me,
        row.observe_others,
        row.joined_at,
        row.left_at,
    )


class SqlMemberRepository(Repository):
    """SQL session members."""

    async def ensure(
        self, workspace_id: str, session_id: str, peer_ids: Sequence[str], now: datetime
    ) -> None:
        """Add the peers that have no row in the session yet, with default settings."""
        wanted = list(dict.fromkeys(peer_ids))
        if not wanted:
            return
        present = set(
            (
                await self.conn.execute(
                    select(t.c.peer_id).where(
                        t.c.workspace_id == workspace_id,
                        t.c.session_id == session_id,
                        t.c.peer_id.in_(wanted),
                    )
                )
            ).scalars()
        )
        missing = [p for p in wanted if p not in present]
        if missing:
            await self.conn.execute(
                insert(t),
                [
                    {
                        "workspace_id": workspace_id,
                        "session_id": session_id,
                        "peer_id": p,
                        "joined_at": now,
                    }
                    for p in missing
                ],
            )

    async def list(self, session_id: str, active_only: bool = True) -> builtins.list[Member]:
        """Return the session's members in the order they first joined."""
        stmt = select(t).where(t.c.session_id == session_id)
        if active_only:
            stmt = stmt.where(t.c.left_at.is_(None))
        return [to_member(r) for r in await self.conn.execute(stmt.order_by(t.c.id))]
