"""Expiry of memory resources' data: expired events and records removed for good, sessions an
actor left empty for a day dropped from the actor's sessions, old idempotency tokens forgotten.

Each step removes in batches, one transaction per batch, until a batch comes back short.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from mindkeeper.core.ports import Runtime, UnitOfWork

BATCH = 500
#: An actor's session without events disappears from its sessions after this long.
EMPTY_SESSION_AFTER = timedelta(days=1)
#: Idempotency tokens are honoured for this long.
TOKEN_RETENTION = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Purged:
    """What one maintenance pass removed."""

    events: int
    records: int
    sessions: int
    tokens: int

    @property
    def total(self) -> int:
        """Everything removed."""
        return self.events + self.records + self.sessions + self.tokens


async def _drain(runtime: Runtime, step: Callable[[UnitOfWork], Awaitable[int]]) -> int:
    total = 0
    while True:
        async with runtime.uow() as uow:
            removed = await step(uow)
            await uow.commit()
        total += removed
        if removed < BATCH:
            return total


async def purge(runtime: Runtime) -> Purged:
    """Remove what has expired, as of the runtime's clock."""
    now = runtime.now()
    events = await _drain(runtime, lambda uow: uow.agentcore.purge_expired_events(now, BATCH))
    records = await _drain(runtime, lambda uow: uow.agentcore.purge_expired_records(now, BATCH))
    sessions = await _drain(
        runtime, lambda uow: uow.agentcore.purge_empty_sessions(now - EMPTY_SESSION_AFTER, BATCH)
    )
    async with runtime.uow() as uow:
        tokens = await uow.agentcore.purge_requests(now - TOKEN_RETENTION)
        await uow.commit()
    return Purged(events, records, sessions, tokens)
