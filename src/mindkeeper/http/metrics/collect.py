"""The metrics and what feeds them.

Per process, written where they happen: requests (by surface, method, route template and
status) with latency histograms, model calls, tokens, cost, retries and errors per model
(a `UsageMeter` listener), embedder latency per model (a timing wrapper around the
embedder), and database pool use (sampled every few seconds). With PROMETHEUS_MULTIPROC_DIR
set these live in per-process files that /metrics adds up.

Per database, read at each scrape by the process that serves it: jobs by state, retrying
jobs, failed attempts, the oldest pending job's age and the database's size. They are not
written to the files, so N workers never report them N times.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any

import numpy as np
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from mindkeeper.core.ports import Embedder, Runtime
from mindkeeper.core.services import operations
from mindkeeper.http.metrics.files import multiprocess_dir

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
SAMPLE_SECONDS = 5.0


class Metrics:
    """Every metric this process writes (created once per process)."""

    def __init__(self) -> None:
        self.requests = Counter(
            "mindkeeper_http_requests_total",
            "HTTP requests by surface, method, route template and status.",
            ["surface", "method", "route", "status"],
        )
        self.latency = Histogram(
            "mindkeeper_http_request_duration_seconds",
            "Time from the request's arrival to the end of its response.",
            ["surface", "method", "route"],
            buckets=LATENCY_BUCKETS,
        )
        self.model_requests = Counter(
            "mindkeeper_model_requests_total", "Successful model calls.", ["model"]
        )
        self.model_tokens = Counter(
            "mindkeeper_model_tokens_total", "Tokens of model calls.", ["model", "direction"]
        )
        self.model_cost = Counter(
            "mindkeeper_model_cost_usd_total", "Cost of model calls (priced models).", ["model"]
        )
        self.model_retries = Counter(
            "mindkeeper_model_retries_total", "Retried model call attempts.", ["model"]
        )
        self.model_errors = Counter(
            "mindkeeper_model_errors_total", "Model calls that failed for good.", ["model"]
        )
        self.embed_latency = Histogram(
            "mindkeeper_embedder_duration_seconds",
            "Time to embed one batch of texts.",
            ["model"],
            buckets=LATENCY_BUCKETS,
        )
        self.embed_texts = Counter("mindkeeper_embedder_texts_total", "Texts embedded.", ["model"])
        self.pool_in_use = Gauge(
            "mindkeeper_db_pool_connections_in_use",
            "Database connections checked out of the pool.",
            multiprocess_mode="livesum",
        )
        self.pool_size = Gauge(
            "mindkeeper_db_pool_size",
            "Connections the pool keeps open.",
            multiprocess_mode="livesum",
        )
        self._children: dict[tuple[str, str, str, int], tuple[Any, Any]] = {}

    def observe_request(
        self, surface: str, method: str, route: str, status: int, seconds: float
    ) -> None:
        """Count one request and its latency (label children are cached: two writes)."""
        key = (surface, method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(surface, method, route, str(status)),
                self.latency.labels(surface, method, route),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)


@cache
def metrics() -> Metrics:
    """The metrics of this process."""
    return Metrics()


class UsageToMetrics:
    """A `UsageListener` that counts model calls into the metrics."""

    def __init__(self, m: Metrics) -> None:
        self.m = m

    def on_request(self, model_id: str, input_tokens: int, output_tokens: int, cost: float) -> None:
        """Count a call, its tokens and cost."""
        self.m.model_requests.labels(model_id).inc()
        self.m.model_tokens.labels(model_id, "input").inc(input_tokens)
        self.m.model_tokens.labels(model_id, "output").inc(output_tokens)
        if cost:
            self.m.model_cost.labels(model_id).inc(cost)

    def on_retry(self, model_id: str) -> None:
        """Count a retry."""
        self.m.model_retries.labels(model_id).inc()

    def on_failure(self, model_id: str) -> None:
        """Count a failure."""
        self.m.model_errors.labels(model_id).inc()


class TimedEmbedder:
    """An embedder that records how long each batch takes."""

    def __init__(self, inner: Embedder, m: Metrics) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self._latency = m.embed_latency.labels(inner.model_id)
        self._texts = m.embed_texts.labels(inner.model_id)

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed and time."""
        started = time.perf_counter()
        try:
            return await self.inner.embed(texts)
        finally:
            self._latency.observe(time.perf_counter() - started)
            self._texts.inc(len(texts))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def instrument(runtime: Runtime) -> None:
    """Feed the runtime's model usage and embedder timings into the metrics."""
    m = metrics()
    if not any(isinstance(x, UsageToMetrics) for x in runtime.usage.listeners):
        runtime.usage.listeners.append(UsageToMetrics(m))
    if runtime.embedder is not None and not isinstance(runtime.embedder, TimedEmbedder):
        runtime.embedder = TimedEmbedder(runtime.embedder, m)


