"""`mindkeeper worker`: run the deriver worker alone (scale-out), until SIGTERM or Ctrl-C.

    mindkeeper worker [--concurrency N] [--database-url URL]

Run any number of these against one PostgreSQL database (next to `mindkeeper serve`, which
runs a worker too unless MINDKEEPER_WORKER_ENABLED=false). On SQLite, run one worker in all
(the server's). The schema must be at head (`mindkeeper migrate`). On SIGTERM or SIGINT the
worker stops claiming, lets the jobs in hand finish for MINDKEEPER_DERIVER_SHUTDOWN_GRACE_SECONDS
and hands back the rest.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import Any

from mindkeeper.cli.common import add_database_option, load_settings
from mindkeeper.config import Settings, redact_url
from mindkeeper.storage import location
from mindkeeper.storage import migrate as migrations


def register(sub: Any) -> None:
    """Add the subcommand."""
    parser = sub.add_parser("worker", help="run the deriver worker without the HTTP server")
    parser.add_argument(
        "--concurrency", type=int, help="job slots in this process (MINDKEEPER_DERIVER_CONCURRENCY)"
    )
    add_database_option(parser)
    parser.set_defaults(func=run)


async def _serve(settings: Settings) -> int:
    from mindkeeper.bootstrap import build_runtime
    from mindkeeper.core.services import queue
    from mindkeeper.worker.runner import DeriverWorker

    runtime = build_runtime(settings)  # the configuration is checked before the database
    try:
        current = await migrations.current_revision(settings.database_url)
        head = migrations.head_revision()
        if current != head:
            where = location.describe(settings.database_url)
            state = f"is at schema {current}, not {head}" if current else "has no schema yet"
            print(f"mindkeeper worker: {where} {state}: run `mindkeeper migrate`", file=sys.stderr)
            return 1
        reason = queue.deriver_unavailable_reason(runtime)
        if reason is not None:
            print(f"mindkeeper worker: cannot run: {reason}", file=sys.stderr)
            return 1
        # Logging starts with the worker: Alembic's notes on the revision check are not news.
        logging.basicConfig(
            level=settings.log_level.upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        worker = DeriverWorker(runtime)
        print(
            f"mindkeeper worker: {worker.name} on {redact_url(settings.database_url)}, "
            f"{worker.concurrency} job slot(s)",
            flush=True,
        )
        await worker.run(stop)
    finally:
        await runtime.close()
    print(
        f"mindkeeper worker: stopped ({worker.processed} done, {worker.failed} failed)",
        flush=True,
    )
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the worker until a signal stops it."""
    overrides: dict[str, Any] = {"worker_enabled": True}
    if args.concurrency is not None:
        overrides["deriver_concurrency"] = args.concurrency
    settings = load_settings(args, **overrides)
    return asyncio.run(_serve(settings))
