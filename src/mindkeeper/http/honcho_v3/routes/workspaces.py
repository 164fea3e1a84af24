"""Workspaces: /v3/workspaces."""

from __future__ import annotations

from fastapi import APIRouter, Body
from starlette.responses import Response

from mindkeeper.core.services.conversations import workspaces
from mindkeeper.http.deps import ReadUow, WriteUow
from mindkeeper.http.honcho_v3 import mapping, responses
from mindkeeper.http.honcho_v3.auth import AUTH
from mindkeeper.http.honcho_v3.common import NewName, Paging, accepted, ok, ok_or_created
from mindkeeper.http.honcho_v3.errors import V3Route
from mindkeeper.http.honcho_v3.schemas import ListBody, WorkspaceCreate, WorkspaceUpdate

router = APIRouter(
    prefix="/v3/workspaces",
    tags=["workspaces"],
    dependencies=[AUTH],
    route_class=V3Route,
    strict_content_type=False,
)


@router.post(
    "", response_model=responses.Workspace, responses=responses.created(responses.Workspace)
)
async def get_or_create_workspace(body: WorkspaceCreate, uow: WriteUow) -> Response:
    """Get or create a workspace by name (201 when created)."""
    workspace, created = await workspaces.get_or_create(
        uow, body.id, body.metadata, body.configuration.stored()
    )
    return ok_or_created(mapping.workspace(workspace), created)


@router.post("/list", response_model=responses.Page[responses.Workspace])
async def list_workspaces(
    uow: ReadUow, paging: Paging, body: ListBody | None = Body(default=None)
) -> Response:
    """A page of workspaces, oldest first."""
    result = await workspaces.list(uow, paging, body.filters if body else None)
    return ok(mapping.page(result, mapping.workspace))


@router.put("/{workspace_id}", response_model=responses.Workspace)
async def update_workspace(workspace_id: NewName, body: WorkspaceUpdate, uow: WriteUow) -> Response:
    """Replace metadata and merge configuration (creates the workspace when missing)."""
    configuration = None if body.configuration is None else body.configuration.stored()
    workspace = await workspaces.update(uow, workspace_id, body.metadata, configuration)
    return ok(mapping.workspace(workspace))


@router.delete("/{workspace_id}", status_code=202, response_model=responses.Deleted)
async def delete_workspace(workspace_id: str, uow: WriteUow) -> Response:
    """Accept the deletion of a workspace that has no active session (202)."""
    await workspaces.delete(uow, workspace_id)
    return accepted("Workspace deletion accepted")
