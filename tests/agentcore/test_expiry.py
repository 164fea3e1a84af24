"""Expiry on the server's clock: events expire `eventExpiryDuration` days after they were
written (fixed at write time), records after their expiry, and the maintenance pass removes
them for good."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from mindkeeper.core.services.agentcore import maintenance
from mindkeeper.storage.tables import documents, messages, session_peers
from tests.agentcore.support import (
    T0,
    ManualClock,
    control_client,
    data_client,
    new_memory,
    put_event,
    raises_aws,
)
from tests.bedrock.support import fetch_all, own_runtime
from tests.conftest import LiveServer


async def _count(server: LiveServer, table: Any, *where: Any) -> int:
    rows = await fetch_all(server, select(func.count()).select_from(table).where(*where))
    return int(rows[0][0])


async def test_events_expire_and_are_purged(server_factory: Callable[..., LiveServer]) -> None:
    clock = ManualClock()
    server = server_factory(clock=clock, runtime_embedder=None, worker_enabled=False)
    control, data = control_client(server.url), data_client(server.url)
    memory = new_memory(control, eventExpiryDuration=3)
    early = put_event(data, memory)
    control.update_memory(memoryId=memory, eventExpiryDuration=30)
    late = put_event(data, memory, session="session-2")
    clock.advance(days=3)
    listed = data.list_events(memoryId=memory, actorId="actor-1", sessionId="session-1")
    assert listed["events"] == [], "expired exactly at three days"
    with raises_aws("ResourceNotFoundException", 404):
        data.get_event(
            memoryId=memory, actorId="actor-1", sessionId="session-1", eventId=early["eventId"]
        )
    kept = data.list_events(memoryId=memory, actorId="actor-1", sessionId="session-2")
    assert [e["eventId"] for e in kept["events"]] == [late["eventId"]]
    sessions = data.list_sessions(
        memoryId=memory, actorId="actor-1", filter={"eventFilter": "HAS_EVENTS"}
    )
    assert [s["sessionId"] for s in sessions["sessionSummaries"]] == ["session-2"]

    async with own_runtime(server, clock) as runtime:
        purged = await maintenance.purge(runtime)
    assert purged.events == 1
    assert purged.sessions == 1  # the membership of session-1 was older than a day
    assert await _count(server, messages, messages.c.payload.is_not(None)) == 1
    assert await _count(server, session_peers) == 1
    clock.advance(days=30)
    assert data.list_actors(memoryId=memory)["actorSummaries"] == []


async def test_records_expire_and_are_purged(server_factory: Callable[..., LiveServer]) -> None:
    clock = ManualClock()
    server = server_factory(clock=clock, runtime_embedder=None, worker_enabled=False)
    control, data = control_client(server.url), data_client(server.url)
    memory = new_memory(control)
    created = data.batch_create_memory_records(
        memoryId=memory,
        records=[
            {
                "requestIdentifier": "a",
                "namespaces": ["/x/"],
                "content": {"text": "a"},
                "timestamp": T0,
            },
        ],
        recordExpirySpecification={"recordExpiryDurationDays": 31},
    )
    record = created["successfulRecords"][0]["memoryRecordId"]
    data.batch_create_memory_records(
        memoryId=memory,
        records=[
            {
                "requestIdentifier": "b",
                "namespaces": ["/x/"],
                "content": {"text": "b"},
                "timestamp": T0,
            },
        ],
    )
    clock.advance(days=31)
    with raises_aws("ResourceNotFoundException", 404):
        data.get_memory_record(memoryId=memory, memoryRecordId=record)
    listed = data.list_memory_records(memoryId=memory, namespace="/x/")["memoryRecordSummaries"]
    assert [r["content"]["text"] for r in listed] == ["b"]
    found = data.retrieve_memory_records(
        memoryId=memory, namespace="/x/", searchCriteria={"searchQuery": "a b"}
    )["memoryRecordSummaries"]
    assert [r["content"]["text"] for r in found] == ["b"]
    async with own_runtime(server, clock) as runtime:
        assert (await maintenance.purge(runtime)).records == 1
    assert await _count(server, documents) == 1
