"""The cost of the metrics middleware on the hot paths: interleaved A/B.

Two `mindkeeper serve` processes run side by side on SQLite files of their own, one with
metrics on (A) and one with them off (B, MINDKEEPER_METRICS_ENABLED=false). Rounds alternate
A and B on the same workload (create a message; get a session), so drift of the machine
hits both alike; the figure is the median over rounds of A's throughput over B's.

    python bench/bench_metrics.py [--rounds 6] [--seconds 4] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import check, cpu_seconds, run_load, serve


async def setup(url: str) -> tuple[str, str]:
    """An app, a user and a session; return the messages URL and the get-session URL."""
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/v1/apps", json={"name": "bench"}) as r:
            app = (await r.json())["id"]
        async with http.post(f"{url}/v1/apps/{app}/users", json={"name": "u"}) as r:
            user = (await r.json())["id"]
        base = f"{url}/v1/apps/{app}/users/{user}/sessions"
        async with http.post(base, json={"metadata": {"deriver_disabled": True}}) as r:
            session = (await r.json())["id"]
    return f"{base}/{session}/messages", f"{base}?session_id={session}"


async def measure(
    urls: dict[str, tuple[str, str]], pids: dict[str, int], args: argparse.Namespace
) -> None:
    ratios: dict[str, list[float]] = {"create message": [], "get session": []}
    cpu: dict[str, list[float]] = {"create message": [], "get session": []}
    body = {"content": "a message of ordinary length for the benchmark", "is_user": True}
    for round_ in range(args.rounds):
        order = ["on", "off"] if round_ % 2 == 0 else ["off", "on"]
        rates: dict[tuple[str, str], float] = {}
        for side in order:
            messages, session = urls[side]

            async def create(http: aiohttp.ClientSession, _: int, url: str = messages) -> None:
                async with http.post(url, json=body) as r:
                    await check(r)

            async def get(http: aiohttp.ClientSession, _: int, url: str = session) -> None:
                async with http.get(url) as r:
                    await check(r)

            for name, op in (("create message", create), ("get session", get)):
                spent = cpu_seconds(pids[side])
                result = await run_load(name, op, args.concurrency, args.seconds)
                rates[(side, name)] = result.rps
                per = (cpu_seconds(pids[side]) - spent) / max(result.requests, 1) * 1e6
                rates[(side, name + " cpu")] = per
        for name in ratios:
            ratios[name].append(rates[("on", name)] / rates[("off", name)])
            cpu[name].append(rates[("on", name + " cpu")] / rates[("off", name + " cpu")])
        print(
            f"round {round_ + 1}: "
            + ", ".join(
                f"{n}: on {rates[('on', n)]:,.0f}/s off {rates[('off', n)]:,.0f}/s" for n in ratios
            ),
            flush=True,
        )
    print("\n| workload | throughput on / off | server CPU per request on / off |")
    print("|---|---:|---:|")
    for name, values in ratios.items():
        print(f"| {name} | {statistics.median(values):.3f} | {statistics.median(cpu[name]):.3f} |")


def per_request_cost(calls: int = 20_000) -> tuple[float, float]:
    """In-process: microseconds per request of the request-id layer with metrics off and on,
    around an app that answers at once (interleaved batches, best of each)."""
    import time

    from mindkeeper.http.metrics.middleware import Observed

    class Runtime:  # what Observed reads of a runtime
        embedder = None

        class usage:
            listeners: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(message: Any) -> None:
        return None

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "GET", "path": "/v1/apps/x", "headers": []}
    layers = {"off": Observed(app, Runtime(), False), "on": Observed(app, Runtime(), True)}
    best = {"off": float("inf"), "on": float("inf"), "bare": float("inf")}

    async def run() -> None:
        for _ in range(5):
            for name in ("bare", "off", "on"):
                target = app if name == "bare" else layers[name]
                t0 = time.perf_counter()
                for _ in range(calls):
                    await target(dict(scope), receive, send)
                best[name] = min(best[name], (time.perf_counter() - t0) / calls * 1e6)

    asyncio.run(run())
    return best["off"] - best["bare"], best["on"] - best["bare"]


def main() -> None:
    """Run the A/B."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    off, on = per_request_cost()
    print(f"in-process cost per request: request id {off:.1f} us, request id + metrics {on:.1f} us")
    base = Path(tempfile.mkdtemp(prefix="mk-bench-metrics-"))
    common: dict[str, Any] = {"MINDKEEPER_WORKER_ENABLED": "false", "MINDKEEPER_EMBEDDER": "none"}
    with (
        serve(
            f"sqlite:///{base / 'on.db'}", env={**common, "MINDKEEPER_METRICS_ENABLED": "true"}
        ) as on,
        serve(
            f"sqlite:///{base / 'off.db'}", env={**common, "MINDKEEPER_METRICS_ENABLED": "false"}
        ) as off,
    ):
        urls = {"on": asyncio.run(setup(on.url)), "off": asyncio.run(setup(off.url))}
        pids = {"on": on.process.pid, "off": off.process.pid}
        asyncio.run(measure(urls, pids, args))


if __name__ == "__main__":
    main()
