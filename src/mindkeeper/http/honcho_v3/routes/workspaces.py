"""Workspaces: /v3/workspaces."""

from __future__ import annotations

from fastapi import APIRouter, Body
from starlette.responses import Response

from mindkeeper.core.services.conversations import workspaces
from mindkeeper.http.deps import ReadUow, WriteUow
from mindkeeper.http.honcho_v3 import mapping
from mindkeeper.http.honcho_v3.auth import AUTH
from mindkeeper.http.honcho_v3.common import Paging, ok, ok_or_created
from mindkeeper.http.honcho_v3.schemas import ListBody, WorkspaceCreate, WorkspaceUpdate

router = APIRouter(prefix="/v3/workspaces", tags=["workspaces"], dependencies=[AUTH])


@router.post("")
async def get_or_create_workspace(body: WorkspaceCreate, uow: WriteUow) -> Response:
    """Get or create a workspace by name (201 when created)."""
    workspace, created = await workspaces.get_or_create(
        uow, body.id, body.metadata, body.configuration.stored()
    )
    return ok_or_created(mapping.workspace(workspace), created)


@router.post("/list")
async def list_workspaces(
    uow: ReadUow, paging: Paging, body: ListBody | None = Body(default=None)
) -> Response:
    """A page of workspaces."""
    result = await workspaces.list(uow, None, paging)
    return ok(mapping.page(result, mapping.workspace))


@router.put("/{workspace_id}")
async def update_workspace(workspace_id: str, body: WorkspaceUpdate, uow: WriteUow) -> Response:
    """Replace metadata and merge configuration (creates the workspace when missing)."""
    configuration = None if body.configuration is None else body.configuration.stored()
    workspace = await workspaces.update(uow, workspace_id, body.metadata, configuration)
    return ok(mapping.workspace(workspace))
