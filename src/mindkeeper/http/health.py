"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from starlette.responses import Response

from mindkeeper.http.deps import RuntimeDep
from mindkeeper.http.responses import JSONBytes

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The liveness answer."""

    status: str


class QueueStall(BaseModel):
    """Whether the deriver queue is stalled, and why."""

    stalled: bool
    reason: str | None


class Readiness(BaseModel):
    """The readiness report; `error` names the failure when the database is unreachable."""

    ready: bool
    database: str
    schema_revision: str | None = None
    schema_head: str | None = None
    queue: QueueStall | None = None
    error: str | None = None


NOT_READY: dict[int | str, dict[str, object]] = {
    503: {"model": Readiness, "description": "Not ready"}
}


@router.get("/healthz", response_model=Health)
async def healthz() -> Response:
    """The process is up."""
    return JSONBytes({"status": "ok"})


@router.get("/readyz", response_model=Readiness, responses=NOT_READY)
async def readyz(runtime: RuntimeDep) -> Response:
    """The database is reachable and its schema is at the shipped head."""
    report = await runtime.readiness()
    return JSONBytes(report, status_code=200 if report.get("ready") else 503)
