"""`mindkeeper export`, `mindkeeper import` and `mindkeeper backup`: move and copy the data.

    mindkeeper export [--workspace W] [-o FILE] [--zstd]     JSON Lines (zstd for *.zst)
    mindkeeper import FILE                                    idempotent: re-run to finish
    mindkeeper backup PATH                                    online copy of a SQLite file

The format is described in docs/operations.md. Export and import bring the schema to the
shipped head first, as `serve` does; a progress bar goes to stderr when it is a terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from mindkeeper.cli.common import add_database_option, load_settings, migrated_database
from mindkeeper.config import Settings
from mindkeeper.errors import Invalid, StartupError
from mindkeeper.storage import location

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def register(sub: Any) -> None:
    """Add the `export`, `import` and `backup` commands."""
    export = sub.add_parser("export", help="write everything (or one workspace) as JSON Lines")
    export.add_argument("--workspace", help="only this workspace (id or name)")
    export.add_argument("-o", "--output", help="file to write (default: stdout); *.zst: zstd")
    export.add_argument("--zstd", action="store_true", help="compress with zstd")
    add_database_option(export)
    export.set_defaults(func=run_export)
    load = sub.add_parser("import", help="load an export (idempotent: re-run to finish)")
    load.add_argument("file", help="an export file (plain or zstd), or - for stdin")
    add_database_option(load)
    load.set_defaults(func=run_import)
    backup = sub.add_parser("backup", help="copy a SQLite database while the server runs")
    backup.add_argument("path", help="file (or directory) to write the copy to")
    backup.add_argument("--check", action="store_true", help="run PRAGMA integrity_check after")
    add_database_option(backup)
    backup.set_defaults(func=run_backup)


class Bar:
    """A one-line progress bar on stderr (only when stderr is a terminal)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.table = ""
        self.total: int | None = None
        self.done = 0
        self.started = time.monotonic()
        self._shown = 0.0

    def start(self, table: str, total: int | None) -> None:
        """Begin a table."""
        self.table, self.total, self.done = table, total, 0
        self.started = time.monotonic()
        self._show(force=True)

    def advance(self, rows: int) -> None:
        """Count rows."""
        self.done += rows
        self._show()

    def finish(self) -> None:
        """End the table's line."""
        self._show(force=True)
        self.stream.write("\n")
        self.stream.flush()

    def _show(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._shown < 0.1:
            return
        self._shown = now
        rate = self.done / max(now - self.started, 1e-6)
        if self.total:
            filled = int(30 * min(self.done, self.total) / self.total)
            bar = "#" * filled + "." * (30 - filled)
            text = f"{self.table:<24} [{bar}] {self.done}/{self.total}"
        else:
            text = f"{self.table:<24} {self.done} rows"
        self.stream.write(f"\r{text} {rate:,.0f} rows/s\033[K")
        self.stream.flush()


def _progress() -> Bar | None:
    return Bar(sys.stderr) if sys.stderr.isatty() else None


@contextmanager
def _output(path: str | None, compress: bool) -> Iterator[IO[bytes]]:
    """The export's destination: a file written beside its name and renamed when complete."""
    import zstandard

    if path is None or path == "-":
        raw: IO[bytes] = sys.stdout.buffer
        if compress:
            writer = zstandard.ZstdCompressor(level=3).stream_writer(raw, closefd=False)
            yield writer
            writer.close()  # type: ignore[no-untyped-call]
        else:
            yield raw
        raw.flush()
        return
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    try:
        with open(partial, "wb", buffering=1 << 20) as handle:
            if compress:
                compressor = zstandard.ZstdCompressor(level=3)
                with compressor.stream_writer(handle, closefd=False) as writer:
                    yield writer
            else:
                yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


@contextmanager
def _input(path: str) -> Iterator[Iterator[bytes]]:
    """The lines of an export file (zstd is recognised by its magic number)."""
    import zstandard

    # One buffered reader over the file (stdin's own for "-"): a second buffer over a pipe
    # would wait for a whole buffer of input before handing out a line.
    stdin = path == "-"
    handle: IO[bytes] = sys.stdin.buffer if stdin else open(path, "rb", buffering=1 << 20)
    try:
        peek = getattr(handle, "peek", None)
        head = peek(4)[:4] if peek is not None else b""
        if head == ZSTD_MAGIC:
            reader = zstandard.ZstdDecompressor().stream_reader(handle)
            yield iter(io.BufferedReader(reader, buffer_size=1 << 20))
        else:
            yield iter(handle)
    finally:
        if not stdin:
            handle.close()


async def _export(settings: Settings, args: argparse.Namespace) -> tuple[int, float]:
    from mindkeeper.storage.transfer.exporter import Summary, export_lines, resolve_workspace

    async with migrated_database(settings) as db:
        started = time.monotonic()
        workspace = await resolve_workspace(db, args.workspace) if args.workspace else None
        compress = bool(args.zstd or (args.output or "").endswith(".zst"))
        summary = Summary()
        with _output(args.output, compress) as out:
            async for chunk in export_lines(
                db, workspace_id=workspace, progress=_progress(), summary=summary
            ):
                out.write(chunk)
    return summary.rows, time.monotonic() - started


def run_export(args: argparse.Namespace) -> int:
    """Write the export; a summary line goes to stderr."""
    settings = load_settings(args)
    rows, seconds = asyncio.run(_export(settings, args))
    where = args.output or "stdout"
    print(
        f"mindkeeper: exported {rows} rows from {location.describe(settings.database_url)} "
        f"to {where} in {seconds:.1f} s",
        file=sys.stderr,
    )
    return 0


async def _import(settings: Settings, path: str) -> tuple[Any, float]:
    from mindkeeper.storage.transfer.importer import import_lines

    async with migrated_database(settings) as db:
        started = time.monotonic()
        with _input(path) as lines:
            result = await import_lines(db, lines, _progress())
    return result, time.monotonic() - started


def run_import(args: argparse.Namespace) -> int:
    """Load the export; a summary line goes to stdout."""
    from mindkeeper.storage.transfer.format import FormatError

    settings = load_settings(args)
    if args.file != "-" and not Path(args.file).is_file():
        raise StartupError(f"cannot read {args.file}: no such file")
    try:
        result, seconds = asyncio.run(_import(settings, args.file))
    except FormatError as exc:
        raise Invalid(f"{args.file}: {exc}") from None
    added = result.summary.rows - result.skipped
    print(
        f"mindkeeper: imported {added} rows ({result.skipped} already there) into "
        f"{location.describe(settings.database_url)} in {seconds:.1f} s"
    )
    return 0


def run_backup(args: argparse.Namespace) -> int:
    """Copy the SQLite database; for PostgreSQL, say to use pg_dump."""
    from mindkeeper.storage.transfer.backup import backup_sqlite, check_integrity

    settings = load_settings(args)
    source = settings.sqlite_path()
    if source is None:
        raise Invalid(
            "mindkeeper backup copies SQLite databases; for PostgreSQL use pg_dump "
            "(see docs/operations.md)"
        )
    target = Path(args.path)
    size = backup_sqlite(source, target, settings.sqlite_busy_timeout_ms)
    final = target / source.name if target.is_dir() else target
    print(f"mindkeeper: backed up {source} to {final} ({size} bytes)")
    if args.check:
        verdict = check_integrity(final)
        print(f"mindkeeper: integrity_check: {verdict}")
        return 0 if verdict == "ok" else 1
    return 0
