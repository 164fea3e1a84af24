"""`mindkeeper doctor`: print the resolved configuration, the database state and what is missing."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import sys
from typing import Any

from mindkeeper.cli.common import add_database_option, load_settings
from mindkeeper.config import Settings
from mindkeeper.diagnostics import database_problems, report
from mindkeeper.errors import MindkeeperError
from mindkeeper.storage import migrate as migrations


def register(sub: Any) -> None:
    """Add the subcommand."""
    parser = sub.add_parser("doctor", help="check configuration, database and dependencies")
    add_database_option(parser)
    parser.set_defaults(func=run)


async def _database(settings: Settings) -> dict[str, Any]:
    try:
        current = await migrations.current_revision(settings.database_url)
    except MindkeeperError as exc:  # a file that cannot be opened, a host that cannot be reached
        return {"reachable": False, "error": exc.message}
    except Exception as exc:  # reported, not raised: doctor must always print
        return {"reachable": False, "error": f"{type(exc).__name__}: {exc}"}
    head = migrations.head_revision()
    return {"reachable": True, "schema_revision": current, "schema_head": head}


def _problems(settings: Settings, database: dict[str, Any]) -> list[str]:
    problems = database_problems(database)
    from mindkeeper.bootstrap import build_security
    from mindkeeper.providers.secrets import SecretError

    try:
        build_security(settings)
    except SecretError as exc:
        problems.append(exc.message)
    if settings.embedder == "local":
        for module in ("onnxruntime", "tokenizers"):
            if importlib.util.find_spec(module) is None:
                problems.append(f"python package {module} is missing (local embedder)")
        from mindkeeper.providers.embedding import local

        try:
            local.LocalOnnxEmbedder().load()
        except local.AssetError as exc:
            problems.append(f"the packaged embedding model cannot be loaded: {exc}")
    return problems


def run(args: argparse.Namespace) -> int:
    """Print the report on stdout; when something is missing, also one line on stderr, exit 1."""
    settings = load_settings(args)
    database = asyncio.run(_database(settings))
    problems = _problems(settings, database)
    print(json.dumps(report(settings, database, problems), indent=2))
    if problems:
        print(f"mindkeeper: {'; '.join(problems)}", file=sys.stderr)
    return 1 if problems else 0
