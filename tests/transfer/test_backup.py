"""`mindkeeper backup`: a consistent copy of a SQLite database taken while the server writes.

Messages are written over HTTP by a thread; once some are acknowledged, a backup is taken
while the thread keeps writing. The copy passes `PRAGMA integrity_check` and holds every
message acknowledged before the backup began.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mindkeeper.cli.main import main
from tests.conftest import LiveServer
from tests.fill import ok

WRITES = 400
BACKUP_AFTER = 100


def test_backup_under_write_load(
    backend: str, server_factory: Callable[..., LiveServer], tmp_path: Path
) -> None:
    """Every write acknowledged before the backup began is in the copy; the copy is sound."""
    if backend != "sqlite":
        pytest.skip("mindkeeper backup copies SQLite databases (PostgreSQL: pg_dump)")
    server = server_factory(worker_enabled=False)
    acked: list[str] = []
    started = threading.Event()
    failures: list[BaseException] = []
    with httpx.Client(base_url=server.url, timeout=60) as http:
        app = ok(http.post("/v1/apps", json={"name": "backup"}))["id"]
        user = ok(http.post(f"/v1/apps/{app}/users", json={"name": "u"}))["id"]
        base = f"/v1/apps/{app}/users/{user}/sessions"
        session = ok(http.post(base, json={}))["id"]

    def write() -> None:
        try:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                for i in range(WRITES):
                    body = {"content": f"write {i}", "is_user": True}
                    acked.append(ok(http.post(f"{base}/{session}/messages", json=body))["id"])
                    if len(acked) == BACKUP_AFTER:
                        started.set()
        except BaseException as exc:
            failures.append(exc)
            started.set()

    writer = threading.Thread(target=write)
    writer.start()
    assert started.wait(120)
    before = list(acked)  # acknowledged before the backup began
    copy = tmp_path / "copy.db"
    assert main(["backup", str(copy), "--database-url", server.settings.database_url]) == 0
    writer.join()
    assert not failures
    conn = sqlite3.connect(copy)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        held = {row[0] for row in conn.execute("SELECT public_id FROM messages")}
    finally:
        conn.close()
    assert len(before) >= BACKUP_AFTER
    assert set(before) <= held
    assert len(held) <= WRITES


def test_backup_refuses_postgresql(tmp_path: Path) -> None:
    """For PostgreSQL the command points at pg_dump."""
    url = "postgresql://u:p@127.0.0.1:1/db"
    assert main(["backup", str(tmp_path / "x"), "--database-url", url]) == 1
