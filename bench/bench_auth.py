"""The cost of authentication: the same requests with auth off and on, A/B interleaved.

Starts two `mindkeeper serve` processes over one database, one with authentication off and one
with it on (Honcho bearer keys, Bedrock SigV4), then alternates short rounds between them so
that drift (other load on the machine, database growth) hits both sides alike. Scenarios:

- Honcho create-message (POST …/messages) with a user key;
- Honcho get-session (GET …/sessions?session_id=) with a session key;
- Bedrock put-step (PUT /sessions/{id}/invocationSteps/), SigV4-signed.

Each round runs every scenario on both sides back to back (the order flips every round);
the reported ratio is the median of the per-round on/off ratios. Requests are built (and
signed) before each round, so the load generator stays light; a signed
request is replayed within its validity window, as a retrying client would. The off side gets
the same headers (they are ignored there). Prints req/s per side, the ratio on/off, and the
server process's CPU time per request on each side (robust when the machine is shared).

    .venv/bin/python bench/bench_auth.py                          # SQLite, 5 rounds of 2 s
    .venv/bin/python bench/bench_auth.py --pg --rounds 6          # SQLite and embedded PostgreSQL
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psutil
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, check, embedded_postgres, run_load, serve

REGION = "us-east-1"
SECRET = base64.urlsafe_b64encode(os.urandom(48)).decode()
CREDENTIALS_KEY = base64.b64encode(os.urandom(32)).decode()
JSON_HEADERS = {"Content-Type": "application/json"}
SCENARIOS = ("honcho create-message", "honcho get-session", "bedrock put-step")
COMMON_ENV = {
    "MINDKEEPER_EMBEDDER": "none",
    "MINDKEEPER_WORKER_ENABLED": "false",
    "MINDKEEPER_BEDROCK_REGION": REGION,
    "MINDKEEPER_AUTH_JWT_SECRET": SECRET,
    "MINDKEEPER_AUTH_CREDENTIALS_KEY": CREDENTIALS_KEY,
}


@dataclass
class Prepared:
    """One request ready to send: method, path, headers, body."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None = None


@dataclass
class World:
    """The ids and keys the scenarios use."""

    app: str = ""
    user: str = ""
    session: str = ""
    user_key: str = ""
    session_key: str = ""
    agent_session: str = ""
    invocation: str = ""
    access_key: tuple[str, str] = ("", "")
    totals: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    cpu_us: dict[tuple[str, str], list[float]] = field(default_factory=dict)


