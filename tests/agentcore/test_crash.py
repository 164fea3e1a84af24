"""A `mindkeeper serve` process killed (SIGKILL) while clients write events: every event whose
CreateEvent was acknowledged is there after a restart, on both databases."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import BotoCoreError, ClientError

from tests.agentcore.support import control_client, data_client, text_item


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    """A server process over one database."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        """Start and wait until it is ready."""
        env = {
            **os.environ,
            "MINDKEEPER_EMBEDDER": "none",
            "MINDKEEPER_WORKER_ENABLED": "false",
            "MINDKEEPER_DATABASE_URL": self.database_url,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mindkeeper.cli.main", "serve", "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                assert self.process.poll() is None, "server exited"
            time.sleep(0.05)
        raise AssertionError("server did not become ready")

    def kill(self) -> None:
        """SIGKILL, no chance to clean up."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=20)


@pytest.fixture
def served(database_url: str) -> Iterator[Served]:
    server = Served(database_url)
    yield server
    if server.process is not None and server.process.poll() is None:
        server.process.kill()
        server.process.wait(timeout=20)


def test_acknowledged_events_survive_a_kill(served: Served) -> None:
    served.start()
    memory = control_client(served.url).create_memory(name="crash", eventExpiryDuration=30)
    memory_id = memory["memory"]["id"]
    acknowledged: dict[str, list[str]] = {}
    started = threading.Event()

    def writer(actor: str) -> None:
        client = data_client(served.url)
        ids = acknowledged.setdefault(actor, [])
        for i in range(100_000):
            try:
                response = client.create_event(
                    memoryId=memory_id,
                    actorId=actor,
                    sessionId="s",
                    eventTimestamp=time.time(),
                    payload=[text_item(f"{actor} message {i}"), {"blob": "x" * 2000}],
                )
            except (BotoCoreError, ClientError):
                return
            event = response.get("event")
            if event is None:  # the answer was cut off: not an acknowledgement
                return
            ids.append(event["eventId"])
            if len(ids) == 20:
                started.set()

    threads = [threading.Thread(target=writer, args=(f"actor-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    assert started.wait(60)
    served.kill()
    for thread in threads:
        thread.join(60)

    served.start()
    client = data_client(served.url)
    for actor, ids in acknowledged.items():
        stored: list[Any] = []
        token = None
        while True:
            args: dict[str, Any] = {"maxResults": 100, "includePayloads": False}
            if token:
                args["nextToken"] = token
            page = client.list_events(memoryId=memory_id, actorId=actor, sessionId="s", **args)
            stored += [e["eventId"] for e in page["events"]]
            token = page.get("nextToken")
            if not token:
                break
        assert set(ids) <= set(stored), actor
        assert len(stored) - len(ids) in (0, 1), "at most the write in flight"
