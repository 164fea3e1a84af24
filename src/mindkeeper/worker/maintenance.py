"""Periodic maintenance: persist idle agent sessions as EXPIRED and purge those past retention;
remove expired memory-resource events, records and tokens.

`maintenance_loop` runs until its stop event is set; the HTTP app starts it in its lifespan
when `worker_enabled` is on, every `bedrock_maintenance_interval_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from mindkeeper.core.ports import Runtime
from mindkeeper.core.services import agent_sessions
from mindkeeper.core.services.agentcore import maintenance as agentcore_maintenance

log = logging.getLogger("mindkeeper.worker")


async def purge_expired_sessions(runtime: Runtime) -> int:
    """Purge agent sessions expired for longer than the retention period; return how many."""
    return await agent_sessions.purge_expired(runtime)


async def maintenance_loop(runtime: Runtime, interval_seconds: float, stop: asyncio.Event) -> None:
    """Run the maintenance pass now and then every `interval_seconds` until `stop` is set."""
    while not stop.is_set():
        try:
            purged = await purge_expired_sessions(runtime)
            if purged:
                log.info("purged %d expired agent sessions", purged)
            expired = await agentcore_maintenance.purge(runtime)
            if expired.total:
                log.info("purged expired memory data: %s", expired)
        except Exception:  # a failed pass is logged; the next one retries
            log.exception("maintenance pass failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
