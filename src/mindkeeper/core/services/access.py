"""Lookups by name that scope checks need: who is an active member of which session, and
whether a peer or session exists. Each reads committed data in a read unit of work of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from mindkeeper.core.ports import UnitOfWork


async def active_sessions(
    uow: UnitOfWork, workspace: str, peer: str, sessions: Sequence[str]
) -> set[str]:
    """Those of the named sessions of the workspace that the peer is an active member of."""
    if not sessions:
        return set()
    async with uow:
        return await uow.auth.active_sessions(workspace, peer, sessions)


async def is_active_member(uow: UnitOfWork, workspace: str, session: str, peer: str) -> bool:
    """True when the peer takes part in the session (joined and not left)."""
    return bool(await active_sessions(uow, workspace, peer, [session]))


async def peer_exists(uow: UnitOfWork, workspace: str, peer: str) -> bool:
    """True when the workspace has a peer of that name."""
    async with uow:
        return await uow.auth.peer_named(workspace, peer)


async def session_exists(uow: UnitOfWork, workspace: str, session: str) -> bool:
    """True when the workspace has a session of that name (active or not)."""
    async with uow:
        return await uow.auth.session_named(workspace, session)
