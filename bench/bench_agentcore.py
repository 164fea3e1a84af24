"""Benchmark of the AgentCore Memory surface over raw HTTP (aiohttp, unsigned requests).

Starts `mindkeeper serve` (packaged local embedder) over a fresh SQLite file, and over an
embedded PostgreSQL with `--pg` (or `--pg-url URL`), then measures:

- CreateEvent (a conversational item and a 1 KB blob, no strategies) at concurrency 1 and 16;
- ListEvents newest first (maxResults 20) on a session of 1,000 and of 100,000 events, run
  interleaved so both see the same load (the ratio of their p50 shows whether it stays flat);
- RetrieveMemoryRecords (topK 10) over 10,000 and 100,000 records of one namespace path
  (records seeded by direct SQL with random unit vectors of the embedder's model; the query is
  embedded by the server);
- extraction jobs/s: events of a memory with one semantic strategy, extracted by the worker
  with a fake model answering after a fixed 200 ms (`--extraction-events`, 8 job slots).

Seeding goes straight to the database (the events' and records' rows as the server writes
them). Prints one Markdown table per backend.

    .venv/bin/python bench/bench_agentcore.py            # SQLite
    .venv/bin/python bench/bench_agentcore.py --pg       # SQLite and embedded PostgreSQL
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import orjson
from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Result, check, embedded_postgres, print_table, run_load, serve

from mindkeeper.config import normalise_database_url
from mindkeeper.core.values import new_id
from mindkeeper.storage.tables import collections, documents, messages, sessions
from mindkeeper.storage.tables.agentcore import agentcore_memories

EMBEDDER_MODEL = "all-MiniLM-L6-v2:int8-w7"
DIM = 384
T0 = datetime(2025, 1, 1, tzinfo=UTC)
BLOB = orjson.dumps({"state": "x" * 1000}).decode()


async def call(http: aiohttp.ClientSession, url: str, body: Any, status: int = 200) -> Any:
    """POST a JSON body; return the parsed answer."""
    async with http.post(
        url, data=orjson.dumps(body), headers={"content-type": "application/json"}
    ) as r:
        return orjson.loads(await check(r, status))


async def create_memory(http: aiohttp.ClientSession, base: str, **extra: Any) -> str:
    """Create a memory; return its id."""
    body = {"name": f"bench_{new_id()[:8].replace('-', '_')}", "eventExpiryDuration": 365, **extra}
    return str((await call(http, f"{base}/memories/create", body, 202))["memory"]["id"])


def event_body(actor: str, session: str, text: str) -> dict[str, Any]:
    """A CreateEvent body: one conversational item and one 1 KB blob."""
    return {
        "actorId": actor,
        "sessionId": session,
        "eventTimestamp": time.time(),
        "payload": [
            {"conversational": {"content": {"text": text}, "role": "USER"}},
            {"blob": BLOB},
        ],
    }


async def seed_events(database_url: str, memory_id: str, session: str, count: int) -> None:
    """Insert `count` events of actor `bench` in a session that already has one."""
    engine = create_async_engine(normalise_database_url(database_url), poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            memory = (
                await conn.execute(
                    select(agentcore_memories.c.workspace_id).where(
                        agentcore_memories.c.memory_id == memory_id
                    )
                )
            ).one()
            first = (
                await conn.execute(
                    select(messages.c.session_id, messages.c.sender_id)
                    .join(sessions, sessions.c.public_id == messages.c.session_id)
                    .where(
                        sessions.c.workspace_id == memory.workspace_id, sessions.c.name == session
                    )
                    .limit(1)
                )
            ).one()
            payload = orjson.dumps(
                [
                    {"conversational": {"content": {"text": "seeded"}, "role": "USER"}},
                    {"blob": BLOB},
                ]
            )
            expires = datetime.now(UTC) + timedelta(days=365)
            for start in range(0, count, 5_000):
                rows = [
                    {
                        "public_id": new_id(),
                        "session_id": first.session_id,
                        "is_user": True,
                        "content": "seeded",
                        "workspace_id": memory.workspace_id,
                        "sender_id": first.sender_id,
                        "seq": i + 2,
                        "token_count": 1,
                        "metadata": {},
                        "created_at": T0 + timedelta(milliseconds=i),
                        "payload": payload,
                        "expires_at": expires,
                    }
                    for i in range(start, min(count, start + 5_000))
                ]
                await conn.execute(insert(messages), rows)
            await conn.execute(
                update(sessions)
                .where(sessions.c.public_id == first.session_id)
                .values(message_count=count + 1)
            )
    finally:
        await engine.dispose()


HNSW = "ix_documents_embedding_hnsw_384"


async def seed_records(database_url: str, memory_id: str, namespace: str, count: int) -> None:
    """Insert `count` records (random unit vectors of the local embedder's model).

    On PostgreSQL the 384-dimension HNSW index is dropped for the load and built again after
    it, as a bulk import would (building it once is much faster than row by row).
    """
    engine = create_async_engine(normalise_database_url(database_url), poolclass=NullPool)
    generator = np.random.default_rng(7)
    postgres = engine.dialect.name == "postgresql"
    try:
        if postgres:
            async with engine.begin() as conn:
                await conn.execute(text(f"DROP INDEX IF EXISTS {HNSW}"))
        async with engine.begin() as conn:
            memory = (
                await conn.execute(
                    select(
                        agentcore_memories.c.workspace_id, agentcore_memories.c.observer_id
                    ).where(agentcore_memories.c.memory_id == memory_id)
                )
            ).one()
            collection = new_id()
            await conn.execute(
                insert(collections).values(
                    public_id=collection,
                    name=namespace,
                    workspace_id=memory.workspace_id,
                    peer_id=memory.observer_id,
                    metadata={"namespace": namespace},
                    created_at=T0,
                )
            )
            meta = {"strategy_id": "custom", "namespace": namespace, "metadata": {}}
            for start in range(0, count, 2_000):
                size = min(count, start + 2_000) - start
                vectors = generator.standard_normal((size, DIM)).astype(np.float32)
                vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
                rows = [
                    {
                        "public_id": new_id(),
                        "content": f"seeded record {start + i}",
                        "embedding": vectors[i],
                        "embedding_model": EMBEDDER_MODEL,
                        "embedding_dim": DIM,
                        "collection_id": collection,
                        "workspace_id": memory.workspace_id,
                        "peer_id": memory.observer_id,
                        "metadata": meta,
                        "created_at": T0,
                    }
                    for i in range(size)
                ]
                await conn.execute(insert(documents), rows)
        if postgres:
            async with engine.begin() as conn:
                await conn.execute(text("SET maintenance_work_mem = '512MB'"))
                await conn.execute(
                    text(
                        f"CREATE INDEX {HNSW} ON documents USING hnsw "
                        "((embedding::vector(384)) vector_cosine_ops) WHERE embedding_dim = 384"
                    )
                )
    finally:
        await engine.dispose()


async def bench_writes(base: str, memory: str, args: argparse.Namespace) -> list[Result]:
    """CreateEvent at each concurrency."""
    out = []
    counter = iter(range(10**9))

    async def op(http: aiohttp.ClientSession, worker: int) -> None:
        body = event_body(f"writer-{worker}", f"s-{worker}", f"message {next(counter)}")
        await call(http, f"{base}/memories/{memory}/events", body, 201)

    for concurrency in (1, 16):
        await run_load("warm-up", op, concurrency, 1.0)
        out.append(await run_load("CreateEvent", op, concurrency, args.seconds))
    return out


async def bench_interleaved(
    name: str, targets: dict[str, tuple[str, dict[str, Any]]], args: argparse.Namespace
) -> list[Result]:
    """Run the variants of one read in alternating slices; merge their figures."""
    merged = {label: Result(f"{name} {label}", 1, 0, 0.0, [], 0) for label in targets}
    for url, body in targets.values():

        async def warm(
            http: aiohttp.ClientSession, _: int, url: str = url, body: Any = body
        ) -> None:
            await call(http, url, body)

        await run_load("warm-up", warm, 1, 1.0)
    for _ in range(args.rounds):
        for label, (url, body) in targets.items():

            async def op(
                http: aiohttp.ClientSession, _: int, url: str = url, body: Any = body
            ) -> None:
                await call(http, url, body)

            part = await run_load(label, op, 1, args.seconds / args.rounds)
            total = merged[label]
            total.requests += part.requests
            total.seconds += part.seconds
            total.latencies_ms += part.latencies_ms
            total.errors += part.errors
    return list(merged.values())


async def bench_extraction(database_url: str, args: argparse.Namespace) -> Result:
    """Jobs/s of semantic extraction with a model that answers after 200 ms."""
    from tests.deriver.fakes import FakeModelServer

    fake = FakeModelServer().start()
    fake.latency = 0.2
    env = {
        "MINDKEEPER_CHAT_BASE_URL": fake.openai_url,
        "MINDKEEPER_DERIVER_MODEL": "fake-facts",
        "MINDKEEPER_SUMMARY_MODEL": "fake-summary",
        "MINDKEEPER_WORKER_POLL_SECONDS": "0.02",
        "MINDKEEPER_DERIVER_CONCURRENCY": "8",
    }
    try:
        with serve(database_url, env=env) as server:
            async with aiohttp.ClientSession() as http:
                strategy = {"semanticMemoryStrategy": {"name": "facts"}}
                memory = await create_memory(http, server.url, memoryStrategies=[strategy])
                warm = {"namespace": "/warm/", "searchCriteria": {"searchQuery": "load the model"}}
                await call(http, f"{server.url}/memories/{memory}/retrieve", warm)
                count = args.extraction_events
                started = time.perf_counter()
                for i in range(count):
                    body = event_body("actor", f"s-{i % 16}", f"FACT: Ada owns {i} books.")
                    await call(http, f"{server.url}/memories/{memory}/events", body, 201)
                while True:
                    async with http.get(f"{server.url}/queue/status") as r:
                        status = orjson.loads(await r.read())
                    if status["pending"] == 0 and status["running"] == 0:
                        break
                    await asyncio.sleep(0.05)
                elapsed = time.perf_counter() - started
    finally:
        fake.stop()
    return Result("extraction jobs (200 ms model, 8 slots)", 8, count, elapsed, [], 0)


@contextlib.contextmanager
def backends(args: argparse.Namespace, tmp: str) -> Iterator[list[tuple[str, str]]]:
    """The databases to run on."""
    out = [] if args.no_sqlite else [("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}")]
    if args.pg_url:
        out.append(("PostgreSQL", args.pg_url))
        yield out
    elif args.pg:
        with embedded_postgres() as url:
            out.append(("PostgreSQL (embedded)", url))
            yield out
    else:
        yield out


async def bench_backend(label: str, database_url: str, args: argparse.Namespace) -> None:
    """Every scenario on one database."""
    results: list[Result] = []
    with serve(database_url, env={"MINDKEEPER_WORKER_ENABLED": "false"}) as server:
        base = server.url
        async with aiohttp.ClientSession() as http:
            memory = await create_memory(http, base)
            results += await bench_writes(base, memory, args)
            lists: dict[str, tuple[str, dict[str, Any]]] = {}
            for size in args.event_sizes:
                session = f"big-{size}"
                await call(
                    http,
                    f"{base}/memories/{memory}/events",
                    event_body("bench", session, "first"),
                    201,
                )
                t0 = time.perf_counter()
                await seed_events(database_url, memory, session, size - 1)
                print(f"[{label}] seeded {size:,} events in {time.perf_counter() - t0:.1f}s")
                url = f"{base}/memories/{memory}/actor/bench/sessions/{session}"
                lists[f"@{size:,} events"] = (url, {"maxResults": 20})
            results += await bench_interleaved("ListEvents", lists, args)
            retrievals: dict[str, tuple[str, dict[str, Any]]] = {}
            for size in args.record_sizes:
                namespace = f"/bench/{size}/"
                t0 = time.perf_counter()
                await seed_records(database_url, memory, namespace, size)
                print(f"[{label}] seeded {size:,} records in {time.perf_counter() - t0:.1f}s")
                body = {
                    "namespacePath": namespace,
                    "searchCriteria": {"searchQuery": "what does the user like?", "topK": 10},
                }
                retrievals[f"@{size:,} records"] = (f"{base}/memories/{memory}/retrieve", body)
            results += await bench_interleaved("RetrieveMemoryRecords", retrievals, args)
    print_table(label, results)
    names = [r for r in results if r.name.startswith("ListEvents")]
    if len(names) == 2:
        ratio = statistics.median(names[1].latencies_ms) / statistics.median(names[0].latencies_ms)
        sizes = f"{names[1].name.split()[-2]} / {names[0].name.split()[-2]}"
        print(f"\nListEvents p50 {sizes}: {ratio:.2f}x")
    extraction = await bench_extraction(database_url.replace("bench.db", "extract.db"), args)
    print(
        f"\n[{label}] extraction: {extraction.requests} jobs in {extraction.seconds:.1f}s = "
        f"{extraction.requests / extraction.seconds:.1f} jobs/s (200 ms model, 8 slots)"
    )
    sys.stdout.flush()


async def main() -> None:
    """Parse arguments and run every backend."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--pg", action="store_true", help="also run on an embedded PostgreSQL")
    parser.add_argument("--pg-url", help="PostgreSQL URL of an empty database to run on too")
    parser.add_argument("--no-sqlite", action="store_true", help="run on PostgreSQL only")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per scenario")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved slices per read")
    parser.add_argument("--event-sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--record-sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--extraction-events", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, backends(args, tmp) as targets:
        for label, url in targets:
            await bench_backend(label, url, args)


if __name__ == "__main__":
    asyncio.run(main())
