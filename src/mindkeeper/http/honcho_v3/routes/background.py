"""Background work of a workspace: GET /v3/workspaces/{workspace_id}/queue/status and
POST /v3/workspaces/{workspace_id}/schedule_dream."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from mindkeeper.core.ports.work_units import WorkCounts
from mindkeeper.core.services.memory import dreams, queue_status
from mindkeeper.http.deps import ReadUow, RuntimeDep
from mindkeeper.http.honcho_v3 import responses
from mindkeeper.http.honcho_v3.auth import AUTH
from mindkeeper.http.honcho_v3.common import no_content, ok
from mindkeeper.http.honcho_v3.errors import V3Route

router = APIRouter(
    prefix="/v3/workspaces/{workspace_id}",
    tags=["workspaces"],
    dependencies=[AUTH],
    route_class=V3Route,
    strict_content_type=False,
)


class DreamType(StrEnum):
    """Kinds of dream."""

    OMNI = "omni"
    CARD_REFRESH = "card_refresh"


class DreamRequest(BaseModel):
    """Body of POST .../schedule_dream."""

    model_config = ConfigDict(extra="ignore")

    observer: str
    observed: str | None = None
    dream_type: DreamType
    session_id: str | None = None
    rebuild: bool = False


def _counts(c: WorkCounts) -> dict[str, int]:
    return {
        "total_work_units": c.total,
        "completed_work_units": c.completed,
        "in_progress_work_units": c.in_progress,
        "pending_work_units": c.pending,
    }


@router.get("/queue/status", response_model=responses.V3QueueStatus)
async def get_queue_status(
    workspace_id: str,
    uow: ReadUow,
    observer_id: str | None = None,
    sender_id: str | None = None,
    session_id: str | None = None,
) -> Response:
    """Counts of the workspace's derivation and dream work."""
    status = await queue_status.get(uow, workspace_id, observer_id, sender_id, session_id)
    sessions: dict[str, Any] | None = None
    if status.sessions is not None:
        sessions = {
            name: {"session_id": name, **_counts(counts)}
            for name, counts in status.sessions.items()
        }
    return ok({**_counts(status.counts), "sessions": sessions})


@router.post("/schedule_dream", status_code=204)
async def schedule_dream(workspace_id: str, body: DreamRequest, runtime: RuntimeDep) -> Response:
    """Queue a dream (204; 400 when dreams are off); identical unfinished dreams are not
    queued twice."""
    await dreams.schedule(
        runtime,
        workspace_id,
        body.observer,
        body.observed,
        body.dream_type.value,
        body.session_id,
        body.rebuild,
    )
    return no_content()
