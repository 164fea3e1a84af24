"""Online backup of a SQLite database with SQLite's backup API, while the server serves.

The copy is taken in one step from one read snapshot (in WAL mode readers do not block
writers), so it holds exactly the transactions committed before it began. It is written
beside the destination and renamed into place once complete and synced, so a backup that is
interrupted never leaves a partial file under the destination's name.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from mindkeeper.errors import Invalid, StartupError


def backup_sqlite(source: Path, destination: Path, busy_timeout_ms: int = 10_000) -> int:
    """Copy the database at `source` to `destination`; return the size of the copy in bytes."""
    if not source.exists():
        raise StartupError(f"cannot open the SQLite database {source}: no such file")
    if destination.resolve() == source.resolve():
        raise Invalid("the backup must go to another file than the database")
    if destination.is_dir():
        destination = destination / source.name
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=busy_timeout_ms / 1000)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)  # one step: one consistent snapshot
            dst.commit()
        finally:
            dst.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise StartupError(f"cannot back up the SQLite database {source}: {exc}") from None
    finally:
        src.close()
    with open(partial, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, destination)
    return destination.stat().st_size


def check_integrity(path: Path) -> str:
    """Run `PRAGMA integrity_check` on a SQLite file; "ok" when it is sound."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()
    return "; ".join(str(r[0]) for r in rows)
