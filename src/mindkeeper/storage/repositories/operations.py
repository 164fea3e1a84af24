"""Operators' reads and actions: newest-first keyset pages, queue gauges, database size,
dead letters one by one. Every page is one indexed range read (key below a bound, newest
first, `limit + 1` rows to know whether another page follows); nothing is counted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, and_, case, delete, func, or_, select, text

from mindkeeper.core.entities import Collection, Document, Message, Peer, Session, Workspace
from mindkeeper.core.ports.jobs import JobStatus
from mindkeeper.core.ports.operations import JobView, Keyset, KeysetPage, QueueGauges
from mindkeeper.storage.repositories.base import DbRow, Repository
from mindkeeper.storage.repositories.collections import to_collection
from mindkeeper.storage.repositories.documents import to_document
from mindkeeper.storage.repositories.messages import to_message
from mindkeeper.storage.repositories.peers import to_peer
from mindkeeper.storage.repositories.sessions import to_session
from mindkeeper.storage.repositories.work_units import to_job
from mindkeeper.storage.repositories.workspaces import to_workspace
from mindkeeper.storage.tables import (
    collections,
    documents,
    messages,
    peers,
    session_peers,
    sessions,
    workspaces,
)
from mindkeeper.storage.tables.agents import agent_sessions
from mindkeeper.storage.tables.auth import access_keys
from mindkeeper.storage.tables.jobs import jobs

T = TypeVar("T")
ACCOUNTS_MAX = 100


class SqlOperationsRepository(Repository):
    """SQL reads and actions of operators."""

    async def _page(
        self, stmt: Select[Any], key: Any, page: Keyset, to: Callable[[DbRow], T]
    ) -> KeysetPage[T]:
        if page.before is not None:
            stmt = stmt.where(key < page.before)
        rows = (await self.conn.execute(stmt.order_by(key.desc()).limit(page.limit + 1))).all()
        items = [to(r) for r in rows[: page.limit]]
        more = len(rows) > page.limit
        return KeysetPage(items, int(rows[page.limit - 1].id) if more else None)

    async def workspaces(self, page: Keyset) -> KeysetPage[Workspace]:
        """Workspaces, newest first."""
        return await self._page(select(workspaces), workspaces.c.id, page, to_workspace)

    async def peers(self, workspace_id: str, page: Keyset) -> KeysetPage[Peer]:
        """Peers of a workspace, newest first."""
        stmt = select(peers).where(peers.c.workspace_id == workspace_id)
        return await self._page(stmt, peers.c.id, page, to_peer)

    async def sessions(
        self, workspace_id: str, peer_id: str | None, page: Keyset
    ) -> KeysetPage[Session]:
        """Sessions of a workspace, or those a peer owns or joined, newest first."""
        stmt = select(sessions).where(sessions.c.workspace_id == workspace_id)
        if peer_id is not None:
            joined = select(session_peers.c.session_id).where(
                session_peers.c.workspace_id == workspace_id, session_peers.c.peer_id == peer_id
            )
            stmt = stmt.where(or_(sessions.c.peer_id == peer_id, sessions.c.public_id.in_(joined)))
        return await self._page(stmt, sessions.c.id, page, to_session)

    async def session(self, workspace_id: str, session_id: str) -> Session | None:
        """A session of the workspace by public id."""
        row = (
            await self.conn.execute(
                select(sessions).where(
                    sessions.c.workspace_id == workspace_id, sessions.c.public_id == session_id
                )
            )
        ).first()
        return None if row is None else to_session(row)

    async def messages(self, session_id: str, page: Keyset) -> KeysetPage[Message]:
        """Messages of a session, newest first (index: session, key)."""
        stmt = select(messages).where(messages.c.session_id == session_id)
        return await self._page(stmt, messages.c.id, page, to_message)

    async def message_anchor(self, session_id: str, at: datetime) -> int | None:
        """The key of the newest message of the session created at or before `at`."""
        stmt = (
            select(messages.c.id)
            .where(messages.c.session_id == session_id, messages.c.created_at <= at)
            .order_by(messages.c.id.desc())
            .limit(1)
        )
        found = (await self.conn.execute(stmt)).scalar()
        return None if found is None else int(found)

    async def collections(self, workspace_id: str, peer_id: str) -> list[Collection]:
        """The peer's collections, newest first."""
        stmt = (
            select(collections)
            .where(collections.c.workspace_id == workspace_id, collections.c.peer_id == peer_id)
            .order_by(collections.c.id.desc())
        )
        return [to_collection(r) for r in (await self.conn.execute(stmt)).all()]

    async def collection(self, workspace_id: str, collection_id: str) -> Collection | None:
        """A collection of the workspace by public id."""
        row = (
            await self.conn.execute(
                select(collections).where(
                    collections.c.workspace_id == workspace_id,
                    collections.c.public_id == collection_id,
                )
            )
        ).first()
        return None if row is None else to_collection(row)

    async def documents(self, collection_id: str, page: Keyset) -> KeysetPage[Document]:
        """Live documents of a collection, newest first."""
        stmt = select(documents).where(
            documents.c.collection_id == collection_id, documents.c.deleted_at.is_(None)
        )
        return await self._page(stmt, documents.c.id, page, to_document)

    async def jobs(self, status: str, page: Keyset) -> KeysetPage[JobView]:
        """Jobs in a state, newest first (index: status, key)."""
        stmt = select(jobs).where(jobs.c.status == status)

        def view(row: DbRow) -> JobView:
            return JobView(to_job(row), row.last_error, row.updated_at, row.run_after)

        return await self._page(stmt, jobs.c.id, page, view)

    async def discard_job(self, key: int) -> bool:
        """Delete a dead job."""
        result = await self.conn.execute(
            delete(jobs).where(jobs.c.id == key, jobs.c.status == JobStatus.DEAD.value)
        )
        return bool(result.rowcount)

    async def queue_gauges(self) -> QueueGauges:
        """Counts of unfinished and dead jobs and the oldest pending one (index: status, key)."""
        status, attempts = jobs.c.status, jobs.c.attempts
        rows = (
            await self.conn.execute(
                select(
                    status,
                    func.count(),
                    func.sum(case((status == "running", attempts - 1), else_=attempts)),
                    func.sum(case((and_(status == "pending", attempts > 0), 1), else_=0)),
                )
                .where(status.in_(("pending", "running", "dead")))
                .group_by(status)
            )
        ).all()
        by = {r[0]: (int(r[1]), int(r[2] or 0), int(r[3] or 0)) for r in rows}
        oldest = (
            await self.conn.execute(
                select(jobs.c.created_at).where(status == "pending").order_by(jobs.c.id).limit(1)
            )
        ).scalar()
        return QueueGauges(
            pending=by.get("pending", (0, 0, 0))[0],
            running=by.get("running", (0, 0, 0))[0],
            dead=by.get("dead", (0, 0, 0))[0],
            retrying=sum(v[2] for v in by.values()),
            failed_attempts=sum(v[1] for v in by.values()),
            oldest_pending_at=oldest,
        )

    async def database_size(self) -> int | None:
        """SQLite: pages x page size; PostgreSQL: `pg_database_size`."""
        if self.dialect == "sqlite":
            pages = (await self.conn.execute(text("PRAGMA page_count"))).scalar()
            size = (await self.conn.execute(text("PRAGMA page_size"))).scalar()
            return int(pages or 0) * int(size or 0)
        found = (
            await self.conn.execute(text("SELECT pg_database_size(current_database())"))
        ).scalar()
        return None if found is None else int(found)

    async def accounts(self) -> list[str]:
        """Accounts of agent sessions (a loose index scan) and of access keys."""
        found: set[str] = set()
        last = ""
        for _ in range(ACCOUNTS_MAX):
            account = (
                await self.conn.execute(
                    select(func.min(agent_sessions.c.account_id)).where(
                        agent_sessions.c.account_id > last
                    )
                )
            ).scalar()
            if account is None:
                break
            found.add(str(account))
            last = str(account)
        keys = (await self.conn.execute(select(access_keys.c.account_id).distinct())).all()
        found.update(str(r[0]) for r in keys)
        return sorted(found)
