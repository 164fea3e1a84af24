"""Use cases for peers (Honcho users)."""

from __future__ import annotations

from datetime import datetime

from mindkeeper.core.entities import JSONObject, Peer
from mindkeeper.core.ports import UnitOfWork
from mindkeeper.core.services.workspaces import check_new_name
from mindkeeper.core.values import Clock, MetadataFilter, Page, PageRequest, utcnow
from mindkeeper.errors import AlreadyExists, NotFound

#: Name of the peer that sends a workspace's v1 messages with `is_user: false`.
APPLICATION_PEER = "assistant"


def peer_not_found(peer_id: str) -> NotFound:
    """The error for a peer missing from its workspace."""
    return NotFound(f"User with ID '{peer_id}' not found")


async def require(uow: UnitOfWork, workspace_id: str, peer_id: str) -> Peer:
    """Inside an open unit of work: return the peer or raise NotFound."""
    peer = await uow.peers.get(workspace_id, peer_id)
    if peer is None:
        raise peer_not_found(peer_id)
    return peer


async def application_peer(uow: UnitOfWork, workspace_id: str, now: datetime) -> Peer:
    """Inside an open unit of work: the peer named `assistant`, created (synthetic) if missing."""
    peer = await uow.peers.get_by_name(workspace_id, APPLICATION_PEER)
    if peer is None:
        peer = await uow.peers.create(workspace_id, APPLICATION_PEER, {}, now, synthetic=True)
    return peer


async def _require_workspace(uow: UnitOfWork, workspace_id: str) -> None:
    if await uow.workspaces.get(workspace_id) is None:
        raise NotFound(f"App with ID {workspace_id} not found")


async def get_or_raise(uow: UnitOfWork, workspace_id: str, peer_id: str) -> Peer:
    """Return the peer or raise NotFound."""
    async with uow:
        return await require(uow, workspace_id, peer_id)


async def get_by_name_or_raise(uow: UnitOfWork, workspace_id: str, name: str) -> Peer:
    """Return the peer with that name or raise NotFound."""
    async with uow:
        peer = await uow.peers.get_by_name(workspace_id, name)
    if peer is None:
        raise NotFound(f"User with name '{name}' not found")
    return peer


async def create(
    uow: UnitOfWork, workspace_id: str, name: str, metadata: JSONObject, clock: Clock = utcnow
) -> Peer:
    """Create a peer in an existing workspace.

    A user named like the synthetic application peer takes that peer over.
    """
    async with uow:
        await _require_workspace(uow, workspace_id)
        existing = await uow.peers.get_by_name(workspace_id, name)
        if existing is not None and existing.synthetic:
            adopted = await uow.peers.update(
                workspace_id, existing.id, None, metadata, synthetic=False
            )
            assert adopted is not None
            await uow.commit()
            return adopted
        peer = await uow.peers.create(workspace_id, name, metadata, clock())
        await uow.commit()
    return peer


async def get_or_create(
    uow: UnitOfWork,
    workspace_id: str,
    name: str,
    create_name_max: int | None = None,
    clock: Clock = utcnow,
) -> Peer:
    """Return the peer with that name, creating it with empty metadata if needed."""
    async with uow:
        peer = await uow.peers.get_by_name(workspace_id, name)
        if peer is not None:
            return peer
        check_new_name(name, create_name_max)
        await _require_workspace(uow, workspace_id)
        try:
            peer = await uow.peers.create(workspace_id, name, {}, clock())
            await uow.commit()
            return peer
        except AlreadyExists:
            pass
    return await get_by_name_or_raise(uow, workspace_id, name)


async def list(
    uow: UnitOfWork, workspace_id: str, filter: MetadataFilter, page: PageRequest
) -> Page[Peer]:
    """Return a page of the workspace's peers (empty for an unknown workspace)."""
    async with uow:
        return await uow.peers.list(workspace_id, filter, page)


async def update(
    uow: UnitOfWork,
    workspace_id: str,
    peer_id: str,
    name: str | None,
    metadata: JSONObject | None,
) -> Peer:
    """Rename and/or replace metadata."""
    async with uow:
        peer = await uow.peers.update(workspace_id, peer_id, name, metadata)
        if peer is None:
            raise peer_not_found(peer_id)
        await uow.commit()
    return peer
