"""`mindkeeper reindex`: re-embed documents and messages with the configured embedder,
resumably.

    mindkeeper reindex [--batch-size 64] [--database-url URL]

After changing MINDKEEPER_EMBEDDER (or the embedding model), documents embedded by the old
model are invisible to search, which never compares vectors of different models. This embeds
them again, batch by batch (each batch committed on its own), printing progress on stderr.
Messages without a vector of the configured model (written through v1, before the message
index existed, or under another embedder) are embedded next, for message search.
Interrupt it at any time; the next run carries on with what is still stale.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from mindkeeper.cli.common import add_database_option, load_settings, migrated_runtime
from mindkeeper.config import Settings


def register(sub: Any) -> None:
    """Add the subcommand."""
    parser = sub.add_parser(
        "reindex", help="re-embed documents and messages after a change of embedder"
    )
    parser.add_argument(
        "--batch-size", type=int, default=64, help="documents or messages per batch"
    )
    add_database_option(parser)
    parser.set_defaults(func=run)


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, width: int = 30, unit: str = "docs") -> None:
        self.width = width
        self.unit = unit
        self.started = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        """Redraw the bar."""
        share = done / total if total else 1.0
        filled = int(self.width * min(1.0, share))
        rate = done / max(1e-9, time.monotonic() - self.started)
        bar = "#" * filled + "-" * (self.width - filled)
        sys.stderr.write(f"\rreindex [{bar}] {done}/{total} ({share:.0%}) {rate:.0f} {self.unit}/s")
        sys.stderr.flush()


async def _reindex(settings: Settings, batch_size: int) -> int:
    from mindkeeper.core.services import reindex
    from mindkeeper.core.services.memory import indexing

    async with migrated_runtime(settings) as runtime:
        if runtime.embedder is None:
            print("mindkeeper reindex: no embedder is configured", file=sys.stderr)
            return 1
        print(f"mindkeeper reindex: embedding with {runtime.embedder.model_id}", file=sys.stderr)
        result = await reindex.reindex(runtime, max(1, batch_size), Progress())
        sys.stderr.write("\n")
        print(
            f"re-embedded {result.updated} of {result.total} document(s) with {result.model_id}"
            + (
                f"; {result.skipped} changed meanwhile, left for the next run"
                if result.skipped
                else ""
            )
        )
        indexed = await indexing.reindex_messages(
            runtime, max(1, batch_size), Progress(unit="messages")
        )
        sys.stderr.write("\n")
        print(f"embedded {indexed.embedded} of {indexed.total} message(s) with {indexed.model_id}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Re-embed every stale document and message."""
    settings = load_settings(args, worker_enabled=False)
    return asyncio.run(_reindex(settings, args.batch_size))
