"""Where the database lives: the SQLite file's directory made ready, and failures to reach it named.

The default SQLite file sits in the user data directory, which is created here (owner-only,
missing parents too) the first time any command opens it. The directory of an explicit
`sqlite:///` path is never created: a path that cannot work is reported instead. Every failure
becomes a `StartupError` with one line naming the file, or the PostgreSQL host and port, and
the reason.
"""

from __future__ import annotations

import os
import socket
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mindkeeper.config import default_data_dir
from mindkeeper.errors import StartupError

DATA_DIR_MODE = 0o700
#: SQLite errors that mean the file itself is unusable, not that a statement went wrong.
_SQLITE_FILE_ERRORS = (
    "unable to open database file",
    "attempt to write a readonly database",
    "file is not a database",
)


def sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL and in-memory SQLite."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def describe(database_url: str) -> str:
    """How messages name the database: its SQLite file, or the PostgreSQL host and port."""
    path = sqlite_file(database_url)
    if path is not None:
        return f"the SQLite database {path}"
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return "the in-memory SQLite database"
    host = url.host or url.query.get("host") or "localhost"
    return f"PostgreSQL at {host}:{url.port or 5432}"


def _cannot_open(path: Path, reason: str) -> StartupError:
    return StartupError(f"cannot open the SQLite database {path}: {reason}")


def create_private_dirs(directory: Path) -> None:
    """Create a directory and its missing parents, each readable by its owner only."""
    missing: list[Path] = []
    current = directory
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=DATA_DIR_MODE)
        except FileExistsError:
            continue
        except OSError as exc:
            raise StartupError(
                f"cannot create the data directory {path}: {exc.strerror or exc}"
            ) from None
        os.chmod(path, DATA_DIR_MODE)  # mkdir's mode passes through the umask


def _check_file(path: Path) -> None:
    """Refuse a SQLite path that cannot work, saying why."""
    parent = path.parent
    if path.is_dir():
        raise _cannot_open(path, "it is a directory")
    if not parent.exists():
        raise _cannot_open(path, f"the directory {parent} does not exist")
    if not parent.is_dir():
        raise _cannot_open(path, f"{parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise _cannot_open(path, f"the directory {parent} is not writable")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise _cannot_open(path, "the file is not readable and writable")
    # Open it once here, synchronously: when aiosqlite fails to open a file, its worker thread
    # can outlive the event loop and print a traceback as the process exits.
    try:
        sqlite3.connect(path).close()
    except sqlite3.Error as exc:
        raise _cannot_open(path, str(exc)) from None


#: SQLite features the storage layer uses: RETURNING (3.35), UPDATE ... FROM (3.33) and the
#: `->` JSON operator (3.38).
SQLITE_MIN_VERSION = (3, 38, 0)


def check_sqlite_version(version: tuple[int, int, int] = sqlite3.sqlite_version_info) -> None:
    """StartupError when the SQLite library this Python links is older than we need."""
    if version < SQLITE_MIN_VERSION:
        need = ".".join(map(str, SQLITE_MIN_VERSION))
        have = ".".join(map(str, version))
        raise StartupError(
            f"SQLite {need} or newer is needed, but this Python uses SQLite {have}; "
            "use a newer Python build or PostgreSQL (MINDKEEPER_DATABASE_URL)"
        )


def prepare(database_url: str) -> None:
    """Make the SQLite file's place ready: create the default data directory, check the rest."""
    if make_url(database_url).get_backend_name() == "sqlite":
        check_sqlite_version()
    path = sqlite_file(database_url)
    if path is None:
        return
    if path.parent == default_data_dir():
        create_private_dirs(path.parent)
    _check_file(path)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, DBAPIError) and isinstance(exc.orig, BaseException):
        exc = exc.orig
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and not isinstance(exc, socket.gaierror) and exc.errno:
        return os.strerror(exc.errno)  # the plain reason, not asyncio's "Connect call failed"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    # asyncpg's errors reach us as "<class 'asyncpg.exceptions.X'>: message"
    return text.split(">: ", 1)[1] if text.startswith("<class '") and ">: " in text else text


def failure(database_url: str, exc: BaseException, *, connecting: bool) -> StartupError | None:
    """The start-up error for a database that cannot be opened or reached; None otherwise.

    While connecting every driver or network error counts; afterwards only the SQLite errors
    that say the file itself is unusable (a read-only file, a file that is not a database).
    """
    if not isinstance(exc, OSError | DBAPIError):
        return None
    path = sqlite_file(database_url)
    if not connecting and (path is None or _reason(exc) not in _SQLITE_FILE_ERRORS):
        return None
    if path is not None:
        return _cannot_open(path, _reason(exc))
    return StartupError(f"cannot connect to {describe(database_url)}: {_reason(exc)}")


@asynccontextmanager
async def begin(engine: AsyncEngine, database_url: str) -> AsyncIterator[AsyncConnection]:
    """Connect and open a transaction; a database that cannot be opened is a StartupError."""
    try:
        conn = await engine.connect()
    except (OSError, DBAPIError) as exc:
        error = failure(database_url, exc, connecting=True)
        if error is None:
            raise
        raise error from None
    try:
        async with conn.begin():
            yield conn
    except DBAPIError as exc:
        error = failure(database_url, exc, connecting=False)
        if error is None:
            raise
        raise error from None
    finally:
        await conn.close()
