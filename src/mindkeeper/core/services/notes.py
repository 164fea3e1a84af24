"""Use cases for notes (Honcho metamessages)."""

from __future__ import annotations

from mindkeeper.core.entities import JSONObject, Note
from mindkeeper.core.ports import NoteQuery, UnitOfWork
from mindkeeper.core.services import peers, sessions
from mindkeeper.core.values import Clock, Page, PageRequest, utcnow
from mindkeeper.errors import Invalid, NotFound

MESSAGE_WITHOUT_SESSION = "Cannot specify message_id without session_id"


async def create(
    uow: UnitOfWork,
    workspace_id: str,
    peer_id: str,
    label: str,
    content: str,
    session_id: str | None,
    message_id: str | None,
    metadata: JSONObject,
    clock: Clock = utcnow,
) -> Note:
    """Create a note on the peer, optionally tied to one of its sessions and a message in it."""
    async with uow:
        await peers.require(uow, workspace_id, peer_id)
        if session_id is not None:
            await sessions.require(uow, workspace_id, peer_id, session_id)
            if message_id is not None:
                message = await uow.messages.get(workspace_id, peer_id, session_id, message_id)
                if message is None:
                    raise NotFound("Message not found or does not belong to session")
        elif message_id is not None:
            raise Invalid(MESSAGE_WITHOUT_SESSION)
        note = await uow.notes.create(
            workspace_id, peer_id, label, content, session_id, message_id, metadata, clock()
        )
        await uow.commit()
    return note


async def get_or_raise(uow: UnitOfWork, workspace_id: str, peer_id: str, note_id: str) -> Note:
    """Return one note or raise NotFound."""
    async with uow:
        note = await uow.notes.get(workspace_id, peer_id, note_id)
    if note is None:
        raise NotFound(f"Metamessage with ID {note_id} not found")
    return note


async def list(
    uow: UnitOfWork, workspace_id: str, peer_id: str, query: NoteQuery, page: PageRequest
) -> Page[Note]:
    """Return a page of the peer's notes."""
    async with uow:
        return await uow.notes.list(workspace_id, peer_id, query, page)


async def update(
    uow: UnitOfWork,
    workspace_id: str,
    peer_id: str,
    note_id: str,
    session_id: str | None,
    message_id: str | None,
    label: str | None,
    metadata: JSONObject | None,
) -> Note:
    """Change a note's links, label or metadata; links must stay within the peer."""
    async with uow:
        note = await uow.notes.get(workspace_id, peer_id, note_id)
        if note is None:
            raise NotFound(f"Metamessage with ID {note_id} not found")
        if session_id is not None:
            await sessions.require(uow, workspace_id, peer_id, session_id)
        if message_id is not None:
            target_session = session_id or note.session_id
            if target_session is None:
                raise Invalid(MESSAGE_WITHOUT_SESSION)
            message = await uow.messages.get(workspace_id, peer_id, target_session, message_id)
            if message is None:
                raise NotFound("Message not found or doesn't belong to session")
        elif (
            session_id is not None and note.message_id is not None and session_id != note.session_id
        ):
            raise Invalid("The metamessage's message does not belong to the new session")
        updated = await uow.notes.update(
            workspace_id, peer_id, note_id, session_id, message_id, label, metadata
        )
        if updated is None:
            raise NotFound(f"Metamessage with ID {note_id} not found")
        await uow.commit()
    return updated
