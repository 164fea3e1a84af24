"""The local master key: 32 random bytes in a file of the data directory, never in the database.

The file is `<data dir>/keys/master.key`, mode 0600, in a directory of mode 0700. It is created
on first use, atomically: the key is written to a private temporary file that is then
hard-linked to the final name, which fails when the name exists. Processes that race on a fresh
data directory therefore all end up reading the same, complete file.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

MASTER_KEY_BYTES = 32


def master_key_path(data_dir: Path) -> Path:
    """Where the master key of a data directory lives."""
    return data_dir / "keys" / "master.key"


def read_master_key(path: Path) -> bytes | None:
    """Return the master key stored at `path`; None when there is no such file.

    OSError when the file cannot be read, ValueError when it does not hold a key.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if len(data) != MASTER_KEY_BYTES:
        raise ValueError(f"{path} is not a master key ({len(data)} bytes, expected 32)")
    return data


def create_master_key(path: Path) -> bytes:
    """Return the master key at `path`, creating the file first when there is none.

    OSError when the directory or the file cannot be created.
    """
    existing = read_master_key(path)
    if existing is not None:
        return existing
    create_private_file(path, secrets.token_bytes(MASTER_KEY_BYTES))
    created = read_master_key(path)
    if created is None:
        raise FileNotFoundError(f"{path} vanished right after it was created")
    return created


def create_private_file(path: Path, data: bytes) -> None:
    """Write `data` to `path` (mode 0600, in a directory of mode 0700) unless the file exists:
    a private temporary file is hard-linked to the final name, so of processes that race the
    first one wins and the others keep its file. OSError when it cannot be created."""
    directory = path.parent
    # Missing parents too are made owner-only (mkdir's `parents` would use the umask).
    for missing in reversed([d for d in (directory, *directory.parents) if not d.exists()]):
        missing.mkdir(mode=0o700, exist_ok=True)
    if stat.S_IMODE(directory.stat().st_mode) != 0o700:
        os.chmod(directory, 0o700)
    temporary = directory / f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
    finally:
        temporary.unlink(missing_ok=True)
    _sync_directory(directory)


def _sync_directory(directory: Path) -> None:
    """Make the new directory entry durable where the platform allows it."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
