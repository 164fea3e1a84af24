"""Benchmark of the Honcho v3 surface, and of the v1 surface before and after it.

    python bench/bench_v3.py                       # both backends, small sizes (a few minutes)
    python bench/bench_v3.py --full                # 100k rows, a session of 10k messages
    python bench/bench_v3.py --backends sqlite --parts write,context --duration 3

Every figure is measured over HTTP against `mindkeeper serve` processes, on SQLite (a file in
a temporary directory) and on an embedded PostgreSQL with pgvector. The v3 servers run this
tree with the packaged local embedder and no worker (`MINDKEEPER_WORKER_ENABLED=false`), so
what is measured is the request path. Parts (`--parts`):

* write: `POST .../sessions/{id}/messages` on a fresh database, 32 sessions: batches of 100
  (messages/s) and single messages (requests/s), at concurrency 1 and 16. Each request also
  queues its messages' derivation and one `embed` job, which wait (no worker);
* context: `GET .../sessions/{id}/context` p50/p99 on a session of `--context-messages`
  messages, with the default budget (100,000 tokens) and with `--small-budget` tokens;
* search: session search (hybrid, `limit` 10) on that session and on a smaller one, workspace
  search, and `conclusions/query` (`top_k` 10) over `--rows` conclusions of one
  observer/observed pair, with `--rows` messages in the workspace (the context session's
  included). Messages are written over HTTP in batches of 100. Their vectors are written by
  the `embed` jobs those requests queued, run in this process with the worker's code
  (`queue.claim` + `indexing.process`); the conclusions are created in batches of 100 through
  `conclusions.create`. Texts are drawn from a pool of `--unique-texts` sentences embedded once
  with the packaged int8 model, and the jobs and conclusions reuse those vectors (its
  activations are quantised per token, so a text's vector does not depend on its batch):
  loading costs database writes, not model calls. Each search request embeds its query with
  the server's model;
* v1: create message and get session (bench_honcho.py's requests) at `--v1-concurrency`,
  interleaved A/B between `--before` (a git revision, checked out in a temporary worktree, or
  the `src` directory given by `--before-src`) and this tree. Each build serves its own
  database, which its own code migrates when it starts, with `MINDKEEPER_EMBEDDER=none` as in
  bench_honcho.py; the same virtual environment runs both. Prints req/s per slot, the ratio
  after / before per round and the median.

The load average is printed before and after each part: the figures depend on what else the
machine runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_deriver import new_pg_database, settings_for  # noqa: E402
from bench_honcho import JSON, setup  # noqa: E402
from bench_openapi import v1_slot  # noqa: E402
from bench_v3_search import QUESTIONS, sentence  # noqa: E402
from common import (  # noqa: E402
    Result,
    ServerProcess,
    Slot,
    check,
    cpu_seconds,
    embedded_postgres,
    interleave,
    load_average,
    print_table,
    run_load,
    serve,
)

from mindkeeper.bootstrap import AppRuntime, build_embedder, build_runtime  # noqa: E402
from mindkeeper.core.ports import Embedder  # noqa: E402
from mindkeeper.core.services import queue  # noqa: E402
from mindkeeper.core.services.memory import conclusions, indexing  # noqa: E402
from mindkeeper.core.services.memory.conclusions import ConclusionInput  # noqa: E402

WORKSPACE = "bench"
CONTEXT_SESSION = "ctx"
#: Sessions that hold the messages beyond the context session's.
OTHER_SESSIONS = 99
BATCH = 100
SENDERS = ("alice", "bob")
V1_VARIANTS = ("after", "before")
V1_SCENARIOS = ("create message", "get session")


@dataclass(frozen=True)
class Sizes:
    """How much each part writes and how long each measurement runs."""

    rows: int
    context_messages: int
    small_budget: int
    unique_texts: int
    duration: float
    latency_concurrency: list[int]
    write_concurrency: list[int]
    rounds: int
    v1_duration: float
    v1_concurrency: int
    seed_concurrency: int


class MemoEmbedder:
    """The packaged embedder, computing each distinct text once."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.memo: dict[str, np.ndarray] = {}

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of `texts`; only texts never seen before reach the model."""
        missing = list(dict.fromkeys(t for t in texts if t not in self.memo))
        for start in range(0, len(missing), 256):
            chunk = missing[start : start + 256]
            self.memo.update(zip(chunk, await self.inner.embed(chunk), strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.memo[t] for t in texts])


def tree_state() -> str:
    """This tree's commit and how many tracked files differ from it."""
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    return f"HEAD {head}" + (f" with {len(changed)} modified tracked files" if changed else "")


