"""Use cases for sessions: create, read, list, update, soft delete and clone."""

from __future__ import annotations

from dataclasses import replace

from mindkeeper.core.entities import JSONObject, Note, Session
from mindkeeper.core.ports import NewMessage, UnitOfWork
from mindkeeper.core.services import peers
from mindkeeper.core.values import Clock, MetadataFilter, Page, PageRequest, utcnow
from mindkeeper.errors import NotFound

SESSION_NOT_FOUND = "Session not found or does not belong to user"


async def require(uow: UnitOfWork, workspace_id: str, peer_id: str, session_id: str) -> Session:
    """Inside an open unit of work: return the peer's session or raise NotFound."""
    session = await uow.sessions.get(workspace_id, peer_id, session_id)
    if session is None:
        raise NotFound(SESSION_NOT_FOUND)
    return session


async def get_or_raise(
    uow: UnitOfWork, workspace_id: str, peer_id: str, session_id: str
) -> Session:
    """Return the session (active or not) or raise NotFound."""
    async with uow:
        return await require(uow, workspace_id, peer_id, session_id)


async def create(
    uow: UnitOfWork, workspace_id: str, peer_id: str, metadata: JSONObject, clock: Clock = utcnow
) -> Session:
    """Start an active session for an existing peer, who is its first member."""
    async with uow:
        await peers.require(uow, workspace_id, peer_id)
        now = clock()
        session = await uow.sessions.create(workspace_id, peer_id, metadata, now)
        await uow.members.join(workspace_id, session.id, [(peer_id, None)], now)
        await uow.commit()
    return session


async def list(
    uow: UnitOfWork,
    workspace_id: str,
    peer_id: str,
    filter: MetadataFilter,
    active_only: bool,
    page: PageRequest,
) -> Page[Session]:
    """Return a page of the peer's sessions."""
    async with uow:
        return await uow.sessions.list(workspace_id, peer_id, filter, active_only, page)


async def update(
    uow: UnitOfWork, workspace_id: str, peer_id: str, session_id: str, metadata: JSONObject
) -> Session:
    """Replace the session's metadata."""
    async with uow:
        session = await uow.sessions.update(workspace_id, peer_id, session_id, metadata=metadata)
        if session is None:
            raise NotFound(SESSION_NOT_FOUND)
        await uow.commit()
    return session


async def delete(uow: UnitOfWork, workspace_id: str, peer_id: str, session_id: str) -> None:
    """Mark the session inactive (idempotent); its content stays."""
    async with uow:
        session = await uow.sessions.update(workspace_id, peer_id, session_id, is_active=False)
        if session is None:
            raise NotFound(SESSION_NOT_FOUND)
        await uow.commit()


async def clone(
    uow: UnitOfWork,
    workspace_id: str,
    peer_id: str,
    session_id: str,
    cutoff_message_id: str | None = None,
    deep_copy: bool = False,
    clock: Clock = utcnow,
) -> Session:
    """Copy a session with its messages (up to an inclusive cutoff) and, deeply, its notes."""
    now = clock()
    async with uow:
        source = await uow.sessions.get(workspace_id, peer_id, session_id)
        if source is None:
            raise NotFound("Session not found")
        up_to_key: int | None = None
        if cutoff_message_id is not None:
            cutoff = await uow.messages.get_in_session(session_id, cutoff_message_id)
            if cutoff is None:
                raise NotFound("Session not found")
            up_to_key = cutoff.key
        target = await uow.sessions.create(workspace_id, peer_id, source.metadata, now)
        originals = await uow.messages.list_all(session_id, up_to_key)
        await uow.members.copy(workspace_id, session_id, target.id, now)
        await uow.sessions.add_message_count(target.id, len(originals))
        copies = await uow.messages.add_many(
            target,
            [
                NewMessage(m.content, m.is_user, m.metadata, m.sender_id, m.token_count)
                for m in originals
            ],
            now,
        )
        if deep_copy:
            mapping = {m.id: c.id for m, c in zip(originals, copies, strict=True)}
            notes = [
                n
                for n in await uow.notes.list_for_session(session_id)
                if n.message_id is None or n.message_id in mapping
            ]
            await uow.notes.add_copies(
                [
                    _retarget(n, target.id, mapping.get(n.message_id) if n.message_id else None)
                    for n in notes
                ],
                now,
            )
        await uow.commit()
    return target


def _retarget(note: Note, session_id: str, message_id: str | None) -> Note:
    return replace(note, session_id=session_id, message_id=message_id)
