"""GET /queue/status: the deriver's backlog (outside /v1, so no Honcho path is shadowed).

Counts by state (pending, running, done, dead), retrying jobs and failed attempts, the age of
the oldest unfinished job, the last progress, whether the queue is stalled and why, the models
in use with their token and cost counters (this process), and the sessions with unfinished or
dead jobs. `?session_id=` narrows everything to one session. With authentication on, an admin
key is required (the route names no app, so the Honcho guard asks for admin).
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from starlette.responses import Response

from mindkeeper.core.services import queue
from mindkeeper.http.deps import RuntimeDep
from mindkeeper.http.honcho_v1.auth import AUTH
from mindkeeper.http.responses import JSONBytes

router = APIRouter(tags=["queue"], dependencies=[AUTH])


@router.get("/queue/status")
async def queue_status(
    runtime: RuntimeDep,
    session_id: str | None = Query(default=None),
    limit: int = Query(default=100, ge=1, le=1000),
) -> Response:
    """Report the deriver queue's backlog."""
    report = await queue.report(runtime, session_id or None, limit)
    return JSONBytes(report.as_dict())
