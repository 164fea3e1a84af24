"""Fixtures of the deriver suite: the fake model server and settings that point at it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.deriver.fakes import FakeModelServer


@pytest.fixture
def fake_models() -> Iterator[FakeModelServer]:
    """A scripted fake model server for one test."""
    server = FakeModelServer().start()
    yield server
    server.stop()


def model_settings(fake: FakeModelServer, **overrides: Any) -> dict[str, Any]:
    """Settings that send every role to the fake, with short timeouts, polls and backoffs."""
    settings: dict[str, Any] = {
        "chat_base_url": fake.openai_url,
        "deriver_model": "fake-facts",
        "summary_model": "fake-summary",
        "dialectic_model": "fake-dialectic",
        "worker_poll_seconds": 0.02,
        "model_timeout_seconds": 5.0,
        "model_max_retries": 2,
        "model_retry_base_seconds": 0.01,
        "model_retry_max_seconds": 0.05,
        "deriver_retry_base_seconds": 0.05,
        "deriver_retry_max_seconds": 0.1,
        "deriver_max_attempts": 3,
    }
    settings.update(overrides)
    return settings


@pytest.fixture
def deriver_settings(fake_models: FakeModelServer) -> Callable[..., dict[str, Any]]:
    """`deriver_settings(**overrides)`: settings for a server whose models are the fake."""
    return lambda **overrides: model_settings(fake_models, **overrides)


def wait_for_queue(
    base_url: str,
    done: Callable[[dict[str, Any]], bool] | None = None,
    timeout: float = 30.0,
    session_id: str | None = None,
) -> dict[str, Any]:
    """Poll GET /queue/status until `done(status)` (default: nothing pending or running)."""
    check = done or (lambda s: s["pending"] == 0 and s["running"] == 0)
    params = {"session_id": session_id} if session_id else {}
    deadline = time.monotonic() + timeout
    status: dict[str, Any] = {}
    with httpx.Client(base_url=base_url, timeout=10) as http:
        while time.monotonic() < deadline:
            status = http.get("/queue/status", params=params).json()
            if check(status):
                return status
            time.sleep(0.02)
    raise AssertionError(f"queue did not settle within {timeout} s: {status}")
