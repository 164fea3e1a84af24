"""Messages of a session addressed by name: create a batch (creating the session, the senders
and their memberships), list, read, re-tag, and the text of an uploaded file as messages.

Senders are peers. On a session that has a v1 owner, a message is the owner's (`is_user`)
when the owner sent it; on a session without one, every message of a real peer is.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from mindkeeper.core.entities import JSONObject, Message, Peer, Session
from mindkeeper.core.filters import parse_filters
from mindkeeper.core.ports import NewMessage, UnitOfWork
from mindkeeper.core.services.conversations import filters as spec
from mindkeeper.core.services.conversations import members, workspaces
from mindkeeper.core.services.conversations.scope import find_session, retrying, session_not_found
from mindkeeper.core.services.memory import enqueue, indexing
from mindkeeper.core.values import Clock, Page, PageRequest, utcnow
from mindkeeper.errors import NotFound

#: Longest message content, in characters (also the size of the chunks of an upload).
CONTENT_MAX = 25_000
_WHITESPACE = (" ", "\n", "\t", "\r", "\f", "\v")


@dataclass(frozen=True, slots=True)
class MessageInput:
    """A message to create: its sender by name and, optionally, its processing settings."""

    peer: str
    content: str
    metadata: JSONObject = field(default_factory=dict)
    created_at: datetime | None = None
    #: Per-message settings for background work (not stored with the message).
    configuration: JSONObject | None = None


@dataclass(frozen=True, slots=True)
class Written:
    """Messages with the names their senders go by."""

    messages: Sequence[Message]
    peer_names: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class WrittenPage:
    """A page of messages with the names their senders go by."""

    page: Page[Message]
    peer_names: Mapping[str, str]


def _utc(value: datetime | None) -> datetime | None:
    """A client's timestamp without an offset is taken as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _is_user(session: Session, sender: Peer) -> bool:
    if session.peer_id is not None:
        return sender.id == session.peer_id
    return not sender.synthetic


async def enqueue_background_work(
    uow: UnitOfWork,
    session: Session,
    created: Sequence[Message],
    configurations: Sequence[JSONObject | None],
    now: datetime,
    *,
    embed: bool,
) -> None:
    """Inside the messages' transaction: queue the background work the new messages call for
    (`configurations[i]` are the per-message settings of `created[i]`): their derivation
    (`memory.enqueue`) and, when an embedder is configured (`embed`), their embedding for
    search (`memory.indexing`)."""
    await enqueue.enqueue_for_messages(uow, session, created, configurations, now)
    await indexing.enqueue_embeddings(uow, created, now, enabled=embed)


async def create(
    uow: UnitOfWork,
    workspace: str,
    session: str,
    inputs: Sequence[MessageInput],
    count_tokens: Callable[[str], int],
    clock: Clock = utcnow,
    *,
    embed: bool,
) -> Written:
    """Append messages in order, all or nothing; creates the workspace, the session, the
    senders and their memberships as needed. A deleted session is not found. `embed`: an
    embedder is configured, so the messages are queued for embedding."""
    counts = [count_tokens(m.content) for m in inputs]

    async def attempt() -> Written:
        async with uow:
            now = clock()
            ws = await workspaces.ensure(uow, workspace, clock)
            target = await uow.sessions.get_by_name(ws.id, session)
            if target is None:
                target = await uow.sessions.create_named(ws.id, session, {}, {}, now)
            elif not target.is_active:
                raise session_not_found(session, workspace)
            senders = await members.join(uow, ws.id, target.id, {m.peer: None for m in inputs}, now)
            rows = [
                NewMessage(
                    m.content,
                    _is_user(target, senders[m.peer]),
                    m.metadata,
                    senders[m.peer].id,
                    tokens,
                    _utc(m.created_at),
                )
                for m, tokens in zip(inputs, counts, strict=True)
            ]
            count = await uow.sessions.add_message_count(target.id, len(rows))
            created = await uow.messages.add_many(target, rows, now, count - len(rows) + 1)
            await enqueue_background_work(
                uow, target, created, [m.configuration for m in inputs], now, embed=embed
            )
            await uow.commit()
            return Written(created, {p.id: p.name for p in senders.values()})

    return await retrying(attempt)


async def _names(uow: UnitOfWork, workspace_id: str, messages: Sequence[Message]) -> dict[str, str]:
    ids = builtins.list({m.sender_id for m in messages})
    return {p.id: p.name for p in await uow.peers.get_many(workspace_id, ids)}


async def list(
    uow: UnitOfWork,
    workspace: str,
    session: str,
    page: PageRequest,
    filters: JSONObject | None = None,
) -> WrittenPage:
    """Return a page of the session's messages in insertion order, filtered
    (`filters.MESSAGES`); empty for an unknown session; a deleted one stays readable until
    it is removed."""
    where = parse_filters(filters, spec.MESSAGES)
    async with uow:
        found = await find_session(uow, workspace, session)
        if found is None:
            return WrittenPage(Page.empty(page), {})
        total = None if where is not None else await uow.sessions.count_messages(found.id)
        result = await uow.messages.list_in_session(
            found.workspace_id, found.id, page, total, where
        )
        return WrittenPage(result, await _names(uow, found.workspace_id, result.items))


async def get(uow: UnitOfWork, workspace: str, session: str, message_id: str) -> Written:
    """Return one message of the session, or NotFound."""
    async with uow:
        found = await find_session(uow, workspace, session)
        message = (
            None
            if found is None
            else await uow.messages.find(found.workspace_id, found.id, message_id)
        )
        if found is None or message is None:
            raise NotFound(f"Message with ID {message_id} not found")
        return Written([message], await _names(uow, found.workspace_id, [message]))


async def update(
    uow: UnitOfWork,
    workspace: str,
    session: str,
    message_id: str,
    metadata: JSONObject | None,
) -> Written:
    """Replace a message's metadata (None keeps it); its content never changes."""
    async with uow:
        found = await find_session(uow, workspace, session)
        message: Message | None = None
        if found is not None:
            if metadata is None:
                message = await uow.messages.find(found.workspace_id, found.id, message_id)
            else:
                message = await uow.messages.set_metadata(
                    found.workspace_id, found.id, message_id, metadata
                )
        if found is None or message is None:
            raise NotFound("Message not found")
        names = await _names(uow, found.workspace_id, [message])
        await uow.commit()
    return Written([message], names)


def split_text(text: str, limit: int = CONTENT_MAX) -> builtins.list[str]:
    """Cut a text into pieces of at most `limit` characters; joined, they give the text back.

    A piece ends after a line break in its second half when there is one, else after its last
    whitespace, else at `limit`. An empty text is one empty piece.
    """
    pieces: builtins.list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = window.rfind("\n") + 1
        if cut <= limit // 2:
            cut = max(window.rfind(c) for c in _WHITESPACE) + 1
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut])
        rest = rest[cut:]
    pieces.append(rest)
    return pieces


async def create_from_text(
    uow: UnitOfWork,
    workspace: str,
    session: str,
    peer: str,
    text: str,
    metadata: JSONObject,
    created_at: datetime | None,
    configuration: JSONObject | None,
    count_tokens: Callable[[str], int],
    clock: Clock = utcnow,
    *,
    embed: bool,
) -> Written:
    """Append a text as messages of one peer, one per piece of at most CONTENT_MAX
    characters."""
    inputs = [
        MessageInput(peer, piece, dict(metadata), created_at, configuration)
        for piece in split_text(text)
    ]
    return await create(uow, workspace, session, inputs, count_tokens, clock, embed=embed)
