"""The `mindkeeper` command line, run as a real subprocess."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from mindkeeper import __version__


def _run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "mindkeeper.cli.main", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        check=False,
    )


def test_version() -> None:
    result = _run("version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"mindkeeper {__version__}"


def test_migrate_then_doctor(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    before = _run("doctor", "--database-url", url)
    report = json.loads(before.stdout)
    assert before.returncode == 1
    assert report["database"]["schema_revision"] is None
    assert any("migrate" in problem for problem in report["missing"])

    migrated = _run("migrate", "--database-url", url)
    assert migrated.returncode == 0, migrated.stderr
    assert "is at revision" in migrated.stdout

    after = _run("doctor", "--database-url", url)
    report = json.loads(after.stdout)
    assert after.returncode == 0, report
    assert report["database"]["schema_revision"] == report["database"]["schema_head"]
    assert report["missing"] == []
    assert report["settings"]["database_url"].endswith("cli.db")


def test_doctor_redacts_the_database_password() -> None:
    result = _run(
        "doctor",
        "--database-url",
        "postgresql://mk:s3cret-pass@127.0.0.1:9/nowhere",
        env={"MINDKEEPER_EMBEDDER": "none"},
    )
    assert result.returncode == 1
    assert "s3cret-pass" not in result.stdout
    report = json.loads(result.stdout)
    assert report["database"]["reachable"] is False


def test_bad_setting_is_a_clear_error() -> None:
    result = _run("version", env={"MINDKEEPER_PORT": "not-a-port"})
    assert result.returncode == 0  # `version` needs no settings
    result = _run("migrate", env={"MINDKEEPER_DATABASE_URL": "mysql://x"})
    assert result.returncode != 0
    assert "database_url" in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_migrates_and_answers(tmp_path: Path) -> None:
    port = _free_port()
    db = tmp_path / "served.db"
    env = {**os.environ, "MINDKEEPER_EMBEDDER": "none"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mindkeeper.cli.main",
            "serve",
            "--port",
            str(port),
            "--database-url",
            f"sqlite:///{db}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        ready = None
        while time.monotonic() < deadline:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, "server exited"
                time.sleep(0.1)
        assert ready is not None and ready.status_code == 200
        created = httpx.post(f"http://127.0.0.1:{port}/v1/apps", json={"name": "cli"})
        assert created.status_code == 200
        assert db.exists()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert f"SQLite file {db}" in output
    assert f"http://127.0.0.1:{port}" in output
