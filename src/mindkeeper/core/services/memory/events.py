"""Where background work reports that it finished: the deriver calls `work_unit_finished`
inside the transaction that marks the last job of a work unit done.

A work unit is the derivation work of one sender in one session (Honcho v3's
`representation` / `summary` queue of a session and observed peer). Once none of its jobs is
unfinished, `work_unit_finished` runs with the unit's description, in the same transaction as
the results, so whatever it queues (e.g. a `queue.empty` notification) is written if and only
if the work was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mindkeeper.core.ports import UnitOfWork


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
    """Inside the transaction that finished the unit's last job: react to it (no-op today)."""
    return None
