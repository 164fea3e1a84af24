"""Use cases for agent sessions: create, get, list, update, end, delete, tags, expiry and purge.

Status is computed on read: a session idle (no write) for the policy's `idle_expiry` is
EXPIRED, and the first request that notices persists it. Writes to an ENDED or EXPIRED
session, and deletes of an ACTIVE one, raise Conflict. Metadata of a session with a key is
sealed with the keyring, bound to the account and session id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from uuid import uuid4

import orjson

from mindkeeper.core.agents import (
    AgentSession,
    Listing,
    ListRequest,
    NewSession,
    SessionStatus,
    SessionSummary,
    StoredSession,
    StringMap,
)
from mindkeeper.core.ports import Runtime, UnitOfWork
from mindkeeper.errors import Conflict, Invalid, NotFound, QuotaExceeded


def not_found(session_id: str) -> NotFound:
    """The error for a session that does not exist for the caller."""
    return NotFound(f"Session {session_id} not found")


def effective_status(
    session: StoredSession | SessionSummary, now: datetime, runtime: Runtime
) -> SessionStatus:
    """Return the status as of `now`: EXPIRED once idle for the policy's expiry period."""
    if session.status is SessionStatus.EXPIRED:
        return SessionStatus.EXPIRED
    if session.last_updated_at + runtime.agent_policy.idle_expiry <= now:
        return SessionStatus.EXPIRED
    return session.status


def metadata_context(account_id: str, session_id: str) -> bytes:
    """Associated data binding sealed metadata to its session."""
    return f"agent-session/{account_id}/{session_id}/metadata".encode()


def seal_metadata(
    runtime: Runtime, account_id: str, session_id: str, key_ref: str | None, metadata: StringMap
) -> bytes:
    """Serialise the metadata, sealed when the session has a key."""
    plain = orjson.dumps(metadata)
    if key_ref is None:
        return plain
    return runtime.keyring.seal(key_ref, plain, metadata_context(account_id, session_id))


def open_metadata(runtime: Runtime, session: StoredSession) -> StringMap:
    """Return the session's metadata, opening it when sealed."""
    blob = session.metadata_blob
    if session.key_ref is not None:
        blob = runtime.keyring.open(
            session.key_ref, blob, metadata_context(session.account_id, session.id)
        )
    data: StringMap = orjson.loads(blob)
    return data


def require_key(runtime: Runtime, session: StoredSession) -> None:
    """Forbidden unless the server holds the key that sealed the session's data.

    Checked before sealing more into a session, so that one session is never sealed under two
    kinds of key (a configured one and one derived from the local master key).
    """
    if session.key_ref is not None:
        open_metadata(runtime, session)


def view(
    runtime: Runtime, session: StoredSession, status: SessionStatus, metadata: StringMap | None
) -> AgentSession:
    """Return the entity for a stored session; opens the metadata unless given."""
    return AgentSession(
        key=session.key,
        id=session.id,
        account_id=session.account_id,
        status=status,
        metadata=open_metadata(runtime, session) if metadata is None else metadata,
        key_ref=session.key_ref,
        created_at=session.created_at,
        last_updated_at=session.last_updated_at,
        ended_at=session.ended_at,
    )


async def require(uow: UnitOfWork, account_id: str, session_id: str) -> StoredSession:
    """Inside an open unit of work: return the account's session or raise NotFound."""
    session = await uow.agents.get_session(account_id, session_id)
    if session is None:
        raise not_found(session_id)
    return session


async def refuse_unless_active(
    runtime: Runtime, uow: UnitOfWork, session: StoredSession, now: datetime
) -> None:
    """Inside a write unit of work: raise Conflict unless the session is ACTIVE as of `now`.

    A session found idle past expiry is marked EXPIRED (committed) before the refusal.
    """
    status = effective_status(session, now, runtime)
    if status is SessionStatus.ACTIVE:
        return
    if status is SessionStatus.EXPIRED and session.status is not SessionStatus.EXPIRED:
        await uow.agents.mark_expired(now - runtime.agent_policy.idle_expiry, [session.key])
        await uow.commit()
    raise Conflict(f"Session {session.id} is {status.value} and cannot be modified")


async def require_writable(
    runtime: Runtime, uow: UnitOfWork, account_id: str, session_id: str, now: datetime
) -> StoredSession:
    """Inside a write unit of work: return the account's ACTIVE session, touched, or raise.

    The common case is one statement (touch-if-active); NotFound or Conflict are diagnosed
    only when it changes nothing.
    """
    idle_before = now - runtime.agent_policy.idle_expiry
    session = await uow.agents.touch_active(account_id, session_id, now, idle_before)
    if session is not None:
        return session
    session = await require(uow, account_id, session_id)
    await refuse_unless_active(runtime, uow, session, now)
    await uow.agents.touch_session(session, now)
    return replace(session, last_updated_at=now)


async def _persist_expired(runtime: Runtime, keys: Sequence[int], now: datetime) -> None:
    async with runtime.uow() as uow:
        await uow.agents.mark_expired(now - runtime.agent_policy.idle_expiry, keys)
        await uow.commit()


def check_tag_count(runtime: Runtime, count: int) -> None:
    """QuotaExceeded when a session would carry more tags than the policy allows."""
    limit = runtime.agent_policy.max_tags_per_session
    if count > limit:
        raise QuotaExceeded(f"A session can have at most {limit} tags (would have {count})")


