"""Webhooks: endpoints per workspace, events queued per endpoint, signed deliveries.

An event (`emit`) becomes one job per endpoint of its workspace, in the transaction that
raises it, so an event is never lost between the change and the queue. The job holds the
exact body, built once: compact JSON with sorted keys `{"data", "timestamp", "type"}`, the
timestamp being when the event was raised. A worker posts that body with
`X-Honcho-Signature`, the lowercase hex HMAC-SHA256 of the body under the server's webhook
secret. A non-2xx status or a failed request (refused target, network error, timeout) is a
failed attempt: the queue retries it with backoff and dead-letters it after the configured
attempts. An endpoint deleted meanwhile ends its pending deliveries without a request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from mindkeeper.core.ports import Runtime, UnitOfWork
from mindkeeper.core.ports.jobs import Job
from mindkeeper.core.ports.webhooks import (
    WEBHOOK,
    DeliveryError,
    WebhookEndpoint,
    WebhookTransport,
)
from mindkeeper.core.services.conversations.workspaces import require
from mindkeeper.core.values import Clock, Page, PageRequest, utcnow
from mindkeeper.errors import AlreadyExists, Conflict, NotFound

#: The kinds of job this module runs.
KINDS = (WEBHOOK,)
#: Endpoints one workspace may register.
MAX_ENDPOINTS = 10
#: Event types.
TEST_EVENT = "test.event"
QUEUE_EMPTY = "queue.empty"
#: `queue_type` values of `queue.empty`.
REPRESENTATION, SUMMARY = "representation", "summary"


def endpoint_not_found(endpoint_id: str, workspace_name: str) -> NotFound:
    """The error for an endpoint the workspace does not have."""
    return NotFound(f"Webhook endpoint {endpoint_id} not found for workspace {workspace_name}")


def timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with `Z` (microseconds when non-zero), as upstream stamps events."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def event_body(event_type: str, data: dict[str, Any], at: datetime) -> str:
    """The exact JSON text of an event: compact, keys sorted at every level."""
    event = {"type": event_type, "data": data, "timestamp": timestamp(at)}
    return json.dumps(event, separators=(",", ":"), sort_keys=True)


def sign(secret: bytes, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of the body."""
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


async def emit(
    uow: UnitOfWork, workspace_id: str, event_type: str, data: dict[str, Any], now: datetime
) -> int:
    """Inside an open write unit of work: queue one delivery of the event per endpoint of
    the workspace (its id, not its name); return how many. `data` goes out as given."""
    endpoints = await uow.webhooks.all(workspace_id)
    if not endpoints:
        return 0
    body = event_body(event_type, data, now)
    for endpoint in endpoints:
        payload = {"endpoint_id": endpoint.id, "type": event_type, "body": body}
        await uow.jobs.enqueue_task(WEBHOOK, workspace_id, payload, now)
    return len(endpoints)


async def emit_queue_empty(
    uow: UnitOfWork,
    workspace_id: str,
    *,
    workspace_name: str,
    queue_type: str,
    session_name: str | None,
    observer: str | None,
    observed: str | None,
    now: datetime,
) -> int:
    """Inside the transaction that drained a work unit: queue `queue.empty` with upstream's
    data (names, not ids; `queue_type` "representation" or "summary")."""
    data = {
        "workspace_id": workspace_name,
        "queue_type": queue_type,
        "session_id": session_name,
        "observer": observer,
        "observed": observed,
    }
    return await emit(uow, workspace_id, QUEUE_EMPTY, data, now)


async def get_or_create(
    uow: UnitOfWork,
    transport: WebhookTransport,
    workspace_name: str,
    url: str,
    clock: Clock = utcnow,
) -> tuple[WebhookEndpoint, bool]:
    """Return (endpoint, created) for the URL; a new one needs a free slot of the ten.

    The signing secret is made ready first, so that deliveries can be verified from the
    first event on (Unavailable when it cannot be had).
    """
    await transport.secret()
    for _ in range(2):
        async with uow:
            workspace = await require(uow, workspace_name)
            count = await uow.webhooks.count_locked(workspace.id)
            found = await uow.webhooks.get_by_url(workspace.id, url)
            if found is not None:
                return found, False
            if count >= MAX_ENDPOINTS:
                raise Conflict(
                    f"Maximum number of webhook endpoints ({MAX_ENDPOINTS}) reached "
                    "for this workspace."
                )
            try:
                endpoint = await uow.webhooks.create(workspace.id, url, clock())
            except AlreadyExists:
                continue  # registered concurrently: read it in a fresh transaction
            await uow.commit()
            return endpoint, True
    raise Conflict(f"Unable to create or get webhook endpoint: {url}")


async def list(uow: UnitOfWork, workspace_name: str, page: PageRequest) -> Page[WebhookEndpoint]:
    """A page of the workspace's endpoints in registration order (empty for an unknown
    workspace)."""
    async with uow:
        workspace = await uow.workspaces.get_by_name(workspace_name)
        if workspace is None:
            return Page.empty(page)
        return await uow.webhooks.list(workspace.id, page)


async def delete(uow: UnitOfWork, workspace_name: str, endpoint_id: str) -> None:
    """Remove an endpoint; its pending deliveries end without a request."""
    async with uow:
        workspace = await uow.workspaces.get_by_name(workspace_name)
        if workspace is None or not await uow.webhooks.delete(workspace.id, endpoint_id):
            raise endpoint_not_found(endpoint_id, workspace_name)
        await uow.commit()


async def publish_test(uow: UnitOfWork, workspace_name: str, clock: Clock = utcnow) -> int:
    """Queue a `test.event` to every endpoint of the workspace; return how many deliveries
    (none for an unknown workspace)."""
    async with uow:
        workspace = await uow.workspaces.get_by_name(workspace_name)
        if workspace is None:
            return 0
        count = await emit(uow, workspace.id, TEST_EVENT, {"workspace_id": workspace_name}, clock())
        await uow.commit()
    return count


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or "?"
    except ValueError:
        return "?"


async def deliver(runtime: Runtime, job: Job) -> bool:
    """Run one delivery job: post the stored body to its endpoint and complete the job on a
    2xx; return False when the lease was lost. DeliveryError on any other outcome."""
    payload = job.payload or {}
    endpoint_id, body = payload.get("endpoint_id"), payload.get("body")
    endpoint: WebhookEndpoint | None = None
    if isinstance(endpoint_id, str) and isinstance(body, str):
        async with runtime.uow(write=False) as uow:
            endpoint = await uow.webhooks.get(job.workspace_id, endpoint_id)
    if endpoint is not None and isinstance(body, str):
        raw = body.encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "X-Honcho-Signature": sign(await runtime.webhooks.secret(), raw),
        }
        where = f"webhook endpoint {endpoint.id} ({_host(endpoint.url)})"
        try:
            status = await runtime.webhooks.post(endpoint.url, raw, headers)
        except DeliveryError as exc:
            raise DeliveryError(f"{where}: {exc}") from exc
        if not 200 <= status < 300:
            raise DeliveryError(f"{where} answered HTTP {status}")
    assert job.lease_token is not None
    async with runtime.uow() as uow:
        ours = await uow.jobs.complete(job.key, job.lease_token, runtime.now())
        await uow.commit()
    return ours
