"""The Honcho targets measured with wrk (a C load generator, lighter than any Python client).

    apt-get install wrk
    python bench/bench_honcho_wrk.py [--backends sqlite,postgresql] [--duration 5] [--workers 1]

Prints requests/s and p50/p99 for create message, get session and batch of 100 at
concurrency 16 (and messages/s for the batch), plus /healthz as the framework's ceiling on
this machine at the same moment, so the figures can be read as a ratio too.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import embedded_postgres, serve

LUA_ROTATE = """
paths = {%s}
i = 0
wrk.method = "%s"
wrk.body = [[%s]]
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i + 1
  return wrk.format(nil, paths[(i %% #paths) + 1])
end
"""


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(
    url: str, script: str | None, duration: float, connections: int
) -> tuple[float, float, float]:
    """Run wrk; return (requests/s, p50 ms, p99 ms)."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency", url]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        if script:
            handle.write(script)
            cmd[1:1] = ["-s", handle.name]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    finally:
        Path(handle.name).unlink(missing_ok=True)
    if "Non-2xx" in out:
        raise RuntimeError(f"errors during the run:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    return rps, p50, p99


def run(name: str, url: str, duration: float, workers: int) -> None:
    """Seed one app, user and 16 sessions, then measure each scenario."""
    with serve(url, workers=workers, env={"MINDKEEPER_EMBEDDER": "none"}) as server:
        base = server.url
        with httpx.Client(base_url=base, timeout=30) as http:
            app = http.post("/v1/apps", json={"name": "wrk"}).json()["id"]
            user = http.post(f"/v1/apps/{app}/users", json={"name": "u"}).json()["id"]
            sessions_url = f"/v1/apps/{app}/users/{user}/sessions"
            sessions = [http.post(sessions_url, json={}).json()["id"] for _ in range(16)]
        quoted = ", ".join(f'"{sessions_url}/{s}/messages"' for s in sessions)
        gets = ", ".join(f'"{sessions_url}?session_id={s}"' for s in sessions)
        batch = json.dumps(
            {
                "messages": [
                    {"content": f"batch item {i}", "is_user": i % 2 == 0} for i in range(100)
                ]
            }
        )
        message = json.dumps({"content": "hello there, how are you today?", "is_user": True})
        batches = ", ".join(f'"{sessions_url}/{s}/messages/batch"' for s in sessions)
        plan = [
            ("healthz (framework ceiling)", base + "/healthz", None, 1),
            ("create message", base, LUA_ROTATE % (quoted, "POST", message), 1),
            ("get session", base, LUA_ROTATE % (gets, "GET", ""), 1),
            ("batch of 100", base, LUA_ROTATE % (batches, "POST", batch), 100),
        ]
        print(f"\n### {name} (wrk, 16 connections, server workers={workers})\n")
        print("| scenario | req/s | items/s | p50 ms | p99 ms |")
        print("|---|---:|---:|---:|---:|")
        for label, target, script, items in plan:
            rps, p50, p99 = wrk(target, script, duration, 16)
            print(f"| {label} | {rps:,.0f} | {rps * items:,.0f} | {p50:.2f} | {p99:.2f} |")
            sys.stdout.flush()
        print(f"\nserver resident memory {server.rss_mib():.0f} MiB")


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--pg-url")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                run("SQLite", f"sqlite:///{tmp}/bench.db", args.duration, args.workers)
        else:
            with contextlib.ExitStack() as stack:
                url = args.pg_url or stack.enter_context(embedded_postgres())
                run("PostgreSQL", url, args.duration, args.workers)


if __name__ == "__main__":
    main()
