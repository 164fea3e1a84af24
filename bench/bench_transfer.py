"""Export and import throughput and peak memory, at growing sizes (memory must stay flat).

A SQLite database is filled with one session of N messages (rows written directly, as a
large installation would hold them), then `mindkeeper export` and `mindkeeper import` run as
processes of their own: rows per second and each process's peak RSS are printed, for SQLite
and, with --postgres, an embedded PostgreSQL as the import target.

    python bench/bench_transfer.py [--messages 100000 1000000] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, embedded_postgres

from mindkeeper.core.values import new_id
from mindkeeper.storage import migrate
from mindkeeper.storage.tables import messages, peers, sessions, workspaces


def fill(path: Path, count: int) -> None:
    """A workspace, a peer and a session with `count` messages."""
    asyncio.run(migrate.upgrade(f"sqlite+aiosqlite:///{path}"))
    engine = sa.create_engine(f"sqlite:///{path}")
    now = datetime(2025, 1, 1, tzinfo=UTC)
    ws, peer, session = new_id(), new_id(), new_id()
    with engine.begin() as conn:
        conn.execute(
            sa.insert(workspaces).values(public_id=ws, name="bench", metadata={}, created_at=now)
        )
        conn.execute(
            sa.insert(peers).values(
                public_id=peer, name="u", workspace_id=ws, metadata={}, created_at=now
            )
        )
        conn.execute(
            sa.insert(sessions).values(
                public_id=session,
                workspace_id=ws,
                peer_id=peer,
                name=session,
                metadata={},
                created_at=now,
                message_count=count,
            )
        )
        batch = []
        for i in range(count):
            batch.append(
                {
                    "public_id": new_id()[:13] + f"{i:08d}",
                    "session_id": session,
                    "is_user": i % 2 == 0,
                    "content": f"message {i}: a sentence of ordinary length about ordinary things",
                    "workspace_id": ws,
                    "peer_id": peer,
                    "sender_id": peer,
                    "seq": i + 1,
                    "token_count": 12,
                    "metadata": {"n": i},
                    "created_at": now + timedelta(milliseconds=i),
                }
            )
            if len(batch) == 20_000:
                conn.execute(sa.insert(messages), batch)
                batch = []
        if batch:
            conn.execute(sa.insert(messages), batch)
    engine.dispose()


def row(count: int, step: str, rows: int, seconds: float, rss: float, size: str = "") -> None:
    """Print one line of the table."""
    rate = rows / seconds
    print(f"| {count:,} | {step} | {rate:,.0f} | {seconds:.1f} | {rss:.0f} | {size} |", flush=True)


def run(*args: str) -> tuple[float, float]:
    """Run a command as a process; return (seconds, peak RSS in MiB)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDKEEPER_")}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mindkeeper.cli.main", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    watch = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, watch.memory_info().rss)
        except psutil.Error:
            break
        time.sleep(0.05)
    if proc.wait() != 0:
        raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "failed")
    return time.perf_counter() - started, peak / 2**20


def main() -> None:
    """Measure each size."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    print("| messages | step | rows/s | seconds | peak RSS MiB | file MiB |")
    print("|---:|---|---:|---:|---:|---:|")
    for count in args.messages:
        work = Path(tempfile.mkdtemp(prefix="mk-bench-transfer-"))
        source = work / "source.db"
        fill(source, count)
        rows = count + 3
        dump = work / "export.jsonl.zst"
        seconds, rss = run("export", "--database-url", f"sqlite:///{source}", "-o", str(dump))
        size = dump.stat().st_size / 2**20
        row(count, "export SQLite (zstd)", rows, seconds, rss, f"{size:.1f}")
        targets = [("SQLite", f"sqlite:///{work / 'target.db'}", None)]
        for name, url, _ in targets:
            seconds, rss = run("import", str(dump), "--database-url", url)
            row(count, f"import into {name}", rows, seconds, rss)
        if args.postgres:
            with embedded_postgres() as url:
                seconds, rss = run("import", str(dump), "--database-url", url)
                row(count, "import into PostgreSQL", rows, seconds, rss)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
