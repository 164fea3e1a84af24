"""The job queue (claim, lease, ack, backlog) and the reads of the deriver and the reindex.

A claim takes the oldest *head* (the first unfinished job of its session) that is due, so the
jobs of a session run one at a time and in order. On PostgreSQL the candidate row is locked
with `FOR UPDATE SKIP LOCKED` (see `storage/dialects/claims.py`); if another claimer commits
first, the row no longer matches `status = 'pending'` when re-checked under the lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from mindkeeper.core.entities import Message, Session
from mindkeeper.core.ports.jobs import (
    DERIVE,
    Job,
    JobStatus,
    QueueCounts,
    SessionBacklog,
)
from mindkeeper.storage.dialects.claims import lock_for_claim, peer_lock
from mindkeeper.storage.repositories.background_reads import SqlBackgroundReads
from mindkeeper.storage.repositories.work_units import JOB_COLUMNS, SqlWorkUnits, to_job
from mindkeeper.storage.tables import messages as messages_table
from mindkeeper.storage.tables.jobs import ERROR_MAX, jobs
from mindkeeper.storage.types import UTCDateTime

UNFINISHED = (JobStatus.PENDING.value, JobStatus.RUNNING.value)
_J = jobs.alias("j")
_E = jobs.alias("e")
# No earlier unfinished job in the same session: the candidate is its session's head.
_IS_HEAD = ~(
    select(literal(1))
    .where(
        _E.c.session_id == _J.c.session_id,
        _E.c.status.in_(UNFINISHED),
        _E.c.id < _J.c.id,
    )
    .exists()
)


_NOW = bindparam("b_now", type_=UTCDateTime())
# INSERT … SELECT from the messages of this transaction, in their order.
_ENQUEUE = insert(jobs).from_select(
    [
        "kind",
        "status",
        "workspace_id",
        "peer_id",
        "session_id",
        "message_id",
        "attempts",
        "run_after",
        "created_at",
        "updated_at",
    ],
    select(
        bindparam("b_kind", type_=String()),
        bindparam("b_status", type_=String()),
        messages_table.c.workspace_id,
        messages_table.c.peer_id,
        messages_table.c.session_id,
        messages_table.c.public_id,
        literal(0, type_=Integer()),
        _NOW,
        _NOW,
        _NOW,
    )
    .where(
        messages_table.c.session_id == bindparam("b_session"),
        messages_table.c.public_id.in_(bindparam("b_ids", expanding=True)),
    )
    .order_by(messages_table.c.id),
)


def _mine(key: int, token: str) -> Any:
    return and_(
        jobs.c.id == key,
        jobs.c.lease_token == token,
        jobs.c.status == JobStatus.RUNNING.value,
    )


def _lease(token: str) -> Any:
    """Every job held under a lease (a claimed job and the work unit attached to it)."""
    return and_(jobs.c.lease_token == token, jobs.c.status == JobStatus.RUNNING.value)


class SqlJobRepository(SqlWorkUnits, SqlBackgroundReads):
    """SQL job queue (and, inherited, the reads of the deriver and the reindex)."""

    async def enqueue(self, session: Session, messages: Sequence[Message], now: datetime) -> int:
        """Insert one derivation job per message, in message order (one statement).

        The rows are built by the database from the messages just written, so the parameters
        are bound once, not once per row.
        """
        if not messages:
            return 0
        params = {
            "b_kind": DERIVE,
            "b_status": JobStatus.PENDING.value,
            "b_now": now,
            "b_session": session.id,
            "b_ids": [m.id for m in messages],
        }
        await self.conn.execute(_ENQUEUE, params)
        return len(messages)

    async def enqueue_task(
        self, kind: str, workspace_id: str, payload: dict[str, Any], now: datetime
    ) -> None:
        """Insert one job about no message: without a session it is always its own head."""
        await self.conn.execute(
            insert(jobs).values(
                kind=kind,
                status=JobStatus.PENDING.value,
                workspace_id=workspace_id,
                payload=payload,
                attempts=0,
                run_after=now,
                created_at=now,
                updated_at=now,
            )
        )

    async def _candidate(self, now: datetime, kinds: Sequence[str] | None) -> int | None:
        expired = select(_J.c.id).where(
            _J.c.status == JobStatus.RUNNING.value, _J.c.lease_expires_at <= now, _IS_HEAD
        )
        due = select(_J.c.id).where(
            _J.c.status == JobStatus.PENDING.value, _J.c.run_after <= now, _IS_HEAD
        )
        if kinds is not None:
            expired = expired.where(_J.c.kind.in_(kinds))
            due = due.where(_J.c.kind.in_(kinds))
        for stmt in (expired, due):
            stmt = lock_for_claim(self.dialect, stmt.order_by(_J.c.id).limit(1), _J)
            key = (await self.conn.execute(stmt)).scalar()
            if key is not None:
                return int(key)
        return None

    async def claim(
        self,
        owner: str,
        token: str,
        now: datetime,
        lease_until: datetime,
        kinds: Sequence[str] | None = None,
    ) -> Job | None:
        """Lease the oldest due session head (of those kinds, when given) to `owner`."""
        key = await self._candidate(now, kinds)
        if key is None:
            return None
        row = (
            await self.conn.execute(
                update(jobs)
                .where(jobs.c.id == key)
                .values(
                    status=JobStatus.RUNNING.value,
                    attempts=jobs.c.attempts + 1,
                    lease_owner=owner[:128],
                    lease_token=token,
                    lease_expires_at=lease_until,
                    updated_at=now,
                )
                .returning(*JOB_COLUMNS)
            )
        ).one()
        return to_job(row)

    async def _ours(self, key: int, token: str) -> bool:
        stmt = select(jobs.c.id).where(_mine(key, token))
        return (await self.conn.execute(stmt)).first() is not None

    async def renew(self, key: int, token: str, lease_until: datetime) -> bool:
        """Extend our lease (over the attached work unit too)."""
        result = await self.conn.execute(
            update(jobs).where(_mine(key, token)).values(lease_expires_at=lease_until)
        )
        if not result.rowcount:
            return False
        await self.conn.execute(
            update(jobs).where(_lease(token)).values(lease_expires_at=lease_until)
        )
        return True

    async def complete(self, key: int, token: str, now: datetime) -> bool:
        """Mark our job done (with the work unit attached to it)."""
        if not await self._ours(key, token):
            return False
        result = await self.conn.execute(
            update(jobs)
            .where(_lease(token))
            .values(
                status=JobStatus.DONE.value,
                lease_owner=None,
                lease_token=None,
                lease_expires_at=None,
                updated_at=now,
                finished_at=now,
            )
        )
        return bool(result.rowcount)

    async def fail(
        self, key: int, token: str, error: str, now: datetime, run_after: datetime, dead: bool
    ) -> bool:
        """Record a failed attempt of our job."""
        result = await self.conn.execute(
            update(jobs)
            .where(_mine(key, token))
            .values(
                status=JobStatus.DEAD.value if dead else JobStatus.PENDING.value,
                run_after=run_after,
                last_error=error[:ERROR_MAX],
                lease_owner=None,
                lease_token=None,
                lease_expires_at=None,
                updated_at=now,
                finished_at=now if dead else None,
            )
        )
        if result.rowcount:  # the attached work unit goes back as it was
            await self._hand_back(token, now)
        return bool(result.rowcount)

    async def release(self, key: int, token: str, now: datetime) -> bool:
        """Give our unfinished job (and its work unit) back without counting the attempt."""
        if not await self._ours(key, token):
            return False
        await self._hand_back(token, now)
        return True

    async def _hand_back(self, token: str, now: datetime) -> None:
        await self.conn.execute(
            update(jobs)
            .where(_lease(token))
            .values(
                status=JobStatus.PENDING.value,
                attempts=case((jobs.c.attempts > 0, jobs.c.attempts - 1), else_=0),
                run_after=now,
                lease_owner=None,
                lease_token=None,
                lease_expires_at=None,
                updated_at=now,
            )
        )

    async def counts(self, session_id: str | None, session_limit: int) -> QueueCounts:
        """Return the backlog counts, the oldest unfinished job and per-session figures."""
        scope = [] if session_id is None else [jobs.c.session_id == session_id]
        status, attempts = jobs.c.status, jobs.c.attempts
        totals = (
            await self.conn.execute(
                select(
                    status,
                    func.count(),
                    func.sum(
                        case(
                            (status.in_(("done", "running")), attempts - 1),
                            else_=attempts,
                        )
                    ),
                    func.sum(case((and_(status == "pending", attempts > 0), 1), else_=0)),
                )
                .where(*scope)
                .group_by(status)
            )
        ).all()
        by_status = {row[0]: int(row[1]) for row in totals}
        failed = sum(int(row[2] or 0) for row in totals)
        retrying = sum(int(row[3] or 0) for row in totals)
        oldest, progress, last_error = await self.progress(session_id)
        return QueueCounts(
            pending=by_status.get("pending", 0),
            running=by_status.get("running", 0),
            done=by_status.get("done", 0),
            dead=by_status.get("dead", 0),
            retrying=retrying,
            failed_attempts=failed,
            oldest_pending_at=oldest,
            last_progress_at=progress,
            last_error=last_error,
            sessions=await self._sessions(scope, session_limit),
        )

    async def progress(
        self, session_id: str | None = None
    ) -> tuple[datetime | None, datetime | None, str | None]:
        """Return when the oldest unfinished job was queued, the last progress and last error.

        Progress is any claim or finished attempt (enqueueing is not progress).
        """
        scope = [] if session_id is None else [jobs.c.session_id == session_id]
        oldest: datetime | None = None
        for status in UNFINISHED:
            first = (
                await self.conn.execute(
                    select(jobs.c.created_at)
                    .where(jobs.c.status == status, *scope)
                    .order_by(jobs.c.id)
                    .limit(1)
                )
            ).scalar()
            if first is not None and (oldest is None or first < oldest):
                oldest = first
        progress = (
            await self.conn.execute(
                select(jobs.c.updated_at)
                .where(or_(jobs.c.attempts > 0, jobs.c.status.in_(("done", "dead"))), *scope)
                .order_by(jobs.c.updated_at.desc())
                .limit(1)
            )
        ).scalar()
        last_error = (
            await self.conn.execute(
                select(jobs.c.last_error)
                .where(jobs.c.last_error.is_not(None), jobs.c.status != "done", *scope)
                .order_by(jobs.c.updated_at.desc(), jobs.c.id.desc())
                .limit(1)
            )
        ).scalar()
        return oldest, progress, last_error

    async def _sessions(self, scope: list[Any], limit: int) -> list[SessionBacklog]:
        status, attempts = jobs.c.status, jobs.c.attempts

        def n(cond: Any) -> Any:
            return func.sum(case((cond, 1), else_=0))

        rows = (
            await self.conn.execute(
                select(
                    jobs.c.session_id,
                    n(status == "pending"),
                    n(status == "running"),
                    n(status == "dead"),
                    n(and_(status == "pending", attempts > 0)),
                    func.min(case((status.in_(UNFINISHED), jobs.c.created_at), else_=None)),
                )
                .where(status.in_((*UNFINISHED, "dead")), jobs.c.session_id.is_not(None), *scope)
                .group_by(jobs.c.session_id)
                .order_by(func.min(jobs.c.id))
                .limit(limit)
            )
        ).all()
        errors: dict[str, str] = {}
        if rows:
            error_rows = await self.conn.execute(
                select(jobs.c.session_id, jobs.c.last_error)
                .where(
                    jobs.c.session_id.in_([r[0] for r in rows]),
                    status != "done",
                    jobs.c.last_error.is_not(None),
                )
                .order_by(jobs.c.updated_at, jobs.c.id)
            )
            errors = {r[0]: r[1] for r in error_rows}
        return [
            SessionBacklog(
                session_id=r[0],
                pending=int(r[1] or 0),
                running=int(r[2] or 0),
                dead=int(r[3] or 0),
                retrying=int(r[4] or 0),
                oldest_pending_at=_aware(r[5]),
                last_error=errors.get(r[0]),
            )
            for r in rows
        ]

    async def retry_dead(
        self, session_id: str | None, now: datetime, key: int | None = None
    ) -> int:
        """Put dead jobs (of a session, or the one job `key`) back to pending, attempts reset."""
        stmt = update(jobs).where(jobs.c.status == JobStatus.DEAD.value)
        if session_id is not None:
            stmt = stmt.where(jobs.c.session_id == session_id)
        if key is not None:
            stmt = stmt.where(jobs.c.id == key)
        result = await self.conn.execute(
            stmt.values(
                status=JobStatus.PENDING.value,
                attempts=0,
                run_after=now,
                updated_at=now,
                finished_at=None,
            )
        )
        return int(result.rowcount)

    async def purge_done(self, before: datetime) -> int:
        """Delete done jobs finished before `before`."""
        result = await self.conn.execute(
            delete(jobs).where(jobs.c.status == JobStatus.DONE.value, jobs.c.finished_at < before)
        )
        return int(result.rowcount)

    async def lock_peer(self, peer_id: str) -> None:
        """Serialise writers of one peer's memory (PostgreSQL advisory lock)."""
        stmt = peer_lock(self.dialect, peer_id)
        if stmt is not None:
            await self.conn.execute(stmt)


def _aware(value: datetime | None) -> datetime | None:
    """Aggregates may bypass the column type on SQLite: make sure the zone is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
