"""GET /metrics: parsed with prometheus-client's parser, counters moving with traffic, on one
server in this process and on `mindkeeper serve` with one and two worker processes; request
ids; admin only with authentication on; JSON logs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from mindkeeper.core.services import keys
from mindkeeper.providers.secrets import JwtCodec
from tests.conftest import LiveServer
from tests.fill import bedrock, ok

JWT_SECRET = "metrics-test-secret-" + "x" * 40
V1_MESSAGES = "/v1/apps/{app_id}/users/{user_id}/sessions/{session_id}/messages"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, by name and sorted labels."""
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    """The sum of the samples of a name whose labels include the given ones."""
    return sum(
        v
        for (n, ls), v in found.items()
        if n == name and all((k, val) in ls for k, val in labels.items())
    )


def scrape(http: httpx.Client, **headers: str) -> dict[Any, float]:
    """Fetch and parse /metrics."""
    response = http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


def test_counters_move_with_traffic(server: LiveServer) -> None:
    """Requests of each surface are counted by route template; gauges come from the database."""
    with server.client() as http:
        before = scrape(http)
        app = ok(http.post("/v1/apps", json={"name": "m-app"}))["id"]
        user = ok(http.post(f"/v1/apps/{app}/users", json={"name": "u"}))["id"]
        base = f"/v1/apps/{app}/users/{user}/sessions"
        session = ok(http.post(base, json={}))["id"]
        for i in range(7):
            ok(http.post(f"{base}/{session}/messages", json={"content": f"m{i}", "is_user": True}))
        client = bedrock(server.url)
        sid = client.create_session()["sessionId"]
        client.get_session(sessionIdentifier=sid)
        after = scrape(http)
    name = "mindkeeper_http_requests_total"
    moved = value(after, name, route=V1_MESSAGES, method="POST", status="200") - value(
        before, name, route=V1_MESSAGES, method="POST", status="200"
    )
    assert moved == 7
    assert value(after, name, surface="honcho_v1", route=V1_MESSAGES) >= 7
    assert value(after, name, surface="bedrock", route="/sessions/{id}", method="GET") >= 1
    assert value(after, name, surface="bedrock", route="/sessions", method="PUT") >= 1
    count = "mindkeeper_http_request_duration_seconds_count"
    assert value(after, count, route=V1_MESSAGES) - value(before, count, route=V1_MESSAGES) == 7
    assert value(after, "mindkeeper_queue_jobs", state="pending") >= 7
    assert value(after, "mindkeeper_database_size_bytes") > 0
    assert ("mindkeeper_queue_oldest_pending_age_seconds", ()) in after
    assert value(after, "mindkeeper_db_pool_size") >= 1
    # a path nobody serves is one label, whatever the path
    with server.client() as http:
        http.get("/nothing/here/1")
        http.get("/nothing/here/2")
        unmatched = scrape(http)
    assert value(unmatched, name, surface="other", route="unmatched", status="404") >= 2


def test_request_id_is_returned_and_kept(server: LiveServer) -> None:
    """A fresh id per request, or the caller's own when it is a short token."""
    with server.client() as http:
        first = http.get("/healthz").headers["x-request-id"]
        second = http.get("/healthz").headers["x-request-id"]
        assert first and second and first != second
        assert (
            http.get("/healthz", headers={"X-Request-Id": "abc-123"}).headers["x-request-id"]
            == "abc-123"
        )
        assert (
            http.get("/healthz", headers={"X-Request-Id": "bad id!"}).headers["x-request-id"]
            != "bad id!"
        )