def loadavg(label: str) -> None:
    """Print the load average under a label."""
    print(f"\n[{label}] {load_average()}", flush=True)


# --- databases ------------------------------------------------------------------------------


class Databases:
    """Fresh databases of one backend: files in a directory, or databases of one cluster."""

    def __init__(self, backend: str, stack: contextlib.ExitStack) -> None:
        self.backend = backend
        if backend == "sqlite":
            self.where = stack.enter_context(tempfile.TemporaryDirectory(prefix="mk-bench-v3-"))
        else:
            self.where = stack.enter_context(embedded_postgres())

    @property
    def name(self) -> str:
        """The backend's display name."""
        return "SQLite" if self.backend == "sqlite" else "PostgreSQL"

    async def new(self, name: str) -> str:
        """The URL of a new, empty database."""
        if self.backend == "sqlite":
            return f"sqlite+aiosqlite:///{self.where}/{name}.db"
        return await new_pg_database(self.where, f"mk_bench_v3_{name}")


def v3_server(url: str) -> contextlib.AbstractContextManager[ServerProcess]:
    """This tree's server with the local embedder and no worker."""
    return serve(url, env={"MINDKEEPER_WORKER_ENABLED": "false"})


@contextlib.asynccontextmanager
async def seeding_runtime(url: str, embedder: MemoEmbedder) -> AsyncIterator[AppRuntime]:
    """A runtime in this process over the server's database, with the memoising embedder."""
    runtime = build_runtime(settings_for(url, worker_enabled=False), embedder=embedder)
    try:
        yield runtime
    finally:
        await runtime.close()


# --- v3 requests ----------------------------------------------------------------------------


def messages_url(base: str, workspace: str, session: str) -> str:
    """The message batch route of a session."""
    return f"{base}/v3/workspaces/{workspace}/sessions/{session}/messages"


def batch_body(texts: Sequence[str], offset: int = 0) -> str:
    """A message batch of `texts`, senders alternating."""
    messages = [
        {"peer_id": SENDERS[(offset + i) % 2], "content": text} for i, text in enumerate(texts)
    ]
    return json.dumps({"messages": messages})


async def post_batch(http: aiohttp.ClientSession, url: str, body: str) -> None:
    """POST a message batch; fail unless 201."""
    async with http.post(url, data=body, headers=JSON) as response:
        await check(response, 201)


# --- write ----------------------------------------------------------------------------------


async def write_part(databases: Databases, sizes: Sizes) -> None:
    """Message creation throughput on a fresh database."""
    url = await databases.new("write")
    with v3_server(url) as server:
        sessions = [messages_url(server.url, "bench-write", f"w{i}") for i in range(32)]
        single = batch_body(["hello there, how are you today?"])
        batch = batch_body([f"batch item {i}" for i in range(BATCH)])
        async with aiohttp.ClientSession() as http:  # create the sessions and senders
            for target in sessions:
                await post_batch(http, target, batch_body(["warm up", "warm up"]))

        async def create_single(http: aiohttp.ClientSession, i: int) -> None:
            await post_batch(http, sessions[i % len(sessions)], single)

        async def create_batch(http: aiohttp.ClientSession, i: int) -> None:
            await post_batch(http, sessions[i % len(sessions)], batch)

        results: list[Result] = []
        for conc in sizes.write_concurrency:
            results.append(
                await run_load("v3 batch of 100", create_batch, conc, sizes.duration, BATCH)
            )
            results.append(await run_load("v3 single message", create_single, conc, sizes.duration))
        print_table(f"{databases.name}: v3 message creation (fresh database, no worker)", results)


# --- seeding --------------------------------------------------------------------------------


def text_pool(count: int) -> list[str]:
    """`count` distinct diary-like sentences."""
    rand = random.Random(7)
    pool: dict[str, None] = {}
    while len(pool) < count:
        pool[sentence(rand)] = None
    return list(pool)


