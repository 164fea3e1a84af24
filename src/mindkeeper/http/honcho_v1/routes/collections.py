"""Collections: /v1/apps/{app_id}/users/{user_id}/collections."""

from __future__ import annotations

from fastapi import APIRouter, Query
from starlette.responses import Response

from mindkeeper.core.services import collections
from mindkeeper.errors import Unauthorized
from mindkeeper.http.deps import ReadUow, WriteUow
from mindkeeper.http.honcho_v1 import mapping
from mindkeeper.http.honcho_v1.auth import AUTH
from mindkeeper.http.honcho_v1.responses import Collection, Deleted, Page
from mindkeeper.http.honcho_v1.routes.common import Paging, ok
from mindkeeper.http.honcho_v1.schemas import CollectionCreate, CollectionUpdate, ListBody

router = APIRouter(
    prefix="/v1/apps/{app_id}/users/{user_id}/collections",
    tags=["collections"],
    strict_content_type=False,
    dependencies=[AUTH],
)


@router.get("", response_model=Collection)
async def get_collection(
    app_id: str, user_id: str, uow: ReadUow, collection_id: str | None = Query(default=None)
) -> Response:
    """Get a collection by id (from the query or, with auth, the key)."""
    if not collection_id:
        raise Unauthorized("Collection ID not found in query parameter or JWT")
    found = await collections.get_or_raise(uow, app_id, user_id, collection_id)
    return ok(mapping.collection(found))


@router.post("", response_model=Collection)
async def create_collection(
    app_id: str, user_id: str, body: CollectionCreate, uow: WriteUow
) -> Response:
    """Create a collection."""
    created = await collections.create(uow, app_id, user_id, body.name, body.metadata)
    return ok(mapping.collection(created))


@router.post("/list", response_model=Page[Collection])
async def list_collections(
    app_id: str, user_id: str, uow: ReadUow, paging: Paging, body: ListBody | None = None
) -> Response:
    """List a user's collections."""
    result = await collections.list(uow, app_id, user_id, body.filter if body else None, paging)
    return ok(mapping.page(result, mapping.collection))


@router.get("/name/{name}", response_model=Collection)
async def get_collection_by_name(app_id: str, user_id: str, name: str, uow: ReadUow) -> Response:
    """Get a collection by name."""
    found = await collections.get_by_name_or_raise(uow, app_id, user_id, name)
    return ok(mapping.collection(found))


@router.put("/{collection_id}", response_model=Collection)
async def update_collection(
    app_id: str, user_id: str, collection_id: str, body: CollectionUpdate, uow: WriteUow
) -> Response:
    """Rename a collection and/or replace its metadata."""
    updated = await collections.update(
        uow, app_id, user_id, collection_id, body.name, body.metadata
    )
    return ok(mapping.collection(updated))


@router.delete("/{collection_id}", response_model=Deleted)
async def delete_collection(
    app_id: str, user_id: str, collection_id: str, uow: WriteUow
) -> Response:
    """Delete a collection and its documents."""
    await collections.delete(uow, app_id, user_id, collection_id)
    return ok({"message": "Collection deleted successfully"})
