"""Short-term memory: events of an actor in a session, as messages of the memory's workspace.

CreateEvent writes one message (the actor its sender, the event's timestamp its time, the items
as JSON bytes, sealed when the memory has a key) and, when the memory has strategies that
extract and the event has conversational or JSON items, one extraction job in the session's
line of jobs, in the same transaction. A client token makes a retry answer the original event;
the same token with other parameters is refused. Events expire `eventExpiryDuration` days after
they were written (fixed at write time). Listings are newest first (time, then insertion).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import orjson

from mindkeeper.core.ports import Runtime, UnitOfWork
from mindkeeper.core.ports.agentcore import (
    Branch,
    BranchScope,
    Event,
    EventQuery,
    Memory,
    MetadataCondition,
    NewEvent,
    OtherSession,
    SessionEntry,
    StoredEvent,
    TokenMismatch,
)
from mindkeeper.core.services.agentcore import namespaces
from mindkeeper.core.services.agentcore.common import (
    Idempotency,
    active_memory,
    digest,
    open_event,
    remember,
    replayed,
    seal_event,
)
from mindkeeper.core.values import new_id
from mindkeeper.errors import Invalid, NotFound

#: The longest text a message keeps (the rest stays in the event's items).
CONTENT_MAX = 65_535
#: How many branches deep `includeParentBranches` follows roots.
BRANCH_DEPTH_MAX = 32
INGEST = "IngestData"

Position = tuple[datetime, int]


@dataclass(frozen=True, slots=True)
class EventInput:
    """A CreateEvent request."""

    actor: str
    timestamp: datetime
    payload: builtins.list[Any]
    session: str | None = None
    branch: Branch | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    skip_extraction: bool = False
    namespace_values: dict[str, str] = field(default_factory=dict)
    client_token: str | None = None


@dataclass(frozen=True, slots=True)
class EventListing:
    """A ListEvents request."""

    actor: str
    session: str
    limit: int
    after: Position | None = None
    with_payload: bool = True
    branch: str | None = None
    include_parents: bool = False
    metadata: tuple[MetadataCondition, ...] = ()


def event_not_found(event_id: str) -> NotFound:
    """The error for an event the caller cannot see."""
    return NotFound(f"Event {event_id} not found")


def text_of(payload: builtins.list[Any]) -> tuple[str, bool]:
    """The conversational text of an event's items (for the message) and whether a user
    wrote any of it."""
    texts: builtins.list[str] = []
    user = False
    for item in payload:
        turn = item.get("conversational") if isinstance(item, dict) else None
        if isinstance(turn, dict):
            texts.append(str((turn.get("content") or {}).get("text") or ""))
            user = user or turn.get("role") == "USER"
    return "\n".join(texts)[:CONTENT_MAX], user


def extractable(payload: builtins.list[Any]) -> builtins.list[int]:
    """Indexes of the items extraction reads (conversational and JSON; never blobs)."""
    return [
        i
        for i, item in enumerate(payload)
        if isinstance(item, dict) and ("conversational" in item or "json" in item)
    ]


def view(runtime: Runtime, memory: Memory, stored: StoredEvent, actor: str, session: str) -> Event:
    """The event of a stored message, its items opened when they were read."""
    payload = None
    if stored.payload_blob is not None:
        payload = open_event(runtime, memory, stored.id, stored.payload_blob)
    return Event(
        stored.id, actor, session, stored.timestamp, payload, stored.branch, stored.metadata
    )


async def _replay(
    runtime: Runtime, uow: UnitOfWork, memory: Memory, data: EventInput, plain: bytes, token: str
) -> Event | None:
    stored = await uow.agentcore.event_by_token(memory.workspace_id, token)
    if stored is None:
        return None
    actor_id = await uow.agentcore.find_peer(memory.workspace_id, data.actor)
    same = actor_id == stored.sender_id and stored.payload_blob is not None
    if same and data.session is not None:
        same = await uow.agentcore.find_session(memory.workspace_id, data.session) == (
            stored.session_id
        )
    if same and stored.payload_blob is not None:
        same = orjson.dumps(open_event(runtime, memory, stored.id, stored.payload_blob)) == plain
    if not same or stored.metadata != data.metadata or stored.branch != data.branch:
        raise TokenMismatch(
            "The client token was already used for an event with different parameters"
        )
    session = data.session or await uow.sessions.name_of(memory.workspace_id, stored.session_id)
    return view(runtime, memory, stored, data.actor, session or "")


async def _check_root(
    uow: UnitOfWork, memory: Memory, branch: Branch, actor_id: str | None, session_id: str | None
) -> None:
    if branch.root_event_id is None:
        return
    root = await uow.agentcore.get_event(memory.workspace_id, branch.root_event_id)
    if root is None or (actor_id is not None and root.sender_id != actor_id):
        raise event_not_found(branch.root_event_id)
    if session_id is None or root.session_id != session_id:
        raise OtherSession(f"The root event {branch.root_event_id} belongs to another session")


async def create(runtime: Runtime, account_id: str, memory_id: str, data: EventInput) -> Event:
    """Store an event (and queue its extraction); a retried token answers the original."""
    plain = orjson.dumps(data.payload)
    content, is_user = text_of(data.payload)
    tokens = runtime.tokens.count(content) if content else 0
    token = None if data.client_token is None else digest(data.client_token)
    now = runtime.now()
    async with runtime.uow() as uow:
        memory = await active_memory(uow, account_id, memory_id)
        if token is not None:
            again = await _replay(runtime, uow, memory, data, plain, token)
            if again is not None:
                return again
        namespaces.check_values(memory, data.namespace_values)
        items = extractable(data.payload)
        extracting = [s.id for s in memory.settings.strategies if s.behaviour != "none"]
        if items and extracting and not data.skip_extraction:
            missing = namespaces.missing_values(memory, data.namespace_values)
            if missing:
                raise Invalid(
                    "The memory's namespace templates need values for "
                    + ", ".join(missing)
                    + " (extractionConfig.namespaceVariables)"
                )
        session = data.session or str(uuid4())
        workspace = memory.workspace_id
        if data.branch is not None and data.branch.root_event_id is not None:
            await _check_root(
                uow,
                memory,
                data.branch,
                await uow.agentcore.find_peer(workspace, data.actor),
                await uow.agentcore.find_session(workspace, session),
            )
        actor_id = await uow.agentcore.ensure_actor(workspace, data.actor, now)
        session_id = await uow.agentcore.ensure_session(workspace, session, actor_id, now)
        event_id = new_id()
        new = NewEvent(
            id=event_id,
            workspace_id=workspace,
            session_id=session_id,
            sender_id=actor_id,
            timestamp=data.timestamp,
            content="" if memory.key_ref is not None else content,
            is_user=is_user,
            token_count=tokens,
            payload_blob=seal_event(runtime, memory, event_id, plain),
            branch=data.branch,
            metadata=data.metadata,
            client_token=token,
            expires_at=now + timedelta(days=memory.settings.event_expiry_days),
            now=now,
        )
        if not await uow.agentcore.add_event(new):
            assert token is not None
            again = await _replay(runtime, uow, memory, data, plain, token)
            assert again is not None
            return again
        if items and extracting and not data.skip_extraction:
            for strategy_id in extracting:
                job = {
                    "event": event_id,
                    "messages": [[event_id, i] for i in items],
                    "values": data.namespace_values,
                    "strategy": strategy_id,
                }
                await uow.agentcore.enqueue_extraction(workspace, actor_id, session_id, job, now)
        await uow.commit()
    return Event(
        event_id, data.actor, session, data.timestamp, data.payload, data.branch, data.metadata
    )


async def _scope(
    uow: UnitOfWork,
    workspace_id: str,
    session_id: str,
    actor_id: str,
    name: str,
    include_parents: bool,
) -> BranchScope:
    lines: builtins.list[tuple[str | None, Position | None]] = [(name, None)]
    if not include_parents:
        return BranchScope(tuple(lines))
    current: str | None = name
    seen = {name}
    while current is not None and len(lines) <= BRANCH_DEPTH_MAX:
        root_id = await uow.agentcore.branch_root(session_id, actor_id, current)
        if root_id is None:
            break
        root = await uow.agentcore.get_event(workspace_id, root_id)
        if root is None or root.session_id != session_id:
            break
        parent = None if root.branch is None else root.branch.name
        lines.append((parent, (root.timestamp, root.key)))
        if parent is None or parent in seen:
            break
        seen.add(parent)
        current = parent
    return BranchScope(tuple(lines))


async def list(
    runtime: Runtime, account_id: str, memory_id: str, q: EventListing
) -> tuple[builtins.list[Event], Position | None]:
    """A page of an actor's events in a session, newest first, and the next position."""
    now = runtime.now()
    async with runtime.uow(write=False) as uow:
        memory = await active_memory(uow, account_id, memory_id)
        workspace = memory.workspace_id
        actor_id = await uow.agentcore.find_peer(workspace, q.actor)
        session_id = await uow.agentcore.find_session(workspace, q.session)
        if actor_id is None or session_id is None:
            return [], None
        branches = None
        if q.branch is not None:
            branches = await _scope(
                uow, workspace, session_id, actor_id, q.branch, q.include_parents
            )
        query = EventQuery(
            session_id=session_id,
            sender_id=actor_id,
            now=now,
            limit=q.limit + 1,
            after=q.after,
            with_payload=q.with_payload,
            branches=branches,
            metadata=q.metadata,
        )
        rows = await uow.agentcore.list_events(query)
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    events = [view(runtime, memory, row, q.actor, q.session) for row in rows]
    last = rows[-1] if rows else None
    return events, ((last.timestamp, last.key) if more and last is not None else None)


