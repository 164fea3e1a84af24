"""Data plane, long-term memory: records, retrieval, batch operations, extraction jobs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mindkeeper.core.ports.agentcore import Record
from mindkeeper.core.services.agentcore import extraction, records
from mindkeeper.core.values import new_id
from mindkeeper.http.agentcore import ids
from mindkeeper.http.agentcore.context import (
    DEFAULT_PAGE,
    JSON,
    Context,
    Reply,
    idempotency,
    next_token,
    position,
)
from mindkeeper.http.aws.pagination import BadToken, scope_of

#: Default `topK` of RetrieveMemoryRecords (its documented default).
DEFAULT_TOP_K = 10
_KINDS = {"stringValue": "s", "stringListValue": "l", "numberValue": "n", "dateTimeValue": "d"}
_WIRE = {v: k for k, v in _KINDS.items()}


def value_in(value: JSON) -> JSON:
    """A record metadata value from its wire union."""
    ((kind, item),) = value.items()
    if isinstance(item, datetime):
        item = item.astimezone(UTC).isoformat(timespec="microseconds")
    return {_KINDS[kind]: item}


def value_out(value: JSON) -> JSON:
    """A record metadata value as its wire union."""
    ((kind, item),) = value.items()
    if kind == "d":
        item = datetime.fromisoformat(str(item))
    return {_WIRE[kind]: item}


def metadata_in(value: JSON | None) -> JSON:
    """Record metadata from the wire."""
    return {k: value_in(v) for k, v in (value or {}).items()}


def record_output(record: Record, summary: bool) -> JSON:
    """A `MemoryRecord` (or, with `score`, a `MemoryRecordSummary`)."""
    out: JSON = {
        "memoryRecordId": ids.record_id(record.id),
        "content": {"text": record.content},
        "memoryStrategyId": record.strategy_id,
        "namespaces": [record.namespace] if record.namespace is not None else [],
        "createdAt": record.created_at,
        "timestamp": record.timestamp,
        "metadata": {k: value_out(v) for k, v in record.metadata.items()} or None,
    }
    if summary:
        out["score"] = record.score
    else:
        out["expiresAt"] = record.expires_at
    return out


def _filters(items: list[JSON] | None) -> tuple[records.MetadataFilter, ...]:
    out = []
    for item in items or []:
        right = (item.get("right") or {}).get("metadataValue")
        value = None if right is None else value_in(right)
        out.append(records.MetadataFilter(item["left"]["metadataKey"], item["operator"], value))
    return tuple(out)


def _document(record_id: str) -> str:
    found = ids.document_id(record_id)
    if found is None:
        raise records.record_not_found(record_id)
    return found


def _expiry(value: JSON | None) -> int | None:
    if not value:
        return None
    if value.get("action") == "REMOVE":
        return records.REMOVE
    return int(value["recordExpiryDurationDays"])


def _int_position(token: str | None, listing: str, scope: str) -> int | None:
    raw = position(token, listing, scope)
    if raw is None:
        return None
    if len(raw) != 1 or type(raw[0]) is not int or raw[0] < 0:
        raise BadToken
    value: int = raw[0]
    return value


async def retrieve_memory_records(ctx: Context, p: JSON) -> Reply:
    """POST /memories/{memoryId}/retrieve - RetrieveMemoryRecords, most relevant first."""
    memory_id = ctx.home.memory(p["memoryId"])
    criteria = p["searchCriteria"]
    namespace_scope = records.scope_of(p.get("namespace"), p.get("namespacePath"))
    top_k = criteria.get("topK") or DEFAULT_TOP_K
    filters = _filters(criteria.get("metadataFilters"))
    scope = scope_of(
        ctx.account,
        memory_id,
        p.get("namespace"),
        p.get("namespacePath"),
        criteria.get("searchQuery"),
        criteria.get("memoryStrategyId"),
        top_k,
        criteria.get("metadataFilters"),
    )
    query = records.Retrieval(
        scope=namespace_scope,
        query=criteria["searchQuery"],
        top_k=top_k,
        limit=p.get("maxResults") or DEFAULT_PAGE,
        offset=_int_position(p.get("nextToken"), "retrieve", scope) or 0,
        strategy_id=criteria.get("memoryStrategyId"),
        filters=filters,
    )
    page, after = await records.retrieve(ctx.runtime, ctx.account, memory_id, query)
    return Reply(
        {
            "memoryRecordSummaries": [record_output(r, True) for r in page],
            "nextToken": next_token("retrieve", scope, after),
        }
    )


async def list_memory_records(ctx: Context, p: JSON) -> Reply:
    """POST /memories/{memoryId}/memoryRecords - ListMemoryRecords, newest first."""
    memory_id = ctx.home.memory(p["memoryId"])
    namespace_scope = records.scope_of(p.get("namespace"), p.get("namespacePath"))
    scope = scope_of(
        ctx.account,
        memory_id,
        p.get("namespace"),
        p.get("namespacePath"),
        p.get("memoryStrategyId"),
        p.get("metadataFilters"),
    )
    query = records.RecordListing(
        scope=namespace_scope,
        limit=p.get("maxResults") or DEFAULT_PAGE,
        strategy_id=p.get("memoryStrategyId"),
        filters=_filters(p.get("metadataFilters")),
        before_key=_int_position(p.get("nextToken"), "records", scope),
    )
    page, after = await records.list(ctx.runtime, ctx.account, memory_id, query)
    return Reply(
        {
            "memoryRecordSummaries": [record_output(r, True) for r in page],
            "nextToken": next_token("records", scope, after),
        }
    )


async def get_memory_record(ctx: Context, p: JSON) -> Reply:
    """GET /memories/{memoryId}/memoryRecord/{memoryRecordId} (`namespace` is not a key)."""
    memory_id = ctx.home.memory(p["memoryId"])
    record = await records.get(ctx.runtime, ctx.account, memory_id, _document(p["memoryRecordId"]))
    return Reply({"memoryRecord": record_output(record, False)})


async def delete_memory_record(ctx: Context, p: JSON) -> Reply:
    """DELETE /memories/{memoryId}/memoryRecords/{memoryRecordId}."""
    memory_id = ctx.home.memory(p["memoryId"])
    await records.delete(ctx.runtime, ctx.account, memory_id, _document(p["memoryRecordId"]))
    return Reply({"memoryRecordId": p["memoryRecordId"]})


def _outcomes(outcomes: list[records.Outcome]) -> JSON:
    succeeded: list[JSON] = []
    failed: list[JSON] = []
    for o in outcomes:
        if o.raw_id is not None:
            record_id = o.raw_id
        else:
            record_id = ids.record_id(o.record_id or new_id())
        entry = {
            "memoryRecordId": record_id,
            "status": "SUCCEEDED" if o.succeeded else "FAILED",
            "requestIdentifier": o.request_id,
            "errorCode": o.error_code,
            "errorMessage": o.error,
        }
        (succeeded if o.succeeded else failed).append(entry)
    return {"successfulRecords": succeeded, "failedRecords": failed}


async def batch_create_memory_records(ctx: Context, p: JSON) -> Reply:
    """POST /memories/{memoryId}/memoryRecords/batchCreate (201): records written directly."""
    memory_id = ctx.home.memory(p["memoryId"])
    items = [
        records.RecordInput(
            request_id=item["requestIdentifier"],
            namespace=(item["namespaces"] or [None])[0],
            content=item["content"]["text"],
            timestamp=item["timestamp"],
            strategy_id=item.get("memoryStrategyId"),
            metadata=metadata_in(item.get("metadata")),
        )
        for item in p["records"]
    ]
    outcomes = await records.batch_create(
        ctx.runtime,
        ctx.account,
        memory_id,
        items,
        _expiry(p.get("recordExpirySpecification")),
        idempotency(p),
    )
    return Reply(_outcomes(outcomes))


async def batch_update_memory_records(ctx: Context, p: JSON) -> Reply:
    """POST /memories/{memoryId}/memoryRecords/batchUpdate."""
    memory_id = ctx.home.memory(p["memoryId"])
    items = []
    for item in p["records"]:
        namespaces = item.get("namespaces")
        content: Any = item.get("content")
        items.append(
            records.RecordChange(
                record_id=ids.document_id(item["memoryRecordId"]),
                raw_id=item["memoryRecordId"],
                timestamp=item["timestamp"],
                content=None if content is None else content["text"],
                namespace=None if namespaces is None else ((namespaces or [None])[0],),
                strategy_id=item.get("memoryStrategyId"),
                metadata=None if "metadata" not in item else metadata_in(item["metadata"]),
            )
        )
    outcomes = await records.batch_update(
        ctx.runtime, ctx.account, memory_id, items, _expiry(p.get("recordExpirySpecification"))
    )
    return Reply(_outcomes(outcomes))


async def batch_delete_memory_records(ctx: Context, p: JSON) -> Reply:
    """POST /memories/{memoryId}/memoryRecords/batchDelete."""
    memory_id = ctx.home.memory(p["memoryId"])
    wanted = [
        (ids.document_id(item["memoryRecordId"]), item["memoryRecordId"]) for item in p["records"]
    ]
    outcomes = await records.batch_delete(ctx.runtime, ctx.account, memory_id, wanted)
    return Reply(_outcomes(outcomes))


async def start_memory_extraction_job(ctx: Context, p: JSON) -> Reply:
    """POST /memories/{memoryId}/extractionJobs/start - run a failed job again."""
    memory_id = ctx.home.memory(p["memoryId"])
    job = p["extractionJob"]["jobId"]
    await extraction.start_job(ctx.runtime, ctx.account, memory_id, ids.job_key(job))
    return Reply({"jobId": job})


async def list_memory_extraction_jobs(ctx: Context, p: JSON) -> Reply:
    """POST /memories/{memoryId}/extractionJobs - unfinished and failed extraction jobs."""
    memory_id = ctx.home.memory(p["memoryId"])
    filters = p.get("filter") or {}
    scope = scope_of(ctx.account, memory_id, filters)
    page, after = await extraction.list_jobs(
        ctx.runtime,
        ctx.account,
        memory_id,
        filters.get("status") == "FAILED",
        filters.get("sessionId"),
        filters.get("actorId"),
        filters.get("strategyId"),
        _int_position(p.get("nextToken"), "jobs", scope),
        p.get("maxResults") or DEFAULT_PAGE,
    )
    jobs = [
        {
            "jobID": ids.job_id(job.key),
            "messages": {
                "messagesList": [
                    {"eventId": ids.event_id(event), "messageIndex": index}
                    for event, index in job.events
                ]
            },
            "status": "FAILED" if job.status == "dead" else None,
            "failureReason": job.failure if job.status == "dead" else None,
            "strategyId": job.strategy_id,
            "sessionId": job.session,
            "actorId": job.actor,
        }
        for job in page
    ]
    return Reply({"jobs": jobs, "nextToken": next_token("jobs", scope, after)})
