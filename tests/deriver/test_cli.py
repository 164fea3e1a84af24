"""`mindkeeper queue` and `mindkeeper worker` as real subprocesses (SQLite)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mindkeeper.bootstrap import build_runtime
from mindkeeper.core.ports import NewMessage
from mindkeeper.core.services import messages, peers, sessions, workspaces
from mindkeeper.storage import migrate
from tests.conftest import make_settings


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mindkeeper.cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


async def _seed(url: str) -> str:
    await migrate.upgrade(url)
    rt = build_runtime(make_settings(url, worker_enabled=False), embedder=None, chat_model=None)
    try:
        ws = await workspaces.create(rt.uow(), "cli", {})
        peer = await peers.create(rt.uow(), ws.id, "u", {})
        session = await sessions.create(rt.uow(), ws.id, peer.id, {})
        batch = [NewMessage("hello", True, {}), NewMessage("hi", False, {})]
        await messages.create_many(rt.uow(), ws.id, peer.id, session.id, batch)
    finally:
        await rt.close()
    return session.id


@pytest.fixture
def seeded(tmp_path: Path, backend: str) -> tuple[str, str]:
    if backend != "sqlite":
        pytest.skip("the commands' output is the same on both databases")
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    return url, asyncio.run(_seed(url))


def test_queue_status_and_stall_exit_code(seeded: tuple[str, str]) -> None:
    url, session_id = seeded
    result = _cli("queue", "--database-url", url, MINDKEEPER_EMBEDDER="none")
    assert result.returncode == 0, result.stderr
    assert "pending 2  running 0  done 0  dead 0" in result.stdout
    assert "the deriver has no chat model" in result.stdout  # why nothing moves
    assert session_id in result.stdout
    stalled = _cli(
        "queue",
        "status",
        "--json",
        "--database-url",
        url,
        MINDKEEPER_WORKER_ENABLED="false",
        MINDKEEPER_DERIVER_STALL_SECONDS="0.001",
    )
    assert stalled.returncode == 2
    report = json.loads(stalled.stdout)
    assert report["stalled"] is True and "no job was claimed" in report["reason"]
    assert report["sessions"][0]["pending"] == 2


def test_worker_refuses_to_start_without_a_model(seeded: tuple[str, str]) -> None:
    url, _ = seeded
    result = _cli("worker", "--database-url", url, MINDKEEPER_EMBEDDER="none")
    assert result.returncode == 1
    assert "cannot run: the deriver has no chat model" in result.stderr
    assert "MINDKEEPER_CHAT_MODEL" in result.stderr


def test_queue_retry_reports_the_count(seeded: tuple[str, str]) -> None:
    url, _ = seeded
    result = _cli("queue", "retry", "--database-url", url)
    assert result.returncode == 0
    assert result.stdout.strip() == "0 dead job(s) put back to pending"
