"""GET /metrics: Prometheus' text format. With authentication on, an admin key is needed
(`Authorization: Bearer <admin key>`, the same check as the Honcho surface's admin routes)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response

from mindkeeper.http.deps import RuntimeDep
from mindkeeper.http.metrics import collect


async def admin_only(request: Request) -> None:
    """Refuse the request unless its key is an admin key (the Honcho guard decides)."""
    guard: Any = request.app.state.honcho_guard
    await guard.check(request)


router = APIRouter(tags=["operations"], dependencies=[Depends(admin_only)])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(runtime: RuntimeDep) -> Response:
    """The metrics of every worker process and the database's gauges."""
    return Response(await collect.render(runtime), media_type=CONTENT_TYPE_LATEST)
