"""Data plane, short-term memory: events, sessions, actors, ingestion."""

from __future__ import annotations

from typing import Any

import orjson

from mindkeeper.core.ports.agentcore import Branch, Event, MetadataCondition
from mindkeeper.core.services.agentcore import events
from mindkeeper.errors import Invalid, NotFound
from mindkeeper.http.agentcore import ids
from mindkeeper.http.agentcore.context import (
    DEFAULT_PAGE,
    JSON,
    Context,
    Reply,
    next_token,
    position,
    time_position,
)
from mindkeeper.http.aws.pagination import BadToken, scope_of
from mindkeeper.http.aws.shapes import Problems

#: The largest `json` item content, as JSON text (100 KB).
JSON_CONTENT_MAX = 100 * 1024


def check_json_items(payload: list[JSON], where: str) -> None:
    """`json` items hold at most 100 KB of JSON (a limit the model leaves to the server)."""
    problems = Problems()
    for index, item in enumerate(payload, start=1):
        content = (item.get("json") or {}).get("content")
        if content is not None and len(orjson.dumps(content)) > JSON_CONTENT_MAX:
            problems.add(
                f"{where}.{index}.member.json.content",
                f"Member must be at most {JSON_CONTENT_MAX} bytes of JSON",
            )
    problems.raise_if_any()


def metadata_in(value: JSON | None) -> dict[str, str]:
    """Event metadata from its wire map of `{stringValue}` unions."""
    return {k: v["stringValue"] for k, v in (value or {}).items()}


def event_output(memory_id: str, event: Event) -> JSON:
    """The `Event` output shape."""
    branch = None
    if event.branch is not None:
        branch = {"name": event.branch.name}
        if event.branch.root_event_id is not None:
            branch["rootEventId"] = ids.event_id(event.branch.root_event_id)
    return {
        "memoryId": memory_id,
        "actorId": event.actor,
        "sessionId": event.session,
        "eventId": ids.event_id(event.id),
        "eventTimestamp": event.timestamp,
        "payload": event.payload if event.payload is not None else [],
        "branch": branch,
        "metadata": {k: {"stringValue": v} for k, v in event.metadata.items()} or None,
    }


def _event_ref(event_id: str) -> str:
    found = ids.message_id(event_id)
    if found is None:
        raise events.event_not_found(event_id)
    return found


def _branch(value: JSON | None) -> Branch | None:
    if value is None:
        return None
    root = value.get("rootEventId")
    if root is not None and ids.message_id(root) is None:
        raise NotFound(f"Event {root} not found")
    return Branch(value["name"], None if root is None else ids.message_id(root))


async def create_event(ctx: Context, p: JSON) -> Reply:
    """POST /memories/{memoryId}/events - CreateEvent (201)."""
    check_json_items(p["payload"], "payload")
    memory_id = ctx.home.memory(p["memoryId"])
    config = p.get("extractionConfig") or {}
    data = events.EventInput(
        actor=p["actorId"],
        timestamp=p["eventTimestamp"],
        payload=p["payload"],
        session=p.get("sessionId"),
        branch=_branch(p.get("branch")),
        metadata=metadata_in(p.get("metadata")),
        skip_extraction=p.get("extractionMode") == "SKIP",
        namespace_values=dict(config.get("namespaceVariables") or {}),
        client_token=p.get("clientToken"),
    )
    event = await events.create(ctx.runtime, ctx.account, memory_id, data)
    return Reply({"event": event_output(memory_id, event)})


async def get_event(ctx: Context, p: JSON) -> Reply:
    """GET /memories/{memoryId}/actor/{actorId}/sessions/{sessionId}/events/{eventId}."""
    memory_id = ctx.home.memory(p["memoryId"])
    event = await events.get(
        ctx.runtime,
        ctx.account,
        memory_id,
        p["actorId"],
        p["sessionId"],
        _event_ref(p["eventId"]),
    )
    return Reply({"event": event_output(memory_id, event)})


async def delete_event(ctx: Context, p: JSON) -> Reply:
    """DELETE /memories/{memoryId}/actor/{actorId}/sessions/{sessionId}/events/{eventId}."""
    memory_id = ctx.home.memory(p["memoryId"])
    await events.delete(
        ctx.runtime,
        ctx.account,
        memory_id,
        p["actorId"],
        p["sessionId"],
        _event_ref(p["eventId"]),
    )
    return Reply({"eventId": p["eventId"]})


