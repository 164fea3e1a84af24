"""Ports of scopes: named sets of sessions of a workspace, stored in the core model.

A scope named `X` is a hidden peer named `scope.X` (flagged `synthetic`; v3 names cannot hold
a dot, so no client peer can take the name), and its sessions are that peer's active
memberships, which observe nothing and are observed by nobody. Peer lists and member lists
leave scope peers out.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Protocol

from mindkeeper.core.entities import JSONObject, Peer, Session
from mindkeeper.core.values import Page, PageRequest

#: The name of a scope's peer is this prefix and the scope's name.
SCOPE_PEER_PREFIX = "scope."


class ScopeRepository(Protocol):
    """Scopes of a workspace (as their hidden peers) and their sessions."""

    async def get(self, workspace_id: str, name: str) -> Peer | None:
        """Return the scope's peer."""
        ...

    async def create(
        self, workspace_id: str, name: str, metadata: JSONObject, now: datetime
    ) -> Peer:
        """Insert a scope; AlreadyExists when its peer name is taken."""
        ...

    async def list(self, workspace_id: str, page: PageRequest) -> Page[Peer]:
        """Return a page of the workspace's scopes by creation."""
        ...

    async def sessions(self, workspace_id: str, scope_id: str, page: PageRequest) -> Page[Session]:
        """Return a page of the scope's active sessions, in the order they joined the scope."""
        ...

    async def joined(self, workspace_id: str, scope_id: str) -> builtins.list[tuple[str, datetime]]:
        """Return (session name, time it joined) of the scope's active sessions, in that order."""
        ...
