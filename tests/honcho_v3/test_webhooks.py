"""Webhooks: registration (limits, URL rules), listing, deletion, and real deliveries from the
durable queue to a receiver on 127.0.0.1 (signature, body, retries, dead letters), on both
databases."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from mindkeeper.bootstrap import build_runtime
from mindkeeper.core.ports.webhooks import DeliveryError
from mindkeeper.core.services import webhooks
from mindkeeper.providers.webhooks import (
    HttpWebhookTransport,
    create_generated_secret,
    read_configured_secret,
    webhook_secret_path,
)
from tests.conftest import LiveServer, make_settings, start_server
from tests.honcho_v3.support import (
    CREATED_AT,
    PAGE_KEYS,
    PUBLIC_ID,
    detail,
    expect,
    new_workspace,
    uid,
    wait_for,
    ws_url,
)

SECRET = "test-webhook-secret"
ENDPOINT_KEYS = ["id", "workspace_id", "url", "created_at"]
#: Upstream's event timestamps: UTC with `Z`, microseconds when non-zero.
EVENT_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$")
MAX_ATTEMPTS = 3


@dataclass
class Received:
    """One request the receiver got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """An HTTP server on 127.0.0.1 that records every request and answers each path with
    its planned statuses in turn (200 once the plan is used up)."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.plans: dict[str, deque[int]] = {}
        self.always: dict[str, int] = {}
        self.hang: set[str] = set()
        self.release = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.requests.append(
                        Received(
                            "POST",
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                        )
                    )
                    plan = receiver.plans.get(self.path)
                    status = receiver.always.get(self.path) or (plan.popleft() if plan else 200)
                if self.path in receiver.hang:
                    receiver.release.wait(30)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        """The receiver's URL for a path."""
        return f"http://127.0.0.1:{self.port}{path}"

    def path(self) -> str:
        """A fresh path, so that each test reads its own requests."""
        return f"/hook/{uid('p')}"

    def at(self, path: str) -> list[Received]:
        """The requests received on a path so far."""
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def hooks(
    module_database_url: str, embedder: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server whose worker delivers to private addresses (the receiver is on 127.0.0.1),
    with a configured secret and quick retries."""
    settings = make_settings(
        module_database_url,
        data_dir=tmp_path_factory.mktemp("hooks-data"),
        worker_poll_seconds=0.02,
        webhook_secret=SECRET,
        webhook_allow_private=True,
        webhook_timeout_seconds=5.0,
        deriver_retry_base_seconds=0.05,
        deriver_retry_max_seconds=0.1,
        deriver_max_attempts=MAX_ATTEMPTS,
    )
    server, stop = start_server(settings, build_runtime(settings, embedder=embedder))
    yield server
    stop()


@pytest.fixture(scope="module")
def http(hooks: LiveServer) -> Iterator[httpx.Client]:
    with hooks.client() as client:
        yield client


@pytest.fixture(scope="module")
def strict(
    module_database_url: str, embedder: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server with the default rules (private IP literals refused) and no configured
    secret; its worker is off, the other server's worker serves the shared database."""
    settings = make_settings(
        module_database_url,
        data_dir=tmp_path_factory.mktemp("strict-data"),
        worker_enabled=False,
    )
    server, stop = start_server(settings, build_runtime(settings, embedder=embedder))
    yield server
    stop()


@pytest.fixture(scope="module")
def strict_http(strict: LiveServer) -> Iterator[httpx.Client]:
    with strict.client() as client:
        yield client


def register(http: httpx.Client, workspace: str, url: str, status: int = 201) -> dict[str, Any]:
    """POST .../webhooks and return the endpoint."""
    response = http.post(ws_url(workspace, "webhooks"), json={"url": url})
    endpoint: dict[str, Any] = expect(response, status)
    return endpoint


def deliveries(http: httpx.Client) -> dict[str, Any]:
    """The webhook part of GET /queue/status."""
    result: dict[str, Any] = expect(http.get("/queue/status"), 200)["webhooks"]
    return result


def settled(http: httpx.Client) -> dict[str, Any]:
    """Wait until no delivery is pending or running, and return the counts."""
    wait_for(
        lambda: (lambda d: d["pending"] == 0 and d["running"] == 0)(deliveries(http)),
        "the webhook deliveries to settle",
    )
    return deliveries(http)


def value_error(url: str, message: str) -> list[dict[str, Any]]:
    """The 422 detail of a refused URL, as upstream's body validator words it."""
    return [
        {
            "type": "value_error",
            "loc": ["body", "url"],
            "msg": f"Value error, {message}",
            "input": url,
            "ctx": {"error": {}},
        }
    ]


# Registration, listing, deletion


def test_register_is_get_or_create_by_url(http: httpx.Client, receiver: Receiver) -> None:
    workspace = new_workspace(http)
    url = receiver.url(receiver.path())
    first = register(http, workspace, url)
    assert list(first) == ENDPOINT_KEYS
    assert PUBLIC_ID.match(first["id"])
    assert first["workspace_id"] == workspace
    assert first["url"] == url
    assert CREATED_AT.match(first["created_at"])
    assert register(http, workspace, url, 200) == first
    # The same URL in another workspace is another endpoint.
    other = register(http, new_workspace(http), url)
    assert other["id"] != first["id"]


def test_unknown_workspace(http: httpx.Client) -> None:
    missing = uid("ws")
    body = {"url": "https://example.com/hook"}
    assert detail(http.post(ws_url(missing, "webhooks"), json=body), 404) == (
        f"Workspace {missing} not found"
    )
    page = expect(http.get(ws_url(missing, "webhooks")), 200)
    assert page == {"items": [], "total": 0, "page": 1, "size": 50, "pages": 0}
    response = http.get(ws_url(missing, "webhooks", "test"))
    assert response.status_code == 200 and response.text == "null"
    assert detail(http.delete(ws_url(missing, "webhooks", "x" * 21)), 404) == (
        f"Webhook endpoint {'x' * 21} not found for workspace {missing}"
    )


def test_list_pages_and_delete(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    made = [register(http, workspace, f"https://example.com/hook/{i}") for i in range(3)]
    page = expect(http.get(ws_url(workspace, "webhooks"), params={"size": 2}), 200)
    assert list(page) == PAGE_KEYS
    assert page["items"] == made[:2]
    assert (page["total"], page["page"], page["size"], page["pages"]) == (3, 1, 2, 2)
    second = expect(http.get(ws_url(workspace, "webhooks"), params={"page": 2, "size": 2}), 200)
    assert second["items"] == made[2:]
    assert detail(http.get(ws_url(workspace, "webhooks"), params={"size": 101}), 422)[0]["loc"] == [
        "query",
        "size",
    ]

    response = http.delete(ws_url(workspace, "webhooks", made[0]["id"]))
    assert response.status_code == 204 and response.content == b""
    assert detail(http.delete(ws_url(workspace, "webhooks", made[0]["id"])), 404) == (
        f"Webhook endpoint {made[0]['id']} not found for workspace {workspace}"
    )
    assert expect(http.get(ws_url(workspace, "webhooks")), 200)["items"] == made[1:]
    # An endpoint is deleted only through its own workspace.
    other = new_workspace(http)
    assert detail(http.delete(ws_url(other, "webhooks", made[1]["id"])), 404) == (
        f"Webhook endpoint {made[1]['id']} not found for workspace {other}"
    )


def test_ten_endpoints_per_workspace(http: httpx.Client) -> None:
    workspace = new_workspace(http)
    made = [register(http, workspace, f"https://example.com/{i}") for i in range(10)]
    assert detail(http.post(ws_url(workspace, "webhooks"), json={"url": "https://x.io/"}), 409) == (
        "Maximum number of webhook endpoints (10) reached for this workspace."
    )
    # A registered URL is still answered at the limit; a freed slot takes a new one.
    assert register(http, workspace, "https://example.com/3", 200) == made[3]
    expect(http.delete(ws_url(workspace, "webhooks", made[0]["id"])), 204)
    register(http, workspace, "https://x.io/")
    assert expect(http.get(ws_url(workspace, "webhooks")), 200)["total"] == 10


def test_the_limit_holds_under_concurrent_registrations(
    http: httpx.Client, hooks: LiveServer
) -> None:
    workspace = new_workspace(http)

    def attempt(i: int) -> int:
        with hooks.client() as client:
            url = f"https://example.com/race/{i}"
            return client.post(ws_url(workspace, "webhooks"), json={"url": url}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(attempt, range(16)))
    assert statuses == [201] * 10 + [409] * 6
    assert expect(http.get(ws_url(workspace, "webhooks")), 200)["total"] == 10


def test_url_rules(strict_http: httpx.Client) -> None:
    workspace = new_workspace(strict_http)
    path = ws_url(workspace, "webhooks")
    for url in ("not a url", "example.com/hook", "http://", "//example.com/x"):
        assert detail(strict_http.post(path, json={"url": url}), 422) == value_error(
            url, "Invalid URL format"
        ), url
    for url in ("ftp://example.com/x", "file://host/etc/passwd", "javascript://x.io/"):
        assert detail(strict_http.post(path, json={"url": url}), 422) == value_error(
            url, "Only HTTP and HTTPS URLs are allowed"
        ), url
    private = (
        "http://127.0.0.1:8000/hook",
        "http://10.1.2.3/",
        "https://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://[::1]:9000/",
        "http://[fe80::1]/",
        "http://[::ffff:127.0.0.1]/",
    )
    for url in private:
        assert detail(strict_http.post(path, json={"url": url}), 422) == value_error(
            url, "Private/internal IP addresses are not allowed"
        ), url
    # Host names are accepted, as upstream (delivery judges where they resolve to).
    register(strict_http, workspace, "http://localhost:9/hook")
    register(strict_http, workspace, "https://8.8.8.8/hook")
    register(strict_http, workspace, "HTTPS://Example.com/Hook?x=1#frag")
    long_ok = "https://example.com/" + "a" * (2048 - len("https://example.com/"))
    register(strict_http, workspace, long_ok)
    errors = detail(strict_http.post(path, json={"url": long_ok + "a"}), 422)
    assert errors[0]["type"] == "string_too_long" and errors[0]["loc"] == ["body", "url"]
    assert detail(strict_http.post(path, json={}), 422)[0]["type"] == "missing"
    assert detail(strict_http.post(path, json={"url": 5}), 422)[0]["type"] == "string_type"
    assert expect(strict_http.get(path), 200)["total"] == 4


def test_generated_secret_is_kept_in_the_data_directory(
    strict: LiveServer, strict_http: httpx.Client
) -> None:
    register(strict_http, new_workspace(strict_http), "https://example.com/hook")
    path = webhook_secret_path(strict.settings.data_dir)
    secret = path.read_text().strip()
    assert len(secret) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert create_generated_secret(path) == secret.encode()


def test_registration_needs_a_secret(
    server_factory: Callable[..., LiveServer], tmp_path: Path
) -> None:
    """Without a configured secret, a data directory where none can be made refuses
    registrations with a 503 that names the file."""
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    server = server_factory(data_dir=blocked, worker_enabled=False)
    with server.client() as client:
        workspace = new_workspace(client)
        message = detail(
            client.post(ws_url(workspace, "webhooks"), json={"url": "https://example.com/"}),
            503,
        )
        assert message.startswith(f"cannot create the webhook secret {blocked}/keys/webhook.")
        assert message.endswith("set MINDKEEPER_WEBHOOK_SECRET_FILE")
        assert expect(client.get(ws_url(workspace, "webhooks")), 200)["total"] == 0


def test_openapi_declares_the_responses(http: httpx.Client) -> None:
    document = expect(http.get("/openapi.json"), 200)
    paths = document["paths"]
    post = paths["/v3/workspaces/{workspace_id}/webhooks"]["post"]
    schema = post["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/WebhookEndpoint"}
    listing = paths["/v3/workspaces/{workspace_id}/webhooks"]["get"]
    schema = listing["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Page_WebhookEndpoint_"}
    endpoint = document["components"]["schemas"]["WebhookEndpoint"]
    assert endpoint["required"] == ENDPOINT_KEYS
    assert (
        "204"
        in paths["/v3/workspaces/{workspace_id}/webhooks/{endpoint_id}"]["delete"]["responses"]
    )


# Deliveries


def test_test_event_is_delivered_signed(http: httpx.Client, receiver: Receiver) -> None:
    settled(http)
    workspace = new_workspace(http)
    hook = receiver.path()
    register(http, workspace, receiver.url(hook))
    response = http.get(ws_url(workspace, "webhooks", "test"))
    assert response.status_code == 200
    assert response.text == "null"
    wait_for(lambda: len(receiver.at(hook)) == 1, "the test event")
    request = receiver.at(hook)[0]
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    expected = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-honcho-signature"] == expected
    assert request.headers["host"] == f"127.0.0.1:{receiver.port}"
    event = json.loads(request.body)
    assert list(event) == ["data", "timestamp", "type"]
    assert request.body == json.dumps(event, separators=(",", ":"), sort_keys=True).encode()
    assert event["type"] == "test.event"
    assert event["data"] == {"workspace_id": workspace}
    assert EVENT_TIME.match(event["timestamp"])
    assert settled(http)["pending"] == 0
    assert len(receiver.at(hook)) == 1


def test_each_endpoint_gets_its_own_delivery(http: httpx.Client, receiver: Receiver) -> None:
    workspace = new_workspace(http)
    hooks = [receiver.path() for _ in range(3)]
    for hook in hooks:
        register(http, workspace, receiver.url(hook))
    receiver.always[hooks[1]] = 500  # one failing endpoint does not hold the others back
    expect(http.get(ws_url(workspace, "webhooks", "test")), 200)
    wait_for(lambda: all(receiver.at(h) for h in (hooks[0], hooks[2])), "both deliveries")
    wait_for(lambda: len(receiver.at(hooks[1])) == MAX_ATTEMPTS, "the failing endpoint's tries")
    settled(http)
    bodies = {r.body for h in hooks for r in receiver.at(h)}
    assert len(bodies) == 1  # one event, one body, every attempt alike


def test_failures_are_retried_until_delivered(http: httpx.Client, receiver: Receiver) -> None:
    settled(http)
    before = deliveries(http)
    workspace = new_workspace(http)
    hook = receiver.path()
    register(http, workspace, receiver.url(hook))
    receiver.plans[hook] = deque([500, 503])
    expect(http.get(ws_url(workspace, "webhooks", "test")), 200)
    wait_for(lambda: len(receiver.at(hook)) == 3, "two failures and a success")
    after = settled(http)
    assert after["dead"] == before["dead"]
    assert after["done"] == before["done"] + 1
    attempts = receiver.at(hook)
    assert len({(r.body, r.headers["x-honcho-signature"]) for r in attempts}) == 1


def test_permanent_failure_is_dead_lettered_and_retried_on_demand(
    http: httpx.Client, receiver: Receiver, hooks: LiveServer
) -> None:
    settled(http)
    before = deliveries(http)
    workspace = new_workspace(http)
    hook = receiver.path()
    endpoint = register(http, workspace, receiver.url(hook))
    receiver.always[hook] = 500
    expect(http.get(ws_url(workspace, "webhooks", "test")), 200)
    wait_for(lambda: deliveries(http)["dead"] == before["dead"] + 1, "the dead letter")
    assert len(receiver.at(hook)) == MAX_ATTEMPTS
    status = expect(http.get("/queue/status"), 200)
    assert status["dead"] >= 1
    assert status["webhooks"]["last_error"] == (
        f"DeliveryError: webhook endpoint {endpoint['id']} (127.0.0.1) answered HTTP 500"
    )
    assert all(s["session_id"] for s in status["sessions"])

    env = {**os.environ, "MINDKEEPER_EMBEDDER": "none", "MINDKEEPER_WORKER_ENABLED": "false"}
    url = hooks.settings.database_url
    shown = _cli(env, "queue", "--database-url", url)
    (line,) = [x for x in shown.stdout.splitlines() if x.startswith("webhooks:")]
    assert line.endswith(f"dead {before['dead'] + 1}  retrying 0"), line
    assert f"last webhook error: DeliveryError: webhook endpoint {endpoint['id']}" in shown.stdout

    # Once the receiver works again, `mindkeeper queue retry` delivers the dead letter.
    del receiver.always[hook]
    retried = _cli(env, "queue", "retry", "--database-url", url)
    assert retried.returncode == 0, retried.stderr
    wait_for(lambda: len(receiver.at(hook)) == MAX_ATTEMPTS + 1, "the retried delivery")
    assert settled(http)["dead"] == before["dead"]


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "mindkeeper.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


def test_unreachable_endpoint_is_retried_then_dead(http: httpx.Client, receiver: Receiver) -> None:
    settled(http)
    before = deliveries(http)
    workspace = new_workspace(http)
    closed = _closed_port()
    endpoint = register(http, workspace, f"http://127.0.0.1:{closed}/hook")
    expect(http.get(ws_url(workspace, "webhooks", "test")), 200)
    wait_for(lambda: deliveries(http)["dead"] == before["dead"] + 1, "the dead letter")
    error = deliveries(http)["last_error"]
    assert error.startswith(f"DeliveryError: webhook endpoint {endpoint['id']} (127.0.0.1): ")
    assert "ConnectError" in error


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_emitted_events_reach_every_endpoint(
    hooks: LiveServer, http: httpx.Client, receiver: Receiver
) -> None:
    """`queue.empty` as the deriver raises it when a work unit drains (`webhooks.emit` inside
    a transaction of its caller); an endpoint deleted in the meantime gets nothing."""
    workspace = new_workspace(http)
    kept, dropped = receiver.path(), receiver.path()
    register(http, workspace, receiver.url(kept))
    gone = register(http, workspace, receiver.url(dropped))
    runtime = build_runtime(
        make_settings(hooks.settings.database_url, worker_enabled=False), embedder=None
    )
    data = {
        "workspace_id": workspace,
        "queue_type": "representation",
        "session_id": "s1",
        "observer": "alice",
        "observed": "bob",
    }
    try:
        async with runtime.uow() as uow:
            found = await uow.workspaces.get_by_name(workspace)
            assert found is not None
            queued = await webhooks.emit_queue_empty(
                uow,
                found.id,
                workspace_name=workspace,
                queue_type="representation",
                session_name="s1",
                observer="alice",
                observed="bob",
                now=runtime.now(),
            )
            assert queued == 2
            assert await uow.webhooks.delete(found.id, gone["id"])
            await uow.commit()
    finally:
        await runtime.close()
    await _until(lambda: len(receiver.at(kept)) == 1, "the queue.empty event")
    event = json.loads(receiver.at(kept)[0].body)
    assert event["type"] == "queue.empty"
    assert event["data"] == data
    assert list(event["data"]) == sorted(data)
    await _until(lambda: (lambda d: d["pending"] + d["running"] == 0)(deliveries(http)), "done")
    assert receiver.at(dropped) == []


async def _until(condition: Callable[[], bool], what: str, deadline: float = 60.0) -> None:
    end = time.monotonic() + deadline
    while not await asyncio.to_thread(condition):
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.05)


# The transport on its own


def _transport(allow_private: bool, tmp_path: Path, timeout: float = 5.0) -> HttpWebhookTransport:
    return HttpWebhookTransport(SECRET.encode(), tmp_path / "unused", timeout, allow_private)


async def test_transport_refuses_private_targets(receiver: Receiver, tmp_path: Path) -> None:
    transport = _transport(False, tmp_path)
    hook = receiver.path()
    try:
        cases = {
            f"http://127.0.0.1:{receiver.port}{hook}": "127.0.0.1 is the non-public address",
            f"http://localhost:{receiver.port}{hook}": "localhost resolves to the non-public",
            f"http://2130706433:{receiver.port}{hook}": "2130706433 resolves to the non-public",
            "http://100.64.0.1/": "100.64.0.1 is the non-public address",
        }
        for url, message in cases.items():
            with pytest.raises(DeliveryError, match=message):
                await transport.post(url, b"{}", {})
    finally:
        await transport.close()
    assert receiver.at(hook) == []


async def test_transport_posts_to_the_checked_address(receiver: Receiver, tmp_path: Path) -> None:
    transport = _transport(True, tmp_path)
    hook = receiver.path()
    try:
        status = await transport.post(
            f"http://localhost:{receiver.port}{hook}?q=1#frag", b'{"a":1}', {"X-Test": "1"}
        )
    finally:
        await transport.close()
    assert status == 200
    (request,) = receiver.at(f"{hook}?q=1")
    assert request.headers["host"] == f"localhost:{receiver.port}"
    assert request.headers["x-test"] == "1"
    assert request.body == b'{"a":1}'


async def test_transport_bounds_the_exchange(receiver: Receiver, tmp_path: Path) -> None:
    transport = _transport(True, tmp_path, timeout=0.2)
    hook = receiver.path()
    receiver.hang.add(hook)
    try:
        with pytest.raises(DeliveryError, match=r"no answer within 0\.2 s"):
            await transport.post(receiver.url(hook), b"{}", {})
        receiver.plans[f"{hook}/redirect"] = deque([302])
        assert await transport.post(receiver.url(f"{hook}/redirect"), b"{}", {}) == 302
    finally:
        await transport.close()


def test_secret_settings(tmp_path: Path) -> None:
    assert read_configured_secret(SecretStr("s3cret"), None) == b"s3cret"
    file = tmp_path / "secret"
    file.write_text("from-file\n")
    assert read_configured_secret(None, file) == b"from-file"
    assert read_configured_secret(None, None) is None
    file.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        read_configured_secret(None, file)
    with pytest.raises(ValueError, match="cannot read"):
        read_configured_secret(None, tmp_path / "missing")
    generated = tmp_path / "keys" / "webhook.secret"
    first = create_generated_secret(generated)
    assert create_generated_secret(generated) == first
    assert len(first) == 64
