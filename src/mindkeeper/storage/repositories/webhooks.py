"""Webhook endpoints of workspaces: register, list, look up, remove."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, select

from mindkeeper.core.ports.jobs import JobStatus
from mindkeeper.core.ports.webhooks import WEBHOOK, DeliveryCounts, WebhookEndpoint
from mindkeeper.core.values import Page, PageRequest, new_id
from mindkeeper.storage.repositories.base import DbRow, Repository, translate_integrity
from mindkeeper.storage.tables.jobs import jobs
from mindkeeper.storage.tables.memory import workspaces
from mindkeeper.storage.tables.webhooks import webhook_endpoints as t


def to_endpoint(row: DbRow) -> WebhookEndpoint:
    """Map a row to the entity."""
    return WebhookEndpoint(
        id=row.public_id, workspace_id=row.workspace_id, url=row.url, created_at=row.created_at
    )


class SqlWebhookRepository(Repository):
    """SQL webhook endpoints."""

    def _of(self, workspace_id: str) -> Any:
        return select(t).where(t.c.workspace_id == workspace_id)

    async def get(self, workspace_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        """Return the workspace's endpoint with that id."""
        return await self.first(
            self._of(workspace_id).where(t.c.public_id == endpoint_id), to_endpoint
        )

    async def get_by_url(self, workspace_id: str, url: str) -> WebhookEndpoint | None:
        """Return the workspace's endpoint for that URL."""
        return await self.first(self._of(workspace_id).where(t.c.url == url), to_endpoint)

    async def count_locked(self, workspace_id: str) -> int:
        """Lock the workspace row, then count. On PostgreSQL `FOR NO KEY UPDATE` makes
        registrations of one workspace wait for each other, while rows that reference the
        workspace can still be inserted; SQLite has one writer anyway."""
        await self.conn.execute(
            select(workspaces.c.id)
            .where(workspaces.c.public_id == workspace_id)
            .with_for_update(key_share=True)
        )
        stmt = select(func.count()).select_from(t).where(t.c.workspace_id == workspace_id)
        return int((await self.conn.execute(stmt)).scalar_one())

    async def create(self, workspace_id: str, url: str, now: datetime) -> WebhookEndpoint:
        """Insert an endpoint."""
        with translate_integrity("Webhook endpoint already exists"):
            row = (
                await self.conn.execute(
                    insert(t)
                    .values(public_id=new_id(), workspace_id=workspace_id, url=url, created_at=now)
                    .returning(t)
                )
            ).one()
        return to_endpoint(row)

    async def list(self, workspace_id: str, page: PageRequest) -> Page[WebhookEndpoint]:
        """A page of the workspace's endpoints, oldest first."""
        return await self.paginate(self._of(workspace_id), t, page, to_endpoint)

    async def all(self, workspace_id: str) -> builtins.list[WebhookEndpoint]:
        """Every endpoint of the workspace, oldest first."""
        rows = await self.conn.execute(self._of(workspace_id).order_by(t.c.id))
        return [to_endpoint(row) for row in rows]

    async def delete(self, workspace_id: str, endpoint_id: str) -> bool:
        """Remove the endpoint."""
        result = await self.conn.execute(
            delete(t).where(t.c.workspace_id == workspace_id, t.c.public_id == endpoint_id)
        )
        return bool(result.rowcount)

    async def delivery_counts(self) -> DeliveryCounts:
        """Delivery jobs by state, pending ones that failed before, and the latest error of
        an unfinished or dead one."""
        status = jobs.c.status
        rows = (
            await self.conn.execute(
                select(
                    status,
                    func.count(),
                    func.sum(case((and_(status == "pending", jobs.c.attempts > 0), 1), else_=0)),
                )
                .where(jobs.c.kind == WEBHOOK)
                .group_by(status)
            )
        ).all()
        by_status = {row[0]: int(row[1]) for row in rows}
        last_error = (
            await self.conn.execute(
                select(jobs.c.last_error)
                .where(
                    jobs.c.kind == WEBHOOK,
                    jobs.c.status != JobStatus.DONE.value,
                    jobs.c.last_error.is_not(None),
                )
                .order_by(jobs.c.updated_at.desc(), jobs.c.id.desc())
                .limit(1)
            )
        ).scalar()
        return DeliveryCounts(
            pending=by_status.get(JobStatus.PENDING.value, 0),
            running=by_status.get(JobStatus.RUNNING.value, 0),
            done=by_status.get(JobStatus.DONE.value, 0),
            dead=by_status.get(JobStatus.DEAD.value, 0),
            retrying=sum(int(row[2] or 0) for row in rows),
            last_error=last_error,
        )