async def _find(
    uow: UnitOfWork, memory: Memory, actor: str, session: str, event_id: str, now: datetime
) -> StoredEvent:
    workspace = memory.workspace_id
    stored = await uow.agentcore.get_event(workspace, event_id)
    if stored is None or (stored.expires_at is not None and stored.expires_at <= now):
        raise event_not_found(event_id)
    actor_id = await uow.agentcore.find_peer(workspace, actor)
    session_id = await uow.agentcore.find_session(workspace, session)
    if stored.sender_id != actor_id or stored.session_id != session_id:
        raise event_not_found(event_id)
    return stored


async def get(
    runtime: Runtime, account_id: str, memory_id: str, actor: str, session: str, event_id: str
) -> Event:
    """One event of an actor's session."""
    now = runtime.now()
    async with runtime.uow(write=False) as uow:
        memory = await active_memory(uow, account_id, memory_id)
        stored = await _find(uow, memory, actor, session, event_id, now)
    return view(runtime, memory, stored, actor, session)


async def delete(
    runtime: Runtime, account_id: str, memory_id: str, actor: str, session: str, event_id: str
) -> str:
    """Delete one event of an actor's session for good; return its id."""
    now = runtime.now()
    async with runtime.uow() as uow:
        memory = await active_memory(uow, account_id, memory_id)
        stored = await _find(uow, memory, actor, session, event_id, now)
        await uow.agentcore.delete_event(memory.workspace_id, stored)
        await uow.commit()
    return event_id


