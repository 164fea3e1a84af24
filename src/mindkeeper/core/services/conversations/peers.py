"""Peers by name: get or create, update (creating), list, the sessions of a peer."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime

from mindkeeper.core.entities import JSONObject, Peer, Session
from mindkeeper.core.filters import parse_filters
from mindkeeper.core.ports import UnitOfWork
from mindkeeper.core.services.conversations import filters as spec
from mindkeeper.core.services.conversations import workspaces
from mindkeeper.core.services.conversations.scope import retrying
from mindkeeper.core.values import Clock, Page, PageRequest, utcnow


async def ensure_many(
    uow: UnitOfWork, workspace_id: str, names: Sequence[str], now: datetime
) -> dict[str, Peer]:
    """Inside an open write unit of work: the named peers, the missing ones created empty."""
    wanted = builtins.list(dict.fromkeys(names))
    found = {p.name: p for p in await uow.peers.get_many(workspace_id, names=wanted)}
    for name in wanted:
        if name not in found:
            found[name] = await uow.peers.create(workspace_id, name, {}, now)
    return found


async def get_or_create(
    uow: UnitOfWork,
    workspace: str,
    name: str,
    metadata: JSONObject | None,
    configuration: JSONObject | None,
    clock: Clock = utcnow,
) -> tuple[Peer, bool]:
    """Return (peer, created); given metadata and configuration replace an existing peer's."""

    async def attempt() -> tuple[Peer, bool]:
        async with uow:
            now = clock()
            ws = await workspaces.ensure(uow, workspace, clock)
            peer = await uow.peers.get_by_name(ws.id, name)
            if peer is None:
                peer = await uow.peers.create(
                    ws.id, name, metadata or {}, now, configuration=configuration or {}
                )
                created = True
            else:
                changed = await uow.peers.update(
                    ws.id, peer.id, None, metadata, configuration=configuration
                )
                assert changed is not None
                peer, created = changed, False
            await uow.commit()
            return peer, created

    return await retrying(attempt)


async def update(
    uow: UnitOfWork,
    workspace: str,
    name: str,
    metadata: JSONObject | None,
    configuration: JSONObject | None,
    clock: Clock = utcnow,
) -> Peer:
    """Replace metadata and configuration; creates the peer (and workspace) when missing."""
    peer, _ = await get_or_create(uow, workspace, name, metadata, configuration, clock)
    return peer


async def list(
    uow: UnitOfWork, workspace: str, page: PageRequest, filters: JSONObject | None = None
) -> Page[Peer]:
    """Return a page of the workspace's peers by creation, filtered (`filters.PEERS`); empty
    for an unknown workspace."""
    where = parse_filters(filters, spec.PEERS)
    async with uow:
        ws = await uow.workspaces.get_by_name(workspace)
        if ws is None:
            return Page.empty(page)
        return await uow.peers.list_by_creation(ws.id, page, where)


async def sessions(
    uow: UnitOfWork,
    workspace: str,
    name: str,
    page: PageRequest,
    filters: JSONObject | None = None,
) -> Page[Session]:
    """Return a page of the sessions the peer ever joined, inactive ones included, filtered
    (`filters.SESSIONS`); empty for an unknown peer."""
    where = parse_filters(filters, spec.SESSIONS)
    async with uow:
        ws = await uow.workspaces.get_by_name(workspace)
        peer = None if ws is None else await uow.peers.get_by_name(ws.id, name)
        if ws is None or peer is None:
            return Page.empty(page)
        return await uow.sessions.list_of_member(ws.id, peer.id, page, where)
