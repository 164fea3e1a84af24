"""Use cases of the job queue: enqueue with the messages, claim, renew, fail, release, report.

Enqueueing happens inside the transaction that appends the messages (`messages.create_many`),
so a message is never stored without its job, nor a job without its message. Failures go back
to pending with exponential backoff until `max_attempts`, then to the dead letters, which
`retry_dead` puts back. The backlog report says whether the queue is stalled: unfinished jobs
older than `stall_after` while nothing was claimed or finished for as long.
"""

from __future__ import annotations

import os
import random
import secrets
import socket
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mindkeeper.core.entities import Message, Session
from mindkeeper.core.ports import Runtime, UnitOfWork
from mindkeeper.core.ports.jobs import DeriverPolicy, Job, QueueCounts
from mindkeeper.core.ports.webhooks import DeliveryCounts


def derivation_enabled(session: Session) -> bool:
    """True unless the session's metadata sets `deriver_disabled` to anything but null/false."""
    flag = session.metadata.get("deriver_disabled")
    return flag is None or flag is False


async def enqueue_derivations(
    uow: UnitOfWork, session: Session, messages: Sequence[Message], now: datetime
) -> int:
    """Inside the messages' transaction: queue one derivation job per message."""
    if not messages or not derivation_enabled(session):
        return 0
    return await uow.jobs.enqueue(session, messages, now)


def worker_owner(slot: int | str = 0) -> str:
    """A name for a claimer: host, process and slot."""
    return f"{socket.gethostname()}:{os.getpid()}:{slot}"


def deriver_unavailable_reason(runtime: Runtime) -> str | None:
    """Why this process cannot run derivation jobs, or None when it can."""
    if runtime.models.deriver is None and runtime.models.summary is None:
        return (
            "the deriver has no chat model: set MINDKEEPER_CHAT_MODEL "
            "(or MINDKEEPER_DERIVER_MODEL); jobs wait until one is configured"
        )
    if runtime.models.deriver is not None and runtime.embedder is None:
        return (
            "the deriver needs an embedder to store facts: MINDKEEPER_EMBEDDER is 'none'; "
            "jobs wait until one is configured"
        )
    return None


def retry_delay(attempts: int, policy: DeriverPolicy) -> timedelta:
    """Backoff before the next attempt after `attempts` failed ones (with jitter)."""
    base = policy.retry_base.total_seconds() * (2 ** max(0, attempts - 1))
    seconds = min(policy.retry_max.total_seconds(), base) * random.uniform(0.8, 1.0)
    return timedelta(seconds=seconds)


async def claim(runtime: Runtime, owner: str, kinds: Sequence[str] | None = None) -> Job | None:
    """Lease the next due job (of those kinds, when given) to `owner`, or None."""
    now = runtime.now()
    token = secrets.token_hex(16)
    async with runtime.uow() as uow:
        job = await uow.jobs.claim(owner, token, now, now + runtime.deriver_policy.lease, kinds)
        await uow.commit()
    return job


async def attach(runtime: Runtime, job: Job, owner: str) -> list[Job]:
    """Put the work unit of a claimed derivation job under its lease (the sender's next
    pending messages of the session, up to the policy's batch size); return those jobs."""
    assert job.lease_token is not None
    policy = runtime.deriver_policy
    now = runtime.now()
    async with runtime.uow() as uow:
        unit = await uow.jobs.attach(
            job, owner, now, now + policy.lease, policy.batch_max_messages, policy.batch_max_tokens
        )
        await uow.commit()
    return unit


async def renew(runtime: Runtime, job: Job) -> bool:
    """Extend the lease of a job in hand; False when another worker has taken it over."""
    assert job.lease_token is not None
    async with runtime.uow() as uow:
        ours = await uow.jobs.renew(
            job.key, job.lease_token, runtime.now() + runtime.deriver_policy.lease
        )
        await uow.commit()
    return ours


async def fail(runtime: Runtime, job: Job, error: str) -> bool:
    """Record a failed attempt: retry later, or dead-letter after `max_attempts`. True if dead."""
    assert job.lease_token is not None
    policy = runtime.deriver_policy
    now = runtime.now()
    dead = job.attempts >= policy.max_attempts
    run_after = now if dead else now + retry_delay(job.attempts, policy)
    async with runtime.uow() as uow:
        await uow.jobs.fail(job.key, job.lease_token, error, now, run_after, dead)
        await uow.commit()
    return dead


async def release(runtime: Runtime, job: Job) -> None:
    """Hand an unfinished job back (shutdown): pending again, the attempt not counted."""
    assert job.lease_token is not None
    async with runtime.uow() as uow:
        await uow.jobs.release(job.key, job.lease_token, runtime.now())
        await uow.commit()


