"""Console page times on a session of 100k messages (server side: the ASGI app in process).

The database is filled as in `bench_transfer.py` (one session of N messages); each page is
requested 30 times through the application itself (no network), and the median and p90 are
printed: the newest messages, a page deep in the session, a jump to the oldest date, the
workspace and the peer. With --postgres the same data is imported into an embedded
PostgreSQL and measured there too.

    python bench/bench_console.py [--messages 100000] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_transfer import fill
from common import embedded_postgres

from mindkeeper.bootstrap import build_runtime
from mindkeeper.cli.main import main as cli
from mindkeeper.config import Settings
from mindkeeper.http.app import create_app
from mindkeeper.storage.tables import messages, peers, sessions

RUNS = 30


async def measure(url: str, label: str) -> None:
    """Time each page."""
    settings = Settings(_env_file=None, database_url=url, worker_enabled=False, embedder="none")
    runtime = build_runtime(settings, embedder=None)
    app = create_app(settings, runtime)
    async with runtime.uow(write=False) as uow:
        conn = uow.connection
        session = (await conn.execute(sa.select(sessions))).first()
        peer = (await conn.execute(sa.select(peers.c.public_id))).scalar()
        keys = (
            await conn.execute(sa.select(sa.func.min(messages.c.id), sa.func.max(messages.c.id)))
        ).first()
    assert session is not None and keys is not None
    ws, sid = session.workspace_id, session.public_id
    middle = (keys[0] + keys[1]) // 2
    pages = {
        "session, newest 50": f"/console/w/{ws}/s/{sid}",
        "session, 50 from the middle": f"/console/w/{ws}/s/{sid}?before={middle}",
        "session, jump to the oldest date": f"/console/w/{ws}/s/{sid}?at=2025-01-01T00:00:00",
        "workspace": f"/console/w/{ws}",
        "peer": f"/console/w/{ws}/p/{peer}",
    }
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://mk") as http:
        for name, path in pages.items():
            times = []
            for _ in range(RUNS):
                started = time.perf_counter()
                response = await http.get(path)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text[:200]
            times.sort()
            print(
                f"| {label} | {name} | {statistics.median(times):.1f} | "
                f"{times[int(len(times) * 0.9)]:.1f} |",
                flush=True,
            )
    await runtime.close()


def main() -> None:
    """Fill, then measure on SQLite (and PostgreSQL)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mk-bench-console-"))
    fill(work / "console.db", args.messages)
    print(f"{args.messages:,} messages in one session\n")
    print("| database | page | p50 ms | p90 ms |")
    print("|---|---|---:|---:|")
    asyncio.run(measure(f"sqlite+aiosqlite:///{work / 'console.db'}", "SQLite"))
    if args.postgres:
        dump = work / "dump.jsonl.zst"
        cli(["export", "--database-url", f"sqlite:///{work / 'console.db'}", "-o", str(dump)])
        with embedded_postgres() as url:
            cli(["import", str(dump), "--database-url", url])
            asyncio.run(
                measure(url.replace("postgresql://", "postgresql+asyncpg://", 1), "PostgreSQL")
            )


if __name__ == "__main__":
    main()
