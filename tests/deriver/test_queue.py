"""The job queue on both databases: enqueue with the messages, per-session order, leases,
retries, dead letters and the backlog report."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mindkeeper.bootstrap import AppRuntime, build_runtime
from mindkeeper.core.entities import Session
from mindkeeper.core.ports import NewMessage
from mindkeeper.core.ports.jobs import JobStatus
from mindkeeper.core.services import messages, peers, queue, sessions, workspaces
from mindkeeper.errors import NotFound
from tests.conftest import make_settings


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def runtime(database_url: str, clock: Clock) -> AsyncIterator[AppRuntime]:
    settings = make_settings(
        database_url,
        embedder="none",
        deriver_lease_seconds=60,
        deriver_max_attempts=3,
        deriver_retry_base_seconds=10,
        deriver_retry_max_seconds=100,
        deriver_stall_seconds=300,
        worker_enabled=False,
    )
    rt = build_runtime(settings, embedder=None, clock=clock, chat_model=None)
    yield rt
    await rt.close()


@dataclass
class World:
    workspace: str
    peer: str


async def _world(rt: AppRuntime) -> World:
    ws = await workspaces.create(rt.uow(), "app", {})
    peer = await peers.create(rt.uow(), ws.id, "user", {})
    return World(ws.id, peer.id)


async def _session(rt: AppRuntime, w: World, metadata: dict[str, Any] | None = None) -> Session:
    return await sessions.create(rt.uow(), w.workspace, w.peer, metadata or {})


async def _post(rt: AppRuntime, w: World, s: Session, n: int, clock: Clock) -> list[str]:
    batch = [NewMessage(f"message {i}", i % 2 == 0, {}) for i in range(n)]
    created = await messages.create_many(rt.uow(), w.workspace, w.peer, s.id, batch, clock)
    return [m.id for m in created]


async def _counts(rt: AppRuntime, session_id: str | None = None) -> Any:
    async with rt.uow(write=False) as uow:
        return await uow.jobs.counts(session_id, 100)


async def test_messages_enqueue_jobs_in_their_transaction(
    runtime: AppRuntime, clock: Clock
) -> None:
    w = await _world(runtime)
    s = await _session(runtime, w)
    ids = await _post(runtime, w, s, 3, clock)
    counts = await _counts(runtime)
    assert (counts.pending, counts.running, counts.done, counts.dead) == (3, 0, 0, 0)
    assert [b.session_id for b in counts.sessions] == [s.id]
    job = await queue.claim(runtime, "w1")
    assert job is not None and job.message_id == ids[0] and job.attempts == 1
    # A failed message insert (unknown session) enqueues nothing.
    with pytest.raises(NotFound):
        await messages.create_many(
            runtime.uow(), w.workspace, w.peer, "missing-session-id-xx", [NewMessage("x", True, {})]
        )
    assert (await _counts(runtime)).pending == 2


@pytest.mark.parametrize(
    ("flag", "enqueued"),
    [(None, True), (False, True), (True, False), ("false", False), (0, False), ({}, False)],
)
async def test_deriver_disabled_any_value_but_null_or_false(
    runtime: AppRuntime, clock: Clock, flag: Any, enqueued: bool
) -> None:
    w = await _world(runtime)
    s = await _session(runtime, w, {"deriver_disabled": flag})
    await _post(runtime, w, s, 2, clock)
    assert (await _counts(runtime)).pending == (2 if enqueued else 0)


async def test_cloned_messages_are_not_enqueued(runtime: AppRuntime, clock: Clock) -> None:
    w = await _world(runtime)
    s = await _session(runtime, w)
    await _post(runtime, w, s, 2, clock)
    clone = await sessions.clone(runtime.uow(), w.workspace, w.peer, s.id)
    counts = await _counts(runtime)
    assert counts.pending == 2
    assert (await _counts(runtime, clone.id)).pending == 0


async def test_one_job_per_session_in_flight_in_order(runtime: AppRuntime, clock: Clock) -> None:
    w = await _world(runtime)
    a, b = await _session(runtime, w), await _session(runtime, w)
    a_ids = await _post(runtime, w, a, 3, clock)
    b_ids = await _post(runtime, w, b, 2, clock)
    first = await queue.claim(runtime, "w1")
    second = await queue.claim(runtime, "w2")
    assert first is not None and second is not None
    assert (first.message_id, second.message_id) == (a_ids[0], b_ids[0])
    assert await queue.claim(runtime, "w3") is None  # both heads are in flight
    async with runtime.uow() as uow:
        assert first.lease_token is not None
        assert await uow.jobs.complete(first.key, first.lease_token, clock())
        await uow.commit()
    third = await queue.claim(runtime, "w1")
    assert third is not None and third.message_id == a_ids[1]


async def test_expired_lease_is_claimed_again_and_the_old_token_writes_nothing(
    runtime: AppRuntime, clock: Clock
) -> None:
    w = await _world(runtime)
    s = await _session(runtime, w)
    await _post(runtime, w, s, 2, clock)
    job = await queue.claim(runtime, "dead-worker")
    assert job is not None and job.lease_token is not None
    assert await queue.claim(runtime, "w2") is None
    clock.advance(61)  # the lease (60 s) ran out: the worker is presumed dead
    again = await queue.claim(runtime, "w2")
    assert again is not None and again.key == job.key and again.attempts == 2
    assert again.lease_token != job.lease_token
    async with runtime.uow() as uow:
        assert not await uow.jobs.renew(job.key, job.lease_token, clock())
        assert not await uow.jobs.complete(job.key, job.lease_token, clock())
        assert await uow.jobs.complete(again.key, again.lease_token or "", clock())
        await uow.commit()
    counts = await _counts(runtime)
    assert (counts.done, counts.pending, counts.failed_attempts) == (1, 1, 1)


async def test_renewed_lease_is_not_taken_over(runtime: AppRuntime, clock: Clock) -> None:
    w = await _world(runtime)
    s = await _session(runtime, w)
    await _post(runtime, w, s, 1, clock)
    job = await queue.claim(runtime, "w1")
    assert job is not None
    clock.advance(50)
    assert await queue.renew(runtime, job)
    clock.advance(50)  # 100 s after the claim, 50 s after the renewal
    assert await queue.claim(runtime, "w2") is None


async def test_failures_back_off_then_dead_letter_then_retry(
    runtime: AppRuntime, clock: Clock
) -> None:
    w = await _world(runtime)
    s = await _session(runtime, w)
    await _post(runtime, w, s, 2, clock)
    for attempt in (1, 2):
        job = await queue.claim(runtime, "w1")
        assert job is not None and job.attempts == attempt
        assert not await queue.fail(runtime, job, f"boom {attempt}")
        counts = await _counts(runtime)
        assert (counts.retrying, counts.last_error) == (1, f"boom {attempt}")
        assert await queue.claim(runtime, "w1") is None  # backing off; the session waits
        clock.advance(100)
    job = await queue.claim(runtime, "w1")
    assert job is not None and job.attempts == 3
    assert await queue.fail(runtime, job, "boom 3")  # max_attempts reached: dead
    counts = await _counts(runtime)
    assert (counts.dead, counts.pending, counts.failed_attempts) == (1, 1, 3)
    assert counts.sessions[0].dead == 1
    nxt = await queue.claim(runtime, "w1")  # the dead letter no longer blocks its session
    assert nxt is not None and nxt.key != job.key
    assert await queue.retry_dead(runtime) == 1
    counts = await _counts(runtime)
    assert (counts.dead, counts.pending, counts.running) == (0, 1, 1)


async def test_release_hands_back_without_counting(runtime: AppRuntime, clock: Clock) -> None:
    w = await _world(runtime)
    s = await _session(runtime, w)
    await _post(runtime, w, s, 1, clock)
    job = await queue.claim(runtime, "w1")
    assert job is not None
    await queue.release(runtime, job)
    again = await queue.claim(runtime, "w2")
    assert again is not None and again.key == job.key and again.attempts == 1


async def test_stall_is_reported_after_no_progress(runtime: AppRuntime, clock: Clock) -> None:
    w = await _world(runtime)
    s = await _session(runtime, w)
    await _post(runtime, w, s, 2, clock)
    assert not (await queue.stall(runtime)).stalled
    clock.advance(301)
    stall = await queue.stall(runtime)
    assert stall.stalled and stall.reason
    assert "the oldest for 301 s" in stall.reason and "no job was claimed" in stall.reason
    job = await queue.claim(runtime, "w1")  # a claim is progress
    assert job is not None and not (await queue.stall(runtime)).stalled
    report = (await queue.report(runtime)).as_dict()
    assert report["running"] == 1 and report["oldest_pending_age_seconds"] == pytest.approx(301)
    assert report["sessions"][0]["session_id"] == s.id


async def test_purge_removes_old_done_jobs_only(runtime: AppRuntime, clock: Clock) -> None:
    w = await _world(runtime)
    s = await _session(runtime, w)
    await _post(runtime, w, s, 2, clock)
    job = await queue.claim(runtime, "w1")
    assert job is not None and job.lease_token is not None
    async with runtime.uow() as uow:
        await uow.jobs.complete(job.key, job.lease_token, clock())
        await uow.commit()
    clock.advance(8 * 24 * 3600)
    assert await queue.purge_done(runtime) == 1
    counts = await _counts(runtime)
    assert (counts.done, counts.pending) == (0, 1)


def test_job_status_values() -> None:
    assert [s.value for s in JobStatus] == ["pending", "running", "done", "dead"]