async def create(
    runtime: Runtime,
    account_id: str,
    metadata: StringMap,
    key_ref: str | None,
    tags: StringMap,
) -> AgentSession:
    """Start an ACTIVE session, sealing its metadata when a key is named."""
    if key_ref is not None and not runtime.keyring.knows(key_ref):
        raise Invalid(
            f"The encryption key {key_ref} is not in this server's keyring "
            "(settings bedrock_keyring / bedrock_keyring_file)"
        )
    check_tag_count(runtime, len(tags))
    session_id = str(uuid4())
    blob = seal_metadata(runtime, account_id, session_id, key_ref, metadata)
    now = runtime.now()
    async with runtime.uow() as uow:
        stored = await uow.agents.add_session(
            NewSession(session_id, account_id, blob, key_ref, now)
        )
        await uow.agents.put_tags(stored, tags)
        await uow.commit()
    return view(runtime, stored, SessionStatus.ACTIVE, metadata)


async def get_or_raise(runtime: Runtime, account_id: str, session_id: str) -> AgentSession:
    """Return the session with its metadata and current status, or raise NotFound."""
    now = runtime.now()
    async with runtime.uow(write=False) as uow:
        stored = await require(uow, account_id, session_id)
    status = effective_status(stored, now, runtime)
    if status is not stored.status:
        await _persist_expired(runtime, [stored.key], now)
    return view(runtime, stored, status, None)


async def list(runtime: Runtime, account_id: str, request: ListRequest) -> Listing[SessionSummary]:
    """Return a page of the account's sessions, newest first, with current statuses."""
    now = runtime.now()
    async with runtime.uow(write=False) as uow:
        page = await uow.agents.list_sessions(account_id, request)
    items = [_with_status(item, effective_status(item, now, runtime)) for item in page.items]
    stale = [old.key for old, new in zip(page.items, items, strict=True) if old is not new]
    if stale:
        await _persist_expired(runtime, stale, now)
    return Listing(items, page.next)


def _with_status(item: SessionSummary, status: SessionStatus) -> SessionSummary:
    return item if status is item.status else replace(item, status=status)


async def update(
    runtime: Runtime, account_id: str, session_id: str, metadata: StringMap | None
) -> AgentSession:
    """Replace the metadata of an ACTIVE session (None keeps it) and move `last_updated_at`."""
    now = runtime.now()
    async with runtime.uow() as uow:
        stored = await require_writable(runtime, uow, account_id, session_id, now)
        blob = None
        if metadata is not None:
            require_key(runtime, stored)
            blob = seal_metadata(runtime, account_id, session_id, stored.key_ref, metadata)
        updated = await uow.agents.update_session(stored, now=now, metadata_blob=blob)
        await uow.commit()
    return view(runtime, updated, SessionStatus.ACTIVE, metadata)


async def end(runtime: Runtime, account_id: str, session_id: str) -> AgentSession:
    """End an ACTIVE session; an ENDED one is returned as is; an EXPIRED one is a Conflict."""
    now = runtime.now()
    async with runtime.uow() as uow:
        stored = await require(uow, account_id, session_id)
        if effective_status(stored, now, runtime) is SessionStatus.ENDED:
            return view(runtime, stored, SessionStatus.ENDED, None)
        await refuse_unless_active(runtime, uow, stored, now)
        ended = await uow.agents.update_session(
            stored, now=now, status=SessionStatus.ENDED, ended_at=now
        )
        await uow.commit()
    return view(runtime, ended, SessionStatus.ENDED, None)


async def delete(runtime: Runtime, account_id: str, session_id: str) -> None:
    """Delete an ENDED or EXPIRED session with everything in it; an ACTIVE one is a Conflict."""
    now = runtime.now()
    async with runtime.uow() as uow:
        stored = await require(uow, account_id, session_id)
        if effective_status(stored, now, runtime) is SessionStatus.ACTIVE:
            raise Conflict(f"Session {session_id} is ACTIVE; end it before deleting it")
        await uow.agents.delete_session(stored)
        await uow.commit()


async def list_tags(runtime: Runtime, account_id: str, session_id: str) -> StringMap:
    """Return the session's tags."""
    async with runtime.uow(write=False) as uow:
        stored = await require(uow, account_id, session_id)
        return await uow.agents.get_tags(stored)


async def tag(runtime: Runtime, account_id: str, session_id: str, tags: StringMap) -> None:
    """Add or overwrite tags, within the per-session limit."""
    async with runtime.uow() as uow:
        stored = await require(uow, account_id, session_id)
        current = await uow.agents.get_tags(stored)
        check_tag_count(runtime, len(current.keys() | tags.keys()))
        await uow.agents.put_tags(stored, tags)
        await uow.commit()


async def untag(runtime: Runtime, account_id: str, session_id: str, keys: Sequence[str]) -> None:
    """Remove tags by key; absent keys are ignored."""
    async with runtime.uow() as uow:
        stored = await require(uow, account_id, session_id)
        await uow.agents.remove_tags(stored, keys)
        await uow.commit()


async def expire_idle(runtime: Runtime) -> int:
    """Persist EXPIRED on every session idle past expiry; return how many changed."""
    now = runtime.now()
    async with runtime.uow() as uow:
        count = await uow.agents.mark_expired(now - runtime.agent_policy.idle_expiry)
        await uow.commit()
    return count


async def purge_expired(runtime: Runtime) -> int:
    """Delete sessions expired for longer than the retention period; return how many."""
    policy = runtime.agent_policy
    await expire_idle(runtime)
    cutoff = runtime.now() - policy.idle_expiry - policy.expired_retention
    total = 0
    while True:
        async with runtime.uow() as uow:
            removed = await uow.agents.purge_sessions(cutoff, policy.purge_batch_size)
            await uow.commit()
        total += removed
        if removed < policy.purge_batch_size:
            return total
