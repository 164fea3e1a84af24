"""Benchmark of v3 message search and conclusion queries.

    python bench/bench_v3_search.py                          # SQLite and PostgreSQL, 10k rows
    python bench/bench_v3_search.py --backends sqlite --rows 100000 --duration 10

Seeds one workspace with `--rows` messages (100 sessions, 2 senders, sentences built from a
small vocabulary) and `--rows` conclusions of one observer/observed pair, then embeds the
messages with the packaged int8 model (`indexing.reindex_messages`: the figure is the
indexing throughput) and serves the database with `mindkeeper serve` (no worker). Each
request embeds its query with the same model, so the figures include one model call.

Prints a table per backend: workspace, session and peer search (hybrid: meaning and text,
`limit` 10) and `conclusions/query` (`top_k` 10), at concurrency 1 and 8.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_deriver import new_pg_database, settings_for  # noqa: E402
from common import Result, check, embedded_postgres, print_table, run_load, serve  # noqa: E402

from mindkeeper.bootstrap import AppRuntime, build_embedder, build_runtime  # noqa: E402
from mindkeeper.core.services.conversations import messages, peers  # noqa: E402
from mindkeeper.core.services.conversations.messages import MessageInput  # noqa: E402
from mindkeeper.core.services.memory import conclusions, indexing  # noqa: E402
from mindkeeper.core.services.memory.conclusions import ConclusionInput  # noqa: E402
from mindkeeper.storage import migrate  # noqa: E402

WORKSPACE = "bench"
SESSIONS = 100
BATCH = 100
SUBJECTS = ["I", "My brother", "Our team", "The neighbour", "My friend Ana", "We", "She", "He"]
VERBS = ["visited", "cooked", "repaired", "painted", "booked", "sold", "found", "planned"]
OBJECTS = [
    "a trip to Lisbon",
    "the old bicycle",
    "a vegetable curry",
    "the kitchen table",
    "tickets for the opera",
    "a used camera",
    "the garden fence",
    "a birthday party",
    "a hiking route in the Alps",
    "the quarterly budget",
    "a jazz concert",
    "a puppy from the shelter",
]
WHEN = ["last week", "yesterday", "this morning", "in March", "on Sunday", "after work"]
QUESTIONS = [
    "Where did they travel?",
    "What food did someone make?",
    "Did anyone get a pet?",
    "What music events happened?",
    "Who fixed something at home?",
    "What was bought second hand?",
    "plans for a celebration",
    "mountain walks",
    "money and spending",
    "photography",
]


def sentence(rand: random.Random) -> str:
    """One diary-like sentence."""
    return (
        f"{rand.choice(SUBJECTS)} {rand.choice(VERBS)} {rand.choice(OBJECTS)} "
        f"{rand.choice(WHEN)}, note {rand.randrange(10_000)}."
    )


async def seed(runtime: AppRuntime, rows: int) -> tuple[float, float]:
    """Write the messages and conclusions; return (messages/s indexed, conclusions/s)."""
    rand = random.Random(7)
    per_session = max(1, rows // SESSIONS)
    written = 0
    for s in range(SESSIONS):
        count = per_session if s < SESSIONS - 1 else rows - written
        for start in range(0, count, BATCH):
            inputs = [
                MessageInput("alice" if (start + i) % 2 else "bob", sentence(rand))
                for i in range(min(BATCH, count - start))
            ]
            await messages.create(
                runtime.uow(),
                WORKSPACE,
                f"s{s}",
                inputs,
                runtime.tokens.count,
                embed=runtime.embedder is not None,
            )
        written += count
    started = time.perf_counter()
    await indexing.reindex_messages(runtime, batch_size=256)
    indexed = rows / (time.perf_counter() - started)
    await peers.get_or_create(runtime.uow(), WORKSPACE, "alice", None, None)
    started = time.perf_counter()
    for start in range(0, rows, BATCH):
        items = [
            ConclusionInput(sentence(rand), "alice", "bob") for _ in range(min(BATCH, rows - start))
        ]
        await conclusions.create(runtime, WORKSPACE, items)
    created = rows / (time.perf_counter() - started)
    return indexed, created


async def load(base: str, duration: float) -> list[Result]:
    """Run every scenario at concurrency 1 and 8."""
    root = f"{base}/v3/workspaces/{WORKSPACE}"
    pair = {"observer_id": "alice", "observed_id": "bob"}

    def search(path: str) -> object:
        async def op(http: aiohttp.ClientSession, i: int) -> None:
            body = {"query": QUESTIONS[i % len(QUESTIONS)], "limit": 10}
            async with http.post(f"{root}{path}", json=body) as response:
                await check(response)

        return op

    async def query(http: aiohttp.ClientSession, i: int) -> None:
        body = {"query": QUESTIONS[i % len(QUESTIONS)], "top_k": 10, "filters": pair}
        async with http.post(f"{root}/conclusions/query", json=body) as response:
            await check(response)

    scenarios = [
        ("workspace search", search("/search")),
        ("session search", search("/sessions/s3/search")),
        ("peer search", search("/peers/alice/search")),
        ("conclusions/query", query),
    ]
    results = []
    for name, op in scenarios:
        for concurrency in (1, 8):
            results.append(await run_load(name, op, concurrency, duration))  # type: ignore[arg-type]
    return results


async def prepare(url: str, rows: int) -> tuple[float, float]:
    """Migrate and seed the database."""
    await migrate.upgrade(url)
    settings = settings_for(url, worker_enabled=False)
    runtime = build_runtime(settings, embedder=build_embedder(settings))
    try:
        return await seed(runtime, rows)
    finally:
        await runtime.close()


def bench(backend: str, url: str, rows: int, duration: float) -> None:
    """Seed, serve and measure one backend."""
    indexed, created = asyncio.run(prepare(url, rows))
    print(
        f"\n{backend}: {rows:,} messages indexed at {indexed:,.0f} messages/s; "
        f"{rows:,} conclusions created at {created:,.0f} conclusions/s (batches of {BATCH})"
    )
    with serve(url, env={"MINDKEEPER_WORKER_ENABLED": "false"}) as server:
        results = asyncio.run(load(server.url, duration))
    print_table(f"{backend}, {rows:,} messages and {rows:,} conclusions", results)


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per scenario")
    args = parser.parse_args()
    backends = args.backends.split(",")
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory(prefix="mk-bench-search-") as tmp:
            bench("sqlite", f"sqlite+aiosqlite:///{tmp}/bench.db", args.rows, args.duration)
    if "postgresql" in backends:
        with embedded_postgres() as admin:
            url = asyncio.run(new_pg_database(admin, "mk_bench_search"))
            bench("postgresql", url, args.rows, args.duration)


if __name__ == "__main__":
    main()
