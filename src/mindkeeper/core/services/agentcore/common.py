"""What the memory-resource use cases share: finding the caller's memory, idempotency
tokens and fingerprints, sealing event items and record texts with the keyring."""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from mindkeeper.core.ports import Runtime, UnitOfWork
from mindkeeper.core.ports.agentcore import Memory, MemoryStatus, TokenMismatch
from mindkeeper.errors import Invalid, NotFound

_SUFFIX_ALPHABET = string.ascii_letters + string.digits
#: Prefix marking a record text sealed with the memory's key.
SEALED_TEXT = "sealed:"


def suffixed(name: str) -> str:
    """`name-` plus 10 random letters and digits (the shape of memory and strategy ids)."""
    return name + "-" + "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(10))


def memory_not_found(memory_id: str) -> NotFound:
    """The error for a memory the caller does not have."""
    return NotFound(f"Memory {memory_id} not found")


async def require_memory(uow: UnitOfWork, account_id: str, memory_id: str) -> Memory:
    """Inside an open unit of work: the account's memory, or NotFound."""
    memory = await uow.agentcore.get_memory(account_id, memory_id)
    if memory is None:
        raise memory_not_found(memory_id)
    return memory


def require_active(memory: Memory) -> None:
    """Invalid unless the memory accepts data-plane requests (it is ACTIVE)."""
    if memory.status is not MemoryStatus.ACTIVE:
        raise Invalid(f"Memory {memory.id} is {memory.status.value}, not ACTIVE")


async def active_memory(uow: UnitOfWork, account_id: str, memory_id: str) -> Memory:
    """Inside an open unit of work: the account's ACTIVE memory."""
    memory = await require_memory(uow, account_id, memory_id)
    require_active(memory)
    return memory


@dataclass(frozen=True, slots=True)
class Idempotency:
    """A client token and the fingerprint of the request that carried it."""

    token: str
    fingerprint: str

    @classmethod
    def of(cls, token: str | None, request: Any) -> Idempotency | None:
        """Hash a token and fingerprint a request's parameters (None without a token)."""
        if token is None:
            return None
        return cls(digest(token), digest(canonical(request)))


def digest(text: str | bytes) -> str:
    """A SHA-256 hex digest (tokens and fingerprints are stored hashed)."""
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def canonical(value: Any) -> bytes:
    """A stable serialisation of request parameters (sorted keys; datetimes as ISO 8601)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str)


async def replayed(
    uow: UnitOfWork, account_id: str, operation: str, key: Idempotency | None
) -> dict[str, Any] | None:
    """Inside an open unit of work: the stored result of an earlier request with the same
    token; TokenMismatch when that request had other parameters."""
    if key is None:
        return None
    found = await uow.agentcore.get_request(account_id, operation, key.token)
    if found is None:
        return None
    fingerprint, result = found
    if fingerprint != key.fingerprint:
        raise TokenMismatch(
            "The client token was already used for a request with different parameters"
        )
    return result


async def remember(
    uow: UnitOfWork,
    account_id: str,
    workspace_id: str,
    operation: str,
    key: Idempotency | None,
    result: dict[str, Any],
    now: datetime,
) -> None:
    """Inside an open unit of work: store a request's result under its token (if it has one),
    for `replayed` to answer a retry with."""
    if key is not None:
        await uow.agentcore.add_request(
            account_id, workspace_id, operation, key.token, key.fingerprint, result, now
        )


def event_context(workspace_id: str, event_id: str) -> bytes:
    """Associated data binding a sealed event to its place."""
    return f"agentcore/{workspace_id}/event/{event_id}".encode()


def record_context(workspace_id: str, record_id: str) -> bytes:
    """Associated data binding a sealed record text to its place."""
    return f"agentcore/{workspace_id}/record/{record_id}".encode()


def seal_event(runtime: Runtime, memory: Memory, event_id: str, plain: bytes) -> bytes:
    """An event's items as stored: sealed when the memory has a key."""
    if memory.key_ref is None:
        return plain
    context = event_context(memory.workspace_id, event_id)
    return runtime.keyring.seal(memory.key_ref, plain, context)


def open_event(runtime: Runtime, memory: Memory, event_id: str, blob: bytes) -> Any:
    """An event's items from storage."""
    if memory.key_ref is not None:
        blob = runtime.keyring.open(
            memory.key_ref, blob, event_context(memory.workspace_id, event_id)
        )
    return orjson.loads(blob)


def seal_text(runtime: Runtime, memory: Memory, record_id: str, text: str) -> str:
    """A record text as stored: sealed (base64, marked) when the memory has a key."""
    if memory.key_ref is None:
        return text
    sealed = runtime.keyring.seal(
        memory.key_ref, text.encode(), record_context(memory.workspace_id, record_id)
    )
    return SEALED_TEXT + base64.b64encode(sealed).decode()


def open_text(runtime: Runtime, memory: Memory, record_id: str, stored: str) -> str:
    """A record text from storage."""
    if memory.key_ref is None or not stored.startswith(SEALED_TEXT):
        return stored
    sealed = base64.b64decode(stored[len(SEALED_TEXT) :])
    context = record_context(memory.workspace_id, record_id)
    return runtime.keyring.open(memory.key_ref, sealed, context).decode()
