"""A/B benchmark: Honcho routes with their response models declared, and without.

    python bench/bench_openapi.py                            # SQLite, 6 rounds, 3 s per slot
    python bench/bench_openapi.py --backends sqlite,postgresql --rounds 4 --concurrency 1,16

Two server processes run side by side over one database: "documented" is the application as
shipped (every route declares its response model for /openapi.json), "bare" is the same
application with each route rebuilt without `response_model` and `responses`. Each round runs
create-message and get-session against both, alternating which goes first (A B, then B A), so
drift (database growth, caches, CPU frequency) falls on both alike. Prints req/s per slot and
the ratio documented / bare per round, with the median over rounds. Handlers return finished
responses, so the ratio should be 1 within noise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_honcho import JSON, Fixture, setup
from common import (
    ROOT,
    Result,
    ServerProcess,
    check,
    embedded_postgres,
    free_port,
    interleave,
    run_load,
)

VARIANTS = ("documented", "bare")


def strip_response_models(asgi: Any) -> int:
    """Rebuild every route of the app that declares a response model without it; return how many."""
    from fastapi.routing import APIRoute

    app = asgi
    while not hasattr(app, "openapi"):  # unwrap the ASGI middlewares around FastAPI
        app = app.app
    routes = app.router.routes
    stripped = 0
    for index, route in enumerate(routes):
        if not isinstance(route, APIRoute) or route.response_model is None:
            continue
        routes[index] = APIRoute(
            route.path,
            route.endpoint,
            methods=route.methods,
            dependencies=route.dependencies,
            name=route.name,
            tags=route.tags,
            strict_content_type=route.strict_content_type,
            response_model=None,
        )
        stripped += 1
    return stripped


def serve_variant(variant: str, port: int) -> None:
    """Serve one variant in this process (the settings come from the environment)."""
    import uvicorn

    from mindkeeper.bootstrap import build_app
    from mindkeeper.config import Settings

    app = build_app(Settings())
    if variant == "bare":
        print(f"bare: {strip_response_models(app)} routes without response models", flush=True)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        loop="uvloop",
        http="httptools",
        server_header=False,
    )


@contextlib.contextmanager
def spawn(variant: str, database_url: str) -> Iterator[ServerProcess]:
    """Run one variant as a server process until the block ends."""
    port = free_port()
    env = {
        **os.environ,
        "MINDKEEPER_DATABASE_URL": database_url,
        "MINDKEEPER_EMBEDDER": "none",
        "MINDKEEPER_LOG_LEVEL": "warning",
    }
    cmd = [sys.executable, __file__, "--serve", variant, "--port", str(port)]
    process = subprocess.Popen(cmd, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{variant} server did not start") from None
                time.sleep(0.1)
        yield ServerProcess(f"http://127.0.0.1:{port}", process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


async def documented_operations(base: str) -> int:
    """Count the operations whose 200 has a non-empty schema in the server's document."""
    async with aiohttp.ClientSession() as http, http.get(f"{base}/openapi.json") as resp:
        document = json.loads(await check(resp))
    return sum(
        1
        for operations in document["paths"].values()
        for op in operations.values()
        if op["responses"]
        .get("200", {})
        .get("content", {})
        .get("application/json", {})
        .get("schema")
    )


async def v1_slot(fx: Fixture, scenario: str, concurrency: int, duration: float) -> Result:
    """Run one v1 scenario ("create message" or "get session") against one server."""
    message = json.dumps({"content": "hello there, how are you today?", "is_user": True})
    sessions_url = f"{fx.base}/v1/apps/{fx.app}/users/{fx.user}/sessions"

    async def create_message(http: aiohttp.ClientSession, i: int) -> None:
        async with http.post(f"{fx.s(i)}/messages", data=message, headers=JSON) as resp:
            await check(resp)

    async def get_session(http: aiohttp.ClientSession, i: int) -> None:
        sid = fx.sessions[i % len(fx.sessions)]
        async with http.get(f"{sessions_url}?session_id={sid}") as resp:
            await check(resp)

    op = create_message if scenario == "create message" else get_session
    result = await run_load(scenario, op, concurrency, duration)
    if result.errors:
        raise RuntimeError(f"{scenario}: {result.errors} failed requests")
    return result


