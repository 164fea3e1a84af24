"""Use cases for workspaces (Honcho apps)."""

from __future__ import annotations

from mindkeeper.core.entities import JSONObject, Workspace
from mindkeeper.core.ports import UnitOfWork
from mindkeeper.core.values import Clock, MetadataFilter, Page, PageRequest, utcnow
from mindkeeper.errors import AlreadyExists, Invalid, NotFound


def check_new_name(name: str, limit: int | None) -> None:
    """Refuse to create a row whose name is longer than `limit`."""
    if limit is not None and len(name) > limit:
        raise Invalid(f"Name must be at most {limit} characters")


async def get_or_raise(uow: UnitOfWork, workspace_id: str) -> Workspace:
    """Return the workspace or raise NotFound."""
    async with uow:
        workspace = await uow.workspaces.get(workspace_id)
    if workspace is None:
        raise NotFound(f"App with ID {workspace_id} not found")
    return workspace


async def get_by_name_or_raise(uow: UnitOfWork, name: str) -> Workspace:
    """Return the workspace with that name or raise NotFound."""
    async with uow:
        workspace = await uow.workspaces.get_by_name(name)
    if workspace is None:
        raise NotFound(f"App with name '{name}' not found")
    return workspace


async def create(
    uow: UnitOfWork, name: str, metadata: JSONObject, clock: Clock = utcnow
) -> Workspace:
    """Create a workspace; AlreadyExists when the name is taken."""
    async with uow:
        workspace = await uow.workspaces.create(name, metadata, clock())
        await uow.commit()
    return workspace


async def get_or_create(
    uow: UnitOfWork, name: str, create_name_max: int | None = None, clock: Clock = utcnow
) -> Workspace:
    """Return the workspace with that name, creating it with empty metadata if needed."""
    async with uow:
        workspace = await uow.workspaces.get_by_name(name)
        if workspace is not None:
            return workspace
        check_new_name(name, create_name_max)
        try:
            workspace = await uow.workspaces.create(name, {}, clock())
            await uow.commit()
            return workspace
        except AlreadyExists:
            pass
    return await get_by_name_or_raise(uow, name)


async def list(uow: UnitOfWork, filter: MetadataFilter, page: PageRequest) -> Page[Workspace]:
    """Return a page of workspaces."""
    async with uow:
        return await uow.workspaces.list(filter, page)


async def update(
    uow: UnitOfWork, workspace_id: str, name: str | None, metadata: JSONObject | None
) -> Workspace:
    """Rename and/or replace metadata; NotFound when missing."""
    async with uow:
        workspace = await uow.workspaces.update(workspace_id, name, metadata)
        if workspace is None:
            raise NotFound(f"App with ID {workspace_id} not found")
        await uow.commit()
    return workspace