def test_admin_only_with_auth(server_factory: Callable[..., LiveServer]) -> None:
    """With authentication on, /metrics wants an admin key; a scoped key is refused."""
    server = server_factory(auth_enabled=True, auth_jwt_secret=JWT_SECRET, auth_cache_seconds=0)
    codec = JwtCodec(JWT_SECRET)
    now = server.runtime.now()
    admin = keys.mint_admin(codec, now).token
    scoped = keys.mint_by_name(codec, now, workspace="w").token
    with server.client() as http:
        assert http.get("/metrics").status_code == 401
        assert (
            http.get("/metrics", headers={"Authorization": f"Bearer {scoped}"}).status_code == 401
        )
        scrape(http, Authorization=f"Bearer {admin}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., tuple[str, subprocess.Popen[bytes]]]]:
    """Start `mindkeeper serve` processes; they are stopped at the end of the test."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str, **env: str) -> tuple[str, subprocess.Popen[bytes]]:
        port = _free_port()
        environ = {k: v for k, v in os.environ.items() if not k.startswith("MINDKEEPER_")}
        environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        environ.update(
            MINDKEEPER_EMBEDDER="none",
            MINDKEEPER_WORKER_ENABLED="false",
            MINDKEEPER_DATA_DIR=str(tmp_path / "data"),
            **env,
        )
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mindkeeper.cli.main",
                "serve",
                "--port",
                str(port),
                *args,
                "--database-url",
                f"sqlite:///{tmp_path / 'serve.db'}",
            ],
            cwd=tmp_path,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        started.append(proc)
        url = f"http://127.0.0.1:{port}"
        for _ in range(600):  # wait (bounded) until every worker answers
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            threading.Event().wait(0.1)
        return url, proc

    yield start
    for proc in started:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("workers", [1, 2])
def test_counters_add_up_across_workers(
    workers: int, serve: Callable[..., tuple[str, subprocess.Popen[bytes]]]
) -> None:
    """Each of N requests is counted once, whichever worker served it and whichever worker
    answers the scrape."""
    url, _ = serve("--workers", str(workers))
    with httpx.Client(base_url=url, timeout=30) as http:
        readyz = ("mindkeeper_http_requests_total", "/readyz")
        before = value(scrape(http), readyz[0], route=readyz[1], status="200")
        for _ in range(40):
            assert http.get("/readyz").status_code == 200
        for _ in range(4):  # every scrape (any worker) sees the sum over all workers
            found = scrape(http)
            assert value(found, readyz[0], route=readyz[1], status="200") - before == 40
            assert value(found, "mindkeeper_db_pool_size") >= workers


def test_json_logs_carry_the_request_id(
    serve: Callable[..., tuple[str, subprocess.Popen[bytes]]],
) -> None:
    """MINDKEEPER_LOG_FORMAT=json: one JSON object per line, with the request's id."""
    url, proc = serve("--access-log", MINDKEEPER_LOG_FORMAT="json")
    assert httpx.get(url + "/healthz", headers={"X-Request-Id": "trace-42"}).status_code == 200
    proc.terminate()
    _, err = proc.communicate(timeout=30)
    lines = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    assert lines, err.decode()
    assert any(line.get("request_id") == "trace-42" for line in lines), lines
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)


def test_model_usage_and_embedder_are_counted(server: LiveServer) -> None:
    """Model usage counted by the runtime's meter and embedding batches reach /metrics."""
    meter = server.runtime.usage
    meter.prices["fake-model"] = (1.0, 2.0)
    with server.client() as http:
        before = scrape(http)
        meter.record("openai:fake-model", 1000, 500)
        meter.record_retry("openai:fake-model")
        meter.record_failure("openai:fake-model")
        app = ok(http.post("/v1/apps", json={"name": "m-embed"}))["id"]
        user = ok(http.post(f"/v1/apps/{app}/users", json={"name": "u"}))["id"]
        base = f"/v1/apps/{app}/users/{user}/collections"
        collection = ok(http.post(base, json={"name": "c"}))["id"]
        ok(http.post(f"{base}/{collection}/documents", json={"content": "a fact"}))
        after = scrape(http)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    model = "openai:fake-model"
    assert moved("mindkeeper_model_requests_total", model=model) == 1
    assert moved("mindkeeper_model_tokens_total", model=model, direction="input") == 1000
    assert moved("mindkeeper_model_tokens_total", model=model, direction="output") == 500
    assert moved("mindkeeper_model_cost_usd_total", model=model) == pytest.approx(0.002)
    assert moved("mindkeeper_model_retries_total", model=model) == 1
    assert moved("mindkeeper_model_errors_total", model=model) == 1
    assert moved("mindkeeper_embedder_texts_total") >= 1
    assert moved("mindkeeper_embedder_duration_seconds_count") >= 1
