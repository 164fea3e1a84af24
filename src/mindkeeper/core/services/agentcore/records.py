"""Long-term memory: records (documents in namespace collections), retrieval by meaning,
listing by namespace, batch writes.

Retrieval embeds the query with the runtime's embedder and ranks the records of the scope
by cosine similarity (reported as the score, clamped to 0..1, higher is more relevant); with
metadata filters the scope is filtered first and ranked exactly. Without an embedder, records
are ranked by word overlap with the query. The ranked list is cut at `topK`, then paged.

Metadata filters may name only the memory's indexed keys. Record metadata values are kept as
`{"s": text}`, `{"l": [texts]}`, `{"n": number}` or `{"d": ISO 8601}`.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from mindkeeper.core.entities import JSONObject
from mindkeeper.core.ports import Runtime
from mindkeeper.core.ports.agentcore import (
    NO_STRATEGY,
    Memory,
    NamespaceScope,
    NewRecord,
    Record,
    RecordQuery,
)
from mindkeeper.core.services.agentcore.common import (
    Idempotency,
    active_memory,
    open_text,
    remember,
    replayed,
    seal_text,
)
from mindkeeper.core.values import new_id
from mindkeeper.errors import Invalid, NotFound

#: A record expiry that removes the setting.
REMOVE = -1
BATCH_CREATE = "BatchCreateMemoryRecords"
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class MetadataFilter:
    """One record-metadata condition (`value` is absent for EXISTS / NOT_EXISTS)."""

    key: str
    operator: str
    value: JSONObject | None = None


@dataclass(frozen=True, slots=True)
class RecordInput:
    """A record to create."""

    request_id: str
    namespace: str | None
    content: str
    timestamp: datetime
    strategy_id: str | None = None
    metadata: JSONObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RecordChange:
    """Changes to one record (`namespace` given as a one-item tuple when it changes)."""

    record_id: str | None
    raw_id: str
    timestamp: datetime
    content: str | None = None
    namespace: tuple[str | None] | None = None
    strategy_id: str | None = None
    metadata: JSONObject | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one entry of a batch."""

    record_id: str | None
    raw_id: str | None
    succeeded: bool
    request_id: str | None = None
    error_code: int | None = None
    error: str | None = None


def record_not_found(record_id: str) -> NotFound:
    """The error for a record the caller cannot see."""
    return NotFound(f"Memory record {record_id} not found")


def scope_of(namespace: str | None, path: str | None) -> NamespaceScope:
    """The namespace scope of a request: exactly one of `namespace` and `namespacePath`."""
    if (namespace is None) == (path is None):
        raise Invalid("Exactly one of namespace and namespacePath must be given")
    return NamespaceScope(namespace=namespace, path=path)


def _live(record: Record, now: datetime) -> bool:
    return record.expires_at is None or record.expires_at > now


def _opened(runtime: Runtime, memory: Memory, record: Record) -> Record:
    return replace(record, content=open_text(runtime, memory, record.id, record.content))


def _compare(stored: Any, operator: str, value: Any) -> bool:
    if operator in ("GREATER_THAN", "AFTER"):
        return bool(stored > value)
    if operator in ("GREATER_THAN_OR_EQUALS",):
        return bool(stored >= value)
    if operator in ("LESS_THAN", "BEFORE"):
        return bool(stored < value)
    if operator == "LESS_THAN_OR_EQUALS":
        return bool(stored <= value)
    return bool(stored == value)


def matches(metadata: JSONObject, condition: MetadataFilter) -> bool:
    """Whether a record's metadata satisfies one condition."""
    stored = metadata.get(condition.key)
    if condition.operator == "EXISTS":
        return stored is not None
    if condition.operator == "NOT_EXISTS":
        return stored is None
    if stored is None or condition.value is None:
        return False
    ((kind, value),) = condition.value.items()
    if condition.operator == "CONTAINS":
        if "l" in stored:
            return value in stored["l"] if kind == "s" else set(value) <= set(stored["l"])
        return kind == "s" and "s" in stored and value in stored["s"]
    if kind not in stored:
        return False
    try:
        return _compare(stored[kind], condition.operator, value)
    except TypeError:
        return False


def check_filters(memory: Memory, filters: Sequence[MetadataFilter]) -> None:
    """Invalid when a filter names a key the memory does not index, or lacks a value."""
    indexed = {k.key for k in memory.settings.indexed_keys}
    for condition in filters:
        if condition.key not in indexed:
            raise Invalid(f"Metadata key {condition.key} is not an indexed key of the memory")
        if condition.operator not in ("EXISTS", "NOT_EXISTS") and condition.value is None:
            raise Invalid(f"The filter on {condition.key} needs a value")


async def _embed(runtime: Runtime, texts: Sequence[str]) -> tuple[np.ndarray | None, str | None]:
    embedder = runtime.embedder
    if embedder is None or not texts:
        return None, None
    return await embedder.embed(builtins.list(texts)), embedder.model_id


def _expires(now: datetime, days: int | None) -> datetime | None:
    return None if days is None else now + timedelta(days=days)


