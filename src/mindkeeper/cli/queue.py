"""`mindkeeper queue`: show the deriver's backlog, or give dead letters another try.

    mindkeeper queue [status] [--session-id S] [--json]
    mindkeeper queue retry [--session-id S]

`status` prints counts by state, retries, the oldest waiting job, whether the queue is stalled
(and why) and the sessions with unfinished or dead jobs; it exits 2 when the queue is stalled.
`retry` puts dead jobs back to pending with fresh attempts. Both migrate the database to the
shipped schema first, as `serve` does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from mindkeeper.cli.common import add_database_option, load_settings, migrated_runtime
from mindkeeper.config import Settings


def register(sub: Any) -> None:
    """Add the `queue` command group."""
    parser = sub.add_parser("queue", help="show the deriver queue, retry dead letters")
    parser.set_defaults(func=run_status, session_id=None, json=False)
    add_database_option(parser)
    group = parser.add_subparsers(dest="queue_command")
    status = group.add_parser("status", help="print the backlog (the default)")
    status.add_argument("--session-id", help="one session only")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    add_database_option(status)
    status.set_defaults(func=run_status)
    retry = group.add_parser("retry", help="put dead jobs back to pending")
    retry.add_argument("--session-id", help="one session only")
    add_database_option(retry)
    retry.set_defaults(func=run_retry)


def _settings(args: argparse.Namespace) -> Settings:
    # The same configuration as the server's, so the report judges the deriver as it runs there.
    return load_settings(args)


async def _status(settings: Settings, session_id: str | None) -> dict[str, Any]:
    from mindkeeper.core.services import queue

    async with migrated_runtime(settings) as runtime:
        return (await queue.report(runtime, session_id)).as_dict()


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def _print(report: dict[str, Any]) -> None:
    print(
        f"pending {report['pending']}  running {report['running']}  done {report['done']}  "
        f"dead {report['dead']}  retrying {report['retrying']}  "
        f"failed attempts {report['failed_attempts']}"
    )
    print(f"oldest waiting: {_age(report['oldest_pending_age_seconds'])}")
    print(f"last progress:  {report['last_progress_at'] or '-'}")
    state = "STALLED" if report["stalled"] else "ok"
    print(f"state: {state}" + (f" ({report['reason']})" if report["reason"] else ""))
    if report["last_error"]:
        print(f"last error: {report['last_error'][:300]}")
    hooks = report["webhooks"]
    if any(hooks[k] for k in ("pending", "running", "done", "dead")):
        print(
            f"webhooks: pending {hooks['pending']}  running {hooks['running']}  "
            f"done {hooks['done']}  dead {hooks['dead']}  retrying {hooks['retrying']}"
        )
        if hooks["last_error"]:
            print(f"last webhook error: {hooks['last_error'][:300]}")
    sessions = report["sessions"]
    if sessions:
        print()
        print(
            f"{'session':<22} {'pending':>7} {'running':>7} {'dead':>5} {'retry':>5} {'oldest':>7}"
        )
        for s in sessions:
            print(
                f"{s['session_id']:<22} {s['pending']:>7} {s['running']:>7} {s['dead']:>5} "
                f"{s['retrying']:>5} {_age(s['oldest_pending_age_seconds']):>7}"
            )


def run_status(args: argparse.Namespace) -> int:
    """Print the backlog; exit 2 when stalled."""
    report = asyncio.run(_status(_settings(args), args.session_id))
    if args.json:
        print(json.dumps({k: v for k, v in report.items() if k not in ("deriver", "models")}))
    else:
        _print(report)
    return 2 if report["stalled"] else 0


async def _retry(settings: Settings, session_id: str | None) -> int:
    from mindkeeper.core.services import queue

    async with migrated_runtime(settings) as runtime:
        return await queue.retry_dead(runtime, session_id)


def run_retry(args: argparse.Namespace) -> int:
    """Requeue dead letters."""
    count = asyncio.run(_retry(_settings(args), args.session_id))
    print(f"{count} dead job(s) put back to pending")
    return 0