async def retry_dead(runtime: Runtime, session_id: str | None = None) -> int:
    """Give dead letters (of one session, or all) fresh attempts; return how many."""
    async with runtime.uow() as uow:
        count = await uow.jobs.retry_dead(session_id, runtime.now())
        await uow.commit()
    return count


async def purge_done(runtime: Runtime) -> int:
    """Delete done jobs older than the retention period; return how many."""
    async with runtime.uow() as uow:
        count = await uow.jobs.purge_done(runtime.now() - runtime.deriver_policy.done_retention)
        await uow.commit()
    return count


@dataclass(frozen=True, slots=True)
class Stall:
    """Whether the queue is stalled, and why."""

    stalled: bool
    reason: str | None = None


def assess(
    runtime: Runtime,
    now: datetime,
    waiting: int | None,
    oldest: datetime | None,
    last_progress: datetime | None,
    last_error: str | None,
) -> Stall:
    """Decide whether unfinished jobs have waited too long without any progress."""
    if oldest is None:
        return Stall(False)
    if runtime.worker_enabled and deriver_unavailable_reason(runtime) is not None:
        return Stall(False, deriver_unavailable_reason(runtime))
    limit = runtime.deriver_policy.stall_after
    age = now - oldest
    idle = now - last_progress if last_progress is not None else age
    if age <= limit or idle <= limit:
        return Stall(False)
    what = "deriver jobs are" if waiting is None else f"{waiting} deriver job(s)"
    reason = (
        f"{what} waiting, the oldest for {int(age.total_seconds())} s, "
        f"and no job was claimed or finished for {int(idle.total_seconds())} s"
    )
    if last_error:
        reason += f"; last error: {last_error[:300]}"
    return Stall(True, reason)


async def stall(runtime: Runtime) -> Stall:
    """The readiness probe's view of the queue (cheap: a few indexed reads)."""
    async with runtime.uow(write=False) as uow:
        oldest, progress, last_error = await uow.jobs.progress(None)
    return assess(runtime, runtime.now(), None, oldest, progress, last_error)


def _age(now: datetime, at: datetime | None) -> float | None:
    return None if at is None else round(max(0.0, (now - at).total_seconds()), 3)


@dataclass(frozen=True, slots=True)
class QueueReport:
    """The backlog as the status endpoint and `mindkeeper queue` show it."""

    counts: QueueCounts
    stall: Stall
    now: datetime
    deriver: dict[str, Any]
    usage: dict[str, dict[str, float | int]]
    webhooks: DeliveryCounts = field(default_factory=DeliveryCounts)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        c = self.counts
        return {
            "pending": c.pending,
            "running": c.running,
            "done": c.done,
            "dead": c.dead,
            "retrying": c.retrying,
            "failed_attempts": c.failed_attempts,
            "oldest_pending_age_seconds": _age(self.now, c.oldest_pending_at),
            "last_progress_at": c.last_progress_at.isoformat() if c.last_progress_at else None,
            "last_error": c.last_error,
            "stalled": self.stall.stalled,
            "reason": self.stall.reason,
            "deriver": self.deriver,
            "sessions": [
                {
                    **{k: v for k, v in asdict(s).items() if k != "oldest_pending_at"},
                    "oldest_pending_age_seconds": _age(self.now, s.oldest_pending_at),
                }
                for s in c.sessions
            ],
            "models": self.usage,
            "webhooks": asdict(self.webhooks),
        }


async def report(
    runtime: Runtime, session_id: str | None = None, session_limit: int = 100
) -> QueueReport:
    """Return the backlog: counts, ages, failures, dead letters, per session."""
    async with runtime.uow(write=False) as uow:
        counts = await uow.jobs.counts(session_id, session_limit)
        deliveries = await uow.webhooks.delivery_counts()
    now = runtime.now()
    verdict = assess(
        runtime,
        now,
        counts.pending + counts.running,
        counts.oldest_pending_at,
        counts.last_progress_at,
        counts.last_error,
    )
    models = runtime.models
    deriver = {
        "worker_in_this_process": runtime.worker_enabled,
        "deriver_model": models.deriver.model_id if models.deriver else None,
        "summary_model": models.summary.model_id if models.summary else None,
        "dialectic_model": models.dialectic.model_id if models.dialectic else None,
        "embedder": runtime.embedder.model_id if runtime.embedder else None,
        "unavailable": deriver_unavailable_reason(runtime),
    }
    return QueueReport(counts, verdict, now, deriver, runtime.usage.snapshot(), deliveries)
