"""Entry point: parses arguments and dispatches to a command module."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mindkeeper import __version__
from mindkeeper.cli import (
    credentials,
    doctor,
    keys,
    migrate,
    queue,
    reindex,
    serve,
    transfer,
    worker,
)
from mindkeeper.errors import MindkeeperError


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="mindkeeper", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve.register(sub)
    migrate.register(sub)
    doctor.register(sub)
    keys.register(sub)
    credentials.register(sub)
    worker.register(sub)
    queue.register(sub)
    reindex.register(sub)
    transfer.register(sub)
    version = sub.add_parser("version", help="print the version")
    version.set_defaults(func=lambda _args: print(f"mindkeeper {__version__}") or 0)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    A domain error ends the command with its message as one line on stderr and status 1: a
    start-up failure (a setting, a secret file, the database, the port) or a refused request.
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except MindkeeperError as exc:
        print(f"mindkeeper: {' '.join(exc.message.splitlines())}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