def _pools(runtime: Runtime) -> Iterator[Any]:
    database = getattr(runtime, "database", None)
    inline = getattr(database, "inline", None)
    if inline is not None:
        yield inline.sync_engine.pool
    engine = getattr(database, "engine", None)
    if engine is not None and inline is None:
        yield engine.sync_engine.pool


def sample_pool(runtime: Runtime) -> None:
    """Set the pool gauges of this process."""
    in_use = size = 0
    for pool in _pools(runtime):
        in_use += int(getattr(pool, "checkedout", lambda: 0)())
        size += int(getattr(pool, "size", lambda: 0)())
    m = metrics()
    m.pool_in_use.set(in_use)
    m.pool_size.set(size)


async def sample_forever(runtime: Runtime, stop: asyncio.Event) -> None:
    """Sample the pool gauges until `stop` is set."""
    while not stop.is_set():
        sample_pool(runtime)
        try:
            await asyncio.wait_for(stop.wait(), SAMPLE_SECONDS)
        except TimeoutError:
            pass


class _Snapshot:
    """A collector yielding the database's gauges read for one scrape."""

    def __init__(self, gauges: operations.Gauges) -> None:
        self.gauges = gauges

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The gauges."""
        q, now = self.gauges.queue, self.gauges.now
        jobs = GaugeMetricFamily("mindkeeper_queue_jobs", "Jobs by state.", labels=["state"])
        for state, value in (("pending", q.pending), ("running", q.running), ("dead", q.dead)):
            jobs.add_metric([state], value)
        yield jobs
        yield GaugeMetricFamily(
            "mindkeeper_queue_dead_letters", "Jobs that exhausted their attempts.", value=q.dead
        )
        yield GaugeMetricFamily(
            "mindkeeper_queue_retrying_jobs",
            "Pending jobs that failed before and wait for another attempt.",
            value=q.retrying,
        )
        yield GaugeMetricFamily(
            "mindkeeper_queue_failed_attempts",
            "Failed attempts of unfinished and dead jobs.",
            value=q.failed_attempts,
        )
        age = 0.0 if q.oldest_pending_at is None else (now - q.oldest_pending_at).total_seconds()
        yield GaugeMetricFamily(
            "mindkeeper_queue_oldest_pending_age_seconds",
            "Age of the oldest pending job (0 when none).",
            value=max(0.0, age),
        )
        if self.gauges.database_bytes is not None:
            yield GaugeMetricFamily(
                "mindkeeper_database_size_bytes",
                "Size of the database.",
                value=self.gauges.database_bytes,
            )


async def render(runtime: Runtime) -> bytes:
    """The exposition text: this process's (or every worker's) metrics and the database's."""
    sample_pool(runtime)
    directory = multiprocess_dir()
    if directory is not None:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
        local = generate_latest(registry)
    else:
        local = generate_latest(REGISTRY)
    database = CollectorRegistry()
    database.register(_Snapshot(await operations.gauges(runtime)))
    return local + generate_latest(database)


def retire_process() -> None:
    """Remove this process's live gauges from the shared files (at shutdown)."""
    directory = multiprocess_dir()
    if directory is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid(), directory)  # type: ignore[no-untyped-call]
