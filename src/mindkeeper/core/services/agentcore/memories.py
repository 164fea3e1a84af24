"""Memory resources: create, get, list, update (strategies, keys, expiry), delete, tags.

A memory is created ACTIVE at once (with its workspace and observer peer, in one
transaction), so a waiter polling for ACTIVE succeeds on its first poll. Deleting marks it
DELETING and queues the removal of its workspace with everything in it (the durable queue's
workspace deletion); the memory reads as DELETING until that job has run, then as missing.
Names are unique per account (a taken name is Invalid, worded "already exists").
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from mindkeeper.core.ports import Runtime
from mindkeeper.core.ports.agentcore import (
    IndexedKey,
    Memory,
    MemorySettings,
    MemoryStatus,
    NamespaceKey,
    NewMemory,
    PromptOverride,
    Strategy,
    StrategyType,
)
from mindkeeper.core.ports.jobs import DELETE_WORKSPACE
from mindkeeper.core.services.agentcore import namespaces
from mindkeeper.core.services.agentcore.common import (
    Idempotency,
    remember,
    replayed,
    require_memory,
    suffixed,
)
from mindkeeper.errors import AlreadyExists, Conflict, Invalid, QuotaExceeded

#: Strategies a memory may have.
STRATEGIES_MAX = 6
#: Indexed keys a memory may have.
INDEXED_KEYS_MAX = 10
#: Tags a memory may carry.
TAGS_MAX = 50
#: The synthetic peer of a memory's workspace that keeps its record collections.
OBSERVER = "@memory"
#: Namespace templates of strategies created without one.
DEFAULT_TEMPLATES = {
    "semantic": "/strategies/{memoryStrategyId}/actors/{actorId}/",
    "user_preference": "/strategies/{memoryStrategyId}/actors/{actorId}/",
    "summary": "/strategies/{memoryStrategyId}/actors/{actorId}/sessions/{sessionId}/",
    "episodic": "/strategies/{memoryStrategyId}/actors/{actorId}/sessions/{sessionId}/",
    "none": "/strategies/{memoryStrategyId}/actors/{actorId}/",
}
CREATE, UPDATE, DELETE = "CreateMemory", "UpdateMemory", "DeleteMemory"
#: A record expiry that removes the setting.
REMOVE = -1


@dataclass(frozen=True, slots=True)
class StrategySpec:
    """A strategy to add (its id and times are given by the server)."""

    name: str
    type: StrategyType
    template: str | None = None
    description: str | None = None
    base: str | None = None
    extraction: PromptOverride | None = None
    consolidation: PromptOverride | None = None
    reflection: PromptOverride | None = None
    reflection_template: str | None = None
    self_managed: dict[str, object] | None = None
    record_schema: dict[str, object] | None = None
    #: Days, REMOVE, or None (no expiry).
    record_expiry: int | None = None


@dataclass(frozen=True, slots=True)
class StrategyChange:
    """Changes to one strategy (None keeps a field)."""

    id: str
    description: str | None = None
    template: str | None = None
    extraction: PromptOverride | None = None
    consolidation: PromptOverride | None = None
    reflection: PromptOverride | None = None
    reflection_template: str | None = None
    self_managed: dict[str, object] | None = None
    record_schema: dict[str, object] | None = None
    record_expiry: int | None = None


@dataclass(frozen=True, slots=True)
class MemoryInput:
    """A CreateMemory request."""

    name: str
    event_expiry_days: int
    description: str | None = None
    key_ref: str | None = None
    execution_role: str | None = None
    strategies: builtins.list[StrategySpec] = field(default_factory=builtins.list)
    indexed_keys: builtins.list[IndexedKey] = field(default_factory=builtins.list)
    namespace_keys: builtins.list[NamespaceKey] = field(default_factory=builtins.list)
    stream_delivery: dict[str, object] | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MemoryChange:
    """An UpdateMemory request (None or empty keeps a setting)."""

    description: str | None = None
    event_expiry_days: int | None = None
    execution_role: str | None = None
    add: builtins.list[StrategySpec] = field(default_factory=builtins.list)
    modify: builtins.list[StrategyChange] = field(default_factory=builtins.list)
    delete: builtins.list[str] = field(default_factory=builtins.list)
    add_indexed_keys: builtins.list[IndexedKey] = field(default_factory=builtins.list)
    namespace_keys: builtins.list[NamespaceKey] | None = None
    stream_delivery: dict[str, object] | None = None


def _expiry(value: int | None) -> int | None:
    return None if value is None or value == REMOVE else value


def build_strategy(spec: StrategySpec, now: datetime) -> Strategy:
    """A new strategy from its spec (default template by behaviour)."""
    strategy = Strategy(
        id=suffixed(spec.name),
        name=spec.name,
        type=spec.type,
        template=spec.template or "",
        created_at=now,
        updated_at=now,
        description=spec.description,
        base=spec.base,
        extraction=spec.extraction,
        consolidation=spec.consolidation,
        reflection=spec.reflection,
        reflection_template=spec.reflection_template,
        self_managed=spec.self_managed,
        record_schema=spec.record_schema,
        record_expiry_days=_expiry(spec.record_expiry),
    )
    if not spec.template:
        strategy = replace(strategy, template=DEFAULT_TEMPLATES[strategy.behaviour])
    return strategy


def _check_strategies(strategies: Sequence[Strategy], keys: Sequence[NamespaceKey]) -> None:
    if len(strategies) > STRATEGIES_MAX:
        raise QuotaExceeded(
            f"A memory can have at most {STRATEGIES_MAX} strategies (would have {len(strategies)})"
        )
    names = [s.name for s in strategies]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise Invalid(f"Strategy names must be unique in a memory: {', '.join(duplicated)}")
    for key in keys:
        namespaces.compile_rule(key)
    namespaces.check_keys(strategies, keys)


def _check_indexed(keys: Sequence[IndexedKey]) -> None:
    if len(keys) > INDEXED_KEYS_MAX:
        raise QuotaExceeded(f"A memory can have at most {INDEXED_KEYS_MAX} indexed keys")
    seen: dict[str, str] = {}
    for key in keys:
        if seen.get(key.key, key.type) != key.type:
            raise Invalid(f"Indexed key {key.key} is already declared with type {seen[key.key]}")
        seen[key.key] = key.type


def _check_tags(count: int) -> None:
    if count > TAGS_MAX:
        raise QuotaExceeded(f"A memory can have at most {TAGS_MAX} tags (would have {count})")


async def create(
    runtime: Runtime,
    account_id: str,
    data: MemoryInput,
    key: Idempotency | None,
    max_memories: int,
) -> Memory:
    """Create an ACTIVE memory with its workspace and observer peer."""
    if data.key_ref is not None and not runtime.keyring.knows(data.key_ref):
        raise Invalid(
            f"The encryption key {data.key_ref} is not in this server's keyring "
            "(settings bedrock_keyring / bedrock_keyring_file)"
        )
    now = runtime.now()
    strategies = tuple(build_strategy(spec, now) for spec in data.strategies)
    _check_strategies(strategies, data.namespace_keys)
    _check_indexed(data.indexed_keys)
    _check_tags(len(data.tags))
    async with runtime.uow() as uow:
        earlier = await replayed(uow, account_id, CREATE, key)
        if earlier is not None:
            return await require_memory(uow, account_id, str(earlier["memory"]))
        if await uow.agentcore.count_memories(account_id) >= max_memories:
            raise QuotaExceeded(
                f"An account can have at most {max_memories} memories "
                "(setting agentcore_max_memories)"
            )
        memory_id = suffixed(data.name)
        workspace = await uow.workspaces.create(f"agentcore-{account_id}-{memory_id}", {}, now)
        observer = await uow.peers.create(workspace.id, OBSERVER, {}, now, synthetic=True)
        settings = MemorySettings(
            event_expiry_days=data.event_expiry_days,
            description=data.description,
            execution_role=data.execution_role,
            strategies=strategies,
            indexed_keys=tuple(data.indexed_keys),
            namespace_keys=tuple(data.namespace_keys),
            stream_delivery=data.stream_delivery,
        )
        new = NewMemory(
            memory_id,
            account_id,
            workspace.id,
            observer.id,
            data.name,
            MemoryStatus.ACTIVE,
            settings,
            data.key_ref,
            dict(data.tags),
            now,
        )
        try:
            memory = await uow.agentcore.add_memory(new)
        except AlreadyExists:
            raise Invalid(f"A memory named {data.name} already exists") from None
        await remember(uow, account_id, workspace.id, CREATE, key, {"memory": memory.id}, now)
        await uow.commit()
    return memory


async def get_or_raise(runtime: Runtime, account_id: str, memory_id: str) -> Memory:
    """The account's memory, or NotFound."""
    async with runtime.uow(write=False) as uow:
        return await require_memory(uow, account_id, memory_id)


