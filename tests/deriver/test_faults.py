"""Model faults while deriving: 500s, 429s, hangs past the timeout, malformed output.

In each case the job is retried (by the provider, then by the queue) or dead-lettered, never
lost and never applied twice, and the backlog shows what happened.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mindkeeper.bootstrap import build_runtime
from mindkeeper.core.services import queue
from tests.conftest import LiveServer
from tests.deriver.conftest import wait_for_queue
from tests.deriver.fakes import FakeModelServer, Fault

FACT = "The user keeps bees on a rooftop."


def _start(
    server_factory: Callable[..., LiveServer], settings: dict[str, Any]
) -> tuple[LiveServer, httpx.Client, dict[str, str]]:
    live = server_factory(**settings)
    http = httpx.Client(base_url=live.url, timeout=30)
    app = http.post("/v1/apps", json={"name": "faults"}).json()
    user = http.post(f"/v1/apps/{app['id']}/users", json={"name": "u"}).json()
    base = f"/v1/apps/{app['id']}/users/{user['id']}"
    session = http.post(f"{base}/sessions", json={}).json()
    return live, http, {"base": base, "session": f"{base}/sessions/{session['id']}"}


def _say(http: httpx.Client, paths: dict[str, str], text: str) -> None:
    response = http.post(f"{paths['session']}/messages", json={"content": text, "is_user": True})
    assert response.status_code == 200


def _facts(http: httpx.Client, paths: dict[str, str]) -> list[str]:
    response = http.get(f"{paths['base']}/collections/name/honcho")
    if response.status_code == 404:
        return []
    collection = response.json()["id"]
    page = http.post(f"{paths['base']}/collections/{collection}/documents/list", json={})
    return [d["content"] for d in page.json()["items"]]


def test_500s_are_retried_by_the_provider_then_by_the_queue(
    server_factory: Callable[..., LiveServer],
    fake_models: FakeModelServer,
    deriver_settings: Callable[..., dict[str, Any]],
) -> None:
    # 3 provider attempts fail (one job attempt), then 2 more fail and the third succeeds.
    fake_models.fail(*[Fault("status", 500, model="fake-facts") for _ in range(5)])
    live, http, paths = _start(server_factory, deriver_settings())
    _say(http, paths, f"[s:a] hello. FACT: {FACT}")
    status = wait_for_queue(live.url)
    assert (status["done"], status["dead"], status["failed_attempts"]) == (1, 0, 1)
    usage = status["models"]["openai:fake-facts"]
    assert (usage["retries"], usage["failures"], usage["requests"]) == (4, 1, 1)
    assert _facts(http, paths) == [FACT]
    assert len(fake_models.calls_for("fake-facts")) == 6


def test_429_with_retry_after_is_waited_out(
    server_factory: Callable[..., LiveServer],
    fake_models: FakeModelServer,
    deriver_settings: Callable[..., dict[str, Any]],
) -> None:
    fake_models.fail(Fault("status", 429, headers={"retry-after-ms": "30"}, model="fake-facts"))
    live, http, paths = _start(server_factory, deriver_settings())
    _say(http, paths, f"[s:a] FACT: {FACT}")
    status = wait_for_queue(live.url)
    assert (status["done"], status["failed_attempts"]) == (1, 0)
    assert status["models"]["openai:fake-facts"]["retries"] == 1
    assert _facts(http, paths) == [FACT]


def test_429_asking_for_longer_than_the_retry_cap_goes_back_to_the_queue(
    server_factory: Callable[..., LiveServer],
    fake_models: FakeModelServer,
    deriver_settings: Callable[..., dict[str, Any]],
) -> None:
    fake_models.fail(Fault("status", 429, headers={"retry-after": "30"}, model="fake-facts"))
    live, http, paths = _start(server_factory, deriver_settings())
    _say(http, paths, f"[s:a] FACT: {FACT}")
    status = wait_for_queue(live.url)
    assert (status["done"], status["failed_attempts"]) == (1, 1)
    assert status["models"]["openai:fake-facts"]["retries"] == 0  # no 30 s wait in a request
    assert _facts(http, paths) == [FACT]


def test_a_hang_past_the_timeout_fails_the_attempt_and_the_retry_succeeds(
    server_factory: Callable[..., LiveServer],
    fake_models: FakeModelServer,
    deriver_settings: Callable[..., dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = threading.Event()
    fake_models.fail(Fault("hang", seconds=10, release=release, model="fake-facts"))
    settings = deriver_settings(model_timeout_seconds=0.3, model_max_retries=0)
    live, http, paths = _start(server_factory, settings)
    _say(http, paths, f"[s:a] FACT: {FACT}")
    status = wait_for_queue(live.url)
    release.set()
    assert (status["done"], status["failed_attempts"]) == (1, 1)
    assert "job 1 attempt 1 failed" in caplog.text and "no answer within 0.3 s" in caplog.text
    assert len(fake_models.calls_for("fake-facts")) == 2
    assert _facts(http, paths) == [FACT]


@pytest.mark.parametrize(
    "fault",
    [
        Fault("text", body="Sure! The user keeps bees.", model="fake-facts"),
        Fault("malformed", body="{not json", model="fake-facts"),
        Fault("malformed", body='{"choices": []}', model="fake-facts"),
    ],
    ids=["prose", "bad-json", "no-choices"],
)
def test_malformed_output_is_dead_lettered_after_max_attempts_then_retried(
    server_factory: Callable[..., LiveServer],
    fake_models: FakeModelServer,
    deriver_settings: Callable[..., dict[str, Any]],
    fault: Fault,
) -> None:
    fake_models.fail(fault, fault, fault)  # as many as deriver_max_attempts
    live, http, paths = _start(server_factory, deriver_settings())
    _say(http, paths, f"[s:a] FACT: {FACT}")
    _say(http, paths, "[s:a] FACT: The user collects antique maps.")
    status = wait_for_queue(live.url, lambda s: s["dead"] == 1 and s["done"] == 1)
    assert status["failed_attempts"] == 3 and status["done"] == 1  # the session moved on
    assert status["sessions"][0]["dead"] == 1
    assert "MalformedOutput" in status["sessions"][0]["last_error"]
    assert _facts(http, paths) == ["The user collects antique maps."]

    assert asyncio.run(_retry_dead(live)) == 1  # what `mindkeeper queue retry` does
    status = wait_for_queue(live.url, lambda s: s["done"] == 2)
    assert status["done"] == 2
    assert sorted(_facts(http, paths)) == sorted([FACT, "The user collects antique maps."])


async def _retry_dead(live: LiveServer) -> int:
    runtime = build_runtime(live.settings, embedder=None, chat_model=None)
    try:
        return await queue.retry_dead(runtime)
    finally:
        await runtime.close()


def test_dialectic_provider_failure_is_a_clear_503_in_both_modes(
    server_factory: Callable[..., LiveServer],
    fake_models: FakeModelServer,
    deriver_settings: Callable[..., dict[str, Any]],
) -> None:
    _, http, paths = _start(server_factory, deriver_settings(model_max_retries=0))
    fake_models.fail(Fault("status", 500, model="fake-dialectic"))
    fake_models.fail(Fault("status", 401, body='{"error": "bad key"}', model="fake-dialectic"))
    whole = http.post(f"{paths['session']}/chat", json={"queries": "q"})
    assert whole.status_code == 503
    assert whole.headers["x-should-retry"] == "true"
    assert "HTTP 500" in whole.json()["detail"]
    streamed = http.post(f"{paths['session']}/chat", json={"queries": "q", "stream": True})
    assert streamed.status_code == 503
    assert streamed.headers["content-type"] == "application/json"
    assert streamed.headers["x-should-retry"] == "false"
    assert "HTTP 401" in streamed.json()["detail"] and "bad key" in streamed.json()["detail"]
