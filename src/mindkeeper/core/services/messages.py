"""Use cases for messages: append (one or a batch), read, list and re-tag."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import replace

from mindkeeper.core.entities import JSONObject, Message
from mindkeeper.core.ports import NewMessage, UnitOfWork
from mindkeeper.core.services import peers, queue, sessions
from mindkeeper.core.values import Clock, MetadataFilter, Page, PageRequest, utcnow
from mindkeeper.errors import Invalid, NotFound

BATCH_MAX = 100


async def create_many(
    uow: UnitOfWork,
    workspace_id: str,
    peer_id: str,
    session_id: str,
    messages: Sequence[NewMessage],
    clock: Clock = utcnow,
    count_tokens: Callable[[str], int] | None = None,
) -> builtins.list[Message]:
    """Append messages to the peer's session in order; all or nothing.

    The user's messages are sent by the peer; the others by the workspace's application peer,
    which becomes a member of the session.
    """
    if not 1 <= len(messages) <= BATCH_MAX:
        raise Invalid(f"A batch must hold between 1 and {BATCH_MAX} messages")
    if count_tokens is not None:
        messages = [replace(m, token_count=count_tokens(m.content)) for m in messages]
    async with uow:
        now = clock()
        session = await sessions.require(uow, workspace_id, peer_id, session_id)
        if not all(m.is_user for m in messages):
            application = await peers.application_peer(uow, workspace_id, now)
            await uow.members.join(workspace_id, session.id, [(application.id, None)], now)
            messages = [m if m.is_user else replace(m, sender_id=application.id) for m in messages]
        count = await uow.sessions.add_message_count(session.id, len(messages))
        created = await uow.messages.add_many(session, messages, now, count - len(messages) + 1)
        await queue.enqueue_derivations(uow, session, created, now)
        await uow.commit()
    return created


async def get_or_raise(
    uow: UnitOfWork, workspace_id: str, peer_id: str, session_id: str, message_id: str
) -> Message:
    """Return one message or raise NotFound."""
    async with uow:
        message = await uow.messages.get(workspace_id, peer_id, session_id, message_id)
    if message is None:
        raise NotFound(f"Message with ID {message_id} not found")
    return message


async def list(
    uow: UnitOfWork,
    workspace_id: str,
    peer_id: str,
    session_id: str,
    filter: MetadataFilter,
    page: PageRequest,
) -> Page[Message]:
    """Return a page of the session's messages (empty for an unknown session)."""
    async with uow:
        total = await uow.sessions.message_count(workspace_id, peer_id, session_id)
        if total is None:
            return Page.empty(page)
        return await uow.messages.list(workspace_id, peer_id, session_id, filter, page, total)


async def update(
    uow: UnitOfWork,
    workspace_id: str,
    peer_id: str,
    session_id: str,
    message_id: str,
    metadata: JSONObject,
) -> Message:
    """Replace a message's metadata; its content never changes."""
    async with uow:
        message = await uow.messages.update_metadata(
            workspace_id, peer_id, session_id, message_id, metadata
        )
        if message is None:
            raise NotFound("Message not found")
        await uow.commit()
    return message
