"""Where background work reports that it finished: the deriver calls `work_unit_finished`
inside the transaction that marks the last job of a work unit done.

A work unit is the derivation work of one sender in one session (Honcho v3's
`representation` / `summary` queue of a session and observed peer). Once none of its jobs is
unfinished, `work_unit_finished` runs with the unit's description, in the same transaction as
the results, so whatever it queues (the `queue.empty` webhook event) is written if and only
if the work was.

`queue.empty` goes out once per observer whose facts were derived (`queue_type`
"representation", observer and observed named) and once when a summary was written
(`queue_type` "summary", observer null), to every webhook endpoint of the workspace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mindkeeper.core.ports import UnitOfWork
from mindkeeper.core.services import webhooks


@dataclass(frozen=True, slots=True)
class WorkUnit:
    """A drained work unit: who was observed where, by whom, and what kind of work ran."""

    workspace_id: str
    session_id: str
    observed_id: str
    observer_ids: tuple[str, ...]
    #: "representation" (facts were derived) and/or "summary" (a summary was written).
    queue_types: tuple[str, ...]


async def work_unit_finished(uow: UnitOfWork, unit: WorkUnit, now: datetime) -> None:
    """Inside the transaction that finished the unit's last job: raise `queue.empty`."""
    workspace = await uow.workspaces.get(unit.workspace_id)
    if workspace is None or not unit.queue_types:
        return
    ids = (unit.observed_id, *unit.observer_ids)
    names = {p.id: p.name for p in await uow.peers.get_many(unit.workspace_id, ids)}
    session_name = await uow.sessions.name_of(unit.workspace_id, unit.session_id)
    observed = names.get(unit.observed_id)
    events: list[tuple[str, str | None]] = []
    if "representation" in unit.queue_types:
        events += [(webhooks.REPRESENTATION, names.get(o)) for o in unit.observer_ids]
    if "summary" in unit.queue_types:
        events.append((webhooks.SUMMARY, None))
    for queue_type, observer in events:
        await webhooks.emit_queue_empty(
            uow,
            unit.workspace_id,
            workspace_name=workspace.name,
            queue_type=queue_type,
            session_name=session_name,
            observer=observer,
            observed=observed,
            now=now,
        )
