"""Helpers shared by commands: settings with command-line overrides."""

from __future__ import annotations

import argparse
from typing import Any

from mindkeeper.config import Settings


def add_database_option(parser: argparse.ArgumentParser) -> None:
    """Add `--database-url`."""
    parser.add_argument(
        "--database-url",
        help="postgresql://… or sqlite:///…; default: MINDKEEPER_DATABASE_URL or a SQLite file",
    )


def load_settings(args: argparse.Namespace, **extra: Any) -> Settings:
    """Build settings from the environment, then apply command-line overrides."""
    overrides = {k: v for k, v in extra.items() if v is not None}
    if getattr(args, "database_url", None):
        overrides["database_url"] = args.database_url
    return Settings(**overrides)