def cli(env: dict[str, str], *args: str) -> str:
    """Run the command line and return its stdout."""
    result = subprocess.run(
        [sys.executable, "-m", "mindkeeper.cli.main", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


async def call(http: aiohttp.ClientSession, base: str, req: Prepared, expected: int = 200) -> Any:
    """Send a prepared request; return the decoded JSON."""
    async with http.request(req.method, base + req.path, data=req.body, headers=req.headers) as r:
        body = await check(r, expected)
    return json.loads(body) if body else None


def sign(base: str, key: tuple[str, str], method: str, path: str, body: bytes) -> Prepared:
    """A SigV4-signed request as botocore makes it."""
    request = AWSRequest(method=method, url=base + path, data=body, headers=dict(JSON_HEADERS))
    SigV4Auth(Credentials(*key), "bedrock", REGION).add_auth(request)
    return Prepared(method, path, dict(request.headers.items()), body)


async def setup(on: str, env: dict[str, str]) -> World:
    """Create the data through the auth-on server (the off server shares the database)."""
    world = World()
    admin = {"Authorization": f"Bearer {cli(env, 'keys', 'create', '--admin').strip()}"}
    lines = cli(env, "credentials", "create").strip().splitlines()
    values = dict(line.split(" = ", 1) for line in lines)
    world.access_key = (values["aws_access_key_id"], values["aws_secret_access_key"])
    headers = {**admin, **JSON_HEADERS}
    async with aiohttp.ClientSession() as http:
        app = await call(http, on, Prepared("POST", "/v1/apps", headers, b'{"name": "bench-auth"}'))
        world.app = app["id"]
        base = f"/v1/apps/{world.app}/users"
        user = await call(http, on, Prepared("POST", base, headers, b'{"name": "u"}'))
        world.user = user["id"]
        session = await call(
            http, on, Prepared("POST", f"{base}/{world.user}/sessions", headers, b"{}")
        )
        world.session = session["id"]
        for name, params in (
            ("user_key", f"user_id={world.user}"),
            ("session_key", f"session_id={world.session}"),
        ):
            minted = await call(http, on, Prepared("POST", f"/v1/keys?{params}", admin))
            setattr(world, name, minted["key"])
        created = await call(http, on, sign(on, world.access_key, "PUT", "/sessions/", b"{}"), 201)
        world.agent_session = created["sessionId"]
        path = f"/sessions/{world.agent_session}/invocations/"
        invocation = await call(http, on, sign(on, world.access_key, "PUT", path, b"{}"), 201)
        world.invocation = invocation["invocationId"]
    return world


def scenarios(world: World, base: str) -> dict[str, tuple[Prepared, int]]:
    """The three requests, prepared (and signed) for one round against `base`."""
    session_path = f"/v1/apps/{world.app}/users/{world.user}/sessions"
    message = json.dumps({"content": "hello from the benchmark", "is_user": True}).encode()
    step = json.dumps(
        {
            "invocationIdentifier": world.invocation,
            "invocationStepTime": "2025-03-01T12:00:00Z",
            "payload": {"contentBlocks": [{"text": "checkpoint " * 20}]},
        }
    ).encode()
    user = {"Authorization": f"Bearer {world.user_key}", **JSON_HEADERS}
    session = {"Authorization": f"Bearer {world.session_key}"}
    return {
        "honcho create-message": (
            Prepared("POST", f"{session_path}/{world.session}/messages", user, message),
            200,
        ),
        "honcho get-session": (
            Prepared("GET", f"{session_path}?session_id={world.session}", session),
            200,
        ),
        "bedrock put-step": (
            sign(
                base,
                world.access_key,
                "PUT",
                f"/sessions/{world.agent_session}/invocationSteps/",
                step,
            ),
            201,
        ),
    }


def cpu_seconds(process: Any) -> float:
    """User + system CPU time of a server process."""
    times = process.cpu_times()
    return float(times.user + times.system)


async def measure(
    world: World,
    sides: dict[str, str],
    processes: dict[str, Any],
    rounds: int,
    duration: float,
    concurrency: int,
) -> None:
    """Per round and scenario, run both sides back to back (order flipped every round)."""
    for index in range(rounds):
        order = list(sides.items()) if index % 2 == 0 else list(reversed(sides.items()))
        prepared = {side: scenarios(world, base) for side, base in order}
        for name in SCENARIOS:
            for side, base in order:
                req, expected = prepared[side][name]

                async def op(
                    http: aiohttp.ClientSession,
                    _: int,
                    req: Prepared = req,
                    expected: int = expected,
                    base: str = base,
                ) -> None:
                    await call(http, base, req, expected)

                cpu_before = cpu_seconds(processes[side])
                result = await run_load(name, op, concurrency, duration)
                cpu = cpu_seconds(processes[side]) - cpu_before
                if result.errors:
                    raise RuntimeError(f"{side} {name}: {result.errors} errors")
                world.totals.setdefault((name, side), []).append(result.rps)
                world.cpu_us.setdefault((name, side), []).append(cpu / result.requests * 1e6)


def report(title: str, world: World) -> None:
    """Print throughput and server CPU per request, off and on, with the cost of auth.

    Throughput on a shared machine is noisy; the server's CPU time per request is not (it
    does not count time spent waiting), so the cost is given on both.
    """
    print(f"\n### {title}\n")
    print(
        "| scenario | off req/s | on req/s | on/off req/s (median of rounds) "
        "| off CPU µs/req | on CPU µs/req | CPU cost |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in SCENARIOS:
        offs, ons = world.totals[(name, "off")], world.totals[(name, "on")]
        ratio = statistics.median(on / off for on, off in zip(ons, offs, strict=True))
        cpu_off = statistics.median(world.cpu_us[(name, "off")])
        cpu_on = statistics.median(world.cpu_us[(name, "on")])
        print(
            f"| {name} | {statistics.mean(offs):,.0f} | {statistics.mean(ons):,.0f} "
            f"| {ratio:.3f} ({(1 - ratio) * 100:+.1f}%) | {cpu_off:,.0f} | {cpu_on:,.0f} "
            f"| {(cpu_on / cpu_off - 1) * 100:+.1f}% |"
        )
    sys.stdout.flush()


@contextmanager
def pair(
    database_url: str,
) -> Iterator[tuple[dict[str, str], dict[str, Any], dict[str, str]]]:
    """The two servers (off, on) over one database: their URLs, processes and the CLI env."""
    env = {**os.environ, **COMMON_ENV, "MINDKEEPER_DATABASE_URL": database_url}
    with ExitStack() as stack:
        off = stack.enter_context(
            serve(database_url, env={**env, "MINDKEEPER_AUTH_ENABLED": "false"})
        )
        on = stack.enter_context(
            serve(database_url, env={**env, "MINDKEEPER_AUTH_ENABLED": "true"})
        )
        processes = {"off": psutil.Process(off.process.pid), "on": psutil.Process(on.process.pid)}
        yield {"off": off.url, "on": on.url}, processes, env


def run_backend(title: str, database_url: str, args: argparse.Namespace) -> None:
    """Set up, measure and print one backend."""
    with pair(database_url) as (sides, processes, env):
        world = asyncio.run(setup(sides["on"], {**env, "MINDKEEPER_AUTH_ENABLED": "true"}))
        asyncio.run(measure(world, sides, processes, args.rounds, args.duration, args.concurrency))
        rounds = f"{args.rounds} interleaved rounds of {args.duration:g} s"
        report(f"{title}: {rounds}, concurrency {args.concurrency}", world)


def main() -> None:
    """Parse arguments and run the selected backends."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--pg", action="store_true", help="also run on an embedded PostgreSQL")
    parser.add_argument("--pg-url", help="also run on this PostgreSQL database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mk-bench-auth-") as tmp:
        run_backend("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", args)
    if args.pg_url:
        run_backend("PostgreSQL", args.pg_url, args)
    elif args.pg:
        with embedded_postgres() as url:
            run_backend("PostgreSQL (embedded)", url, args)


if __name__ == "__main__":
    main()