def _check_strategy(memory: Memory, strategy_id: str | None) -> str | None:
    if strategy_id is None or strategy_id == NO_STRATEGY or memory.strategy(strategy_id):
        return None
    return f"Memory {memory.id} has no strategy {strategy_id}"


async def batch_create(
    runtime: Runtime,
    account_id: str,
    memory_id: str,
    items: Sequence[RecordInput],
    expiry: int | None,
    key: Idempotency | None,
) -> builtins.list[Outcome]:
    """Write records directly (each reported on its own); a retried token answers the same."""
    if expiry == REMOVE:
        raise Invalid("recordExpirySpecification action REMOVE is not allowed when creating")
    vectors, model = await _embed(runtime, [item.content for item in items])
    now = runtime.now()
    async with runtime.uow() as uow:
        memory = await active_memory(uow, account_id, memory_id)
        operation = f"{memory.workspace_id}/{BATCH_CREATE}"
        earlier = await replayed(uow, account_id, operation, key)
        if earlier is not None:
            return [Outcome(**entry) for entry in earlier["outcomes"]]
        out: builtins.list[Outcome] = []
        for index, item in enumerate(items):
            problem = _check_strategy(memory, item.strategy_id)
            if problem is not None:
                out.append(Outcome(None, None, False, item.request_id, 400, problem))
                continue
            record_id = new_id()
            await uow.agentcore.add_record(
                NewRecord(
                    id=record_id,
                    workspace_id=memory.workspace_id,
                    observer_id=memory.observer_id,
                    namespace=item.namespace,
                    content=seal_text(runtime, memory, record_id, item.content),
                    strategy_id=item.strategy_id or NO_STRATEGY,
                    timestamp=item.timestamp,
                    expires_at=_expires(now, expiry),
                    metadata=item.metadata,
                    embedding=None if vectors is None else vectors[index],
                    embedding_model=model,
                    now=now,
                    expiry_days=expiry,
                )
            )
            out.append(Outcome(record_id, None, True, item.request_id))
        stored = {"outcomes": [asdict(o) for o in out]}
        await remember(uow, account_id, memory.workspace_id, operation, key, stored, now)
        await uow.commit()
    return out


def _rebased(
    record: Record, now: datetime, expiry: int | None
) -> tuple[datetime | None, int | None]:
    if expiry == REMOVE:
        return None, None
    if expiry is not None:
        return now + timedelta(days=expiry), expiry
    if record.expiry_days is None:
        return None, None
    return now + timedelta(days=record.expiry_days), record.expiry_days


async def batch_update(
    runtime: Runtime,
    account_id: str,
    memory_id: str,
    items: Sequence[RecordChange],
    expiry: int | None,
) -> builtins.list[Outcome]:
    """Change records (each reported on its own); expiries are re-based from now."""
    changed = [item for item in items if item.content is not None]
    vectors, model = await _embed(runtime, [item.content or "" for item in changed])
    vector_of = {id(item): i for i, item in enumerate(changed)}
    now = runtime.now()
    out: builtins.list[Outcome] = []
    async with runtime.uow() as uow:
        memory = await active_memory(uow, account_id, memory_id)
        for item in items:
            current = None
            if item.record_id is not None:
                current = await uow.agentcore.get_record(memory.workspace_id, item.record_id)
            if current is None or not _live(current, now):
                out.append(Outcome(None, item.raw_id, False, None, 404, "Record not found"))
                continue
            problem = _check_strategy(memory, item.strategy_id)
            if problem is not None:
                out.append(Outcome(current.id, item.raw_id, False, None, 400, problem))
                continue
            expires_at, days = _rebased(current, now, expiry)
            content = current.content
            if item.content is not None:
                content = seal_text(runtime, memory, current.id, item.content)
            target = replace(
                current,
                content=content,
                namespace=item.namespace[0] if item.namespace is not None else current.namespace,
                strategy_id=item.strategy_id or current.strategy_id,
                timestamp=item.timestamp,
                metadata=item.metadata if item.metadata is not None else current.metadata,
                expires_at=expires_at,
                expiry_days=days,
            )
            embedding = None
            if vectors is not None and model is not None and id(item) in vector_of:
                embedding = (vectors[vector_of[id(item)]], model)
            written = await uow.agentcore.replace_record(
                memory.workspace_id, memory.observer_id, target, embedding, now
            )
            if written is None:
                out.append(Outcome(None, item.raw_id, False, None, 404, "Record not found"))
            else:
                out.append(Outcome(current.id, item.raw_id, True))
        await uow.commit()
    return out


async def batch_delete(
    runtime: Runtime, account_id: str, memory_id: str, ids: Sequence[tuple[str | None, str]]
) -> builtins.list[Outcome]:
    """Delete records for good (each reported on its own)."""
    async with runtime.uow() as uow:
        memory = await active_memory(uow, account_id, memory_id)
        wanted = [record_id for record_id, _ in ids if record_id is not None]
        removed = set(await uow.agentcore.delete_records(memory.workspace_id, wanted))
        await uow.commit()
    return [
        Outcome(record_id, raw, True)
        if record_id in removed
        else Outcome(None, raw, False, None, 404, "Record not found")
        for record_id, raw in ids
    ]


