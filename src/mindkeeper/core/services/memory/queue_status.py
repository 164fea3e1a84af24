"""Queue status of a workspace (Honcho v3 `GET .../queue/status`).

Counts the workspace's derivation and dream jobs by state: `completed` (done and not yet
purged, and dead letters, whose processing ended), `in_progress` (claimed by a worker, a work
unit attached to a claim included) and `pending`. Filters, by name: `session_id` (one
session), `sender_id` (jobs about that sender's messages, or dreams about that peer) and
`observer_id` (jobs whose observers include that peer, or dreams of that observer); given
together they all apply. Per-session counts are keyed by session name, and left out (`None`)
when a session was named or nothing matched. Dead letters are listed by `GET /queue/status`
and `mindkeeper queue`.
"""

from __future__ import annotations

from dataclasses import dataclass

from mindkeeper.core.ports import UnitOfWork
from mindkeeper.core.ports.work_units import WorkCounts, WorkFilter


@dataclass(frozen=True, slots=True)
class QueueStatus:
    """Counts of the selection and, when listed, per session name."""

    counts: WorkCounts
    sessions: dict[str, WorkCounts] | None


_EMPTY = QueueStatus(WorkCounts(), None)


async def get(
    uow: UnitOfWork,
    workspace: str,
    observer: str | None = None,
    sender: str | None = None,
    session: str | None = None,
) -> QueueStatus:
    """The workspace's queue status (all zeros for an unknown workspace, peer or session)."""
    observer, sender, session = observer or None, sender or None, session or None
    async with uow:
        ws = await uow.workspaces.get_by_name(workspace)
        if ws is None:
            return _EMPTY
        ids: dict[str, str] = {}
        names = [n for n in (observer, sender) if n is not None]
        if names:
            ids = {p.name: p.id for p in await uow.peers.get_many(ws.id, names=names)}
            if any(n not in ids for n in names):
                return _EMPTY
        session_id = None
        if session is not None:
            found = await uow.sessions.get_by_name(ws.id, session)
            if found is None:
                return _EMPTY
            session_id = found.id
        selection = WorkFilter(
            ws.id,
            session_id,
            ids.get(sender) if sender is not None else None,
            ids.get(observer) if observer is not None else None,
        )
        status = await uow.jobs.work_status(selection)
    per_session = status.sessions if session is None and status.sessions else None
    return QueueStatus(status.counts, per_session)
