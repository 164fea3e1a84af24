"""Workspaces by name: get or create, update (creating), list, delete."""

from __future__ import annotations

from mindkeeper.core.entities import JSONObject, Workspace
from mindkeeper.core.filters import parse_filters
from mindkeeper.core.ports import UnitOfWork
from mindkeeper.core.ports.jobs import DELETE_WORKSPACE
from mindkeeper.core.services.conversations import filters as spec
from mindkeeper.core.values import Clock, Page, PageRequest, utcnow
from mindkeeper.errors import AlreadyExists, Conflict, NotFound


def workspace_not_found(name: str) -> NotFound:
    """The error for a missing workspace."""
    return NotFound(f"Workspace {name} not found")


def merge_configuration(stored: JSONObject, incoming: JSONObject) -> JSONObject:
    """Shallow merge at the top level (a given sub-object replaces the stored one)."""
    return {**stored, **incoming}


async def require(uow: UnitOfWork, name: str) -> Workspace:
    """Inside an open unit of work: the workspace or NotFound."""
    workspace = await uow.workspaces.get_by_name(name)
    if workspace is None:
        raise workspace_not_found(name)
    return workspace


async def ensure(uow: UnitOfWork, name: str, clock: Clock = utcnow) -> Workspace:
    """Inside an open write unit of work: the workspace, created empty when missing."""
    workspace = await uow.workspaces.get_by_name(name)
    if workspace is None:
        workspace = await uow.workspaces.create(name, {}, clock())
    return workspace


async def get_or_create(
    uow: UnitOfWork,
    name: str,
    metadata: JSONObject,
    configuration: JSONObject,
    clock: Clock = utcnow,
) -> tuple[Workspace, bool]:
    """Return (workspace, created); an existing workspace keeps its metadata and settings."""
    for _ in range(2):
        async with uow:
            found = await uow.workspaces.get_by_name(name)
            if found is not None:
                return found, False
            try:
                workspace = await uow.workspaces.create(name, metadata, clock(), configuration)
                await uow.commit()
                return workspace, True
            except AlreadyExists:
                continue
    raise Conflict(f"Unable to create or get workspace: {name}")


async def update(
    uow: UnitOfWork,
    name: str,
    metadata: JSONObject | None,
    configuration: JSONObject | None,
    clock: Clock = utcnow,
) -> Workspace:
    """Replace metadata, merge configuration; creates the workspace when missing."""
    async with uow:
        workspace = await ensure(uow, name, clock)
        merged = (
            None
            if configuration is None
            else merge_configuration(workspace.configuration, configuration)
        )
        updated = await uow.workspaces.update(workspace.id, None, metadata, merged)
        assert updated is not None
        await uow.commit()
    return updated


async def list(
    uow: UnitOfWork, page: PageRequest, filters: JSONObject | None = None
) -> Page[Workspace]:
    """Return a page of workspaces in creation order, filtered (`filters.WORKSPACES`)."""
    where = parse_filters(filters, spec.WORKSPACES)
    async with uow:
        return await uow.workspaces.list_by_creation(page, where)


async def delete(uow: UnitOfWork, name: str, clock: Clock = utcnow) -> None:
    """Accept the deletion of a workspace without active sessions: a job removes it and
    everything in it (sessions created meanwhile included)."""
    async with uow:
        workspace = await require(uow, name)
        if await uow.sessions.has_active(workspace.id):
            raise Conflict(
                f"Cannot delete workspace '{name}': active session(s) remain. "
                "Delete all sessions first."
            )
        await uow.jobs.enqueue_task(DELETE_WORKSPACE, workspace.id, {}, clock())
        await uow.commit()
