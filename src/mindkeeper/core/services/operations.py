"""Use cases of operators: browse every area newest first, read the queue's gauges and the
database's size, and retry or discard dead letters one by one.

Reads are keyset pages (`Keyset`): one indexed range read each, no counts, no offsets, so a
session of any size opens as fast as a small one. Scope checks are the caller's: these
functions read what they are asked to.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime

from mindkeeper.core.entities import Collection, Document, Message, Peer, Session, Workspace
from mindkeeper.core.ports import Runtime
from mindkeeper.core.ports.jobs import JobStatus
from mindkeeper.core.ports.operations import JobView, Keyset, KeysetPage, QueueGauges
from mindkeeper.errors import NotFound

PAGE_MAX = 200


def keyset(before: int | None, limit: int) -> Keyset:
    """A page request with the limit kept within 1..PAGE_MAX."""
    return Keyset(before, max(1, min(PAGE_MAX, limit)))


async def workspaces(runtime: Runtime, page: Keyset) -> KeysetPage[Workspace]:
    """Workspaces, newest first."""
    async with runtime.uow(write=False) as uow:
        return await uow.operations.workspaces(page)


async def workspace(runtime: Runtime, workspace_id: str) -> Workspace:
    """One workspace, or NotFound."""
    async with runtime.uow(write=False) as uow:
        found = await uow.workspaces.get(workspace_id)
    if found is None:
        raise NotFound(f"Workspace {workspace_id} not found")
    return found


async def peers(runtime: Runtime, workspace_id: str, page: Keyset) -> KeysetPage[Peer]:
    """Peers of a workspace, newest first."""
    async with runtime.uow(write=False) as uow:
        return await uow.operations.peers(workspace_id, page)


async def peer(runtime: Runtime, workspace_id: str, peer_id: str) -> Peer:
    """One peer of the workspace, or NotFound."""
    async with runtime.uow(write=False) as uow:
        found = await uow.peers.get(workspace_id, peer_id)
    if found is None:
        raise NotFound(f"Peer {peer_id} not found")
    return found


async def sessions(
    runtime: Runtime, workspace_id: str, peer_id: str | None, page: Keyset
) -> KeysetPage[Session]:
    """Sessions of a workspace (or of one peer: owned or joined), newest first."""
    async with runtime.uow(write=False) as uow:
        return await uow.operations.sessions(workspace_id, peer_id, page)


async def session(runtime: Runtime, workspace_id: str, session_id: str) -> Session:
    """One session of the workspace (whatever its owner), or NotFound."""
    async with runtime.uow(write=False) as uow:
        found = await uow.operations.session(workspace_id, session_id)
    if found is None:
        raise NotFound(f"Session {session_id} not found")
    return found


@dataclass(frozen=True, slots=True)
class MessagePage:
    """A page of a session's messages, newest first, and where it starts."""

    items: builtins.list[Message]
    next_before: int | None
    #: Set when the page was asked for by date and no message is that old.
    before_first: bool = False


async def messages(
    runtime: Runtime,
    session_id: str,
    page: Keyset,
    at: datetime | None = None,
) -> MessagePage:
    """A page of the session's messages, newest first; with `at`, the page starting at the
    newest message created at or before that time."""
    async with runtime.uow(write=False) as uow:
        if at is not None:
            anchor = await uow.operations.message_anchor(session_id, at)
            if anchor is None:
                return MessagePage([], None, before_first=True)
            page = Keyset(anchor + 1, page.limit)
        found = await uow.operations.messages(session_id, page)
    return MessagePage(list(found.items), found.next_before)


async def collections(runtime: Runtime, workspace_id: str, peer_id: str) -> list[Collection]:
    """The collections a peer keeps (facts, conclusions about peers, its own collections)."""
    async with runtime.uow(write=False) as uow:
        return await uow.operations.collections(workspace_id, peer_id)


async def documents(runtime: Runtime, collection_id: str, page: Keyset) -> KeysetPage[Document]:
    """Live documents of a collection, newest first."""
    async with runtime.uow(write=False) as uow:
        return await uow.operations.documents(collection_id, page)


async def jobs(runtime: Runtime, status: JobStatus, page: Keyset) -> KeysetPage[JobView]:
    """Jobs in a state (dead letters: `JobStatus.DEAD`), newest first."""
    async with runtime.uow(write=False) as uow:
        return await uow.operations.jobs(status.value, page)


async def retry_dead_letter(runtime: Runtime, key: int) -> None:
    """Give one dead job fresh attempts; NotFound when it is not a dead letter (any more)."""
    async with runtime.uow() as uow:
        if not await uow.jobs.retry_dead(None, runtime.now(), key=key):
            raise NotFound(f"Job {key} is not a dead letter")
        await uow.commit()


async def discard_dead_letter(runtime: Runtime, key: int) -> None:
    """Delete one dead job; NotFound when it is not a dead letter (any more)."""
    async with runtime.uow() as uow:
        if not await uow.operations.discard_job(key):
            raise NotFound(f"Job {key} is not a dead letter")
        await uow.commit()


@dataclass(frozen=True, slots=True)
class Gauges:
    """What the metrics endpoint reads from the database at each scrape."""

    queue: QueueGauges
    database_bytes: int | None
    now: datetime


async def gauges(runtime: Runtime) -> Gauges:
    """The queue's gauges and the database's size (indexed reads only)."""
    async with runtime.uow(write=False) as uow:
        queue = await uow.operations.queue_gauges()
        size = await uow.operations.database_size()
    return Gauges(queue, size, runtime.now())


async def accounts(runtime: Runtime) -> list[str]:
    """Accounts with agent sessions or access keys."""
    async with runtime.uow(write=False) as uow:
        return await uow.operations.accounts()


async def collection(runtime: Runtime, workspace_id: str, collection_id: str) -> Collection:
    """One collection of the workspace (whatever its owner), or NotFound."""
    async with runtime.uow(write=False) as uow:
        found = await uow.operations.collection(workspace_id, collection_id)
    if found is None:
        raise NotFound(f"Collection {collection_id} not found")
    return found


async def peer_names(runtime: Runtime, workspace_id: str, ids: set[str]) -> dict[str, str]:
    """The names of the workspace's peers with those public ids."""
    wanted = sorted(i for i in ids if i)
    if not wanted:
        return {}
    async with runtime.uow(write=False) as uow:
        found = await uow.peers.get_many(workspace_id, peer_ids=wanted)
    return {p.id: p.name for p in found}


@dataclass(frozen=True, slots=True)
class Named:
    """Public ids of a workspace and, below it, a peer and a session, found by name."""

    workspace_id: str | None
    peer_id: str | None = None
    session_id: str | None = None


async def by_names(
    runtime: Runtime, workspace: str, peer: str | None = None, session: str | None = None
) -> Named:
    """The public ids of named resources (None for those that do not exist)."""
    async with runtime.uow(write=False) as uow:
        ws = await uow.workspaces.get_by_name(workspace)
        if ws is None:
            return Named(None)
        found_peer = await uow.peers.get_by_name(ws.id, peer) if peer else None
        found_session = await uow.sessions.get_by_name(ws.id, session) if session else None
    return Named(
        ws.id,
        found_peer.id if found_peer else None,
        found_session.id if found_session else None,
    )
