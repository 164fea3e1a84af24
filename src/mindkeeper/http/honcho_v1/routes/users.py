"""Users: /v1/apps/{app_id}/users."""

from __future__ import annotations

from fastapi import APIRouter, Query
from starlette.responses import Response

from mindkeeper.core.services import peers
from mindkeeper.errors import Unauthorized
from mindkeeper.http.deps import ReadUow, WriteUow
from mindkeeper.http.honcho_v1 import mapping
from mindkeeper.http.honcho_v1.auth import AUTH
from mindkeeper.http.honcho_v1.responses import Page, User
from mindkeeper.http.honcho_v1.routes.apps import CREATE_NAME_MAX
from mindkeeper.http.honcho_v1.routes.common import Paging, ok
from mindkeeper.http.honcho_v1.schemas import ListBody, UserCreate, UserUpdate

router = APIRouter(
    prefix="/v1/apps/{app_id}/users", tags=["users"], strict_content_type=False, dependencies=[AUTH]
)


@router.post("", response_model=User)
async def create_user(app_id: str, body: UserCreate, uow: WriteUow) -> Response:
    """Create a user in an app."""
    return ok(mapping.user(await peers.create(uow, app_id, body.name, body.metadata)))


@router.get("", response_model=User)
async def get_user(
    app_id: str, uow: ReadUow, user_id: str | None = Query(default=None)
) -> Response:
    """Get a user by id (from the query or, with auth, the key)."""
    if not user_id:
        raise Unauthorized("User ID not found in query parameter or JWT")
    return ok(mapping.user(await peers.get_or_raise(uow, app_id, user_id)))


@router.post("/list", response_model=Page[User])
async def list_users(
    app_id: str, uow: ReadUow, paging: Paging, body: ListBody | None = None
) -> Response:
    """List an app's users."""
    result = await peers.list(uow, app_id, body.filter if body else None, paging)
    return ok(mapping.page(result, mapping.user))


@router.get("/name/{name}", response_model=User)
async def get_user_by_name(app_id: str, name: str, uow: ReadUow) -> Response:
    """Get a user by name."""
    return ok(mapping.user(await peers.get_by_name_or_raise(uow, app_id, name)))


@router.get("/get_or_create/{name}", response_model=User)
async def get_or_create_user(app_id: str, name: str, uow: WriteUow) -> Response:
    """Get a user by name, creating it when missing."""
    return ok(mapping.user(await peers.get_or_create(uow, app_id, name, CREATE_NAME_MAX)))


@router.put("/{user_id}", response_model=User)
async def update_user(app_id: str, user_id: str, body: UserUpdate, uow: WriteUow) -> Response:
    """Rename a user and/or replace its metadata."""
    return ok(mapping.user(await peers.update(uow, app_id, user_id, body.name, body.metadata)))