async def seed_messages(base: str, sessions: dict[str, int], pool: list[str], conc: int) -> float:
    """Write `sessions[name]` messages to each session in batches of 100; return messages/s."""
    rand = random.Random(11)
    jobs: list[tuple[str, str]] = []
    for session, count in sessions.items():
        for start in range(0, count, BATCH):
            texts = [rand.choice(pool) for _ in range(min(BATCH, count - start))]
            jobs.append((messages_url(base, WORKSPACE, session), batch_body(texts, start)))
    total = sum(sessions.values())
    started = time.perf_counter()
    async with aiohttp.ClientSession() as http:
        pending = iter(jobs)

        async def worker() -> None:
            for target, body in pending:
                await post_batch(http, target, body)

        await asyncio.gather(*(worker() for _ in range(conc)))
    return total / (time.perf_counter() - started)


async def run_embed_jobs(runtime: AppRuntime) -> tuple[int, int]:
    """Run the queued `embed` jobs with the worker's code; return (jobs, messages left)."""
    jobs = 0
    while (job := await queue.claim(runtime, "bench-v3", indexing.KINDS)) is not None:
        if not await indexing.process(runtime, job):
            raise RuntimeError(f"embed job {job.key}: lease lost")
        jobs += 1
    assert runtime.embedder is not None
    async with runtime.uow(write=False) as uow:
        left = await uow.message_index.count_stale(runtime.embedder.model_id)
    return jobs, left


async def seed_conclusions(runtime: AppRuntime, rows: int, pool: list[str]) -> float:
    """Create `rows` conclusions of alice about bob in batches of 100; return conclusions/s."""
    rand = random.Random(13)
    started = time.perf_counter()
    for start in range(0, rows, BATCH):
        items = [
            ConclusionInput(rand.choice(pool), "alice", "bob")
            for _ in range(min(BATCH, rows - start))
        ]
        await conclusions.create(runtime, WORKSPACE, items)
    return rows / (time.perf_counter() - started)


def session_sizes(sizes: Sizes, search: bool) -> dict[str, int]:
    """Messages per session: the context session, then the rest of `rows` over the others."""
    plan = {CONTEXT_SESSION: sizes.context_messages}
    rest = max(0, sizes.rows - sizes.context_messages) if search else 0
    for index in range(OTHER_SESSIONS):
        share = rest // OTHER_SESSIONS + (1 if index < rest % OTHER_SESSIONS else 0)
        if share:
            plan[f"s{index + 1}"] = share
    return plan


async def seed(
    server: ServerProcess, url: str, sizes: Sizes, embedder: MemoEmbedder, search: bool
) -> None:
    """Write what the context and search parts read, and print how long it took."""
    pool = text_pool(sizes.unique_texts)
    started = time.perf_counter()
    await embedder.embed(pool)  # once per process: later backends find them memoised
    pooled = time.perf_counter() - started
    print(
        f"\ntext pool: {len(pool):,} distinct sentences, embedded once in {pooled:.1f} s "
        f"({len(embedder.memo):,} vectors memoised)"
    )
    plan = session_sizes(sizes, search)
    total = sum(plan.values())
    rate = await seed_messages(server.url, plan, pool, sizes.seed_concurrency)
    print(
        f"seed: {total:,} messages in {len(plan)} sessions (context session "
        f"{plan[CONTEXT_SESSION]:,}) over HTTP, batches of {BATCH} at concurrency "
        f"{sizes.seed_concurrency}: {rate:,.0f} messages/s"
    )
    if not search:
        return
    async with seeding_runtime(url, embedder) as runtime:
        started = time.perf_counter()
        jobs, left = await run_embed_jobs(runtime)
        elapsed = time.perf_counter() - started
        print(
            f"seed: {jobs:,} embed jobs run in {elapsed:.1f} s ({total / elapsed:,.0f} "
            f"messages/s with memoised vectors); messages without a vector: {left}"
        )
        rate = await seed_conclusions(runtime, sizes.rows, pool)
        print(
            f"seed: {sizes.rows:,} conclusions (alice about bob) through conclusions.create, "
            f"batches of {BATCH} with memoised vectors: {rate:,.0f} conclusions/s"
        )
    sys.stdout.flush()


# --- context and search ---------------------------------------------------------------------


async def context_part(base: str, sizes: Sizes) -> list[Result]:
    """GET context of the big session, default budget and a small one."""
    url = f"{base}/v3/workspaces/{WORKSPACE}/sessions/{CONTEXT_SESSION}/context"
    results = []
    for label, query in (
        ("default (100,000 tokens)", ""),
        (f"tokens={sizes.small_budget:,}", f"?tokens={sizes.small_budget}"),
    ):

        async def op(http: aiohttp.ClientSession, _: int, query: str = query) -> None:
            async with http.get(url + query) as response:
                await check(response)

        async with aiohttp.ClientSession() as http, http.get(url + query) as response:
            count = len(json.loads(await check(response))["messages"])
        for conc in sizes.latency_concurrency:
            name = f"get_context {label}: {count:,} messages returned"
            results.append(await run_load(name, op, conc, sizes.duration))
    return results


