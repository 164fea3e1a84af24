"""Ports of operating the server: newest-first keyset reads for people, queue gauges, the
database's size, and dead letters one by one.

These serve the console and the metrics endpoint, which look at large tables: every listing
is newest first by the internal key, continues before a key (`Keyset`), never counts rows and
never skips with an offset, so a page costs one indexed range read however large the table.
The repository works inside the unit of work's transaction and never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from mindkeeper.core.entities import Collection, Document, Message, Peer, Session, Workspace
from mindkeeper.core.ports.jobs import Job

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Keyset:
    """One page of a newest-first listing: up to `limit` rows with a key below `before`
    (from the newest when None)."""

    before: int | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class KeysetPage(Generic[T]):
    """A page and the key to continue before (None on the last page)."""

    items: Sequence[T]
    next_before: int | None


@dataclass(frozen=True, slots=True)
class QueueGauges:
    """The queue's state as gauges: jobs by state, retries, failed attempts, oldest wait."""

    pending: int
    running: int
    dead: int
    retrying: int
    failed_attempts: int
    oldest_pending_at: datetime | None


@dataclass(frozen=True, slots=True)
class JobView:
    """A job as an operator sees it: the job and its last error and times."""

    job: Job
    last_error: str | None
    updated_at: datetime
    run_after: datetime


class OperationsRepository(Protocol):
    """Reads and actions of operators over every area."""

    async def workspaces(self, page: Keyset) -> KeysetPage[Workspace]:
        """Workspaces, newest first."""
        ...

    async def peers(self, workspace_id: str, page: Keyset) -> KeysetPage[Peer]:
        """Peers of a workspace, newest first."""
        ...

    async def sessions(
        self, workspace_id: str, peer_id: str | None, page: Keyset
    ) -> KeysetPage[Session]:
        """Sessions of a workspace (those a peer owns or joined, when given), newest first."""
        ...

    async def session(self, workspace_id: str, session_id: str) -> Session | None:
        """A session of the workspace by public id, whoever owns it."""
        ...

    async def messages(self, session_id: str, page: Keyset) -> KeysetPage[Message]:
        """Messages of a session, newest first."""
        ...

    async def message_anchor(self, session_id: str, at: datetime) -> int | None:
        """The key of the session's newest message created at or before `at` (None: none)."""
        ...

    async def collections(self, workspace_id: str, peer_id: str) -> list[Collection]:
        """The collections a peer keeps (its own and its conclusions about others)."""
        ...

    async def collection(self, workspace_id: str, collection_id: str) -> Collection | None:
        """A collection of the workspace by public id, whoever keeps it."""
        ...

    async def documents(self, collection_id: str, page: Keyset) -> KeysetPage[Document]:
        """Live documents of a collection, newest first."""
        ...

    async def jobs(self, status: str, page: Keyset) -> KeysetPage[JobView]:
        """Jobs in a state, newest first."""
        ...

    async def discard_job(self, key: int) -> bool:
        """Delete one dead job; False when it is not dead."""
        ...

    async def queue_gauges(self) -> QueueGauges:
        """Unfinished and dead jobs (indexed reads; finished jobs are not counted)."""
        ...

    async def database_size(self) -> int | None:
        """The database's size in bytes, when the database can tell."""
        ...

    async def accounts(self) -> list[str]:
        """Accounts that own agent sessions or access keys."""
        ...


__all__ = ["JobView", "Keyset", "KeysetPage", "OperationsRepository", "QueueGauges"]
