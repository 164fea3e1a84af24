"""The deriver worker: claim -> run -> ack, with leases, retries and graceful shutdown.

`DeriverWorker.run(stop)` keeps up to `concurrency` jobs in flight (one job slot each). A slot
claims the next due job, runs it while a heartbeat renews its lease every third of the lease
period, and acks it (done, in the transaction that writes its results) or records the failure
(retry with backoff, dead letter after `max_attempts`). If the heartbeat finds the lease taken
over by another worker, the job in hand is abandoned without writing.

When `stop` is set the worker claims nothing more, lets the jobs in hand finish for up to
`shutdown_grace_seconds`, then cancels them and hands them back (pending, attempt not counted).
A worker killed outright (kill -9) hands back nothing: its jobs are claimed again once their
leases expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from mindkeeper.core.ports import Runtime
from mindkeeper.core.ports.agentcore import EXTRACT
from mindkeeper.core.ports.jobs import DERIVE, DREAM, MODEL_FREE_KINDS, Job
from mindkeeper.core.services import deriver, queue, webhooks
from mindkeeper.core.services.agentcore import extraction
from mindkeeper.core.services.conversations import deletions
from mindkeeper.core.services.memory import derivation, dreams, indexing

log = logging.getLogger("mindkeeper.worker")

PURGE_EVERY = timedelta(minutes=10)


class LeaseLost(Exception):
    """Another worker took over the job in hand."""


class DeriverWorker:
    """Runs derivation jobs from the database queue until stopped."""

    def __init__(
        self, runtime: Runtime, *, concurrency: int | None = None, name: str | None = None
    ) -> None:
        self.runtime = runtime
        self.policy = runtime.deriver_policy
        self.concurrency = max(1, concurrency or self.policy.concurrency)
        self.name = name or queue.worker_owner("deriver")
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._next_purge: datetime | None = None
        #: The kinds of job this worker claims (None: every kind).
        self.kinds: tuple[str, ...] | None = None
        self.processed = 0
        self.failed = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set, then shut down gracefully."""
        reason = queue.deriver_unavailable_reason(self.runtime)
        if reason is not None:
            log.warning("deriver jobs wait (other jobs run): %s", reason)
            self.kinds = (*MODEL_FREE_KINDS, *webhooks.KINDS, *indexing.KINDS)
        elif self.runtime.models.deriver is None:  # summaries only: dreams wait for a model
            self.kinds = (*MODEL_FREE_KINDS, *webhooks.KINDS, *indexing.KINDS, DERIVE)
        log.info("deriver worker %s started with %d job slot(s)", self.name, self.concurrency)
        stopper = asyncio.create_task(self._relay(stop))
        try:
            await self._loop(stop)
        finally:
            stopper.cancel()
            await self._shutdown()

    async def _relay(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wake.set()

    async def _loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if len(self._tasks) >= self.concurrency:
                await self._sleep(None)
                continue
            job = await self._claim()
            if job is None:
                await self._purge()
                await self._sleep(self.policy.poll_seconds)
                continue
            task = asyncio.create_task(self._run(job))
            self._tasks.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._wake.set()

    async def _sleep(self, seconds: float | None) -> None:
        """Wait for a slot to free up, for stop, or for `seconds`."""
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    async def _claim(self) -> Job | None:
        try:
            return await queue.claim(self.runtime, f"{self.name}:{len(self._tasks)}", self.kinds)
        except Exception:  # a failed claim (database down) is logged and retried after a poll
            log.exception("claiming a job failed")
            return None

    async def _purge(self) -> None:
        now = self.runtime.now()
        if self._next_purge is not None and now < self._next_purge:
            return
        self._next_purge = now + PURGE_EVERY
        try:
            purged = await queue.purge_done(self.runtime)
        except Exception:  # housekeeping failures never stop the worker
            log.exception("purging finished jobs failed")
            return
        if purged:
            log.info("purged %d finished jobs", purged)

    async def _heartbeat(self, job: Job, work: asyncio.Task[deriver.Outcome]) -> None:
        interval = max(0.05, self.policy.lease.total_seconds() / 3)
        while not work.done():
            await asyncio.sleep(interval)
            try:
                ours = await queue.renew(self.runtime, job)
            except Exception:  # a missed renewal is retried; the lease has slack
                log.exception("renewing the lease of job %d failed", job.key)
                continue
            if not ours:
                log.warning("job %d was taken over by another worker; abandoning it", job.key)
                work.cancel(LeaseLost.__name__)
                return

    async def _process(self, job: Job) -> deriver.Outcome:
        if job.kind == EXTRACT:
            extracted = await extraction.process(self.runtime, job)
            return deriver.Outcome(lost_lease=extracted.lost_lease, skipped=extracted.skipped)
        if job.kind in deletions.KINDS:
            return deriver.Outcome(lost_lease=not await deletions.process(self.runtime, job))
        if job.kind in indexing.KINDS:
            return deriver.Outcome(lost_lease=not await indexing.process(self.runtime, job))
        if job.kind in webhooks.KINDS:
            return deriver.Outcome(lost_lease=not await webhooks.deliver(self.runtime, job))
        if job.kind == DREAM:
            return await dreams.process(self.runtime, job)
        if job.kind == DERIVE and job.payload is not None:  # a work unit of the named surface
            unit = await queue.attach(self.runtime, job, self.name)
            return await derivation.process(self.runtime, [job, *unit])
        return await deriver.process(self.runtime, job)

    async def _run(self, job: Job) -> None:
        work = asyncio.create_task(self._process(job))
        beat = asyncio.create_task(self._heartbeat(job, work))
        try:
            outcome = await asyncio.shield(work)
        except asyncio.CancelledError:
            if work.cancelled() and beat.done():
                return  # the lease was lost: the other worker owns the job now
            work.cancel()
            with contextlib.suppress(BaseException):
                await work
            await self._release(job)
            raise
        except Exception as exc:
            await self._fail(job, exc)
        else:
            if outcome.lost_lease:
                log.warning("job %d finished after its lease was taken over; discarded", job.key)
            else:
                self.processed += 1
                log.debug("job %d done: %s", job.key, outcome)
        finally:
            beat.cancel()

    async def _fail(self, job: Job, exc: Exception) -> None:
        self.failed += 1
        error = f"{type(exc).__name__}: {getattr(exc, 'message', None) or exc}"
        try:
            dead = await queue.fail(self.runtime, job, error)
        except Exception:  # the lease expires and the job is retried anyway
            log.exception("recording the failure of job %d failed", job.key)
            return
        if dead:
            log.error(
                "job %d (message %s) dead after %d attempts: %s",
                job.key,
                job.message_id,
                job.attempts,
                error,
            )
        else:
            log.warning("job %d attempt %d failed: %s", job.key, job.attempts, error)

    async def _release(self, job: Job) -> None:
        try:
            await queue.release(self.runtime, job)
        except Exception:  # the lease expires and the job is claimed again anyway
            log.exception("handing back job %d failed", job.key)

    async def _shutdown(self) -> None:
        if not self._tasks:
            return
        tasks = set(self._tasks)
        _, pending = await asyncio.wait(tasks, timeout=self.policy.shutdown_grace_seconds)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
            log.info("handed back %d unfinished job(s)", len(pending))


async def run_worker(runtime: Runtime, stop: asyncio.Event, concurrency: int | None = None) -> None:
    """Run a deriver worker until `stop` is set (the HTTP app's lifespan and the CLI use this)."""
    await DeriverWorker(runtime, concurrency=concurrency).run(stop)
