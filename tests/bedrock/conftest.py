"""Fixtures of the Bedrock surface tests: boto3 clients for a live server, a controllable clock.

The Bedrock surface needs no embedder, so `embedder` is None here (faster, no model load).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.conftest import LiveServer

REGION = "us-east-1"
ACCOUNT = "000000000000"


@pytest.fixture(scope="session")
def embedder() -> Any:
    """No embedder: the Bedrock surface does not use one."""
    return None


def make_client(url: str, region: str = REGION) -> Any:
    """A real boto3 bedrock-agent-runtime client for a server, with no retries."""
    return boto3.client(
        "bedrock-agent-runtime",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        config=Config(retries={"max_attempts": 0, "mode": "standard"}),
    )


@pytest.fixture
def client(server: LiveServer) -> Any:
    """A boto3 client for the default live server."""
    return make_client(server.url)


class ManualClock:
    """A clock that only moves when told to; thread-safe (the server runs in another thread)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward and return the new time."""
        with self._lock:
            self._now += timedelta(**delta)
            return self._now


@pytest.fixture
def clock() -> ManualClock:
    """A fresh manual clock."""
    return ManualClock()


@pytest.fixture
def clocked(
    server_factory: Callable[..., LiveServer], clock: ManualClock
) -> tuple[LiveServer, Any, ManualClock]:
    """A live server on the manual clock, a client for it and the clock."""
    server = server_factory(clock=clock)
    return server, make_client(server.url), clock
