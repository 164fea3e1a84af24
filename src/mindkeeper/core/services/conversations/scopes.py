"""Scopes by name: named sets of sessions of a workspace (get or create, read, list, add and
remove sessions, list their sessions, report their state).

A scope is stored in the core model (see `core.ports.scopes`): its peer's active memberships
are its sessions, joined with settings that observe nothing. Nothing is copied when a session
joins, so a session is complete in its scope at once.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime

from mindkeeper.core.entities import JSONObject, Peer, Session, Workspace
from mindkeeper.core.ports import MemberSettings, UnitOfWork
from mindkeeper.core.services.conversations import workspaces
from mindkeeper.core.services.conversations.scope import retrying, session_not_found
from mindkeeper.core.values import Clock, Page, PageRequest, utcnow
from mindkeeper.errors import NotFound

#: How a scope holds a session: it observes nobody and nobody observes it.
HOLD = MemberSettings(observe_me=False, observe_others=False)


def scope_not_found(name: str, workspace: str) -> NotFound:
    """The error for a missing scope."""
    return NotFound(f"Scope {name} not found in workspace {workspace}")


async def get_or_create(
    uow: UnitOfWork,
    workspace: str,
    name: str,
    metadata: JSONObject | None,
    clock: Clock = utcnow,
) -> tuple[Peer, bool]:
    """Return (scope, created); given metadata replaces an existing scope's."""

    async def attempt() -> tuple[Peer, bool]:
        async with uow:
            now = clock()
            ws = await workspaces.ensure(uow, workspace, clock)
            scope = await uow.scopes.get(ws.id, name)
            created = scope is None
            if scope is None:
                scope = await uow.scopes.create(ws.id, name, metadata or {}, now)
            elif metadata is not None:
                changed = await uow.peers.update(ws.id, scope.id, None, metadata)
                assert changed is not None
                scope = changed
            await uow.commit()
            return scope, created

    return await retrying(attempt)


async def _scope_in(uow: UnitOfWork, ws: Workspace | None, workspace: str, name: str) -> Peer:
    """Inside an open unit of work: the scope of the workspace found by name, or NotFound."""
    scope = None if ws is None else await uow.scopes.get(ws.id, name)
    if scope is None:
        raise scope_not_found(name, workspace)
    return scope


async def _require(uow: UnitOfWork, workspace: str, name: str) -> Peer:
    """Inside an open unit of work: the scope, or NotFound."""
    return await _scope_in(uow, await uow.workspaces.get_by_name(workspace), workspace, name)


async def session_names(
    uow: UnitOfWork, workspace: str, names: Sequence[str]
) -> builtins.list[str]:
    """Inside an open unit of work: the names of the active sessions of the named scopes
    (their union, each once); NotFound for a missing scope (or workspace)."""
    found: dict[str, None] = {}
    ws: Workspace | None = None
    for name in names:
        if "\x00" in name or "\x00" in workspace:  # no stored name holds one
            raise scope_not_found(name, workspace)
        if ws is None:  # read once: a missing workspace ends the loop
            ws = await uow.workspaces.get_by_name(workspace)
        scope = await _scope_in(uow, ws, workspace, name)
        for session, _ in await uow.scopes.joined(scope.workspace_id, scope.id):
            found[session] = None
    return builtins.list(found)


async def get(uow: UnitOfWork, workspace: str, name: str) -> Peer:
    """Return the scope, or NotFound."""
    async with uow:
        return await _require(uow, workspace, name)


async def list(uow: UnitOfWork, workspace: str, page: PageRequest) -> Page[Peer]:
    """Return a page of the workspace's scopes by creation (empty for an unknown workspace)."""
    async with uow:
        ws = await uow.workspaces.get_by_name(workspace)
        if ws is None:
            return Page.empty(page)
        return await uow.scopes.list(ws.id, page)


async def add_sessions(
    uow: UnitOfWork,
    workspace: str,
    name: str,
    sessions: Sequence[str],
    clock: Clock = utcnow,
) -> None:
    """Add existing, active sessions to the scope (sessions already in it stay as they are);
    NotFound for a missing scope or session, and then nothing is added."""
    async with uow:
        now = clock()
        scope = await _require(uow, workspace, name)
        found: builtins.list[Session] = []
        for session_name in dict.fromkeys(sessions):
            session = await uow.sessions.get_by_name(scope.workspace_id, session_name)
            if session is None or not session.is_active:
                raise session_not_found(session_name, workspace)
            found.append(session)
        for session in found:
            await uow.members.join(scope.workspace_id, session.id, [(scope.id, HOLD)], now)
        await uow.commit()


async def hold(
    uow: UnitOfWork,
    workspace_id: str,
    session_id: str,
    names: Sequence[str],
    now: datetime,
) -> None:
    """Inside an open write unit of work: put the session into the named scopes, creating the
    scopes that are missing."""
    for name in dict.fromkeys(names):
        scope = await uow.scopes.get(workspace_id, name)
        if scope is None:
            scope = await uow.scopes.create(workspace_id, name, {}, now)
        await uow.members.join(workspace_id, session_id, [(scope.id, HOLD)], now)


async def remove_session(
    uow: UnitOfWork, workspace: str, name: str, session: str, clock: Clock = utcnow
) -> None:
    """Take a session out of the scope (a session that is not in it is left alone); NotFound
    for a missing scope or session."""
    async with uow:
        scope = await _require(uow, workspace, name)
        found = await uow.sessions.get_by_name(scope.workspace_id, session)
        if found is None:
            raise session_not_found(session, workspace)
        await uow.members.leave(scope.workspace_id, found.id, [scope.id], clock())
        await uow.commit()


async def sessions(uow: UnitOfWork, workspace: str, name: str, page: PageRequest) -> Page[Session]:
    """Return a page of the scope's active sessions, longest-standing member first."""
    async with uow:
        scope = await _require(uow, workspace, name)
        return await uow.scopes.sessions(scope.workspace_id, scope.id, page)


async def joined(uow: UnitOfWork, workspace: str, name: str) -> builtins.list[tuple[str, datetime]]:
    """Return (session name, time it joined the scope) of the scope's active sessions."""
    async with uow:
        scope = await _require(uow, workspace, name)
        return await uow.scopes.joined(scope.workspace_id, scope.id)