async def search_part(base: str, sizes: Sizes, small_session: str) -> list[Result]:
    """Session search (big and small session), workspace search, conclusion queries."""
    root = f"{base}/v3/workspaces/{WORKSPACE}"
    pair = {"observer_id": "alice", "observed_id": "bob"}

    def search(path: str) -> Any:
        async def op(http: aiohttp.ClientSession, i: int) -> None:
            body = {"query": QUESTIONS[i % len(QUESTIONS)], "limit": 10}
            async with http.post(f"{root}{path}", json=body) as response:
                await check(response)

        return op

    async def query(http: aiohttp.ClientSession, i: int) -> None:
        body = {"query": QUESTIONS[i % len(QUESTIONS)], "top_k": 10, "filters": pair}
        async with http.post(f"{root}/conclusions/query", json=body) as response:
            await check(response)

    plan = session_sizes(sizes, True)
    scenarios = [
        (
            f"session search ({plan[CONTEXT_SESSION]:,} msgs)",
            search(f"/sessions/{CONTEXT_SESSION}/search"),
        ),
        (
            f"session search ({plan[small_session]:,} msgs)",
            search(f"/sessions/{small_session}/search"),
        ),
        (f"workspace search ({sum(plan.values()):,} msgs)", search("/search")),
        (f"conclusions/query ({sizes.rows:,} conclusions)", query),
    ]
    results = []
    for name, op in scenarios:
        for conc in sizes.latency_concurrency:
            results.append(await run_load(name, op, conc, sizes.duration))
    return results


async def memory_parts(
    databases: Databases, sizes: Sizes, parts: set[str], embedder: MemoEmbedder
) -> None:
    """Seed one database, then measure context and search on it."""
    search = "search" in parts
    url = await databases.new("memory")
    with v3_server(url) as server:
        await seed(server, url, sizes, embedder, search)
        loadavg(f"{databases.name} seeded")
        if "context" in parts:
            title = f"{databases.name}: session context, {sizes.context_messages:,} messages"
            print_table(title, await context_part(server.url, sizes))
        if search:
            print_table(
                f"{databases.name}: search and conclusion queries, {sizes.rows:,} messages "
                f"with vectors and {sizes.rows:,} conclusions",
                await search_part(server.url, sizes, "s1"),
            )
        print(f"\n{databases.name}: server resident memory {server.rss_mib():.0f} MiB")


# --- v1 before and after --------------------------------------------------------------------


@contextlib.contextmanager
def before_tree(revision: str, src: str | None, needed: bool) -> Iterator[str]:
    """The `src` directory of the build to compare with: given, or a temporary worktree."""
    if src is not None or not needed:
        yield src or ""
        return
    with tempfile.TemporaryDirectory(prefix="mk-bench-before-") as tmp:
        tree = str(Path(tmp) / "tree")
        subprocess.run(
            ["git", "worktree", "add", "--detach", tree, revision],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        try:
            yield str(Path(tree) / "src")
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", tree], cwd=ROOT, capture_output=True
            )


async def v3_paths(base: str) -> int:
    """How many /v3 paths a server's OpenAPI document has (0 before the v3 surface)."""
    async with aiohttp.ClientSession() as http, http.get(f"{base}/openapi.json") as response:
        document = json.loads(await check(response))
    return sum(1 for path in document["paths"] if path.startswith("/v3/"))


