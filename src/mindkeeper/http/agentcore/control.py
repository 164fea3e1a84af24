"""The control plane (`bedrock-agentcore-control`): memories and their tags."""

from __future__ import annotations

from typing import Any

from mindkeeper.core.ports.agentcore import IndexedKey, Memory, NamespaceKey
from mindkeeper.core.services.agentcore import memories
from mindkeeper.http.agentcore import strategies
from mindkeeper.http.agentcore.context import (
    JSON,
    Context,
    Reply,
    idempotency,
    next_token,
    position,
    time_position,
)
from mindkeeper.http.aws.pagination import scope_of

#: Default page size of ListMemories (its documented default).
DEFAULT_MEMORIES_PAGE = 10


def _namespace_keys(items: list[JSON] | None) -> list[NamespaceKey] | None:
    if items is None:
        return None
    out = []
    for item in items:
        validation = item.get("validation") or {}
        allowed = validation.get("allowedValues")
        out.append(
            NamespaceKey(
                item["key"], tuple(allowed) if allowed else None, validation.get("regexPattern")
            )
        )
    return out


def _indexed(items: list[JSON] | None) -> list[IndexedKey]:
    return [IndexedKey(item["key"], item["type"]) for item in items or []]


def memory_output(ctx: Context, memory: Memory) -> JSON:
    """The `Memory` output shape."""
    settings = memory.settings
    namespace_keys: list[JSON] = []
    for key in settings.namespace_keys:
        entry: JSON = {"key": key.key}
        validation: JSON = {}
        if key.allowed:
            validation["allowedValues"] = list(key.allowed)
        if key.regex is not None:
            validation["regexPattern"] = key.regex
        if validation:
            entry["validation"] = validation
        namespace_keys.append(entry)
    return {
        "arn": ctx.home.memory_arn(memory.id),
        "id": memory.id,
        "name": memory.name,
        "description": settings.description,
        "encryptionKeyArn": memory.key_ref,
        "memoryExecutionRoleArn": settings.execution_role,
        "eventExpiryDuration": settings.event_expiry_days,
        "status": memory.status.value,
        "failureReason": settings.failure_reason,
        "createdAt": memory.created_at,
        "updatedAt": memory.updated_at,
        "strategies": [strategies.output(s) for s in settings.strategies],
        "indexedKeys": [{"key": k.key, "type": k.type} for k in settings.indexed_keys] or None,
        "namespaceKeys": namespace_keys or None,
        "streamDeliveryResources": settings.stream_delivery,
    }


async def create_memory(ctx: Context, p: JSON) -> Reply:
    """POST /memories/create - CreateMemory (ACTIVE at once)."""
    data = memories.MemoryInput(
        name=p["name"],
        event_expiry_days=p["eventExpiryDuration"],
        description=p.get("description"),
        key_ref=p.get("encryptionKeyArn"),
        execution_role=p.get("memoryExecutionRoleArn"),
        strategies=[strategies.spec(item) for item in p.get("memoryStrategies") or []],
        indexed_keys=_indexed(p.get("indexedKeys")),
        namespace_keys=_namespace_keys(p.get("namespaceKeys")) or [],
        stream_delivery=p.get("streamDeliveryResources"),
        tags=dict(p.get("tags") or {}),
    )
    memory = await memories.create(ctx.runtime, ctx.account, data, idempotency(p), ctx.max_memories)
    return Reply({"memory": memory_output(ctx, memory)})


async def get_memory(ctx: Context, p: JSON) -> Reply:
    """GET /memories/{memoryId}/details - GetMemory (`view` changes nothing)."""
    memory = await memories.get_or_raise(ctx.runtime, ctx.account, p["memoryId"])
    return Reply({"memory": memory_output(ctx, memory)})


async def list_memories(ctx: Context, p: JSON) -> Reply:
    """POST /memories/ - ListMemories, newest first."""
    scope = scope_of(ctx.account)
    after = time_position(position(p.get("nextToken"), "memories", scope))
    limit = p.get("maxResults") or DEFAULT_MEMORIES_PAGE
    page, more = await memories.list(ctx.runtime, ctx.account, after, limit)
    items = [
        {
            "arn": ctx.home.memory_arn(m.id),
            "id": m.id,
            "status": m.status.value,
            "createdAt": m.created_at,
            "updatedAt": m.updated_at,
        }
        for m in page
    ]
    return Reply({"memories": items, "nextToken": next_token("memories", scope, more)})


async def update_memory(ctx: Context, p: JSON) -> Reply:
    """PUT /memories/{memoryId}/update - UpdateMemory."""
    changes = p.get("memoryStrategies") or {}
    change = memories.MemoryChange(
        description=p.get("description"),
        event_expiry_days=p.get("eventExpiryDuration"),
        execution_role=p.get("memoryExecutionRoleArn"),
        add=[strategies.spec(item) for item in changes.get("addMemoryStrategies") or []],
        modify=[strategies.change(item) for item in changes.get("modifyMemoryStrategies") or []],
        delete=[item["memoryStrategyId"] for item in changes.get("deleteMemoryStrategies") or []],
        add_indexed_keys=_indexed(p.get("addIndexedKeys")),
        namespace_keys=_namespace_keys(p.get("namespaceKeys")),
        stream_delivery=p.get("streamDeliveryResources"),
    )
    memory = await memories.update(ctx.runtime, ctx.account, p["memoryId"], change, idempotency(p))
    return Reply({"memory": memory_output(ctx, memory)})


async def delete_memory(ctx: Context, p: JSON) -> Reply:
    """DELETE /memories/{memoryId}/delete - DeleteMemory (DELETING, then gone)."""
    memory = await memories.delete(ctx.runtime, ctx.account, p["memoryId"], idempotency(p))
    return Reply({"memoryId": memory.id, "status": memory.status.value})


async def tag_resource(ctx: Context, p: JSON) -> Reply:
    """POST /tags/{resourceArn} - TagResource (memories only)."""
    memory_id = ctx.home.taggable(p["resourceArn"])
    await memories.tag(ctx.runtime, ctx.account, memory_id, dict(p["tags"]))
    return Reply(None)


async def untag_resource(ctx: Context, p: JSON) -> Reply:
    """DELETE /tags/{resourceArn}?tagKeys=… - UntagResource."""
    memory_id = ctx.home.taggable(p["resourceArn"])
    await memories.untag(ctx.runtime, ctx.account, memory_id, list(p["tagKeys"]))
    return Reply(None)


async def list_tags_for_resource(ctx: Context, p: JSON) -> Reply:
    """GET /tags/{resourceArn} - ListTagsForResource."""
    memory_id = ctx.home.taggable(p["resourceArn"])
    tags: dict[str, Any] = await memories.list_tags(ctx.runtime, ctx.account, memory_id)
    return Reply({"tags": tags})