async def list_sessions(
    runtime: Runtime,
    account_id: str,
    memory_id: str,
    actor: str,
    has_events: bool,
    after: Position | None,
    limit: int,
) -> tuple[builtins.list[SessionEntry], Position | None]:
    """A page of the sessions an actor takes part in, newest first."""
    now = runtime.now()
    async with runtime.uow(write=False) as uow:
        memory = await active_memory(uow, account_id, memory_id)
        actor_id = await uow.agentcore.find_peer(memory.workspace_id, actor)
        if actor_id is None:
            return [], None
        rows = await uow.agentcore.list_sessions(
            memory.workspace_id, actor_id, now, has_events, after, limit + 1
        )
    page = [SessionEntry(r.key, r.session, actor, r.created_at) for r in rows[:limit]]
    more = len(rows) > limit
    return page, ((page[-1].created_at, page[-1].key) if more else None)


async def list_actors(
    runtime: Runtime, account_id: str, memory_id: str, after: int | None, limit: int
) -> tuple[builtins.list[str], int | None]:
    """A page of the actors with events, in the order they first wrote."""
    now = runtime.now()
    async with runtime.uow(write=False) as uow:
        memory = await active_memory(uow, account_id, memory_id)
        rows = await uow.agentcore.list_actors(memory.workspace_id, now, after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return [name for _, name in rows], (rows[-1][0] if more else None)


@dataclass(frozen=True, slots=True)
class IngestInput:
    """An IngestData request: content for extraction that is not kept as events."""

    actor: str
    timestamp: datetime
    payload: builtins.list[Any]
    session: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    namespace_values: dict[str, str] = field(default_factory=dict)
    client_token: str | None = None


async def ingest(runtime: Runtime, account_id: str, memory_id: str, data: IngestInput) -> str:
    """Queue content for extraction without storing it as events; return the session id."""
    request = {
        "actor": data.actor,
        "session": data.session,
        "timestamp": data.timestamp.isoformat(),
        "payload": data.payload,
        "metadata": data.metadata,
        "values": data.namespace_values,
    }
    key = Idempotency.of(data.client_token, request)
    now = runtime.now()
    async with runtime.uow() as uow:
        memory = await active_memory(uow, account_id, memory_id)
        operation = f"{memory.workspace_id}/{INGEST}"
        earlier = await replayed(uow, account_id, operation, key)
        if earlier is not None:
            return str(earlier["session"])
        namespaces.check_values(memory, data.namespace_values)
        missing = namespaces.missing_values(memory, data.namespace_values)
        if missing:
            raise Invalid("The memory's namespace templates need values for " + ", ".join(missing))
        session = data.session or str(uuid4())
        workspace = memory.workspace_id
        actor_id = await uow.agentcore.ensure_actor(workspace, data.actor, now)
        session_id = await uow.agentcore.ensure_session(workspace, session, actor_id, now)
        extracting = [s.id for s in memory.settings.strategies if s.behaviour != "none"]
        for strategy_id in extracting:
            job = {
                "items": data.payload,
                "timestamp": data.timestamp.isoformat(),
                "messages": [],
                "values": data.namespace_values,
                "strategy": strategy_id,
            }
            await uow.agentcore.enqueue_extraction(workspace, actor_id, session_id, job, now)
        await remember(uow, account_id, workspace, operation, key, {"session": session}, now)
        await uow.commit()
    return session
