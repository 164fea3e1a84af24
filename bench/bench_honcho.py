"""Benchmark of the Honcho v1 surface over HTTP, on SQLite and PostgreSQL.

    python bench/bench_honcho.py                      # both backends, 5 s per scenario
    python bench/bench_honcho.py --backends sqlite --duration 3

Prints requests/s and p50/p99 per scenario at concurrency 1 and 16, list-messages latency on
sessions of 1,000 and 100,000 messages, and the server's resident memory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Result, check, embedded_postgres, print_table, rng, run_load, serve

JSON = {"Content-Type": "application/json"}


class Fixture:
    """Ids of the app, user and sessions the scenarios use."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.app = ""
        self.user = ""
        self.sessions: list[str] = []

    def s(self, index: int) -> str:
        """Base URL of one session's routes."""
        sid = self.sessions[index % len(self.sessions)]
        return f"{self.base}/v1/apps/{self.app}/users/{self.user}/sessions/{sid}"


async def post(http: aiohttp.ClientSession, url: str, body: Any) -> Any:
    """POST JSON, return decoded JSON."""
    async with http.post(url, data=json.dumps(body), headers=JSON) as r:
        return json.loads(await check(r))


async def setup(base: str, sessions: int) -> Fixture:
    """Create an app, a user and `sessions` sessions."""
    fx = Fixture(base)
    async with aiohttp.ClientSession() as http:
        fx.app = (await post(http, f"{base}/v1/apps", {"name": f"bench-{id(fx)}"}))["id"]
        fx.user = (await post(http, f"{base}/v1/apps/{fx.app}/users", {"name": "u"}))["id"]
        for _ in range(sessions):
            url = f"{base}/v1/apps/{fx.app}/users/{fx.user}/sessions"
            fx.sessions.append((await post(http, url, {"metadata": {"turn": 0}}))["id"])
    return fx


