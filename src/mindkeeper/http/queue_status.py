"""GET /queue/status: the deriver's backlog (outside /v1, so no Honcho path is shadowed).

Counts by state (pending, running, done, dead), retrying jobs and failed attempts, the age of
the oldest unfinished job, the last progress, whether the queue is stalled and why, the models
in use with their token and cost counters (this process), and the sessions with unfinished or
dead jobs. `?session_id=` narrows everything to one session. With authentication on, an admin
key is required (the route names no app, so the Honcho guard asks for admin).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel
from starlette.responses import Response

from mindkeeper.core.services import queue
from mindkeeper.http.deps import RuntimeDep
from mindkeeper.http.honcho_v1.auth import AUTH
from mindkeeper.http.responses import JSONBytes

router = APIRouter(tags=["queue"], dependencies=[AUTH])


class DeriverInfo(BaseModel):
    """The models in use and whether this process can derive."""

    worker_in_this_process: bool
    deriver_model: str | None
    summary_model: str | None
    dialectic_model: str | None
    embedder: str | None
    unavailable: str | None


class ModelUsage(BaseModel):
    """Counters of one model since the process started."""

    requests: int
    retries: int
    failures: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


class SessionBacklog(BaseModel):
    """The unfinished or dead work of one session."""

    session_id: str
    pending: int
    running: int
    dead: int
    retrying: int
    last_error: str | None
    oldest_pending_age_seconds: float | None


class WebhookDeliveries(BaseModel):
    """Webhook deliveries by state, and the latest error of an unfinished or dead one."""

    pending: int
    running: int
    done: int
    dead: int
    retrying: int
    last_error: str | None


class QueueStatus(BaseModel):
    """The deriver queue's backlog."""

    pending: int
    running: int
    done: int
    dead: int
    retrying: int
    failed_attempts: int
    oldest_pending_age_seconds: float | None
    last_progress_at: datetime | None
    last_error: str | None
    stalled: bool
    reason: str | None
    deriver: DeriverInfo
    sessions: list[SessionBacklog]
    models: dict[str, ModelUsage]
    webhooks: WebhookDeliveries


@router.get("/queue/status", response_model=QueueStatus)
async def queue_status(
    runtime: RuntimeDep,
    session_id: str | None = Query(default=None),
    limit: int = Query(default=100, ge=1, le=1000),
) -> Response:
    """Report the deriver queue's backlog."""
    report = await queue.report(runtime, session_id or None, limit)
    return JSONBytes(report.as_dict())
