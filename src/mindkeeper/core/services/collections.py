"""Use cases for collections, including the reserved per-peer `honcho` collection."""

from __future__ import annotations

from mindkeeper.core.entities import Collection, JSONObject
from mindkeeper.core.ports import UnitOfWork
from mindkeeper.core.services import peers
from mindkeeper.core.values import (
    RESERVED_COLLECTION,
    Clock,
    MetadataFilter,
    Page,
    PageRequest,
    utcnow,
)
from mindkeeper.errors import Invalid, NotFound

COLLECTION_NOT_FOUND = "Collection not found or does not belong to user"


def is_reserved(name: str) -> bool:
    """True for the name the deriver keeps for itself (any letter case)."""
    return name.lower() == RESERVED_COLLECTION


async def require(
    uow: UnitOfWork, workspace_id: str, peer_id: str, collection_id: str
) -> Collection:
    """Inside an open unit of work: return the peer's collection or raise NotFound."""
    collection = await uow.collections.get(workspace_id, peer_id, collection_id)
    if collection is None:
        raise NotFound(COLLECTION_NOT_FOUND)
    return collection


async def get_or_raise(
    uow: UnitOfWork, workspace_id: str, peer_id: str, collection_id: str
) -> Collection:
    """Return the collection or raise NotFound."""
    async with uow:
        return await require(uow, workspace_id, peer_id, collection_id)


async def get_by_name_or_raise(
    uow: UnitOfWork, workspace_id: str, peer_id: str, name: str
) -> Collection:
    """Return the peer's collection with that name or raise NotFound."""
    async with uow:
        collection = await uow.collections.get_by_name(workspace_id, peer_id, name)
    if collection is None:
        raise NotFound(f"Collection with name '{name}' not found")
    return collection


async def create(
    uow: UnitOfWork,
    workspace_id: str,
    peer_id: str,
    name: str,
    metadata: JSONObject,
    clock: Clock = utcnow,
) -> Collection:
    """Create a collection for an existing peer (never the reserved name)."""
    if is_reserved(name):
        raise Invalid("Collection name cannot be 'honcho'")
    async with uow:
        await peers.require(uow, workspace_id, peer_id)
        collection = await uow.collections.create(workspace_id, peer_id, name, metadata, clock())
        await uow.commit()
    return collection


async def get_or_create_reserved(
    uow: UnitOfWork, workspace_id: str, peer_id: str, clock: Clock = utcnow
) -> Collection:
    """Inside an open unit of work: return the peer's reserved collection, creating it."""
    collection = await uow.collections.get_by_name(workspace_id, peer_id, RESERVED_COLLECTION)
    if collection is not None:
        return collection
    await peers.require(uow, workspace_id, peer_id)
    return await uow.collections.create(workspace_id, peer_id, RESERVED_COLLECTION, {}, clock())


async def list(
    uow: UnitOfWork, workspace_id: str, peer_id: str, filter: MetadataFilter, page: PageRequest
) -> Page[Collection]:
    """Return a page of the peer's collections."""
    async with uow:
        return await uow.collections.list(workspace_id, peer_id, filter, page)


async def update(
    uow: UnitOfWork,
    workspace_id: str,
    peer_id: str,
    collection_id: str,
    name: str | None,
    metadata: JSONObject | None,
) -> Collection:
    """Rename and/or replace metadata; the reserved collection keeps its name."""
    if name is None and metadata is None:
        raise Invalid("Invalid collection configuration - at least one field must be provided")
    if name is not None and is_reserved(name):
        raise Invalid("Collection name cannot be 'honcho'")
    async with uow:
        current = await require(uow, workspace_id, peer_id, collection_id)
        if name is not None and name != current.name and current.name == RESERVED_COLLECTION:
            raise Invalid("Invalid collection configuration - 'honcho' is a reserved name")
        collection = await uow.collections.update(
            workspace_id, peer_id, collection_id, name, metadata
        )
        if collection is None:
            raise NotFound(COLLECTION_NOT_FOUND)
        await uow.commit()
    return collection


async def delete(uow: UnitOfWork, workspace_id: str, peer_id: str, collection_id: str) -> None:
    """Delete the collection and its documents; the reserved collection is kept."""
    async with uow:
        collection = await require(uow, workspace_id, peer_id, collection_id)
        if collection.name == RESERVED_COLLECTION:
            raise Invalid("Invalid collection configuration - 'honcho' is a reserved name")
        await uow.collections.delete(collection_id)
        await uow.commit()
