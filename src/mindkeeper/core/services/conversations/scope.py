"""Lookups shared by the use cases of this package: names to rows, "not found" errors in the
words of Honcho v3, and a retry for use cases that create rows by name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from mindkeeper.core.entities import Session
from mindkeeper.core.ports import UnitOfWork
from mindkeeper.errors import AlreadyExists, NotFound

T = TypeVar("T")

#: Attempts of a use case that creates rows by name and may lose a race to a concurrent one.
ATTEMPTS = 3


def peer_not_found(name: str, workspace: str) -> NotFound:
    """The error for a peer missing from its workspace."""
    return NotFound(f"Peer {name} not found in workspace {workspace}")


def session_not_found(name: str, workspace: str) -> NotFound:
    """The error for a missing (or deleted) session."""
    return NotFound(f"Session {name} not found in workspace {workspace}")


async def retrying(attempt: Callable[[], Awaitable[T]]) -> T:
    """Run a use case again when a concurrent request created one of its rows first."""
    for remaining in range(ATTEMPTS - 1, -1, -1):
        try:
            return await attempt()
        except AlreadyExists:
            if not remaining:
                raise
    raise AssertionError("unreachable")


async def find_session(uow: UnitOfWork, workspace: str, name: str) -> Session | None:
    """Inside an open unit of work: the named session of the named workspace (any state)."""
    ws = await uow.workspaces.get_by_name(workspace)
    return None if ws is None else await uow.sessions.get_by_name(ws.id, name)


async def require_active(uow: UnitOfWork, workspace: str, name: str) -> Session:
    """Inside an open unit of work: the active session, or NotFound."""
    session = await find_session(uow, workspace, name)
    if session is None or not session.is_active:
        raise session_not_found(name, workspace)
    return session