async def v1_part(databases: Databases, sizes: Sizes, before_src: str, revision: str) -> None:
    """v1 create message and get session, this tree against the previous build."""
    srcs = {"after": str(ROOT / "src"), "before": before_src}
    urls = {v: await databases.new(f"v1_{v}") for v in V1_VARIANTS}
    with contextlib.ExitStack() as stack:
        servers = {
            v: stack.enter_context(
                serve(urls[v], env={"PYTHONPATH": srcs[v], "MINDKEEPER_EMBEDDER": "none"})
            )
            for v in V1_VARIANTS
        }
        paths = {v: await v3_paths(s.url) for v, s in servers.items()}
        print(
            f"\n{databases.name} v1: after = this tree ({tree_state()}), before = {revision} "
            f"({before_src}); /v3 paths served: {paths}"
        )
        fixtures = {v: await setup(s.url, sessions=32) for v, s in servers.items()}
        conc = sizes.v1_concurrency

        async def slot(variant: str, scenario: str, duration: float = sizes.v1_duration) -> Slot:
            pid = servers[variant].process.pid
            spent = cpu_seconds(pid)
            result = await v1_slot(fixtures[variant], scenario, conc, duration)
            cpu_us = (cpu_seconds(pid) - spent) / max(result.requests, 1) * 1e6
            return Slot(result.rps, cpu_us)

        for v in V1_VARIANTS:  # warm both up before measuring
            for scenario in V1_SCENARIOS:
                await slot(v, scenario, min(sizes.v1_duration, 1.0))
        await interleave(
            f"{databases.name}: v1 after / before, concurrency {conc}, "
            f"{sizes.v1_duration:g} s per slot",
            V1_VARIANTS,
            V1_SCENARIOS,
            slot,
            sizes.rounds,
        )


# --- main -----------------------------------------------------------------------------------


async def run(args: argparse.Namespace, sizes: Sizes) -> None:
    """Every selected part on every selected backend."""
    parts = set(args.parts.split(","))
    print(f"bench_v3: this tree {tree_state()}; parts {sorted(parts)}; {sizes}")
    loadavg("start")
    inner = build_embedder(
        settings_for("sqlite:///:memory:", embedder_threads=args.embedder_threads)
    )
    assert inner is not None
    embedder = MemoEmbedder(inner)
    with before_tree(args.before, args.before_src, "v1" in parts) as before_src:
        for backend in args.backends.split(","):
            with contextlib.ExitStack() as stack:
                databases = Databases(backend, stack)
                if "write" in parts:
                    await write_part(databases, sizes)
                    loadavg(f"{databases.name} write done")
                if parts & {"context", "search"}:
                    await memory_parts(databases, sizes, parts, embedder)
                    loadavg(f"{databases.name} context and search done")
                if "v1" in parts:
                    await v1_part(databases, sizes, before_src, args.before)
                    loadavg(f"{databases.name} v1 done")


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--parts", default="write,context,search,v1")
    parser.add_argument("--full", action="store_true", help="the closing note's sizes")
    parser.add_argument("--rows", type=int, help="messages and conclusions (10,000; full 100,000)")
    parser.add_argument("--context-messages", type=int, help="(2,000; full 10,000)")
    parser.add_argument("--small-budget", type=int, default=1_000, help="tokens")
    parser.add_argument("--unique-texts", type=int, help="distinct texts (2,000; full 5,000)")
    parser.add_argument("--duration", type=float, help="s per scenario (3; full 10)")
    parser.add_argument("--latency-concurrency", default="1,8")
    parser.add_argument("--write-concurrency", default="1,16")
    parser.add_argument("--seed-concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, help="v1 A/B rounds (4; full 8)")
    parser.add_argument("--v1-duration", type=float, help="s per v1 slot (2; full 3)")
    parser.add_argument("--v1-concurrency", type=int, default=16)
    parser.add_argument("--before", default="417bbfe", help="git revision of the v1 baseline")
    parser.add_argument("--before-src", help="src directory of the baseline (no worktree)")
    parser.add_argument("--embedder-threads", type=int, default=2, help="for the text pool")
    args = parser.parse_args()

    def pick(value: Any, small: Any, full: Any) -> Any:
        return value if value is not None else (full if args.full else small)

    sizes = Sizes(
        rows=pick(args.rows, 10_000, 100_000),
        context_messages=pick(args.context_messages, 2_000, 10_000),
        small_budget=args.small_budget,
        unique_texts=pick(args.unique_texts, 2_000, 5_000),
        duration=pick(args.duration, 3.0, 10.0),
        latency_concurrency=[int(c) for c in args.latency_concurrency.split(",")],
        write_concurrency=[int(c) for c in args.write_concurrency.split(",")],
        rounds=pick(args.rounds, 4, 8),
        v1_duration=pick(args.v1_duration, 2.0, 3.0),
        v1_concurrency=args.v1_concurrency,
        seed_concurrency=args.seed_concurrency,
    )
    asyncio.run(run(args, sizes))


if __name__ == "__main__":
    main()
