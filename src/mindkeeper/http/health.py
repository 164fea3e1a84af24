"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from mindkeeper.http.deps import RuntimeDep
from mindkeeper.http.responses import JSONBytes

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> Response:
    """The process is up."""
    return JSONBytes({"status": "ok"})


@router.get("/readyz")
async def readyz(runtime: RuntimeDep) -> Response:
    """The database is reachable and its schema is at the shipped head."""
    report = await runtime.readiness()
    return JSONBytes(report, status_code=200 if report.get("ready") else 503)
