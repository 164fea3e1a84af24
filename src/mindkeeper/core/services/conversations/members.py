"""Who takes part in a session: add, replace and remove members, read and change a member's
observation settings, and the cap on observers per session."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from datetime import datetime

from mindkeeper.core.entities import Member, Peer, Session
from mindkeeper.core.ports import MemberSettings, UnitOfWork
from mindkeeper.core.services.conversations import peers
from mindkeeper.core.services.conversations.scope import (
    find_session,
    peer_not_found,
    require_active,
    retrying,
)
from mindkeeper.core.values import Clock, Page, PageRequest, utcnow
from mindkeeper.errors import NotFound, QuotaExceeded

#: Members of one session that may observe the others (`observe_others: true`).
OBSERVERS_MAX = 10


class ObserverLimit(QuotaExceeded):
    """More members would observe the others than a session allows."""


def _observer_limit(session: str, count: int) -> ObserverLimit:
    return ObserverLimit(
        f"Cannot create session {session} with {count} observers. Maximum allowed is "
        f"{OBSERVERS_MAX} observers per session. Observers are peers with 'observe_others' "
        "set to true."
    )


async def check_observers(
    uow: UnitOfWork,
    workspace_id: str,
    session: str,
    existing: Sequence[Member],
    wanted: Mapping[str, MemberSettings],
) -> None:
    """Refuse when the requested observers plus the active observers not named in the
    request would pass the cap."""
    requested = sum(1 for s in wanted.values() if s.observe_others)
    if not requested:
        return
    names = {
        p.id: p.name for p in await uow.peers.get_many(workspace_id, [m.peer_id for m in existing])
    }
    others = sum(
        1
        for m in existing
        if m.left_at is None and m.observe_others and names.get(m.peer_id) not in wanted
    )
    if requested + others > OBSERVERS_MAX:
        raise _observer_limit(session, requested + others)


async def join(
    uow: UnitOfWork,
    workspace_id: str,
    session_id: str,
    wanted: Mapping[str, MemberSettings | None],
    now: datetime,
) -> dict[str, Peer]:
    """Inside an open write unit of work: the named peers (created if needed) join the
    session with the given settings (None: defaults, or the settings a returning member had);
    members already active keep theirs."""
    found = await peers.ensure_many(uow, workspace_id, builtins.list(wanted), now)
    await uow.members.join(
        workspace_id, session_id, [(found[n].id, s) for n, s in wanted.items()], now
    )
    return found


async def replace(
    uow: UnitOfWork,
    workspace: str,
    session: str,
    wanted: Mapping[str, MemberSettings],
    clock: Clock = utcnow,
) -> Session:
    """Make exactly the given peers the active members, with the given settings."""

    async def attempt() -> Session:
        async with uow:
            now = clock()
            found = await require_active(uow, workspace, session)
            requested = sum(1 for s in wanted.values() if s.observe_others)
            if requested > OBSERVERS_MAX:
                raise _observer_limit(session, requested)
            ws_id = found.workspace_id
            named = await peers.ensure_many(uow, ws_id, builtins.list(wanted), now)
            keep = {named[n].id for n in wanted}
            current = await uow.members.list(found.id)
            await uow.members.leave(
                ws_id, found.id, [m.peer_id for m in current if m.peer_id not in keep], now
            )
            active = {m.peer_id for m in current}
            for name, settings in wanted.items():
                if named[name].id in active:
                    await uow.members.replace_settings(ws_id, found.id, named[name].id, settings)
            await uow.members.join(
                ws_id,
                found.id,
                [(named[n].id, s) for n, s in wanted.items() if named[n].id not in active],
                now,
            )
            await uow.commit()
            return found

    return await retrying(attempt)


async def remove(
    uow: UnitOfWork, workspace: str, session: str, names: Sequence[str], clock: Clock = utcnow
) -> Session:
    """Mark the named peers as having left the session (unknown names are ignored)."""
    async with uow:
        found = await require_active(uow, workspace, session)
        gone = await uow.peers.get_many(found.workspace_id, names=builtins.list(names))
        await uow.members.leave(found.workspace_id, found.id, [p.id for p in gone], clock())
        await uow.commit()
    return found


async def list(uow: UnitOfWork, workspace: str, session: str, page: PageRequest) -> Page[Peer]:
    """Return a page of the session's active members (empty for an unknown session)."""
    async with uow:
        found = await find_session(uow, workspace, session)
        if found is None:
            return Page.empty(page)
        return await uow.members.peers(found.workspace_id, found.id, page)


def _member_not_found(peer: str, session: str, workspace: str) -> NotFound:
    return NotFound(f"Session peer {peer} not found in session {session} in workspace {workspace}")


async def get_settings(uow: UnitOfWork, workspace: str, session: str, peer: str) -> Member:
    """Return a peer's membership (also after it left), or NotFound."""
    async with uow:
        found = await find_session(uow, workspace, session)
        named = None if found is None else await uow.peers.get_by_name(found.workspace_id, peer)
        member = (
            None
            if found is None or named is None
            else await uow.members.get(found.workspace_id, found.id, named.id)
        )
    if member is None:
        raise _member_not_found(peer, session, workspace)
    return member


async def configure(
    uow: UnitOfWork,
    workspace: str,
    session: str,
    peer: str,
    settings: MemberSettings,
    clock: Clock = utcnow,
) -> None:
    """Merge the given (non-null) settings into a peer's membership; a peer that is not a
    member joins the session with them."""
    async with uow:
        now = clock()
        found = await require_active(uow, workspace, session)
        ws_id = found.workspace_id
        named = await uow.peers.get_by_name(ws_id, peer)
        if named is None:
            raise peer_not_found(peer, workspace)
        member = await uow.members.get(ws_id, found.id, named.id)
        merged = MemberSettings(
            settings.observe_me
            if settings.observe_me is not None
            else (member.observe_me if member else None),
            settings.observe_others
            if settings.observe_others is not None
            else (member.observe_others if member else None),
        )
        if merged.observe_others:
            existing = await uow.members.list(found.id)
            others = sum(1 for m in existing if m.observe_others and m.peer_id != named.id)
            if others + 1 > OBSERVERS_MAX:
                raise _observer_limit(session, others + 1)
        if member is None:
            await uow.members.join(ws_id, found.id, [(named.id, merged)], now)
        else:
            await uow.members.replace_settings(ws_id, found.id, named.id, merged)
        await uow.commit()
