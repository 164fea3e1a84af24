"""`mindkeeper worker` processes against one PostgreSQL database: kill -9 mid-job, graceful
SIGTERM, and two workers that never run two jobs of one session at once."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.deriver.conftest import model_settings, wait_for_queue
from tests.deriver.fakes import FakeModelServer, Fault

FACT = "The user restores vintage motorcycles."


@pytest.fixture
def pg_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("several worker processes need PostgreSQL")


@pytest.fixture
def spawn(
    database_url: str, fake_models: FakeModelServer
) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []

    def start(**overrides: Any) -> subprocess.Popen[str]:
        settings = model_settings(
            fake_models,
            database_url=database_url,
            deriver_lease_seconds=2,
            deriver_shutdown_grace_seconds=0.5,
            model_timeout_seconds=60,
            **overrides,
        )
        env = {**os.environ, "MINDKEEPER_LOG_LEVEL": "info"}
        env.update({f"MINDKEEPER_{k.upper()}": str(v) for k, v in settings.items()})
        proc = subprocess.Popen(
            [sys.executable, "-m", "mindkeeper.cli.main", "worker"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def _session(http: httpx.Client, name: str) -> str:
    app = http.post("/v1/apps", json={"name": name}).json()
    user = http.post(f"/v1/apps/{app['id']}/users", json={"name": "u"}).json()
    base = f"/v1/apps/{app['id']}/users/{user['id']}"
    session = http.post(f"{base}/sessions", json={}).json()
    return f"{base}/sessions/{session['id']}"


def _wait(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def _facts(http: httpx.Client, session_path: str) -> list[str]:
    base = session_path.rsplit("/sessions/", 1)[0]
    collection = http.get(f"{base}/collections/name/honcho").json()["id"]
    page = http.post(f"{base}/collections/{collection}/documents/list", json={}).json()
    return [d["content"] for d in page["items"]]


def test_killed_worker_job_is_finished_once_by_another(
    pg_only: None,
    server_factory: Callable[..., LiveServer],
    fake_models: FakeModelServer,
    spawn: Callable[..., subprocess.Popen[str]],
) -> None:
    api = server_factory(worker_enabled=False)
    http = api.client()
    session = _session(http, "kill9")
    release = threading.Event()
    fake_models.fail(Fault("hang", seconds=60, release=release, model="fake-facts"))
    first = spawn()
    message = {"content": f"[s:k] FACT: {FACT}", "is_user": True}
    assert http.post(f"{session}/messages", json=message).status_code == 200
    _wait(lambda: len(fake_models.calls_for("fake-facts")) == 1)  # first worker is stuck in it
    assert wait_for_queue(api.url, lambda s: s["running"] == 1)["pending"] == 0
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    release.set()
    second = spawn()
    status = wait_for_queue(api.url, lambda s: s["done"] == 1, timeout=60)
    assert (status["dead"], status["failed_attempts"]) == (0, 1)  # the lost attempt counts
    assert _facts(http, session) == [FACT]  # once
    assert len(fake_models.calls_for("fake-facts")) == 2
    second.send_signal(signal.SIGTERM)
    out, _ = second.communicate(timeout=20)
    assert second.returncode == 0, out
    assert "stopped (1 done, 0 failed)" in out
    http.close()


def test_sigterm_hands_back_the_job_in_hand(
    pg_only: None,
    server_factory: Callable[..., LiveServer],
    fake_models: FakeModelServer,
    spawn: Callable[..., subprocess.Popen[str]],
) -> None:
    api = server_factory(worker_enabled=False)
    http = api.client()
    session = _session(http, "sigterm")
    release = threading.Event()
    fake_models.fail(Fault("hang", seconds=60, release=release, model="fake-facts"))
    worker = spawn()
    assert http.post(f"{session}/messages", json={"content": "[s:t] hi", "is_user": True})
    _wait(lambda: len(fake_models.calls_for("fake-facts")) == 1)
    worker.send_signal(signal.SIGTERM)
    out, _ = worker.communicate(timeout=20)
    release.set()
    assert worker.returncode == 0, out
    assert "handed back 1 unfinished job" in out
    status = http.get("/queue/status").json()
    assert (status["pending"], status["running"], status["failed_attempts"]) == (1, 0, 0)
    http.close()


def test_two_workers_never_overlap_within_a_session(
    pg_only: None,
    server_factory: Callable[..., LiveServer],
    fake_models: FakeModelServer,
    spawn: Callable[..., subprocess.Popen[str]],
) -> None:
    fake_models.latency = 0.03
    api = server_factory(worker_enabled=False)
    http = api.client()
    tags = ["a", "b", "c", "d"]
    for tag in tags:
        session = _session(http, f"overlap-{tag}")
        batch = [{"content": f"[s:{tag}] turn {i}.", "is_user": True} for i in range(8)]
        assert http.post(f"{session}/messages/batch", json={"messages": batch}).status_code == 200
    spawn(deriver_concurrency=3)
    spawn(deriver_concurrency=3)
    status = wait_for_queue(api.url, lambda s: s["done"] == 32, timeout=90)
    assert status["dead"] == 0
    assert fake_models.max_total_in_flight >= 2  # sessions did run in parallel
    assert {tag: fake_models.max_in_flight[tag] for tag in tags} == dict.fromkeys(tags, 1)
    for tag in tags:
        turns = [
            int(re.findall(r"turn (\d+)\.", c.body["messages"][-1]["content"])[-1])
            for c in fake_models.calls_for("fake-facts")
            if c.tag == tag
        ]
        assert turns == list(range(8)), (tag, turns)  # strictly in order
    http.close()
