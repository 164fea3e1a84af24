"""`mindkeeper serve`: migrate, then run the HTTP server (and, by default, the worker)."""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

from mindkeeper.cli.common import add_database_option, load_settings
from mindkeeper.config import redact_url
from mindkeeper.storage import migrate as migrations


def register(sub: Any) -> None:
    """Add the subcommand."""
    parser = sub.add_parser("serve", help="run the server")
    parser.add_argument("--host", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 8000)")
    parser.add_argument("--workers", type=int, help="HTTP worker processes (default 1)")
    parser.add_argument("--access-log", action="store_true", help="log every request")
    add_database_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Migrate and serve until interrupted."""
    import uvicorn

    settings = load_settings(args, host=args.host, port=args.port, workers=args.workers)
    # Worker processes rebuild settings from the environment: hand the overrides down.
    os.environ["MINDKEEPER_DATABASE_URL"] = settings.database_url
    asyncio.run(migrations.upgrade(settings.database_url))
    path = settings.sqlite_path()
    where = f"SQLite file {path}" if path else redact_url(settings.database_url)
    print(f"mindkeeper: database {where} (schema at {migrations.head_revision()})", flush=True)
    print(f"mindkeeper: listening on http://{settings.host}:{settings.port}", flush=True)
    uvicorn.run(
        "mindkeeper.bootstrap:app_factory",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        access_log=args.access_log,
        loop="uvloop",
        http="httptools",
        proxy_headers=False,
        server_header=False,
    )
    return 0
