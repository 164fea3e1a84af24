"""Session lifecycle: ENDED refuses writes, ACTIVE refuses delete, idle expiry, purge."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import func, select

from mindkeeper.storage.tables.agents import (
    agent_session_tags,
    agent_sessions,
    invocation_steps,
    invocations,
)
from mindkeeper.worker.maintenance import purge_expired_sessions
from tests.bedrock.support import (
    ManualClock,
    fetch_all,
    make_client,
    new_invocation,
    new_session,
    own_runtime,
    put_text,
    raises_aws,
    session_arn,
)
from tests.conftest import LiveServer

DAY = 24 * 3600


def _refused_writes(client: Any, sid: str, iid: str) -> list[Any]:
    return [
        lambda: client.create_invocation(sessionIdentifier=sid),
        lambda: put_text(client, sid, iid, "late"),
        lambda: client.update_session(sessionIdentifier=sid, sessionMetadata={"a": "b"}),
    ]


async def _count(server: LiveServer, table: Any) -> int:
    [(count,)] = await fetch_all(server, select(func.count()).select_from(table))
    return int(count)


async def _stored_status(server: LiveServer, session_id: str) -> str:
    stmt = select(agent_sessions.c.status).where(agent_sessions.c.public_id == session_id)
    [(status,)] = await fetch_all(server, stmt)
    return str(status)


async def _purge(server: LiveServer, clock: ManualClock) -> int:
    async with own_runtime(server, clock) as runtime:
        return await purge_expired_sessions(runtime)


def test_writes_to_an_ended_session_are_conflicts_but_reads_work(client: Any) -> None:
    sid = new_session(client, sessionMetadata={"m": "1"})
    iid = new_invocation(client, sid)
    step = put_text(client, sid, iid, "before")
    client.end_session(sessionIdentifier=sid)
    for write in _refused_writes(client, sid, iid):
        with raises_aws("ConflictException", 409, match="ENDED"):
            write()
    got = client.get_invocation_step(
        sessionIdentifier=sid, invocationIdentifier=iid, invocationStepId=step
    )
    assert got["invocationStep"]["payload"] == {"contentBlocks": [{"text": "before"}]}
    assert client.get_session(sessionIdentifier=sid)["sessionMetadata"] == {"m": "1"}
    assert len(client.list_invocations(sessionIdentifier=sid)["invocationSummaries"]) == 1
    # Tags stay editable on ended sessions.
    client.tag_resource(resourceArn=session_arn(sid), tags={"state": "archived"})
    assert client.list_tags_for_resource(resourceArn=session_arn(sid))["tags"] == {
        "state": "archived"
    }


def test_deleting_an_active_session_is_a_conflict(client: Any) -> None:
    sid = new_session(client)
    with raises_aws("ConflictException", 409, match="ACTIVE"):
        client.delete_session(sessionIdentifier=sid)
    assert client.get_session(sessionIdentifier=sid)["sessionStatus"] == "ACTIVE"


async def test_idle_session_expires_lazily_and_the_status_is_persisted(
    clocked: tuple[LiveServer, Any, ManualClock],
) -> None:
    server, client, clock = clocked
    idle = server.settings.bedrock_session_idle_expiry_seconds
    sid = await asyncio.to_thread(new_session, client)
    clock.advance(seconds=idle - 1)
    got = await asyncio.to_thread(client.get_session, sessionIdentifier=sid)
    assert got["sessionStatus"] == "ACTIVE"
    assert await _stored_status(server, sid) == "ACTIVE"
    clock.advance(seconds=1)
    got = await asyncio.to_thread(client.get_session, sessionIdentifier=sid)
    assert got["sessionStatus"] == "EXPIRED"
    assert await _stored_status(server, sid) == "EXPIRED"
    listed = await asyncio.to_thread(client.list_sessions)
    assert [s["sessionStatus"] for s in listed["sessionSummaries"]] == ["EXPIRED"]


async def test_listing_persists_expiry_and_activity_postpones_it(
    clocked: tuple[LiveServer, Any, ManualClock],
) -> None:
    server, client, clock = clocked
    idle = server.settings.bedrock_session_idle_expiry_seconds
    busy, quiet = (
        await asyncio.to_thread(new_session, client),
        await asyncio.to_thread(new_session, client),
    )
    iid = await asyncio.to_thread(new_invocation, client, busy)
    clock.advance(seconds=idle - 10)
    await asyncio.to_thread(put_text, client, busy, iid, "still here")
    clock.advance(seconds=10)
    listed = await asyncio.to_thread(client.list_sessions)
    statuses = {s["sessionId"]: s["sessionStatus"] for s in listed["sessionSummaries"]}
    assert statuses == {busy: "ACTIVE", quiet: "EXPIRED"}
    assert await _stored_status(server, quiet) == "EXPIRED"
    assert await _stored_status(server, busy) == "ACTIVE"


async def test_expired_sessions_refuse_writes_and_end_but_allow_reads_and_delete(
    clocked: tuple[LiveServer, Any, ManualClock],
) -> None:
    server, client, clock = clocked
    sid = await asyncio.to_thread(new_session, client)
    iid = await asyncio.to_thread(new_invocation, client, sid)
    step = await asyncio.to_thread(put_text, client, sid, iid, "kept")
    clock.advance(seconds=server.settings.bedrock_session_idle_expiry_seconds)
    for write in _refused_writes(client, sid, iid):
        with raises_aws("ConflictException", 409, match="EXPIRED"):
            await asyncio.to_thread(write)
    assert await _stored_status(server, sid) == "EXPIRED"  # the refusal persisted it
    with raises_aws("ConflictException", 409, match="EXPIRED"):
        await asyncio.to_thread(client.end_session, sessionIdentifier=sid)
    got = await asyncio.to_thread(
        client.get_invocation_step,
        sessionIdentifier=sid,
        invocationIdentifier=iid,
        invocationStepId=step,
    )
    assert got["invocationStep"]["invocationStepId"] == step
    await asyncio.to_thread(client.delete_session, sessionIdentifier=sid)
    with raises_aws("ResourceNotFoundException", 404):
        await asyncio.to_thread(client.get_session, sessionIdentifier=sid)


async def test_ended_sessions_expire_too(clocked: tuple[LiveServer, Any, ManualClock]) -> None:
    server, client, clock = clocked
    sid = await asyncio.to_thread(new_session, client)
    await asyncio.to_thread(client.end_session, sessionIdentifier=sid)
    clock.advance(seconds=server.settings.bedrock_session_idle_expiry_seconds)
    got = await asyncio.to_thread(client.get_session, sessionIdentifier=sid)
    assert got["sessionStatus"] == "EXPIRED"


async def test_purge_removes_sessions_expired_longer_than_retention_with_children(
    server_factory: Any,
) -> None:
    clock = ManualClock()
    server: LiveServer = server_factory(
        clock=clock,
        bedrock_session_idle_expiry_seconds=DAY,
        bedrock_expired_retention_seconds=2 * DAY,
    )
    client = make_client(server.url)

    def populate() -> str:
        sid = new_session(client, tags={"t": "1"}, sessionMetadata={"m": "1"})
        iid = new_invocation(client, sid)
        put_text(client, sid, iid, "one")
        put_text(client, sid, iid, "two")
        return sid

    old = await asyncio.to_thread(populate)
    clock.advance(seconds=DAY)
    recent = await asyncio.to_thread(populate)  # expires one day after `old`
    assert await _purge(server, clock) == 0
    clock.advance(seconds=2 * DAY - 1)  # old: expired 2 days - 1 s ago
    assert await _purge(server, clock) == 0
    assert await _stored_status(server, old) == "EXPIRED"  # the pass persisted expiry
    clock.advance(seconds=1)
    assert await _purge(server, clock) == 1
    with raises_aws("ResourceNotFoundException", 404):
        await asyncio.to_thread(client.get_session, sessionIdentifier=old)
    got = await asyncio.to_thread(client.get_session, sessionIdentifier=recent)
    assert got["sessionStatus"] == "EXPIRED"
    assert await _count(server, agent_sessions) == 1
    assert await _count(server, invocations) == 1
    assert await _count(server, invocation_steps) == 2
    assert await _count(server, agent_session_tags) == 1
    clock.advance(seconds=DAY)
    assert await _purge(server, clock) == 1
    for table in (agent_sessions, invocations, invocation_steps, agent_session_tags):
        assert await _count(server, table) == 0


async def test_purge_works_in_batches(server_factory: Any) -> None:
    clock = ManualClock()
    server: LiveServer = server_factory(clock=clock, bedrock_expired_retention_seconds=0)
    client = make_client(server.url)
    sessions = server.runtime.agent_policy.purge_batch_size + 5
    await asyncio.to_thread(lambda: [new_session(client) for _ in range(sessions)])
    clock.advance(seconds=server.settings.bedrock_session_idle_expiry_seconds)
    assert await _purge(server, clock) == sessions
    assert await _count(server, agent_sessions) == 0


async def test_maintenance_loop_purges_in_the_background(server_factory: Any) -> None:
    clock = ManualClock()
    server: LiveServer = server_factory(
        clock=clock,
        bedrock_session_idle_expiry_seconds=60,
        bedrock_expired_retention_seconds=0,
        bedrock_maintenance_interval_seconds=0.05,
    )
    client = make_client(server.url)
    sid = await asyncio.to_thread(new_session, client)
    await asyncio.to_thread(client.end_session, sessionIdentifier=sid)
    await asyncio.sleep(0.2)
    assert await _count(server, agent_sessions) == 1
    clock.advance(seconds=60)
    deadline = time.monotonic() + 10
    remaining = await _count(server, agent_sessions)
    while remaining and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        remaining = await _count(server, agent_sessions)
    assert remaining == 0


async def test_worker_disabled_starts_no_maintenance(server_factory: Any) -> None:
    clock = ManualClock()
    server: LiveServer = server_factory(
        clock=clock,
        worker_enabled=False,
        bedrock_session_idle_expiry_seconds=60,
        bedrock_expired_retention_seconds=0,
        bedrock_maintenance_interval_seconds=0.05,
    )
    await asyncio.to_thread(new_session, make_client(server.url))
    clock.advance(seconds=120)
    await asyncio.sleep(0.3)
    assert await _count(server, agent_sessions) == 1