async def list(
    runtime: Runtime, account_id: str, after: tuple[datetime, int] | None, limit: int
) -> tuple[builtins.list[Memory], tuple[datetime, int] | None]:
    """A page of the account's memories, newest first, and the next position."""
    async with runtime.uow(write=False) as uow:
        rows = await uow.agentcore.list_memories(account_id, after, limit + 1)
    page = rows[:limit]
    more = len(rows) > limit
    return page, ((page[-1].created_at, page[-1].key) if more else None)


def _modified(strategy: Strategy, change: StrategyChange, now: datetime) -> Strategy:
    values: dict[str, object] = {"updated_at": now}
    for name in (
        "description",
        "template",
        "extraction",
        "consolidation",
        "reflection",
        "reflection_template",
        "self_managed",
        "record_schema",
    ):
        value = getattr(change, name)
        if value is not None:
            values[name] = value
    if change.record_expiry is not None:
        values["record_expiry_days"] = _expiry(change.record_expiry)
    return replace(strategy, **values)  # type: ignore[arg-type]


def apply_change(memory: Memory, change: MemoryChange, now: datetime) -> MemorySettings:
    """The settings after an update (Invalid or QuotaExceeded when it cannot apply)."""
    current = {s.id: s for s in memory.settings.strategies}
    for strategy_id in change.delete:
        if strategy_id not in current:
            raise Invalid(f"Memory {memory.id} has no strategy {strategy_id}")
        del current[strategy_id]
    for item in change.modify:
        strategy = current.get(item.id)
        if strategy is None:
            raise Invalid(f"Memory {memory.id} has no strategy {item.id}")
        current[item.id] = _modified(strategy, item, now)
    strategies = (*current.values(), *(build_strategy(spec, now) for spec in change.add))
    keys = (
        memory.settings.namespace_keys
        if change.namespace_keys is None
        else tuple(change.namespace_keys)
    )
    _check_strategies(strategies, keys)
    indexed = list_indexed(memory.settings.indexed_keys, change.add_indexed_keys)
    settings = memory.settings
    return replace(
        settings,
        description=change.description if change.description is not None else settings.description,
        event_expiry_days=change.event_expiry_days or settings.event_expiry_days,
        execution_role=change.execution_role or settings.execution_role,
        strategies=tuple(strategies),
        indexed_keys=indexed,
        namespace_keys=keys,
        stream_delivery=change.stream_delivery or settings.stream_delivery,
    )


