"""Apps: /v1/apps."""

from __future__ import annotations

from fastapi import APIRouter, Query
from starlette.responses import Response

from mindkeeper.core.services import workspaces
from mindkeeper.errors import Unauthorized
from mindkeeper.http.deps import ReadUow, WriteUow
from mindkeeper.http.honcho_v1 import mapping
from mindkeeper.http.honcho_v1.auth import AUTH
from mindkeeper.http.honcho_v1.responses import App, Page
from mindkeeper.http.honcho_v1.routes.common import Paging, ok
from mindkeeper.http.honcho_v1.schemas import AppCreate, AppUpdate, ListBody

router = APIRouter(prefix="/v1/apps", tags=["apps"], strict_content_type=False, dependencies=[AUTH])

#: Names longer than creation allows can only be looked up, never created.
CREATE_NAME_MAX = 100


@router.get("", response_model=App)
async def get_app(uow: ReadUow, app_id: str | None = Query(default=None)) -> Response:
    """Get an app by id (the id comes from the query or, with auth, the key)."""
    if not app_id:
        raise Unauthorized("App ID not found in query parameter or JWT")
    return ok(mapping.app(await workspaces.get_or_raise(uow, app_id)))


@router.post("", response_model=App)
async def create_app(body: AppCreate, uow: WriteUow) -> Response:
    """Create an app."""
    return ok(mapping.app(await workspaces.create(uow, body.name, body.metadata)))


@router.post("/list", response_model=Page[App])
async def list_apps(uow: ReadUow, paging: Paging, body: ListBody | None = None) -> Response:
    """List apps."""
    result = await workspaces.list(uow, body.filter if body else None, paging)
    return ok(mapping.page(result, mapping.app))


@router.get("/name/{name}", response_model=App)
async def get_app_by_name(name: str, uow: ReadUow) -> Response:
    """Get an app by name."""
    return ok(mapping.app(await workspaces.get_by_name_or_raise(uow, name)))


@router.get("/get_or_create/{name}", response_model=App)
async def get_or_create_app(name: str, uow: WriteUow) -> Response:
    """Get an app by name, creating it when missing."""
    return ok(mapping.app(await workspaces.get_or_create(uow, name, CREATE_NAME_MAX)))


@router.put("/{app_id}", response_model=App)
async def update_app(app_id: str, body: AppUpdate, uow: WriteUow) -> Response:
    """Rename an app and/or replace its metadata."""
    return ok(mapping.app(await workspaces.update(uow, app_id, body.name, body.metadata)))