def _conditions(items: list[JSON] | None) -> tuple[MetadataCondition, ...]:
    out = []
    problems = Problems()
    for index, item in enumerate(items or [], start=1):
        operator = item["operator"]
        right = ((item.get("right") or {}).get("metadataValue") or {}).get("stringValue")
        if operator == "EQUALS_TO" and right is None:
            problems.add(
                f"filter.eventMetadata.{index}.member.right",
                "Member must not be null when the operator is EQUALS_TO",
                None,
            )
            continue
        out.append(MetadataCondition(item["left"]["metadataKey"], operator, right))
    problems.raise_if_any()
    return tuple(out)


async def list_events(ctx: Context, p: JSON) -> Reply:
    """POST /memories/{memoryId}/actor/{actorId}/sessions/{sessionId} - ListEvents."""
    memory_id = ctx.home.memory(p["memoryId"])
    filters = p.get("filter") or {}
    branch = filters.get("branch") or {}
    scope = scope_of(ctx.account, memory_id, p["actorId"], p["sessionId"], filters)
    query = events.EventListing(
        actor=p["actorId"],
        session=p["sessionId"],
        limit=p.get("maxResults") or DEFAULT_PAGE,
        after=time_position(position(p.get("nextToken"), "events", scope)),
        with_payload=p.get("includePayloads", True),
        branch=branch.get("name"),
        include_parents=bool(branch.get("includeParentBranches")),
        metadata=_conditions(filters.get("eventMetadata")),
    )
    page, after = await events.list(ctx.runtime, ctx.account, memory_id, query)
    return Reply(
        {
            "events": [event_output(memory_id, e) for e in page],
            "nextToken": next_token("events", scope, after),
        }
    )


async def list_sessions(ctx: Context, p: JSON) -> Reply:
    """POST /memories/{memoryId}/actor/{actorId}/sessions - ListSessions, newest first."""
    memory_id = ctx.home.memory(p["memoryId"])
    has_events = (p.get("filter") or {}).get("eventFilter") == "HAS_EVENTS"
    scope = scope_of(ctx.account, memory_id, p["actorId"], has_events)
    page, after = await events.list_sessions(
        ctx.runtime,
        ctx.account,
        memory_id,
        p["actorId"],
        has_events,
        time_position(position(p.get("nextToken"), "sessions", scope)),
        p.get("maxResults") or DEFAULT_PAGE,
    )
    items = [{"sessionId": s.session, "actorId": s.actor, "createdAt": s.created_at} for s in page]
    return Reply({"sessionSummaries": items, "nextToken": next_token("sessions", scope, after)})


async def list_actors(ctx: Context, p: JSON) -> Reply:
    """POST /memories/{memoryId}/actors - ListActors, in the order actors first wrote."""
    memory_id = ctx.home.memory(p["memoryId"])
    scope = scope_of(ctx.account, memory_id)
    raw = position(p.get("nextToken"), "actors", scope)
    after: Any = None
    if raw is not None:
        if len(raw) != 1 or type(raw[0]) is not int:
            raise BadToken
        after = raw[0]
    names, more = await events.list_actors(
        ctx.runtime, ctx.account, memory_id, after, p.get("maxResults") or DEFAULT_PAGE
    )
    return Reply(
        {
            "actorSummaries": [{"actorId": name} for name in names],
            "nextToken": next_token("actors", scope, more),
        }
    )


async def ingest_data(ctx: Context, p: JSON) -> Reply:
    """POST /memories/{memoryId}/ingest - IngestData (202): content for extraction only."""
    payload = p["source"].get("inline", {}).get("payload")
    if payload is None:
        raise Invalid("source.inline.payload is required")
    check_json_items(payload, "source.inline.payload")
    memory_id = ctx.home.memory(p["memoryId"])
    config = p.get("extractionConfig") or {}
    data = events.IngestInput(
        actor=p["actorId"],
        timestamp=p["contentTimestamp"],
        payload=payload,
        session=p.get("sessionId"),
        metadata=metadata_in(p.get("metadata")),
        namespace_values=dict(config.get("namespaceVariables") or {}),
        client_token=p.get("clientToken"),
    )
    session = await events.ingest(ctx.runtime, ctx.account, memory_id, data)
    return Reply({"sessionId": session})
