"""Ports of background work: the durable job queue and the reads the deriver and reindex need.

Queue semantics (docs/deriver.md):

* a job is `pending`, `running` (claimed, with a lease), `done` or `dead` (dead letter);
* the jobs of one session run strictly in insertion order, one at a time: only the oldest
  unfinished job of a session (its *head*) can be claimed, and only when it is pending and due
  (`run_after` passed) or running with an expired lease (its worker died);
* every state change after a claim names the claim's `lease_token`; a change whose token no
  longer matches (the lease expired and another worker took the job) changes nothing and
  reports False, so the writes that go with it are rolled back.

The repository works inside the unit of work's transaction and never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

import numpy as np

from mindkeeper.core.entities import Message, Note, Session
from mindkeeper.core.ports.work_units import WorkUnitQueue


class JobStatus(StrEnum):
    """Where a job is in its life."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"


#: Derive facts and summaries from one message (a v3 one carries its observers in `payload`,
#: and a worker takes the sender's next messages of the session along: one work unit).
DERIVE = "derive"
#: Consolidate what an observer knows about a peer (payload: observer, observed, dream_type).
DREAM = "dream"
#: Hard-delete a session (payload `session_id`) and what depends on it.
DELETE_SESSION = "delete_session"
#: Hard-delete a workspace and every row of it (the job's own row included).
DELETE_WORKSPACE = "delete_workspace"
#: Kinds that need no model: a worker runs them even when the deriver is unavailable.
MODEL_FREE_KINDS = (DELETE_SESSION, DELETE_WORKSPACE)


@dataclass(frozen=True, slots=True)
class Job:
    """One unit of background work: about one message of a session (derivations), or
    described by its `payload` (the other kinds, whose message fields are empty strings)."""

    key: int
    kind: str
    workspace_id: str
    peer_id: str
    session_id: str
    message_id: str
    status: JobStatus
    attempts: int
    lease_token: str | None
    created_at: datetime
    payload: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class SessionBacklog:
    """The unfinished work of one session."""

    session_id: str
    pending: int
    running: int
    dead: int
    retrying: int
    oldest_pending_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class QueueCounts:
    """Counts and ages over the whole queue (or one session)."""

    pending: int
    running: int
    done: int
    dead: int
    retrying: int
    failed_attempts: int
    oldest_pending_at: datetime | None
    last_progress_at: datetime | None
    last_error: str | None
    sessions: list[SessionBacklog]


@dataclass(frozen=True, slots=True)
class StaleDocument:
    """A document whose vector was made by another embedder (or none)."""

    key: int
    content: str


@dataclass(frozen=True, slots=True)
class DeriverPolicy:
    """Knobs of the queue and the deriver."""

    concurrency: int = 1
    poll_seconds: float = 1.0
    max_attempts: int = 5
    retry_base: timedelta = timedelta(seconds=5)
    retry_max: timedelta = timedelta(minutes=10)
    lease: timedelta = timedelta(minutes=2)
    stall_after: timedelta = timedelta(minutes=10)
    shutdown_grace_seconds: float = 20.0
    done_retention: timedelta = timedelta(days=7)
    short_summary_every: int = 20
    long_summary_every: int = 60
    dedup_distance: float = 0.15
    context_messages: int = 10
    fact_max_tokens: int = 1000
    short_summary_max_tokens: int = 1000
    long_summary_max_tokens: int = 2000
    #: Messages of one sender derived together (one model call), and their token budget.
    batch_max_messages: int = 10
    batch_max_tokens: int = 4000
    #: Dreams can be scheduled (`POST .../schedule_dream`).
    dream_enabled: bool = True
    #: Conclusions a dream reads.
    dream_max_conclusions: int = 200
    #: A dream is scheduled by itself once a pair has this many new conclusions since its
    #: last dream, to run when the observed peer has been idle for `dream_idle`, at most once
    #: per `dream_min_interval` (0 turns automatic dreams off).
    dream_threshold: int = 50
    dream_idle: timedelta = timedelta(hours=1)
    dream_min_interval: timedelta = timedelta(hours=8)


class JobRepository(WorkUnitQueue, Protocol):
    """The job queue, plus the reads the deriver and the re-embedding need."""

    async def enqueue(self, session: Session, messages: Sequence[Message], now: datetime) -> int:
        """Add one derivation job per message, in order; return how many."""
        ...

    async def enqueue_task(
        self, kind: str, workspace_id: str, payload: dict[str, Any], now: datetime
    ) -> None:
        """Add one job that is about no message (it runs beside the session queues)."""
        ...

    async def claim(
        self,
        owner: str,
        token: str,
        now: datetime,
        lease_until: datetime,
        kinds: Sequence[str] | None = None,
    ) -> Job | None:
        """Lease the oldest claimable session head (of those kinds, when given) to `owner`
        (attempts + 1), or None."""
        ...

    async def renew(self, key: int, token: str, lease_until: datetime) -> bool:
        """Extend a lease; False when the claim is no longer ours."""
        ...

    async def complete(self, key: int, token: str, now: datetime) -> bool:
        """Mark the job done; False when the claim is no longer ours."""
        ...

    async def fail(
        self, key: int, token: str, error: str, now: datetime, run_after: datetime, dead: bool
    ) -> bool:
        """Record a failed attempt: pending again after `run_after`, or dead; False if not ours."""
        ...

    async def release(self, key: int, token: str, now: datetime) -> bool:
        """Give an unfinished job back (pending now, attempt not counted); False if not ours."""
        ...

    async def counts(self, session_id: str | None, session_limit: int) -> QueueCounts:
        """Return the backlog, with up to `session_limit` sessions that have unfinished work."""
        ...

    async def progress(
        self, session_id: str | None = None
    ) -> tuple[datetime | None, datetime | None, str | None]:
        """Return (oldest unfinished job's enqueue time, last claim or finish, last error)."""
        ...

    async def retry_dead(
        self, session_id: str | None, now: datetime, key: int | None = None
    ) -> int:
        """Put dead jobs (of a session, or the one job `key`) back to pending with fresh
        attempts; return how many."""
        ...

    async def purge_done(self, before: datetime) -> int:
        """Delete done jobs finished before `before`; return how many."""
        ...

    async def lock_peer(self, peer_id: str) -> None:
        """Serialise writers of one peer's memory until the transaction ends."""
        ...

    async def latest_note(self, session_id: str, label: str) -> tuple[Note, int] | None:
        """Return the session's newest note with that label and its message's key (0 if none)."""
        ...

    async def count_messages(self, session_id: str, after_key: int, up_to_key: int) -> int:
        """Count the session's messages with after_key < key <= up_to_key."""
        ...

    async def messages_window(
        self, session_id: str, after_key: int, up_to_key: int, limit: int
    ) -> list[Message]:
        """Return the last `limit` messages with after_key < key <= up_to_key, oldest first."""
        ...

    async def newest_user_message(self, session_id: str) -> Message | None:
        """Return the session's newest message written by the peer."""
        ...

    async def count_stale_documents(self, model_id: str) -> int:
        """Count documents not embedded by `model_id`."""
        ...

    async def stale_documents(
        self, model_id: str, after_key: int, limit: int
    ) -> list[StaleDocument]:
        """Return the next documents (by key) not embedded by `model_id`."""
        ...

    async def set_embedding(
        self, key: int, vector: np.ndarray, model_id: str, expected_content: str
    ) -> bool:
        """Store a document's new vector unless its content changed meanwhile."""
        ...