async def one_slot(fx: Fixture, scenario: str, concurrency: int, duration: float) -> float:
    """Run one scenario against one server; return requests per second."""
    return (await v1_slot(fx, scenario, concurrency, duration)).rps


async def compare(
    name: str, fixtures: dict[str, Fixture], rounds: int, duration: float, conc: int
) -> None:
    """Interleave the variants round by round and print the figures."""
    scenarios = ("create message", "get session")
    for v in VARIANTS:  # warm both up before measuring
        for scenario in scenarios:
            await one_slot(fixtures[v], scenario, conc, min(duration, 1.0))
    await interleave(
        f"{name}: documented / bare, concurrency {conc}, {duration:g} s per slot",
        VARIANTS,
        scenarios,
        lambda v, scenario: one_slot(fixtures[v], scenario, conc, duration),
        rounds,
    )


async def response_model_runs(url: str, variant: str, requests: int = 100) -> int:
    """Drive one variant in this process; count how often FastAPI serialised a return value.

    `serialize_response` is where FastAPI validates and serialises against a response model;
    a profile hook counts its calls while create-message and get-session requests run.
    """
    import httpx
    from fastapi import routing

    from mindkeeper.bootstrap import build_app
    from mindkeeper.config import Settings

    settings = Settings(_env_file=None, database_url=url, embedder="none", worker_enabled=False)  # type: ignore[call-arg]
    app = build_app(settings)
    if variant == "bare":
        strip_response_models(app)
    target = routing.serialize_response.__code__
    calls = 0

    def profile(frame: Any, event: str, _: Any) -> None:
        nonlocal calls
        if event == "call" and frame.f_code is target:
            calls += 1

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        a = (await http.post("/v1/apps", json={"name": f"probe-{variant}-{time.time_ns()}"})).json()
        u = (await http.post(f"/v1/apps/{a['id']}/users", json={"name": "u"})).json()
        sessions = f"/v1/apps/{a['id']}/users/{u['id']}/sessions"
        s = (await http.post(sessions, json={})).json()
        message = {"content": "hello", "is_user": True}
        sys.setprofile(profile)
        try:
            for _ in range(requests // 2):
                r1 = await http.post(f"{sessions}/{s['id']}/messages", json=message)
                r2 = await http.get(sessions, params={"session_id": s["id"]})
                if r1.status_code != 200 or r2.status_code != 200:
                    raise RuntimeError(f"{variant}: {r1.status_code} {r2.status_code}")
        finally:
            sys.setprofile(None)
    return calls


async def bench_backend(
    name: str, url: str, rounds: int, duration: float, concurrencies: list[int]
) -> None:
    """Start both variants over one migrated database and compare them."""
    from mindkeeper.config import normalise_database_url
    from mindkeeper.storage import migrate

    await migrate.upgrade(normalise_database_url(url))
    with spawn("documented", url) as documented, spawn("bare", url) as bare:
        servers = {"documented": documented, "bare": bare}
        counts = {v: await documented_operations(s.url) for v, s in servers.items()}
        print(f"\n{name}: operations with a 200 schema: {counts}")
        runs = {v: await response_model_runs(normalise_database_url(url), v) for v in VARIANTS}
        print(f"{name}: FastAPI response serialisations over 100 requests: {runs}")
        fixtures = {v: await setup(s.url, sessions=32) for v, s in servers.items()}
        for conc in concurrencies:
            await compare(name, fixtures, rounds, duration, conc)


def main() -> None:
    """Parse arguments and run (or, with --serve, be one of the servers)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", default="sqlite")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--concurrency", default="16")
    parser.add_argument("--pg-url", help="PostgreSQL URL (default: an embedded server)")
    parser.add_argument("--serve", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_variant(args.serve, args.port)
        return
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    for backend in args.backends.split(","):
        with contextlib.ExitStack() as stack:
            if backend == "sqlite":
                tmp = stack.enter_context(tempfile.TemporaryDirectory())
                name, url = "SQLite", f"sqlite:///{tmp}/bench.db"
            else:
                name, url = "PostgreSQL", args.pg_url or stack.enter_context(embedded_postgres())
            asyncio.run(bench_backend(name, url, args.rounds, args.duration, concurrencies))


if __name__ == "__main__":
    main()