def list_indexed(
    current: Sequence[IndexedKey], added: Sequence[IndexedKey]
) -> tuple[IndexedKey, ...]:
    """Indexed keys after adding some (a key keeps its type; the same key twice is one)."""
    merged = builtins.list(current)
    for key in added:
        if key not in merged:
            merged.append(key)
    _check_indexed(merged)
    return tuple(merged)


async def update(
    runtime: Runtime,
    account_id: str,
    memory_id: str,
    change: MemoryChange,
    key: Idempotency | None,
) -> Memory:
    """Change an ACTIVE memory's settings; a retried token answers the memory as it is."""
    now = runtime.now()
    async with runtime.uow() as uow:
        memory = await require_memory(uow, account_id, memory_id)
        operation = f"{memory.workspace_id}/{UPDATE}"
        if await replayed(uow, account_id, operation, key) is not None:
            return memory
        if memory.status is not MemoryStatus.ACTIVE:
            raise Conflict(f"Memory {memory.id} is {memory.status.value} and cannot be updated")
        settings = apply_change(memory, change, now)
        updated = await uow.agentcore.update_memory(memory.key, now, settings=settings)
        await remember(
            uow, account_id, memory.workspace_id, operation, key, {"memory": memory.id}, now
        )
        await uow.commit()
    return updated


async def delete(
    runtime: Runtime, account_id: str, memory_id: str, key: Idempotency | None
) -> Memory:
    """Mark a memory DELETING and queue the removal of everything in it."""
    now = runtime.now()
    async with runtime.uow() as uow:
        memory = await require_memory(uow, account_id, memory_id)
        operation = f"{memory.workspace_id}/{DELETE}"
        if await replayed(uow, account_id, operation, key) is not None:
            return memory
        if memory.status is MemoryStatus.DELETING:
            return memory
        deleting = await uow.agentcore.update_memory(memory.key, now, status=MemoryStatus.DELETING)
        await uow.jobs.enqueue_task(DELETE_WORKSPACE, memory.workspace_id, {}, now)
        await remember(
            uow, account_id, memory.workspace_id, operation, key, {"memory": memory.id}, now
        )
        await uow.commit()
    return deleting


async def list_tags(runtime: Runtime, account_id: str, memory_id: str) -> dict[str, str]:
    """The memory's tags."""
    return (await get_or_raise(runtime, account_id, memory_id)).tags


async def tag(runtime: Runtime, account_id: str, memory_id: str, tags: dict[str, str]) -> None:
    """Add or overwrite tags, within the per-memory limit."""
    now = runtime.now()
    async with runtime.uow() as uow:
        memory = await require_memory(uow, account_id, memory_id)
        merged = {**memory.tags, **tags}
        _check_tags(len(merged))
        await uow.agentcore.update_memory(memory.key, now, tags=merged, touch=False)
        await uow.commit()


async def untag(runtime: Runtime, account_id: str, memory_id: str, keys: Sequence[str]) -> None:
    """Remove tags by key; absent keys are ignored."""
    now = runtime.now()
    async with runtime.uow() as uow:
        memory = await require_memory(uow, account_id, memory_id)
        kept = {k: v for k, v in memory.tags.items() if k not in set(keys)}
        await uow.agentcore.update_memory(memory.key, now, tags=kept, touch=False)
        await uow.commit()
