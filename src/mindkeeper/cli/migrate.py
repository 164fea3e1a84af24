"""`mindkeeper migrate`: bring the database schema to the shipped head."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from mindkeeper.cli.common import add_database_option, load_settings
from mindkeeper.config import redact_url
from mindkeeper.storage import migrate as migrations


def register(sub: Any) -> None:
    """Add the subcommand."""
    parser = sub.add_parser("migrate", help="run database migrations and exit")
    add_database_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Upgrade to head."""
    settings = load_settings(args)
    asyncio.run(migrations.upgrade(settings.database_url))
    revision = asyncio.run(migrations.current_revision(settings.database_url))
    print(f"database {redact_url(settings.database_url)} is at revision {revision}")
    return 0
