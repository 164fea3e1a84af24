"""The agentcore repository: memory resources, their events and their records, over the core
tables (see `agentcore_memories`, `agentcore_events`, `agentcore_records`)."""

from __future__ import annotations

from mindkeeper.storage.repositories.agentcore_events import SqlAgentCoreEvents
from mindkeeper.storage.repositories.agentcore_memories import SqlAgentCoreMemories
from mindkeeper.storage.repositories.agentcore_records import SqlAgentCoreRecords


class SqlAgentCoreRepository(SqlAgentCoreMemories, SqlAgentCoreEvents, SqlAgentCoreRecords):
    """Memory resources, idempotency tokens, events, records and extraction jobs."""
