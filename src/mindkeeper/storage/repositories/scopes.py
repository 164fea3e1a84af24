"""Scopes as hidden peers (`scope.<name>`, synthetic) whose active memberships are the scope's
sessions (`peers.is_scope_peer` is the condition other lists use to leave them out)."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from sqlalchemy import Select, insert, select

from mindkeeper.core.entities import JSONObject, Peer, Session
from mindkeeper.core.ports.scopes import SCOPE_PEER_PREFIX
from mindkeeper.core.values import Page, PageRequest, new_id
from mindkeeper.storage.repositories.base import Repository, translate_integrity
from mindkeeper.storage.repositories.peers import is_scope_peer, to_peer
from mindkeeper.storage.repositories.sessions import to_session
from mindkeeper.storage.tables import peers, session_peers, sessions


def _peer_name(name: str) -> str:
    return SCOPE_PEER_PREFIX + name


class SqlScopeRepository(Repository):
    """SQL scopes."""

    async def get(self, workspace_id: str, name: str) -> Peer | None:
        """Return the scope's peer."""
        stmt = select(peers).where(
            peers.c.workspace_id == workspace_id,
            peers.c.name == _peer_name(name),
            peers.c.synthetic.is_(True),
        )
        return await self.first(stmt, to_peer)

    async def create(
        self, workspace_id: str, name: str, metadata: JSONObject, now: datetime
    ) -> Peer:
        """Insert a scope."""
        with translate_integrity(f"Scope {name} already exists"):
            row = (
                await self.conn.execute(
                    insert(peers)
                    .values(
                        public_id=new_id(),
                        name=_peer_name(name),
                        workspace_id=workspace_id,
                        metadata=metadata,
                        configuration={},
                        synthetic=True,
                        created_at=now,
                    )
                    .returning(peers)
                )
            ).one()
        return to_peer(row)

    async def list(self, workspace_id: str, page: PageRequest) -> Page[Peer]:
        """Return a page of the workspace's scopes by creation."""
        stmt = select(peers).where(peers.c.workspace_id == workspace_id, is_scope_peer())
        return await self.paginate(stmt, peers, page, to_peer, order=[peers.c.created_at])

    def _members(self, workspace_id: str, scope_id: str) -> Select[Any]:
        sp = session_peers
        return (
            select(sessions, sp.c.joined_at.label("scope_joined_at"))
            .join(sp, sp.c.session_id == sessions.c.public_id)
            .where(
                sp.c.workspace_id == workspace_id,
                sp.c.peer_id == scope_id,
                sp.c.left_at.is_(None),
                sessions.c.workspace_id == workspace_id,
                sessions.c.is_active.is_(True),
            )
        )

    async def sessions(self, workspace_id: str, scope_id: str, page: PageRequest) -> Page[Session]:
        """Return a page of the scope's active sessions, in the order they joined the scope."""
        stmt = self._members(workspace_id, scope_id)
        return await self.paginate(stmt, session_peers, page, to_session)

    async def joined(self, workspace_id: str, scope_id: str) -> builtins.list[tuple[str, datetime]]:
        """Return (session name, time it joined) of the scope's active sessions."""
        stmt = self._members(workspace_id, scope_id).order_by(session_peers.c.id)
        return [(str(r.name), r.scope_joined_at) for r in await self.conn.execute(stmt)]
