"""Ports of the deriver's work units on the job queue (part of `JobRepository`).

A v3 derivation job is about one message of a session and names, in its payload, the peers
that learn from it (`observers`) and the work it calls for (`reasoning`, `summaries`,
`peer_card`). A worker that claims such a job takes the *work unit* along: the next pending
derivation jobs of the same sender in the same session, with the same observers and
settings, under the claim's lease token. The lease then covers all of them: renewing,
completing and handing back act on every job of the lease, and a failure counts against the
claimed (first) job only, the others being handed back.

Queue status (v3) counts derivation and dream jobs of a workspace by state, optionally narrowed
to one session, one sender (the observed peer) and one observer.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mindkeeper.core.entities import Session
    from mindkeeper.core.ports.jobs import Job


@dataclass(frozen=True, slots=True)
class NewWork:
    """A derivation job to enqueue: the message, its sender and what to do with it."""

    message_id: str
    sender_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class WorkCounts:
    """Jobs by state; dead letters count as completed (processing ended)."""

    total: int = 0
    completed: int = 0
    in_progress: int = 0
    pending: int = 0
    dead: int = 0


@dataclass(frozen=True, slots=True)
class WorkStatus:
    """Counts over the selection, and per session (keyed by session name)."""

    counts: WorkCounts
    sessions: dict[str, WorkCounts] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WorkFilter:
    """Which jobs of a workspace queue status counts (None: any)."""

    workspace_id: str
    session_id: str | None = None
    sender_id: str | None = None
    observer_id: str | None = None


class WorkUnitQueue(Protocol):
    """Derivation work units and dreams on the job queue."""

    async def enqueue_work(
        self, workspace_id: str, session_id: str, items: Sequence[NewWork], now: datetime
    ) -> int:
        """Add one derivation job per item, in order; return how many."""
        ...

    async def attach(
        self,
        head: Job,
        owner: str,
        now: datetime,
        lease_until: datetime,
        max_messages: int,
        max_tokens: int,
    ) -> builtins.list[Job]:
        """Put the claimed job's work unit under its lease: the next due pending derivation
        jobs of the same sender and session whose payload matches the head's (up to
        `max_messages` jobs in all and `max_tokens` message tokens); return them in order."""
        ...

    async def unit_drained(self, session_id: str, sender_id: str) -> bool:
        """True when no derivation job of that sender in that session is unfinished."""
        ...

    async def dream_pending(self, workspace_id: str, payload: dict[str, Any]) -> bool:
        """True when an unfinished dream job of the workspace has exactly this payload."""
        ...

    async def enqueue_dream(
        self,
        workspace_id: str,
        payload: dict[str, Any],
        now: datetime,
        run_after: datetime | None = None,
    ) -> None:
        """Add one dream job (it runs beside the session queues), due at `run_after` (now)."""
        ...

    async def postpone_dreams(
        self, workspace_id: str, observed_id: str, now: datetime, until: datetime
    ) -> None:
        """Move the pending dreams about that peer that are not due yet to `until`."""
        ...

    async def last_dream(
        self, workspace_id: str, observer_id: str, observed_id: str
    ) -> datetime | None:
        """When the pair's latest dream finished (among the retained jobs), or None."""
        ...

    async def count_conclusions(
        self, workspace_id: str, observer_id: str, observed_id: str, since: datetime | None
    ) -> int:
        """Count the pair's live conclusions (created after `since`, when given)."""
        ...

    async def work_status(self, selection: WorkFilter) -> WorkStatus:
        """Count derivation and dream jobs by state (completed: done and not yet purged)."""
        ...

    async def session(self, workspace_id: str, session_id: str) -> Session | None:
        """Return a session of the workspace by public id (any owner, any state)."""
        ...

    async def nearest_in_workspace(
        self,
        workspace_id: str,
        vector: Any,
        model: str,
        top_k: int,
        session_ids: Sequence[str] | None = None,
    ) -> builtins.list[str]:
        """Public ids of the workspace's live conclusions closest to `vector` (embedded by
        `model`), optionally only those whose provenance is one of `session_ids`."""
        ...

    async def bump_times_derived(self, conclusion_keys: Sequence[int]) -> None:
        """Count one more derivation of each of those conclusions."""
        ...
