"""Scopes: /v3/workspaces/{workspace_id}/scopes (get or create, list, read, add and remove
sessions, list sessions, status), as honcho-ai 2.7.0 calls them (reference §11.3)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from mindkeeper.core.entities import Peer
from mindkeeper.core.ports.scopes import SCOPE_PEER_PREFIX
from mindkeeper.core.services.conversations import scopes
from mindkeeper.http.deps import ReadUow, WriteUow
from mindkeeper.http.honcho_v3 import mapping, responses
from mindkeeper.http.honcho_v3.auth import AUTH
from mindkeeper.http.honcho_v3.common import NewName, Paging, no_content, ok, ok_or_created
from mindkeeper.http.honcho_v3.errors import V3Route
from mindkeeper.http.honcho_v3.schemas import OptionalMetadata, ScopeName

#: Sessions one call may add to a scope.
ADD_MAX = 100


class ScopeCreate(BaseModel):
    """POST .../scopes (get or create)."""

    model_config = ConfigDict(extra="ignore")

    id: ScopeName
    metadata: OptionalMetadata = None


class ScopeSessions(BaseModel):
    """POST .../scopes/{scope_id}/sessions."""

    model_config = ConfigDict(extra="ignore")

    session_ids: Annotated[
        list[Annotated[str, Field(min_length=1)]], Field(min_length=1, max_length=ADD_MAX)
    ]


router = APIRouter(
    prefix="/v3/workspaces/{workspace_id}/scopes",
    tags=["scopes"],
    dependencies=[AUTH],
    route_class=V3Route,
    strict_content_type=False,
)


def scope(s: Peer) -> dict[str, Any]:
    """A Scope: its name (without its peer's prefix), metadata and creation time."""
    return {
        "id": s.name.removeprefix(SCOPE_PEER_PREFIX),
        "metadata": s.metadata,
        "created_at": mapping.timestamp(s.created_at),
    }


def backfill(joined_at: datetime) -> dict[str, Any]:
    """The state of one session of a scope: complete as soon as it joined (nothing is copied)."""
    return {"state": "completed", "updated_at": mapping.timestamp(joined_at), "docs_copied": 0}


@router.post("/list", response_model=responses.Page[responses.Scope])
async def list_scopes(workspace_id: str, uow: ReadUow, paging: Paging) -> Response:
    """A page of the workspace's scopes, oldest first."""
    result = await scopes.list(uow, workspace_id, paging)
    return ok(mapping.page(result, scope))


@router.post("", response_model=responses.Scope, responses=responses.created(responses.Scope))
async def get_or_create_scope(workspace_id: NewName, body: ScopeCreate, uow: WriteUow) -> Response:
    """Get or create a scope (and its workspace); given metadata replaces an existing
    scope's (201 when created)."""
    found, created = await scopes.get_or_create(uow, workspace_id, body.id, body.metadata)
    return ok_or_created(scope(found), created)


@router.get("/{scope_id}", response_model=responses.Scope)
async def get_scope(workspace_id: str, scope_id: str, uow: ReadUow) -> Response:
    """A scope (404 when it does not exist)."""
    return ok(scope(await scopes.get(uow, workspace_id, scope_id)))


@router.get("/{scope_id}/status", response_model=responses.ScopeStatus)
async def scope_status(workspace_id: str, scope_id: str, uow: ReadUow) -> Response:
    """Per session of the scope, the state of bringing it into the scope."""
    joined = await scopes.joined(uow, workspace_id, scope_id)
    return ok({"backfill_status": {name: backfill(at) for name, at in joined}})


@router.post("/{scope_id}/sessions/list", response_model=responses.Page[responses.V3Session])
async def list_scope_sessions(
    workspace_id: str, scope_id: str, uow: ReadUow, paging: Paging
) -> Response:
    """A page of the scope's active sessions, longest-standing member first."""
    result = await scopes.sessions(uow, workspace_id, scope_id, paging)
    return ok(mapping.page(result, lambda s: mapping.session(s, workspace_id)))


@router.post("/{scope_id}/sessions", status_code=204)
async def add_scope_sessions(
    workspace_id: str,
    scope_id: str,
    body: Annotated[ScopeSessions, Body()],
    uow: WriteUow,
) -> Response:
    """Add 1-100 existing sessions to the scope (204)."""
    await scopes.add_sessions(uow, workspace_id, scope_id, body.session_ids)
    return no_content()


@router.delete("/{scope_id}/sessions/{session_id}", status_code=204)
async def remove_scope_session(
    workspace_id: str, scope_id: str, session_id: str, uow: WriteUow
) -> Response:
    """Take a session out of the scope (204)."""
    await scopes.remove_session(uow, workspace_id, scope_id, session_id)
    return no_content()