async def seed_messages(fx: Fixture, index: int, count: int) -> None:
    """Fill one session with `count` messages through the batch endpoint."""
    batch = [{"content": f"seed message {i}", "is_user": i % 2 == 0} for i in range(100)]
    async with aiohttp.ClientSession() as http:
        sem = asyncio.Semaphore(4)

        async def one() -> None:
            async with sem:
                await post(http, f"{fx.s(index)}/messages/batch", {"messages": batch})

        await asyncio.gather(*(one() for _ in range(count // 100)))


async def scenarios(fx: Fixture, duration: float, concurrencies: list[int]) -> list[Result]:
    """Run every throughput scenario."""
    r = rng()
    message = json.dumps({"content": "hello there, how are you today?", "is_user": True})
    batch = json.dumps(
        {"messages": [{"content": f"batch item {i}", "is_user": i % 2 == 0} for i in range(100)]}
    )
    results: list[Result] = []

    async def create_message(http: aiohttp.ClientSession, i: int) -> None:
        async with http.post(f"{fx.s(i)}/messages", data=message, headers=JSON) as resp:
            await check(resp)

    async def create_batch(http: aiohttp.ClientSession, i: int) -> None:
        async with http.post(f"{fx.s(i)}/messages/batch", data=batch, headers=JSON) as resp:
            await check(resp)

    async def list_first(http: aiohttp.ClientSession, i: int) -> None:
        async with http.post(f"{fx.s(i)}/messages/list?size=50", data="{}", headers=JSON) as resp:
            await check(resp)

    async def list_random(http: aiohttp.ClientSession, i: int) -> None:
        page = r.randint(1, 20)
        url = f"{fx.s(i)}/messages/list?size=50&page={page}"
        async with http.post(url, data="{}", headers=JSON) as resp:
            await check(resp)

    async def list_reverse(http: aiohttp.ClientSession, i: int) -> None:
        url = f"{fx.s(i)}/messages/list?size=50&reverse=true"
        async with http.post(url, data="{}", headers=JSON) as resp:
            await check(resp)

    sessions_url = f"{fx.base}/v1/apps/{fx.app}/users/{fx.user}/sessions"

    async def get_session(http: aiohttp.ClientSession, i: int) -> None:
        sid = fx.sessions[i % len(fx.sessions)]
        async with http.get(f"{sessions_url}?session_id={sid}") as resp:
            await check(resp)

    async def update_session(http: aiohttp.ClientSession, i: int) -> None:
        body = json.dumps({"metadata": {"turn": r.randint(0, 10**6)}})
        async with http.put(fx.s(i), data=body, headers=JSON) as resp:
            await check(resp)

    async def agent_turn(http: aiohttp.ClientSession, i: int) -> None:
        url = f"{fx.s(i)}/messages/list?size=20&reverse=true"
        async with http.post(url, data="{}", headers=JSON) as resp:
            await check(resp)
        pair = json.dumps(
            {
                "messages": [
                    {"content": "user says something", "is_user": True},
                    {"content": "assistant answers", "is_user": False},
                ]
            }
        )
        async with http.post(f"{fx.s(i)}/messages/batch", data=pair, headers=JSON) as resp:
            await check(resp)
        body = json.dumps({"metadata": {"turn": r.randint(0, 10**6)}})
        async with http.put(fx.s(i), data=body, headers=JSON) as resp:
            await check(resp)

    plan: list[tuple[str, Any, int]] = [
        ("create message", create_message, 1),
        ("batch of 100", create_batch, 100),
        ("list messages (first page, 50)", list_first, 1),
        ("list messages (random page 1-20)", list_random, 1),
        ("list messages (reverse)", list_reverse, 1),
        ("get session", get_session, 1),
        ("update session metadata", update_session, 1),
        ("agent turn (read 20, append 2, update)", agent_turn, 1),
    ]
    for conc in concurrencies:
        for name, op, items in plan:
            results.append(await run_load(name, op, conc, duration, items))
    return results


async def list_latency(fx: Fixture, duration: float) -> list[Result]:
    """List-messages latency on a 1,000- and a 100,000-message session (concurrency 1)."""
    results = []
    for index, size in ((0, 1_000), (1, 100_000)):
        await seed_messages(fx, index, size)
    r = rng(11)
    for label, pages in (("first page", None), ("random page", True), ("last page", False)):
        for index, size in ((0, 1_000), (1, 100_000)):

            async def op(
                http: aiohttp.ClientSession,
                _: int,
                index: int = index,
                size: int = size,
                pages: bool | None = pages,
            ) -> None:
                last = size // 50
                page = 1 if pages is None else (r.randint(1, last) if pages else last)
                url = f"{fx.s(index)}/messages/list?size=50&page={page}"
                async with http.post(url, data="{}", headers=JSON) as resp:
                    await check(resp)

            results.append(await run_load(f"list {label}, {size:,} msgs", op, 1, duration))
    return results


async def bench_backend(
    name: str,
    url: str,
    duration: float,
    concurrencies: list[int],
    workers: int,
    parts: tuple[str, ...] = ("throughput", "latency"),
) -> None:
    """Run all scenarios against one database."""
    with serve(url, workers=workers, env={"MINDKEEPER_EMBEDDER": "none"}) as server:
        if "throughput" in parts:
            fx = await setup(server.url, sessions=32)
            results = await scenarios(fx, duration, concurrencies)
            print_table(f"{name}: throughput (server workers={workers})", results)
        if "latency" in parts:
            big = await setup(server.url, sessions=2)
            latency = await list_latency(big, duration)
            print_table(f"{name}: list latency vs session size", latency)
        print(f"\n{name}: server resident memory {server.rss_mib():.0f} MiB")


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--concurrency", default="1,16")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--pg-url", help="PostgreSQL URL (default: an embedded server)")
    parser.add_argument("--parts", default="throughput,latency", help="which tables to run")
    args = parser.parse_args()
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    parts = tuple(args.parts.split(","))
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{tmp}/bench.db"
                asyncio.run(
                    bench_backend("SQLite", url, args.duration, concurrencies, args.workers, parts)
                )
        elif backend == "postgresql":
            with contextlib.ExitStack() as stack:
                url = args.pg_url or stack.enter_context(embedded_postgres())
                asyncio.run(
                    bench_backend(
                        "PostgreSQL", url, args.duration, concurrencies, args.workers, parts
                    )
                )


if __name__ == "__main__":
    main()