async def get(runtime: Runtime, account_id: str, memory_id: str, record_id: str) -> Record:
    """One live record of the memory."""
    now = runtime.now()
    async with runtime.uow(write=False) as uow:
        memory = await active_memory(uow, account_id, memory_id)
        record = await uow.agentcore.get_record(memory.workspace_id, record_id)
    if record is None or not _live(record, now):
        raise record_not_found(record_id)
    return _opened(runtime, memory, record)


async def delete(runtime: Runtime, account_id: str, memory_id: str, record_id: str) -> None:
    """Delete one record for good."""
    async with runtime.uow() as uow:
        memory = await active_memory(uow, account_id, memory_id)
        if not await uow.agentcore.delete_records(memory.workspace_id, [record_id]):
            raise record_not_found(record_id)
        await uow.commit()


@dataclass(frozen=True, slots=True)
class RecordListing:
    """A ListMemoryRecords request."""

    scope: NamespaceScope
    limit: int
    strategy_id: str | None = None
    filters: tuple[MetadataFilter, ...] = ()
    before_key: int | None = None


async def list(
    runtime: Runtime, account_id: str, memory_id: str, q: RecordListing
) -> tuple[builtins.list[Record], int | None]:
    """A page of the records of a namespace scope, newest first, and the next position."""
    now = runtime.now()
    found: builtins.list[Record] = []
    async with runtime.uow(write=False) as uow:
        memory = await active_memory(uow, account_id, memory_id)
        check_filters(memory, q.filters)
        before = q.before_key
        batch = q.limit + 1 if not q.filters else max(100, q.limit + 1)
        while len(found) <= q.limit:
            query = RecordQuery(
                memory.workspace_id,
                memory.observer_id,
                q.scope,
                now,
                q.strategy_id,
                batch,
                before,
            )
            rows = await uow.agentcore.list_records(query)
            found += [r for r in rows if all(matches(r.metadata, f) for f in q.filters)]
            if len(rows) < batch:
                break
            before = rows[-1].key
    page = [_opened(runtime, memory, r) for r in found[: q.limit]]
    more = len(found) > q.limit
    return page, (page[-1].key if more else None)


@dataclass(frozen=True, slots=True)
class Retrieval:
    """A RetrieveMemoryRecords request."""

    scope: NamespaceScope
    query: str
    top_k: int
    limit: int
    offset: int = 0
    strategy_id: str | None = None
    filters: tuple[MetadataFilter, ...] = ()


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def lexical_score(query: str, text: str) -> float:
    """Share of the query's words found in the text (0..1)."""
    wanted = _words(query)
    return len(wanted & _words(text)) / len(wanted) if wanted else 0.0


def clamp(score: float) -> float:
    """A similarity as a score in 0..1."""
    return max(0.0, min(1.0, score))


async def retrieve(
    runtime: Runtime, account_id: str, memory_id: str, q: Retrieval
) -> tuple[builtins.list[Record], int | None]:
    """The page at `offset` of the `topK` records most relevant to the query."""
    vectors, model = await _embed(runtime, [q.query])
    vector = None if vectors is None else np.asarray(vectors[0], dtype=np.float32)
    now = runtime.now()
    async with runtime.uow(write=False) as uow:
        memory = await active_memory(uow, account_id, memory_id)
        check_filters(memory, q.filters)
        query = RecordQuery(
            memory.workspace_id, memory.observer_id, q.scope, now, q.strategy_id, q.top_k
        )
        ranked: builtins.list[Record] = []
        candidates: builtins.list[tuple[Record, np.ndarray | None]] = []
        exact = vector is None or model is None or bool(q.filters)
        if not exact:
            assert vector is not None and model is not None
            ranked = await uow.agentcore.nearest_records(query, vector, model, q.top_k)
        else:
            candidates = await uow.agentcore.record_candidates(query, model)
    if exact:
        ranked = _rank(runtime, memory, q, candidates, vector)
    ranked = [replace(r, score=clamp(r.score or 0.0)) for r in ranked[: q.top_k]]
    page = [_opened(runtime, memory, r) for r in ranked[q.offset : q.offset + q.limit]]
    end = q.offset + q.limit
    return page, (end if end < len(ranked) else None)


def _rank(
    runtime: Runtime,
    memory: Memory,
    q: Retrieval,
    candidates: Sequence[tuple[Record, np.ndarray | None]],
    vector: np.ndarray | None,
) -> builtins.list[Record]:
    kept = [(r, v) for r, v in candidates if all(matches(r.metadata, f) for f in q.filters)]
    scored: builtins.list[Record] = []
    for record, stored in kept:
        if vector is not None:
            if stored is None:
                continue
            denominator = float(np.linalg.norm(stored) * np.linalg.norm(vector)) or 1.0
            score = float(stored @ vector) / denominator
        else:
            score = lexical_score(q.query, open_text(runtime, memory, record.id, record.content))
        scored.append(replace(record, score=score))
    return sorted(scored, key=lambda r: (-(r.score or 0.0), r.key))
