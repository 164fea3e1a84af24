"""Peer cards by name: what an observer peer keeps as a short list about a peer (itself by
default)."""

from __future__ import annotations

from collections.abc import Sequence

from mindkeeper.core.ports import UnitOfWork
from mindkeeper.core.services.conversations import workspaces
from mindkeeper.core.services.conversations.peers import ensure_many
from mindkeeper.core.services.conversations.scope import peer_not_found, retrying
from mindkeeper.core.services.memory import names
from mindkeeper.core.values import Clock, utcnow


async def get(uow: UnitOfWork, workspace: str, peer: str, target: str | None) -> list[str] | None:
    """The observer's card about `target` (itself when None); NotFound for an unknown observer."""
    if not names.storable(workspace, peer):
        raise peer_not_found(peer, workspace)
    if not names.storable(target):
        return None
    async with uow:
        ws = await uow.workspaces.get_by_name(workspace)
        observer = None if ws is None else await uow.peers.get_by_name(ws.id, peer)
        if ws is None or observer is None:
            raise peer_not_found(peer, workspace)
        observed_id = observer.id
        if target is not None and target != peer:
            observed = await uow.peers.get_by_name(ws.id, target)
            if observed is None:
                return None
            observed_id = observed.id
        return await uow.peer_cards.get(ws.id, observer.id, observed_id)


async def set(
    uow: UnitOfWork,
    workspace: str,
    peer: str,
    target: str | None,
    card: Sequence[str],
    clock: Clock = utcnow,
) -> list[str]:
    """Replace the observer's card about `target`; creates the workspace and both peers."""
    lines = [line.replace("\x00", "") for line in card]

    async def attempt() -> list[str]:
        async with uow:
            now = clock()
            ws = await workspaces.ensure(uow, workspace, clock)
            named = await ensure_many(uow, ws.id, [peer, target or peer], now)
            await uow.peer_cards.put(ws.id, named[peer].id, named[target or peer].id, lines, now)
            await uow.commit()
        return lines

    return await retrying(attempt)
