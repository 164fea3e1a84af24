"""Sessions by name: get or create (with members), update (creating), list, delete in two
phases, clone.

A deleted session turns inactive at once (writes then answer "not found"; reads keep working)
and a job of the queue removes it with everything that depends on it; only then can its name
be used again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mindkeeper.core.entities import JSONObject, Session
from mindkeeper.core.filters import parse_filters
from mindkeeper.core.ports import MemberSettings, NewMessage, UnitOfWork
from mindkeeper.core.ports.jobs import DELETE_SESSION
from mindkeeper.core.services.conversations import filters as spec
from mindkeeper.core.services.conversations import members, scopes, workspaces
from mindkeeper.core.services.conversations.scope import (
    require_active,
    retrying,
    session_not_found,
)
from mindkeeper.core.values import Clock, Page, PageRequest, new_id, utcnow
from mindkeeper.errors import NotFound


async def get_or_create(
    uow: UnitOfWork,
    workspace: str,
    name: str,
    metadata: JSONObject | None,
    configuration: JSONObject | None,
    members_settings: Mapping[str, MemberSettings] | None,
    clock: Clock = utcnow,
    scope_names: Sequence[str] = (),
) -> tuple[Session, bool]:
    """Return (session, created). An existing session takes given metadata (replaced) and
    configuration (merged at the top level); the given peers join it (created if needed),
    and it joins the named scopes (created if needed)."""

    async def attempt() -> tuple[Session, bool]:
        async with uow:
            now = clock()
            ws = await workspaces.ensure(uow, workspace, clock)
            session = await uow.sessions.get_by_name(ws.id, name)
            if session is not None and not session.is_active:
                raise session_not_found(name, workspace)
            if members_settings:
                existing = [] if session is None else await uow.members.list(session.id)
                await members.check_observers(uow, ws.id, name, existing, members_settings)
            created = session is None
            if session is None:
                session = await uow.sessions.create_named(
                    ws.id, name, metadata or {}, configuration or {}, now
                )
            elif metadata is not None or configuration is not None:
                merged = (
                    None
                    if configuration is None
                    else workspaces.merge_configuration(session.configuration, configuration)
                )
                changed = await uow.sessions.change(ws.id, session.id, metadata, merged)
                assert changed is not None
                session = changed
            if members_settings:
                await members.join(uow, ws.id, session.id, members_settings, now)
            if scope_names:
                await scopes.hold(uow, ws.id, session.id, scope_names, now)
            await uow.commit()
            return session, created

    return await retrying(attempt)


async def update(
    uow: UnitOfWork,
    workspace: str,
    name: str,
    metadata: JSONObject | None,
    configuration: JSONObject | None,
    clock: Clock = utcnow,
) -> Session:
    """Replace metadata, merge configuration; creates the session (and workspace) if missing."""
    session, _ = await get_or_create(uow, workspace, name, metadata, configuration, None, clock)
    return session


async def list(
    uow: UnitOfWork, workspace: str, page: PageRequest, filters: JSONObject | None = None
) -> Page[Session]:
    """Return a page of the workspace's active sessions by creation, filtered
    (`filters.SESSIONS`)."""
    where = parse_filters(filters, spec.SESSIONS)
    async with uow:
        ws = await uow.workspaces.get_by_name(workspace)
        if ws is None:
            return Page.empty(page)
        return await uow.sessions.list_in_workspace(ws.id, page, True, where)


async def delete(uow: UnitOfWork, workspace: str, name: str, clock: Clock = utcnow) -> None:
    """Make the session inactive and queue its removal."""
    async with uow:
        session = await require_active(uow, workspace, name)
        await uow.sessions.change(session.workspace_id, session.id, is_active=False)
        await uow.jobs.enqueue_task(
            DELETE_SESSION, session.workspace_id, {"session_id": session.id}, clock()
        )
        await uow.commit()


async def clone(
    uow: UnitOfWork,
    workspace: str,
    name: str,
    message_id: str | None,
    clock: Clock = utcnow,
) -> Session:
    """Copy an active session under a fresh name: metadata, configuration, members with their
    settings, and messages (up to and including `message_id`) with their token counts."""
    async with uow:
        now = clock()
        try:
            source = await require_active(uow, workspace, name)
        except NotFound:
            raise NotFound("Original session not found") from None
        up_to_key: int | None = None
        if message_id is not None:
            cutoff = await uow.messages.find(source.workspace_id, source.id, message_id)
            if cutoff is None:
                raise NotFound("Session not found")
            up_to_key = cutoff.key
        target = await uow.sessions.create_named(
            source.workspace_id, new_id(), source.metadata, source.configuration, now
        )
        await uow.members.copy(source.workspace_id, source.id, target.id, now)
        originals = await uow.messages.list_all(source.id, up_to_key)
        if originals:
            await uow.sessions.add_message_count(target.id, len(originals))
            await uow.messages.add_many(
                target,
                [
                    NewMessage(m.content, m.is_user, m.metadata, m.sender_id, m.token_count)
                    for m in originals
                ],
                now,
            )
        await uow.commit()
    return target
