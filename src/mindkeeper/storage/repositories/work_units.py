"""Derivation work units and dreams on the job queue (mixed into `SqlJobRepository`).

See `core/ports/work_units.py`. A v3 derivation job names its sender in `peer_id` and its
observers in `payload["observers"]`; a v1 one has no payload and its observer is the
session's owner (`peer_id`). A dream job names `observer_id` in its payload and, when the
observed peer exists, `peer_id`. A dream queued for later counts as queued from when it is
due (its `created_at` is its `run_after`), so the queue's age and stall checks ignore it
until then.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import and_, func, insert, or_, select, update

from mindkeeper.core.ports.jobs import DERIVE, DREAM, Job, JobStatus
from mindkeeper.core.ports.work_units import NewWork, WorkCounts, WorkFilter, WorkStatus
from mindkeeper.storage.dialects import json_contains, vectors
from mindkeeper.storage.repositories.base import Repository
from mindkeeper.storage.repositories.sessions import to_session
from mindkeeper.storage.tables import documents, messages, sessions
from mindkeeper.storage.tables.jobs import jobs

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement

    from mindkeeper.core.entities import Session

_UNFINISHED = (JobStatus.PENDING.value, JobStatus.RUNNING.value)
_COUNTED_KINDS = (DERIVE, DREAM)
#: Per-message keys of a derivation payload; the others must match across a work unit.
_PER_MESSAGE = frozenset({"summaries"})


def unit_settings(payload: dict[str, Any] | None) -> dict[str, Any] | None:
    """The part of a derivation payload that the jobs of one work unit share."""
    if payload is None:
        return None
    return {k: v for k, v in payload.items() if k not in _PER_MESSAGE}


#: The columns of a `Job` (`to_job`).
JOB_COLUMNS = (
    jobs.c.id,
    jobs.c.kind,
    jobs.c.workspace_id,
    jobs.c.peer_id,
    jobs.c.session_id,
    jobs.c.message_id,
    jobs.c.status,
    jobs.c.attempts,
    jobs.c.lease_token,
    jobs.c.created_at,
    jobs.c.payload,
)


def to_job(row: Any) -> Job:
    """Map a row of `JOB_COLUMNS` to the entity."""
    return Job(
        row.id,
        row.kind,
        row.workspace_id,
        row.peer_id or "",
        row.session_id or "",
        row.message_id or "",
        JobStatus(row.status),
        row.attempts,
        row.lease_token,
        row.created_at,
        row.payload,
    )


class SqlWorkUnits(Repository):
    """SQL work units, dreams and the v3 queue status."""

    async def enqueue_work(
        self, workspace_id: str, session_id: str, items: Sequence[NewWork], now: datetime
    ) -> int:
        """Insert one derivation job per item (one statement)."""
        if not items:
            return 0
        rows = [
            {
                "kind": DERIVE,
                "status": JobStatus.PENDING.value,
                "workspace_id": workspace_id,
                "peer_id": item.sender_id,
                "session_id": session_id,
                "message_id": item.message_id,
                "payload": item.payload,
                "attempts": 0,
                "run_after": now,
                "created_at": now,
                "updated_at": now,
            }
            for item in items
        ]
        await self.conn.execute(insert(jobs), rows)
        return len(rows)

    async def attach(
        self,
        head: Job,
        owner: str,
        now: datetime,
        lease_until: datetime,
        max_messages: int,
        max_tokens: int,
    ) -> builtins.list[Job]:
        """Lease the head's work unit to its owner (see the port)."""
        if head.kind != DERIVE or head.payload is None or max_messages <= 1:
            return []
        c = jobs.c
        tokens = select(messages.c.token_count).where(messages.c.public_id == c.message_id)
        stmt = (
            select(c.id, c.payload, tokens.scalar_subquery().label("tokens"))
            .where(
                c.session_id == head.session_id,
                c.id > head.key,
                c.kind == DERIVE,
                c.peer_id == head.peer_id,
                c.status == JobStatus.PENDING.value,
                c.run_after <= now,
                c.payload.is_not(None),
            )
            .order_by(c.id)
            .limit(max_messages - 1)
        )
        head_tokens = (
            await self.conn.execute(
                select(messages.c.token_count).where(messages.c.public_id == head.message_id)
            )
        ).scalar() or 0
        wanted = unit_settings(head.payload)
        budget = max_tokens - int(head_tokens)
        keys: list[int] = []
        for row in await self.conn.execute(stmt):
            cost = int(row.tokens or 0)
            if unit_settings(row.payload) != wanted or cost > budget:
                break
            budget -= cost
            keys.append(int(row.id))
        if not keys:
            return []
        rows = await self.conn.execute(
            update(jobs)
            .where(c.id.in_(keys), c.status == JobStatus.PENDING.value)
            .values(
                status=JobStatus.RUNNING.value,
                attempts=c.attempts + 1,
                lease_owner=owner[:128],
                lease_token=head.lease_token,
                lease_expires_at=lease_until,
                updated_at=now,
            )
            .returning(*JOB_COLUMNS)
        )
        return sorted((to_job(r) for r in rows), key=lambda j: j.key)

    async def unit_drained(self, session_id: str, sender_id: str) -> bool:
        """No unfinished derivation job of the sender in the session."""
        c = jobs.c
        stmt = (
            select(c.id)
            .where(
                c.session_id == session_id,
                c.peer_id == sender_id,
                c.kind == DERIVE,
                c.status.in_(_UNFINISHED),
            )
            .limit(1)
        )
        return (await self.conn.execute(stmt)).first() is None

    async def dream_pending(self, workspace_id: str, payload: dict[str, Any]) -> bool:
        """An unfinished dream with exactly this payload exists in the workspace."""
        c = jobs.c
        stmt = select(c.payload).where(
            c.workspace_id == workspace_id, c.kind == DREAM, c.status.in_(_UNFINISHED)
        )
        return any(row.payload == payload for row in await self.conn.execute(stmt))

    async def enqueue_dream(
        self,
        workspace_id: str,
        payload: dict[str, Any],
        now: datetime,
        run_after: datetime | None = None,
    ) -> None:
        """Insert one dream job."""
        await self.conn.execute(
            insert(jobs).values(
                kind=DREAM,
                status=JobStatus.PENDING.value,
                workspace_id=workspace_id,
                peer_id=payload.get("observed_id"),
                payload=payload,
                attempts=0,
                run_after=run_after or now,
                created_at=run_after or now,
                updated_at=now,
            )
        )

    async def postpone_dreams(
        self, workspace_id: str, observed_id: str, now: datetime, until: datetime
    ) -> None:
        """Pending dreams about the peer, not due yet, move to `until`."""
        c = jobs.c
        await self.conn.execute(
            update(jobs)
            .where(
                c.workspace_id == workspace_id,
                c.kind == DREAM,
                c.peer_id == observed_id,
                c.status == JobStatus.PENDING.value,
                c.run_after > now,
            )
            .values(run_after=until, created_at=until)
        )

    async def last_dream(
        self, workspace_id: str, observer_id: str, observed_id: str
    ) -> datetime | None:
        """The latest finish of a done dream of the pair."""
        c = jobs.c
        pair = {"observer_id": observer_id, "observed_id": observed_id}
        stmt = (
            select(c.finished_at)
            .where(
                c.workspace_id == workspace_id,
                c.kind == DREAM,
                c.status == JobStatus.DONE.value,
                c.peer_id == observed_id,
                json_contains(self.dialect, c.payload, pair),
            )
            .order_by(c.finished_at.desc())
            .limit(1)
        )
        return (await self.conn.execute(stmt)).scalar()

    async def count_conclusions(
        self, workspace_id: str, observer_id: str, observed_id: str, since: datetime | None
    ) -> int:
        """Live conclusions of the pair (after `since`)."""
        d = documents.c
        stmt = select(func.count()).where(
            d.workspace_id == workspace_id,
            d.peer_id == observer_id,
            d.observed_id == observed_id,
            d.level.is_not(None),
            d.deleted_at.is_(None),
        )
        if since is not None:
            stmt = stmt.where(d.created_at > since)
        return int((await self.conn.execute(stmt)).scalar_one())

    def _selection(self, selection: WorkFilter) -> list[ColumnElement[bool]]:
        c = jobs.c
        where: list[ColumnElement[bool]] = [
            c.workspace_id == selection.workspace_id,
            c.kind.in_(_COUNTED_KINDS),
        ]
        if selection.session_id is not None:
            where.append(c.session_id == selection.session_id)
        if selection.sender_id is not None:
            where.append(c.peer_id == selection.sender_id)
        if selection.observer_id is not None:
            observer = selection.observer_id
            where.append(
                or_(
                    json_contains(self.dialect, c.payload, {"observers": [observer]}),
                    json_contains(self.dialect, c.payload, {"observer_id": observer}),
                    and_(c.payload.is_(None), c.peer_id == observer),
                )
            )
        return where

    async def work_status(self, selection: WorkFilter) -> WorkStatus:
        """Count by state, overall and per session name."""
        c = jobs.c
        where = self._selection(selection)
        overall: dict[str, int] = {}
        for status, count in await self.conn.execute(
            select(c.status, func.count()).where(*where).group_by(c.status)
        ):
            overall[status] = int(count)
        per_session: dict[str, dict[str, int]] = {}
        stmt = (
            select(sessions.c.name, c.status, func.count())
            .select_from(jobs.join(sessions, sessions.c.public_id == c.session_id))
            .where(*where)
            .group_by(sessions.c.name, c.status)
        )
        for name, status, count in await self.conn.execute(stmt):
            per_session.setdefault(name, {})[status] = int(count)
        return WorkStatus(
            _counts(overall), {name: _counts(by) for name, by in sorted(per_session.items())}
        )

    async def session(self, workspace_id: str, session_id: str) -> Session | None:
        """A session of the workspace by public id."""
        stmt = select(sessions).where(
            sessions.c.workspace_id == workspace_id, sessions.c.public_id == session_id
        )
        return await self.first(stmt, to_session)

    async def nearest_in_workspace(
        self,
        workspace_id: str,
        vector: Any,
        model: str,
        top_k: int,
        session_ids: Sequence[str] | None = None,
    ) -> builtins.list[str]:
        """The workspace's closest live conclusions (exact search)."""
        d = documents.c
        query = np.asarray(vector, dtype=np.float32)
        dim = int(query.shape[0])
        base = select(d.id).where(
            d.workspace_id == workspace_id,
            d.level.is_not(None),
            d.deleted_at.is_(None),
            d.embedding_model == model,
            d.embedding_dim == dim,
        )
        if session_ids is not None:
            base = base.where(d.session_id.in_(list(session_ids)))
        if top_k <= 0:
            return []
        if self.dialect == "postgresql":
            distance = vectors.cosine_distance(d.embedding, query, dim, False)
            stmt = base.with_only_columns(d.public_id).order_by(distance, d.id).limit(top_k)
            return [str(r[0]) for r in await self.conn.execute(stmt)]
        keys = await vectors.sqlite_nearest_keys(self.conn, base, documents, query, top_k, None)
        if not keys:
            return []
        rows = await self.conn.execute(select(d.id, d.public_id).where(d.id.in_(keys)))
        ids = {int(r[0]): str(r[1]) for r in rows}
        return [ids[k] for k in keys if k in ids]

    async def bump_times_derived(self, conclusion_keys: Sequence[int]) -> None:
        """times_derived + 1 for each conclusion."""
        if conclusion_keys:
            await self.conn.execute(
                update(documents)
                .where(documents.c.id.in_(list(conclusion_keys)))
                .values(times_derived=documents.c.times_derived + 1)
            )


def _counts(by_status: dict[str, int]) -> WorkCounts:
    pending = by_status.get(JobStatus.PENDING.value, 0)
    running = by_status.get(JobStatus.RUNNING.value, 0)
    done = by_status.get(JobStatus.DONE.value, 0)
    dead = by_status.get(JobStatus.DEAD.value, 0)
    return WorkCounts(
        total=pending + running + done + dead,
        completed=done + dead,
        in_progress=running,
        pending=pending,
        dead=dead,
    )
